"""Reference member lists of a cluster: what our memberships are compared with, star by star.

A reference list is a set of Gaia ``source_id`` with, optionally, each star's membership
probability in that list. Its *members* are the stars at or above the list's own
threshold (all listed stars when it gives no probability). The lists of one cluster come
from (see ``config/README.md``):

- the simulator's truth (``data.source: simulated``): the true members
  (``member_source_ids`` of ``resources/{cluster}/truth.json``), key ``truth``;
- VizieR (``data.source: archive``): Hunt & Reffert (2023) and Cantat-Gaudin et al.
  (2020), fetched by :mod:`clustermix.data.vizier_members`, keys ``hunt2023``,
  ``cantat2020``;
- files the user gives (any source), ``clusters[].reference_members``: a FITS, ECSV,
  VOTable or CSV table with a ``source_id`` column (Gaia DR3) and optionally a
  probability column (0-1), keys ``file1``, ``file2``, ...

All lists of one cluster are written together as one ECSV table
(``results/{cluster}/reference_members.ecsv``): one row per star and list, columns
``reference`` (the key), ``source_id`` (int64, the identifier matched with our catalogue),
``probability`` (float64, NaN where the list gives none) and ``member`` (bool); its
metadata ``references`` describe each list (key, label, origin, threshold, Gaia release of
the identifiers, number listed).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Column, Table, vstack
from astropy.utils.exceptions import AstropyWarning

from clustermix.data.catalog import catalog_format
from clustermix.data.vizier_members import CATALOGUES
from clustermix.errors import InputDataError
from clustermix.io import PathLike, write_table_atomic

#: Threshold of a user's list that has probabilities but names no threshold.
DEFAULT_FILE_THRESHOLD = 0.5
#: What a DR2 list's identifiers are taken to be (see clustermix.data.vizier_members).
DR2_AS_DR3 = (
    "Gaia DR2 source_id taken as the DR3 source_id (most coincide; changed ones do not match)"
)
_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, IndexError)


@dataclass(frozen=True)
class ReferenceInfo:
    """What one reference list is: ``key`` (``truth``, ``hunt2023``, ``file1``, ...),
    ``label`` (for figures and the paper), ``origin`` (where it came from), ``threshold``
    (probability at which its stars are members; None: every listed star is one),
    ``identifiers`` (how its ``source_id`` relate to Gaia DR3), ``bibkey`` (a citation
    key of ``src/tex/bib.bib``, or empty), ``n_listed`` and ``n_members``."""

    key: str
    label: str
    origin: str
    threshold: float | None
    identifiers: str
    bibkey: str
    n_listed: int
    n_members: int


@dataclass(frozen=True)
class ReferenceList:
    """One list: its description and its stars (``source_id`` int64, ``probability``
    float64 NaN where none is given, ``member`` bool)."""

    info: ReferenceInfo
    stars: Table


def _list(
    key: str,
    label: str,
    origin: str,
    source_id: np.ndarray,
    probability: np.ndarray | None,
    threshold: float | None,
    *,
    identifiers: str = "Gaia DR3 source_id",
    bibkey: str = "",
) -> ReferenceList:
    """A :class:`ReferenceList` from identifiers and optional probabilities (0-1)."""
    ids = np.asarray(source_id, dtype=np.int64)
    if probability is None:
        prob = np.full(len(ids), np.nan)
        member = np.ones(len(ids), dtype=bool)
        threshold = None
    else:
        prob = np.asarray(probability, dtype=np.float64)
        member = prob >= threshold if threshold is not None else np.isfinite(prob)
    stars = Table(
        [
            Column(ids, name="source_id"),
            Column(prob, name="probability"),
            Column(member, name="member"),
        ]
    )
    info = ReferenceInfo(
        key=key,
        label=label,
        origin=origin,
        threshold=None if threshold is None else float(threshold),
        identifiers=identifiers,
        bibkey=bibkey,
        n_listed=len(ids),
        n_members=int(member.sum()),
    )
    return ReferenceList(info, stars)


def truth_list(truth_path: PathLike) -> ReferenceList:
    """The simulator's true members (``member_source_ids`` of ``truth.json``)."""
    path = Path(truth_path)
    try:
        truth = json.loads(path.read_text())
        ids = truth["member_source_ids"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InputDataError(
            f"{path}: no list of true members ({type(err).__name__}: {err})"
        ) from None
    return _list(
        "truth",
        "simulated truth",
        f"the simulator's true members ({path})",
        np.asarray(ids, dtype=np.int64),
        None,
        None,
    )


def vizier_list(catalogue: str, members_path: PathLike, provenance_path: PathLike) -> ReferenceList:
    """A list fetched from VizieR by :mod:`clustermix.data.vizier_members`."""
    spec = CATALOGUES[catalogue]
    table = Table.read(members_path)
    record = json.loads(Path(provenance_path).read_text())
    return _list(
        spec.key,
        spec.label,
        f"VizieR {spec.table}, {spec.name_column} = {record.get('cluster_name', '?')}, "
        f"fetched {record.get('query_utc', '?')} from {record.get('server', '?')}",
        np.asarray(table["source_id"]),
        np.asarray(table["probability"], float),
        spec.member_threshold,
        identifiers=DR2_AS_DR3 if spec.gaia_release == "DR2" else "Gaia DR3 source_id",
        bibkey=spec.bibkey,
    )


def file_list(
    entry: Mapping[str, Any] | str, index: int, *, where: str = "reference_members"
) -> ReferenceList:
    """A user's list: ``entry`` is a path, or a mapping with ``path`` and optionally
    ``label``, ``probability_column`` and ``member_threshold`` (0-1, default
    :data:`DEFAULT_FILE_THRESHOLD` when there is a probability column).

    The file needs a ``source_id`` column of Gaia DR3 identifiers (integers, no
    duplicates, none missing). Without ``probability_column``, a column named
    ``probability`` is used if there is one; a named column must exist and hold values in
    [0, 1]. Raises :class:`InputDataError` naming the file and the column.
    """
    spec = {"path": entry} if isinstance(entry, str) else dict(entry)
    path = Path(spec["path"])
    key = f"file{index + 1}"
    table = _read(path, where)
    by_lower = {name.lower(): name for name in table.colnames}
    if "source_id" not in by_lower:
        raise InputDataError(
            f"{path} ({where}): column 'source_id' (Gaia DR3 identifiers) is missing; "
            f"the file has {table.colnames}"
        )
    ids = _identifiers(table[by_lower["source_id"]], path)
    column = spec.get("probability_column")
    if column is None and "probability" in by_lower:
        column = by_lower["probability"]
    elif column is not None and column not in table.colnames:
        raise InputDataError(
            f"{path} ({where}.probability_column): column '{column}' is missing; "
            f"the file has {table.colnames}"
        )
    probability = None if column is None else _probabilities(table[column], path, column)
    threshold = spec.get("member_threshold")
    if probability is not None and threshold is None:
        threshold = DEFAULT_FILE_THRESHOLD
    return _list(
        key,
        str(spec.get("label") or path.stem),
        f"file {path}" + (f", probability column '{column}'" if column else ""),
        ids,
        probability,
        threshold,
    )


def _read(path: Path, where: str) -> Table:
    if not path.is_file():
        raise InputDataError(f"{path} ({where}): file not found")
    fmt = catalog_format(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            return Table.read(path, format=fmt)
    except _READ_ERRORS as err:
        raise InputDataError(
            f"{path} ({where}): cannot read the file as {fmt}: {type(err).__name__}: {err}"
        ) from None


def _identifiers(column: Column, path: Path) -> np.ndarray:
    """``source_id`` as int64; missing, non-integer or duplicated values are an error."""
    mask = np.ma.getmaskarray(column)
    values = np.ma.getdata(column)
    if values.dtype.kind not in "iu":
        raise InputDataError(
            f"{path}: column 'source_id' must hold integers (Gaia DR3 identifiers), "
            f"it holds {values.dtype}"
        )
    if mask.any():
        raise InputDataError(
            f"{path}: column 'source_id': {int(mask.sum())} row(s) without a value"
        )
    ids = np.asarray(values, dtype=np.int64)
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise InputDataError(
            f"{path}: column 'source_id': {int((counts > 1).sum())} identifier(s) listed more "
            f"than once (e.g. {int(unique[counts > 1][0])})"
        )
    return ids


def _probabilities(column: Column, path: Path, name: str) -> np.ndarray:
    """A probability column as float64 in [0, 1]; anything else is an error."""
    try:
        values = np.ma.filled(np.ma.asarray(column, dtype=float), np.nan)
    except (TypeError, ValueError):
        raise InputDataError(f"{path}: column '{name}' is not numeric") from None
    bad = ~((values >= 0) & (values <= 1))
    if bad.any():
        raise InputDataError(
            f"{path}: column '{name}': {int(bad.sum())} row(s) not a probability in [0, 1]"
        )
    return values


def combine(lists: Sequence[ReferenceList]) -> Table:
    """Every list of one cluster in one table (the format of the module docstring)."""
    parts = []
    for item in lists:
        part = item.stars.copy(copy_data=True)
        part.meta = {}
        part.add_column(Column([item.info.key] * len(part), name="reference", dtype="U16"), index=0)
        parts.append(part)
    if parts:
        table = vstack(parts, metadata_conflicts="silent")
    else:
        table = Table(
            [
                Column([], name="reference", dtype="U16"),
                Column([], name="source_id", dtype=np.int64),
                Column([], name="probability", dtype=np.float64),
                Column([], name="member", dtype=bool),
            ]
        )
    table.meta["references"] = [asdict(item.info) for item in lists]
    return table


def write_reference_members(lists: Sequence[ReferenceList], path: PathLike) -> Table:
    """Write the lists of one cluster as ECSV; return the table."""
    table = combine(lists)
    write_table_atomic(table, path)
    return table


def read_reference_members(path: PathLike) -> list[ReferenceList]:
    """The lists written by :func:`write_reference_members`, in their order."""
    table = Table.read(path, format="ascii.ecsv")
    lists = []
    for meta in table.meta.get("references", []):
        info = ReferenceInfo(**meta)
        rows = table[table["reference"] == info.key]
        stars = Table(
            [
                Column(np.asarray(rows["source_id"], np.int64), name="source_id"),
                Column(np.asarray(rows["probability"], float), name="probability"),
                Column(np.asarray(rows["member"], bool), name="member"),
            ]
        )
        lists.append(ReferenceList(info, stars))
    return lists

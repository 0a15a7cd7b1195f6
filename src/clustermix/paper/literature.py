"""Published values for the clusters (``config/literature.yaml``), as a LaTeX table and macros.

The file maps a cluster name to a list of entries; each has ``cite`` (the BibTeX key in
``src/tex/bib.bib``), ``label`` (a human-readable source) and any of ``ra_deg``,
``dec_deg``, ``parallax_mas``, ``pmra_masyr``, ``pmdec_masyr``, ``rv_kms``,
``distance_pc``, each optionally with an uncertainty ``<key>_err``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from clustermix.errors import InputDataError
from clustermix.io import PathLike
from clustermix.paper.macros import format_number, latex_table_rows, macro_name

#: Columns of the literature table after the source: (quantity, key in the YAML file).
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("parallax", "parallax_mas"),
    ("pmra", "pmra_masyr"),
    ("pmdec", "pmdec_masyr"),
    ("rv", "rv_kms"),
)
#: A table cell without a value.
MISSING_CELL = "--"
_CITE_KEY = re.compile(r"[A-Za-z0-9_:.\-+/]+")


def load_literature(path: PathLike, cluster: str) -> list[dict[str, Any]]:
    """The entries of ``cluster`` in the literature file (an empty list if it has none).

    Raises :class:`InputDataError` naming the file for an entry without a valid ``cite``
    key or with a non-numeric value.
    """
    with open(path) as handle:
        content = yaml.safe_load(handle) or {}
    if not isinstance(content, Mapping):
        raise InputDataError(f"{path}: expected a mapping of cluster names to lists of entries")
    entries = content.get(cluster) or []
    for index, entry in enumerate(entries):
        where = f"{path}: {cluster}[{index}]"
        if not isinstance(entry, Mapping):
            raise InputDataError(f"{where}: an entry must be a mapping")
        cite = entry.get("cite")
        if not isinstance(cite, str) or not _CITE_KEY.fullmatch(cite):
            raise InputDataError(f"{where}: 'cite' must be a BibTeX key, got {cite!r}")
        for key, value in entry.items():
            if key in ("cite", "label"):
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise InputDataError(f"{where}: '{key}' must be a number, got {value!r}")
    return [dict(entry) for entry in entries]


def decimals_in(value: float) -> int:
    """Decimal places of ``value`` as written in the file (its shortest repr; at most 6)."""
    text = repr(float(value))
    if "e" in text or "E" in text:
        return 6
    return min(6, len(text.split(".")[1].rstrip("0"))) if "." in text else 0


def column_decimals(entries: Sequence[Mapping[str, Any]], key: str) -> int:
    """The decimals to show a column in: the most any entry writes (so ``-2.900`` next to
    ``-2.916`` keeps its published zeros)."""
    decimals = [decimals_in(entry[key]) for entry in entries if entry.get(key) is not None]
    return max(decimals, default=0)


def literature_cell(entry: Mapping[str, Any], key: str, decimals: int) -> str:
    """One value in math mode, or :data:`MISSING_CELL`: ``$v$`` with ``decimals`` places, or
    ``$v \\pm e$`` if the entry has ``<key>_err`` (with as many places as the error is written
    with, if more), so that published values keep their published precision."""
    value = entry.get(key)
    if value is None:
        return MISSING_CELL
    error = entry.get(f"{key}_err")
    if error is not None and math.isfinite(float(error)) and float(error) > 0:
        places = max(decimals, decimals_in(error))
        return f"${format_number(float(value), places)} \\pm {format_number(float(error), places)}$"
    return f"${format_number(float(value), decimals)}$"


def literature_table_rows(entries: Sequence[Mapping[str, Any]]) -> str:
    """Body rows of the literature table: ``\\citet{cite}`` then the :data:`TABLE_COLUMNS`
    values (parallax in mas, proper motions in mas/yr, RV in km/s), one row per entry."""
    decimals = {key: column_decimals(entries, key) for _, key in TABLE_COLUMNS}
    rows = [
        [f"\\citet{{{entry['cite']}}}"]
        + [literature_cell(entry, key, decimals[key]) for _, key in TABLE_COLUMNS]
        for entry in entries
    ]
    return latex_table_rows(rows) if rows else ""


def literature_macros(entries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Macros of the published values: ``\\LitNSources`` and, per entry and value,
    ``\\Lit<Cite><Quantity>`` (e.g. ``\\LitHoleTwoZeroZeroNineRv``), in math-mode form
    (``v`` or ``v \\pm e``), with the column's decimals."""
    macros = {"LitNSources": str(len(entries))}
    keys = sorted({key for entry in entries for key in entry if key not in ("cite", "label")})
    keys = [key for key in keys if not key.endswith("_err")]
    decimals = {key: column_decimals(entries, key) for key in keys}
    for entry in entries:
        for key in keys:
            if entry.get(key) is None:
                continue
            name = macro_name("lit", entry["cite"], _quantity_of(key))
            if name in macros:
                raise InputDataError(
                    f"literature: two entries give macro \\{name} (cite '{entry['cite']}', "
                    f"'{key}'); give each source one entry"
                )
            macros[name] = literature_cell(entry, key, decimals[key]).strip("$")
    return macros


def _quantity_of(key: str) -> str:
    """The quantity part of a YAML key: ``pmra_masyr`` -> ``pmra``, ``ra_deg`` -> ``ra``."""
    for suffix in ("_masyr", "_mas", "_kms", "_deg", "_pc"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key

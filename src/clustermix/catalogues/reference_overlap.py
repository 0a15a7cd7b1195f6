"""Star-by-star overlap of our memberships with reference member lists, and its paper text.

Our memberships are the adopted model's posterior mean probabilities ``p`` in the
membership catalogue (``results/{cluster}/members.fits``: column ``p_<adopted>``, header
key ``ADOPTED``). For each reference list (:mod:`clustermix.catalogues.reference_members`):

- their members (at their own threshold), how many of them are in our cleaned catalogue
  with a ``p`` (``n_members_matched``; the others lie outside the cone, were removed by the
  cuts, were not fitted by the model, or, for DR2 identifiers, were renamed in DR3), and
  the fractions of those with ``p > 0.5`` and ``p > 0.7``;
- our members (``p > 0.5``) and the fraction of them among their members, and among every
  star they list (whatever its probability).

Fractions are of the counts they are based on (NaN when that count is 0); every count is
given alongside.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from clustermix.catalogues.reference_members import ReferenceList, read_reference_members
from clustermix.errors import InputDataError
from clustermix.io import PathLike, write_json_atomic
from clustermix.models import MODEL_SPECS
from clustermix.paper.macros import (
    escape_text,
    format_count,
    format_number,
    macro_name,
    write_macros,
)

#: Our probability thresholds: p > 0.5 (our members) and p > 0.7.
OUR_THRESHOLDS: tuple[float, ...] = (0.5, 0.7)
#: The models' names in the paper's prose.
MODEL_PROSE = {name: spec.presentation.prose for name, spec in MODEL_SPECS.items()}
_THRESHOLD_WORDS = {0.5: "Fifty", 0.7: "Seventy"}


def adopted_probabilities(members: Table) -> tuple[str, bool, np.ndarray, np.ndarray]:
    """The adopted model, whether it passes the checks, ``source_id`` and its ``p`` (NaN
    where the model did not fit the star) from a membership catalogue table."""
    meta = {key.upper(): value for key, value in members.meta.items()}
    model = meta.get("ADOPTED")
    if not model or f"p_{model}" not in members.colnames:
        raise InputDataError(
            "the membership catalogue names no adopted model with a p column "
            f"(ADOPTED={model!r}; columns {members.colnames})"
        )
    ids = np.asarray(members["source_id"], dtype=np.int64)
    p = np.ma.filled(np.ma.asarray(members[f"p_{model}"], dtype=float), np.nan)
    return str(model), bool(meta.get("ADOPT_OK", False)), ids, p


def _fraction(part: int, whole: int) -> float:
    return part / whole if whole > 0 else math.nan


def overlap_with(reference: ReferenceList, source_id: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """The overlap of one reference list with our ``p`` over our catalogue's ``source_id``.

    ``p`` is NaN for stars the adopted model did not fit; those count as not matched.
    """
    source_id = np.asarray(source_id, dtype=np.int64)
    p = np.asarray(p, dtype=float)
    fitted = np.isfinite(p)
    stars = reference.stars
    listed_ids = np.asarray(stars["source_id"], dtype=np.int64)
    member_ids = listed_ids[np.asarray(stars["member"], bool)]
    their_member = np.isin(source_id, member_ids) & fitted
    listed = np.isin(source_id, listed_ids)
    n_matched = int(their_member.sum())
    result: dict[str, Any] = {
        **asdict(reference.info),
        "n_members_matched": n_matched,
        "n_members_unmatched": int(reference.info.n_members - n_matched),
    }
    for threshold in OUR_THRESHOLDS:
        recovered = int((their_member & (p > threshold)).sum())
        result[f"n_theirs_p_gt_{threshold:g}"] = recovered
        result[f"frac_theirs_p_gt_{threshold:g}"] = _fraction(recovered, n_matched)
    ours = fitted & (p > OUR_THRESHOLDS[0])
    n_ours = int(ours.sum())
    in_members = int((ours & their_member).sum())
    in_listed = int((ours & listed).sum())
    result.update(
        {
            "n_ours": n_ours,
            "n_ours_in_their_members": in_members,
            "frac_ours_in_their_members": _fraction(in_members, n_ours),
            "n_ours_in_their_list": in_listed,
            "frac_ours_in_their_list": _fraction(in_listed, n_ours),
        }
    )
    return result


def reference_overlap(
    members: Table, references: Sequence[ReferenceList], *, cluster: str
) -> dict[str, Any]:
    """The overlap record of one cluster (written to ``reference_overlap.json``)."""
    model, converged, ids, p = adopted_probabilities(members)
    return {
        "cluster": cluster,
        "adopted_model": model,
        "adopted_converged": converged,
        "n_catalog": len(ids),
        "n_fitted": int(np.isfinite(p).sum()),
        **{f"n_ours_p_gt_{t:g}": int((np.isfinite(p) & (p > t)).sum()) for t in OUR_THRESHOLDS},
        "references": [overlap_with(reference, ids, p) for reference in references],
    }


def run_reference_overlap(
    members_path: PathLike, references_path: PathLike, overlap_path: PathLike, *, cluster: str
) -> dict[str, Any]:
    """Read the membership catalogue and the reference lists, write the overlap JSON."""
    members = Table.read(members_path)
    record = reference_overlap(members, read_reference_members(references_path), cluster=cluster)
    write_json_atomic(record, overlap_path)
    return record


# --------------------------------------------------------------------------- the paper


def _percent(fraction: float) -> str:
    return "n/a" if not math.isfinite(fraction) else format_number(100.0 * fraction, 1) + r"\%"


def _name(entry: Mapping[str, Any]) -> str:
    """The list as the paper names it: the truth in words, a catalogue with its citation."""
    if entry["key"] == "truth":
        return "true members of the simulation"
    if entry["bibkey"]:
        return f"members listed by \\citet{{{entry['bibkey']}}}"
    return f"members listed in {escape_text(entry['label'])}"


def _sentence(entry: Mapping[str, Any]) -> str:
    """Two sentences on one reference list."""
    threshold = entry["threshold"]
    at = (
        ""
        if threshold is None
        else f" (membership probability at least {format_number(threshold, 1)})"
    )
    dr2 = entry["identifiers"].startswith("Gaia DR2")
    text = (
        f"Of the {format_count(entry['n_members'])} {_name(entry)}{at}, "
        f"{format_count(entry['n_members_matched'])} are among the stars the model fitted"
        + (" (their Gaia DR2 identifiers taken as DR3 ones)" if dr2 else "")
        + f"; {_percent(entry['frac_theirs_p_gt_0.5'])} of these have $p > 0.5$ and "
        f"{_percent(entry['frac_theirs_p_gt_0.7'])} $p > 0.7$. "
        f"Of our {format_count(entry['n_ours'])} stars with $p > 0.5$, "
        f"{_percent(entry['frac_ours_in_their_members'])} are among them"
    )
    if entry["key"] != "truth" and threshold is not None:
        text += f" and {_percent(entry['frac_ours_in_their_list'])} among all the stars they list"
    return text + "."


def overlap_macros(record: Mapping[str, Any] | None) -> dict[str, str]:
    """The paper's macros: ``\\ReferenceAvailable`` (true/false), ``\\ReferenceOverlapText``
    (the sentences, empty without a reference list) and per list ``\\Reference<Key>...``
    counts and percentages."""
    references = list(record["references"]) if record else []
    macros = {"ReferenceAvailable": "true" if references else "false", "ReferenceOverlapText": ""}
    if not references:
        return macros
    model_prose = MODEL_PROSE.get(record["adopted_model"], escape_text(record["adopted_model"]))
    macros["ReferenceOverlapText"] = " ".join(_sentence(entry) for entry in references)
    macros["ReferenceModel"] = model_prose
    for entry in references:
        stem = ("reference", entry["key"])
        macros[macro_name(*stem, "n", "members")] = format_count(entry["n_members"])
        macros[macro_name(*stem, "n", "matched")] = format_count(entry["n_members_matched"])
        for threshold in OUR_THRESHOLDS:
            word = _THRESHOLD_WORDS[threshold]
            macros[macro_name(*stem, "frac", word)] = _percent(
                entry[f"frac_theirs_p_gt_{threshold:g}"]
            )
        macros[macro_name(*stem, "frac", "ours")] = _percent(entry["frac_ours_in_their_members"])
    return macros


def write_overlap_macros(
    overlap_path: PathLike | None, macros_path: PathLike, *, made_by: str = ""
) -> dict[str, str]:
    """Macros of the paper cluster's overlap JSON (None: no reference list) to ``macros_path``."""
    record = json.loads(Path(overlap_path).read_text()) if overlap_path else None
    macros = overlap_macros(record)
    write_macros(macros, macros_path, made_by=made_by)
    return macros

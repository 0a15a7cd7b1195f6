"""Every cluster of a run side by side: ``results/clusters_summary.csv`` and the paper's table.

The CSV has one row per cluster and model, read from the per-cluster files the workflow
wrote (``results/{cluster}/summary/{model}.json``, ``diagnostics/{model}.json`` and
``membership/{model}.fits``). Its columns:

``cluster``, ``label``
    the config's ``name`` (slug) and ``label`` (the name when no label is set);
``model``
    the model the row's values come from;
``adopted``
    True for the one row per cluster whose values a catalogue would quote: the first of
    :data:`ADOPTION_ORDER` (the model that uses the most information) among the fits that
    pass the convergence checks, or the first of them at all when none does;
``ra_deg``, ``dec_deg``
    the configured centre of the field (deg, ICRS);
``n_stars``
    the stars the model was fitted to (``parallax_1d``: the cluster region only);
``n_members_sum_p``
    the expected number of members among them, the sum of the membership probabilities;
``n_members_p_half``
    the stars with a membership probability of at least one half;
``<quantity>_<unit>_{q50,q16,q84,sd}``
    posterior median, 16th and 84th percentiles and standard deviation of every quantity
    of :data:`QUANTITIES` (``f_cluster``; ``parallax_mas``; ``distance_pc``;
    ``pmra_masyr``, ``pmdec_masyr``; ``rv_kms``, ``sigma_v_kms``; the heliocentric ICRS
    velocity ``v_x_kms``, ``v_y_kms``, ``v_z_kms``), empty where the model does not
    measure the quantity (only ``phase_space`` has the radial and 3D velocities);
``r_hat_max``, ``ess_bulk_min``, ``divergences``, ``converged``
    the worst R-hat and bulk ESS over the model's cluster parameters, the divergent
    transitions, and whether the fit passes the config's ``checks``.

The paper's table (``src/tex/output/clusters_table.tex``) shows each cluster's adopted
row; the number file defines ``\\ClusterCount`` and ``\\ClustersTableBody``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clustermix.errors import InputDataError
from clustermix.io import PathLike, atomic_path
from clustermix.models.registry import adoption_order
from clustermix.paper.gate import fit_failures
from clustermix.paper.macros import (
    decimals_for,
    escape_text,
    format_count,
    format_number,
    latex_table_rows,
    write_macros,
)
from clustermix.quantities import column_name

#: Summary quantity -> CSV column stem (the unit in the name), in column order.
QUANTITIES: dict[str, str] = {
    name: column_name(name)
    for name in (
        "f_cluster",
        "parallax",
        "distance",
        "pmra",
        "pmdec",
        "rv",
        "sigma_v",
        "v_x",
        "v_y",
        "v_z",
    )
}
#: The statistics of each quantity, as in the summary JSON (percentiles and sd).
STATISTICS: tuple[str, ...] = ("q50", "q16", "q84", "sd")
#: Which model's values a cluster adopts: the first converged one of these.
ADOPTION_ORDER: tuple[str, ...] = adoption_order()
#: A star with at least this membership probability counts in ``n_members_p_half``.
MEMBER_THRESHOLD = 0.5

_ID_COLUMNS = (
    "cluster",
    "label",
    "model",
    "adopted",
    "ra_deg",
    "dec_deg",
    "n_stars",
    "n_members_sum_p",
    "n_members_p_half",
)
_CONVERGENCE_COLUMNS = ("r_hat_max", "ess_bulk_min", "divergences", "converged")
#: Every column of the CSV, in order.
COLUMNS: tuple[str, ...] = (
    *_ID_COLUMNS,
    *(f"{stem}_{stat}" for stem in QUANTITIES.values() for stat in STATISTICS),
    *_CONVERGENCE_COLUMNS,
)
_INT_COLUMNS = frozenset({"n_stars", "n_members_p_half", "divergences"})
_BOOL_COLUMNS = frozenset({"adopted", "converged"})
_TEXT_COLUMNS = frozenset({"cluster", "label", "model"})
#: The paper table's quantities (summary names), after the counts.
TABLE_QUANTITIES: tuple[str, ...] = ("parallax", "distance", "pmra", "pmdec", "rv")
#: An empty cell of the paper table (as in the literature table).
MISSING_CELL = "--"


@dataclass(frozen=True)
class ClusterFit:
    """One model fitted to one cluster: its summary and diagnostics JSON, and its
    membership probabilities ``p`` (one per star the model used)."""

    cluster: str
    model: str
    summary: dict[str, Any]
    diagnostics: dict[str, Any]
    p: np.ndarray


# --- reading ----------------------------------------------------------------------------


def _read_json(path: PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputDataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise InputDataError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _read_probabilities(path: PathLike) -> np.ndarray:
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    try:
        table = Table.read(path, format="fits")
    except (OSError, ValueError) as err:
        raise InputDataError(f"{path}: not a readable table ({err})") from None
    if "p_cluster" not in table.colnames:
        raise InputDataError(f"{path}: column 'p_cluster' is missing")
    p = np.asarray(np.ma.filled(np.ma.asarray(table["p_cluster"], dtype=float), np.nan))
    bad = int(np.count_nonzero(~np.isfinite(p) | (p < 0) | (p > 1)))
    if bad:
        raise InputDataError(f"{path}: column 'p_cluster' has {bad} rows outside [0, 1] or NaN")
    return p


def _check_fit(fit: ClusterFit, paths: Mapping[str, PathLike]) -> None:
    """Raise :class:`InputDataError` when the files do not belong to this cluster and
    model, or lack what the summary needs."""
    # (the diagnostics' "cluster" is its block of cluster parameters, not a name)
    found = (fit.summary.get("cluster", fit.cluster), fit.summary.get("model", fit.model))
    if found != (fit.cluster, fit.model):
        raise InputDataError(
            f"{paths['summary']}: holds cluster '{found[0]}', model '{found[1]}', "
            f"expected cluster '{fit.cluster}', model '{fit.model}'"
        )
    if fit.diagnostics.get("model", fit.model) != fit.model:
        raise InputDataError(
            f"{paths['diagnostics']}: holds model '{fit.diagnostics['model']}', "
            f"expected '{fit.model}'"
        )
    quantities = fit.summary.get("quantities")
    if not isinstance(quantities, dict) or "f_cluster" not in quantities:
        raise InputDataError(f"{paths['summary']}: no 'quantities' with 'f_cluster'")
    for name in QUANTITIES:
        stats = quantities.get(name)
        if stats is None:
            continue
        missing = [stat for stat in STATISTICS if stat not in stats]
        if missing:
            raise InputDataError(f"{paths['summary']}: quantity '{name}' lacks {missing}")
    for key in ("cluster", "divergences"):
        if key not in fit.diagnostics:
            raise InputDataError(f"{paths['diagnostics']}: key '{key}' is missing")
    for key in ("r_hat_max", "ess_bulk_min", "per_variable"):
        if key not in fit.diagnostics["cluster"]:
            raise InputDataError(f"{paths['diagnostics']}: key 'cluster.{key}' is missing")
    n_stars = fit.summary.get("n_stars")
    if n_stars is not None and int(n_stars) != fit.p.size:
        raise InputDataError(
            f"{paths['membership']}: {fit.p.size} rows, but the summary's fit used {n_stars} stars"
        )


def read_fit(
    cluster: str,
    model: str,
    *,
    summary_path: PathLike,
    diagnostics_path: PathLike,
    membership_path: PathLike,
) -> ClusterFit:
    """Read and check one fit's summary, diagnostics and membership files.

    Raises :class:`~clustermix.errors.InputDataError`, naming the file, when one is
    missing, unreadable, lacks a key or column, or belongs to another cluster or model.
    """
    paths = {
        "summary": summary_path,
        "diagnostics": diagnostics_path,
        "membership": membership_path,
    }
    fit = ClusterFit(
        cluster=cluster,
        model=model,
        summary=_read_json(summary_path),
        diagnostics=_read_json(diagnostics_path),
        p=_read_probabilities(membership_path),
    )
    _check_fit(fit, paths)
    return fit


# --- the CSV rows ------------------------------------------------------------------------


def _number(value: Any) -> float:
    """A float, NaN for None (the summary JSON writes non-finite values as null)."""
    return float("nan") if value is None else float(value)


def fit_row(
    fit: ClusterFit, cluster: Mapping[str, Any], thresholds: Mapping[str, float]
) -> dict[str, Any]:
    """The CSV row of one fit (``adopted`` False; :func:`summary_rows` sets it).

    ``cluster``: the cluster's config entry (``name``, ``label``, ``ra_deg``,
    ``dec_deg``); ``thresholds``: the config's ``checks`` (``rhat_max``,
    ``ess_bulk_min``, ``divergences_max``). Quantities the model does not measure are NaN.
    """
    row: dict[str, Any] = {
        "cluster": fit.cluster,
        "label": cluster.get("label") or cluster["name"],
        "model": fit.model,
        "adopted": False,
        "ra_deg": float(cluster["ra_deg"]),
        "dec_deg": float(cluster["dec_deg"]),
        "n_stars": int(fit.p.size),
        "n_members_sum_p": float(fit.p.sum()),
        "n_members_p_half": int(np.count_nonzero(fit.p >= MEMBER_THRESHOLD)),
    }
    quantities = fit.summary["quantities"]
    for name, stem in QUANTITIES.items():
        stats = quantities.get(name) or {}
        for stat in STATISTICS:
            row[f"{stem}_{stat}"] = _number(stats.get(stat))
    diagnostics = fit.diagnostics
    row["r_hat_max"] = _number(diagnostics["cluster"]["r_hat_max"])
    row["ess_bulk_min"] = _number(diagnostics["cluster"]["ess_bulk_min"])
    row["divergences"] = int(diagnostics["divergences"])
    row["converged"] = not fit_failures(fit.model, diagnostics, thresholds)
    return row


def adopted_model(rows: Sequence[Mapping[str, Any]]) -> str:
    """The model whose values one cluster's ``rows`` adopt (see :data:`ADOPTION_ORDER`):
    the most informative converged fit, else the most informative fit; a model not in
    the order comes after those that are."""
    if not rows:
        raise ValueError("no fits to adopt a model from")

    def rank(row: Mapping[str, Any]) -> tuple[bool, int]:
        model = row["model"]
        order = ADOPTION_ORDER.index(model) if model in ADOPTION_ORDER else len(ADOPTION_ORDER)
        return (not row["converged"], order)

    return str(min(rows, key=rank)["model"])


def summary_rows(
    fits: Iterable[ClusterFit],
    clusters: Sequence[Mapping[str, Any]],
    thresholds: Mapping[str, float],
) -> list[dict[str, Any]]:
    """The CSV rows of every fit: clusters in config order, each cluster's models in the
    order of ``fits``, with one adopted row per cluster.

    ``clusters``: the config's cluster entries. Raises :class:`InputDataError` for a fit
    of a cluster that is not configured, a configured cluster without fits, or a cluster
    and model given twice.
    """
    by_cluster: dict[str, list[dict[str, Any]]] = {entry["name"]: [] for entry in clusters}
    entries = {entry["name"]: entry for entry in clusters}
    for fit in fits:
        if fit.cluster not in by_cluster:
            raise InputDataError(
                f"a fit of cluster '{fit.cluster}', which is not one of {list(by_cluster)}"
            )
        if any(row["model"] == fit.model for row in by_cluster[fit.cluster]):
            raise InputDataError(f"cluster '{fit.cluster}': model '{fit.model}' given twice")
        by_cluster[fit.cluster].append(fit_row(fit, entries[fit.cluster], thresholds))
    empty = [name for name, rows in by_cluster.items() if not rows]
    if empty:
        raise InputDataError(f"no fits for cluster(s) {empty}")
    rows: list[dict[str, Any]] = []
    for cluster_rows in by_cluster.values():
        chosen = adopted_model(cluster_rows)
        for row in cluster_rows:
            row["adopted"] = row["model"] == chosen
        rows.extend(cluster_rows)
    return rows


# --- the CSV file ------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def summary_csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The CSV text of ``rows``: header :data:`COLUMNS`, NaN as an empty cell, booleans
    as ``true``/``false``, floats at full precision."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        missing = [column for column in COLUMNS if column not in row]
        if missing:
            raise ValueError(f"row of {row.get('cluster')}/{row.get('model')} lacks {missing}")
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return buffer.getvalue()


def write_summary_csv(rows: Sequence[Mapping[str, Any]], path: PathLike) -> None:
    """Write ``rows`` to ``path`` atomically (see :func:`summary_csv_text`)."""
    text = summary_csv_text(rows)
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def _parse(column: str, text: str, where: str) -> Any:
    if column in _TEXT_COLUMNS:
        return text
    if column in _BOOL_COLUMNS:
        if text not in ("true", "false"):
            raise InputDataError(f"{where}: column '{column}' is '{text}', not true/false")
        return text == "true"
    if text == "":
        return float("nan")
    try:
        return int(text) if column in _INT_COLUMNS else float(text)
    except ValueError:
        raise InputDataError(f"{where}: column '{column}' is '{text}', not a number") from None


def read_summary_csv(path: PathLike) -> list[dict[str, Any]]:
    """The rows of a clusters summary CSV, with the types :func:`fit_row` gives them.

    Raises :class:`InputDataError` for a missing file, a missing column or a cell that
    does not parse.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise InputDataError(f"{path}: columns {missing} are missing")
        return [
            {
                column: _parse(column, record[column], f"{path} line {reader.line_num}")
                for column in COLUMNS
            }
            for record in reader
        ]


# --- the paper's table -------------------------------------------------------------------


def format_interval(median: float, low: float, high: float) -> str:
    """``$median^{+(high - median)}_{-(median - low)}$`` for a table cell, rounded to two
    significant figures of the smaller error; :data:`MISSING_CELL` when not finite."""
    values = (median, low, high)
    if not all(math.isfinite(value) for value in values):
        return MISSING_CELL
    plus, minus = high - median, median - low
    decimals = decimals_for(min(plus, minus))
    return (
        f"${format_number(median, decimals)}"
        f"^{{+{format_number(plus, decimals)}}}_{{-{format_number(minus, decimals)}}}$"
    )


def table_rows(rows: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """One row of cells per cluster, from its adopted CSV row: label, stars fitted,
    expected members (sum of p), parallax (mas), distance (pc), pmra and pmdec (mas/yr),
    RV (km/s) and the model; a model that failed the convergence checks gets a dagger."""
    cells = []
    for row in rows:
        if not row["adopted"]:
            continue
        quantities = [
            format_interval(
                row[f"{QUANTITIES[name]}_q50"],
                row[f"{QUANTITIES[name]}_q16"],
                row[f"{QUANTITIES[name]}_q84"],
            )
            for name in TABLE_QUANTITIES
        ]
        model = escape_text(str(row["model"])) + ("" if row["converged"] else r"$^\dagger$")
        cells.append(
            [
                escape_text(str(row["label"])),
                format_count(row["n_stars"]),
                format_count(round(row["n_members_sum_p"])),
                *quantities,
                model,
            ]
        )
    return cells


def clusters_table_macros(rows: Sequence[Mapping[str, Any]], n_clusters: int) -> dict[str, str]:
    """``\\ClusterCount`` (the clusters configured) and ``\\ClustersTableBody`` (the rows
    of the clusters table, one per adopted fit; empty without rows)."""
    if n_clusters < 1:
        raise ValueError(f"n_clusters must be at least 1, got {n_clusters}")
    adopted = {row["cluster"] for row in rows if row["adopted"]}
    if rows and len(adopted) != n_clusters:
        raise InputDataError(
            f"the clusters summary adopts fits of {len(adopted)} cluster(s), "
            f"but {n_clusters} are configured"
        )
    body = table_rows(rows)
    return {
        "ClusterCount": str(n_clusters),
        "ClustersTableBody": latex_table_rows(body) if body else "",
    }


def write_clusters_table(
    rows: Sequence[Mapping[str, Any]], n_clusters: int, path: PathLike, *, made_by: str = ""
) -> dict[str, str]:
    """Write the clusters table's number file atomically; returns its macros."""
    macros = clusters_table_macros(rows, n_clusters)
    write_macros(macros, path, made_by=made_by)
    return macros

"""Validation on simulated data, where the truth is known.

Two questions, both answered with NumPy only:

* How well does a model's membership probability separate the true members from the field?
  :func:`roc_curve`, :func:`auc` (the Mann-Whitney U statistic divided by ``n1 n0``, with
  ties counted one half), :func:`precision_recall`, :func:`expected_counts`.
* Are the posteriors of the cluster parameters consistent with the true values?
  :func:`recovery_table` (estimate, truth, pull = (mean - truth) / sd, truth inside the
  68% and 95% intervals) and :func:`coverage_counts`.

:func:`validation_macros` and :func:`validation_table_rows` turn both into the paper's
number files (``src/tex/output/validation.tex`` and ``validation_table.tex``);
:func:`write_validation_numbers` reads the workflow's files and writes them.

Scores that are NaN (stars a model did not use) are left out of every membership metric.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clustermix.errors import InputDataError
from clustermix.io import PathLike, atomic_path
from clustermix.models import MODEL_SPECS, SUMMARY_UNITS
from clustermix.paper.macros import (
    decimals_for,
    escape_text,
    format_count,
    format_measurement,
    format_number,
    latex_table_rows,
    macro_name,
    write_macros,
)
from clustermix.quantities import SUMMARY_QUANTITIES, UNIT_TEX

#: LaTeX (and matplotlib mathtext) symbols of the summary quantities.
QUANTITY_SYMBOLS: dict[str, str] = {name: q.symbol for name, q in SUMMARY_QUANTITIES.items()}
#: LaTeX text for the units of :data:`clustermix.models.SUMMARY_UNITS`.
UNIT_LATEX: dict[str, str] = UNIT_TEX
#: The macro value of a number that cannot be computed (no truth): text and math mode.
NOT_AVAILABLE = r"\textrm{n/a}"
#: Membership probability at or above which a star counts as a member.
MEMBER_THRESHOLD = 0.5


# --- membership metrics --------------------------------------------------------------


def _scores_and_labels(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    """Finite scores and their boolean labels (NaN scores dropped); both classes required."""
    scores = np.asarray(scores, dtype=float).ravel()
    labels = np.asarray(labels).ravel()
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.size} scores but {labels.size} labels")
    if labels.dtype != bool:
        unique = np.unique(labels)
        if not np.all(np.isin(unique, (0, 1))):
            raise ValueError(f"labels must be boolean or 0/1, not {unique[:5]}")
        labels = labels.astype(bool)
    keep = ~np.isnan(scores)
    scores, labels = scores[keep], labels[keep]
    if labels.all() or not labels.any():
        raise ValueError(
            f"need positives and negatives among the {scores.size} finite scores "
            f"({int(labels.sum())} positives)"
        )
    return scores, labels


def _cumulative_counts(
    scores: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives when thresholding at each distinct score, high to low.

    Returns ``(tp, fp, thresholds)``: a star is called positive when its score is
    ``>= threshold``; tied scores enter together, so each threshold is one ROC vertex.
    """
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores = scores[order]
    sorted_labels = labels[order]
    # the last index of each run of equal scores
    last = np.flatnonzero(np.diff(sorted_scores) != 0)
    last = np.append(last, sorted_scores.size - 1)
    tp = np.cumsum(sorted_labels)[last]
    fp = (last + 1) - tp
    return tp.astype(float), fp.astype(float), sorted_scores[last]


def roc_curve(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic of ``scores`` against boolean ``labels``.

    Returns ``(fpr, tpr, thresholds)`` from ``(0, 0)`` (threshold ``+inf``: nothing
    selected) to ``(1, 1)``, both non-decreasing; the point at ``thresholds[i]`` selects the
    stars with score ``>= thresholds[i]``. NaN scores are left out.
    """
    scores, labels = _scores_and_labels(scores, labels)
    tp, fp, thresholds = _cumulative_counts(scores, labels)
    tpr = np.concatenate([[0.0], tp / labels.sum()])
    fpr = np.concatenate([[0.0], fp / (~labels).sum()])
    return fpr, tpr, np.concatenate([[np.inf], thresholds])


def auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a
    random negative, ties counting one half (= Mann-Whitney U / (n1 n0)).

    Computed from average ranks, which equals the trapezoid area under :func:`roc_curve`.
    NaN scores are left out.
    """
    scores, labels = _scores_and_labels(scores, labels)
    ranks = _average_ranks(scores)
    n1 = float(labels.sum())
    n0 = float(labels.size - n1)
    u = ranks[labels].sum() - n1 * (n1 + 1) / 2
    return float(u / (n1 * n0))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``, ties given the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(sorted_values) != 0]))
    ends = np.append(starts[1:], values.size)  # exclusive
    mean_rank = (starts + 1 + ends) / 2.0  # mean of ranks starts+1 .. ends
    ranks = np.empty(values.size)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks


def precision_recall(scores: Any, labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision (purity) and recall (completeness) at each distinct score threshold.

    Returns ``(precision, recall, thresholds)`` ordered by decreasing threshold (increasing
    recall); the point at ``thresholds[i]`` selects the stars with score ``>= thresholds[i]``.
    NaN scores are left out.
    """
    scores, labels = _scores_and_labels(scores, labels)
    tp, fp, thresholds = _cumulative_counts(scores, labels)
    return tp / (tp + fp), tp / labels.sum(), thresholds


def average_precision(scores: Any, labels: Any) -> float:
    """Area under the precision-recall curve as a step function (sum of precision times
    the increase in recall), the usual summary of :func:`precision_recall`."""
    precision, recall, _ = precision_recall(scores, labels)
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))


@dataclass(frozen=True)
class MembershipCounts:
    """Members expected from a model's probabilities, against the true count.

    ``n_stars``: stars with a finite probability; ``n_true``: true members among them;
    ``expected``: the sum of the probabilities, with ``expected_sd`` = sqrt(sum p (1 - p))
    (the spread of the member count if stars were members independently with probability
    p); ``n_selected``: stars with p >= ``threshold``, of which ``n_selected_true`` are
    true members.
    """

    n_stars: int
    n_true: int
    expected: float
    expected_sd: float
    n_selected: int
    n_selected_true: int
    threshold: float

    @property
    def purity(self) -> float:
        """Fraction of the selected stars that are true members (NaN if none selected)."""
        return self.n_selected_true / self.n_selected if self.n_selected else math.nan

    @property
    def completeness(self) -> float:
        """Fraction of the true members that are selected (NaN if there are none)."""
        return self.n_selected_true / self.n_true if self.n_true else math.nan


def expected_counts(
    probabilities: Any, labels: Any, threshold: float = MEMBER_THRESHOLD
) -> MembershipCounts:
    """Sum of membership probabilities versus the true number of members (NaN left out)."""
    p = np.asarray(probabilities, dtype=float).ravel()
    truth = np.asarray(labels).ravel().astype(bool)
    if p.shape != truth.shape:
        raise ValueError(f"{p.size} probabilities but {truth.size} labels")
    keep = ~np.isnan(p)
    p, truth = p[keep], truth[keep]
    if np.any((p < 0) | (p > 1)):
        raise ValueError("membership probabilities must lie in [0, 1]")
    selected = p >= threshold
    return MembershipCounts(
        n_stars=int(p.size),
        n_true=int(truth.sum()),
        expected=float(p.sum()),
        expected_sd=float(np.sqrt(np.sum(p * (1 - p)))),
        n_selected=int(selected.sum()),
        n_selected_true=int((selected & truth).sum()),
        threshold=float(threshold),
    )


# --- parameter recovery ----------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryRow:
    """One quantity of one model: posterior mean and sd against the truth."""

    model: str
    quantity: str
    unit: str
    mean: float
    sd: float
    truth: float
    pull: float
    in_68: bool
    in_95: bool


def pull(mean: float, sd: float, truth: float) -> float:
    """``(mean - truth) / sd``; NaN when ``sd`` is not a positive finite number."""
    if not (math.isfinite(sd) and sd > 0):
        return math.nan
    return (mean - truth) / sd


def recovery_table(summaries: Mapping[str, Mapping[str, Any]]) -> list[RecoveryRow]:
    """Every quantity with a true value, of every model: models in the summaries' order,
    quantities in the order of :data:`~clustermix.models.SUMMARY_UNITS`.

    ``summaries``: ``{model: summary}`` with the layout of :mod:`clustermix.fit.summary`. The
    68/95% flags are the summary's own (truth within the posterior's central intervals);
    a summary without them is checked against its percentiles here.
    """
    rows: list[RecoveryRow] = []
    for model, summary in summaries.items():
        truth = summary.get("truth") or {}
        quantities = summary.get("quantities", {})
        for name, true_value in sorted(truth.items(), key=lambda item: _quantity_order(item[0])):
            if name not in quantities or true_value is None:
                continue
            stats = quantities[name]
            mean, sd, value = float(stats["mean"]), float(stats["sd"]), float(true_value)
            in_68 = summary.get("truth_in_68", {}).get(name)
            in_95 = summary.get("truth_in_95", {}).get(name)
            if in_68 is None:
                in_68 = stats["q16"] <= value <= stats["q84"]
            if in_95 is None:
                in_95 = stats["q2.5"] <= value <= stats["q97.5"]
            rows.append(
                RecoveryRow(
                    model=model,
                    quantity=name,
                    unit=str(stats.get("unit", "")),
                    mean=mean,
                    sd=sd,
                    truth=value,
                    pull=pull(mean, sd, value),
                    in_68=bool(in_68),
                    in_95=bool(in_95),
                )
            )
    return rows


def _quantity_order(name: str) -> tuple[int, str]:
    order = list(SUMMARY_UNITS)
    return (order.index(name) if name in order else len(order), name)


def coverage_counts(rows: Sequence[RecoveryRow]) -> dict[str, int]:
    """How many quantities have the truth inside the 68% and 95% intervals, of how many."""
    return {
        "n": len(rows),
        "in_68": sum(row.in_68 for row in rows),
        "in_95": sum(row.in_95 for row in rows),
    }


# --- the paper's number files ---------------------------------------------------------


@dataclass(frozen=True)
class ModelMembership:
    """A model's membership metrics against the truth."""

    auc: float
    average_precision: float
    counts: MembershipCounts


def membership_metrics(probabilities: Mapping[str, Any], labels: Any) -> dict[str, ModelMembership]:
    """AUC, average precision and counts of each model's probabilities (``{model: p}``)."""
    return {
        model: ModelMembership(
            auc=auc(p, labels),
            average_precision=average_precision(p, labels),
            counts=expected_counts(p, labels),
        )
        for model, p in probabilities.items()
    }


def _fraction(value: float) -> str:
    return NOT_AVAILABLE if not math.isfinite(value) else format_number(value, 3)


def validation_macros(
    models: Sequence[str],
    membership: Mapping[str, ModelMembership] | None,
    rows: Sequence[RecoveryRow] | None,
    *,
    n_stars: int | None = None,
    n_true: int | None = None,
) -> dict[str, str]:
    """The macros of ``validation.tex``: names from :func:`~clustermix.paper.macros.macro_name`
    with the parts ``("validation", key)`` for the totals and ``("validation", key, model)``
    per model.

    With ``membership`` and ``rows`` None (no truth) every macro is defined, as
    :data:`NOT_AVAILABLE`, and ``\\ValidationAvailable`` is ``false``.
    """
    available = membership is not None and rows is not None
    na = NOT_AVAILABLE
    macros = {
        macro_name("validation", "available"): "true" if available else "false",
        macro_name("validation", "n_models"): str(len(models)),
        macro_name("validation", "threshold"): format_number(MEMBER_THRESHOLD, 1),
        macro_name("validation", "n_stars"): format_count(n_stars) if available else na,
        macro_name("validation", "n_true_members"): format_count(n_true) if available else na,
    }
    for model in models:
        metrics = membership.get(model) if available else None
        counts = metrics.counts if metrics else None
        values = {
            "auc": format_number(metrics.auc, 3) if metrics else na,
            "average_precision": format_number(metrics.average_precision, 3) if metrics else na,
            "n_stars": format_count(counts.n_stars) if counts else na,
            "n_true_members": format_count(counts.n_true) if counts else na,
            "expected_members": format_count(round(counts.expected)) if counts else na,
            "expected_members_sd": format_number(counts.expected_sd, 1) if counts else na,
            "n_selected": format_count(counts.n_selected) if counts else na,
            "purity": _fraction(counts.purity) if counts else na,
            "completeness": _fraction(counts.completeness) if counts else na,
        }
        model_rows = [row for row in rows if row.model == model] if available else None
        values.update(_coverage_values(model_rows))
        for key, value in values.items():
            macros[macro_name("validation", key, model)] = value
    macros[macro_name("validation", "auc_list")] = _auc_list(models, membership)
    for key, value in _coverage_values(list(rows) if available else None).items():
        macros[macro_name("validation", key)] = value
    finite = [abs(row.pull) for row in rows or () if math.isfinite(row.pull)]
    macros[macro_name("validation", "max_abs_pull")] = (
        format_number(max(finite), 1) if available and finite else na
    )
    return macros


def _auc_list(models: Sequence[str], membership: Mapping[str, ModelMembership] | None) -> str:
    """ "0.951 for the pmRA model, ... and 0.995 for the phase-space model": each model's area
    under the ROC curve, named in prose (its spec), for the models that have one."""
    parts = [
        f"{format_number(membership[model].auc, 3)} for the "
        f"{MODEL_SPECS[model].presentation.prose} model"
        for model in models
        if membership is not None and membership.get(model) is not None
    ]
    if not parts:
        return NOT_AVAILABLE
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _coverage_values(rows: Sequence[RecoveryRow] | None) -> dict[str, str]:
    if rows is None:
        return dict.fromkeys(("n_quantities", "in_sixty_eight", "in_ninety_five"), NOT_AVAILABLE)
    counts = coverage_counts(rows)
    return {
        "n_quantities": str(counts["n"]),
        "in_sixty_eight": str(counts["in_68"]),
        "in_ninety_five": str(counts["in_95"]),
    }


def quantity_label(name: str, unit: str) -> str:
    """LaTeX text of a quantity with its unit in parentheses: ``$\\varpi$ (mas)``."""
    symbol = QUANTITY_SYMBOLS.get(name, escape_text(name))
    unit_text = UNIT_LATEX.get(unit, escape_text(unit))
    return f"{symbol} ({unit_text})" if unit_text else symbol


def validation_table_rows(
    rows: Sequence[RecoveryRow], model_labels: Mapping[str, str] | None = None
) -> str:
    """Body of the recovery table: model & quantity (unit) & estimate & truth & pull.

    The model is named on the first of its rows only. Estimate and truth are in math mode,
    rounded to the precision of the posterior sd; the pull has two decimals. No rows: an
    empty body.
    """
    if not rows:
        return ""
    labels = model_labels or {}
    cells = []
    previous = None
    for row in rows:
        name = escape_text(labels.get(row.model, row.model)) if row.model != previous else ""
        previous = row.model
        decimals = decimals_for(row.sd)
        pull_text = format_number(row.pull, 2) if math.isfinite(row.pull) else "--"
        cells.append(
            [
                name,
                quantity_label(row.quantity, row.unit),
                f"${format_measurement(row.mean, row.sd)}$",
                f"${format_number(row.truth, decimals)}$",
                f"${pull_text}$",
            ]
        )
    return latex_table_rows(cells)


# --- reading the workflow's files ------------------------------------------------------


def read_summaries(paths: Mapping[str, PathLike]) -> dict[str, dict[str, Any]]:
    """``{model: summary}`` from ``{model: results/.../summary/<model>.json}``."""
    return {model: json.loads(Path(path).read_text()) for model, path in paths.items()}


def read_membership(
    path: PathLike, models: Sequence[str]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``({model: p}, true_member)`` from the membership table.

    Raises :class:`~clustermix.errors.InputDataError` if the table has no ``true_member``
    column (not simulated data) or lacks a model's ``p_<model>`` column.
    """
    from astropy.table import Table

    table = Table.read(path)
    if "true_member" not in table.colnames:
        raise InputDataError(
            f"{path}: no 'true_member' column; validation needs simulated data "
            "(data.source: simulated)"
        )
    missing = [f"p_{model}" for model in models if f"p_{model}" not in table.colnames]
    if missing:
        raise InputDataError(f"{path}: columns {missing} are missing")
    probabilities = {
        model: np.ma.filled(np.ma.asarray(table[f"p_{model}"], dtype=float), np.nan)
        for model in models
    }
    return probabilities, np.asarray(table["true_member"], dtype=bool)


def write_validation_numbers(
    *,
    models: Sequence[str],
    membership_path: PathLike | None,
    summary_paths: Sequence[PathLike],
    macros_path: PathLike,
    table_path: PathLike,
    has_truth: bool,
    made_by: str = "",
) -> dict[str, str]:
    """Write ``validation.tex`` (macros) and ``validation_table.tex`` (table body).

    ``has_truth`` False (data not simulated): the flag ``\\ValidationAvailable`` is
    ``false``, every other macro :data:`NOT_AVAILABLE` and the table body empty; the input
    paths are not read. ``summary_paths``: the models' summaries, in ``models`` order.
    Returns the macros.
    """
    macros_path, table_path = Path(macros_path), Path(table_path)
    if has_truth:
        if membership_path is None:
            raise InputDataError("validation with a truth needs the membership table")
        if len(summary_paths) != len(models):
            raise ValueError(f"{len(summary_paths)} summaries for {len(models)} models")
        summaries = read_summaries(dict(zip(models, summary_paths, strict=True)))
        no_truth = [model for model, summary in summaries.items() if "truth" not in summary]
        if no_truth:
            raise InputDataError(
                f"summaries of {no_truth} have no 'truth'; were they made from simulated data?"
            )
        probabilities, labels = read_membership(membership_path, models)
        membership = membership_metrics(probabilities, labels)
        rows = recovery_table({model: summaries[model] for model in models})
        macros = validation_macros(
            models, membership, rows, n_stars=int(labels.size), n_true=int(labels.sum())
        )
    else:
        rows = []
        macros = validation_macros(models, None, None)
    write_macros(macros, macros_path, made_by=made_by)
    labels = {name: spec.presentation.label for name, spec in MODEL_SPECS.items()}
    body = validation_table_rows(rows, labels)
    header = "% Written by the clustermix workflow; do not edit by hand.\n"
    if made_by:
        header += f"% Made by {made_by}.\n"
    if not rows:
        header += "% No truth (data not simulated): no rows.\n"
    with atomic_path(table_path) as tmp:
        tmp.write_text(header + body)
    return macros

"""Validation figures on simulated data: membership ROC/precision-recall and parameter pulls.

Each model keeps its colour (:data:`~clustermix.plotting.style.MODEL_COLOURS`) and also gets
its own line style and marker, so the figures survive greyscale printing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from clustermix.checks.calibration import COVERAGE_BAND, RELIABILITY_BAND
from clustermix.checks.validation import (
    QUANTITY_SYMBOLS,
    RecoveryRow,
    auc,
    average_precision,
    precision_recall,
    roc_curve,
)
from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_SPECS, SUMMARY_UNITS
from clustermix.plotting.style import (
    COLUMN_WIDTH_IN,
    MODEL_COLOURS,
    MODEL_LABELS,
    PAGE_WIDTH_IN,
    PALETTE,
    use_style,
)

#: Each cluster model's line style and marker (its spec), besides its colour.
MODEL_LINESTYLES: dict[str, Any] = {
    name: MODEL_SPECS[name].presentation.linestyle for name in CLUSTER_MODEL_NAMES
}
MODEL_MARKERS: dict[str, str] = {
    name: MODEL_SPECS[name].presentation.marker for name in CLUSTER_MODEL_NAMES
}
BAND_1_COLOUR = "0.80"
BAND_2_COLOUR = "0.92"
#: Pulls beyond this are drawn at the edge of the recovery figure, with their value.
PULL_LIMIT = 5.0


def _style(model: str, index: int) -> dict[str, Any]:
    """Colour, label, line style and marker of ``model`` (fallbacks for unknown names)."""
    fallback_colours = list(PALETTE.values())
    return {
        "color": MODEL_COLOURS.get(model, fallback_colours[index % len(fallback_colours)]),
        "label": MODEL_LABELS.get(model, model),
        "linestyle": MODEL_LINESTYLES.get(model, "-"),
        "marker": MODEL_MARKERS.get(model, "o"),
    }


def plot_membership_roc(probabilities: Mapping[str, np.ndarray], labels: np.ndarray) -> plt.Figure:
    """ROC (top) and precision-recall (bottom) curves of each model's membership
    probability against the true labels, one column wide; AUC and average precision (AP)
    in the legend above. Stars a model did not use (NaN) are left out of its curves."""
    use_style()
    fig, (ax_roc, ax_pr) = plt.subplots(
        2, 1, figsize=(COLUMN_WIDTH_IN, 2 * COLUMN_WIDTH_IN * 0.9), layout="constrained"
    )
    ax_roc.plot([0, 1], [0, 1], color="0.6", lw=0.6, ls=":")
    for index, (model, p) in enumerate(probabilities.items()):
        style = _style(model, index)
        line = {"color": style["color"], "ls": style["linestyle"], "lw": 1.3}
        fpr, tpr, _ = roc_curve(p, labels)
        ax_roc.plot(
            fpr,
            tpr,
            label=(
                f"{style['label']}: AUC {auc(p, labels):.3f}, AP {average_precision(p, labels):.3f}"
            ),
            **line,
        )
        precision, recall, _ = precision_recall(p, labels)
        ax_pr.plot(
            np.concatenate([[0.0], recall]), np.concatenate([[precision[0]], precision]), **line
        )
    for ax in (ax_roc, ax_pr):
        ax.set(xlim=(-0.02, 1.02), ylim=(-0.02, 1.02), aspect="equal")
    ax_roc.set(
        xlabel="false-positive rate (fraction of field stars selected)",
        ylabel="true-positive rate (completeness)",
    )
    ax_pr.set(xlabel="recall (completeness)", ylabel="precision (purity)")
    ax_roc.set_title("(a) receiver operating characteristic", loc="left")
    ax_pr.set_title("(b) precision and recall", loc="left")
    # One legend for both panels, above them: AUC is the area under (a), AP the
    # average precision of (b).
    fig.legend(
        loc="outside upper center",
        ncol=1,
        frameon=False,
        handlelength=3.0,
        borderaxespad=0.0,
    )
    return fig


def _quantity_order(rows: Sequence[RecoveryRow]) -> list[str]:
    names = {row.quantity for row in rows}
    canonical = [name for name in SUMMARY_UNITS if name in names]
    return canonical + sorted(names - set(canonical))


def plot_recovery(rows: Sequence[RecoveryRow]) -> plt.Figure:
    """Pull (posterior mean - truth) / sd of every cluster quantity of every model, one
    row per quantity, with the +-1 and +-2 bands; one column wide. Pulls beyond
    :data:`PULL_LIMIT` are drawn at the edge as arrows labelled with their value."""
    use_style()
    if not rows:
        raise ValueError("no quantities with a true value to plot")
    quantities = _quantity_order(rows)
    models = list(dict.fromkeys(row.model for row in rows))
    height = 0.8 + 0.24 * len(quantities)
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, height), layout="constrained")
    finite = [abs(row.pull) for row in rows if math.isfinite(row.pull)]
    limit = min(PULL_LIMIT, max(3.0, 1.15 * max(finite, default=0.0)))
    ax.axvspan(-2, 2, color=BAND_2_COLOUR, lw=0, zorder=0)
    ax.axvspan(-1, 1, color=BAND_1_COLOUR, lw=0, zorder=0)
    ax.axvline(0, color="0.4", lw=0.6, zorder=1)
    offsets = np.linspace(-0.27, 0.27, len(models)) if len(models) > 1 else np.zeros(1)
    y_of = {name: len(quantities) - 1 - i for i, name in enumerate(quantities)}
    for index, model in enumerate(models):
        style = _style(model, index)
        model_rows = [row for row in rows if row.model == model and math.isfinite(row.pull)]
        y = np.array([y_of[row.quantity] + offsets[index] for row in model_rows])
        x = np.array([row.pull for row in model_rows])
        inside = np.abs(x) <= limit
        ax.plot(
            x[inside],
            y[inside],
            ls="none",
            marker=style["marker"],
            ms=3.6,
            mfc=style["color"],
            mec="black",
            mew=0.3,
            color=style["color"],
            label=style["label"],
            zorder=3,
        )
        for value, height_y in zip(x[~inside], y[~inside], strict=True):
            edge = math.copysign(limit * 0.97, value)
            ax.plot(
                edge,
                height_y,
                marker=">" if value > 0 else "<",
                ms=4,
                color=style["color"],
                mec="black",
                mew=0.3,
                zorder=3,
            )
            ax.annotate(
                f"${value:.0f}$",  # mathtext: a true minus sign
                (edge, height_y),
                xytext=(-3 if value > 0 else 3, 0),
                textcoords="offset points",
                ha="right" if value > 0 else "left",
                va="center",
                fontsize=6,
            )
    for y in range(len(quantities) - 1):
        ax.axhline(y + 0.5, color="white", lw=0.8, zorder=2)
    ax.set_yticks(
        [y_of[name] for name in quantities],
        [QUANTITY_SYMBOLS.get(name, name) for name in quantities],
    )
    ax.tick_params(axis="y", which="both", length=0)
    ax.set(
        xlim=(-limit, limit),
        ylim=(-0.5, len(quantities) - 0.5),
        xlabel=r"pull $(\bar\theta - \theta_\mathrm{true})\,/\,\sigma_\theta$",
    )
    handles, texts = ax.get_legend_handles_labels()
    # matplotlib fills legend columns first; reorder so that rows read in model order
    order = list(range(0, len(handles), 2)) + list(range(1, len(handles), 2))
    ax.legend(
        [handles[i] for i in order],
        [texts[i] for i in order],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
        frameon=False,
        handletextpad=0.2,
        columnspacing=1.0,
    )
    return fig


CONFIGURATION_FILL = {"default": True, "hard": False}


def plot_calibration(record: Mapping[str, Any]) -> plt.Figure:
    """The calibration benchmark over many simulated fields, page wide: (a) the coverage of
    the 95% intervals of every cluster quantity, one row per model (filled markers: the
    default-like field; open: the hard one), with the 90-99% band; (b) the reliability of
    the memberships, fraction of true members against mean p per bin of width 0.2, with
    the diagonal and a +-0.1 band. ``record``:
    :func:`clustermix.checks.calibration.read_calibration`."""
    use_style()
    fig, (ax_cov, ax_rel) = plt.subplots(
        1, 2, figsize=(PAGE_WIDTH_IN, 2.6), layout="constrained", width_ratios=(1.1, 1.0)
    )
    present = {row["model"] for row in record["coverage"]}
    models = [m for m in MODEL_MARKERS if m in present] + sorted(present - set(MODEL_MARKERS))
    ax_cov.axvspan(*COVERAGE_BAND, color=BAND_2_COLOUR, lw=0, zorder=0)
    ax_cov.axvline(0.95, color="0.4", lw=0.6, zorder=1)
    for index, model in enumerate(models):
        style = _style(model, index)
        for shift, (configuration, filled) in zip(
            (-0.12, 0.12), CONFIGURATION_FILL.items(), strict=True
        ):
            rows = [
                row
                for row in record["coverage"]
                if row["model"] == model and row["configuration"] == configuration
            ]
            if rows:
                ax_cov.plot(
                    [row["coverage_95"] for row in rows],
                    np.full(len(rows), len(models) - 1 - index + shift),
                    ls="none",
                    marker=style["marker"],
                    ms=3.6,
                    mfc=style["color"] if filled else "white",
                    mec=style["color"],
                    mew=0.7,
                    alpha=0.8,
                )
    ax_cov.set_yticks(range(len(models)), [MODEL_LABELS.get(m, m) for m in reversed(models)])
    ax_cov.set_xlim(0.5, 1.01)
    ax_cov.set_xlabel("coverage of the 95% intervals")
    ax_cov.set_title("(a)", loc="left")
    band = RELIABILITY_BAND
    ax_rel.fill_between([0, 1], [-band, 1 - band], [band, 1 + band], color=BAND_2_COLOUR, lw=0)
    ax_rel.plot([0, 1], [0, 1], color="0.4", lw=0.6, zorder=1)
    for index, model in enumerate(models):
        style = _style(model, index)
        for configuration, filled in CONFIGURATION_FILL.items():
            rows = [
                row
                for row in record["reliability"]
                if row["model"] == model
                and row["configuration"] == configuration
                and row["mean_p"] is not None
            ]
            if rows:
                ax_rel.plot(
                    [row["mean_p"] for row in rows],
                    [row["member_fraction"] for row in rows],
                    color=style["color"],
                    linestyle=style["linestyle"] if filled else ":",
                    marker=style["marker"],
                    ms=3.6,
                    mfc=style["color"] if filled else "white",
                    mec=style["color"],
                    lw=0.9,
                    label=f"{style['label']} ({configuration})",
                )
    ax_rel.set_xlim(0, 1)
    ax_rel.set_ylim(0, 1)
    ax_rel.set_xlabel("mean membership probability in the bin")
    ax_rel.set_ylabel("fraction of true members")
    ax_rel.set_title("(b)", loc="left")
    ax_rel.legend(fontsize="x-small", loc="upper left", ncol=1, frameon=False)
    return fig

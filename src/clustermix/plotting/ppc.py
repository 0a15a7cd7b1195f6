"""Posterior predictive checks: observed histograms against replicated ones, one panel per
model and quantity.

Each panel shows the observed counts per bin (black points), the median of the replicated
counts (the model's colour, steps) and their 2.5-97.5 percentile band (the model's
colour, shaded), between the 1st and 99th percentiles of the replicated values, with the
posterior predictive p-value of the binned chi-square (see :mod:`clustermix.ppc`).
Units: counts of stars per bin against the quantity's own unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from clustermix.plotting.style import MODEL_COLOURS, MODEL_LABELS, PAGE_WIDTH_IN, use_style
from clustermix.ppc import format_p_value, ppc_pairs

OBSERVED_COLOUR = "#000000"
#: Axis labels in matplotlib mathtext, per quantity.
AXIS_LABELS: dict[str, str] = {
    "y": "$y$",
    "pmra": r"$\mu_{\alpha*}$ (mas yr$^{-1}$)",
    "pmdec": r"$\mu_{\delta}$ (mas yr$^{-1}$)",
    "parallax": r"$\varpi$ (mas)",
    "radius": r"$R$ (arcmin)",
}
PANEL_HEIGHT_IN = 1.55
MAX_COLUMNS = 3


def p_value_text(check: Mapping[str, Any]) -> str:
    """``p = 0.42`` (mathtext) for a panel, ``p < 0.005`` when no replicate was as extreme."""
    text = format_p_value(check["p_value"], int(check["n_draws"]))
    text = text.replace(r"\ensuremath{<}", "< ")
    return f"$p = {text}$" if "<" not in text else f"$p {text}$"


def ppc_panel(ax: plt.Axes, check: Mapping[str, Any], colour: str, title: str) -> None:
    """One quantity's check on ``ax``: observed counts, replicated median and 95% band."""
    edges = np.asarray(check["edges"], float)
    ax.stairs(
        np.asarray(check["replicated_q97.5"], float),
        edges,
        baseline=np.asarray(check["replicated_q2.5"], float),
        fill=True,
        color=colour,
        alpha=0.4,
        linewidth=0,
    )
    ax.stairs(np.asarray(check["replicated_q50"], float), edges, color=colour, lw=0.9)
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax.plot(
        centres,
        np.asarray(check["observed"], float),
        ls="none",
        marker="o",
        ms=2.2,
        color=OBSERVED_COLOUR,
        zorder=3,
    )
    ax.set_xlim(edges[0], edges[-1])
    top = max(np.max(check["observed"]), np.max(check["replicated_q97.5"]))
    ax.set_ylim(0.0, 1.22 * top if top > 0 else 1.0)
    ax.text(0.03, 0.95, title, transform=ax.transAxes, ha="left", va="top")
    ax.text(0.97, 0.95, p_value_text(check), transform=ax.transAxes, ha="right", va="top")


def ppc_figure(
    results: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> plt.Figure:
    """Page-wide grid of :func:`ppc_panel`, one per (model, quantity) of ``results``.

    ``results``: posterior predictive check results (the ppc JSON files), in panel order;
    ``labels``: model names as shown (default :data:`MODEL_LABELS`).
    """
    use_style()
    labels = {**MODEL_LABELS, **(labels or {})}
    pairs = ppc_pairs(results)
    if not pairs:
        raise ValueError("no posterior predictive checks to plot")
    n_cols = min(MAX_COLUMNS, len(pairs))
    n_rows = -(-len(pairs) // n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(PAGE_WIDTH_IN, PANEL_HEIGHT_IN * n_rows + 0.35),
        squeeze=False,
        gridspec_kw={"hspace": 0.55, "wspace": 0.28},
    )
    for ax, (model, quantity, check) in zip(axes.flat, pairs, strict=False):
        ppc_panel(ax, check, MODEL_COLOURS.get(model, "#777777"), labels.get(model, model))
        ax.set_xlabel(AXIS_LABELS.get(quantity, quantity))
    for ax in axes[:, 0]:
        ax.set_ylabel("stars per bin")
    for ax in axes.flat[len(pairs) :]:
        ax.set_visible(False)
    grey = "#777777"
    fig.legend(
        handles=[
            Line2D([], [], ls="none", marker="o", ms=2.2, color=OBSERVED_COLOUR, label="observed"),
            Line2D([], [], color=grey, lw=0.9, label="replicated median (model colour)"),
            Patch(facecolor=grey, alpha=0.4, linewidth=0, label="replicated 95% band"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=3,
        frameon=False,
    )
    fig.subplots_adjust(top=1.0 - 0.05 / n_rows)
    return fig

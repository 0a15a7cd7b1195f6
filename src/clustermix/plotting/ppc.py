"""Posterior predictive checks: observed histograms against replicated ones, one panel per
model and quantity.

Each panel shows the observed counts per bin (black points), the median of the replicated
counts (the model's colour, steps) and their 2.5-97.5 percentile band (the model's
colour, shaded), between the 1st and 99th percentiles of the replicated values, with the
posterior predictive p-value of the binned chi-square (see :mod:`clustermix.checks.ppc`).
Units: counts of stars per bin against the quantity's own unit.

Two more panels show the local checks of :mod:`clustermix.checks.ppc_local`, every cluster model
in its colour, all as ratios to the replicated mean so that the fits share an axis: the
stars in the cluster's window per annulus of radius (arcmin; points: observed, shaded
steps: the replicated 95% range, p-value of each fit in the legend), and the summed
membership probabilities per G bin (mag; filled points: Sigma p, shaded steps: the
replicated 95% range of the member counts, open points: the true members of a simulated
field).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from clustermix.checks.ppc import format_p_value, ppc_pairs
from clustermix.checks.ppc_local import MAGNITUDE_KEY, RADIAL_KEY
from clustermix.plotting.style import MODEL_COLOURS, MODEL_LABELS, PAGE_WIDTH_IN, use_style

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


def local_entries(
    results: Sequence[Mapping[str, Any]], key: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """(model, check) of every result whose local check ``key`` was made."""
    return [
        (result["model"], result[key])
        for result in results
        if isinstance(result.get(key), Mapping) and result[key].get("status") == "done"
    ]


def _ratios(values: Sequence[float | None], mean: Sequence[float | None]) -> np.ndarray:
    """``values`` / ``mean`` (NaN where the mean is missing or zero)."""
    top = np.array([np.nan if v is None else v for v in values], float)
    bottom = np.array([np.nan if v is None else v for v in mean], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / bottom, np.nan)


def _band_and_points(
    ax: plt.Axes,
    check: Mapping[str, Any],
    values: Sequence[float | None],
    colour: str,
    label: str | None,
) -> np.ndarray:
    """The replicated 95% range over the replicated mean (steps) and ``values`` over it
    (points joined by a line) at the bin centres, which are returned."""
    edges = np.asarray(check["edges"], float)
    mean = check["replicated_mean"]
    low = _ratios(check["replicated_q2.5"], mean)
    high = _ratios(check["replicated_q97.5"], mean)
    ax.stairs(
        np.nan_to_num(high),
        edges,
        baseline=np.nan_to_num(low),
        fill=True,
        color=colour,
        alpha=0.25,
        linewidth=0,
    )
    centres = 0.5 * (edges[1:] + edges[:-1])
    ax.plot(centres, _ratios(values, mean), marker="o", ms=2.2, lw=0.7, color=colour, label=label)
    return centres


def radial_window_panel(
    ax: plt.Axes, entries: Sequence[tuple[str, Mapping[str, Any]]], labels: Mapping[str, str]
) -> None:
    """Observed / replicated mean window counts per annulus, one line per model, with each
    model's p-value (in its colour) at the top right."""
    top = 1.0
    for model, check in entries:
        colour = MODEL_COLOURS.get(model, "#777777")
        _band_and_points(ax, check, check["observed"], colour, labels.get(model, model))
        ratios = _ratios(check["observed"], check["replicated_mean"])
        highs = _ratios(check["replicated_q97.5"], check["replicated_mean"])
        top = max(top, np.nanmax(np.concatenate([ratios, highs, [1.0]])))
    for row, (model, check) in enumerate(entries):
        ax.text(
            0.97,
            0.95 - 0.1 * row,
            p_value_text(check),
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize="x-small",
            color=MODEL_COLOURS.get(model, "#777777"),
        )
    ax.axhline(1.0, color=OBSERVED_COLOUR, lw=0.5, ls=":")
    ax.set_xlim(0.0, max(check["edges"][-1] for _, check in entries))
    ax.set_ylim(0.0, top * (1.15 + 0.1 * len(entries)))
    ax.set_xlabel(r"$R$ (arcmin)")
    ax.set_ylabel("in window / replicated")
    ax.text(0.03, 0.95, "cluster window", transform=ax.transAxes, ha="left", va="top")


def magnitude_panel(ax: plt.Axes, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Sigma p / replicated mean member count per G bin, one line per model; the true
    member counts (simulated data) as open points."""
    for model, check in entries:
        colour = MODEL_COLOURS.get(model, "#777777")
        centres = _band_and_points(ax, check, check["sum_p"], colour, None)
        truth = check.get("truth")
        if truth:
            ax.plot(
                centres,
                _ratios(truth["n_members"], check["replicated_mean"]),
                ls="none",
                marker="o",
                ms=3.0,
                mfc="none",
                mew=0.6,
                color=colour,
            )
    ax.axhline(1.0, color=OBSERVED_COLOUR, lw=0.5, ls=":")
    ax.set_ylim(0.0, ax.get_ylim()[1] * 1.2)
    ax.set_xlabel(r"$G$ (mag)")
    ax.set_ylabel(r"$\Sigma p$ / replicated members")
    ax.text(0.03, 0.95, "memberships", transform=ax.transAxes, ha="left", va="top")


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
    radial = local_entries(results, RADIAL_KEY)
    magnitude = local_entries(results, MAGNITUDE_KEY)
    n_panels = len(pairs) + bool(radial) + bool(magnitude)
    n_cols = min(MAX_COLUMNS, n_panels)
    n_rows = -(-n_panels // n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(PAGE_WIDTH_IN, PANEL_HEIGHT_IN * n_rows + 0.35),
        squeeze=False,
        gridspec_kw={"hspace": 0.55, "wspace": 0.28},
    )
    for index, (ax, (model, quantity, check)) in enumerate(zip(axes.flat, pairs, strict=False)):
        ppc_panel(ax, check, MODEL_COLOURS.get(model, "#777777"), labels.get(model, model))
        ax.set_xlabel(AXIS_LABELS.get(quantity, quantity))
        if index % n_cols == 0:
            ax.set_ylabel("stars per bin")
    rest = list(axes.flat[len(pairs) :])
    if radial:
        radial_window_panel(rest.pop(0), radial, labels)
    if magnitude:
        magnitude_panel(rest.pop(0), magnitude)
    for ax in rest:
        ax.set_visible(False)
    grey = "#777777"
    handles = [
        Line2D([], [], ls="none", marker="o", ms=2.2, color=OBSERVED_COLOUR, label="observed"),
        Line2D([], [], color=grey, lw=0.9, label="replicated median (model colour)"),
        Patch(facecolor=grey, alpha=0.4, linewidth=0, label="replicated 95% band"),
    ]
    if any(check.get("truth") for _, check in magnitude):
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=3.0,
                mfc="none",
                mew=0.6,
                color=grey,
                label="simulated members",
            )
        )
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(handles),
        frameon=False,
    )
    fig.subplots_adjust(top=1.0 - 0.05 / n_rows)
    return fig

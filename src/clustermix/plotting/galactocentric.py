"""The cluster's Galactocentric position and velocity, with their posterior uncertainty.

Top row, positions: (a) the Galaxy seen from the north pole, with the Galactic centre,
the Sun, the solar circle and the cluster, and each one's velocity as an arrow; (b) a
zoom on the cluster's posterior draws in the same x-y plane (the cloud stretches along
the line of sight, the direction of the distance error), with an arrow pointing towards
the Sun; (c) the same draws in cylindrical radius R and height z. Bottom row, the
velocity draws: (d) v_phi against v_R, (e) v_z against v_R, (f) v_z against v_phi. Each
posterior panel shows the draws as dots and the mean as a white-edged circle; the truth
of simulated data is a black square.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from clustermix.models import CLUSTER_MODEL_NAMES
from clustermix.models.registry import galactocentric_model
from clustermix.plotting.style import (
    MODEL_COLOURS,
    PAGE_WIDTH_IN,
    TRUTH_COLOUR,
    use_style,
)

#: Draws shown as dots (a seeded subset of all draws).
MAX_DOTS = 2000
DOT_SEED = 7
#: Velocity arrows of the overview panel: kpc of arrow per km/s.
ARROW_KPC_PER_KMS = 1.0 / 100.0
SUN_COLOUR = "black"
#: The colour of the model the figure's draws come from.
CLUSTER_COLOUR = MODEL_COLOURS[galactocentric_model(CLUSTER_MODEL_NAMES)]
KMS = r"km s$^{-1}$"
#: Axis labels of the posterior panels (pc and km/s).
LABELS: dict[str, str] = {
    "x": r"$x$ (kpc)",
    "y": r"$y$ (kpc)",
    "R": r"$R$ (kpc)",
    "z": r"$z$ (pc)",
    "v_R": rf"$v_R$ ({KMS})",
    "v_phi": rf"$v_\phi$ ({KMS})",
    "v_z": rf"$v_z$ ({KMS})",
}


def _flat(draws: Mapping[str, Any], name: str) -> np.ndarray:
    return np.asarray(draws[name], float).ravel()


def _dot_subset(n: int) -> np.ndarray:
    rng = np.random.default_rng(DOT_SEED)
    return np.sort(rng.choice(n, size=min(n, MAX_DOTS), replace=False))


def _posterior_panel(
    ax: plt.Axes,
    x: np.ndarray,
    y: np.ndarray,
    subset: np.ndarray,
    truth: tuple[float, float] | None,
) -> None:
    """Draws as dots, their mean, and the truth."""
    ax.scatter(
        x[subset],
        y[subset],
        s=1.2,
        color=CLUSTER_COLOUR,
        alpha=0.35,
        linewidths=0,
        rasterized=True,
        zorder=2,
    )
    ax.plot(
        x.mean(),
        y.mean(),
        "o",
        color=CLUSTER_COLOUR,
        markeredgecolor="white",
        markeredgewidth=0.7,
        markersize=5,
        zorder=4,
    )
    if truth is not None:
        ax.plot(*truth, "s", color=TRUTH_COLOUR, markersize=3.5, zorder=5)


def _sun_marker(ax: plt.Axes, x: float, y: float, size: float = 6.0) -> None:
    """The Sun's symbol: a circle with a central dot."""
    ax.plot(x, y, "o", markerfacecolor="white", markeredgecolor=SUN_COLOUR, markersize=size)
    ax.plot(x, y, ".", color=SUN_COLOUR, markersize=size * 0.4)


def _arrow(ax: plt.Axes, x: float, y: float, dx: float, dy: float, colour: str) -> None:
    ax.annotate(
        "",
        xy=(x + dx, y + dy),
        xytext=(x, y),
        arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 0.9, "mutation_scale": 7},
        zorder=3,
    )


def _overview_panel(
    ax: plt.Axes,
    draws: Mapping[str, Any],
    sun: Mapping[str, float],
    truth: Mapping[str, float] | None,
) -> None:
    """Face-on view (kpc) with the Galactic centre, Sun, solar circle and cluster."""
    mean = {key: float(_flat(draws, key).mean()) for key in ("x", "y", "v_x", "v_y")}
    sun_kpc = (sun["x"] / 1000.0, sun["y"] / 1000.0)
    cluster_kpc = (mean["x"] / 1000.0, mean["y"] / 1000.0)
    r_sun = float(np.hypot(*sun_kpc))
    angle = np.linspace(0, 2 * np.pi, 361)
    ax.plot(r_sun * np.cos(angle), r_sun * np.sin(angle), color="0.6", linestyle=(0, (3, 2)))
    ax.plot(0, 0, "+", color="black", markersize=7, markeredgewidth=1.0)
    ax.annotate("GC", (0, 0), xytext=(4, 4), textcoords="offset points", fontsize=7)
    _sun_marker(ax, *sun_kpc)
    ax.annotate("Sun", sun_kpc, xytext=(-4, -9), textcoords="offset points", fontsize=7, ha="right")
    ax.plot(*cluster_kpc, "o", color=CLUSTER_COLOUR, markersize=4, zorder=4)
    ax.annotate(
        "cluster", cluster_kpc, xytext=(5, -3), textcoords="offset points", fontsize=7, va="top"
    )
    if truth is not None:
        ax.plot(truth["x"] / 1000.0, truth["y"] / 1000.0, "s", color=TRUTH_COLOUR, markersize=2.5)
    scale = ARROW_KPC_PER_KMS
    _arrow(ax, *sun_kpc, sun["v_x"] * scale, sun["v_y"] * scale, SUN_COLOUR)
    _arrow(ax, *cluster_kpc, mean["v_x"] * scale, mean["v_y"] * scale, CLUSTER_COLOUR)
    # limits: the centre, Sun, cluster and arrow tips, padded, as a square
    xs = [0.0, sun_kpc[0], cluster_kpc[0], sun_kpc[0] + sun["v_x"] * scale]
    ys = [0.0, sun_kpc[1], cluster_kpc[1], sun_kpc[1] + sun["v_y"] * scale]
    xs.append(cluster_kpc[0] + mean["v_x"] * scale)
    ys.append(cluster_kpc[1] + mean["v_y"] * scale)
    centre = (0.5 * (min(xs) + max(xs)), 0.5 * (min(ys) + max(ys)))
    half = 0.5 * max(max(xs) - min(xs), max(ys) - min(ys)) + 1.5
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_aspect("equal", adjustable="box")
    ax.text(
        0.97,
        0.04,
        rf"arrows: 100 {KMS} = 1 kpc",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
    )
    ax.set_xlabel(LABELS["x"])
    ax.set_ylabel(LABELS["y"])


def _zoom_xy_panel(
    ax: plt.Axes,
    draws: Mapping[str, Any],
    sun: Mapping[str, float],
    truth: Mapping[str, float] | None,
    subset: np.ndarray,
) -> None:
    """The posterior draws of (x, y) in kpc, equal aspect, an arrow towards the Sun."""
    x, y = _flat(draws, "x") / 1000.0, _flat(draws, "y") / 1000.0
    _posterior_panel(
        ax, x, y, subset, None if truth is None else (truth["x"] / 1000.0, truth["y"] / 1000.0)
    )
    _equal_square_limits(ax, x, y)
    # an arrow towards the Sun, in the corner the cloud (stretched along the line of
    # sight, i.e. along that same direction) leaves empty
    direction = np.array([sun["x"] / 1000.0 - x.mean(), sun["y"] / 1000.0 - y.mean()])
    direction /= np.hypot(*direction)
    corner = (0.27, 0.75) if direction[0] * direction[1] > 0 else (0.73, 0.75)
    length = 0.22
    tail = (corner[0] - 0.5 * length * direction[0], corner[1] - 0.5 * length * direction[1])
    ax.annotate(
        "",
        xy=(tail[0] + length * direction[0], tail[1] + length * direction[1]),
        xytext=tail,
        xycoords="axes fraction",
        textcoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "0.3", "linewidth": 0.9, "mutation_scale": 7},
    )
    ax.text(
        tail[0],
        tail[1] + 0.03,
        "to Sun",
        transform=ax.transAxes,
        ha="center",
        va="bottom",
        fontsize=6,
        color="0.3",
    )
    ax.set_xlabel(LABELS["x"])
    ax.set_ylabel(LABELS["y"])


def _equal_square_limits(ax: plt.Axes, x: np.ndarray, y: np.ndarray) -> None:
    """Square, equal-aspect limits around the central 99.8 per cent of the draws."""
    lo = np.quantile(np.column_stack([x, y]), 0.001, axis=0)
    hi = np.quantile(np.column_stack([x, y]), 0.999, axis=0)
    centre = 0.5 * (lo + hi)
    half = 0.5 * float(np.max(hi - lo)) * 1.15
    ax.set_xlim(centre[0] - half, centre[0] + half)
    ax.set_ylim(centre[1] - half, centre[1] + half)
    ax.set_aspect("equal", adjustable="box")


def galactocentric_figure(
    draws: Mapping[str, Any],
    sun: Mapping[str, float],
    truth: Mapping[str, float] | None = None,
) -> plt.Figure:
    """Page-wide figure of the cluster's Galactocentric position and velocity.

    ``draws``: posterior draws of x, y, z (pc), R (pc), v_x, v_y, v_R, v_phi, v_z (km/s)
    (arrays or DataArrays of one shape, see
    :func:`clustermix.galactocentric.galactocentric_draws`); ``sun``: the Sun's x, y, z,
    v_x, v_y, v_z; ``truth``: the same names' true values, or None.
    """
    use_style()
    fig, axes = plt.subplots(2, 3, figsize=(PAGE_WIDTH_IN, 0.64 * PAGE_WIDTH_IN))
    n = _flat(draws, "x").size
    subset = _dot_subset(n)
    _overview_panel(axes[0, 0], draws, sun, truth)
    _zoom_xy_panel(axes[0, 1], draws, sun, truth, subset)
    r_kpc = _flat(draws, "R") / 1000.0
    _posterior_panel(
        axes[0, 2],
        r_kpc,
        _flat(draws, "z"),
        subset,
        None if truth is None else (truth["R"] / 1000.0, truth["z"]),
    )
    axes[0, 2].set_xlabel(LABELS["R"])
    axes[0, 2].set_ylabel(LABELS["z"])
    pairs = (("v_R", "v_phi"), ("v_R", "v_z"), ("v_phi", "v_z"))
    for ax, (x_name, y_name) in zip(axes[1], pairs, strict=True):
        _posterior_panel(
            ax,
            _flat(draws, x_name),
            _flat(draws, y_name),
            subset,
            None if truth is None else (truth[x_name], truth[y_name]),
        )
        ax.set_xlabel(LABELS[x_name])
        ax.set_ylabel(LABELS[y_name])
    for ax in axes.ravel()[1:]:
        ax.xaxis.set_major_locator(plt.MaxNLocator(4))
        ax.yaxis.set_major_locator(plt.MaxNLocator(5))
    for ax, letter in zip(axes.ravel(), "abcdef", strict=True):
        ax.text(0.03, 0.96, f"({letter})", transform=ax.transAxes, ha="left", va="top")
    fig.tight_layout(h_pad=0.8, w_pad=1.0)
    return fig

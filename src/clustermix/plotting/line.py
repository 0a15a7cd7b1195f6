"""The straight line with outliers (the seed tutorial's example), before and after the mixture.

Top panel: the data with their error bars, the true outliers marked, the weighted
least-squares line (pulled by the outliers) and the true line. Bottom panel: the same
points coloured by their posterior inlier probability, with the 16-84 per cent band of
the mixture model's line and the true line. All quantities are dimensionless.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from clustermix.plotting.style import (
    COLUMN_WIDTH_IN,
    PALETTE,
    SEQUENTIAL_CMAP,
    TRUTH_COLOUR,
    use_style,
)

LEAST_SQUARES_COLOUR = PALETTE["vermillion"]
ERRORBAR_COLOUR = "#9A9A9A"
#: At most this many posterior draws make the band (evenly thinned, deterministic).
MAX_BAND_DRAWS = 4000


def weighted_least_squares(x: np.ndarray, y: np.ndarray, y_err: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the straight line minimising chi^2 with weights 1 / y_err^2."""
    x, y, y_err = (np.asarray(values, float) for values in (x, y, y_err))
    design = np.vander(x, N=2)
    weights = 1.0 / y_err**2
    normal = design.T @ (design * weights[:, None])
    slope, intercept = np.linalg.solve(normal, design.T @ (weights * y))
    return float(slope), float(intercept)


def line_band(
    x_grid: np.ndarray,
    slope_draws: np.ndarray,
    intercept_draws: np.ndarray,
    percentiles: tuple[float, float] = (16.0, 84.0),
) -> tuple[np.ndarray, np.ndarray]:
    """Per ``x_grid`` point, the ``percentiles`` of m x + b over the posterior draws."""
    slope = np.asarray(slope_draws, float).ravel()
    intercept = np.asarray(intercept_draws, float).ravel()
    if slope.size > MAX_BAND_DRAWS:
        keep = np.linspace(0, slope.size - 1, MAX_BAND_DRAWS).astype(int)
        slope, intercept = slope[keep], intercept[keep]
    lines = np.asarray(x_grid, float)[:, None] * slope[None, :] + intercept[None, :]
    low, high = np.percentile(lines, percentiles, axis=1)
    return low, high


def line_outliers_figure(
    x: np.ndarray,
    y: np.ndarray,
    y_err: np.ndarray,
    is_outlier: np.ndarray,
    p_inlier: np.ndarray,
    slope_draws: np.ndarray,
    intercept_draws: np.ndarray,
    truth: Mapping[str, float],
    colour: str = PALETTE["purple"],
) -> plt.Figure:
    """Two stacked panels: least squares against the truth, then the mixture model.

    ``colour``: the mixture model's (its spec's presentation colour).

    Parameters
    ----------
    x, y, y_err
        The points and their (Gaussian, known) ordinate uncertainties.
    is_outlier
        The true labels (booleans): outliers are drawn as squares, inliers as circles.
    p_inlier
        Posterior inlier probability of each point (mean over draws), colouring the
        bottom panel.
    slope_draws, intercept_draws
        Posterior draws of the slope ``m`` and intercept ``b`` (any shape, same size).
    truth
        The true line, ``{"m": slope, "b": intercept}``.
    """
    use_style()
    x, y, y_err, p_inlier = (np.asarray(values, float) for values in (x, y, y_err, p_inlier))
    is_outlier = np.asarray(is_outlier, bool)
    pad = 0.04 * (x.max() - x.min())
    x_grid = np.linspace(x.min() - pad, x.max() + pad, 200)
    true_line = truth["m"] * x_grid + truth["b"]
    lsq_slope, lsq_intercept = weighted_least_squares(x, y, y_err)
    low, high = line_band(x_grid, slope_draws, intercept_draws)

    fig, (top, bottom) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 1.35),
        gridspec_kw={"hspace": 0.06},
    )
    for ax in (top, bottom):
        ax.errorbar(x, y, y_err, ls="none", color=ERRORBAR_COLOUR, elinewidth=0.6, zorder=1)
        ax.plot(x_grid, true_line, color=TRUTH_COLOUR, lw=0.8, zorder=3)
        ax.set_ylabel("$y$")

    # Top: what least squares does with the outliers.
    top.plot(
        x_grid, lsq_slope * x_grid + lsq_intercept, color=LEAST_SQUARES_COLOUR, ls="--", zorder=3
    )
    top.scatter(
        x[~is_outlier], y[~is_outlier], s=9, marker="o", c=PALETTE["black"], linewidths=0, zorder=4
    )
    top.scatter(
        x[is_outlier],
        y[is_outlier],
        s=11,
        marker="s",
        facecolors="white",
        edgecolors=PALETTE["black"],
        linewidths=0.7,
        zorder=4,
    )
    top.legend(
        handles=[
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=3,
                mfc=PALETTE["black"],
                mec="none",
                label="inlier",
            ),
            Line2D(
                [],
                [],
                ls="none",
                marker="s",
                ms=3,
                mfc="white",
                mec=PALETTE["black"],
                mew=0.7,
                label="true outlier",
            ),
            Line2D([], [], color=TRUTH_COLOUR, lw=0.8, label="true line"),
            Line2D([], [], color=LEAST_SQUARES_COLOUR, ls="--", label="least squares"),
        ],
        loc="upper left",
        frameon=False,
        ncol=2,
        columnspacing=0.8,
        handlelength=1.6,
    )

    # Bottom: the mixture model's line and each point's inlier probability.
    bottom.fill_between(x_grid, low, high, color=colour, alpha=0.6, linewidth=0, zorder=3.5)
    scatter_kwargs = {
        "c": None,
        "cmap": f"{SEQUENTIAL_CMAP}_r",
        "vmin": 0.0,
        "vmax": 1.0,
        "edgecolors": PALETTE["black"],
        "linewidths": 0.4,
        "zorder": 4,
    }
    points = None
    for outlier, marker, size in ((False, "o", 12), (True, "s", 13)):
        chosen = is_outlier == outlier
        points = bottom.scatter(
            x[chosen], y[chosen], s=size, marker=marker, **{**scatter_kwargs, "c": p_inlier[chosen]}
        )
    bottom.legend(
        handles=[
            Patch(
                facecolor=colour,
                alpha=0.6,
                linewidth=0,
                label="mixture model, 16–84%",
            ),
            Line2D([], [], color=TRUTH_COLOUR, lw=0.8, label="true line"),
        ],
        loc="upper left",
        frameon=False,
        handlelength=1.6,
    )
    bottom.set_xlabel("$x$")
    bottom.set_xlim(x_grid[0], x_grid[-1])
    colourbar = fig.colorbar(points, ax=[top, bottom], pad=0.02, fraction=0.05, aspect=40)
    colourbar.set_label("posterior inlier probability (bottom)")
    colourbar.ax.tick_params(direction="out", right=True)
    return fig

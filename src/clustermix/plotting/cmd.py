"""The colour-magnitude diagram coloured by membership probability.

Every star is drawn in light grey; stars with a membership probability of at least
``p_min`` are drawn again on top, coloured by it (the reversed sequential map: dark is a
likely member), so the cluster sequence stands out against the field. The members of
reference lists (the simulation's truth, published catalogues) are drawn over them as
open markers (:mod:`clustermix.plotting.references`). When the phase-space fit has its
colour-magnitude term (``cmd_term``), its ridge line (posterior median at each G) and the
equal-mass binary sequence are drawn as lines (:func:`ridge_lines`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table
from matplotlib import colors
from matplotlib.lines import Line2D

from clustermix.catalogues.reference_members import ReferenceList
from clustermix.errors import InputDataError
from clustermix.plotting.references import Overlay, draw_overlays, overlays
from clustermix.plotting.style import (
    COLUMN_WIDTH_IN,
    MODEL_LABELS,
    SEQUENTIAL_CMAP,
    use_style,
)

#: Grey of the stars underneath (all stars, whatever their membership).
BACKGROUND_COLOUR = "#C8C8C8"
#: Scatter layers with more points than this are rasterized inside the vector PDF.
RASTERIZE_ABOVE = 4000
#: Resolution (dpi) of rasterized layers.
RASTER_DPI = 300
#: Points in G of the drawn ridge lines.
RIDGE_POINTS = 200
#: Colour of the fitted ridge lines.
RIDGE_COLOUR = "black"


@dataclass(frozen=True)
class RidgeLines:
    """The fitted cluster sequence: G (mag) and the posterior median BP - RP (mag) of the
    single-star ridge and of the equal-mass binaries (0.753 mag brighter)."""

    g_mag: np.ndarray
    single_bp_rp: np.ndarray
    binary_g_mag: np.ndarray
    binary_bp_rp: np.ndarray


def ridge_lines(posterior: Any) -> RidgeLines | None:
    """The ridge lines of a phase-space posterior (an xarray Dataset with
    ``cmd_ridge_colour`` over ``chain``, ``draw`` and ``cmd_node``, whose coordinate holds
    the nodes' G in mag), or None for a fit without the colour-magnitude term. The single
    ridge is drawn between the first and the last node (the fitted stars' G range), the
    binary one at the same colours 0.753 mag brighter."""
    from clustermix.models.phase_space.cmd import BINARY_OFFSET_MAG, ridge_colour

    if posterior is None or "cmd_ridge_colour" not in getattr(posterior, "data_vars", {}):
        return None
    colours = posterior["cmd_ridge_colour"].transpose(..., "cmd_node")
    node_mags = np.asarray(colours["cmd_node"].values, float)
    draws = np.asarray(colours.values, float).reshape(-1, node_mags.size)
    g_mag = np.linspace(node_mags[0], node_mags[-1], RIDGE_POINTS)
    single = np.median(ridge_colour(g_mag, draws, node_mags), axis=0)
    return RidgeLines(g_mag, single, g_mag - BINARY_OFFSET_MAG, single)


def draw_ridge_lines(ax: plt.Axes, ridge: RidgeLines) -> list[Line2D]:
    """The ridge (solid) and the binary sequence (dashed) on ``ax``; their legend handles."""
    (single,) = ax.plot(
        ridge.single_bp_rp,
        ridge.g_mag,
        color=RIDGE_COLOUR,
        lw=0.8,
        zorder=4,
        label="fitted sequence",
    )
    (binary,) = ax.plot(
        ridge.binary_bp_rp,
        ridge.binary_g_mag,
        color=RIDGE_COLOUR,
        lw=0.8,
        ls="--",
        zorder=4,
        label="equal-mass binaries",
    )
    return [single, binary]


def membership_cmap(lightest: float = 0.2) -> colors.Colormap:
    """The reversed :data:`SEQUENTIAL_CMAP` (dark = likely member) without its palest
    ``lightest`` fraction, so the least likely coloured stars still show on white."""
    reversed_map = plt.get_cmap(f"{SEQUENTIAL_CMAP}_r")
    return colors.LinearSegmentedColormap.from_list(
        f"{SEQUENTIAL_CMAP}_r_members", reversed_map(np.linspace(lightest, 1.0, 256))
    )


def membership_scatter(
    x: np.ndarray,
    y: np.ndarray,
    probability: np.ndarray,
    *,
    model_label: str,
    p_min: float,
    references: Sequence[Overlay],
    height_ratio: float,
) -> tuple[plt.Figure, plt.Axes, list[Line2D]]:
    """A one-column figure of ``y`` against ``x`` (one value per star; non-finite ones are
    left out): every star in :data:`BACKGROUND_COLOUR`, stars with ``probability >= p_min``
    on top coloured by it (the likeliest drawn last), a colour bar, and the reference
    members as open markers. Returns the figure, its axes and the references' legend
    handles; the caller labels the axes. Layers of more than :data:`RASTERIZE_ABOVE` stars
    are rasterized."""
    use_style()
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    probability = np.asarray(probability, float)
    shown = np.isfinite(x) & np.isfinite(y)
    coloured = shown & np.isfinite(probability) & (probability >= p_min)
    order = np.flatnonzero(coloured)[np.argsort(probability[coloured], kind="stable")]

    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * height_ratio))
    rasterize = shown.sum() > RASTERIZE_ABOVE
    if rasterize:
        fig.set_dpi(RASTER_DPI)
    ax.scatter(
        x[shown],
        y[shown],
        s=1.0,
        c=BACKGROUND_COLOUR,
        linewidths=0,
        zorder=1,
        rasterized=rasterize,
    )
    points = ax.scatter(
        x[order],
        y[order],
        s=3.0,
        c=probability[order],
        cmap=membership_cmap(),
        vmin=p_min,
        vmax=1.0,
        linewidths=0,
        zorder=3,
        rasterized=rasterize,
    )
    colourbar = fig.colorbar(points, ax=ax, pad=0.02, fraction=0.06, aspect=30)
    colourbar.set_label(f"membership probability, {model_label}")
    colourbar.ax.tick_params(direction="out", right=True)
    reference_handles = draw_overlays(ax, x, y, references, rasterized=rasterize)
    return fig, ax, reference_handles


def cmd_membership_figure(
    g_mag: np.ndarray,
    bp_rp: np.ndarray,
    probability: np.ndarray,
    *,
    model_label: str,
    p_min: float = 0.1,
    references: Sequence[Overlay] = (),
    ridge: RidgeLines | None = None,
) -> plt.Figure:
    """G (mag) against BP-RP (mag), stars coloured by membership probability.

    Parameters
    ----------
    g_mag, bp_rp
        Gaia G and BP-RP colour (mag); stars with a non-finite value are left out.
    probability
        Membership probability per star (NaN where the model did not use the star:
        those stay grey).
    model_label
        The model's name for the colour-bar label.
    p_min
        Stars with ``probability >= p_min`` are coloured; the rest stay grey.
    references
        Reference members to mark with open symbols (rows of the same stars).
    ridge
        The fitted cluster sequence (:func:`ridge_lines`) to draw, or None.
    """
    fig, ax, reference_handles = membership_scatter(
        bp_rp,
        g_mag,
        probability,
        model_label=model_label,
        p_min=p_min,
        references=references,
        height_ratio=1.1,
    )
    ridge_handles = [] if ridge is None else draw_ridge_lines(ax, ridge)
    ax.invert_yaxis()
    ax.set_xlabel(r"$G_\mathrm{BP} - G_\mathrm{RP}$ (mag)")
    ax.set_ylabel(r"$G$ (mag)")
    ax.legend(
        handles=[background_handle(p_min), *ridge_handles, *reference_handles],
        loc="upper right",
        frameon=False,
        handletextpad=0.2,
    )
    return fig


def background_handle(p_min: float) -> Line2D:
    """The legend entry of the grey stars underneath."""
    return Line2D(
        [],
        [],
        ls="none",
        marker="o",
        ms=2.5,
        mfc=BACKGROUND_COLOUR,
        mec="none",
        label=f"$p < {p_min:g}$ or not modelled",
    )


def catalog_probability(catalog: Table, membership: Table, model: str) -> np.ndarray:
    """The membership probability of ``model`` for each star of ``catalog`` (NaN where the
    model did not fit it), matched on ``source_id``."""
    column = f"p_{model}"
    if column not in membership.colnames:
        raise InputDataError(
            f"the membership table has no column '{column}'; it has {membership.colnames}"
        )
    probability = np.full(len(catalog), np.nan)
    catalog_ids = np.asarray(catalog["source_id"], np.int64)
    member_ids = np.asarray(membership["source_id"], np.int64)
    common, in_catalog, in_membership = np.intersect1d(
        catalog_ids, member_ids, assume_unique=True, return_indices=True
    )
    if len(common) != len(member_ids):
        raise InputDataError(
            f"{len(member_ids) - len(common)} source_id values of the membership table are "
            "not in the catalogue"
        )
    probability[in_catalog] = np.asarray(membership[column], float)[in_membership]
    return probability


def cmd_membership_from_tables(
    catalog: Table,
    membership: Table,
    model: str,
    *,
    p_min: float = 0.1,
    references: Sequence[ReferenceList] = (),
    posterior: Any = None,
) -> plt.Figure:
    """:func:`cmd_membership_figure` for the catalogue, the membership table and the
    reference lists, with the ridge lines of ``posterior`` (the model's posterior, an
    xarray Dataset) if it has them.

    ``catalog``: ``results/{cluster}/catalog.fits`` (``source_id``, ``phot_g_mean_mag``,
    ``bp_rp``); ``membership``: ``results/{cluster}/membership.fits`` with a column
    ``p_<model>``; rows are matched on ``source_id``.
    """
    probability = catalog_probability(catalog, membership, model)
    return cmd_membership_figure(
        np.asarray(catalog["phot_g_mean_mag"], float),
        np.asarray(catalog["bp_rp"], float),
        probability,
        model_label=MODEL_LABELS.get(model, model),
        p_min=p_min,
        references=overlays(np.asarray(catalog["source_id"], np.int64), references),
        ridge=ridge_lines(posterior),
    )

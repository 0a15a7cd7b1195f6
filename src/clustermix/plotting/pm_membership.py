"""The proper-motion plane coloured by membership probability, with reference members.

As the colour-magnitude diagram (:mod:`clustermix.plotting.cmd`): every star in light
grey, stars with a membership probability of at least ``p_min`` coloured by it (dark: a
likely member), reference members as open markers. The view is centred on the likely
members (p >= 0.5): it spans their central 98 per cent in each proper-motion component,
widened by :data:`MARGIN` on each side and to at least :data:`MIN_HALF_WIDTH_MASYR`
around their median, so that the cluster and the field around it both show.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from astropy.table import Table

from clustermix.catalogues.reference_members import ReferenceList
from clustermix.plotting.cmd import background_handle, catalog_probability, membership_scatter
from clustermix.plotting.references import Overlay, overlays
from clustermix.plotting.style import MODEL_LABELS

#: Fraction of the members' range added on each side of the view.
MARGIN = 0.5
#: Smallest half-width of the view (mas/yr).
MIN_HALF_WIDTH_MASYR = 1.5


def view_limits(
    pmra: np.ndarray, pmdec: np.ndarray, probability: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(pmra, pmdec) limits (mas/yr) around the stars with p >= 0.5 (all stars if none)."""
    likely = np.isfinite(pmra) & np.isfinite(pmdec) & (np.nan_to_num(probability) >= 0.5)
    if likely.sum() < 3:
        likely = np.isfinite(pmra) & np.isfinite(pmdec)
    limits = []
    for values in (pmra[likely], pmdec[likely]):
        low, centre, high = np.quantile(values, [0.01, 0.5, 0.99])
        half = max((high - low) * (0.5 + MARGIN), MIN_HALF_WIDTH_MASYR)
        limits.append((float(centre - half), float(centre + half)))
    return limits[0], limits[1]


def pm_membership_figure(
    pmra: np.ndarray,
    pmdec: np.ndarray,
    probability: np.ndarray,
    *,
    model_label: str,
    p_min: float = 0.1,
    references: Sequence[Overlay] = (),
) -> plt.Figure:
    """pmdec against pmra (mas/yr), stars coloured by membership probability.

    Parameters
    ----------
    pmra, pmdec
        Proper motions (mas/yr; ``pmra`` is mu_alpha* = mu_alpha cos delta); stars with a
        non-finite value are left out.
    probability
        Membership probability per star (NaN where the model did not use the star).
    model_label
        The model's name for the colour-bar label.
    p_min
        Stars with ``probability >= p_min`` are coloured; the rest stay grey.
    references
        Reference members to mark with open symbols (rows of the same stars).
    """
    pmra = np.asarray(pmra, float)
    pmdec = np.asarray(pmdec, float)
    probability = np.asarray(probability, float)
    fig, ax, reference_handles = membership_scatter(
        pmra,
        pmdec,
        probability,
        model_label=model_label,
        p_min=p_min,
        references=references,
        height_ratio=1.0,
    )
    shown = np.isfinite(pmra) & np.isfinite(pmdec)
    if shown.any():
        xlim, ylim = view_limits(pmra, pmdec, probability)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    ax.set_xlabel(r"$\mu_{\alpha*}$ (mas yr$^{-1}$)")
    ax.set_ylabel(r"$\mu_\delta$ (mas yr$^{-1}$)")
    ax.legend(
        handles=[background_handle(p_min), *reference_handles],
        loc="upper right",
        frameon=True,
        framealpha=0.8,
        edgecolor="none",
        handletextpad=0.2,
    )
    return fig


def pm_membership_from_tables(
    catalog: Table,
    membership: Table,
    model: str,
    *,
    p_min: float = 0.1,
    references: Sequence[ReferenceList] = (),
) -> plt.Figure:
    """:func:`pm_membership_figure` for the catalogue (``source_id``, ``pmra``,
    ``pmdec``), the membership table (column ``p_<model>``) and the reference lists."""
    probability = catalog_probability(catalog, membership, model)
    return pm_membership_figure(
        np.asarray(catalog["pmra"], float),
        np.asarray(catalog["pmdec"], float),
        probability,
        model_label=MODEL_LABELS.get(model, model),
        p_min=p_min,
        references=overlays(np.asarray(catalog["source_id"], np.int64), references),
    )

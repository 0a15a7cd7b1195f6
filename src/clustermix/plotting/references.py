"""Reference members drawn over a membership figure: one open marker shape per list.

A reference list's members (:mod:`clustermix.catalogues.reference_members`) that are in our
catalogue are circled (first list), boxed (second) or put in a diamond (third), in
vermillion, under our coloured stars, so that a coloured star without a marker is a member
of ours only and a grey star with one a member of theirs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from clustermix.catalogues.reference_members import ReferenceList
from clustermix.plotting.style import PALETTE

#: Marker shapes of the first, second, third ... list.
MARKERS: tuple[str, ...] = ("o", "s", "D", "^")
#: Marker size (points^2), edge width (points), colour and opacity; thin and drawn under
#: the coloured stars, so that in a crowded cluster our colours still show inside them.
MARKER_SIZE = 7.0
MARKER_EDGE_WIDTH = 0.25
MARKER_COLOUR = PALETTE["vermillion"]
MARKER_ALPHA = 0.8
#: Drawing order: above the grey stars (1), below the coloured ones (3).
MARKER_ZORDER = 2.0


@dataclass(frozen=True)
class Overlay:
    """One list to draw: its legend ``label`` and the rows of our catalogue that are its
    members (bool, one per star of the figure)."""

    label: str
    rows: np.ndarray


def overlays(catalog_ids: np.ndarray, references: Sequence[ReferenceList]) -> list[Overlay]:
    """One :class:`Overlay` per list: its members among ``catalog_ids`` (Gaia source_id)."""
    catalog_ids = np.asarray(catalog_ids, dtype=np.int64)
    result = []
    for reference in references:
        stars = reference.stars
        members = np.asarray(stars["source_id"], np.int64)[np.asarray(stars["member"], bool)]
        label = (
            "true member" if reference.info.key == "truth" else f"member, {reference.info.label}"
        )
        result.append(Overlay(label, np.isin(catalog_ids, members)))
    return result


def draw_overlays(
    ax: plt.Axes, x: np.ndarray, y: np.ndarray, items: Sequence[Overlay], *, rasterized: bool
) -> list[Line2D]:
    """Open markers at ``(x, y)`` of each overlay's rows (finite values only); return the
    legend handles."""
    handles = []
    for index, item in enumerate(items):
        marker = MARKERS[index % len(MARKERS)]
        rows = item.rows & np.isfinite(x) & np.isfinite(y)
        ax.scatter(
            x[rows],
            y[rows],
            s=MARKER_SIZE,
            marker=marker,
            facecolors="none",
            edgecolors=MARKER_COLOUR,
            linewidths=MARKER_EDGE_WIDTH,
            alpha=MARKER_ALPHA,
            zorder=MARKER_ZORDER,
            rasterized=rasterized,
        )
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker=marker,
                ms=3.0,
                mfc="none",
                mec=MARKER_COLOUR,
                mew=0.6,
                label=f"{item.label} ({int(rows.sum()):,})",
            )
        )
    return handles

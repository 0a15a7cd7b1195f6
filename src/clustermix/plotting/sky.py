"""The field on the sky: stars by region, sized by brightness, with the mask boundaries.

Positions are offsets from the cluster centre in its sky-offset frame (astropy's
:class:`~astropy.coordinates.SkyOffsetFrame`: the centre at the origin, longitude growing
east, latitude north), in arcmin; over a 20-arcmin cone they are the usual
Delta alpha cos(delta), Delta delta to well under an arcsecond. East is to the left, as on
the sky.
"""

from __future__ import annotations

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
from astropy.coordinates import SkyCoord
from matplotlib.lines import Line2D

from clustermix.plotting.style import (
    CLUSTER_COLOUR,
    COLUMN_WIDTH_IN,
    FIELD_COLOUR,
    PALETTE,
    use_style,
)

#: Colour of the stars in neither region (between the cluster region and the control field).
BETWEEN_COLOUR = "#9A9A9A"
#: Marker areas (pt^2) of the faintest and the brightest stars.
MARKER_AREA_RANGE_PT2 = (0.5, 12.0)
#: Marker areas shrink as ``sqrt(CROWDING_STARS / n_stars)`` for fields with more stars than this,
#: so that a full 20-arcmin cone does not turn into overlapping blobs.
CROWDING_STARS = 3000
#: Scatter layers with more points than this are rasterized inside the vector PDF.
RASTERIZE_ABOVE = 4000
#: Resolution (dpi) of rasterized layers.
RASTER_DPI = 300


def sky_offsets_arcmin(
    ra_deg: np.ndarray, dec_deg: np.ndarray, centre_ra_deg: float, centre_dec_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (arcmin) east and north of the centre, in the centre's sky-offset frame.

    ``ra_deg``, ``dec_deg``: ICRS positions (deg); ``centre_*``: the centre (deg, ICRS).
    """
    centre = SkyCoord(centre_ra_deg * u.deg, centre_dec_deg * u.deg, frame="icrs")
    stars = SkyCoord(
        np.asarray(ra_deg, float) * u.deg, np.asarray(dec_deg, float) * u.deg, frame="icrs"
    )
    offset = stars.transform_to(centre.skyoffset_frame())
    return (
        offset.lon.wrap_at(180 * u.deg).to_value(u.arcmin),
        offset.lat.to_value(u.arcmin),
    )


def separation_circle_arcmin(
    radius_arcmin: float, centre_ra_deg: float, centre_dec_deg: float, n_points: int = 361
) -> tuple[np.ndarray, np.ndarray]:
    """The points at angular separation ``radius_arcmin`` from the centre, as offsets (arcmin).

    Drawn through :meth:`SkyCoord.directional_offset_by`, so the curve is exactly the
    boundary the masks use (a separation), not a circle drawn in the projection.
    """
    centre = SkyCoord(centre_ra_deg * u.deg, centre_dec_deg * u.deg, frame="icrs")
    angles = np.linspace(0.0, 360.0, n_points) * u.deg
    ring = centre.directional_offset_by(angles, radius_arcmin * u.arcmin)
    return sky_offsets_arcmin(ring.ra.deg, ring.dec.deg, centre_ra_deg, centre_dec_deg)


def marker_areas(
    g_mag: np.ndarray, g_range: tuple[float, float] | None = None, scale: float = 1.0
) -> np.ndarray:
    """Marker areas (pt^2) growing with brightness: the faintest star (largest G, mag) gets
    the smallest area of :data:`MARKER_AREA_RANGE_PT2`, the brightest the largest.

    ``g_range``: (bright, faint) G (mag) mapped to the ends; default the data's range.
    ``scale``: a factor on every area (< 1 for crowded fields).
    """
    g_mag = np.asarray(g_mag, float)
    bright, faint = g_range if g_range is not None else (np.nanmin(g_mag), np.nanmax(g_mag))
    span = max(faint - bright, 1e-9)
    scaled = np.clip((faint - g_mag) / span, 0.0, 1.0)
    low, high = MARKER_AREA_RANGE_PT2
    return scale * (low + (high - low) * scaled**2)


def sky_masks_figure(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    g_mag: np.ndarray,
    in_cluster_region: np.ndarray,
    in_control_field: np.ndarray,
    *,
    centre_ra_deg: float,
    centre_dec_deg: float,
    cluster_radius_arcmin: float,
    control_min_arcmin: float,
    cone_radius_arcmin: float | None = None,
) -> plt.Figure:
    """The field on the sky, one colour per region, marker size growing with brightness.

    Parameters
    ----------
    ra_deg, dec_deg
        Star positions (deg, ICRS).
    g_mag
        Gaia G (mag); sets the marker size.
    in_cluster_region, in_control_field
        The region masks (booleans) of ``results/{cluster}/masks.fits``.
    centre_ra_deg, centre_dec_deg
        The cluster centre (deg), the origin of the offsets.
    cluster_radius_arcmin, control_min_arcmin
        The mask boundaries (arcmin of separation), drawn as dashed curves.
    cone_radius_arcmin
        The radius of the catalogue's cone (arcmin), drawn as a thin solid curve if given.

    The legend gives the number of stars in each region.
    """
    use_style()
    in_cluster = np.asarray(in_cluster_region, bool)
    in_control = np.asarray(in_control_field, bool)
    between = ~in_cluster & ~in_control
    east, north = sky_offsets_arcmin(ra_deg, dec_deg, centre_ra_deg, centre_dec_deg)
    g_mag = np.asarray(g_mag, float)
    finite_g = g_mag[np.isfinite(g_mag)]
    g_range = (float(finite_g.min()), float(finite_g.max())) if finite_g.size else (0.0, 1.0)
    crowding = min(1.0, CROWDING_STARS / max(len(g_mag), 1)) ** 0.5
    sizes = marker_areas(g_mag, g_range, crowding)

    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 1.22))
    rasterize = len(east) > RASTERIZE_ABOVE
    if rasterize:
        fig.set_dpi(RASTER_DPI)
    regions = [
        (in_control, FIELD_COLOUR, f"control field, $r > {control_min_arcmin:g}'$"),
        (between, BETWEEN_COLOUR, "between the regions"),
        (in_cluster, CLUSTER_COLOUR, f"cluster region, $r < {cluster_radius_arcmin:g}'$"),
    ]
    handles = []
    for mask, colour, label in regions:
        # Faint stars first, so bright ones stay visible on top.
        order = np.argsort(-g_mag[mask], kind="stable")
        ax.scatter(
            east[mask][order],
            north[mask][order],
            s=sizes[mask][order],
            c=colour,
            linewidths=0,
            alpha=0.8,
            rasterized=rasterize,
        )
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=4,
                mfc=colour,
                mec="none",
                label=f"{label}: {int(mask.sum()):,}",
            )
        )
    for radius in (cluster_radius_arcmin, control_min_arcmin):
        ax.plot(
            *separation_circle_arcmin(radius, centre_ra_deg, centre_dec_deg),
            color=PALETTE["black"],
            ls="--",
            lw=0.8,
        )
    if cone_radius_arcmin is not None:
        ax.plot(
            *separation_circle_arcmin(cone_radius_arcmin, centre_ra_deg, centre_dec_deg),
            color=PALETTE["black"],
            ls="-",
            lw=0.5,
        )
    handles.append(Line2D([], [], color=PALETTE["black"], ls="--", lw=0.8, label="mask boundaries"))
    if cone_radius_arcmin is not None:
        handles.append(Line2D([], [], color=PALETTE["black"], lw=0.5, label="catalogue cone"))
    for g_key in _size_key_magnitudes(g_range):
        handles.append(
            Line2D(
                [],
                [],
                ls="none",
                marker="o",
                ms=float(np.sqrt(marker_areas(np.array([g_key]), g_range, crowding)[0])),
                mfc="#555555",
                mec="none",
                label=f"$G = {g_key:g}$",
            )
        )
    ax.set_aspect("equal", adjustable="box")
    extent = cone_radius_arcmin or float(np.nanmax(np.hypot(east, north)))
    ax.set_xlim(1.05 * extent, -1.05 * extent)  # east to the left
    ax.set_ylim(-1.05 * extent, 1.05 * extent)
    ax.set_xlabel(r"$\Delta\alpha\cos\delta$ (arcmin)")
    ax.set_ylabel(r"$\Delta\delta$ (arcmin)")
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.13),
        ncol=2,
        frameon=False,
        handletextpad=0.3,
        columnspacing=1.0,
        labelspacing=0.4,
    )
    return fig


def _size_key_magnitudes(g_range: tuple[float, float], n_keys: int = 3) -> list[float]:
    """Round G values (mag) spanning ``g_range`` for the marker-size key."""
    bright, faint = g_range
    keys = np.linspace(bright, faint, n_keys + 2)[1:-1]
    return sorted({float(np.round(key)) for key in keys})

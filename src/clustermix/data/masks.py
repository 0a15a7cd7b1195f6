"""Sky masks: the cluster region and the control field, by separation from the centre.

The cluster region (separation < ``cluster_radius_arcmin``) holds members and field stars;
the control field (separation > ``control_min_arcmin``) is nearly pure field and pins the
field model down.
"""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Column, Table

from clustermix.errors import ConfigError, InputDataError
from clustermix.io import PathLike


def sky_masks(
    catalog: Table,
    *,
    ra_deg: float,
    dec_deg: float,
    cluster_radius_arcmin: float,
    control_min_arcmin: float,
    source: str | Path,
) -> Table:
    """Per star, its separation from the centre and the two region masks.

    Parameters
    ----------
    catalog
        Needs ``source_id``, ``ra`` and ``dec`` (deg, ICRS; a column without unit is
        taken as deg).
    ra_deg, dec_deg
        The cluster centre (deg, ICRS).
    cluster_radius_arcmin
        Stars closer than this (arcmin) are in the cluster region.
    control_min_arcmin
        Stars farther than this (arcmin) are in the control field; must not be smaller
        than ``cluster_radius_arcmin``.
    source
        The catalogue's file, named in error messages.

    Returns
    -------
    Table
        ``source_id``, ``separation_arcmin`` (arcmin), ``in_cluster_region`` and
        ``in_control_field`` (booleans), in the catalogue's row order.

    Raises
    ------
    ConfigError
        A radius is not positive, or the control field starts inside the cluster region.
    InputDataError
        A needed column is missing, or either region holds no star.
    """
    _check_radii(cluster_radius_arcmin, control_min_arcmin)
    missing = [name for name in ("source_id", "ra", "dec") if name not in catalog.colnames]
    if missing:
        raise InputDataError(f"{source}: sky masks need the column(s) {', '.join(missing)}")
    separation = separation_arcmin(catalog, ra_deg=ra_deg, dec_deg=dec_deg)
    masks = Table(
        [
            Column(np.asarray(catalog["source_id"]), name="source_id"),
            Column(separation, name="separation_arcmin", unit="arcmin"),
            Column(separation < cluster_radius_arcmin, name="in_cluster_region"),
            Column(separation > control_min_arcmin, name="in_control_field"),
        ],
        meta={
            "RA_DEG": ra_deg,
            "DEC_DEG": dec_deg,
            "R_CLUST": cluster_radius_arcmin,
            "R_CTRL": control_min_arcmin,
        },
    )
    _check_not_empty(masks, source, cluster_radius_arcmin, control_min_arcmin)
    return masks


def separation_arcmin(catalog: Table, *, ra_deg: float, dec_deg: float) -> np.ndarray:
    """Angular separation (arcmin) of each star from (ra_deg, dec_deg), via SkyCoord."""
    centre = SkyCoord(ra_deg * u.deg, dec_deg * u.deg, frame="icrs")
    stars = SkyCoord(_degrees(catalog["ra"]), _degrees(catalog["dec"]), frame="icrs")
    return centre.separation(stars).to_value(u.arcmin)


def _degrees(column: Column) -> u.Quantity:
    """A coordinate column as a Quantity in deg (deg assumed if it has no unit)."""
    values = np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)
    unit = u.deg if column.unit is None else column.unit
    return (values * unit).to(u.deg)


def _check_radii(cluster_radius_arcmin: float, control_min_arcmin: float) -> None:
    """Both radii positive and the control field outside the cluster region."""
    if cluster_radius_arcmin <= 0 or control_min_arcmin <= 0:
        raise ConfigError(
            "masks.cluster_radius_arcmin and masks.control_min_arcmin must be > 0, got "
            f"{cluster_radius_arcmin} and {control_min_arcmin}"
        )
    if control_min_arcmin < cluster_radius_arcmin:
        raise ConfigError(
            f"masks.control_min_arcmin ({control_min_arcmin}) is smaller than "
            f"masks.cluster_radius_arcmin ({cluster_radius_arcmin}): the control field "
            "would overlap the cluster region"
        )


def _check_not_empty(
    masks: Table, source: str | Path, cluster_radius_arcmin: float, control_min_arcmin: float
) -> None:
    """Raise naming the region, its radius and the file if a region holds no star."""
    separation = masks["separation_arcmin"]
    finite = separation[np.isfinite(separation)]
    span = (
        f"the stars lie {finite.min():.2f} to {finite.max():.2f} arcmin from the centre"
        if finite.size
        else "no star has a finite position"
    )
    if not masks["in_cluster_region"].any():
        raise InputDataError(
            f"{source}: the cluster region is empty: no star within "
            f"masks.cluster_radius_arcmin = {cluster_radius_arcmin} arcmin of the centre "
            f"({span}); check the centre or the radius"
        )
    if not masks["in_control_field"].any():
        raise InputDataError(
            f"{source}: the control field is empty: no star beyond "
            f"masks.control_min_arcmin = {control_min_arcmin} arcmin of the centre "
            f"({span}); lower control_min_arcmin or widen the cone"
        )


def read_catalog_with_masks(catalog_path: PathLike, masks_path: PathLike) -> Table:
    """The cleaned catalogue with the mask columns (``in_cluster_region``,
    ``in_control_field``, ``separation_arcmin``) joined on ``source_id``, in catalogue order.
    """
    catalog = Table.read(catalog_path)
    masks = Table.read(masks_path)
    ids = np.asarray(catalog["source_id"], np.int64)
    mask_ids = np.asarray(masks["source_id"], np.int64)
    order = np.argsort(mask_ids)
    position = np.searchsorted(mask_ids, ids, sorter=order).clip(0, max(len(mask_ids) - 1, 0))
    rows = order[position] if len(mask_ids) else position
    missing = len(mask_ids) == 0 or bool((mask_ids[rows] != ids).any())
    if missing:
        raise InputDataError(
            f"{masks_path}: column source_id does not cover the {len(catalog)} rows of "
            f"{catalog_path}; rerun the sky_masks rule"
        )
    for name in masks.colnames:
        if name != "source_id":
            catalog[name] = masks[name][rows]
    return catalog

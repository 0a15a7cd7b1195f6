"""What the phase-space model's posterior predictive checks compare (NumPy only).

The histogram check compares ``parallax`` (mas), ``pmra``, ``pmdec`` (mas/yr) and
``radius`` (arcmin, the tangent-plane distance from the cone centre); the fitted ``obs``
holds the first three. The replicates (:mod:`.replicate`) redraw positions from the
model's sky densities, so the local radial check uses the replicated radii.

The local checks' cluster window is an interval in parallax and an ellipse in proper
motion about the cluster's centre (the mean motion at the cluster centre; the
perspective change of the mean proper motion across the cone is ignored). Its intrinsic
spreads are those the model itself uses: the parallax depth plx a / (1 rad in arcmin)
(a: the Plummer radius) and the proper-motion dispersion sigma_v plx / 4.74047.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from clustermix.models.draws import draw_values
from clustermix.models.kinematics import ARCMIN_PER_RAD, KMS_PER_MASYR_KPC

#: The quantities the check compares, in panel order.
QUANTITIES: tuple[str, ...] = ("parallax", "pmra", "pmdec", "radius")
#: The fitted ``obs`` variable's quantities, in its column order (no radius: the model
#: conditions on each star's position).
OBS_QUANTITIES: tuple[str, ...] = ("parallax", "pmra", "pmdec")
#: The cluster window's observables, grouped (a group of two is an ellipse).
WINDOW_GROUPS: tuple[tuple[str, ...], ...] = (("parallax",), ("pmra", "pmdec"))
#: Whether the replicates redraw the stars' positions on the sky.
REPLICATES_POSITIONS = True


def observed_quantities(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The observed values (n_star,) of each of :data:`QUANTITIES`, by name: the
    astrometry (mas, mas/yr) and the tangent-plane radius hypot(xi, eta) (arcmin)."""
    radius = np.hypot(np.asarray(data["xi"], float), np.asarray(data["eta"], float))
    return {
        "parallax": np.asarray(data["parallax"], float),
        "pmra": np.asarray(data["pmra"], float),
        "pmdec": np.asarray(data["pmdec"], float),
        "radius": radius,
    }


def cluster_spread_draws(posterior: xr.Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per window observable, the draws (n_draw,) of the cluster's centre and intrinsic sd:
    parallax (mas; plus a fitted zero-point offset) with the depth plx a / ARCMIN_PER_RAD,
    proper motions (mas/yr) with the dispersion sigma_v plx / KMS_PER_MASYR_KPC."""

    def draws(name: str) -> np.ndarray:
        return np.asarray(draw_values(posterior, name), float)

    plx = draws("parallax_cl")
    depth = plx * draws("plummer_radius_arcmin") / ARCMIN_PER_RAD
    s_pm = draws("sigma_v") * plx / KMS_PER_MASYR_KPC
    # the members' observed parallaxes lie at plx_cl plus a fitted zero-point offset
    observed = plx
    if "parallax_zero_point_offset" in posterior:
        observed = plx + draws("parallax_zero_point_offset")
    return {
        "parallax": (observed, depth),
        "pmra": (draws("pmra_cl"), s_pm),
        "pmdec": (draws("pmdec_cl"), s_pm),
    }

"""What the pm_2d model's posterior predictive checks compare (NumPy only).

The histogram check compares ``pmra`` and ``pmdec`` (mas/yr), the columns of the model's
``obs``. The local checks' cluster window is an ellipse in proper motion about the
cluster's mean, whose intrinsic spread is the isotropic ``sigma_cl``; the model has no
positions, so replicates keep each star's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from clustermix.models.draws import draw_values

#: The quantities the check compares, in panel order.
QUANTITIES: tuple[str, ...] = ("pmra", "pmdec")
#: The fitted ``obs`` variable's quantities, in its column order.
OBS_QUANTITIES: tuple[str, ...] = QUANTITIES
#: The cluster window's observables, grouped (a group of two is an ellipse).
WINDOW_GROUPS: tuple[tuple[str, ...], ...] = (("pmra", "pmdec"),)
#: Whether the replicates redraw the stars' positions on the sky.
REPLICATES_POSITIONS = False


def observed_quantities(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The observed values (n_star,) of each of :data:`QUANTITIES`, by name (mas/yr)."""
    return {name: np.asarray(data[name], float) for name in QUANTITIES}


def cluster_spread_draws(posterior: xr.Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per window observable, the draws (n_draw,) of the cluster's centre and intrinsic sd
    (mas/yr): ``pmra_cl`` / ``pmdec_cl`` and, for both, ``sigma_cl``."""
    sigma = np.asarray(draw_values(posterior, "sigma_cl"), float)
    return {
        "pmra": (np.asarray(draw_values(posterior, "pmra_cl"), float), sigma),
        "pmdec": (np.asarray(draw_values(posterior, "pmdec_cl"), float), sigma),
    }

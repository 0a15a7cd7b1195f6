"""What the parallax_1d model's posterior predictive checks compare (NumPy only).

The histogram check compares ``parallax`` (mas), the model's ``obs``. The local checks'
cluster window is an interval in parallax about the cluster's, whose intrinsic spread is
``parallax_width_cl`` (0 for a model without a cluster depth); the model has no
positions, so replicates keep each star's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from clustermix.models.draws import draw_values

#: The quantities the check compares, in panel order.
QUANTITIES: tuple[str, ...] = ("parallax",)
#: The fitted ``obs`` variable's quantities, in its column order.
OBS_QUANTITIES: tuple[str, ...] = QUANTITIES
#: The cluster window's observables, grouped (a group of two is an ellipse).
WINDOW_GROUPS: tuple[tuple[str, ...], ...] = (("parallax",),)
#: Whether the replicates redraw the stars' positions on the sky.
REPLICATES_POSITIONS = False


def observed_quantities(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The observed values (n_star,) of each of :data:`QUANTITIES`, by name (mas)."""
    return {name: np.asarray(data[name], float) for name in QUANTITIES}


def cluster_spread_draws(posterior: xr.Dataset) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per window observable, the draws (n_draw,) of the cluster's centre and intrinsic sd
    (mas): ``parallax_cl`` (plus a fitted zero-point offset: where the members' observed
    parallaxes lie) and ``parallax_width_cl`` (zeros without it)."""
    centre = np.asarray(draw_values(posterior, "parallax_cl"), float)
    if "parallax_zero_point_offset" in posterior:
        centre = centre + np.asarray(draw_values(posterior, "parallax_zero_point_offset"), float)
    width = (
        np.asarray(draw_values(posterior, "parallax_width_cl"), float)
        if "parallax_width_cl" in posterior
        else np.zeros_like(centre)
    )
    return {"parallax": (centre, width)}

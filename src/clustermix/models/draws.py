"""Posterior draws as plain arrays: one variable's values with (chain, draw) flattened.

NumPy and xarray only (no PyMC), so that a model's NumPy parts (its posterior predictive
replication, its cluster window) can read a posterior without loading PyMC.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def draw_values(posterior: xr.Dataset, name: str) -> np.ndarray:
    """The values of ``name`` with (chain, draw) flattened into one leading axis:
    (n_chain * n_draw, *the variable's own shape), in the variable's own units."""
    values = posterior[name].transpose("chain", "draw", ...).values
    return values.reshape(-1, *values.shape[2:])

"""What the straight-line example's posterior predictive check compares (NumPy only).

The check compares the ordinates ``y`` (dimensionless), the model's ``obs``; the line has
no cluster, so it has no cluster window and no local checks (``WINDOW_GROUPS`` is empty).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: The quantities the check compares, in panel order.
QUANTITIES: tuple[str, ...] = ("y",)
#: The fitted ``obs`` variable's quantities, in its column order.
OBS_QUANTITIES: tuple[str, ...] = QUANTITIES
#: The cluster window's observables, grouped (none: not a cluster model).
WINDOW_GROUPS: tuple[tuple[str, ...], ...] = ()
#: Whether the replicates redraw the stars' positions on the sky.
REPLICATES_POSITIONS = False


def observed_quantities(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The observed values (n_point,) of each of :data:`QUANTITIES`, by name."""
    return {name: np.asarray(data[name], float) for name in QUANTITIES}

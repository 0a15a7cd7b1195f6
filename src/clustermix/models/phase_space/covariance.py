"""A phase-space star's 3x3 astrometric covariance (parallax in mas, proper motions in
mas/yr), as its six distinct entries in :data:`clustermix.models.gaussian3d.ENTRIES` order:
the measurement errors scaled by the error-inflation factors, and a member's covariance
with the cluster's intrinsic spread added.

Array-library agnostic (``xp``: NumPy by default, ``pytensor.tensor`` in the model), so
that the NumPy replication (:mod:`.replicate`) uses the model's own algebra without PyMC.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from clustermix.models.gaussian3d import ENTRIES


def scaled_covariance(cov_obs: Any, scale_parallax: Any, scale_pm: Any, xp: ModuleType = np) -> Any:
    """Covariance entries (..., 6) (:data:`ENTRIES` order) of the measurement errors scaled
    by diag(s_plx, s_pm, s_pm): entry (i, j) times s_i s_j. ``scale_*`` broadcast against
    ``cov_obs[..., 0]`` (e.g. one factor per star)."""
    scale = (scale_parallax, scale_pm, scale_pm)
    return xp.stack(
        [cov_obs[..., j] * (scale[a] * scale[b]) for j, (a, b) in enumerate(ENTRIES)], axis=-1
    )


def cluster_covariance(cov_obs: Any, var_cl: Any, xp: ModuleType = np) -> Any:
    """Entries (..., 6) of a member's astrometric covariance: its (scaled) measurement
    covariance ``cov_obs`` (..., 6) plus the cluster's intrinsic variances ``var_cl`` (..., 3)
    (parallax depth in mas^2, proper-motion dispersion in (mas/yr)^2) on the diagonal."""
    diagonal = {0: 0, 3: 1, 5: 2}
    return xp.stack(
        [cov_obs[..., j] + (var_cl[..., diagonal[j]] if j in diagonal else 0.0) for j in range(6)],
        axis=-1,
    )

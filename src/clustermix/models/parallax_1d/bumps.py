"""The binned parallax field's Gaussian bumps: their width, shared by the likelihood
(:mod:`.model`) and the figures' densities (:mod:`.densities`). NumPy only."""

from __future__ import annotations

import numpy as np

#: The sd of the binned field's bumps, in units of their spacing (smooth for >~ 0.5).
BUMP_SD_PER_SPACING = 0.6


def bump_sd(centres: np.ndarray) -> float:
    """The sd (mas) of the binned field's bumps at equally spaced ``centres`` (mas):
    :data:`BUMP_SD_PER_SPACING` x spacing."""
    return BUMP_SD_PER_SPACING * float(centres[1] - centres[0])

"""Projected radial profiles of star clusters in closed form, shared by the models and the
simulator (NumPy, or PyTensor through ``xp``; no PyMC).

King (1962, AJ 67, 471), his eq. (14) and (18): the surface density

    Sigma(R) = k [1 / sqrt(1 + R^2 / r_c^2) - 1 / sqrt(1 + r_t^2 / r_c^2)]^2   (R < r_t),

zero beyond the tidal radius r_t, with core radius r_c; with x = R^2 / r_c^2 and
t = (1 + r_t^2 / r_c^2)^(-1/2) the number of stars within R is

    N(R) = pi r_c^2 k [ln(1 + x) - 4 t (sqrt(1 + x) - 1) + t^2 x],

since d/dx of the bracket is (1 / sqrt(1 + x) - t)^2 and dN = 2 pi R Sigma dR; N(R) stays
at N(r_t) for R > r_t. Radii in any one angular unit (arcmin in the models).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def king_enclosed(r: Any, core: Any, tidal: Any, xp: Any = np) -> Any:
    """King's N(R) / (pi r_c^2 k): the stars within projected radius ``r`` of a King (1962)
    profile with core radius ``core`` and tidal radius ``tidal`` (one angular unit, e.g.
    arcmin), in units of the central surface density times pi r_c^2; radii beyond the
    tidal radius count as the tidal radius. ``xp``: ``numpy`` or ``pytensor.tensor``."""
    x = (xp.minimum(r, tidal) / core) ** 2
    t = 1.0 / xp.sqrt(1.0 + (tidal / core) ** 2)
    return xp.log1p(x) - 4.0 * t * (xp.sqrt(1.0 + x) - 1.0) + t**2 * x


def king_profile(r: Any, core: Any, tidal: Any, xp: Any = np) -> Any:
    """King's Sigma(R) / k = (1 / sqrt(1 + R^2 / r_c^2) - 1 / sqrt(1 + r_t^2 / r_c^2))^2
    for R < r_t, 0 beyond (radii in one angular unit); so that
    2 pi int_0^R Sigma R' dR' / k = pi r_c^2 :func:`king_enclosed`."""
    t = 1.0 / xp.sqrt(1.0 + (tidal / core) ** 2)
    inner = 1.0 / xp.sqrt(1.0 + (r / core) ** 2) - t
    return xp.where(r < tidal, inner**2, 0.0)

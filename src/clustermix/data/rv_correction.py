"""Gaia DR3 radial velocities: the faint-star offset and the uncertainty underestimate.

Two published corrections, applied by the cleaning step (:func:`radial_velocity_corrections`)
and undone by the simulator, so that a simulated catalogue carries what a real one does:

- **Offset** (Katz et al. 2023, A&A 674, A5): the radial velocities of
  stars fainter than G_RVS = 11 mag are too large by an amount that grows with G_RVS; the
  corrected value is

      v_corr = v - 0.02755 G_RVS^2 + 0.55863 G_RVS - 2.81129   (km/s, G_RVS >= 11),

  unchanged for G_RVS < 11 (the polynomial is zero at 11: -0.39 km/s at 14).
- **Uncertainty** (Babusiaux et al. 2023, A&A 674, A32): ``radial_velocity_error``
  is multiplied by

      k = 0.318 + 0.3884 G_RVS - 0.02778 G_RVS^2    for G_RVS < 12,
      k = 16.554 - 2.4899 G_RVS + 0.09933 G_RVS^2   for G_RVS >= 12

  (the two branches meet at 12: k = 0.98; k = 1.65 at G_RVS = 8 and 1.16 at 14).

G_RVS is the catalogue's ``grvs_mag`` where it has one; elsewhere it is estimated from
G_RP and BP-RP with Sartoretti et al. (2023, A&A 674, A6, eq. 2). A star with neither
keeps its published value (it is counted). Hot stars have an offset of their own (Blomme
et al. 2023, A&A 674, A7), which is not applied here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Katz et al. (2023): coefficients of G_RVS^2, G_RVS and 1 (km/s) of the offset
#: added to the published RV for G_RVS >= :data:`OFFSET_MIN_GRVS_MAG`.
KATZ_OFFSET_COEFFICIENTS = (-0.02755, 0.55863, -2.81129)
OFFSET_MIN_GRVS_MAG = 11.0
#: Babusiaux et al. (2023): coefficients of 1, G_RVS and G_RVS^2 of the factor on
#: ``radial_velocity_error`` below and above :data:`ERROR_BRANCH_GRVS_MAG`.
ERROR_FACTOR_BRIGHT = (0.318, 0.3884, -0.02778)
ERROR_FACTOR_FAINT = (16.554, -2.4899, 0.09933)
ERROR_BRANCH_GRVS_MAG = 12.0
#: Sartoretti et al. (2023), eq. 2: G_RVS - G_RP = c0 + c1 c + c2 c^2 + c3 c^3, c = BP-RP
#: clipped to the relation's range.
GRVS_MINUS_RP_COEFFICIENTS = (-0.0397, -0.2852, -0.0330, -0.0867)
GRVS_COLOUR_RANGE_MAG = (-0.15, 1.2)


def rv_offset_kms(grvs_mag: np.ndarray) -> np.ndarray:
    """The Katz et al. (2023) offset (km/s) to add to a published RV: 0 below G_RVS = 11
    and for unknown G_RVS (NaN), negative above."""
    g = np.asarray(grvs_mag, dtype=np.float64)
    a, b, c = KATZ_OFFSET_COEFFICIENTS
    faint = np.isfinite(g) & (g >= OFFSET_MIN_GRVS_MAG)
    return np.where(faint, a * g**2 + b * g + c, 0.0)


def rv_error_factor(grvs_mag: np.ndarray) -> np.ndarray:
    """The Babusiaux et al. (2023) factor on ``radial_velocity_error``; 1 for unknown G_RVS."""
    g = np.asarray(grvs_mag, dtype=np.float64)
    bright = np.polynomial.polynomial.polyval(g, ERROR_FACTOR_BRIGHT)
    faint = np.polynomial.polynomial.polyval(g, ERROR_FACTOR_FAINT)
    factor = np.where(g < ERROR_BRANCH_GRVS_MAG, bright, faint)
    return np.where(np.isfinite(g), factor, 1.0)


def grvs_from_rp(rp_mag: np.ndarray, bp_rp: np.ndarray) -> np.ndarray:
    """G_RVS (mag) from G_RP (mag) and BP-RP (mag), Sartoretti et al. (2023) eq. 2, the
    colour clipped to [-0.15, 1.2]; NaN where either is unknown."""
    colour = np.clip(np.asarray(bp_rp, dtype=np.float64), *GRVS_COLOUR_RANGE_MAG)
    return np.asarray(rp_mag, dtype=np.float64) + np.polynomial.polynomial.polyval(
        colour, GRVS_MINUS_RP_COEFFICIENTS
    )


@dataclass(frozen=True)
class RvCorrection:
    """Per star, the offset to add to the RV (km/s) and the factor on its uncertainty (NaN
    where there is no RV); and the counts for the summary."""

    offset_kms: np.ndarray
    error_factor: np.ndarray
    n_with_rv: int
    n_offset: int
    n_grvs_estimated: int
    n_without_grvs: int


def radial_velocity_corrections(
    rv_kms: np.ndarray,
    grvs_mag: np.ndarray | None,
    rp_mag: np.ndarray,
    bp_rp: np.ndarray,
) -> RvCorrection:
    """The offset and the uncertainty factor of every star that has an RV: corrected RV =
    ``rv_kms`` + offset (km/s), corrected uncertainty = published uncertainty * factor.

    ``grvs_mag`` is the catalogue's column (None if it has none); where it is NaN, G_RVS is
    estimated from ``rp_mag`` and ``bp_rp`` (:func:`grvs_from_rp`).
    """
    rv = np.asarray(rv_kms, dtype=np.float64)
    has_rv = np.isfinite(rv)
    published = np.full(len(rv), np.nan) if grvs_mag is None else np.asarray(grvs_mag, np.float64)
    estimate = has_rv & ~np.isfinite(published)
    grvs = np.where(estimate, grvs_from_rp(rp_mag, bp_rp), published)
    grvs = np.where(has_rv, grvs, np.nan)
    offset = rv_offset_kms(grvs)
    factor = rv_error_factor(grvs)
    return RvCorrection(
        offset_kms=np.where(has_rv, offset, np.nan),
        error_factor=np.where(has_rv, factor, np.nan),
        n_with_rv=int(has_rv.sum()),
        n_offset=int((has_rv & (offset != 0.0)).sum()),
        n_grvs_estimated=int((estimate & np.isfinite(grvs)).sum()),
        n_without_grvs=int((has_rv & ~np.isfinite(grvs)).sum()),
    )

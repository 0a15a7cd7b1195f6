"""Stellar photometry for the simulator: luminosity functions, colours, Gaia passbands.

Piecewise-linear approximations, good to a few tenths of a magnitude, of:

- the solar-neighbourhood luminosity function in absolute G, split into dwarfs and giants
  (shape after Jahreiss & Wielen 1997, giants peaking at the red clump);
- the main-sequence and red-giant-branch intrinsic colour BP-RP as functions of absolute G;
- a ~2.4 Gyr, near-solar-metallicity cluster sequence (NGC 6819): main sequence up to a
  turnoff at M_G = 3.0, subgiant branch, red giant branch and red clump at M_G = 0.45;
- Gaia passband relations (G - G_RP, G_RVS - G_RP of Sartoretti et al. 2023, nu_eff of
  Lindegren et al. 2021) and the extinction ratios of Wang & Chen (2019).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

#: Extinction in the Gaia bands per unit A_V (Wang & Chen 2019).
A_G_PER_AV = 0.789
A_BP_PER_AV = 1.002
A_RP_PER_AV = 0.589

LF_DESCRIPTION = (
    "solar-neighbourhood dwarf + giant luminosity functions in M_G (piecewise linear in "
    "log10 phi), old populations cut at their turnoff"
)

#: Absolute-magnitude grid of the luminosity functions (mag).
M_GRID = np.linspace(-4.0, 16.0, 2001)
#: Dwarfs: (M_G mag, log10 stars pc^-3 mag^-1).
_DWARF_LF = np.array(
    [
        (-4.0, -7.2),
        (-2.0, -5.7),
        (0.0, -4.3),
        (2.0, -3.2),
        (3.0, -2.8),
        (4.0, -2.5),
        (5.0, -2.35),
        (7.0, -2.25),
        (10.0, -2.1),
        (13.0, -2.0),
        (14.0, -2.1),
        (16.0, -2.6),
    ]
)
#: Giants: red giant branch with the red clump bump at M_G 0.3 to 0.8.
_GIANT_LF = np.array(
    [
        (-4.0, -7.0),
        (-2.0, -5.8),
        (0.0, -4.7),
        (0.2, -4.2),
        (0.4, -3.8),
        (0.7, -3.8),
        (0.9, -4.3),
        (1.2, -4.7),
        (3.5, -5.0),
        (4.0, -7.0),
        (16.0, -12.0),
    ]
)
#: Main sequence intrinsic colour: (M_G mag, BP-RP mag).
_MS_COLOUR = np.array(
    [
        (-4.0, -0.30),
        (-2.0, -0.20),
        (0.0, 0.00),
        (1.0, 0.12),
        (2.0, 0.35),
        (3.0, 0.55),
        (4.0, 0.70),
        (4.7, 0.82),
        (5.5, 0.98),
        (6.5, 1.25),
        (7.5, 1.60),
        (8.5, 1.95),
        (9.5, 2.30),
        (10.5, 2.60),
        (12.0, 3.10),
        (14.0, 3.90),
        (16.0, 4.50),
    ]
)
#: Red giant branch intrinsic colour: (M_G mag, BP-RP mag), from its base to its tip.
_RGB_COLOUR = np.array(
    [
        (-4.0, 2.60),
        (-2.8, 2.05),
        (-2.0, 1.75),
        (-1.0, 1.48),
        (0.0, 1.30),
        (1.0, 1.18),
        (2.0, 1.10),
        (3.2, 1.04),
        (4.0, 1.00),
    ]
)

# Cluster sequence of a ~2.4 Gyr near-solar-metallicity cluster (absolute G, intrinsic BP-RP).
CLUSTER_TURNOFF_MAG = 3.0
CLUSTER_MS_FAINT_MAG = 12.0
#: Luminosity-function slope of the cluster main sequence: dN/dM_G ~ 10^(0.13 M_G), from a
#: Salpeter mass function and L ~ m^4.
CLUSTER_MS_SLOPE = 0.13
#: Evolved stars per main-sequence star with M_G < 7.5 (NGC 6819 has ~20-30 clump stars).
CLUSTER_EVOLVED_FRACTIONS = {"SGB": 0.02, "RGB": 0.012, "RC": 0.012}
CLUSTER_RGB_TIP_MAG = -2.8
CLUSTER_RGB_BASE_MAG = 3.2
CLUSTER_RGB_SLOPE = 0.3
CLUSTER_RC_MAG = (0.45, 0.08)
CLUSTER_RC_COLOUR = (1.18, 0.025)
CLUSTER_BINARY_FRACTION = 0.3
_MS_COLOUR_SCATTER = 0.02
_FIELD_COLOUR_SCATTER = {False: 0.04, True: 0.05}


def _interp_knots(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Linear interpolation in a (x, y) knot table, constant beyond its ends."""
    return np.interp(x, knots[:, 0], knots[:, 1])


@dataclass(frozen=True)
class LuminosityFunction:
    """A dwarf + giant luminosity function on :data:`M_GRID` (stars pc^-3 mag^-1).

    ``cumulative`` is the number per pc^3 brighter than each grid magnitude.
    """

    dwarfs: np.ndarray
    giants: np.ndarray
    cumulative: np.ndarray

    @classmethod
    def for_population(cls, turnoff_mag: float | None) -> LuminosityFunction:
        """The local luminosity function, with dwarfs brighter than ``turnoff_mag`` removed.

        An old population's main sequence ends at its turnoff: dwarfs are multiplied by a
        logistic step of width 0.15 mag at ``turnoff_mag`` (None: no cut).
        """
        dwarfs = 10.0 ** _interp_knots(M_GRID, _DWARF_LF)
        giants = 10.0 ** _interp_knots(M_GRID, _GIANT_LF)
        if turnoff_mag is not None:
            dwarfs = dwarfs / (1.0 + np.exp(-(M_GRID - turnoff_mag) / 0.15))
        total = dwarfs + giants
        step = np.diff(M_GRID)
        cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (total[1:] + total[:-1]) * step)])
        return cls(dwarfs, giants, cumulative)

    def cumulative_at(self, m_limit: np.ndarray) -> np.ndarray:
        """Stars per pc^3 brighter than ``m_limit`` (absolute G, mag)."""
        return np.interp(m_limit, M_GRID, self.cumulative, left=0.0)

    def sample(self, rng: np.random.Generator, m_limit: np.ndarray) -> tuple[np.ndarray, ...]:
        """Absolute G (mag) brighter than ``m_limit``, and whether each star is a giant."""
        u = rng.random(len(m_limit)) * self.cumulative_at(m_limit)
        abs_g = np.interp(u, self.cumulative, M_GRID)
        p_giant = np.interp(abs_g, M_GRID, self.giants / (self.dwarfs + self.giants))
        return abs_g, rng.random(len(m_limit)) < p_giant


def field_colour(
    rng: np.random.Generator, abs_g: np.ndarray, giant: np.ndarray, shift_mag: float
) -> np.ndarray:
    """Intrinsic BP-RP (mag) of field dwarfs and giants, with a population shift and scatter."""
    colour = np.where(giant, _interp_knots(abs_g, _RGB_COLOUR), _interp_knots(abs_g, _MS_COLOUR))
    scatter = np.where(giant, _FIELD_COLOUR_SCATTER[True], _FIELD_COLOUR_SCATTER[False])
    return colour + shift_mag + scatter * rng.standard_normal(len(abs_g))


def _truncated_exponential(
    rng: np.random.Generator, n: int, slope: float, lo: float, hi: float
) -> np.ndarray:
    """Draws from p(M) ~ 10^(slope M) on [lo, hi] by inverse CDF."""
    k = slope * np.log(10.0)
    e_lo, e_hi = np.exp(k * lo), np.exp(k * hi)
    return np.log(e_lo + rng.random(n) * (e_hi - e_lo)) / k


def _exponential_mass(slope: float, lo: float, hi: float) -> float:
    """Integral of 10^(slope M) over [lo, hi] (0 if hi <= lo)."""
    if hi <= lo:
        return 0.0
    k = slope * np.log(10.0)
    return float((np.exp(k * hi) - np.exp(k * lo)) / k)


def cluster_phase_weights(m_limit: float) -> dict[str, float]:
    """Relative numbers of cluster stars per phase brighter than absolute G ``m_limit``."""
    ms_hi = min(m_limit, CLUSTER_MS_FAINT_MAG)
    reference = _exponential_mass(CLUSTER_MS_SLOPE, CLUSTER_TURNOFF_MAG, 7.5)
    rgb_all = _exponential_mass(CLUSTER_RGB_SLOPE, CLUSTER_RGB_TIP_MAG, CLUSTER_RGB_BASE_MAG)
    rgb_hi = min(m_limit, CLUSTER_RGB_BASE_MAG)
    sgb_lo, sgb_hi = _sgb_magnitudes(np.array([0.0, 1.0]))[0]
    mean, width = CLUSTER_RC_MAG
    return {
        "MS": _exponential_mass(CLUSTER_MS_SLOPE, CLUSTER_TURNOFF_MAG, ms_hi) / reference,
        "SGB": CLUSTER_EVOLVED_FRACTIONS["SGB"]
        * float(np.clip((m_limit - sgb_lo) / (sgb_hi - sgb_lo), 0.0, 1.0)),
        "RGB": CLUSTER_EVOLVED_FRACTIONS["RGB"]
        * _exponential_mass(CLUSTER_RGB_SLOPE, CLUSTER_RGB_TIP_MAG, rgb_hi)
        / rgb_all,
        "RC": CLUSTER_EVOLVED_FRACTIONS["RC"] * float(ndtr((m_limit - mean) / width)),
    }


def _sgb_magnitudes(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Subgiant branch from the turnoff (t = 0) to the base of the RGB (t = 1): (M_G, BP-RP)."""
    return 2.85 + 0.35 * t, 0.62 + 0.42 * t


def sample_cluster_sequence(
    rng: np.random.Generator, n: int, m_limit: float
) -> dict[str, np.ndarray]:
    """Absolute G and intrinsic BP-RP (mag) of ``n`` cluster stars brighter than ``m_limit``.

    Returns ``abs_g``, ``bp_rp0`` and ``phase`` (``MS``, ``SGB``, ``RGB`` or ``RC``).
    Main-sequence stars are unresolved binaries with probability
    :data:`CLUSTER_BINARY_FRACTION` (flux ratio q^4, q uniform in [0.1, 1]).
    """
    weights = cluster_phase_weights(m_limit)
    names = np.array(list(weights))
    p = np.array(list(weights.values()))
    phase = names[rng.choice(len(names), size=n, p=p / p.sum())]
    abs_g = np.empty(n)
    colour = np.empty(n)

    ms = phase == "MS"
    abs_g[ms] = _truncated_exponential(
        rng, ms.sum(), CLUSTER_MS_SLOPE, CLUSTER_TURNOFF_MAG, min(m_limit, CLUSTER_MS_FAINT_MAG)
    )
    colour[ms] = _interp_knots(abs_g[ms], _MS_COLOUR)
    colour[ms] += _MS_COLOUR_SCATTER * rng.standard_normal(ms.sum())
    binary = ms & (rng.random(n) < CLUSTER_BINARY_FRACTION)
    q = rng.uniform(0.1, 1.0, n)
    abs_g[binary] -= 2.5 * np.log10(1.0 + q[binary] ** 4)

    sgb = phase == "SGB"
    sgb_lo, sgb_hi = _sgb_magnitudes(np.array([0.0, 1.0]))[0]
    t_max = np.clip((m_limit - sgb_lo) / (sgb_hi - sgb_lo), 0.0, 1.0)
    abs_g[sgb], colour[sgb] = _sgb_magnitudes(t_max * rng.random(sgb.sum()))

    rgb = phase == "RGB"
    rgb_hi = min(m_limit, CLUSTER_RGB_BASE_MAG)
    abs_g[rgb] = _truncated_exponential(
        rng, rgb.sum(), CLUSTER_RGB_SLOPE, CLUSTER_RGB_TIP_MAG, rgb_hi
    )
    colour[rgb] = _interp_knots(abs_g[rgb], _RGB_COLOUR)

    rc = phase == "RC"
    mean, width = CLUSTER_RC_MAG
    upper = ndtr((m_limit - mean) / width)
    abs_g[rc] = mean + width * ndtri(rng.random(rc.sum()) * upper)
    colour[rc] = CLUSTER_RC_COLOUR[0] + CLUSTER_RC_COLOUR[1] * rng.standard_normal(rc.sum())

    evolved = ~ms
    colour[evolved] += _MS_COLOUR_SCATTER * rng.standard_normal(evolved.sum())
    return {"abs_g": abs_g, "bp_rp0": colour, "phase": phase}


def g_minus_rp(bp_rp: np.ndarray) -> np.ndarray:
    """G - G_RP (mag) as a function of BP-RP (mag); quadratic fit to typical dwarfs."""
    c = np.clip(bp_rp, -0.5, 5.0)
    return 0.02 + 0.62 * c - 0.06 * c**2


def nu_eff_from_colour(bp_rp: np.ndarray) -> np.ndarray:
    """Effective wavenumber (1/um) used in Gaia DR3 5-parameter astrometry (Lindegren et al.
    2021, eq. 3), clipped to [1.24, 1.72]."""
    nu = 1.76 - (1.61 / np.pi) * np.arctan(0.531 * np.asarray(bp_rp))
    return np.clip(nu, 1.24, 1.72)


def photometric_errors(g_mag: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaia DR3-like uncertainties (mag) of G, BP and RP mean magnitudes at magnitude G."""
    faint = 10.0 ** (0.4 * (np.asarray(g_mag) - 19.0))
    sigma_g = 3e-4 + 2.5e-3 * faint
    sigma_bp = 2e-3 + 0.04 * faint
    return sigma_g, sigma_bp, 0.8 * sigma_bp


def colour_error(g_mag: np.ndarray) -> np.ndarray:
    """Uncertainty (mag) of BP - RP at magnitude G: the BP and RP errors of
    :func:`photometric_errors` in quadrature (independent noise, as the simulator adds it).
    About 0.05 mag at G = 19 and 0.13 mag at G = 20, of the order of Gaia DR3's (Riello et
    al. 2021); used by the phase-space model's colour-magnitude term for simulated and real
    catalogues alike."""
    _, sigma_bp, sigma_rp = photometric_errors(g_mag)
    return np.hypot(sigma_bp, sigma_rp)

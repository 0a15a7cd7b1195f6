"""Gaia DR3-like measurement model: uncertainties, correlations, solution types, RVs, ids.

Median astrometric uncertainties follow Lindegren et al. (2021, A&A 649, A2): log-linear
interpolation between their quoted values (parallax 0.02-0.03 mas at G < 15, 0.07 mas at
G = 17, 0.5 mas at G = 20, 1.3 mas at G = 21; proper motions the same in mas/yr but 1.4 at
G = 21; positions 0.01-0.02, 0.05, 0.4, 1.0 mas). Each star scatters around the median with
its number of visibility periods and a log-normal factor. Correlations between the five
astrometric parameters come from a random positive-definite matrix per star (a field-wide
pattern, as Gaia's scanning law makes it, plus star-to-star scatter); the observed astrometry
is drawn from the full 5x5 covariance.
"""

from __future__ import annotations

import numpy as np
from zero_point import zpt

#: Order of the astrometric parameters in the covariance arrays.
ASTROMETRIC_PARAMETERS = ("ra", "dec", "parallax", "pmra", "pmdec")
#: Catalogue correlation columns and their (row, column) in the 5x5 matrix.
CORRELATION_COLUMNS: dict[str, tuple[int, int]] = {
    "ra_dec_corr": (0, 1),
    "ra_parallax_corr": (0, 2),
    "ra_pmra_corr": (0, 3),
    "ra_pmdec_corr": (0, 4),
    "dec_parallax_corr": (1, 2),
    "dec_pmra_corr": (1, 3),
    "dec_pmdec_corr": (1, 4),
    "parallax_pmra_corr": (2, 3),
    "parallax_pmdec_corr": (2, 4),
    "pmra_pmdec_corr": (3, 4),
}

#: (G mag, median uncertainty): positions in mas, parallax in mas, proper motions in mas/yr.
POSITION_ERROR_KNOTS = np.array(
    [(3.0, 0.020), (12.0, 0.012), (15.0, 0.018), (17.0, 0.05), (20.0, 0.4), (21.0, 1.0)]
)
PARALLAX_ERROR_KNOTS = np.array(
    [(3.0, 0.025), (12.0, 0.020), (15.0, 0.025), (17.0, 0.07), (20.0, 0.5), (21.0, 1.3)]
)
PM_ERROR_KNOTS = np.array(
    [(3.0, 0.028), (12.0, 0.020), (15.0, 0.025), (17.0, 0.07), (20.0, 0.5), (21.0, 1.4)]
)
#: Log-normal star-to-star scatter of the uncertainties (natural log): common and per parameter.
ERROR_SCATTER_COMMON = 0.08
ERROR_SCATTER_EACH = 0.05
#: Correlation model: per-star factor matrix W = W_field + N(0, s_star); C ~ W W^T + I.
CORRELATION_FIELD_SCALE = 0.35
CORRELATION_STAR_SCALE = 0.3
#: RUWE: log-normal core (width in natural log) and a tail of poorly fitted sources.
RUWE_CORE_WIDTH = 0.06
RUWE_TAIL_FRACTION = 0.05
RUWE_TAIL = (1.1, 0.9)
#: Global parallax zero point (mas, Lindegren et al. 2021) where the recipe is not valid,
#: and the recipe's validity ranges (open intervals): G (mag), nu_eff and pseudocolour (1/um).
ZERO_POINT_GLOBAL_MAS = -0.017
ZPT_G_RANGE_MAG = (6.0, 21.0)
ZPT_NU_EFF_RANGE = (1.1, 1.9)
ZPT_PSEUDOCOLOUR_RANGE = (1.24, 1.72)
FIVE_PARAMETER_SOLUTION = 31
SIX_PARAMETER_SOLUTION = 95
#: Radial velocities: published for G_RVS below this (mag; 12 for hot stars), Katz et al. 2023.
RVS_LIMIT_MAG = 14.0
RVS_LIMIT_HOT_MAG = 12.0
RVS_COMPLETENESS = 0.92
MAS_PER_DEG = 3.6e6


def _loglinear(g_mag: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Log-linear interpolation in a (G, sigma) table: flat below the first knot, the last
    segment's slope beyond the last."""
    g = np.asarray(g_mag, dtype=float)
    log_sigma = np.log10(knots[:, 1])
    inside = np.interp(g, knots[:, 0], log_sigma)
    slope = (log_sigma[-1] - log_sigma[-2]) / (knots[-1, 0] - knots[-2, 0])
    beyond = log_sigma[-1] + slope * (g - knots[-1, 0])
    return 10.0 ** np.where(g > knots[-1, 0], beyond, inside)


def median_parallax_error(g_mag: np.ndarray) -> np.ndarray:
    """Median Gaia DR3 parallax uncertainty (mas) at magnitude G (mag)."""
    return _loglinear(g_mag, PARALLAX_ERROR_KNOTS)


def median_pm_error(g_mag: np.ndarray) -> np.ndarray:
    """Median Gaia DR3 proper-motion uncertainty (mas/yr, each component) at magnitude G."""
    return _loglinear(g_mag, PM_ERROR_KNOTS)


def median_position_error(g_mag: np.ndarray) -> np.ndarray:
    """Median Gaia DR3 position uncertainty (mas, each component) at magnitude G."""
    return _loglinear(g_mag, POSITION_ERROR_KNOTS)


def typical_visibility_periods(g_mag: np.ndarray) -> np.ndarray:
    """Mean number of visibility periods at magnitude G: 22, fewer for G > 19."""
    return 22.0 - 1.5 * np.clip(np.asarray(g_mag) - 19.0, 0.0, None)


def draw_visibility_periods(rng: np.random.Generator, g_mag: np.ndarray) -> np.ndarray:
    """Visibility periods used (int16, 10 to 30)."""
    mean = typical_visibility_periods(g_mag)
    draws = np.rint(mean + 3.0 * rng.standard_normal(len(mean)))
    return np.clip(draws, 10, 30).astype(np.int16)


def draw_uncertainties(
    rng: np.random.Generator, g_mag: np.ndarray, visibility_periods: np.ndarray
) -> np.ndarray:
    """Uncertainties of (ra*, dec, parallax, pmra*, pmdec), shape (n, 5), float32.

    Units mas, mas, mas, mas/yr, mas/yr. Median relation at G times
    sqrt(typical / used visibility periods) times log-normal scatter.
    """
    n = len(g_mag)
    medians = np.stack(
        [
            median_position_error(g_mag),
            median_position_error(g_mag),
            median_parallax_error(g_mag),
            median_pm_error(g_mag),
            median_pm_error(g_mag),
        ],
        axis=1,
    )
    periods = np.sqrt(typical_visibility_periods(g_mag) / visibility_periods)
    common = np.exp(ERROR_SCATTER_COMMON * rng.standard_normal(n))
    each = np.exp(ERROR_SCATTER_EACH * rng.standard_normal((n, 5)))
    return (medians * (periods * common)[:, None] * each).astype(np.float32)


def draw_correlations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Correlation matrices of the five astrometric parameters, shape (n, 5, 5), float32.

    C_i = D^-1/2 (W_i W_i^T + I) D^-1/2 with W_i = W_field + N(0, s_star), so every matrix is
    positive definite (smallest eigenvalue >= 1 / max diagonal) and, rounded to float32 as
    the catalogue stores it, still is. Typical |rho| ~ 0.2, rarely above 0.6.
    """
    w_field = CORRELATION_FIELD_SCALE * rng.standard_normal((5, 5))
    w = w_field + CORRELATION_STAR_SCALE * rng.standard_normal((n, 5, 5))
    cov = w @ np.swapaxes(w, 1, 2) + np.eye(5)
    scale = 1.0 / np.sqrt(np.einsum("nii->ni", cov))
    corr = cov * scale[:, :, None] * scale[:, None, :]
    corr[:, np.arange(5), np.arange(5)] = 1.0
    return corr.astype(np.float32)


def covariance(errors: np.ndarray, corr: np.ndarray) -> np.ndarray:
    """Covariance matrices (n, 5, 5) from uncertainties (n, 5) and correlations (n, 5, 5)."""
    sigma = errors.astype(np.float64)
    return corr.astype(np.float64) * sigma[:, :, None] * sigma[:, None, :]


def correlated_noise(rng: np.random.Generator, cov: np.ndarray) -> np.ndarray:
    """One draw per star from N(0, cov_i), shape (n, k), via batched Cholesky factors."""
    chol = np.linalg.cholesky(cov)
    z = rng.standard_normal(cov.shape[:2])
    return np.einsum("nij,nj->ni", chol, z)


def draw_ruwe(rng: np.random.Generator, n: int) -> np.ndarray:
    """RUWE (float32): log-normal around 1.0 plus a tail (about 3.5 % above 1.4)."""
    ruwe = np.exp(RUWE_CORE_WIDTH * rng.standard_normal(n))
    tail = rng.random(n) < RUWE_TAIL_FRACTION
    ruwe[tail] = RUWE_TAIL[0] + rng.exponential(RUWE_TAIL[1], tail.sum())
    return ruwe.astype(np.float32)


def draw_solution_type(
    rng: np.random.Generator, g_mag: np.ndarray, has_colour: np.ndarray
) -> np.ndarray:
    """astrometric_params_solved (int16): 31 (5-parameter) or 95 (6-parameter).

    Six-parameter solutions for every star without a BP-RP colour and, increasingly towards
    the faint end, for others: P(6p) = 0.03 + 0.6 / (1 + exp(-(G - 19.8) / 0.5)).
    """
    p_six = 0.03 + 0.6 / (1.0 + np.exp(-(np.asarray(g_mag) - 19.8) / 0.5))
    six = ~has_colour | (rng.random(len(g_mag)) < p_six)
    return np.where(six, SIX_PARAMETER_SOLUTION, FIVE_PARAMETER_SOLUTION).astype(np.int16)


def draw_pseudocolour(
    rng: np.random.Generator, nu_eff_true: np.ndarray, g_mag: np.ndarray
) -> np.ndarray:
    """Pseudocolour (1/um) of 6-parameter solutions: the true nu_eff plus noise growing with G
    (0.01 at G = 17, ~0.06 at G = 20), kept strictly inside the zero-point recipe's range."""
    sigma = 0.004 + 0.02 * 10.0 ** (0.4 * (np.asarray(g_mag) - 18.8))
    noisy = nu_eff_true + sigma * rng.standard_normal(len(g_mag))
    lo, hi = ZPT_PSEUDOCOLOUR_RANGE
    return np.clip(noisy, lo + 1e-3, hi - 1e-3)


def parallax_zero_point(
    g_mag: np.ndarray,
    nu_eff: np.ndarray,
    pseudocolour: np.ndarray,
    ecl_lat_deg: np.ndarray,
    params_solved: np.ndarray,
) -> np.ndarray:
    """Gaia DR3 parallax zero point (mas): the Lindegren et al. (2021) recipe (package
    ``gaiadr3-zeropoint``) where valid, :data:`ZERO_POINT_GLOBAL_MAS` elsewhere.

    The observed parallax is the true one plus this value (the user subtracts it).
    """
    five = params_solved == FIVE_PARAMETER_SOLUTION
    colour = np.where(five, nu_eff, pseudocolour)
    colour_range = np.where(five[:, None], ZPT_NU_EFF_RANGE, ZPT_PSEUDOCOLOUR_RANGE)
    valid = (
        (g_mag > ZPT_G_RANGE_MAG[0])
        & (g_mag < ZPT_G_RANGE_MAG[1])
        & (colour > colour_range[:, 0])
        & (colour < colour_range[:, 1])
        & np.isin(params_solved, (FIVE_PARAMETER_SOLUTION, SIX_PARAMETER_SOLUTION))
    )
    result = np.full(len(g_mag), ZERO_POINT_GLOBAL_MAS)
    if valid.any():
        zpt.load_tables()
        result[valid] = zpt.get_zpt(
            np.asarray(g_mag, float)[valid],
            np.asarray(nu_eff, float)[valid],
            np.asarray(pseudocolour, float)[valid],
            np.asarray(ecl_lat_deg, float)[valid],
            np.asarray(params_solved)[valid],
        )
    return result


def rv_availability(rng: np.random.Generator, g_rvs: np.ndarray, bp_rp: np.ndarray) -> np.ndarray:
    """Whether Gaia DR3 publishes a radial velocity: G_RVS below 14 (12 for BP-RP < 0.5),
    with 92 % completeness and a 0.1 mag soft edge; never without a colour."""
    limit = np.where(bp_rp < 0.5, RVS_LIMIT_HOT_MAG, RVS_LIMIT_MAG)
    with np.errstate(invalid="ignore", over="ignore"):
        p = RVS_COMPLETENESS / (1.0 + np.exp((g_rvs - limit) / 0.1))
    return np.isfinite(g_rvs) & (rng.random(len(g_rvs)) < np.nan_to_num(p))


def rv_uncertainty(rng: np.random.Generator, g_rvs: np.ndarray, bp_rp: np.ndarray) -> np.ndarray:
    """Radial-velocity uncertainty (km/s): 0.5 + 5.5 exp((G_RVS - 14) / 1.2), i.e. ~1.5 at
    G_RVS = 12 and 6 at 14, doubled for hot stars (BP-RP < 0.5), log-normal scatter 0.2."""
    base = 0.5 + 5.5 * np.exp((np.asarray(g_rvs) - RVS_LIMIT_MAG) / 1.2)
    hot = np.where(np.asarray(bp_rp) < 0.5, 2.0, 1.0)
    return base * hot * np.exp(0.2 * rng.standard_normal(len(base)))


def _spread_bits(v: np.ndarray, n_bits: int) -> np.ndarray:
    """Interleave zeros between the bits of ``v``: bit k moves to bit 2k."""
    out = np.zeros_like(v)
    for k in range(n_bits):
        out |= ((v >> k) & 1) << (2 * k)
    return out


def healpix_nested(ra_deg: np.ndarray, dec_deg: np.ndarray, order: int = 12) -> np.ndarray:
    """HEALPix nested pixel index (int64) of ICRS positions at ``order`` (Gorski et al. 2005).

    Gaia source_id is this index at order 12 times 2^35 plus a running number.
    """
    nside = 1 << order
    z = np.sin(np.radians(dec_deg))
    za = np.abs(z)
    tt = np.mod(np.radians(ra_deg) / (0.5 * np.pi), 4.0)
    # Equatorial belt, |z| <= 2/3.
    temp1 = nside * (0.5 + tt)
    temp2 = nside * z * 0.75
    jp = (temp1 - temp2).astype(np.int64)
    jm = (temp1 + temp2).astype(np.int64)
    ifp, ifm = jp >> order, jm >> order
    face_eq = np.where(ifp == ifm, ifp | 4, np.where(ifp < ifm, ifp, ifm + 8))
    ix_eq = jm & (nside - 1)
    iy_eq = nside - (jp & (nside - 1)) - 1
    # Polar caps, |z| > 2/3.
    ntt = np.minimum(3, tt.astype(np.int64))
    tp = tt - ntt
    tmp = nside * np.sqrt(3.0 * (1.0 - za))
    jp_p = np.minimum((tp * tmp).astype(np.int64), nside - 1)
    jm_p = np.minimum(((1.0 - tp) * tmp).astype(np.int64), nside - 1)
    north = z >= 0
    face_p = np.where(north, ntt, ntt + 8)
    ix_p = np.where(north, nside - jm_p - 1, jp_p)
    iy_p = np.where(north, nside - jp_p - 1, jm_p)
    equatorial = za <= 2.0 / 3.0
    face = np.where(equatorial, face_eq, face_p).astype(np.int64)
    ix = np.where(equatorial, ix_eq, ix_p).astype(np.int64)
    iy = np.where(equatorial, iy_eq, iy_p).astype(np.int64)
    return (face << (2 * order)) + _spread_bits(ix, order) + (_spread_bits(iy, order) << 1)


def make_source_ids(
    rng: np.random.Generator, ra_deg: np.ndarray, dec_deg: np.ndarray
) -> np.ndarray:
    """Unique Gaia-like source_id (int64): HEALPix order-12 index * 2^35 + a random number."""
    prefix = healpix_nested(ra_deg, dec_deg, 12) << 35
    ids = prefix + rng.integers(0, 1 << 35, len(prefix))
    while True:
        _, first = np.unique(ids, return_index=True)
        duplicate = np.ones(len(ids), dtype=bool)
        duplicate[first] = False
        if not duplicate.any():
            return ids.astype(np.int64)
        ids[duplicate] = prefix[duplicate] + rng.integers(0, 1 << 35, duplicate.sum())

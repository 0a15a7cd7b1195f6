"""A small, fast factory of valid Gaia DR3-like tables for the data-stage tests.

Not a simulator: values are plausible (uncertainties grow with G, 5- and 6-parameter
solutions with the colour the zero-point recipe needs, radial velocities for bright stars
only) but carry no science. Every column of :data:`GAIA_COLUMNS` is present with its
dtype and unit, so the table passes ``validate_catalog`` as built.
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Column, Table

from clustermix.data.columns import GAIA_COLUMNS, VIZIER_NAMES

NGC6819_RA_DEG = 295.327
NGC6819_DEC_DEG = 40.19

#: First source_id of the factory's stars (a Gaia DR3-sized 64-bit identifier).
SOURCE_ID_BASE = 2_076_000_000_000_000_000

#: What a minimal public cone search gives: the key, positions, astrometry with its
#: uncertainties and all ten correlations, G and BP-RP (no RUWE, solution type, zero-point
#: colours, ecliptic latitude, BP/RP magnitudes or radial velocities).
MINIMAL_COLUMNS: tuple[str, ...] = (
    "source_id",
    "ra",
    "dec",
    "ra_error",
    "dec_error",
    "parallax",
    "parallax_error",
    "pmra",
    "pmra_error",
    "pmdec",
    "pmdec_error",
    *(spec.name for spec in GAIA_COLUMNS if spec.correlation),
    "phot_g_mean_mag",
    "bp_rp",
)


def make_gaia_table(
    n: int = 200,
    seed: int = 0,
    *,
    ra_deg: float = NGC6819_RA_DEG,
    dec_deg: float = NGC6819_DEC_DEG,
    radius_arcmin: float = 20.0,
    g_range_mag: tuple[float, float] = (10.0, 20.4),
    frac_6p: float = 0.15,
) -> Table:
    """A valid Gaia DR3-like table of ``n`` stars uniform on a cone.

    Parameters
    ----------
    n, seed
        Number of stars and the seed of the NumPy generator (same seed, same table).
    ra_deg, dec_deg, radius_arcmin
        Centre (deg, ICRS) and radius (arcmin) of the cone the stars are drawn in.
    g_range_mag
        G magnitudes (mag) are uniform in this range.
    frac_6p
        Fraction of 6-parameter solutions (``astrometric_params_solved`` 95, with a
        ``pseudocolour``); the rest are 5-parameter (31, with ``nu_eff_used_in_astrometry``).
    """
    rng = np.random.default_rng(seed)
    ra, dec = _positions_deg(rng, n, ra_deg, dec_deg, radius_arcmin)
    g_mag = rng.uniform(*g_range_mag, n)
    sigma_plx = 0.015 + 0.5 * 10.0 ** (0.4 * (g_mag - 20.0))
    is_6p = rng.random(n) < frac_6p
    bp_rp = rng.uniform(0.5, 2.5, n)
    nu_eff = 1.76 - (1.61 / np.pi) * np.arctan(0.531 * bp_rp)
    has_rv = g_mag < 14.0
    values = {
        "source_id": SOURCE_ID_BASE + np.arange(n) * 1000 + rng.integers(0, 1000, n),
        "ra": ra,
        "dec": dec,
        "ra_error": 0.8 * sigma_plx,
        "dec_error": 0.8 * sigma_plx,
        "parallax": rng.exponential(0.5, n) + rng.normal(0.0, sigma_plx),
        "parallax_error": sigma_plx,
        "pmra": rng.normal(-2.9, 3.0, n),
        "pmra_error": 1.1 * sigma_plx,
        "pmdec": rng.normal(-3.9, 3.0, n),
        "pmdec_error": 1.1 * sigma_plx,
        "ruwe": 0.85 + rng.gamma(2.0, 0.06, n),
        "visibility_periods_used": rng.integers(10, 30, n),
        "astrometric_params_solved": np.where(is_6p, 95, 31),
        "nu_eff_used_in_astrometry": np.where(is_6p, np.nan, nu_eff),
        "pseudocolour": np.where(is_6p, nu_eff + rng.normal(0.0, 0.02, n), np.nan),
        "ecl_lat": SkyCoord(ra * u.deg, dec * u.deg).barycentrictrueecliptic.lat.deg,
        "phot_g_mean_mag": g_mag,
        "phot_bp_mean_mag": g_mag + 0.4 * bp_rp,
        "phot_rp_mean_mag": g_mag - 0.6 * bp_rp,
        "bp_rp": bp_rp,
        "radial_velocity": np.where(has_rv, rng.normal(2.5, 30.0, n), np.nan),
        "radial_velocity_error": np.where(has_rv, rng.uniform(1.0, 6.0, n), np.nan),
        "grvs_mag": np.where(has_rv, g_mag - 0.6 * bp_rp - 0.3, np.nan),
    }
    for spec in GAIA_COLUMNS:
        if spec.correlation:
            values[spec.name] = rng.uniform(-0.4, 0.4, n)
    return Table(
        [
            Column(np.asarray(values[spec.name]).astype(spec.dtype), name=spec.name, unit=spec.unit)
            for spec in GAIA_COLUMNS
        ]
    )


def _positions_deg(
    rng: np.random.Generator, n: int, ra_deg: float, dec_deg: float, radius_arcmin: float
) -> tuple[np.ndarray, np.ndarray]:
    """RA and Dec (deg) of ``n`` points uniform in area on a cone of ``radius_arcmin``."""
    radius_deg = radius_arcmin / 60.0
    cos_sep = 1.0 - rng.random(n) * (1.0 - np.cos(np.deg2rad(radius_deg)))
    separation = np.rad2deg(np.arccos(cos_sep)) * u.deg
    position_angle = rng.uniform(0.0, 360.0, n) * u.deg
    points = SkyCoord(ra_deg * u.deg, dec_deg * u.deg).directional_offset_by(
        position_angle, separation
    )
    return points.ra.deg, points.dec.deg


def minimal_columns(table: Table) -> Table:
    """A copy of ``table`` with only :data:`MINIMAL_COLUMNS`."""
    return Table(table[list(MINIMAL_COLUMNS)], copy=True)


def with_vizier_names(table: Table) -> Table:
    """A copy of ``table`` under VizieR's I/355/gaiadr3 labels (``RA_ICRS``, ``Plx``,
    ``BP-RP`` ...; columns VizieR does not have keep their names)."""
    labels = {
        gaia: label
        for label, gaia in VIZIER_NAMES.items()
        if label not in ("RAdeg", "DEdeg", "e_RAdeg", "e_DEdeg")
    }
    renamed = table.copy()
    renamed.rename_columns(renamed.colnames, [labels.get(name, name) for name in renamed.colnames])
    return renamed

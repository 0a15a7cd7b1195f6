"""A seeded, Gaia DR3-like field around a star cluster, with its truth.

:func:`simulate_field` draws cluster members (a Plummer sphere on a ~2.4 Gyr cluster
sequence, moving with the cluster's 3D velocity plus an isotropic dispersion, each projected
at its own position and distance) and field stars (thin disc, thick disc and halo of
:mod:`clustermix.data.galaxy`) inside a cone, then observes them as Gaia DR3 would
(:mod:`clustermix.data.gaia_errors`): uncertainties growing with G, correlated astrometric
errors, the parallax zero point, RUWE, 5/6-parameter solutions, radial velocities for bright
stars only. The catalogue has exactly the columns, dtypes and units of
:data:`~clustermix.data.columns.GAIA_COLUMNS`; float nulls are NaN.

Randomness comes only from ``numpy.random.default_rng`` streams spawned from ``seed``:
the same inputs give the same table and truth, bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import ICRS, BarycentricTrueEcliptic, SkyCoord
from astropy.table import Column, Table

from clustermix.data import gaia_errors as ge
from clustermix.data import galaxy, stars
from clustermix.data.columns import GAIA_COLUMNS
from clustermix.errors import ConfigError

#: km/s per (mas/yr x kpc): one astronomical unit per Julian year.
KMS_PER_MASYR_KPC = 4.740470463533348
#: True positions stay this far (arcsec) inside the cone, so that position errors (< 1 mas
#: at 10 sigma for G < 20.5) never move a star outside it.
_EDGE_MARGIN_ARCSEC = 0.01
#: Members are truncated along the line of sight at this many Plummer radii.
_PLUMMER_DEPTH_TRUNCATION = 10.0
_POPULATION_NAMES = ("cluster", *(pop.name for pop in galaxy.POPULATIONS))

UNITS = {
    "ra_deg": "deg",
    "dec_deg": "deg",
    "radius_arcmin": "arcmin",
    "parallax": "mas",
    "distance": "pc",
    "pmra": "mas / yr",
    "pmdec": "mas / yr",
    "rv": "km / s",
    "sigma_v": "km / s",
    "plummer_radius_arcmin": "arcmin",
    "x": "pc",
    "y": "pc",
    "z": "pc",
    "v_x": "km / s",
    "v_y": "km / s",
    "v_z": "km / s",
    "parallax_zero_point_mean": "mas",
    "parallax_zero_point_mean_all": "mas",
    "a_v": "mag",
}


@dataclass(frozen=True)
class SimulatedField:
    """A simulated catalogue, its truth dict and the per-star true values (``latent``).

    ``latent`` has one row per catalogue row, in the same order: ``source_id``,
    ``is_member``, ``population``, ``phase``, ``distance_pc``, ``parallax_true`` (mas),
    ``pmra_true``/``pmdec_true`` (mas/yr), ``rv_true`` (km/s), ``v_x``/``v_y``/``v_z`` (km/s,
    ICRS), ``abs_g`` (mag), ``bp_rp0`` (mag), ``a_v`` (mag), ``g_true`` (mag) and
    ``parallax_zero_point`` (mas).
    """

    catalog: Table
    truth: dict[str, Any]
    latent: Table


# --------------------------------------------------------------------------- sky geometry


def sky_basis(ra_deg: np.ndarray, dec_deg: np.ndarray) -> tuple[np.ndarray, ...]:
    """Unit vectors (..., 3) at (ra, dec): line of sight, east (increasing ra), north."""
    ra, dec = np.radians(ra_deg), np.radians(dec_deg)
    cos_ra, sin_ra, cos_dec, sin_dec = np.cos(ra), np.sin(ra), np.cos(dec), np.sin(dec)
    los = np.stack([cos_dec * cos_ra, cos_dec * sin_ra, sin_dec], axis=-1)
    east = np.stack([-sin_ra, cos_ra, np.zeros_like(ra)], axis=-1)
    north = np.stack([-sin_dec * cos_ra, -sin_dec * sin_ra, cos_dec], axis=-1)
    return los, east, north


def offset_positions(
    ra_deg: float, dec_deg: float, separation_deg: np.ndarray, position_angle_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(ra, dec) in deg at great-circle ``separation_deg`` and position angle (east of north)."""
    los, east, north = sky_basis(np.asarray(ra_deg), np.asarray(dec_deg))
    sep, pa = np.radians(separation_deg)[:, None], np.radians(position_angle_deg)[:, None]
    vec = np.cos(sep) * los + np.sin(sep) * (np.cos(pa) * north + np.sin(pa) * east)
    ra = np.degrees(np.arctan2(vec[:, 1], vec[:, 0])) % 360.0
    dec = np.degrees(np.arcsin(np.clip(vec[:, 2], -1.0, 1.0)))
    return ra, dec


def sample_uniform_cone(
    rng: np.random.Generator, n: int, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Separations and position angles (deg) uniform on the sphere inside ``radius_deg``."""
    cos_sep = 1.0 - rng.random(n) * (1.0 - np.cos(np.radians(radius_deg)))
    return np.degrees(np.arccos(cos_sep)), 360.0 * rng.random(n)


def sample_plummer_cone(
    rng: np.random.Generator, n: int, scale_deg: float, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Separations and position angles (deg) of a projected Plummer profile cut at the cone.

    Surface density ~ (1 + R^2 / a^2)^-2, so the fraction within R is R^2 / (R^2 + a^2):
    inverse-CDF sampling on [0, fraction within ``radius_deg``].
    """
    inside = radius_deg**2 / (radius_deg**2 + scale_deg**2)
    q = rng.random(n) * inside
    return scale_deg * np.sqrt(q / (1.0 - q)), 360.0 * rng.random(n)


def sample_plummer_depth(
    rng: np.random.Generator, projected_pc: np.ndarray, scale_pc: float, z_max_pc: float
) -> np.ndarray:
    """Line-of-sight offsets (pc) of Plummer-sphere stars at projected radii ``projected_pc``.

    Given R, the density along the line of sight is ~ (b^2 + z^2)^(-5/2), b^2 = a^2 + R^2.
    With z = b tan(t), t has density cos^3(t), whose CDF in s = sin(t) is s - s^3/3; the
    inverse is s = 2 sin(arcsin(3y/2) / 3). Truncated at |z| <= ``z_max_pc``.
    """
    b = np.sqrt(scale_pc**2 + projected_pc**2)
    s_max = z_max_pc / np.sqrt(b**2 + z_max_pc**2)
    y_max = s_max - s_max**3 / 3.0
    y = (2.0 * rng.random(len(b)) - 1.0) * y_max
    s = 2.0 * np.sin(np.arcsin(1.5 * y) / 3.0)
    return b * s / np.sqrt(1.0 - s**2)


def project_velocity(
    ra_deg: np.ndarray, dec_deg: np.ndarray, distance_pc: np.ndarray, velocity_kms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proper motions (mas/yr, pmra includes cos dec) and radial velocity (km/s) of ICRS
    Cartesian velocities ``velocity_kms`` (..., 3) seen at (ra, dec, distance)."""
    los, east, north = sky_basis(ra_deg, dec_deg)
    scale = KMS_PER_MASYR_KPC * np.asarray(distance_pc) / 1000.0
    pmra = np.sum(velocity_kms * east, axis=-1) / scale
    pmdec = np.sum(velocity_kms * north, axis=-1) / scale
    return pmra, pmdec, np.sum(velocity_kms * los, axis=-1)


def cluster_phase_space(
    ra_deg: float, dec_deg: float, distance_pc: float, pmra: float, pmdec: float, rv: float
) -> tuple[np.ndarray, np.ndarray]:
    """ICRS Cartesian position (pc) and velocity (km/s) of the cluster centre, via astropy."""
    centre = SkyCoord(
        ra=ra_deg * u.deg,
        dec=dec_deg * u.deg,
        distance=distance_pc * u.pc,
        pm_ra_cosdec=pmra * u.mas / u.yr,
        pm_dec=pmdec * u.mas / u.yr,
        radial_velocity=rv * u.km / u.s,
        frame=ICRS(),
    )
    position = centre.cartesian.xyz.to_value(u.pc)
    velocity = centre.velocity.d_xyz.to_value(u.km / u.s)
    return np.asarray(position, float), np.asarray(velocity, float)


# ------------------------------------------------------------------------- populations


def _draw_until(
    n: int, draw: Callable[[int], dict[str, np.ndarray]], keep_key: str = "keep"
) -> dict[str, np.ndarray]:
    """Call ``draw(batch)`` until ``n`` rows pass ``keep``; the first ``n`` kept rows."""
    parts: list[dict[str, np.ndarray]] = []
    n_kept = 0
    while n_kept < n:
        batch = draw(int(1.1 * (n - n_kept)) + 64)
        keep = batch.pop(keep_key)
        parts.append({key: value[keep] for key, value in batch.items()})
        n_kept += int(keep.sum())
    return {key: np.concatenate([p[key] for p in parts])[:n] for key in parts[0]}


def _photometry(
    rng: np.random.Generator, abs_g: np.ndarray, bp_rp0: np.ndarray, a_v: np.ndarray, mu: np.ndarray
) -> dict[str, np.ndarray]:
    """True and observed G, BP, RP (mag) from absolute G, intrinsic colour, A_V and modulus."""
    g_true = abs_g + mu + stars.A_G_PER_AV * a_v
    colour = bp_rp0 + (stars.A_BP_PER_AV - stars.A_RP_PER_AV) * a_v
    rp_true = g_true - stars.g_minus_rp(colour)
    sigma_g, sigma_bp, sigma_rp = stars.photometric_errors(g_true)
    n = len(g_true)
    return {
        "g_true": g_true,
        "g_obs": g_true + sigma_g * rng.standard_normal(n),
        "bp_obs": rp_true + colour + sigma_bp * rng.standard_normal(n),
        "rp_obs": rp_true + sigma_rp * rng.standard_normal(n),
    }


def _magnitude_margin(g_max_mag: float) -> float:
    """How much fainter than ``g_max_mag`` (mag) true magnitudes are drawn, so that
    selecting on the observed G is exact (8 sigma of the G error at the limit)."""
    return 0.02 + 8.0 * float(stars.photometric_errors(np.array([g_max_mag]))[0][0])


def _draw_members(
    rng: np.random.Generator,
    n: int,
    centre: tuple[float, float],
    radius_deg: float,
    distance_pc: float,
    plummer_deg: float,
    b_deg: float,
    g_max_mag: float,
) -> dict[str, np.ndarray]:
    """Positions, distances and photometry of ``n`` members with observed G <= g_max."""
    scale_pc = distance_pc * np.tan(np.radians(plummer_deg))
    a_v_centre = float(galaxy.extinction_av(np.array([distance_pc]), np.sin(np.radians(b_deg)))[0])
    m_limit = (
        g_max_mag
        + _magnitude_margin(g_max_mag)
        - float(galaxy.distance_modulus(np.array([distance_pc]))[0])
        - stars.A_G_PER_AV * a_v_centre
    )
    if sum(stars.cluster_phase_weights(m_limit).values()) <= 0.0:
        raise ConfigError(
            f"simulation.g_max_mag = {g_max_mag}: no cluster star is that bright at "
            f"{distance_pc:.0f} pc"
        )

    def draw(batch: int) -> dict[str, np.ndarray]:
        sep, pa = sample_plummer_cone(rng, batch, plummer_deg, radius_deg)
        depth = sample_plummer_depth(
            rng,
            distance_pc * np.tan(np.radians(sep)),
            scale_pc,
            _PLUMMER_DEPTH_TRUNCATION * scale_pc,
        )
        distance = distance_pc + depth
        seq = stars.sample_cluster_sequence(rng, batch, m_limit)
        a_v = galaxy.extinction_av(distance, np.sin(np.radians(b_deg)))
        phot = _photometry(rng, seq["abs_g"], seq["bp_rp0"], a_v, galaxy.distance_modulus(distance))
        ra, dec = offset_positions(*centre, sep, pa)
        return {
            "ra": ra,
            "dec": dec,
            "distance_pc": distance,
            "a_v": a_v,
            "abs_g": seq["abs_g"],
            "bp_rp0": seq["bp_rp0"],
            "phase": seq["phase"],
            **phot,
            "keep": phot["g_obs"] <= g_max_mag,
        }

    return _draw_until(n, draw)


def _member_kinematics(
    rng: np.random.Generator,
    members: dict[str, np.ndarray],
    mean_velocity_kms: np.ndarray,
    sigma_v_kms: float,
) -> dict[str, np.ndarray]:
    """Velocities (mean 3D velocity + isotropic dispersion) projected at each member."""
    n = len(members["ra"])
    velocity = mean_velocity_kms + sigma_v_kms * rng.standard_normal((n, 3))
    pmra, pmdec, rv = project_velocity(
        members["ra"], members["dec"], members["distance_pc"], velocity
    )
    return {"pmra": pmra, "pmdec": pmdec, "rv": rv, "v_icrs": velocity}


def _draw_field(
    rng: np.random.Generator,
    n: int,
    centre: tuple[float, float],
    radius_deg: float,
    l_deg: float,
    b_deg: float,
    g_max_mag: float,
) -> dict[str, np.ndarray]:
    """Positions, Galactic populations and photometry of ``n`` field stars with G <= g_max."""
    g_limit = g_max_mag + _magnitude_margin(g_max_mag)

    def draw(batch: int) -> dict[str, np.ndarray]:
        pop = galaxy.sample_field_population(rng, batch, l_deg, b_deg, g_limit)
        phot = _photometry(
            rng,
            pop["abs_g"],
            pop["bp_rp0"],
            pop["a_v"],
            galaxy.distance_modulus(pop["distance_pc"]),
        )
        sep, pa = sample_uniform_cone(rng, batch, radius_deg)
        ra, dec = offset_positions(*centre, sep, pa)
        return {
            "ra": ra,
            "dec": dec,
            "population": pop["population"] + 1,
            "phase": np.where(pop["giant"], "giant", "MS"),
            "distance_pc": pop["distance_pc"],
            "a_v": pop["a_v"],
            "abs_g": pop["abs_g"],
            "bp_rp0": pop["bp_rp0"],
            **phot,
            "keep": phot["g_obs"] <= g_max_mag,
        }

    return _draw_until(n, draw)


# ------------------------------------------------------------------------------ observing


def _f32(values: np.ndarray) -> np.ndarray:
    """``values`` rounded to float32 (as the catalogue stores them), back in float64."""
    return np.asarray(values).astype(np.float32).astype(np.float64)


def _photometric_columns(
    rng: np.random.Generator, stars_: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """G, BP, RP and BP-RP (mag); BP and RP missing (NaN) for some, mostly faint, stars."""
    g = _f32(stars_["g_obs"])
    p_missing = 0.003 + 0.25 / (1.0 + np.exp(-(g - 20.3) / 0.25))
    has_colour = rng.random(len(g)) >= p_missing
    bp = np.where(has_colour, stars_["bp_obs"], np.nan)
    rp = np.where(has_colour, stars_["rp_obs"], np.nan)
    return {"phot_g_mean_mag": g, "phot_bp_mean_mag": bp, "phot_rp_mean_mag": rp, "bp_rp": bp - rp}


def _solution_columns(
    rng: np.random.Generator, stars_: dict[str, np.ndarray], phot: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """astrometric_params_solved and the colour it used: nu_eff (5p) or pseudocolour (6p)."""
    g = phot["phot_g_mean_mag"]
    solved = ge.draw_solution_type(rng, g, np.isfinite(phot["bp_rp"]))
    five = solved == ge.FIVE_PARAMETER_SOLUTION
    nu_eff_true = stars.nu_eff_from_colour(stars_["bp_obs"] - stars_["rp_obs"])
    pseudo = ge.draw_pseudocolour(rng, nu_eff_true, g)
    return {
        "astrometric_params_solved": solved,
        "nu_eff_used_in_astrometry": _f32(np.where(five, nu_eff_true, np.nan)),
        "pseudocolour": _f32(np.where(five, np.nan, pseudo)),
    }


def _astrometric_columns(
    rng: np.random.Generator, stars_: dict[str, np.ndarray], known: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Positions, parallax (with the zero point), proper motions, their uncertainties and
    correlations, RUWE, visibility periods and ecliptic latitude.

    The five observed parameters are drawn jointly from each star's 5x5 covariance, built
    from the float32 uncertainties and correlations the catalogue stores, so the catalogue's
    own numbers describe the noise exactly. ``_zero_point`` (mas) is kept for the latent table.
    """
    g = known["phot_g_mean_mag"]
    periods = ge.draw_visibility_periods(rng, g)
    errors = ge.draw_uncertainties(rng, g, periods)
    corr = ge.draw_correlations(rng, len(g))
    noise = ge.correlated_noise(rng, ge.covariance(errors, corr))
    cols = {f"{name}_error": errors[:, k] for k, name in enumerate(ge.ASTROMETRIC_PARAMETERS)}
    cols.update({name: corr[:, i, j] for name, (i, j) in ge.CORRELATION_COLUMNS.items()})
    cols["visibility_periods_used"] = periods

    cos_dec = np.cos(np.radians(stars_["dec"]))
    cols["ra"] = (stars_["ra"] + noise[:, 0] / (ge.MAS_PER_DEG * cos_dec)) % 360.0
    cols["dec"] = stars_["dec"] + noise[:, 1] / ge.MAS_PER_DEG
    cols["ecl_lat"] = (
        SkyCoord(ra=cols["ra"] * u.deg, dec=cols["dec"] * u.deg, frame=ICRS())
        .transform_to(BarycentricTrueEcliptic())
        .lat.deg
    )
    zero_point = ge.parallax_zero_point(
        g,
        known["nu_eff_used_in_astrometry"],
        known["pseudocolour"],
        cols["ecl_lat"],
        known["astrometric_params_solved"],
    )
    cols["parallax"] = stars_["parallax_true"] + zero_point + noise[:, 2]
    cols["pmra"] = stars_["pmra_true"] + noise[:, 3]
    cols["pmdec"] = stars_["pmdec_true"] + noise[:, 4]
    cols["ruwe"] = ge.draw_ruwe(rng, len(g))
    cols["_zero_point"] = zero_point
    return cols


def _rv_columns(
    rng: np.random.Generator, stars_: dict[str, np.ndarray], phot: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Radial velocity and its uncertainty (km/s) for bright stars; NaN for the others."""
    bp_rp = phot["bp_rp"]
    g_rvs = phot["phot_rp_mean_mag"] + stars.rvs_minus_rp(bp_rp)
    has_rv = ge.rv_availability(rng, g_rvs, bp_rp)
    rv_error = _f32(ge.rv_uncertainty(rng, np.where(has_rv, g_rvs, ge.RVS_LIMIT_MAG), bp_rp))
    rv_obs = stars_["rv_true"] + rv_error * rng.standard_normal(len(bp_rp))
    return {
        "radial_velocity": np.where(has_rv, rv_obs, np.nan),
        "radial_velocity_error": np.where(has_rv, rv_error, np.nan),
    }


def _observe(rng: np.random.Generator, stars_: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Gaia DR3-like catalogue columns of true stars (dtypes applied by the table)."""
    cols = _photometric_columns(rng, stars_)
    cols.update(_solution_columns(rng, stars_, cols))
    cols.update(_astrometric_columns(rng, stars_, cols))
    cols.update(_rv_columns(rng, stars_, cols))
    cols["source_id"] = ge.make_source_ids(rng, cols["ra"], cols["dec"])
    return cols


def _catalog_table(cols: dict[str, np.ndarray], order: np.ndarray) -> Table:
    """The catalogue: GAIA_COLUMNS names, dtypes and units, rows in ``order``."""
    return Table(
        [
            Column(
                np.asarray(cols[spec.name])[order].astype(spec.dtype),
                name=spec.name,
                unit=spec.unit,
            )
            for spec in GAIA_COLUMNS
        ]
    )


def _latent_table(
    stars_: dict[str, np.ndarray], source_id: np.ndarray, zero_point: np.ndarray, order: np.ndarray
) -> Table:
    """Per-star true values, rows in ``order``."""
    values = {
        "source_id": source_id,
        "is_member": stars_["population"] == 0,
        "population": np.array(_POPULATION_NAMES)[stars_["population"]],
        "phase": stars_["phase"].astype(str),
        "distance_pc": stars_["distance_pc"],
        "parallax_true": stars_["parallax_true"],
        "pmra_true": stars_["pmra_true"],
        "pmdec_true": stars_["pmdec_true"],
        "rv_true": stars_["rv_true"],
        "v_x": stars_["v_icrs"][:, 0],
        "v_y": stars_["v_icrs"][:, 1],
        "v_z": stars_["v_icrs"][:, 2],
        "ra_true": stars_["ra"],
        "dec_true": stars_["dec"],
        "abs_g": stars_["abs_g"],
        "bp_rp0": stars_["bp_rp0"],
        "a_v": stars_["a_v"],
        "g_true": stars_["g_true"],
        "parallax_zero_point": zero_point,
    }
    units = {
        "distance_pc": u.pc,
        "parallax_true": u.mas,
        "pmra_true": u.mas / u.yr,
        "pmdec_true": u.mas / u.yr,
        "rv_true": u.km / u.s,
        "v_x": u.km / u.s,
        "v_y": u.km / u.s,
        "v_z": u.km / u.s,
        "ra_true": u.deg,
        "dec_true": u.deg,
        "abs_g": u.mag,
        "bp_rp0": u.mag,
        "a_v": u.mag,
        "g_true": u.mag,
        "parallax_zero_point": u.mas,
    }
    return Table(
        [Column(np.asarray(v)[order], name=k, unit=units.get(k)) for k, v in values.items()]
    )


# ---------------------------------------------------------------------------------- truth


def _truth(
    *,
    params: dict[str, Any],
    position: np.ndarray,
    velocity: np.ndarray,
    latent: Table,
    a_v: float,
) -> dict[str, Any]:
    """The JSON-ready truth dict of a simulation."""
    distance = 1000.0 / params["parallax_mas"]
    pmra, pmdec, rv = project_velocity(
        np.array(params["ra_deg"]), np.array(params["dec_deg"]), np.array(distance), velocity
    )
    centre = SkyCoord(
        x=position[0] * u.pc,
        y=position[1] * u.pc,
        z=position[2] * u.pc,
        v_x=velocity[0] * u.km / u.s,
        v_y=velocity[1] * u.km / u.s,
        v_z=velocity[2] * u.km / u.s,
        representation_type="cartesian",
        differential_type="cartesian",
        frame=ICRS(),
    ).transform_to(galaxy.galactocentric_frame())
    members = np.asarray(latent["is_member"])
    n_members = int(members.sum())
    zero_point = np.asarray(latent["parallax_zero_point"])
    return {
        "seed": int(params["seed"]),
        "n_stars": len(latent),
        "n_members": n_members,
        "n_field": len(latent) - n_members,
        "f_cluster": n_members / len(latent),
        "ra_deg": float(params["ra_deg"]),
        "dec_deg": float(params["dec_deg"]),
        "radius_arcmin": float(params["radius_arcmin"]),
        "parallax": float(params["parallax_mas"]),
        "distance": float(distance),
        "pmra": float(pmra),
        "pmdec": float(pmdec),
        "rv": float(rv),
        "sigma_v": float(params["sigma_v_kms"]),
        "plummer_radius_arcmin": float(params["plummer_radius_arcmin"]),
        "g_max_mag": float(params["g_max_mag"]),
        "a_v": a_v,
        **{axis: float(value) for axis, value in zip("xyz", position, strict=True)},
        **{f"v_{axis}": float(value) for axis, value in zip("xyz", velocity, strict=True)},
        "galactocentric": {
            **{axis: float(getattr(centre, axis).to_value(u.pc)) for axis in "xyz"},
            **{
                f"v_{axis}": float(getattr(centre, f"v_{axis}").to_value(u.km / u.s))
                for axis in "xyz"
            },
            "frame": galaxy.galactocentric_parameters(),
        },
        "parallax_zero_point_mean": float(zero_point[members].mean()),
        "parallax_zero_point_mean_all": float(zero_point.mean()),
        "member_source_ids": [int(s) for s in np.asarray(latent["source_id"])[members]],
        "units": dict(UNITS),
        "field_model": galaxy.field_model_summary(),
    }


# ------------------------------------------------------------------------------------ API


def _check_inputs(params: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the first invalid simulation parameter."""
    positive = (
        "radius_arcmin",
        "n_members",
        "n_field",
        "parallax_mas",
        "sigma_v_kms",
        "plummer_radius_arcmin",
    )
    for key in positive:
        if not params[key] > 0:
            raise ConfigError(f"simulation.{key} must be > 0, got {params[key]!r}")
    if not -90.0 <= params["dec_deg"] <= 90.0:
        raise ConfigError(f"dec_deg must be in [-90, 90], got {params['dec_deg']!r}")
    if params["radius_arcmin"] >= 5400.0:
        raise ConfigError(f"radius_arcmin must be < 90 deg, got {params['radius_arcmin']!r}")


def simulate_field_with_latent(
    ra_deg: float,
    dec_deg: float,
    radius_arcmin: float,
    *,
    seed: int,
    n_members: int,
    n_field: int,
    parallax_mas: float,
    pmra_masyr: float,
    pmdec_masyr: float,
    rv_kms: float,
    sigma_v_kms: float,
    plummer_radius_arcmin: float,
    g_max_mag: float,
) -> SimulatedField:
    """:func:`simulate_field`, also returning the per-star true values (for tests)."""
    params = dict(locals())
    _check_inputs(params)
    member_rng, field_rng, observe_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(3)
    )
    centre = (float(ra_deg), float(dec_deg))
    galactic = SkyCoord(ra=ra_deg * u.deg, dec=dec_deg * u.deg, frame=ICRS()).galactic
    l_deg, b_deg = float(galactic.l.deg), float(galactic.b.deg)
    radius_deg = radius_arcmin / 60.0 - _EDGE_MARGIN_ARCSEC / 3600.0
    distance_pc = 1000.0 / parallax_mas
    position, velocity = cluster_phase_space(
        ra_deg, dec_deg, distance_pc, pmra_masyr, pmdec_masyr, rv_kms
    )

    members = _draw_members(
        member_rng,
        n_members,
        centre,
        radius_deg,
        distance_pc,
        plummer_radius_arcmin / 60.0,
        b_deg,
        g_max_mag,
    )
    kin = _member_kinematics(member_rng, members, velocity, sigma_v_kms)
    members.update(population=np.zeros(n_members, dtype=int), **_rename_true(kin))

    field = _draw_field(field_rng, n_field, centre, radius_deg, l_deg, b_deg, g_max_mag)
    kin = galaxy.draw_field_velocities(
        field_rng, field["ra"], field["dec"], field["distance_pc"], field["population"] - 1
    )
    field.update(_rename_true(kin))

    everyone = {key: np.concatenate([members[key], field[key]]) for key in members}
    everyone["parallax_true"] = 1000.0 / everyone["distance_pc"]
    cols = _observe(observe_rng, everyone)
    order = np.argsort(cols["source_id"], kind="stable")
    catalog = _catalog_table(cols, order)
    catalog.meta["SIMULATD"] = True
    catalog.meta["SIMSEED"] = int(seed)
    latent = _latent_table(everyone, cols["source_id"], cols["_zero_point"], order)
    a_v = float(galaxy.extinction_av(np.array([distance_pc]), np.sin(np.radians(b_deg)))[0])
    truth = _truth(params=params, position=position, velocity=velocity, latent=latent, a_v=a_v)
    return SimulatedField(catalog=catalog, truth=truth, latent=latent)


def _rename_true(kin: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Kinematics dict with the ``_true`` names used for true values."""
    return {
        "pmra_true": kin["pmra"],
        "pmdec_true": kin["pmdec"],
        "rv_true": kin["rv"],
        "v_icrs": kin["v_icrs"],
    }


def simulate_field(
    ra_deg: float,
    dec_deg: float,
    radius_arcmin: float,
    *,
    seed: int,
    n_members: int,
    n_field: int,
    parallax_mas: float,
    pmra_masyr: float,
    pmdec_masyr: float,
    rv_kms: float,
    sigma_v_kms: float,
    plummer_radius_arcmin: float,
    g_max_mag: float,
) -> tuple[Table, dict[str, Any]]:
    """Simulate a Gaia DR3 cone around a cluster; return (catalogue, truth).

    Parameters
    ----------
    ra_deg, dec_deg, radius_arcmin
        Cone centre (deg, ICRS; also the cluster centre) and radius (arcmin).
    seed
        Seed of every random draw: same inputs, identical outputs.
    n_members, n_field
        Numbers of cluster members and field stars with G <= ``g_max_mag`` inside the cone.
    parallax_mas
        True parallax of the cluster centre (mas); its distance is 1000 / parallax (pc).
    pmra_masyr, pmdec_masyr, rv_kms
        Proper motion (mas/yr, pmra includes cos dec) and radial velocity (km/s) of the
        centre, which fix the cluster's 3D velocity; each member's motion is that velocity
        (plus the dispersion) projected at its own position and distance.
    sigma_v_kms
        Isotropic internal 1D velocity dispersion (km/s).
    plummer_radius_arcmin
        Plummer scale radius (arcmin) of the members' sky distribution, cut at the cone.
    g_max_mag
        Faint limit on the observed G (mag).

    Returns
    -------
    catalog
        Astropy table with exactly the columns, dtypes and units of ``GAIA_COLUMNS``, rows
        sorted by ``source_id``; float nulls are NaN.
    truth
        JSON-ready dict: counts, the cluster's true parameters, ICRS and Galactocentric
        position/velocity, the mean parallax zero point of the members, member source_ids,
        units and the Galactic model of the field.
    """
    sim = simulate_field_with_latent(
        ra_deg,
        dec_deg,
        radius_arcmin,
        seed=seed,
        n_members=n_members,
        n_field=n_field,
        parallax_mas=parallax_mas,
        pmra_masyr=pmra_masyr,
        pmdec_masyr=pmdec_masyr,
        rv_kms=rv_kms,
        sigma_v_kms=sigma_v_kms,
        plummer_radius_arcmin=plummer_radius_arcmin,
        g_max_mag=g_max_mag,
    )
    return sim.catalog, sim.truth

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

Keyword options, all off by default, break the assumptions of the mixture models: a second
cluster and small comoving clumps in the cone, King or EFF instead of Plummer profiles,
unresolved binaries, uncertainties that underestimate the noise, a catalogue preselected on
parallax_over_error and radial velocities for a bright subset only. Each option draws from
its own spawned stream (``SeedSequence(seed).spawn(n)[k]`` does not depend on ``n``), so with
the defaults the catalogue and truth are exactly those of the simulator without the options,
and an option changes nothing but what it is about.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import ICRS, BarycentricTrueEcliptic, SkyCoord
from astropy.table import Column, Table

from clustermix.data import gaia_errors as ge
from clustermix.data import galaxy, stars
from clustermix.data.columns import GAIA_COLUMNS
from clustermix.data.rv_correction import grvs_from_rp, rv_error_factor, rv_offset_kms
from clustermix.errors import ConfigError
from clustermix.models.kinematics import (
    KMS_PER_MASYR_KPC,
    observables_to_velocity,
    sky_basis,
    velocity_to_observables,
)
from clustermix.models.profiles import king_enclosed

#: True positions stay this far (arcsec) inside the cone, so that position errors (< 1 mas
#: at 10 sigma for G < 20.5) never move a star outside it.
_EDGE_MARGIN_ARCSEC = 0.01
#: Members are truncated along the line of sight at this many Plummer radii.
_PLUMMER_DEPTH_TRUNCATION = 10.0
#: Latent ``population`` codes: 0 the cluster, 1-3 the Galactic field, then the stars that
#: the options ``extra_clusters`` and ``comoving_clumps`` add (never members).
_POPULATION_NAMES = (
    "cluster",
    *(pop.name for pop in galaxy.POPULATIONS),
    "extra_cluster",
    "clump",
)
_EXTRA_CLUSTER = _POPULATION_NAMES.index("extra_cluster")
_CLUMP = _POPULATION_NAMES.index("clump")
#: Random streams in spawn order; the first three are those of the simulator without options.
_STREAMS = (
    "members",
    "field",
    "observe",
    "extra_clusters",
    "clumps",
    "profile",
    "binaries",
    "observe_added",
)
PROFILES = ("plummer", "king", "eff")
PRESELECTIONS = ("parallax_over_error",)
#: preselection "parallax_over_error" keeps parallax > 0 and parallax_error / parallax below this.
PRESELECTION_MAX_RELATIVE_ERROR = 0.5
#: Unresolved binaries: mass ratio q uniform in this range, G-band flux ratio q^4 (so up to
#: 2.5 log10(2) = 0.753 mag brighter); orbital RV K sin(phase), K log-normal with this median
#: (km/s) and width (natural log), phase uniform.
BINARY_Q_RANGE = (0.1, 1.0)
BINARY_K_MEDIAN_KMS = 7.0
BINARY_K_LOG_WIDTH = 0.5
#: Keys of one ``extra_clusters`` entry, and of one ``comoving_clumps`` entry (``rv_kms``
#: optional, default 0).
EXTRA_CLUSTER_KEYS = (
    "n_members",
    "parallax_mas",
    "pmra_masyr",
    "pmdec_masyr",
    "rv_kms",
    "sigma_v_kms",
    "plummer_radius_arcmin",
    "offset_arcmin",
)
CLUMP_KEYS = ("n_stars", "pmra_masyr", "pmdec_masyr", "parallax_mas", "sigma_pm_masyr")
CLUMP_DEFAULTS = {"rv_kms": 0.0}
#: Grid points of the numerical inverse CDF of the King profile.
_KING_GRID = 8193

SkySampler = Callable[[int], tuple[np.ndarray, np.ndarray]]
DepthSampler = Callable[[np.ndarray], np.ndarray]

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
    ``pmra_true``/``pmdec_true`` (mas/yr), ``rv_true`` (km/s, centre of mass),
    ``v_x``/``v_y``/``v_z`` (km/s, ICRS), ``ra_true``/``dec_true`` (deg), ``abs_g`` (mag),
    ``bp_rp0`` (mag), ``a_v`` (mag), ``g_true`` (mag), ``parallax_zero_point`` (mas),
    ``group`` (index in ``extra_clusters`` or ``comoving_clumps`` of an added star, else -1),
    ``binary`` (an unresolved binary of option ``binary_fraction``) and ``rv_orbit`` (km/s,
    its orbital RV, added to ``rv_true`` in the observed RV; 0 for the others).
    """

    catalog: Table
    truth: dict[str, Any]
    latent: Table


# --------------------------------------------------------------------------- sky geometry


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


def king_cumulative(r: np.ndarray, core: float, tidal: float) -> np.ndarray:
    """Stars within projected radius ``r`` of a King (1962) profile, up to a constant factor:
    :func:`clustermix.models.profiles.king_enclosed` (the closed form the phase-space model
    normalises with). ``r``, ``core`` (rc) and ``tidal`` (rt) in one angular unit.
    """
    return king_enclosed(np.asarray(r, float), core, tidal)


def sample_king_cone(
    rng: np.random.Generator, n: int, core_deg: float, tidal_deg: float, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Separations and position angles (deg) of a projected King (1962) profile with core and
    tidal radius (deg), cut at the cone: inverse-CDF sampling on a fine grid in radius."""
    grid = np.linspace(0.0, min(tidal_deg, radius_deg), _KING_GRID)
    cdf = king_cumulative(grid, core_deg, tidal_deg)
    q = rng.random(n) * cdf[-1]
    return np.interp(q, cdf, grid), 360.0 * rng.random(n)


def eff_cumulative(r: np.ndarray, scale: float, gamma: float) -> np.ndarray:
    """Stars within projected radius ``r`` of an EFF profile (Elson, Fall & Freeman 1987),
    surface density ~ (1 + R^2 / a^2)^(-gamma / 2), up to a constant factor.

    With x = R^2 / a^2 and p = 1 - gamma / 2: ((1 + x)^p - 1) / p, or ln(1 + x) if gamma = 2.
    ``r`` and ``scale`` (a) in one angular unit; gamma = 4 is the Plummer profile.
    """
    log_u = np.log1p((np.asarray(r) / scale) ** 2)
    p = 1.0 - gamma / 2.0
    return log_u if p == 0.0 else np.expm1(p * log_u) / p


def sample_eff_cone(
    rng: np.random.Generator, n: int, scale_deg: float, gamma: float, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Separations and position angles (deg) of a projected EFF profile with scale radius
    ``scale_deg`` and slope ``gamma``, cut at the cone: analytic inverse CDF."""
    p = 1.0 - gamma / 2.0
    c = rng.random(n) * eff_cumulative(radius_deg, scale_deg, gamma)
    log_u = c if p == 0.0 else np.log1p(p * c) / p
    return scale_deg * np.sqrt(np.expm1(log_u)), 360.0 * rng.random(n)


def motion_to_velocity(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    distance_pc: np.ndarray,
    pmra: np.ndarray,
    pmdec: np.ndarray,
    rv: np.ndarray,
) -> np.ndarray:
    """ICRS Cartesian velocities (..., 3), km/s, of proper motions (mas/yr, pmra includes
    cos dec) and radial velocities (km/s) at (ra, dec, distance in pc): the models' own
    :func:`~clustermix.models.kinematics.observables_to_velocity`, by distance; the inverse
    of :func:`project_velocity`."""
    parallax_mas = 1000.0 / np.asarray(distance_pc, float)
    return observables_to_velocity(ra_deg, dec_deg, parallax_mas, pmra, pmdec, rv)


def project_velocity(
    ra_deg: np.ndarray, dec_deg: np.ndarray, distance_pc: np.ndarray, velocity_kms: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Proper motions (mas/yr, pmra includes cos dec) and radial velocity (km/s) of ICRS
    Cartesian velocities ``velocity_kms`` (..., 3) seen at (ra, dec, distance in pc): the
    models' own :func:`~clustermix.models.kinematics.velocity_to_observables`."""
    los, east, north = sky_basis(np.asarray(ra_deg, float), np.asarray(dec_deg, float))
    parallax_mas = 1000.0 / np.asarray(distance_pc, float)
    return velocity_to_observables(np.asarray(velocity_kms, float), los, east, north, parallax_mas)


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
    distance_pc: float,
    b_deg: float,
    g_max_mag: float,
    sky: SkySampler,
    depth: DepthSampler,
    inside: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Positions, distances and photometry of ``n`` stars of the cluster sequence at
    ``distance_pc`` (pc) with observed G <= g_max (mag) (and ``inside(ra, dec)``, if given).

    ``sky(batch)`` draws separations and position angles (deg) from ``centre`` (deg);
    ``depth(projected_pc)`` the line-of-sight offsets (pc) at those projected radii.
    """
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
        sep, pa = sky(batch)
        distance = distance_pc + depth(distance_pc * np.tan(np.radians(sep)))
        seq = stars.sample_cluster_sequence(rng, batch, m_limit)
        a_v = galaxy.extinction_av(distance, np.sin(np.radians(b_deg)))
        phot = _photometry(rng, seq["abs_g"], seq["bp_rp0"], a_v, galaxy.distance_modulus(distance))
        ra, dec = offset_positions(*centre, sep, pa)
        keep = phot["g_obs"] <= g_max_mag
        if inside is not None:
            keep &= inside(ra, dec)
        return {
            "ra": ra,
            "dec": dec,
            "distance_pc": distance,
            "a_v": a_v,
            "abs_g": seq["abs_g"],
            "bp_rp0": seq["bp_rp0"],
            "phase": seq["phase"],
            **phot,
            "keep": keep,
        }

    return _draw_until(n, draw)


def _plummer_depth(rng: np.random.Generator, scale_pc: float) -> DepthSampler:
    """Line-of-sight offsets (pc) of a Plummer sphere of scale ``scale_pc`` (pc), truncated at
    :data:`_PLUMMER_DEPTH_TRUNCATION` scale radii."""
    return partial(
        sample_plummer_depth,
        rng,
        scale_pc=scale_pc,
        z_max_pc=_PLUMMER_DEPTH_TRUNCATION * scale_pc,
    )


def _no_depth(projected_pc: np.ndarray) -> np.ndarray:
    """Zero line-of-sight offsets (pc): every star at the group's distance."""
    return np.zeros_like(projected_pc)


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


@dataclass(frozen=True)
class _Cone:
    """The simulated cone: centre (deg, ICRS), radius (deg, inside the edge margin),
    Galactic longitude and latitude of the centre (deg) and the faint limit in G (mag)."""

    ra_deg: float
    dec_deg: float
    radius_deg: float
    l_deg: float
    b_deg: float
    g_max_mag: float

    @property
    def centre(self) -> tuple[float, float]:
        """(ra, dec) of the centre, deg."""
        return (self.ra_deg, self.dec_deg)

    def contains(self, ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
        """Whether positions (deg) lie within ``radius_deg`` of the centre."""
        centre = sky_basis(np.asarray(self.ra_deg), np.asarray(self.dec_deg))[0]
        los = sky_basis(np.asarray(ra_deg, float), np.asarray(dec_deg, float))[0]
        return los @ centre >= np.cos(np.radians(self.radius_deg))


def _labels(n: int, group: int = -1) -> dict[str, np.ndarray]:
    """Latent labels of ``n`` single stars: option group index, binary flag, orbital RV."""
    return {
        "group": np.full(n, group, dtype=int),
        "binary": np.zeros(n, dtype=bool),
        "rv_orbit": np.zeros(n),
    }


def _concat(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Star dicts stacked, with the keys of the first."""
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def _member_sky(
    rngs: dict[str, np.random.Generator], params: Mapping[str, Any], radius_deg: float
) -> SkySampler:
    """Sky sampler of the cluster's members for ``params["profile"]``: Plummer from the
    members' stream (as without options), King or EFF from the profile's own stream."""
    scale_deg = params["plummer_radius_arcmin"] / 60.0
    if params["profile"] == "king":
        tidal_deg = params["king_tidal_radius_arcmin"] / 60.0
        return partial(
            sample_king_cone,
            rngs["profile"],
            core_deg=scale_deg,
            tidal_deg=tidal_deg,
            radius_deg=radius_deg,
        )
    if params["profile"] == "eff":
        return partial(
            sample_eff_cone,
            rngs["profile"],
            scale_deg=scale_deg,
            gamma=params["eff_gamma"],
            radius_deg=radius_deg,
        )
    return partial(sample_plummer_cone, rngs["members"], scale_deg=scale_deg, radius_deg=radius_deg)


def _main_members(
    rngs: dict[str, np.random.Generator],
    params: Mapping[str, Any],
    cone: _Cone,
    velocity: np.ndarray,
) -> dict[str, np.ndarray]:
    """The cluster's members: positions, photometry, true motions and labels."""
    rng, n = rngs["members"], int(params["n_members"])
    distance_pc = 1000.0 / params["parallax_mas"]
    scale_pc = distance_pc * np.tan(np.radians(params["plummer_radius_arcmin"] / 60.0))
    members = _draw_members(
        rng,
        n,
        cone.centre,
        distance_pc,
        cone.b_deg,
        cone.g_max_mag,
        sky=_member_sky(rngs, params, cone.radius_deg),
        depth=_plummer_depth(rng, scale_pc),
    )
    kin = _member_kinematics(rng, members, velocity, params["sigma_v_kms"])
    members.update(population=np.zeros(n, dtype=int), **_rename_true(kin), **_labels(n))
    if params["binary_fraction"] > 0.0:
        _make_binaries(rngs["binaries"], members, params["binary_fraction"])
    return members


def _make_binaries(
    rng: np.random.Generator, members: dict[str, np.ndarray], fraction: float
) -> None:
    """Turn each member, with probability ``fraction``, into an unresolved binary, in place.

    Mass ratio q ~ U(:data:`BINARY_Q_RANGE`), G-band flux ratio q^4: all magnitudes (true and
    observed G, BP, RP and absolute G) brighter by 2.5 log10(1 + q^4) <= 0.753 mag, colour
    unchanged; applied after the G cut, so the number of members stays. Orbital RV
    K sin(2 pi phase) (km/s), K log-normal (median :data:`BINARY_K_MEDIAN_KMS`, width
    :data:`BINARY_K_LOG_WIDTH`), phase uniform: a circular orbit seen at one epoch.
    Astrometry (RUWE, photocentre motion) is unaffected.
    """
    n = len(members["ra"])
    binary = rng.random(n) < fraction
    q = rng.uniform(*BINARY_Q_RANGE, n)
    k = BINARY_K_MEDIAN_KMS * np.exp(BINARY_K_LOG_WIDTH * rng.standard_normal(n))
    phase = rng.random(n)
    delta_mag = np.where(binary, 2.5 * np.log10(1.0 + q**4), 0.0)
    for key in ("abs_g", "g_true", "g_obs", "bp_obs", "rp_obs"):
        members[key] = members[key] - delta_mag
    members["binary"] = binary
    members["rv_orbit"] = np.where(binary, k * np.sin(2.0 * np.pi * phase), 0.0)


def _offset_centre(ra_deg: float, dec_deg: float, offset_arcmin: Sequence[float]) -> np.ndarray:
    """(ra, dec) in deg at ``offset_arcmin`` = [east, north] (arcmin) from (ra, dec): the
    great-circle separation hypot(east, north) at position angle atan2(east, north)."""
    east, north = (float(v) for v in offset_arcmin)
    ra, dec = offset_positions(
        ra_deg,
        dec_deg,
        np.array([np.hypot(east, north) / 60.0]),
        np.array([np.degrees(np.arctan2(east, north))]),
    )
    return np.array([ra[0], dec[0]])


def _extra_cluster(
    rng: np.random.Generator, spec: Mapping[str, Any], index: int, cone: _Cone
) -> dict[str, np.ndarray]:
    """Stars of ``extra_clusters[index]``: a Plummer cluster at its own offset centre,
    parallax and 3D velocity, on the same cluster sequence; those inside the cone."""
    n = int(spec["n_members"])
    centre = _offset_centre(cone.ra_deg, cone.dec_deg, spec["offset_arcmin"])
    distance_pc = 1000.0 / spec["parallax_mas"]
    _, velocity = cluster_phase_space(
        *centre, distance_pc, spec["pmra_masyr"], spec["pmdec_masyr"], spec["rv_kms"]
    )
    scale_deg = spec["plummer_radius_arcmin"] / 60.0
    reach_deg = np.hypot(*spec["offset_arcmin"]) / 60.0 + cone.radius_deg
    stars_ = _draw_members(
        rng,
        n,
        (float(centre[0]), float(centre[1])),
        distance_pc,
        cone.b_deg,
        cone.g_max_mag,
        sky=partial(sample_plummer_cone, rng, scale_deg=scale_deg, radius_deg=reach_deg),
        depth=_plummer_depth(rng, distance_pc * np.tan(np.radians(scale_deg))),
        inside=cone.contains,
    )
    kin = _member_kinematics(rng, stars_, velocity, spec["sigma_v_kms"])
    stars_.update(population=np.full(n, _EXTRA_CLUSTER), **_rename_true(kin), **_labels(n, index))
    return stars_


def _clump(
    rng: np.random.Generator, spec: Mapping[str, Any], index: int, cone: _Cone
) -> dict[str, np.ndarray]:
    """Stars of ``comoving_clumps[index]``: uniform over the cone, all at the clump's
    distance, on the cluster sequence, with proper motions (mas/yr) scattered by
    ``sigma_pm_masyr`` around the clump's and RVs by the same velocity (km/s)."""
    n = int(spec["n_stars"])
    distance_pc = 1000.0 / spec["parallax_mas"]
    stars_ = _draw_members(
        rng,
        n,
        cone.centre,
        distance_pc,
        cone.b_deg,
        cone.g_max_mag,
        sky=partial(sample_uniform_cone, rng, radius_deg=cone.radius_deg),
        depth=_no_depth,
    )
    z = rng.standard_normal((3, n))
    sigma_pm = spec["sigma_pm_masyr"]
    pmra = spec["pmra_masyr"] + sigma_pm * z[0]
    pmdec = spec["pmdec_masyr"] + sigma_pm * z[1]
    rv = spec["rv_kms"] + sigma_pm * KMS_PER_MASYR_KPC * distance_pc / 1000.0 * z[2]
    stars_.update(
        population=np.full(n, _CLUMP),
        pmra_true=pmra,
        pmdec_true=pmdec,
        rv_true=rv,
        v_icrs=motion_to_velocity(
            stars_["ra"], stars_["dec"], stars_["distance_pc"], pmra, pmdec, rv
        ),
        **_labels(n, index),
    )
    return stars_


def _added_stars(
    rngs: dict[str, np.random.Generator], params: Mapping[str, Any], cone: _Cone
) -> dict[str, np.ndarray] | None:
    """Stars of ``extra_clusters`` and ``comoving_clumps`` (None without either)."""
    parts = [
        _extra_cluster(rngs["extra_clusters"], spec, index, cone)
        for index, spec in enumerate(params["extra_clusters"])
    ]
    parts += [
        _clump(rngs["clumps"], {**CLUMP_DEFAULTS, **spec}, index, cone)
        for index, spec in enumerate(params["comoving_clumps"])
    ]
    if not parts:
        return None
    added = _concat(parts)
    added["parallax_true"] = 1000.0 / added["distance_pc"]
    return added


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
    rng: np.random.Generator,
    stars_: dict[str, np.ndarray],
    known: dict[str, np.ndarray],
    noise_scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Positions, parallax (with the zero point), proper motions, their uncertainties and
    correlations, RUWE, visibility periods and ecliptic latitude.

    The five observed parameters are drawn jointly from each star's 5x5 covariance, built
    from the float32 uncertainties and correlations the catalogue stores, so the catalogue's
    own numbers describe the noise exactly, unless ``noise_scale`` (the option
    ``error_underestimate``) scales the noise but not the stored uncertainties.
    ``_zero_point`` (mas) is kept for the latent table.
    """
    g = known["phot_g_mean_mag"]
    periods = ge.draw_visibility_periods(rng, g)
    errors = ge.draw_uncertainties(rng, g, periods)
    corr = ge.draw_correlations(rng, len(g))
    noise = noise_scale * ge.correlated_noise(rng, ge.covariance(errors, corr))
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
    rng: np.random.Generator,
    stars_: dict[str, np.ndarray],
    phot: dict[str, np.ndarray],
    noise_scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Radial velocity, its uncertainty (km/s) and G_RVS (mag) for bright stars; NaN for
    the others.

    The true RV plus a binary's orbital RV plus noise of standard deviation ``noise_scale``
    times the true uncertainty, as Gaia DR3 publishes it: with the faint-star offset of
    Katz et al. (2023) subtracted and the uncertainty divided by the factor of Babusiaux et
    al. (2023) (:mod:`clustermix.data.rv_correction`), so that the cleaning step's
    correction gives back the true RV and uncertainty.
    """
    bp_rp = phot["bp_rp"]
    g_rvs = grvs_from_rp(phot["phot_rp_mean_mag"], bp_rp)
    has_rv = ge.rv_availability(rng, g_rvs, bp_rp)
    rv_error = ge.rv_uncertainty(rng, np.where(has_rv, g_rvs, ge.RVS_LIMIT_MAG), bp_rp)
    noise = noise_scale * (rv_error * rng.standard_normal(len(bp_rp)))
    rv_obs = (stars_["rv_true"] + stars_["rv_orbit"]) + noise - rv_offset_kms(g_rvs)
    published_error = _f32(rv_error / rv_error_factor(g_rvs))
    return {
        "radial_velocity": np.where(has_rv, rv_obs, np.nan),
        "radial_velocity_error": np.where(has_rv, published_error, np.nan),
        "grvs_mag": np.where(has_rv, g_rvs, np.nan),
    }


def _observe(
    rng: np.random.Generator, stars_: dict[str, np.ndarray], noise_scale: float = 1.0
) -> dict[str, np.ndarray]:
    """Gaia DR3-like catalogue columns of true stars (dtypes applied by the table); the
    astrometric and RV noise is ``noise_scale`` times what the uncertainties say."""
    cols = _photometric_columns(rng, stars_)
    cols.update(_solution_columns(rng, stars_, cols))
    cols.update(_astrometric_columns(rng, stars_, cols, noise_scale))
    cols.update(_rv_columns(rng, stars_, cols, noise_scale))
    cols["source_id"] = ge.make_source_ids(rng, cols["ra"], cols["dec"])
    return cols


def _observe_all(
    rngs: dict[str, np.random.Generator],
    base: dict[str, np.ndarray],
    added: dict[str, np.ndarray] | None,
    noise_scale: float,
) -> dict[str, np.ndarray]:
    """Catalogue columns of ``base`` (cluster and field) and, appended after them, of the
    ``added`` stars of ``extra_clusters`` and ``comoving_clumps``.

    The added stars are observed with their own stream, so the base stars' columns are those
    of a run without them; their source_ids are redrawn where they collide with others.
    """
    cols = _observe(rngs["observe"], base, noise_scale)
    if added is None:
        return cols
    more = _observe(rngs["observe_added"], added, noise_scale)
    cols = {key: np.concatenate([cols[key], more[key]]) for key in cols}
    ids = cols["source_id"]
    while True:
        _, first = np.unique(ids, return_index=True)
        duplicate = np.ones(len(ids), dtype=bool)
        duplicate[first] = False  # the first of equal ids is a base star's if one has it
        if not duplicate.any():
            return cols
        prefix = (ids[duplicate] >> 35) << 35
        ids[duplicate] = prefix + rngs["observe_added"].integers(0, 1 << 35, duplicate.sum())


def _limit_rv(cols: dict[str, np.ndarray], rv_g_max_mag: float | None) -> None:
    """Drop (NaN) radial velocities of stars fainter than ``rv_g_max_mag`` in observed G."""
    if rv_g_max_mag is None:
        return
    faint = ~(cols["phot_g_mean_mag"] <= rv_g_max_mag)
    for name in ("radial_velocity", "radial_velocity_error", "grvs_mag"):
        cols[name] = np.where(faint, np.nan, cols[name])


def _preselect(catalog: Table, latent: Table, preselection: str | None) -> tuple[Table, Table]:
    """The rows of ``catalog`` and ``latent`` that pass ``preselection``.

    ``parallax_over_error``: parallax > 0 and parallax_error / parallax below
    :data:`PRESELECTION_MAX_RELATIVE_ERROR` (the catalogue's parallax, zero point included).
    """
    if preselection is None:
        return catalog, latent
    parallax = np.asarray(catalog["parallax"], dtype=np.float64)
    error = np.asarray(catalog["parallax_error"], dtype=np.float64)
    positive = parallax > 0.0
    relative = np.divide(error, parallax, out=np.full(len(parallax), np.inf), where=positive)
    keep = positive & (relative < PRESELECTION_MAX_RELATIVE_ERROR)
    return catalog[keep], latent[keep]


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
        "group": stars_["group"],
        "binary": stars_["binary"],
        "rv_orbit": stars_["rv_orbit"],
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
        "rv_orbit": u.km / u.s,
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


def _group_mask(latent: Table, population: int, index: int) -> np.ndarray:
    """Rows of ``latent`` from option group ``index`` of latent population ``population``."""
    return (np.asarray(latent["population"]) == _POPULATION_NAMES[population]) & (
        np.asarray(latent["group"]) == index
    )


def _ids(latent: Table, mask: np.ndarray) -> list[int]:
    """source_ids of the rows of ``latent`` in ``mask``, as plain ints."""
    return [int(s) for s in np.asarray(latent["source_id"])[mask]]


def _extra_clusters_truth(params: Mapping[str, Any], latent: Table) -> list[dict[str, Any]]:
    """Truth of each ``extra_clusters`` entry: centre (deg), offset (arcmin), parallax (mas),
    distance (pc), proper motion (mas/yr), RV and dispersion (km/s), Plummer radius
    (arcmin), members drawn and in the catalogue, and their source_ids."""
    entries = []
    for index, spec in enumerate(params["extra_clusters"]):
        ra, dec = _offset_centre(params["ra_deg"], params["dec_deg"], spec["offset_arcmin"])
        mask = _group_mask(latent, _EXTRA_CLUSTER, index)
        entries.append(
            {
                "ra_deg": float(ra),
                "dec_deg": float(dec),
                "offset_arcmin": [float(v) for v in spec["offset_arcmin"]],
                "parallax": float(spec["parallax_mas"]),
                "distance": 1000.0 / float(spec["parallax_mas"]),
                "pmra": float(spec["pmra_masyr"]),
                "pmdec": float(spec["pmdec_masyr"]),
                "rv": float(spec["rv_kms"]),
                "sigma_v": float(spec["sigma_v_kms"]),
                "plummer_radius_arcmin": float(spec["plummer_radius_arcmin"]),
                "n_members_input": int(spec["n_members"]),
                "n_members": int(mask.sum()),
                "member_source_ids": _ids(latent, mask),
            }
        )
    return entries


def _clumps_truth(params: Mapping[str, Any], latent: Table) -> list[dict[str, Any]]:
    """Truth of each ``comoving_clumps`` entry: proper motion and its scatter (mas/yr),
    parallax (mas), RV (km/s), stars drawn and in the catalogue, and their source_ids."""
    entries = []
    for index, given in enumerate(params["comoving_clumps"]):
        spec = {**CLUMP_DEFAULTS, **given}
        mask = _group_mask(latent, _CLUMP, index)
        entries.append(
            {
                "pmra": float(spec["pmra_masyr"]),
                "pmdec": float(spec["pmdec_masyr"]),
                "sigma_pm": float(spec["sigma_pm_masyr"]),
                "parallax": float(spec["parallax_mas"]),
                "rv": float(spec["rv_kms"]),
                "n_stars_input": int(spec["n_stars"]),
                "n_stars": int(mask.sum()),
                "source_ids": _ids(latent, mask),
            }
        )
    return entries


def _profile_truth(params: Mapping[str, Any]) -> dict[str, Any]:
    """The members' sky profile: King core and tidal radii or EFF scale radius (arcmin) and
    slope gamma."""
    if params["profile"] == "king":
        return {
            "name": "king",
            "core_radius_arcmin": float(params["plummer_radius_arcmin"]),
            "tidal_radius_arcmin": float(params["king_tidal_radius_arcmin"]),
        }
    return {
        "name": "eff",
        "scale_radius_arcmin": float(params["plummer_radius_arcmin"]),
        "gamma": float(params["eff_gamma"]),
    }


def _option_truth(params: Mapping[str, Any], latent: Table, drawn: Table) -> dict[str, Any]:
    """Truth entries of the options that are on (none with the defaults). ``latent`` is the
    catalogue's latent table, ``drawn`` the one before ``preselection``."""
    truth: dict[str, Any] = {}
    if params["extra_clusters"]:
        truth["extra_clusters"] = _extra_clusters_truth(params, latent)
    if params["comoving_clumps"]:
        truth["comoving_clumps"] = _clumps_truth(params, latent)
    if params["profile"] != "plummer":
        truth["profile"] = _profile_truth(params)
    if params["binary_fraction"] > 0.0:
        truth["binaries"] = {
            "fraction": float(params["binary_fraction"]),
            "q_range": list(BINARY_Q_RANGE),
            "k_median_kms": BINARY_K_MEDIAN_KMS,
            "k_log_width": BINARY_K_LOG_WIDTH,
            "source_ids": _ids(latent, np.asarray(latent["binary"], dtype=bool)),
        }
    if params["error_underestimate"] != 1.0:
        truth["error_underestimate"] = float(params["error_underestimate"])
    if params["preselection"] is not None:
        members = int(np.sum(drawn["is_member"]))
        truth["preselection"] = {
            "name": params["preselection"],
            "max_relative_error": PRESELECTION_MAX_RELATIVE_ERROR,
            "n_stars_input": len(drawn),
            "n_members_input": members,
            "n_field_input": len(drawn) - members,
        }
    if params["rv_g_max_mag"] is not None:
        truth["rv_g_max_mag"] = float(params["rv_g_max_mag"])
    return truth


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


def _check_entry(
    name: str, index: int, spec: Any, keys: Sequence[str], optional: Sequence[str] = ()
) -> None:
    """Raise :class:`ConfigError` unless ``spec`` is a mapping with exactly ``keys`` (and
    maybe ``optional``), whose values other than ``offset_arcmin`` are finite numbers."""
    where = f"simulation.{name}[{index}]"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where} must be a mapping, got {spec!r}")
    missing = [key for key in keys if key not in spec]
    unknown = [key for key in spec if key not in (*keys, *optional)]
    if missing or unknown:
        raise ConfigError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    for key, value in spec.items():
        if key == "offset_arcmin":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ConfigError(f"{where}.{key} must be a finite number, got {value!r}")


def _check_positive(where: str, spec: Mapping[str, Any], keys: Sequence[str]) -> None:
    """Raise :class:`ConfigError` unless every ``spec[key]`` is > 0."""
    for key in keys:
        if not spec[key] > 0:
            raise ConfigError(f"{where}.{key} must be > 0, got {spec[key]!r}")


def _check_count(where: str, spec: Mapping[str, Any], key: str) -> None:
    """Raise :class:`ConfigError` unless ``spec[key]`` is a whole number."""
    if not float(spec[key]).is_integer():
        raise ConfigError(f"{where}.{key} must be a whole number, got {spec[key]!r}")


def _check_groups(params: Mapping[str, Any]) -> None:
    """Validate ``extra_clusters`` and ``comoving_clumps``."""
    for index, spec in enumerate(params["extra_clusters"]):
        _check_entry("extra_clusters", index, spec, EXTRA_CLUSTER_KEYS)
        where = f"simulation.extra_clusters[{index}]"
        positive = ("n_members", "parallax_mas", "sigma_v_kms", "plummer_radius_arcmin")
        _check_positive(where, spec, positive)
        _check_count(where, spec, "n_members")
        offset = np.asarray(spec["offset_arcmin"], dtype=float)
        if offset.shape != (2,) or not np.all(np.isfinite(offset)):
            raise ConfigError(f"{where}.offset_arcmin must be [east, north] in arcmin")
        if not np.hypot(*offset) < params["radius_arcmin"]:
            raise ConfigError(f"{where}.offset_arcmin puts the centre outside the cone")
    for index, spec in enumerate(params["comoving_clumps"]):
        _check_entry("comoving_clumps", index, spec, CLUMP_KEYS, tuple(CLUMP_DEFAULTS))
        where = f"simulation.comoving_clumps[{index}]"
        _check_positive(where, spec, ("n_stars", "parallax_mas"))
        _check_count(where, spec, "n_stars")
        if not spec["sigma_pm_masyr"] >= 0:
            raise ConfigError(f"{where}.sigma_pm_masyr must be >= 0")


def _check_profile(params: Mapping[str, Any]) -> None:
    """Validate ``profile`` and the parameter that it (and only it) needs."""
    profile, tidal, gamma = (
        params["profile"],
        params["king_tidal_radius_arcmin"],
        params["eff_gamma"],
    )
    if profile not in PROFILES:
        raise ConfigError(f"simulation.profile must be one of {PROFILES}, got {profile!r}")
    if (tidal is not None) != (profile == "king"):
        raise ConfigError("simulation.king_tidal_radius_arcmin is needed with (only) profile king")
    if (gamma is not None) != (profile == "eff"):
        raise ConfigError("simulation.eff_gamma is needed with (only) profile eff")
    if profile == "king" and not tidal > params["plummer_radius_arcmin"]:
        raise ConfigError(
            f"simulation.king_tidal_radius_arcmin ({tidal!r}) must exceed the core radius "
            f"plummer_radius_arcmin ({params['plummer_radius_arcmin']!r})"
        )
    if profile == "eff" and not gamma > 0:
        raise ConfigError(f"simulation.eff_gamma must be > 0, got {gamma!r}")


def _check_options(params: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` naming the first invalid assumption-breaking option."""
    _check_groups(params)
    _check_profile(params)
    if not 0.0 <= params["binary_fraction"] <= 1.0:
        raise ConfigError(
            f"simulation.binary_fraction must be in [0, 1], got {params['binary_fraction']!r}"
        )
    if not params["error_underestimate"] > 0:
        raise ConfigError(
            f"simulation.error_underestimate must be > 0, got {params['error_underestimate']!r}"
        )
    if params["preselection"] is not None and params["preselection"] not in PRESELECTIONS:
        raise ConfigError(
            f"simulation.preselection must be null or one of {PRESELECTIONS}, "
            f"got {params['preselection']!r}"
        )
    limit = params["rv_g_max_mag"]
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, numbers.Real) or not np.isfinite(limit)
    ):
        raise ConfigError(f"simulation.rv_g_max_mag must be a number or null, got {limit!r}")


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
    extra_clusters: Sequence[Mapping[str, Any]] = (),
    comoving_clumps: Sequence[Mapping[str, Any]] = (),
    profile: str = "plummer",
    king_tidal_radius_arcmin: float | None = None,
    eff_gamma: float | None = None,
    binary_fraction: float = 0.0,
    error_underestimate: float = 1.0,
    preselection: str | None = None,
    rv_g_max_mag: float | None = None,
) -> SimulatedField:
    """:func:`simulate_field`, also returning the per-star true values (for tests)."""
    params = dict(locals())
    _check_inputs(params)
    _check_options(params)
    seeds = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    rngs = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, seeds, strict=True)}
    galactic = SkyCoord(ra=ra_deg * u.deg, dec=dec_deg * u.deg, frame=ICRS()).galactic
    cone = _Cone(
        ra_deg=float(ra_deg),
        dec_deg=float(dec_deg),
        radius_deg=radius_arcmin / 60.0 - _EDGE_MARGIN_ARCSEC / 3600.0,
        l_deg=float(galactic.l.deg),
        b_deg=float(galactic.b.deg),
        g_max_mag=g_max_mag,
    )
    distance_pc = 1000.0 / parallax_mas
    position, velocity = cluster_phase_space(
        ra_deg, dec_deg, distance_pc, pmra_masyr, pmdec_masyr, rv_kms
    )

    members = _main_members(rngs, params, cone, velocity)
    field = _draw_field(
        rngs["field"], n_field, cone.centre, cone.radius_deg, cone.l_deg, cone.b_deg, g_max_mag
    )
    kin = galaxy.draw_field_velocities(
        rngs["field"], field["ra"], field["dec"], field["distance_pc"], field["population"] - 1
    )
    field.update(_rename_true(kin), **_labels(n_field))

    everyone = _concat([members, field])
    everyone["parallax_true"] = 1000.0 / everyone["distance_pc"]
    added = _added_stars(rngs, params, cone)
    cols = _observe_all(rngs, everyone, added, error_underestimate)
    if added is not None:
        everyone = _concat([everyone, added])
    _limit_rv(cols, rv_g_max_mag)
    order = np.argsort(cols["source_id"], kind="stable")
    catalog = _catalog_table(cols, order)
    catalog.meta["SIMULATD"] = True
    catalog.meta["SIMSEED"] = int(seed)
    drawn = _latent_table(everyone, cols["source_id"], cols["_zero_point"], order)
    catalog, latent = _preselect(catalog, drawn, preselection)
    a_v = float(galaxy.extinction_av(np.array([distance_pc]), np.sin(np.radians(cone.b_deg)))[0])
    truth = _truth(params=params, position=position, velocity=velocity, latent=latent, a_v=a_v)
    truth.update(_option_truth(params, latent, drawn))
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
    extra_clusters: Sequence[Mapping[str, Any]] = (),
    comoving_clumps: Sequence[Mapping[str, Any]] = (),
    profile: str = "plummer",
    king_tidal_radius_arcmin: float | None = None,
    eff_gamma: float | None = None,
    binary_fraction: float = 0.0,
    error_underestimate: float = 1.0,
    preselection: str | None = None,
    rv_g_max_mag: float | None = None,
) -> tuple[Table, dict[str, Any]]:
    """Simulate a Gaia DR3 cone around a cluster; return (catalogue, truth).

    Parameters
    ----------
    ra_deg, dec_deg, radius_arcmin
        Cone centre (deg, ICRS; also the cluster centre) and radius (arcmin).
    seed
        Seed of every random draw: same inputs, identical outputs.
    n_members, n_field
        Numbers of cluster members and field stars with G <= ``g_max_mag`` inside the cone
        (before ``preselection``).
    parallax_mas
        True parallax of the cluster centre (mas); its distance is 1000 / parallax (pc).
    pmra_masyr, pmdec_masyr, rv_kms
        Proper motion (mas/yr, pmra includes cos dec) and radial velocity (km/s) of the
        centre, which fix the cluster's 3D velocity; each member's motion is that velocity
        (plus the dispersion) projected at its own position and distance.
    sigma_v_kms
        Isotropic internal 1D velocity dispersion (km/s).
    plummer_radius_arcmin
        Plummer scale radius (arcmin) of the members' sky distribution, cut at the cone
        (the King core radius or EFF scale radius with those profiles).
    g_max_mag
        Faint limit on the observed G (mag).

    Options that break the models' assumptions; the defaults switch them off and then the
    outputs are exactly those of a call without them.

    extra_clusters
        Further clusters in the cone, each a mapping with ``n_members`` (stars inside the
        cone, G <= g_max), ``parallax_mas`` (mas), ``pmra_masyr``, ``pmdec_masyr`` (mas/yr),
        ``rv_kms``, ``sigma_v_kms`` (km/s), ``plummer_radius_arcmin`` (arcmin) and
        ``offset_arcmin`` ([east, north], arcmin, of its centre from the cone centre; inside
        the cone). Same cluster sequence and Plummer model as the cluster; not members.
    comoving_clumps
        Small groups of non-members spread uniformly over the cone with nearly one proper
        motion, each a mapping with ``n_stars``, ``pmra_masyr``, ``pmdec_masyr`` (mas/yr),
        ``parallax_mas`` (mas, all at that distance), ``sigma_pm_masyr`` (mas/yr, scatter of
        each proper-motion component) and optionally ``rv_kms`` (km/s, default 0; scattered
        by the velocity equivalent of sigma_pm). Cluster-sequence photometry.
    profile
        Members' sky profile: ``plummer``; ``king`` (King 1962, core radius
        ``plummer_radius_arcmin``, tidal radius ``king_tidal_radius_arcmin``, arcmin); or
        ``eff`` (Elson, Fall & Freeman 1987, surface density ~ (1 + R^2 / a^2)^(-gamma / 2),
        a = ``plummer_radius_arcmin``, gamma = ``eff_gamma``; 4 is Plummer). The depth
        along the line of sight stays that of the Plummer sphere of that radius.
    king_tidal_radius_arcmin, eff_gamma
        The King tidal radius (arcmin, > core) and EFF slope (> 0); required by, and only
        allowed with, their profile.
    binary_fraction
        Fraction (0-1) of the members that are unresolved binaries: brighter by
        2.5 log10(1 + q^4) mag (q ~ U(0.1, 1); at most 0.753 mag, colour unchanged) and an
        orbital RV K sin(phase), K log-normal with median 7 km/s, width 0.5 in ln K. These
        come on top of the photometric binaries the cluster sequence always has (30 % of
        main-sequence members, no RV signature; see :mod:`clustermix.data.stars`).
    error_underestimate
        The astrometric (positions, parallax, proper motions) and RV noise has this many
        times the catalogue's uncertainties (1.2: the uncertainties are 20 % too small);
        the uncertainty columns are unchanged.
    preselection
        None, or ``parallax_over_error``: keep only stars with parallax > 0 and
        parallax_error / parallax < 0.5 (the catalogue's parallax, zero point included).
        The counts above are drawn before this cut; the truth's counts and source_ids are
        after it.
    rv_g_max_mag
        None, or radial velocities only for stars with observed G <= this (mag).

    Returns
    -------
    catalog
        Astropy table with exactly the columns, dtypes and units of ``GAIA_COLUMNS``, rows
        sorted by ``source_id``; float nulls are NaN.
    truth
        JSON-ready dict: counts (``n_field`` counts every non-member), the cluster's true
        parameters, ICRS and Galactocentric position/velocity, the mean parallax zero point
        of the members, member source_ids, units and the Galactic model of the field; for
        each option that is on, its entry (``extra_clusters`` and ``comoving_clumps`` with
        their parameters and source_ids, ``profile``, ``binaries`` with the binaries'
        source_ids, ``error_underestimate``, ``preselection`` with the counts before the cut,
        ``rv_g_max_mag``).
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
        extra_clusters=extra_clusters,
        comoving_clumps=comoving_clumps,
        profile=profile,
        king_tidal_radius_arcmin=king_tidal_radius_arcmin,
        eff_gamma=eff_gamma,
        binary_fraction=binary_fraction,
        error_underestimate=error_underestimate,
        preselection=preselection,
        rv_g_max_mag=rv_g_max_mag,
    )
    return sim.catalog, sim.truth

"""A simple Galactic model for the field stars of a simulated Gaia cone.

Three populations (thin disc, thick disc, stellar halo), each with a space density, a
luminosity function (from :mod:`clustermix.data.stars`) and a velocity ellipsoid in
Galactocentric cylindrical coordinates; a dust layer whose extinction grows with distance.
Field stars are drawn along the line of sight with probability

    density(r) x r^2 x (fraction of the luminosity function brighter than the magnitude limit),

then each gets an absolute magnitude from its population's truncated luminosity function and a
velocity from its population's ellipsoid, converted to proper motions and radial velocity with
astropy (Galactocentric -> ICRS).

Frame: astropy's Galactocentric frame with the ``v4.0`` parameter set (Sun at 8122 pc from the
Galactic centre, 20.8 pc above the plane, solar velocity (12.9, 245.6, 7.78) km/s), pinned here
so that a future astropy default cannot change the simulation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import (
    ICRS,
    CartesianDifferential,
    CartesianRepresentation,
    Galactic,
    Galactocentric,
    SkyCoord,
    galactocentric_frame_defaults,
)

from clustermix.data import stars

#: astropy's named Galactocentric parameter set used everywhere in clustermix.
GALCEN_VERSION = "v4.0"
#: Circular speed of the flat rotation curve (km/s): astropy's v4.0 solar azimuthal velocity
#: (245.6 km/s) minus the solar peculiar motion V = 12.24 km/s of Schoenrich et al. (2010).
V_CIRC_KMS = 233.4
#: Dust layer: extinction per kpc in the mid-plane (mag/kpc, V band) and scale height (pc).
#: With these, A_V = 0.41 mag at 2.8 kpc towards NGC 6819 (literature: 0.3 to 0.5).
DUST_AV_PER_KPC = 0.5
DUST_SCALE_HEIGHT_PC = 125.0
#: Line-of-sight grid (pc): logarithmic cells from 5 pc to 60 kpc.
_LOS_EDGES_PC = np.geomspace(5.0, 60_000.0, 4001)


@dataclass(frozen=True)
class Population:
    """One Galactic population of field stars.

    Density is relative to the thin disc's density in the plane at the Sun (so the thin
    disc has ``local_fraction`` 1). Discs: exponential in R and |z| with ``scale_length_pc``
    and ``scale_height_pc``. Halo: a flattened power law
    ``(r_q / R0) ** -power_index`` with ``r_q = sqrt(R^2 + (z / flattening)^2)`` (pc), cored
    at ``core_radius_pc``. Velocities (km/s): Gaussian in (v_R, v_phi, v_z) with mean
    (0, V_CIRC_KMS - lag_kms, 0) and dispersions ``sigma_kms``. ``turnoff_mag``: brightest
    main-sequence absolute G (mag) of an old population (None: young, the full main
    sequence); ``colour_shift_mag``: shift of its intrinsic BP-RP (metallicity).
    """

    name: str
    local_fraction: float
    scale_length_pc: float | None
    scale_height_pc: float | None
    power_index: float | None
    flattening: float | None
    core_radius_pc: float | None
    lag_kms: float
    sigma_kms: tuple[float, float, float]
    turnoff_mag: float | None
    colour_shift_mag: float

    def density(self, r_cyl_pc: np.ndarray, z_pc: np.ndarray, r0_pc: float) -> np.ndarray:
        """Number density relative to the thin disc at the Sun (dimensionless)."""
        if self.power_index is None:
            return self.local_fraction * np.exp(
                -(r_cyl_pc - r0_pc) / self.scale_length_pc - np.abs(z_pc) / self.scale_height_pc
            )
        r_q = np.sqrt(r_cyl_pc**2 + (z_pc / self.flattening) ** 2)
        r_q = np.maximum(r_q, self.core_radius_pc)
        return self.local_fraction * (r_q / r0_pc) ** (-self.power_index)


#: Thin disc: Bland-Hawthorn & Gerhard (2016) scale length 2.6 kpc, scale height 300 pc;
#: dispersions of old thin-disc stars near the Sun.
THIN_DISC = Population(
    "thin_disc", 1.0, 2600.0, 300.0, None, None, None, 10.0, (35.0, 25.0, 20.0), None, 0.0
)
#: Thick disc: Juric et al. (2008) local normalisation 0.12, scale height 900 pc;
#: scale length 2.0 kpc; lag 40 km/s.
THICK_DISC = Population(
    "thick_disc", 0.12, 2000.0, 900.0, None, None, None, 40.0, (65.0, 50.0, 45.0), 3.7, -0.06
)
#: Stellar halo: Juric et al. (2008) local normalisation 0.005, power law 2.8,
#: flattening 0.64; no net rotation.
HALO = Population(
    "halo", 0.005, None, None, 2.8, 0.64, 1000.0, V_CIRC_KMS, (140.0, 100.0, 95.0), 4.0, -0.15
)
POPULATIONS: tuple[Population, ...] = (THIN_DISC, THICK_DISC, HALO)


def galactocentric_frame() -> Galactocentric:
    """astropy's Galactocentric frame with the pinned :data:`GALCEN_VERSION` parameters."""
    parameters = galactocentric_frame_defaults.get_from_registry(GALCEN_VERSION)["parameters"]
    return Galactocentric(**parameters)


def galactocentric_parameters() -> dict[str, Any]:
    """The Galactocentric frame parameters as plain JSON values (pc, km/s, deg)."""
    frame = galactocentric_frame()
    return {
        "astropy_parameter_set": GALCEN_VERSION,
        "galcen_ra_deg": float(frame.galcen_coord.ra.deg),
        "galcen_dec_deg": float(frame.galcen_coord.dec.deg),
        "galcen_distance_pc": float(frame.galcen_distance.to_value(u.pc)),
        "z_sun_pc": float(frame.z_sun.to_value(u.pc)),
        "galcen_v_sun_kms": [float(v) for v in frame.galcen_v_sun.xyz.to_value(u.km / u.s)],
        "roll_deg": float(frame.roll.to_value(u.deg)),
    }


def extinction_av(distance_pc: np.ndarray, sin_b: float) -> np.ndarray:
    """V-band extinction (mag) to ``distance_pc`` through an exponential dust layer.

    A_V = a0 * r * (1 - exp(-x)) / x with x = r |sin b| / h_dust, a0 =
    :data:`DUST_AV_PER_KPC` and h_dust = :data:`DUST_SCALE_HEIGHT_PC`; A_V = a0 r in the plane.
    """
    r_kpc = np.asarray(distance_pc, dtype=float) / 1000.0
    x = np.asarray(distance_pc, dtype=float) * abs(sin_b) / DUST_SCALE_HEIGHT_PC
    safe_x = np.where(x > 1e-8, x, 1.0)
    factor = np.where(x > 1e-8, -np.expm1(-safe_x) / safe_x, 1.0)
    return DUST_AV_PER_KPC * r_kpc * factor


def distance_modulus(distance_pc: np.ndarray) -> np.ndarray:
    """5 log10(d / 10 pc) (mag)."""
    return 5.0 * np.log10(np.asarray(distance_pc, dtype=float) / 10.0)


def _los_cylindrical(l_deg: float, b_deg: float, distance_pc: np.ndarray) -> tuple[np.ndarray, ...]:
    """Galactocentric cylindrical R and z (pc) along the line of sight (l, b)."""
    n = len(distance_pc)
    points = SkyCoord(
        l=np.full(n, l_deg) * u.deg,
        b=np.full(n, b_deg) * u.deg,
        distance=distance_pc * u.pc,
        frame=Galactic(),
    ).transform_to(galactocentric_frame())
    x, y, z = (getattr(points, axis).to_value(u.pc) for axis in "xyz")
    return np.hypot(x, y), z


def _los_weights(
    l_deg: float, b_deg: float, g_limit_mag: float, lfs: list[stars.LuminosityFunction]
) -> np.ndarray:
    """Unnormalised probability of (population, line-of-sight cell), shape (n_pop, n_cell).

    density x r^2 dr x the fraction of the population's luminosity function with
    G = M + mu(r) + A_G(r) brighter than ``g_limit_mag``.
    """
    edges = _LOS_EDGES_PC
    r_mid = np.sqrt(edges[:-1] * edges[1:])
    r0_pc = galactocentric_frame().galcen_distance.to_value(u.pc)
    r_cyl, z = _los_cylindrical(l_deg, b_deg, r_mid)
    m_limit = _absolute_limit(r_mid, b_deg, g_limit_mag)
    volume = r_mid**2 * np.diff(edges)
    return np.array(
        [
            pop.density(r_cyl, z, r0_pc) * volume * lf.cumulative_at(m_limit)
            for pop, lf in zip(POPULATIONS, lfs, strict=True)
        ]
    )


def _absolute_limit(distance_pc: np.ndarray, b_deg: float, g_limit_mag: float) -> np.ndarray:
    """Faintest visible absolute G (mag) at ``distance_pc``."""
    a_g = stars.A_G_PER_AV * extinction_av(distance_pc, np.sin(np.radians(b_deg)))
    return g_limit_mag - distance_modulus(distance_pc) - a_g


def sample_field_population(
    rng: np.random.Generator, n: int, l_deg: float, b_deg: float, g_limit_mag: float
) -> dict[str, np.ndarray]:
    """Draw ``n`` field stars brighter than ``g_limit_mag`` (true G) along (l, b).

    Returns arrays: ``population`` (index into :data:`POPULATIONS`), ``distance_pc``,
    ``a_v`` (mag), ``abs_g`` (mag), ``bp_rp0`` (intrinsic, mag) and ``giant`` (bool).
    """
    lfs = [stars.LuminosityFunction.for_population(pop.turnoff_mag) for pop in POPULATIONS]
    weights = _los_weights(l_deg, b_deg, g_limit_mag, lfs)
    n_cell = weights.shape[1]
    cdf = np.cumsum(weights.ravel())
    index = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    index = np.minimum(index, cdf.size - 1)
    population, cell = np.divmod(index, n_cell)
    lo, hi = _LOS_EDGES_PC[cell], _LOS_EDGES_PC[cell + 1]
    distance = lo + (hi - lo) * rng.random(n)
    a_v = extinction_av(distance, np.sin(np.radians(b_deg)))
    m_limit = _absolute_limit(distance, b_deg, g_limit_mag)
    abs_g = np.empty(n)
    giant = np.empty(n, dtype=bool)
    bp_rp0 = np.empty(n)
    for k, (pop, lf) in enumerate(zip(POPULATIONS, lfs, strict=True)):
        sel = population == k
        abs_g[sel], giant[sel] = lf.sample(rng, m_limit[sel])
        bp_rp0[sel] = stars.field_colour(rng, abs_g[sel], giant[sel], pop.colour_shift_mag)
    return {
        "population": population,
        "distance_pc": distance,
        "a_v": a_v,
        "abs_g": abs_g,
        "bp_rp0": bp_rp0,
        "giant": giant,
    }


def draw_field_velocities(
    rng: np.random.Generator,
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    distance_pc: np.ndarray,
    population: np.ndarray,
) -> dict[str, np.ndarray]:
    """Galactic velocities of field stars, observed from the solar-system barycentre.

    Draws (v_R, v_phi, v_z) (km/s) from each star's population ellipsoid at its own
    Galactocentric position, and converts with astropy (Galactocentric -> ICRS).

    Returns ``pmra`` and ``pmdec`` (mas/yr, pmra includes cos dec), ``rv`` (km/s) and
    ``v_icrs`` (km/s, shape (n, 3), ICRS Cartesian velocity).
    """
    frame = galactocentric_frame()
    gc = SkyCoord(
        ra=ra_deg * u.deg, dec=dec_deg * u.deg, distance=distance_pc * u.pc, frame=ICRS()
    ).transform_to(frame)
    x, y, z = (getattr(gc, axis).to_value(u.pc) for axis in "xyz")
    r_cyl = np.hypot(x, y)
    radial = np.stack([x / r_cyl, y / r_cyl])
    # Direction of Galactic rotation: +y at the Sun's position (x < 0, y = 0).
    azimuthal = np.stack([y / r_cyl, -x / r_cyl])
    lag = np.array([pop.lag_kms for pop in POPULATIONS])[population]
    sigma = np.array([pop.sigma_kms for pop in POPULATIONS])[population]
    v_r = sigma[:, 0] * rng.standard_normal(len(x))
    v_phi = V_CIRC_KMS - lag + sigma[:, 1] * rng.standard_normal(len(x))
    v_z = sigma[:, 2] * rng.standard_normal(len(x))
    v_xy = radial * v_r + azimuthal * v_phi
    moving = SkyCoord(
        CartesianRepresentation(
            x * u.pc,
            y * u.pc,
            z * u.pc,
            differentials=CartesianDifferential(v_xy[0], v_xy[1], v_z, unit=u.km / u.s),
        ),
        frame=frame,
    ).transform_to(ICRS())
    velocity = moving.velocity.d_xyz.to_value(u.km / u.s).T
    return {
        "pmra": moving.pm_ra_cosdec.to_value(u.mas / u.yr),
        "pmdec": moving.pm_dec.to_value(u.mas / u.yr),
        "rv": moving.radial_velocity.to_value(u.km / u.s),
        "v_icrs": velocity,
    }


def field_model_summary() -> dict[str, Any]:
    """The Galactic model parameters as a JSON-ready dict (pc, km/s, mag)."""
    return {
        "populations": [asdict(pop) for pop in POPULATIONS],
        "v_circ_kms": V_CIRC_KMS,
        "rotation_curve": "flat",
        "dust": {
            "av_per_kpc_midplane": DUST_AV_PER_KPC,
            "scale_height_pc": DUST_SCALE_HEIGHT_PC,
            "extinction_ratios": {
                "A_G/A_V": stars.A_G_PER_AV,
                "A_BP/A_V": stars.A_BP_PER_AV,
                "A_RP/A_V": stars.A_RP_PER_AV,
            },
        },
        "line_of_sight": "cone centre; distances 5 pc to 60 kpc",
        "luminosity_function": stars.LF_DESCRIPTION,
        "frame": galactocentric_parameters(),
    }

"""The phase-space model's full generative model in NumPy, for its posterior predictive
check: one replicated data set per posterior draw, for the same stars.

The model's ``obs`` draws astrometry conditional on each star's observed position and
radial velocity, which cannot check the radial profile, so :func:`replicate` draws the
whole model instead: each star is a member with probability f, then its position
(truncated EFF/Plummer/King profile, or uniform on the sky within the cone) and, at that
position, its astrometry (members: the projection of the cluster's mean velocity there
plus the dispersion; field: the Gaussian mixture), convolved with the star's own 3x3
covariance. Radial velocities are marginalised (not replicated).

Units: parallax in mas, proper motions in mas/yr, tangent-plane positions and radii in
arcmin, velocities in km/s. No PyMC (the model's covariance algebra is shared through
:mod:`.covariance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from clustermix.models.draws import draw_values
from clustermix.models.gaussian3d import (
    ENTRIES,
    astrometric_covariance,
    covariance_from_partial_correlations,
)
from clustermix.models.kinematics import (
    ARCMIN_PER_RAD,
    KMS_PER_MASYR_KPC,
    observables_to_velocity,
    sky_basis,
    tangent_plane_to_sky,
    velocity_to_observables,
)
from clustermix.models.phase_space.covariance import cluster_covariance, scaled_covariance
from clustermix.models.profiles import king_enclosed
from clustermix.models.systematics import ZERO_POINT_VARIABLE

#: Draws replicated at once by :func:`replicate` (bounds the memory).
CHUNK_DRAWS = 25
#: Rounds of redrawing Plummer positions that fell outside the cone.
_MAX_REJECTION_ROUNDS = 1000


def replicate(
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    posterior: xr.Dataset,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Replicates of the phase-space model's full generative model (see the module
    docstring): positions and astrometry, each star with its own 3x3 covariance, one
    replicated data set per draw of ``posterior`` (all of them; ``rng`` the only source
    of randomness). ``options`` are unused: the data and the posterior hold all it needs.

    Returns ``parallax`` (mas), ``pmra``, ``pmdec`` (mas/yr) and ``radius`` (arcmin),
    each (n_draw, n_star). ``data`` is :func:`clustermix.models.phase_space.model.prepare_data`'s
    output; ``posterior`` holds the model's free parameters.
    """
    params = parameter_draws(posterior)
    n_draws = params["f_cluster"].shape[0]
    field = field_mixture(params, data)
    star_cov = np.stack(
        astrometric_covariance(
            *(
                np.asarray(data[name], float)
                for name in (
                    "parallax_error",
                    "pmra_error",
                    "pmdec_error",
                    "parallax_pmra_corr",
                    "parallax_pmdec_corr",
                    "pmra_pmdec_corr",
                )
            )
        ),
        axis=-1,
    )
    cone = tuple(float(data[key]) for key in ("cone_ra_deg", "cone_dec_deg", "cone_radius_arcmin"))
    # each star's G range of the error factors (hand-made data without one: a single range)
    error_range = np.asarray(data.get("error_range", np.zeros(star_cov.shape[0], int)))
    chunks = []
    for start in range(0, n_draws, CHUNK_DRAWS):
        part = {key: value[start : start + CHUNK_DRAWS] for key, value in params.items()}
        part_field = {
            key: value[start : start + CHUNK_DRAWS] if value.shape[0] > 1 else value
            for key, value in field.items()
        }
        chunks.append(
            _replicate_chunk(
                part,
                part_field,
                star_cov,
                error_range,
                "field_weights" not in data,
                cone,
                rng,
            )
        )
    return {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}


def increasing_scale_values(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Draws (n_draw, K) of field scales ``name``: stored directly, or (for components
    ordered by width) rebuilt as ``{name}_first`` plus the cumulative sum of ``{name}_gap``,
    as :func:`clustermix.models.phase_space.model.increasing_scales` defines them."""
    if name in posterior:
        return draw_values(posterior, name)
    first = draw_values(posterior, f"{name}_first")[..., None]
    if f"{name}_gap" not in posterior:
        return first
    gaps = draw_values(posterior, f"{name}_gap")
    return first + np.concatenate([np.zeros_like(first), np.cumsum(gaps, axis=-1)], axis=-1)


def parameter_draws(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """The phase-space model's parameters per draw (leading axis), from its free variables.

    Scalars (n_draw,): ``xi_cl``, ``eta_cl``, ``plummer_radius_arcmin`` (arcmin),
    ``parallax_cl`` (mas), ``pmra_cl``, ``pmdec_cl`` (mas/yr), ``rv_cl``, ``sigma_v``
    (km/s), ``f_cluster``; field mixture: ``w_field`` (n_draw, K), ``field_mean``
    (n_draw, K, 3) and ``field_cov`` (n_draw, K, 6) (the six distinct covariance entries,
    :data:`clustermix.models.gaussian3d.ENTRIES` order; mas and mas/yr); with error
    inflation, ``error_scale_parallax`` and ``error_scale_pm`` (n_draw, G ranges);
    ``profile_gamma`` (n_draw,), the EFF slope (4 for the Plummer profile); with a King
    profile ``king_tidal_radius_arcmin`` (n_draw,; ``plummer_radius_arcmin`` is then the
    core radius); ``parallax_zero_point_offset`` (n_draw,; mas, 0 unless fitted).
    """
    scalars = (
        "xi_cl",
        "eta_cl",
        "plummer_radius_arcmin",
        "parallax_cl",
        "pmra_cl",
        "pmdec_cl",
        "rv_cl",
        "sigma_v",
        "f_cluster",
    )
    params = {name: draw_values(posterior, name).astype(float) for name in scalars}
    # the sky profile's slope: free with profile "eff", 4 (Plummer) otherwise
    params["profile_gamma"] = (
        draw_values(posterior, "eff_gamma").astype(float)
        if "eff_gamma" in posterior
        else np.full_like(params["f_cluster"], 4.0)
    )
    # with profile "king" the tidal radius r_t = r_c 10^c (arcmin)
    if "king_concentration" in posterior:
        params["king_tidal_radius_arcmin"] = params["plummer_radius_arcmin"] * 10.0 ** (
            draw_values(posterior, "king_concentration").astype(float)
        )
    # the members' observed parallaxes: the true one plus a fitted zero-point offset
    params["parallax_zero_point_offset"] = (
        draw_values(posterior, ZERO_POINT_VARIABLE).astype(float)
        if ZERO_POINT_VARIABLE in posterior
        else np.zeros_like(params["f_cluster"])
    )
    for name in ("parallax", "pm"):  # error-inflation factors per G range (n_draw, R)
        if f"error_excess_{name}" in posterior:
            params[f"error_scale_{name}"] = 1.0 + draw_values(posterior, f"error_excess_{name}")
    if "parallax_field" not in posterior:  # the field was learned on the control field
        return params
    plx_field = draw_values(posterior, "parallax_field")
    if "w_field" in posterior:
        params["w_field"] = draw_values(posterior, "w_field")
    else:
        params["w_field"] = np.ones_like(plx_field)
    params["field_mean"] = np.concatenate(
        [plx_field[..., None], draw_values(posterior, "pm_field")], axis=-1
    )
    sd = np.stack(
        [
            increasing_scale_values(posterior, name)
            for name in ("sd_field_parallax", "sd_field_pmra", "sd_field_pmdec")
        ],
        axis=-1,
    )
    z = 2.0 * draw_values(posterior, "cpc_field_beta") - 1.0
    params["field_cov"] = np.stack(
        covariance_from_partial_correlations(sd, z[..., 0], z[..., 1], z[..., 2]), axis=-1
    )
    return params


def field_mixture(
    params: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """The field mixture as (draw, star, K, ...) arrays ``w`` (K,), ``mean`` (K, 3) and
    ``cov`` (K, 6): each draw's own, shared by the stars (a field fitted jointly: star axis
    of length 1), or each star's own, learned on the control field (draw axis of length 1)."""
    if "field_weights" in data:
        return {
            "w": np.asarray(data["field_weights"], float)[None],
            "mean": np.asarray(data["field_means"], float)[None],
            "cov": np.asarray(data["field_covariances"], float)[None],
        }
    return {
        "w": params["w_field"][:, None],
        "mean": params["field_mean"][:, None],
        "cov": params["field_cov"][:, None],
    }


def _replicate_chunk(
    params: Mapping[str, np.ndarray],
    field: Mapping[str, np.ndarray],
    star_cov: np.ndarray,
    error_range: np.ndarray,
    field_scaled: bool,
    cone: tuple[float, float, float],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Replicates for a few draws (see :func:`replicate`): members with their
    measurement covariance scaled by the error-inflation factors of their G range, field
    stars with it scaled only where the field was fitted jointly (``field_scaled``; a field
    learned on the control field holds any excess in its own widths)."""
    n_draws, n_stars = params["f_cluster"].shape[0], star_cov.shape[0]
    shape = (n_draws, n_stars)
    cone_ra, cone_dec, cone_radius = cone
    member = rng.random(shape) < params["f_cluster"][:, None]
    # positions in the tangent plane (arcmin)
    xi_c, eta_c = sample_cluster_in_disc(
        params["xi_cl"],
        params["eta_cl"],
        params["plummer_radius_arcmin"],
        cone_radius,
        shape,
        rng,
        gamma=params.get("profile_gamma"),
        tidal=params.get("king_tidal_radius_arcmin"),
    )
    xi_f, eta_f = sample_cone_uniform(cone_radius, shape, rng)
    xi = np.where(member, xi_c, xi_f)
    eta = np.where(member, eta_c, eta_f)
    # members: the mean velocity projected at each replicated position
    ra_cl, dec_cl = tangent_plane_to_sky(params["xi_cl"], params["eta_cl"], cone_ra, cone_dec)
    plx = params["parallax_cl"]
    velocity = observables_to_velocity(
        ra_cl, dec_cl, plx, params["pmra_cl"], params["pmdec_cl"], params["rv_cl"]
    )
    ra, dec = tangent_plane_to_sky(xi, eta, cone_ra, cone_dec)
    los, east, north = sky_basis(ra, dec)
    pmra_m, pmdec_m, _ = velocity_to_observables(
        velocity[:, None, :], los, east, north, plx[:, None]
    )
    plx_observed = plx + params.get("parallax_zero_point_offset", 0.0)
    mean_cl = np.stack([np.broadcast_to(plx_observed[:, None], shape), pmra_m, pmdec_m], axis=-1)
    s_plx2 = (plx * params["plummer_radius_arcmin"] / ARCMIN_PER_RAD) ** 2
    s_pm2 = (params["sigma_v"] * plx / KMS_PER_MASYR_KPC) ** 2
    var_cl = np.stack([s_plx2, s_pm2, s_pm2], axis=-1)[:, None, :]
    scales = [
        params[f"error_scale_{name}"][:, error_range]
        if f"error_scale_{name}" in params
        else np.ones((n_draws, n_stars))
        for name in ("parallax", "pm")
    ]
    scaled_cov = scaled_covariance(star_cov[None], *scales, xp=np)
    cluster_cov = cluster_covariance(scaled_cov, var_cl, xp=np)
    field_obs_cov = scaled_cov if field_scaled else star_cov[None]
    # field: a component per star
    cumulative = np.cumsum(field["w"], axis=-1)
    cumulative /= cumulative[..., -1:]
    component = (rng.random(shape)[..., None] > cumulative[..., :-1]).sum(axis=-1)
    n_comp = field["w"].shape[-1]

    def pick(array: np.ndarray) -> np.ndarray:
        full = np.broadcast_to(array, (*shape, n_comp, array.shape[-1]))
        return np.take_along_axis(full, component[..., None, None], axis=-2)[..., 0, :]

    mean_f, cov_f = pick(field["mean"]), pick(field["cov"])
    mean = np.where(member[..., None], mean_cl, mean_f)
    cov = np.where(member[..., None], cluster_cov, field_obs_cov + cov_f)
    values = mean + correlated_normal(cov, rng)
    return {
        "parallax": values[..., 0],
        "pmra": values[..., 1],
        "pmdec": values[..., 2],
        "radius": np.hypot(xi, eta),
    }


def correlated_normal(cov: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean 3D Gaussian draws (..., 3), one per covariance given as its six entries
    (..., 6) in :data:`~clustermix.models.gaussian3d.ENTRIES` order."""
    matrix = np.empty((*cov.shape[:-1], 3, 3))
    for index, (i, j) in enumerate(ENTRIES):
        matrix[..., i, j] = cov[..., index]
        matrix[..., j, i] = cov[..., index]
    chol = np.linalg.cholesky(matrix)
    return np.einsum("...ij,...j->...i", chol, rng.normal(size=(*cov.shape[:-1], 3)))


def sample_cone_uniform(
    cone_radius_arcmin: float, shape: tuple[int, ...], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-plane (xi, eta) in arcmin of points uniform on the sphere within a cone of
    angular radius ``cone_radius_arcmin`` about the tangent point."""
    cos_max = np.cos(cone_radius_arcmin / ARCMIN_PER_RAD)
    cos_theta = 1.0 - rng.random(shape) * (1.0 - cos_max)
    plane = ARCMIN_PER_RAD * np.sqrt(1.0 - cos_theta**2) / cos_theta  # tan(theta)
    angle = 2.0 * np.pi * rng.random(shape)
    return plane * np.cos(angle), plane * np.sin(angle)


def sample_cluster_in_disc(
    xi_cl: np.ndarray,
    eta_cl: np.ndarray,
    scale_arcmin: np.ndarray,
    cone_radius_arcmin: float,
    shape: tuple[int, int],
    rng: np.random.Generator,
    gamma: np.ndarray | None = None,
    tidal: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-plane (xi, eta) in arcmin from an EFF surface density of slope ``gamma``
    (None: 4, the Plummer profile) and scale radius ``scale_arcmin`` about (``xi_cl``,
    ``eta_cl``), truncated to the cone's disc in the plane (the model's cluster sky density);
    with ``tidal`` (arcmin), from the King (1962) profile of core radius ``scale_arcmin``
    and that tidal radius instead (``gamma`` unused). Parameters are per draw (n_draw,);
    ``shape`` is (n_draw, n_star).

    Radii come from the inverse of the mass profile M(R) = 1 - (1 + R^2 / a^2)^(1 - gamma/2)
    (Plummer: R^2 / (R^2 + a^2); King: :func:`clustermix.models.profiles.king_enclosed`,
    inverted by bisection), limited to the disc's farthest point from the centre; points
    outside the disc are redrawn.
    """
    xi_cl, eta_cl, scale = (np.asarray(v, float)[:, None] for v in (xi_cl, eta_cl, scale_arcmin))
    gamma = np.full_like(scale, 4.0) if gamma is None else np.asarray(gamma, float)[:, None]
    power = 1.0 - 0.5 * gamma  # < 0
    disc = ARCMIN_PER_RAD * np.tan(cone_radius_arcmin / ARCMIN_PER_RAD)
    reach = disc + np.hypot(xi_cl, eta_cl)
    if tidal is not None:
        tidal = np.asarray(tidal, float)[:, None]
        reach = np.minimum(reach, tidal)
        mass_max = king_enclosed(reach, scale, tidal)
    else:
        mass_max = 1.0 - (1.0 + reach**2 / scale**2) ** power
    xi = np.empty(shape)
    eta = np.empty(shape)
    todo = np.ones(shape, bool)
    for _ in range(_MAX_REJECTION_ROUNDS):
        n = int(todo.sum())
        if n == 0:
            break
        rows = np.nonzero(todo)[0]
        u = rng.random(n) * np.broadcast_to(mass_max, shape)[todo]
        a = np.broadcast_to(scale, shape)[todo]
        if tidal is not None:
            radius = king_radius(u, a, np.broadcast_to(tidal, shape)[todo])
        else:
            p = np.broadcast_to(power, shape)[todo]
            radius = a * np.sqrt((1.0 - u) ** (1.0 / p) - 1.0)
        angle = 2.0 * np.pi * rng.random(n)
        x = xi_cl[rows, 0] + radius * np.cos(angle)
        y = eta_cl[rows, 0] + radius * np.sin(angle)
        xi[todo], eta[todo] = x, y
        inside = np.hypot(x, y) <= disc
        todo[todo] = ~inside
    else:
        raise RuntimeError("cluster positions in the cone: the rejection did not converge")
    return xi, eta


#: Bisection steps of :func:`king_radius` (the radius to 2^-60 of the tidal radius).
_KING_BISECTIONS = 60


def king_radius(enclosed: np.ndarray, core: np.ndarray, tidal: np.ndarray) -> np.ndarray:
    """The projected radius R < r_t (same unit as ``core`` and ``tidal``) within which a King
    (1962) profile holds ``enclosed`` (in :func:`clustermix.models.profiles.king_enclosed`'s
    units): that function's inverse by bisection on [0, r_t], elementwise."""
    low, high = np.zeros_like(enclosed), np.array(tidal, float, copy=True)
    for _ in range(_KING_BISECTIONS):
        middle = 0.5 * (low + high)
        below = king_enclosed(middle, core, tidal) < enclosed
        low, high = np.where(below, middle, low), np.where(below, high, middle)
    return 0.5 * (low + high)

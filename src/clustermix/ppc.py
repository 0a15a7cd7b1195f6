"""Posterior predictive checks: replicated data sets against the data a model was fitted to.

For a subsample of posterior draws, :func:`replicate` draws one replicated data set per
draw for the *same* stars: every replicated star keeps its own measurement uncertainties
(and, in 2D/3D, its correlations). The observed quantities are those each model
describes (:data:`QUANTITIES`): ``y`` for the straight line, ``pmra`` (mas/yr) for
``pmra_1d``, ``parallax`` (mas) for ``parallax_1d``, ``pmra`` and ``pmdec`` for ``pm_2d``,
and ``parallax``, ``pmra``, ``pmdec`` and ``radius`` (arcmin, tangent-plane distance from
the cone centre) for ``phase_space``.

Replication. ``line_outliers``, ``pmra_1d``, ``parallax_1d`` and ``pm_2d`` use their
``obs`` variable's own random function through :func:`pymc.sample_posterior_predictive`
(the model rebuilt on the fitted stars). The ``phase_space`` ``obs`` draws astrometry
conditional on each star's observed position and radial velocity, which cannot check the
radial profile, so :func:`replicate_phase_space` draws the full generative model in NumPy:
each star is a member with probability f, then its position (truncated Plummer profile,
or uniform on the sky within the cone) and, at that position, its astrometry (members:
the projection of the cluster's mean velocity there plus the dispersion; field: the
Gaussian mixture), convolved with the star's own 3x3 covariance. Radial velocities are
marginalised (not replicated).

Statistics (:func:`histogram_check`), per quantity. Bins: ``n_bins`` equal bins between
the 1st and 99th percentiles of the replicated values (all draws pooled: the bulk the
model predicts), plus the stars below and above that range as two tail bins, so every
star counts. The bins do not depend on the observed data: edges placed at the observed
percentiles would fix the observed tail counts at 1% each while the replicated ones
scatter, which inflates T(y_obs) for heavy-tailed data and rejects correct models. For
each bin, the observed count and the 2.5, 50 and 97.5 percentiles (and the mean E_b) of
the replicated counts. Discrepancy: the binned
chi-square T(y) = sum_b (n_b(y) - E_b)^2 / max(E_b, 1) over all bins (tails included);
the posterior predictive p-value is the fraction of replicated data sets with
T(y_rep) >= T(y_obs). The band fraction is the fraction of bins (tails included) whose
observed count lies within the replicated 2.5-97.5 percentile band.

Local checks (:mod:`clustermix.ppc_local`), on the same replicates: the counts of stars in
the posterior-median cluster's window per annulus of radius, and the summed membership
probabilities per G bin against the replicated (and, for simulated data, the true)
numbers of members.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from clustermix.errors import InputDataError
from clustermix.fit_results import FittedModel
from clustermix.io import write_json_atomic
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
from clustermix.models.phase_space.model import cluster_covariance, scaled_covariance
from clustermix.models.registry import get_model
from clustermix.paper import format_number, macro_name, write_macros
from clustermix.summary import json_safe

if TYPE_CHECKING:
    from clustermix.ppc_local import LocalInputs

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: The observed quantities each model's check compares, in panel order.
QUANTITIES: dict[str, tuple[str, ...]] = {
    "line_outliers": ("y",),
    "pmra_1d": ("pmra",),
    "parallax_1d": ("parallax",),
    "pm_2d": ("pmra", "pmdec"),
    "phase_space": ("parallax", "pmra", "pmdec", "radius"),
}
#: Units of the quantities ("" for the dimensionless line example).
QUANTITY_UNITS: dict[str, str] = {
    "y": "",
    "pmra": "mas/yr",
    "pmdec": "mas/yr",
    "parallax": "mas",
    "radius": "arcmin",
}
#: Symbols (LaTeX math, also valid matplotlib mathtext).
QUANTITY_SYMBOLS: dict[str, str] = {
    "y": "$y$",
    "pmra": r"$\mu_{\alpha*}$",
    "pmdec": r"$\mu_{\delta}$",
    "parallax": r"$\varpi$",
    "radius": "$R$",
}
#: The replicated-count percentiles stored per bin: the 95% band and the median.
BAND_PERCENTILES: tuple[float, float, float] = (2.5, 50.0, 97.5)
#: Default number of posterior draws replicated, and histogram binning.
DEFAULT_DRAWS = 200
DEFAULT_MAX_BINS = 40
MIN_BINS = 5
RANGE_PERCENTILES: tuple[float, float] = (1.0, 99.0)
#: Draws replicated at once by :func:`replicate_phase_space` (bounds the memory).
PHASE_SPACE_CHUNK = 25
#: p-values below this are counted as a warning sign in the paper's summary sentence.
LOW_P_VALUE = 0.05
#: Rounds of redrawing Plummer positions that fell outside the cone.
_MAX_REJECTION_ROUNDS = 1000


# ------------------------------------------------------------------ posterior draws


def thin_posterior(posterior: xr.Dataset, n_draws: int, rng: np.random.Generator) -> xr.Dataset:
    """``n_draws`` posterior draws chosen at random without replacement (all of them if
    fewer), in their original order, as one chain (dims ``chain`` = 1, ``draw``)."""
    stacked = posterior.stack(sample=("chain", "draw"))
    total = stacked.sizes["sample"]
    chosen = np.sort(rng.choice(total, size=min(int(n_draws), total), replace=False))
    thinned = stacked.isel(sample=chosen).drop_vars(["sample", "chain", "draw"])
    thinned = thinned.rename({"sample": "draw"}).expand_dims("chain", 0)
    thinned = thinned.assign_coords(chain=[0], draw=np.arange(len(chosen)))
    return thinned.transpose("chain", "draw", ...)


def draw_values(posterior: xr.Dataset, name: str) -> np.ndarray:
    """The values of ``name`` with (chain, draw) flattened into one leading axis."""
    values = posterior[name].transpose("chain", "draw", ...).values
    return values.reshape(-1, *values.shape[2:])


# ------------------------------------------------------------------ observed and replicated


def observed_quantities(model: str, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The observed values (n_star,) of each quantity of ``model``'s check, by name."""
    if model == "phase_space":
        radius = np.hypot(np.asarray(data["xi"], float), np.asarray(data["eta"], float))
        return {
            "parallax": np.asarray(data["parallax"], float),
            "pmra": np.asarray(data["pmra"], float),
            "pmdec": np.asarray(data["pmdec"], float),
            "radius": radius,
        }
    if model not in QUANTITIES:
        raise ValueError(f"no posterior predictive check for model '{model}'")
    return {name: np.asarray(data[name], float) for name in QUANTITIES[model]}


def replicate(
    model: str,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    posterior: xr.Dataset,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One replicated data set per posterior draw: ``{quantity: (n_draw, n_star)}``.

    ``posterior`` holds the draws to replicate (dims ``chain``, ``draw``; all of them are
    used, see :func:`thin_posterior`); ``rng`` is the only source of randomness.
    """
    if model == "phase_space":
        return replicate_phase_space(data, posterior, rng)
    if model not in QUANTITIES:
        raise ValueError(f"no posterior predictive check for model '{model}'")
    return replicate_with_pymc(model, data, options, posterior, rng)


def replicate_with_pymc(
    model: str,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    posterior: xr.Dataset,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Replicates from the model's ``obs`` random function, by
    :func:`pymc.sample_posterior_predictive`.

    The model is rebuilt on ``data`` (its per-star uncertainties are part of the ``obs``
    distribution, so each replicated star keeps its own); deterministic parameters are
    recomputed from the free ones. Every free variable of the model must be in
    ``posterior`` (:func:`model_posterior` checks), and PyMC sees the draws with the
    model's own dims and coordinates: a variable whose coordinates differ from the
    model's would be drawn afresh from its prior instead of taken from the posterior.
    """
    import pymc as pm

    module = get_model(model)
    built = module.build_model(dict(data), dict(options))
    draws = pm.sample_posterior_predictive(
        model_posterior(built, posterior),
        model=built,
        var_names=["obs"],
        random_seed=rng,
        progressbar=False,
        return_inferencedata=True,
    )
    obs = draws.posterior_predictive["obs"].values
    obs = obs.reshape(-1, *obs.shape[2:])
    names = QUANTITIES[model]
    if obs.ndim == 2:
        return {names[0]: obs}
    return {name: obs[..., index] for index, name in enumerate(names)}


def model_posterior(model: Any, posterior: xr.Dataset) -> xr.Dataset:
    """The free variables of ``model`` (a ``pymc.Model``) from ``posterior``, as one chain
    with the model's dims and coordinates. Raises ``ValueError`` if one is missing."""
    free = [rv.name for rv in model.free_RVs]
    missing = [name for name in free if name not in posterior]
    if missing:
        raise ValueError(f"the posterior lacks the model's free variables {missing}")
    data_vars = {}
    used: set[str] = set()
    for name in free:
        values = draw_values(posterior, name)
        dims = tuple(model.named_vars_to_dims.get(name) or ())
        if len(dims) != values.ndim - 1:
            dims = tuple(f"{name}_dim_{axis}" for axis in range(values.ndim - 1))
        used.update(dims)
        data_vars[name] = (("chain", "draw", *dims), values[None])
    coords = {
        dim: np.asarray(model.coords[dim]) for dim in used if model.coords.get(dim) is not None
    }
    n_draws = next(iter(data_vars.values()))[1].shape[1] if data_vars else 0
    return xr.Dataset(data_vars, coords={"chain": [0], "draw": np.arange(n_draws), **coords})


def replicate_phase_space(
    data: Mapping[str, np.ndarray], posterior: xr.Dataset, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Replicates of the phase-space model's full generative model (see the module
    docstring): positions and astrometry, each star with its own 3x3 covariance.

    Returns ``parallax`` (mas), ``pmra``, ``pmdec`` (mas/yr) and ``radius`` (arcmin),
    each (n_draw, n_star). ``data`` is :func:`clustermix.models.phase_space.model.prepare_data`'s
    output; ``posterior`` holds the model's free parameters.
    """
    params = phase_space_parameters(posterior)
    n_draws = params["f_cluster"].shape[0]
    field = phase_space_field(params, data)
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
    for start in range(0, n_draws, PHASE_SPACE_CHUNK):
        part = {key: value[start : start + PHASE_SPACE_CHUNK] for key, value in params.items()}
        part_field = {
            key: value[start : start + PHASE_SPACE_CHUNK] if value.shape[0] > 1 else value
            for key, value in field.items()
        }
        chunks.append(
            _phase_space_chunk(
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


def phase_space_parameters(posterior: xr.Dataset) -> dict[str, np.ndarray]:
    """The phase-space model's parameters per draw (leading axis), from its free variables.

    Scalars (n_draw,): ``xi_cl``, ``eta_cl``, ``plummer_radius_arcmin`` (arcmin),
    ``parallax_cl`` (mas), ``pmra_cl``, ``pmdec_cl`` (mas/yr), ``rv_cl``, ``sigma_v``
    (km/s), ``f_cluster``; field mixture: ``w_field`` (n_draw, K), ``field_mean``
    (n_draw, K, 3) and ``field_cov`` (n_draw, K, 6) (the six distinct covariance entries,
    :data:`clustermix.models.gaussian3d.ENTRIES` order; mas and mas/yr); with error
    inflation, ``error_scale_parallax`` and ``error_scale_pm`` (n_draw, G ranges);
    ``profile_gamma`` (n_draw,), the EFF slope (4 for the Plummer profile).
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


def phase_space_field(
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


def _phase_space_chunk(
    params: Mapping[str, np.ndarray],
    field: Mapping[str, np.ndarray],
    star_cov: np.ndarray,
    error_range: np.ndarray,
    field_scaled: bool,
    cone: tuple[float, float, float],
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Replicates for a few draws (see :func:`replicate_phase_space`): members with their
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
    mean_cl = np.stack([np.broadcast_to(plx[:, None], shape), pmra_m, pmdec_m], axis=-1)
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
) -> tuple[np.ndarray, np.ndarray]:
    """Tangent-plane (xi, eta) in arcmin from an EFF surface density of slope ``gamma``
    (None: 4, the Plummer profile) and scale radius ``scale_arcmin`` about (``xi_cl``,
    ``eta_cl``), truncated to the cone's disc in the plane (the model's cluster sky density).
    Parameters are per draw (n_draw,); ``shape`` is (n_draw, n_star).

    Radii come from the inverse of the mass profile M(R) = 1 - (1 + R^2 / a^2)^(1 - gamma/2)
    (Plummer: R^2 / (R^2 + a^2)), limited to the disc's farthest point from the centre;
    points outside the disc are redrawn.
    """
    xi_cl, eta_cl, scale = (np.asarray(v, float)[:, None] for v in (xi_cl, eta_cl, scale_arcmin))
    gamma = np.full_like(scale, 4.0) if gamma is None else np.asarray(gamma, float)[:, None]
    power = 1.0 - 0.5 * gamma  # < 0
    disc = ARCMIN_PER_RAD * np.tan(cone_radius_arcmin / ARCMIN_PER_RAD)
    reach = disc + np.hypot(xi_cl, eta_cl)
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


# ------------------------------------------------------------------ statistics


def bin_count(n_stars: int, max_bins: int = DEFAULT_MAX_BINS) -> int:
    """Number of histogram bins: about sqrt(n_stars), between 5 and ``max_bins``."""
    return int(np.clip(round(np.sqrt(max(n_stars, 1))), MIN_BINS, max(max_bins, MIN_BINS)))


def bin_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """``n_bins`` + 1 equal-width edges between the 1st and 99th percentiles of ``values``
    (any shape, pooled)."""
    low, high = np.percentile(values, RANGE_PERCENTILES)
    if not high > low:
        half = 0.5 * max(abs(low) * 1e-3, 1e-6)
        low, high = low - half, high + half
    return np.linspace(low, high, n_bins + 1)


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` (..., n_star) in [below, the bins..., above]: (..., n_bins + 2).

    Bins are half-open [e_j, e_j+1) except the last, which includes its right edge.
    """
    n_bins = len(edges) - 1
    index = np.searchsorted(edges, values, side="right")  # 0: below, n_bins + 1: above
    index = np.where(values == edges[-1], n_bins, index)
    flat = index.reshape(-1, index.shape[-1])
    offsets = (np.arange(flat.shape[0]) * (n_bins + 2))[:, None]
    counts = np.bincount((flat + offsets).ravel(), minlength=flat.shape[0] * (n_bins + 2))
    return counts.reshape(*index.shape[:-1], n_bins + 2)


def chi_square(counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """sum_b (n_b - E_b)^2 / max(E_b, 1) over the last axis (E_b floored at one star)."""
    return np.sum((counts - expected) ** 2 / np.maximum(expected, 1.0), axis=-1)


def chi_square_summary(t_obs: float, t_rep: np.ndarray) -> dict[str, Any]:
    """The observed chi-square, the replicated ones' 2.5/50/97.5 percentiles and the
    posterior predictive p-value P(T_rep >= T_obs)."""
    return {
        "chi2_observed": t_obs,
        "chi2_replicated": dict(
            zip(
                ("q2.5", "q50", "q97.5"),
                np.percentile(t_rep, BAND_PERCENTILES).tolist(),
                strict=True,
            )
        ),
        "p_value": float(np.mean(t_rep >= t_obs)),
    }


def histogram_check(
    observed: np.ndarray, replicated: np.ndarray, n_bins: int | None = None
) -> dict[str, Any]:
    """The histogram comparison and p-value of one quantity (see the module docstring).

    ``observed`` (n_star,); ``replicated`` (n_draw, n_star), the same stars. Returns
    ``edges``, per inner bin ``observed`` / ``replicated_mean`` / ``replicated_q2.5`` /
    ``replicated_q50`` / ``replicated_q97.5`` (counts), the same for the two tails under
    ``below`` and ``above``, ``chi2_observed``, ``chi2_replicated`` (its 2.5, 50 and 97.5
    percentiles), ``p_value`` and ``band_fraction``.
    """
    observed = np.asarray(observed, float)
    replicated = np.asarray(replicated, float)
    if replicated.ndim != 2 or replicated.shape[1] != observed.shape[0]:
        raise ValueError(
            f"replicated data {replicated.shape} do not match {observed.shape[0]} observed stars"
        )
    n_bins = bin_count(observed.size) if n_bins is None else int(n_bins)
    edges = bin_edges(replicated, n_bins)
    counts_obs = binned_counts(observed, edges).astype(float)
    counts_rep = binned_counts(replicated, edges).astype(float)
    expected = counts_rep.mean(axis=0)
    low, median, high = np.percentile(counts_rep, BAND_PERCENTILES, axis=0)
    t_obs = float(chi_square(counts_obs, expected))
    t_rep = chi_square(counts_rep, expected)
    inside = (counts_obs >= low) & (counts_obs <= high)

    def per_bin(index: slice | int) -> dict[str, Any]:
        return {
            "observed": counts_obs[index],
            "replicated_mean": expected[index],
            "replicated_q2.5": low[index],
            "replicated_q50": median[index],
            "replicated_q97.5": high[index],
        }

    inner = {key: value.tolist() for key, value in per_bin(slice(1, -1)).items()}
    return {
        "n_stars": int(observed.size),
        "n_draws": int(replicated.shape[0]),
        "n_bins": n_bins,
        "edges": edges.tolist(),
        **inner,
        "below": {key: float(value) for key, value in per_bin(0).items()},
        "above": {key: float(value) for key, value in per_bin(-1).items()},
        **chi_square_summary(t_obs, t_rep),
        "band_fraction": float(inside.mean()),
        "n_bins_in_band": int(inside.sum()),
        "n_bins_total": int(inside.size),
    }


def posterior_predictive_check(
    model: str,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    posterior: xr.Dataset,
    *,
    n_draws: int = DEFAULT_DRAWS,
    seed: int,
    max_bins: int = DEFAULT_MAX_BINS,
    local: LocalInputs | None = None,
    n_annuli: int | None = None,
    n_magnitude_bins: int | None = None,
) -> dict[str, Any]:
    """Replicate ``n_draws`` random posterior draws (seeded by ``seed``) and compare them
    with the observed quantities of ``model``: ``{"quantities": {name: histogram_check}}``
    with each quantity's ``unit`` and ``symbol`` added, and the two local checks of
    :mod:`clustermix.ppc_local` on the same replicates (keys ``radial_window`` and
    ``membership_by_magnitude``; ``local`` holds the per-star values they need beyond
    ``data``, without which a check is skipped with its reason; ``n_annuli`` and
    ``n_magnitude_bins``: their numbers of bins, default
    :data:`~clustermix.ppc_local.DEFAULT_ANNULI` and ``DEFAULT_MAGNITUDE_BINS``)."""
    from clustermix.ppc_local import (  # ppc_local builds on this module
        DEFAULT_ANNULI,
        DEFAULT_MAGNITUDE_BINS,
        local_checks,
    )

    rng = np.random.default_rng(seed)
    thinned = thin_posterior(posterior, n_draws, rng)
    observed = observed_quantities(model, data)
    replicated = replicate(model, data, options, thinned, rng)
    quantities = {}
    for name in QUANTITIES[model]:
        check = histogram_check(
            observed[name], replicated[name], bin_count(len(observed[name]), max_bins)
        )
        quantities[name] = {"unit": QUANTITY_UNITS[name], "symbol": QUANTITY_SYMBOLS[name], **check}
        log.info(
            "%s %s: chi2 %.1f, p = %.3f, %d of %d bins in the 95%% band",
            model,
            name,
            check["chi2_observed"],
            check["p_value"],
            check["n_bins_in_band"],
            check["n_bins_total"],
        )
    checks = local_checks(
        model,
        data,
        posterior,
        thinned,
        observed,
        replicated,
        local,
        seed=seed,
        n_annuli=n_annuli or DEFAULT_ANNULI,
        n_magnitude_bins=n_magnitude_bins or DEFAULT_MAGNITUDE_BINS,
    )
    for key, check in checks.items():
        if check["status"] == "done":
            log.info("%s %s: p = %s", model, key, check.get("p_value", "-"))
        else:
            log.info("%s %s skipped: %s", model, key, check["reason"])
    return {
        "model": model,
        "n_draws": int(thinned.sizes["draw"]),
        "seed": int(seed),
        "statistic": "binned chi-square against the replicated mean counts, tails as two bins",
        "quantities": quantities,
        **checks,
    }


def check_observed_data(
    idata: Any, model: str, data: Mapping[str, np.ndarray], path: PathLike
) -> None:
    """Raise :class:`InputDataError` unless the rebuilt data equal the trace's observed data.

    The trace's ``observed_data`` group holds ``obs`` as fitted; a catalogue or mask that
    selects other stars, or other values, would make the check compare the wrong data.
    """
    if "observed_data" not in idata.groups() or "obs" not in idata.observed_data:
        return
    fitted = np.asarray(idata.observed_data["obs"].values, float)
    rebuilt = np.stack(
        [np.asarray(v, float) for v in observed_quantities(model, data).values()], -1
    )
    if model == "phase_space":
        rebuilt = rebuilt[:, :3]
    rebuilt = rebuilt.reshape(fitted.shape) if rebuilt.size == fitted.size else rebuilt
    if rebuilt.shape != fitted.shape or not np.allclose(rebuilt, fitted, rtol=1e-12, atol=0.0):
        raise InputDataError(
            f"{path}: the catalogue and masks give other stars ({len(data['source_id'])}) or "
            f"values than the fit's observed data ({fitted.shape[0]} stars); rerun the fit"
        )


def run_ppc(
    trace_path: PathLike,
    ppc_path: PathLike,
    *,
    seed: int,
    n_draws: int = DEFAULT_DRAWS,
    max_bins: int = DEFAULT_MAX_BINS,
    catalog_path: PathLike | None = None,
    masks_path: PathLike | None = None,
    membership_path: PathLike | None = None,
    truth_path: PathLike | None = None,
    n_annuli: int | None = None,
    n_magnitude_bins: int | None = None,
) -> dict[str, Any]:
    """Write the posterior predictive check of one fit (trace) to ``ppc_path`` (JSON).

    The model, options and stars are those of the trace (its attributes, and the
    catalogue and masks it was fitted to, checked against the recorded ``data_sha256``
    and against its observed data); the line example passes no catalogue. The local
    checks (:mod:`clustermix.ppc_local`) also read G and ``separation_arcmin`` from the
    catalogue and masks, ``p_cluster`` from the fit's ``membership_path`` and, for
    simulated data, the true members from ``truth_path`` (truth.json); ``n_annuli`` and
    ``n_magnitude_bins`` are their numbers of bins (None: the defaults).
    """
    from clustermix.ppc_local import load_local_inputs  # ppc_local builds on this module

    fitted = FittedModel.open(trace_path, catalog_path, masks_path)
    idata, attrs, model, data = fitted.idata, fitted.attrs, fitted.name, fitted.data
    check_observed_data(idata, model, data, trace_path)
    local = load_local_inputs(
        data["source_id"],
        catalog_path=catalog_path,
        masks_path=masks_path,
        membership_path=membership_path,
        truth_path=truth_path,
    )
    result = posterior_predictive_check(
        model,
        data,
        attrs["options"],
        idata.posterior,
        n_draws=n_draws,
        seed=seed,
        max_bins=max_bins,
        local=local,
        n_annuli=n_annuli,
        n_magnitude_bins=n_magnitude_bins,
    )
    header = {key: attrs.get(key) for key in ("cluster", "n_stars", "code_version")}
    result = json_safe({**header, **result})
    write_json_atomic(result, ppc_path)
    return result


# ------------------------------------------------------------------ paper numbers


def ppc_pairs(results: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(model, quantity, check) for every quantity of every result, results in order and
    each model's quantities in :data:`QUANTITIES` order (JSON files sort them by name)."""
    pairs = []
    for result in results:
        checks = result["quantities"]
        order = [name for name in QUANTITIES.get(result["model"], ()) if name in checks]
        order += [name for name in checks if name not in order]
        pairs += [(result["model"], name, checks[name]) for name in order]
    return pairs


def format_p_value(p_value: float, n_draws: int) -> str:
    """A p-value with two decimals (three below 0.1); ``<1/n_draws`` when none of the
    replicated data sets was as discrepant (LaTeX, valid in text and math mode)."""
    if p_value <= 0.0:
        return rf"\ensuremath{{<}}{format_number(1.0 / max(n_draws, 1), 3)}"
    return format_number(p_value, 3 if p_value < 0.1 else 2)


def ppc_macros(
    results: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The paper's macros for the posterior predictive checks of ``results`` (ppc JSON).

    Per model and quantity: ``\\Ppc<Model><Quantity>Pvalue`` and
    ``\\Ppc<Model><Quantity>BandFraction`` (two decimals); overall: ``\\PpcDraws``,
    ``\\PpcPairs`` (model-quantity pairs), ``\\PpcPvalueMin``, ``\\PpcPvalueMax``,
    ``\\PpcLowCount`` (pairs with p below ``\\PpcLowThreshold`` = :data:`LOW_P_VALUE`),
    ``\\PpcBandPercent`` (bins in the band over all checks, per cent) and
    ``\\PpcSummary``, one sentence stating them; and the local checks' macros
    (:func:`clustermix.ppc_local.local_macros`). ``labels`` names the models in the
    sentences (default: the model names).
    """
    pairs = ppc_pairs(results)
    if not pairs:
        raise ValueError("no posterior predictive checks to report")
    n_draws = min(int(result["n_draws"]) for result in results)
    macros: dict[str, str] = {"PpcDraws": str(n_draws)}
    for model, name, check in pairs:
        macros[macro_name("ppc", model, name, "pvalue")] = format_p_value(check["p_value"], n_draws)
        macros[macro_name("ppc", model, name, "band_fraction")] = format_number(
            check["band_fraction"], 2
        )
    p_values = [check["p_value"] for _, _, check in pairs]
    lowest = int(np.argmin(p_values))
    n_low = sum(p < LOW_P_VALUE for p in p_values)
    in_band = sum(check["n_bins_in_band"] for _, _, check in pairs)
    total = sum(check["n_bins_total"] for _, _, check in pairs)
    percent = format_number(100.0 * in_band / total, 0)
    macros["PpcPvalueMin"] = format_p_value(min(p_values), n_draws)
    macros["PpcPvalueMax"] = format_p_value(max(p_values), n_draws)
    macros["PpcBandPercent"] = percent
    macros["PpcPairs"] = str(len(pairs))
    macros["PpcLowCount"] = str(n_low)
    macros["PpcLowThreshold"] = format_number(LOW_P_VALUE, 2)
    model, name, _ = pairs[lowest]
    label = (labels or {}).get(model, model.replace("_", r"\_"))
    low_text = macros["PpcPvalueMin"].replace(r"\ensuremath{<}", "below ")
    n_low_text = "none" if n_low == 0 else f"{n_low} of the {len(pairs)}"
    macros["PpcSummary"] = (
        f"Over {n_draws} replicated data sets per fit, the posterior predictive $p$-values "
        f"of the binned $\\chi^2$ of the {len(pairs)} model--quantity pairs range from "
        f"{low_text} (for {QUANTITY_SYMBOLS[name]} under the {label} model) "
        f"to {macros['PpcPvalueMax']}, with {n_low_text} below "
        f"{macros['PpcLowThreshold']}, and {percent}\\% of the bins lie within the "
        "replicated 95\\% bands."
    )
    from clustermix.ppc_local import local_macros  # ppc_local builds on this module

    macros.update(local_macros(results, labels))
    return macros


def write_ppc_numbers(
    ppc_paths: Sequence[PathLike],
    macros_path: PathLike,
    *,
    labels: Mapping[str, str] | None = None,
    made_by: str = "",
) -> dict[str, str]:
    """Read the ppc JSON files and write their macros (:func:`ppc_macros`) to ``macros_path``."""
    results = [json.loads(Path(path).read_text()) for path in ppc_paths]
    macros = ppc_macros(results, labels)
    write_macros(macros, macros_path, made_by=made_by)
    return macros

"""Model 3: both proper motions, each star with its full 2x2 measurement covariance.

Star i has observed proper motions x_i = (pmra_i, pmdec_i) (mas/yr) with covariance

    C_i = [[e_a^2, r e_a e_d], [r e_a e_d, e_d^2]]

(e_a = pmra_error, e_d = pmdec_error, r = pmra_pmdec_corr). Marginalising the true proper
motions analytically,

    p(x_i | theta) = f N2(x_i | mu_cl, C_i + s_cl^2 I)
                     + (1 - f) sum_k w_k N2(x_i | mu_k, C_i + Sigma_k),
    Sigma_k = [[a_k^2, rho_k a_k d_k], [rho_k a_k d_k, d_k^2]].

The field (``field_model``). By default (``"control_field"``) the field's intrinsic
proper-motion density is learned before the fit from the control annulus's stars
(``in_control_field``), which hold almost no members, and then held fixed: the stars are
split into ``field_magnitude_bins`` (4) bins of G of equal counts and an error-deconvolved
K-component mixture (:func:`clustermix.models.field_choice.control_field_mixture`) is
fitted in each, so that each star i has the field (w_k, mu_k, Sigma_k) of its own G bin.
Only the cluster (mean, dispersion, f) is sampled; the field's density at each star is
computed once, before sampling (``field_logpdf``, :mod:`clustermix.models.fixed_field`).
Fitted jointly, a field of a few Gaussians shared by all magnitudes cannot follow a real
field, whose faint stars are distant, kinematically cold and move nearly like a distant
cluster; the cluster then takes part of that faint field (on the default simulated
field f came out 5 sd high, and stars given p = 0.5 were members 39% of the time). The
fixed field's own uncertainty (a few thousand control stars per bin) is not propagated.
``"joint"`` keeps the field's parameters free, with the priors below, for catalogues
without a control field.

Priors (defaults in :data:`DEFAULT_OPTIONS`, mas/yr):

- cluster mean (``pmra_cl``, ``pmdec_cl``) ~ N(pm_prior_centre, 10^2) per axis;
- cluster intrinsic (isotropic) dispersion ``sigma_cl`` = s_cl ~ HalfNormal(0.5);
- cluster fraction ``f_cluster`` = f ~ Uniform(m / N, 1): a cluster holds at least
  m = ``cluster_min_members`` (20) of the N stars, never a handful of field stars;
- (``field_model: joint`` only, the next five) field weights ``w_field`` ~ Dirichlet(1, ...,
  1); K = ``n_field_components`` (for both field models), by default
  ``"auto"``: chosen by BIC from 1 to ``max_field_components`` (4) with an
  error-deconvolved mixture of the control field (:mod:`clustermix.models.field_choice`);
- field means ``pmra_field``, ``pmdec_field`` ~ N(pm_prior_centre, 10^2) each;
- field widths (``sigma_field``) a_k = s_cl + exp(l_k + q_k / 2) along pmra and
  d_k = s_cl + exp(l_k - q_k / 2) along pmdec: the cluster's dispersion plus an excess
  whose log geometric mean ``log_excess_sigma_field`` l_k ~ N(ln 3, 1^2) and whose log
  axis ratio ``log_axis_ratio_field`` q_k ~ N(0, 1^2). Every field component is thus wider
  than the cluster along both axes: the cluster is the narrowest component, which stops a
  narrow field component from taking the cluster's stars while the "cluster" settles on
  a field clump (a trap that short chains otherwise fall into);
- field correlations rho_k = 2 u_k - 1 with ``rho_field_beta`` u_k ~ Beta(2, 2): the
  marginal of an LKJ(eta = 2) prior on a 2x2 correlation, density proportional to
  1 - rho^2.

The cluster's mean is the members' mean proper motion, and a cluster has at least
``cluster_min_members`` stars and at most ``cluster_sigma_v_max_kms`` of dispersion, and
(fitted to the cluster region and the control annulus together) its members are at least
``cluster_min_concentration`` times denser on the sky in the region than in the annulus:
this model has no sky term, and without that check it took another cluster in the cone.
See :mod:`clustermix.models.modes` for these (how the mode is picked and checked, and how the
members' mean differs from the centre's proper motion that phase_space fits).

Label switching among the field components is broken by ordering one vector
(``order_field_by``). ``"width"`` (default): l_1 < ... < l_K, written as
``log_excess_sigma_field_first`` ~ N(ln 3, 1^2) plus positive gaps
``log_excess_sigma_field_gap`` ~ HalfNormal(1); ``"pmra"``: the pmra means increase, as
``pmra_field_first`` ~ N(0, 10^2) plus gaps ``pmra_field_gap`` ~ HalfNormal(10). A first
value plus positive gaps (rather than PyMC's ordered transform) keeps the model's default
starting point valid for every sampler. Width is the default: a field's proper motions
are typically a narrow core on a broad halo with nearby means, and ordered means put a
wall (equal pmra means) between the two ways of placing them, on which chains stick.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from clustermix.errors import InputDataError
from clustermix.models import replication
from clustermix.models.fixed_field import fixed_field_logpdf_2d
from clustermix.models.mixture import (
    bivariate_normal_logpdf,
    check_field_options,
    checked_columns,
    cluster_field_start,
    cluster_fraction_per_star,
    cluster_fraction_prior,
    component_locations,
    component_locations_start,
    control_field_model,
    convolved_gmm_logpdf_2d,
    far_star_term,
    n_stars_described,
    select_stars,
    selected_source_ids,
    start_fraction,
    true_member_fraction,
)
from clustermix.models.pm_2d import predictive
from clustermix.models.systematics import PM_FLOOR_MASYR, pm_systematic_draws

NAME = "pm_2d"
#: The posterior predictive check's quantities, its fitted ``obs`` columns and their
#: observed values (:mod:`.predictive`).
QUANTITIES = predictive.QUANTITIES
OBS_QUANTITIES = predictive.OBS_QUANTITIES
observed_quantities = predictive.observed_quantities
DEFAULT_OPTIONS: dict[str, Any] = {
    "stars": "all",  # "all", "cluster_region" or "control_field"
    "n_field_components": "auto",  # an integer, or "auto": chosen by BIC on the control field
    "max_field_components": 4,  # the largest K "auto" considers
    "cluster_min_members": 20,  # a cluster holds at least this many stars (prior on f)
    "cluster_sigma_v_max_kms": 5.0,  # and is at most this hot (km/s; mode search and checks)
    # and its members are this many times denser on the sky in the cluster region than in
    # the control annulus (mode search; with stars: all)
    "cluster_min_concentration": 2.0,
    "order_field_by": "width",  # "width" (log excess widths increase) or "pmra" (means do)
    "pm_prior_centre": [0.0, 0.0],  # mas/yr (pmra, pmdec): centre of the mean priors
    "pm_prior_sd": 10.0,  # mas/yr
    "sigma_cl_prior_sd": 0.5,  # mas/yr, HalfNormal scale of the cluster's dispersion
    "field_sigma_prior_median": 3.0,  # mas/yr, median of the field widths' excess over s_cl
    "field_log_sigma_prior_sd": 1.0,  # natural-log sd of that log-normal excess
    "field_log_axis_ratio_prior_sd": 1.0,  # natural-log width of the axis-ratio prior
    "pm_init": None,  # mas/yr (pmra, pmdec) starting cluster mean; None: densest bin
    "field_model": "control_field",  # "control_field" (learned there, fixed) or "joint"
    "field_magnitude_bins": 4,  # G bins of the control-field field model
    "pm_systematic_masyr": PM_FLOOR_MASYR,  # Gaia DR3 floor added to the reported pmra, pmdec
    "systematic_seed": 20210103,  # seed of the systematic draws in summary_quantities
}

#: A fit needs at least this many stars per mixture component (cluster + K field ones).
STARS_PER_COMPONENT = 10
COLUMNS = ("pmra", "pmdec", "pmra_error", "pmdec_error", "pmra_pmdec_corr")
AXES = ("pmra", "pmdec")
ORDERINGS = ("width", "pmra")
FIELD_MODELS = ("control_field", "joint")
#: Options under which :func:`prepare_data` gives only what the choice of K reads (the probe
#: of :func:`clustermix.fit.run.prepare_cluster_fit`): nothing learned before the fit.
PROBE_OPTIONS: dict[str, Any] = {"field_model": "joint"}


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_OPTIONS`` overridden by ``options``."""
    return {**DEFAULT_OPTIONS, **(options or {})}


def _n_components(opts: dict[str, Any], source: str) -> int:
    """The number of field components K, after checking K and ``order_field_by``."""
    if opts["field_model"] not in FIELD_MODELS:
        raise InputDataError(
            f"{source}: field_model must be one of {FIELD_MODELS}, got {opts['field_model']!r}"
        )
    return check_field_options(opts, source, ORDERINGS)


def prepare_data(catalog: Any, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """``source_id``, ``pmra``, ``pmdec``, their errors (mas/yr) and ``pmra_pmdec_corr``.

    The selection is ``options["stars"]``. Raises :class:`InputDataError` (naming
    ``source``, the column and the row count) for an empty selection, a non-finite value,
    a non-positive error, a correlation outside (-1, 1) or fewer than 10 (K + 1) stars.
    """
    opts = _options(options)
    n_components = _n_components(opts, source)
    mask = select_stars(catalog, opts["stars"], source)
    arrays = checked_columns(
        catalog,
        COLUMNS,
        positive=("pmra_error", "pmdec_error"),
        mask=mask,
        source=source,
        min_stars=STARS_PER_COMPONENT * (n_components + 1),
    )
    n_bad = int((np.abs(arrays["pmra_pmdec_corr"]) >= 1.0).sum())
    if n_bad:
        raise InputDataError(
            f"{source}: column 'pmra_pmdec_corr' is outside (-1, 1) on {n_bad} of the "
            f"{mask.sum()} selected rows"
        )
    data = {"source_id": selected_source_ids(catalog, mask, source), **arrays}
    if opts["field_model"] == "control_field":
        data.update(_control_field(catalog, opts, mask, source))
        data["field_logpdf"] = fixed_field_logpdf_2d(
            np.column_stack([data["pmra"], data["pmdec"]]),
            np.column_stack(star_covariances(*(data[name] for name in COLUMNS[2:]))),
            data["field_weights"],
            data["field_means"],
            data["field_sigmas"],
            data["field_rho"],
        )
    return data


def _control_field(
    catalog: Any, opts: dict[str, Any], mask: np.ndarray, source: str
) -> dict[str, np.ndarray]:
    """Each selected star's field, learned on the control field's stars of its G bin
    (:func:`~clustermix.models.mixture.control_field_model`): ``field_weights`` (n, K),
    ``field_means`` and ``field_sigmas`` (n, K, 2) (mas/yr), ``field_rho`` (n, K). Its log
    density at each star, ``field_logpdf`` (n,), is added by :func:`prepare_data`."""
    field = control_field_model(
        catalog,
        mask,
        COLUMNS,
        ("pmra_error", "pmdec_error"),
        field_observables,
        opts,
        source,
        NAME,
    )
    cov = field.pop("field_covariances")
    sigmas = np.sqrt(np.stack([cov[..., 0, 0], cov[..., 1, 1]], axis=-1))
    return {**field, "field_sigmas": sigmas, "field_rho": cov[..., 0, 1] / np.prod(sigmas, axis=-1)}


def star_covariances(pmra_error, pmdec_error, corr):
    """Each star's measurement covariance entries (var_a, var_d, cov_ad) in (mas/yr)^2."""
    return pmra_error**2, pmdec_error**2, corr * pmra_error * pmdec_error


def field_widths(sigma_cl, log_excess, log_axis_ratio):
    """Field sds along pmra and pmdec (mas/yr), shape (K, 2): s_cl + exp(l_k +- q_k / 2)."""
    half = 0.5 * log_axis_ratio
    return sigma_cl + pt.exp(pt.stack([log_excess + half, log_excess - half], axis=-1))


def component_log_terms(
    value, pm_errors, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, rho_field
):
    """Per star, log(f L_cluster) and log((1 - f) L_field), convolved with each C_i.

    ``value`` (n_star, 2) observed (pmra, pmdec); ``pm_errors`` the triple (pmra_error,
    pmdec_error, pmra_pmdec_corr), each (n_star,); ``mu_cl`` (2,); ``w_field`` (K,),
    ``mu_field`` and ``sigma_field`` (K, 2), ``rho_field`` (K,). Units mas/yr.
    """
    var_a, var_d, cov_ad = star_covariances(*pm_errors)
    dx, dy = value[..., 0], value[..., 1]
    log_cluster = cluster_log_term(value, pm_errors, mu_cl, sigma_cl, f_cluster)
    log_field = pt.log1p(-f_cluster) + convolved_gmm_logpdf_2d(
        dx, dy, var_a, var_d, cov_ad, mu_field, sigma_field, rho_field, pt.log(w_field)
    )
    return log_cluster, log_field


def _obs_logp(value, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, rho, *errors):
    """The per-star mixture log-likelihood (the ``obs`` term)."""
    log_cluster, log_field = component_log_terms(
        value, errors, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, rho
    )
    return pt.logaddexp(log_cluster, log_field)


def cluster_log_term(value, pm_errors, mu_cl, sigma_cl, f_cluster):
    """Per star, log(f L_cluster) (arguments as in :func:`component_log_terms`)."""
    var_a, var_d, cov_ad = star_covariances(*pm_errors)
    return pt.log(f_cluster) + bivariate_normal_logpdf(
        value[..., 0] - mu_cl[..., 0],
        value[..., 1] - mu_cl[..., 1],
        var_a + sigma_cl**2,
        var_d + sigma_cl**2,
        cov_ad,
    )


def fixed_field_log_terms(value, pm_errors, mu_cl, sigma_cl, f_cluster, field_logpdf):
    """:func:`component_log_terms` for the field learned on the control field, whose
    per-star log density ``field_logpdf`` (n_star,) was computed once
    (:func:`clustermix.models.fixed_field.fixed_field_logpdf_2d`)."""
    log_cluster = cluster_log_term(value, pm_errors, mu_cl, sigma_cl, f_cluster)
    return log_cluster, pt.log1p(-f_cluster) + field_logpdf


def _fixed_obs_logp(value, mu_cl, sigma_cl, f_cluster, w, mu, sigma, rho, *errors_and_field):
    """The ``obs`` term with the fixed field; its arrays (w, mu, sigma, rho) serve only the
    random draws, and the last argument is ``field_logpdf``."""
    *errors, field_logpdf = errors_and_field
    log_cluster, log_field = fixed_field_log_terms(
        value, errors, mu_cl, sigma_cl, f_cluster, field_logpdf
    )
    return pt.logaddexp(log_cluster, log_field)


def _fixed_obs_random(*params, rng=None, size=None):
    """:func:`_obs_random` for the fixed field (its last parameter, ``field_logpdf``, is
    not needed to draw)."""
    return _obs_random(*params[:-1], rng=rng, size=size)


def _obs_random(
    mu_cl,
    sigma_cl,
    f_cluster,
    w_field,
    mu_field,
    sigma_field,
    rho,
    pmra_error,
    pmdec_error,
    corr,
    rng=None,
    size=None,
):
    """Draw (pmra, pmdec) pairs (mas/yr) from the mixture, for posterior predictive checks.

    The field's parameters are either shared by every star (K,) or each star's own (n, K)
    (the control-field field model); everything is broadcast to one set per star.
    """
    f_cluster = np.asarray(f_cluster)[..., None]
    sigma_cl = np.asarray(sigma_cl)[..., None]
    mu_field, sigma_field = np.asarray(mu_field), np.asarray(sigma_field)
    k = np.shape(w_field)[-1]
    if size is None:
        size = np.broadcast_shapes(
            np.shape(pmra_error), f_cluster.shape[:-1], np.shape(w_field)[:-1], mu_field.shape[:-2]
        )

    def per_star(cluster, field):
        """Cluster and field values, (..., 1) and (..., K), as one (*size, K + 1) array."""
        return np.concatenate(
            [np.broadcast_to(cluster, (*size, 1)), np.broadcast_to(field, (*size, k))], axis=-1
        )

    weights = per_star(f_cluster, (1.0 - f_cluster) * np.asarray(w_field))
    mean_a = per_star(np.asarray(mu_cl)[..., :1], mu_field[..., 0])
    mean_d = per_star(np.asarray(mu_cl)[..., 1:], mu_field[..., 1])
    var_a = per_star(sigma_cl**2, sigma_field[..., 0] ** 2)
    var_d = per_star(sigma_cl**2, sigma_field[..., 1] ** 2)
    cov = per_star(0.0 * sigma_cl, rho * np.prod(sigma_field, axis=-1))
    cumulative = np.cumsum(weights, axis=-1)
    index = (rng.random(size)[..., None] > cumulative[..., :-1]).sum(axis=-1)[..., None]

    def pick(array):
        return np.take_along_axis(array, index, -1)[..., 0]

    e_var_a, e_var_d, e_cov = star_covariances(pmra_error, pmdec_error, corr)
    total_a = pick(var_a) + e_var_a
    total_d = pick(var_d) + e_var_d
    total_cov = pick(cov) + e_cov
    # Cholesky factor of the 2x2 total covariance, written out
    l11 = np.sqrt(total_a)
    l21 = total_cov / l11
    l22 = np.sqrt(total_d - l21**2)
    z1, z2 = rng.normal(size=size), rng.normal(size=size)
    return np.stack([pick(mean_a) + l11 * z1, pick(mean_d) + l21 * z1 + l22 * z2], axis=-1)


def initial_values(data: dict[str, np.ndarray], options: dict[str, Any]) -> dict[str, Any]:
    """Data-driven starting values, keyed by free-variable name (mas/yr).

    For ``pm.sample(initvals=...)`` or nutpie's ``initial_points``: a cluster + K-component
    2D Gaussian mixture fitted by EM to the proper motions
    (:func:`~clustermix.models.mixture.cluster_field_start`, the cluster started at
    ``options["pm_init"]`` or the densest 0.25 mas/yr bin), with the cluster's intrinsic
    dispersion set to 0.1 mas/yr and the field components sorted as the model orders them.
    They only start the sampler near the main mode; the posterior does not depend on
    them, and the model's default starting point is valid too.
    """
    opts = _options(options)
    k = _n_components(opts, NAME)
    values = np.column_stack([data["pmra"], data["pmdec"]])
    errors = np.column_stack([data["pmra_error"], data["pmdec_error"]])
    start = cluster_field_start(values, errors, k, opts["pm_init"])
    sigma_cl = 0.1
    cluster = {
        "pmra_cl": np.float64(start["cluster_mean"][0]),
        "pmdec_cl": np.float64(start["cluster_mean"][1]),
        "sigma_cl": np.float64(sigma_cl),
        "f_cluster": start_fraction(
            start["f_cluster"], len(data["pmra"]), opts["cluster_min_members"]
        ),
    }
    if "field_weights" in data:  # the field is fixed: only the cluster is free
        return cluster
    cov = start["field_covariances"]
    sd = np.sqrt(np.stack([cov[:, 0, 0], cov[:, 1, 1]], axis=-1))
    log_excess_axes = np.log(np.maximum(sd - sigma_cl, 0.05))
    log_excess = log_excess_axes.mean(axis=-1)
    field_mean = start["field_means"]
    by_width = opts["order_field_by"] == "width"
    order = np.argsort(log_excess if by_width else field_mean[:, 0])
    rho = np.clip(cov[:, 0, 1] / np.prod(sd, axis=-1), -0.95, 0.95)[order]
    initial = {
        **cluster,
        **component_locations_start("pmra_field", field_mean[order, 0], not by_width, 0.05),
        "pmdec_field": field_mean[order, 1],
        **component_locations_start("log_excess_sigma_field", log_excess[order], by_width, 0.05),
        "log_axis_ratio_field": (log_excess_axes[:, 0] - log_excess_axes[:, 1])[order],
        "rho_field_beta": 0.5 * (rho + 1.0),
    }
    if k > 1:
        weights = np.clip(start["field_weights"][order], 1e-3, None)
        initial["w_field"] = weights / weights.sum()
    return initial


#: The cluster quantities that tell modes apart (see :mod:`clustermix.models.modes`).
MODE_QUANTITIES: dict[str, str] = {
    "pmra": "pmra_cl",
    "pmdec": "pmdec_cl",
    "f_cluster": "f_cluster",
    "sigma_pm": "sigma_cl",
}


def start_at(
    data: dict[str, np.ndarray], options: dict[str, Any], candidate: Any
) -> dict[str, Any]:
    """:func:`initial_values` with the cluster started at the candidate's proper motion."""
    centre = [candidate.pmra, candidate.pmdec]
    start = initial_values(data, {**_options(options), "pm_init": centre})
    # the EM behind initial_values may drift; the optimiser starts at the candidate itself
    return {**start, "pmra_cl": np.float64(centre[0]), "pmdec_cl": np.float64(centre[1])}


def field_observables(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(pmra, pmdec) (n, 2) and each star's covariance (n, 2, 2), for choosing K."""
    var_a, var_d, cov_ad = star_covariances(
        data["pmra_error"], data["pmdec_error"], data["pmra_pmdec_corr"]
    )
    covariances = np.stack([np.stack([var_a, cov_ad], -1), np.stack([cov_ad, var_d], -1)], -2)
    return np.column_stack([data["pmra"], data["pmdec"]]), covariances


def build_model(data: dict[str, np.ndarray], options: dict[str, Any] | None = None) -> pm.Model:
    """The 2D proper-motion mixture: isotropic Gaussian cluster, K full-covariance field ones."""
    opts = _options(options)
    k = _n_components(opts, NAME)
    centre = np.asarray(opts["pm_prior_centre"], dtype=float)
    spread = float(opts["pm_prior_sd"])
    coords = {"star": data["source_id"], "component": np.arange(k), "axis": list(AXES)}
    with pm.Model(coords=coords) as model:
        value = pm.Data("pm", np.column_stack([data["pmra"], data["pmdec"]]), dims=("star", "axis"))
        errors = tuple(pm.Data(name, data[name], dims="star") for name in COLUMNS[2:])
        pmra_cl = pm.Normal("pmra_cl", centre[0], spread)
        pmdec_cl = pm.Normal("pmdec_cl", centre[1], spread)
        sigma_cl = pm.HalfNormal("sigma_cl", sigma=float(opts["sigma_cl_prior_sd"]))
        f_cluster = cluster_fraction_prior(n_stars_described(data), opts["cluster_min_members"])
        far_star_term(data, f_cluster)
        mu_cl = pt.stack([pmra_cl, pmdec_cl])
        if "field_weights" in data:
            params = (mu_cl, sigma_cl, f_cluster, *_fixed_field(data))
            field_logpdf = pm.Data("field_logpdf", data["field_logpdf"], dims="star")
            extra, logp, random = (field_logpdf,), _fixed_obs_logp, _fixed_obs_random
            log_cluster, log_field = fixed_field_log_terms(
                value, errors, mu_cl, sigma_cl, f_cluster, field_logpdf
            )
        else:
            params = (mu_cl, sigma_cl, f_cluster, *_joint_field(opts, k, sigma_cl, centre, spread))
            extra, logp, random = (), _obs_logp, _obs_random
            log_cluster, log_field = component_log_terms(value, errors, *params)
        pm.CustomDist(
            "obs",
            *params,
            *errors,
            *extra,
            logp=logp,
            random=random,
            signature="(a),(),(),(k),(k,a),(k,a),(k),(),(),()" + ",()" * len(extra) + "->(a)",
            observed=value,
            dims=("star", "axis"),
        )
        pm.Deterministic(
            "p_cluster", cluster_fraction_per_star(log_cluster, log_field), dims="star"
        )
    return model


def far_star_eligible(data: dict[str, np.ndarray], options: dict[str, Any]) -> np.ndarray:
    """Which stars' field term depends on no free parameter, so that a star far from the
    cluster can join the one term of :func:`~clustermix.models.mixture.far_star_term`
    (:mod:`clustermix.fit.far_stars`): every star with the field learned on the control
    field, none with a joint field."""
    return np.full(len(data["source_id"]), "field_weights" in data)


def _fixed_field(data: dict[str, np.ndarray]) -> tuple[Any, ...]:
    """The control-field field model as data: each star's (w, means, sds, rho)."""
    return (
        pm.Data("field_weights", data["field_weights"], dims=("star", "component")),
        pm.Data("field_means", data["field_means"], dims=("star", "component", "axis")),
        pm.Data("field_sigmas", data["field_sigmas"], dims=("star", "component", "axis")),
        pm.Data("field_rho", data["field_rho"], dims=("star", "component")),
    )


def _joint_field(
    opts: dict[str, Any], k: int, sigma_cl: Any, centre: np.ndarray, spread: float
) -> tuple[Any, ...]:
    """The field fitted with the cluster: (w, means, sds, rho) as free parameters (K,)."""
    by_width = opts["order_field_by"] == "width"
    w_field = pm.Dirichlet("w_field", a=np.ones(k), dims="component") if k > 1 else pt.ones(1)
    # one of the two is ordered (increasing), which breaks the field's label switching
    pmra_field = component_locations("pmra_field", centre[0], spread, k, not by_width)
    pmdec_field = pm.Normal("pmdec_field", centre[1], spread, dims="component")
    log_excess = component_locations(
        "log_excess_sigma_field",
        np.log(float(opts["field_sigma_prior_median"])),
        float(opts["field_log_sigma_prior_sd"]),
        k,
        by_width,
    )
    log_ratio = pm.Normal(
        "log_axis_ratio_field",
        0.0,
        float(opts["field_log_axis_ratio_prior_sd"]),
        dims="component",
    )
    rho_beta = pm.Beta("rho_field_beta", 2.0, 2.0, dims="component")
    rho_field = pm.Deterministic("rho_field", 2.0 * rho_beta - 1.0, dims="component")
    sigma_field = pm.Deterministic(
        "sigma_field", field_widths(sigma_cl, log_excess, log_ratio), dims=("component", "axis")
    )
    mu_field = pt.stack([pmra_field, pmdec_field], axis=-1)
    return w_field, mu_field, sigma_field, rho_field


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any] | None = None
) -> dict[str, xr.DataArray]:
    """Posterior draws of the cluster's mean ``pmra``, ``pmdec`` (mas/yr) and ``f_cluster``;
    the proper motions add one seeded draw of the systematic floor ``pm_systematic_masyr``
    each per posterior draw (:mod:`clustermix.models.systematics`)."""
    opts = _options(options)
    shift_a, shift_d = pm_systematic_draws(
        posterior["pmra_cl"], float(opts["pm_systematic_masyr"]), int(opts["systematic_seed"])
    )
    return {
        "pmra": (posterior["pmra_cl"] + shift_a).rename("pmra"),
        "pmdec": (posterior["pmdec_cl"] + shift_d).rename("pmdec"),
        "f_cluster": posterior["f_cluster"].rename("f_cluster"),
    }


def true_values(truth: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, float]:
    """The simulator's cluster proper motion (mas/yr) and member fraction among ``data``."""
    return {
        "pmra": float(truth["pmra"]),
        "pmdec": float(truth["pmdec"]),
        "f_cluster": true_member_fraction(truth["member_source_ids"], data["source_id"]),
    }


# ---------------------------------------------------------------------------- predictive check


#: The posterior predictive check's replicates, from ``obs``'s random function
#: (:func:`~clustermix.models.replication.replicator`).
replicate = replication.replicator(build_model, QUANTITIES)

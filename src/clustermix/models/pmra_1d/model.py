"""Model 1: proper motion in RA alone, a Gaussian cluster on a Gaussian-mixture field.

Star i has an observed pmra x_i with uncertainty e_i (mas/yr). With the true values
marginalised analytically (Gaussian convolutions), its likelihood is

    p(x_i | theta) = f N(x_i | mu_cl, s_cl^2 + e_i^2)
                     + (1 - f) sum_k w_k N(x_i | mu_k, s_k^2 + e_i^2)

The field (``field_model``). By default (``"control_field"``) the field's intrinsic pmra
density is learned before the fit from the control annulus's stars (``in_control_field``),
which hold almost no members, and then held fixed: the control stars are split into
``field_magnitude_bins`` (4) bins of G of equal counts and an error-deconvolved
K-component mixture (:func:`clustermix.models.field_choice.control_field_mixture`) is
fitted in each, so that star i has the field (w_ik, mu_ik, s_ik) of its own G bin and its
field term is the constant sum_k w_ik N(x_i | mu_ik, s_ik^2 + e_i^2), computed once.
Only the cluster (``pmra_cl``, ``sigma_pmra_cl``, ``f_cluster``) is sampled. Fitted
jointly, a field of a few Gaussians shared by all magnitudes cannot follow a real field,
whose faint stars are distant, kinematically cold and move nearly like a distant cluster;
the cluster then takes part of that faint field (bench/README.md, 20 seeds of the default
simulated field: f +0.66 sd high with the joint field, +0.29 sd with this one; stars of
p 0.2-0.8 members 0.10 less often than p said, now 0.04-0.07). The fixed field's own
uncertainty (a few thousand control stars per bin) is not propagated. ``"joint"`` keeps
the field's parameters free, with the priors below, for catalogues without a control
field.

Priors (defaults in :data:`DEFAULT_OPTIONS`, mas/yr):

- cluster mean ``pmra_cl`` = mu_cl ~ N(pm_prior_centre, pm_prior_sd^2) = N(0, 10^2);
- cluster intrinsic width ``sigma_pmra_cl`` = s_cl ~ HalfNormal(sigma_cl_prior_sd = 0.5);
- cluster fraction ``f_cluster`` = f ~ Uniform(m / N, 1): a cluster holds at least
  m = ``cluster_min_members`` (20) of the N stars, never a handful of field stars;
- (``field_model: joint`` only, the next three) field weights ``w_field`` = (w_1..w_K) ~
  Dirichlet(1, ..., 1); K = ``n_field_components`` (for both field models), by default
  ``"auto"``: chosen by BIC from 1 to ``max_field_components`` (4) with an
  error-deconvolved mixture of the control field (:mod:`clustermix.models.field_choice`);
- field means ``pmra_field`` mu_k ~ N(0, 10^2);
- field widths ``sigma_pmra_field`` s_k = s_cl + exp(t_k): the cluster's width plus a
  positive excess whose log ``log_excess_sigma_pmra_field`` t_k ~ N(ln 3, 1^2) (a
  log-normal excess of median 3 mas/yr, 95% between 0.4 and 21 mas/yr). Every field
  component is thus wider than the cluster: the cluster is the narrowest Gaussian, which
  stops a narrow field component from taking the cluster's stars while the "cluster"
  settles on the field's core (a trap that short chains otherwise fall into).

The cluster's mean is the members' mean proper motion, and a cluster has at least
``cluster_min_members`` stars and at most ``cluster_sigma_v_max_kms`` of dispersion, and
(fitted to the cluster region and the control annulus together) its members are at least
``cluster_min_concentration`` times denser on the sky in the region than in the annulus:
this model has no sky term, and without that check it took another cluster in the cone.
See :mod:`clustermix.models.modes` for these (how the mode is picked and checked, and how the
members' mean differs from the centre's proper motion that phase_space fits).

Label switching among the (joint) field's components is broken by ordering one vector
(``order_field_by``). ``"width"`` (default): t_1 < ... < t_K, written as
``log_excess_sigma_pmra_field_first`` ~ N(ln 3, 1^2) plus positive gaps
``log_excess_sigma_pmra_field_gap`` ~ HalfNormal(1); ``"pmra"``: mu_1 < ... < mu_K, as
``pmra_field_first`` ~ N(0, 10^2) plus gaps ``pmra_field_gap`` ~ HalfNormal(10). A first
value plus positive gaps (rather than PyMC's ordered transform) keeps the model's default
starting point valid for every sampler. Width is the default because a field's proper
motions are typically a narrow core on a broad halo with nearby means: ordered means put
a wall (equal means) between the two ways of placing them, on which short chains stick.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from clustermix.errors import InputDataError
from clustermix.models import replication
from clustermix.models.fixed_field import fixed_field_logpdf_1d
from clustermix.models.mixture import (
    check_field_options,
    checked_columns,
    cluster_field_start,
    cluster_fraction_per_star,
    cluster_fraction_prior,
    component_locations,
    component_locations_start,
    control_field_model,
    convolved_gmm_logpdf_1d,
    normal_logpdf,
    select_stars,
    selected_source_ids,
    start_fraction,
    true_member_fraction,
)
from clustermix.models.pmra_1d import predictive
from clustermix.models.systematics import PM_FLOOR_MASYR, pm_systematic_draws

NAME = "pmra_1d"
#: The posterior predictive check's quantities, its fitted ``obs`` columns and their
#: observed values (:mod:`.predictive`).
QUANTITIES = predictive.QUANTITIES
OBS_QUANTITIES = predictive.OBS_QUANTITIES
observed_quantities = predictive.observed_quantities
DEFAULT_OPTIONS: dict[str, Any] = {
    # "all", "cluster_region" or "control_field". The cluster region by default: in one
    # dimension a cluster of a few per cent of a wide cone is no mode of its own (the
    # field's core is); in the region it is a large fraction.
    "stars": "cluster_region",
    "n_field_components": "auto",  # an integer, or "auto": chosen by BIC on the control field
    "max_field_components": 4,  # the largest K "auto" considers
    "cluster_min_members": 20,  # a cluster holds at least this many stars (prior on f)
    "cluster_sigma_v_max_kms": 5.0,  # and is at most this hot (km/s; mode search and checks)
    # and its members are this many times denser on the sky in the cluster region than in
    # the control annulus (mode search; with stars: all)
    "cluster_min_concentration": 2.0,
    "order_field_by": "width",  # "width" (log excess widths increase) or "pmra" (means do)
    "pm_prior_centre": 0.0,  # mas/yr, centre of the cluster and field mean priors
    "pm_prior_sd": 10.0,  # mas/yr
    "sigma_cl_prior_sd": 0.5,  # mas/yr, HalfNormal scale of the cluster's intrinsic width
    "field_sigma_prior_median": 3.0,  # mas/yr, median of the field widths' excess over s_cl
    "field_log_sigma_prior_sd": 1.0,  # natural-log sd of that log-normal excess
    "pm_init": None,  # mas/yr, starting cluster mean; None: the densest histogram bin
    "field_model": "control_field",  # "control_field" (learned there, fixed) or "joint"
    "field_magnitude_bins": 4,  # G bins of the control-field field model
    "pm_systematic_masyr": PM_FLOOR_MASYR,  # Gaia DR3 floor added to the reported pmra
    "systematic_seed": 20210104,  # seed of the systematic draws in summary_quantities
}

#: A fit needs at least this many stars per mixture component (cluster + K field ones).
STARS_PER_COMPONENT = 10
COLUMNS = ("pmra", "pmra_error")
ORDERINGS = ("width", "pmra")
FIELD_MODELS = ("control_field", "joint")
#: Options under which :func:`prepare_data` gives only what the choice of K reads (the probe
#: of :func:`clustermix.fit.run.prepare_cluster_fit`): nothing learned before the fit.
PROBE_OPTIONS: dict[str, Any] = {"field_model": "joint"}


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_OPTIONS`` overridden by ``options``."""
    return {**DEFAULT_OPTIONS, **(options or {})}


def prepare_data(catalog: Any, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """``source_id``, ``pmra`` and ``pmra_error`` (mas/yr) of the selected stars.

    The selection is ``options["stars"]``. Raises :class:`InputDataError` (naming
    ``source``, the column and the row count) for an empty selection, a non-finite value,
    a non-positive error or fewer than 10 (K + 1) stars.
    """
    opts = _options(options)
    n_components = _n_components(opts, source)
    mask = select_stars(catalog, opts["stars"], source)
    arrays = checked_columns(
        catalog,
        COLUMNS,
        positive=("pmra_error",),
        mask=mask,
        source=source,
        min_stars=STARS_PER_COMPONENT * (n_components + 1),
    )
    data = {"source_id": selected_source_ids(catalog, mask, source), **arrays}
    if opts["field_model"] == "control_field":
        data.update(_control_field(catalog, opts, mask, source, arrays))
    return data


def _n_components(opts: dict[str, Any], source: str) -> int:
    """The number of field components K, after checking K, ``order_field_by`` and
    ``field_model``."""
    if opts["field_model"] not in FIELD_MODELS:
        raise InputDataError(
            f"{source}: field_model must be one of {FIELD_MODELS}, got {opts['field_model']!r}"
        )
    return check_field_options(opts, source, ORDERINGS)


def _control_field(
    catalog: Any,
    opts: dict[str, Any],
    mask: np.ndarray,
    source: str,
    stars: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Each selected star's field, learned on the control field's stars of its G bin
    (:func:`~clustermix.models.mixture.control_field_model`): ``field_weights``,
    ``field_means`` and ``field_sigmas`` (n, K) (mas/yr, intrinsic), and
    ``field_logpdf`` (n,), the log density of the star's pmra under its field convolved
    with its error, log sum_k w_ik N(x_i | m_ik, s_ik^2 + e_i^2)
    (:func:`~clustermix.models.fixed_field.fixed_field_logpdf_1d`), for the selected
    ``stars`` (their checked ``pmra`` and ``pmra_error``).
    """
    field = control_field_model(
        catalog, mask, COLUMNS, ("pmra_error",), field_observables, opts, source, NAME
    )
    fixed = {
        "field_weights": field["field_weights"],
        "field_means": field["field_means"][..., 0],
        "field_sigmas": np.sqrt(field["field_covariances"][..., 0, 0]),
    }
    fixed["field_logpdf"] = fixed_field_logpdf_1d(stars["pmra"], stars["pmra_error"], **fixed)
    return fixed


def component_log_terms(x, err, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field):
    """Per star, log(f L_cluster) and log((1 - f) L_field), both convolved with ``err``.

    ``x``, ``err`` (n_star,) in mas/yr; ``w_field``, ``mu_field``, ``sigma_field`` (K,).
    """
    log_cluster = pt.log(f_cluster) + normal_logpdf(x, mu_cl, sigma_cl**2 + err**2)
    log_field = pt.log1p(-f_cluster) + convolved_gmm_logpdf_1d(
        x, err, mu_field, sigma_field, pt.log(w_field)
    )
    return log_cluster, log_field


def fixed_field_log_terms(x, err, mu_cl, sigma_cl, f_cluster, field_logpdf):
    """:func:`component_log_terms` for the fixed (control-field) field, whose per-star log
    density ``field_logpdf`` (n_star,) was computed once
    (:func:`~clustermix.models.fixed_field.fixed_field_logpdf_1d`)."""
    log_cluster = pt.log(f_cluster) + normal_logpdf(x, mu_cl, sigma_cl**2 + err**2)
    return log_cluster, pt.log1p(-f_cluster) + field_logpdf


def _obs_logp(value, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, err):
    """The per-star mixture log-likelihood (the ``obs`` term)."""
    log_cluster, log_field = component_log_terms(
        value, err, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field
    )
    return pt.logaddexp(log_cluster, log_field)


def _fixed_obs_logp(
    value, mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, err, field_logpdf
):
    """The ``obs`` term with the fixed field (the field's arrays serve the random draws)."""
    log_cluster, log_field = fixed_field_log_terms(
        value, err, mu_cl, sigma_cl, f_cluster, field_logpdf
    )
    return pt.logaddexp(log_cluster, log_field)


def _obs_random(
    mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, err, rng=None, size=None
):
    """Draw pmra values (mas/yr) from the mixture, for posterior predictive checks.

    The field's parameters are either shared by every star (K,) or each star's own (n, K)
    (the control-field field model): per star, the component is drawn from
    [f, (1 - f) w_ik].
    """
    f_cluster = np.asarray(f_cluster)[..., None]
    w_field, mu_field = np.asarray(w_field), np.asarray(mu_field)
    sigma_field = np.asarray(sigma_field)
    k = w_field.shape[-1]
    if size is None:
        size = np.broadcast_shapes(
            np.shape(err),
            f_cluster.shape[:-1],
            np.shape(mu_cl),
            w_field.shape[:-1],
            mu_field.shape[:-1],
            sigma_field.shape[:-1],
        )

    def per_star(cluster, field):
        """Cluster and field values, (..., 1) and (..., K), as one (*size, K + 1) array."""
        return np.concatenate(
            [np.broadcast_to(cluster, (*size, 1)), np.broadcast_to(field, (*size, k))], axis=-1
        )

    weights = per_star(f_cluster, (1.0 - f_cluster) * w_field)
    means = per_star(np.asarray(mu_cl)[..., None], mu_field)
    sigmas = per_star(np.asarray(sigma_cl)[..., None], sigma_field)
    cumulative = np.cumsum(weights, axis=-1)
    index = (rng.random(size)[..., None] > cumulative[..., :-1]).sum(axis=-1)[..., None]
    mean = np.take_along_axis(means, index, -1)[..., 0]
    sigma = np.take_along_axis(sigmas, index, -1)[..., 0]
    return rng.normal(mean, np.sqrt(sigma**2 + np.asarray(err) ** 2))


def _fixed_obs_random(
    mu_cl,
    sigma_cl,
    f_cluster,
    w_field,
    mu_field,
    sigma_field,
    err,
    field_logpdf,
    rng=None,
    size=None,
):
    """:func:`_obs_random` for the fixed field (``field_logpdf`` is not needed to draw)."""
    return _obs_random(
        mu_cl, sigma_cl, f_cluster, w_field, mu_field, sigma_field, err, rng=rng, size=size
    )


def initial_values(data: dict[str, np.ndarray], options: dict[str, Any]) -> dict[str, Any]:
    """Data-driven starting values, keyed by free-variable name (mas/yr).

    For ``pm.sample(initvals=...)`` or nutpie's ``initial_points``: a cluster + K-component
    Gaussian mixture fitted by EM to the pmra values
    (:func:`~clustermix.models.mixture.cluster_field_start`, the cluster started at
    ``options["pm_init"]`` or the densest bin), with the cluster's intrinsic width set to
    0.1 mas/yr and the field components sorted as the model orders them. They only start
    the sampler near the main mode; the posterior does not depend on them, and the model's
    own default starting point is valid too.
    """
    opts = _options(options)
    k = _n_components(opts, NAME)
    start = cluster_field_start(data["pmra"], data["pmra_error"], k, opts["pm_init"])
    sigma_cl = 0.1
    cluster = {
        "pmra_cl": np.float64(start["cluster_mean"][0]),
        "sigma_pmra_cl": np.float64(sigma_cl),
        "f_cluster": start_fraction(
            start["f_cluster"], len(data["pmra"]), opts["cluster_min_members"]
        ),
    }
    if "field_weights" in data:  # the field is fixed: only the cluster is free
        return cluster
    log_excess = np.log(np.maximum(np.sqrt(start["field_covariances"][:, 0, 0]) - sigma_cl, 0.05))
    field_mean = start["field_means"][:, 0]
    by_width = opts["order_field_by"] == "width"
    order = np.argsort(log_excess if by_width else field_mean)
    values = {
        **cluster,
        **component_locations_start("pmra_field", field_mean[order], not by_width, 0.05),
        **component_locations_start(
            "log_excess_sigma_pmra_field", log_excess[order], by_width, 0.05
        ),
    }
    if k > 1:
        weights = np.clip(start["field_weights"][order], 1e-3, None)
        values["w_field"] = weights / weights.sum()
    return values


#: The cluster quantities that tell modes apart (see :mod:`clustermix.models.modes`).
MODE_QUANTITIES: dict[str, str] = {
    "pmra": "pmra_cl",
    "f_cluster": "f_cluster",
    "sigma_pm": "sigma_pmra_cl",
}


def start_at(
    data: dict[str, np.ndarray], options: dict[str, Any], candidate: Any
) -> dict[str, Any]:
    """:func:`initial_values` with the cluster started at ``candidate.pmra`` (mas/yr)."""
    start = initial_values(data, {**_options(options), "pm_init": candidate.pmra})
    # the EM behind initial_values may drift; the optimiser starts at the candidate itself
    return {**start, "pmra_cl": np.float64(candidate.pmra)}


def field_observables(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """pmra (n, 1) and its error variance (n, 1, 1), (mas/yr)^2, for choosing K."""
    return data["pmra"][:, None], (data["pmra_error"] ** 2)[:, None, None]


def build_model(data: dict[str, np.ndarray], options: dict[str, Any] | None = None) -> pm.Model:
    """The pmra mixture: one Gaussian cluster, K Gaussian field components, per-star errors.

    With ``data`` from the control-field field model (``field_weights`` ...), the field is
    fixed data and only the cluster is free."""
    opts = _options(options)
    k = _n_components(opts, NAME)
    centre, spread = float(opts["pm_prior_centre"]), float(opts["pm_prior_sd"])
    coords = {"star": data["source_id"], "component": np.arange(k)}
    with pm.Model(coords=coords) as model:
        pmra = pm.Data("pmra", data["pmra"], dims="star")
        err = pm.Data("pmra_error", data["pmra_error"], dims="star")
        mu_cl = pm.Normal("pmra_cl", centre, spread)
        sigma_cl = pm.HalfNormal("sigma_pmra_cl", sigma=float(opts["sigma_cl_prior_sd"]))
        f_cluster = cluster_fraction_prior(len(data["pmra"]), opts["cluster_min_members"])
        if "field_weights" in data:
            field = _fixed_field(data)
            field_logpdf = pm.Data("field_logpdf", data["field_logpdf"], dims="star")
            pm.CustomDist(
                "obs",
                mu_cl,
                sigma_cl,
                f_cluster,
                *field,
                err,
                field_logpdf,
                logp=_fixed_obs_logp,
                random=_fixed_obs_random,
                signature="(),(),(),(k),(k),(k),(),()->()",
                observed=pmra,
                dims="star",
            )
            log_cluster, log_field = fixed_field_log_terms(
                pmra, err, mu_cl, sigma_cl, f_cluster, field_logpdf
            )
        else:
            params = (mu_cl, sigma_cl, f_cluster, *_joint_field(opts, k, sigma_cl, centre, spread))
            pm.CustomDist(
                "obs",
                *params,
                err,
                logp=_obs_logp,
                random=_obs_random,
                signature="(),(),(),(k),(k),(k),()->()",
                observed=pmra,
                dims="star",
            )
            log_cluster, log_field = component_log_terms(pmra, err, *params)
        pm.Deterministic(
            "p_cluster", cluster_fraction_per_star(log_cluster, log_field), dims="star"
        )
    return model


def _fixed_field(data: dict[str, np.ndarray]) -> tuple[Any, ...]:
    """The control-field field model as data: each star's (w, means, sds), (n, K)."""
    return (
        pm.Data("field_weights", data["field_weights"], dims=("star", "component")),
        pm.Data("field_means", data["field_means"], dims=("star", "component")),
        pm.Data("field_sigmas", data["field_sigmas"], dims=("star", "component")),
    )


def _joint_field(
    opts: dict[str, Any], k: int, sigma_cl: Any, centre: float, spread: float
) -> tuple[Any, ...]:
    """The field fitted with the cluster: (w, means, sds) as free parameters (K,)."""
    by_width = opts["order_field_by"] == "width"
    w_field = pm.Dirichlet("w_field", a=np.ones(k), dims="component") if k > 1 else pt.ones(1)
    # one of the two is ordered (increasing), which breaks the field's label switching
    mu_field = component_locations("pmra_field", centre, spread, k, ordered=not by_width)
    log_excess = component_locations(
        "log_excess_sigma_pmra_field",
        np.log(float(opts["field_sigma_prior_median"])),
        float(opts["field_log_sigma_prior_sd"]),
        k,
        ordered=by_width,
    )
    sigma_field = pm.Deterministic(
        "sigma_pmra_field", sigma_cl + pt.exp(log_excess), dims="component"
    )
    return w_field, mu_field, sigma_field


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any] | None = None
) -> dict[str, xr.DataArray]:
    """Posterior draws of the cluster's mean ``pmra`` (mas/yr) and ``f_cluster``; ``pmra``
    adds one seeded draw of the systematic floor ``pm_systematic_masyr`` per posterior draw
    (:mod:`clustermix.models.systematics`)."""
    opts = _options(options)
    shift, _ = pm_systematic_draws(
        posterior["pmra_cl"], float(opts["pm_systematic_masyr"]), int(opts["systematic_seed"])
    )
    return {
        "pmra": (posterior["pmra_cl"] + shift).rename("pmra"),
        "f_cluster": posterior["f_cluster"].rename("f_cluster"),
    }


def true_values(truth: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, float]:
    """The simulator's cluster pmra (mas/yr) and its member fraction among ``data``'s stars."""
    return {
        "pmra": float(truth["pmra"]),
        "f_cluster": true_member_fraction(truth["member_source_ids"], data["source_id"]),
    }


# ---------------------------------------------------------------------------- predictive check


#: The posterior predictive check's replicates, from ``obs``'s random function
#: (:func:`~clustermix.models.replication.replicator`).
replicate = replication.replicator(build_model, QUANTITIES)

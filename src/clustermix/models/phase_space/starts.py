"""``phase_space``'s starting values: where the chains (and the mode search's optimiser)
start, from the data or from a candidate mode. Starting values do not change the
posterior. NumPy and SciPy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from clustermix.models.mixture import histogram_peak, start_fraction
from clustermix.models.phase_space import cmd
from clustermix.models.phase_space.options import (
    ASTROMETRY,
    ERRORS,
    INFLATED,
    STARS_PER_COMPONENT,
    n_field_components,
    with_defaults,
)

#: Inner stars used for the starting values: within this fraction of the cone radius.
INIT_RADIUS_FRACTION = 0.25

#: The starting field mixture is fitted to the stars beyond this fraction of the cone radius.
_FIELDINIT_RADIUS_FRACTION = 0.5

#: Proper-motion window (mas/yr) around the starting cluster proper motion.
INIT_PM_WINDOW = 0.75

#: Starting excess of the error-inflation factors (s = 1.05).
_INIT_ERROR_EXCESS = 0.05

#: Smoothing (km/s) of the RV density that gives the cluster's starting RV.
_INIT_RV_WIDTH = 2.0


def initial_values(
    data: dict[str, np.ndarray],
    options: dict[str, Any],
    cluster_pm: tuple[float, float] | None = None,
    cluster_parallax: float | None = None,
) -> dict[str, Any]:
    """Data-driven starting values, keyed by free-variable name, for
    ``pm.sample(initvals=...)`` or nutpie's ``initial_points`` (the model itself sets none,
    so that ``pm.compute_log_likelihood`` works; its default starting point is valid but far
    from the cluster, so a fit should use these).

    The cluster proper motion starts at ``cluster_pm`` (mas/yr) or at the densest
    0.25 mas/yr bin of the stars within a quarter of the cone radius; its parallax at
    ``cluster_parallax`` (mas) or the median of the better-measured half of those stars
    within 0.75 mas/yr of it; its radial velocity at the densest RV (:func:`densest_rv`) of
    those stars whose parallax agrees within 3 sigma; the field mixture at a
    Gaussian-mixture fit by expectation-maximisation (:func:`field_mixture_start`); the
    error-inflation factors at 1.05, the binaries' RV fraction at 0.2 and spread at the
    prior's median; a King profile's tidal radius beyond the cone (:func:`profile_start`);
    a zero-point offset at 0; with ``cmd_term``, the ridge at the running median colour of
    the stars near that proper motion and parallax (:func:`colour_start`). Starting values
    do not change the posterior.
    """
    opts = with_defaults(options)
    k = n_field_components(opts)
    low, high = (float(v) for v in opts["parallax_prior_range_mas"])
    radius = float(data["cone_radius_arcmin"])
    inner = np.hypot(data["xi"], data["eta"]) < INIT_RADIUS_FRACTION * radius
    if inner.sum() < 10:
        inner = np.ones_like(inner)
    pm_values = np.column_stack([data["pmra"], data["pmdec"]])
    pm_errors = np.column_stack([data["pmra_error"], data["pmdec_error"]])
    pm_init = (
        histogram_peak(pm_values[inner], pm_errors[inner], 0.25)
        if cluster_pm is None
        else np.asarray(cluster_pm, dtype=float)
    )
    near = inner & (np.hypot(*(pm_values - pm_init).T) < INIT_PM_WINDOW)
    if near.sum() < 3:
        near = inner
    precise = near & (data["parallax_error"] <= np.median(data["parallax_error"][near]))
    margin = 0.01 * (high - low)
    parallax_init = float(
        np.clip(np.median(data["parallax"][precise]), low + margin, high - margin)
    )
    if cluster_parallax is not None:
        parallax_init = float(np.clip(cluster_parallax, low + margin, high - margin))
    # the RV start: the densest RV of those stars whose parallax agrees within 3 sigma
    with_rv = near & data["has_rv"]
    agrees = np.abs(data["parallax"] - parallax_init) < 3.0 * data["parallax_error"]
    if (with_rv & agrees).any():
        with_rv &= agrees
    rv_init = (
        densest_rv(data["radial_velocity"][with_rv], data["radial_velocity_error"][with_rv])
        if with_rv.any()
        else 0.0
    )
    # a field learned on the control field is fixed: nothing of it to start
    field = {} if "field_weights" in data else field_mixture_start(data, k)
    values: dict[str, Any] = {
        "xi_cl": 0.0,
        "eta_cl": 0.0,
        "plummer_radius_arcmin": float(
            min(float(opts["plummer_prior_median_arcmin"]), 0.25 * radius)
        ),
        "parallax_cl": parallax_init,
        "pmra_cl": float(pm_init[0]),
        "pmdec_cl": float(pm_init[1]),
        "rv_cl": rv_init,
        "sigma_v": 1.0,
        "f_cluster": start_fraction(0.2, len(data["ra"]), opts["cluster_min_members"]),
        **field,
    }
    values.update(profile_start(opts, values["plummer_radius_arcmin"], radius))
    if float(opts["zero_point_offset_prior_sd_mas"]) > 0.0:
        values["parallax_zero_point_offset"] = 0.0
    if data["has_rv"].any():
        rv = data["radial_velocity"][data["has_rv"]]
        values["rv_field_mean"] = float(np.median(rv))
        values["rv_field_sd"] = float(max(np.std(rv), 1.0))
        if opts["rv_binaries"]:
            values["rv_binary_fraction"] = 0.2
            values["rv_binary_sd"] = float(opts["rv_binary_sd_prior_kms"][0])
    if opts["cmd_term"]:
        values.update(colour_start(data, opts, near & agrees))
    if opts["error_inflation"]:
        n_ranges = len(opts["error_inflation_g_edges"]) + 1
        for name in INFLATED:
            if name != "rv" or data["has_rv"].any():
                values[f"error_excess_{name}"] = np.full(n_ranges, _INIT_ERROR_EXCESS)
    return values


def profile_start(opts: dict[str, Any], scale: float, cone_radius: float) -> dict[str, float]:
    """The sky profile's starting shape: for ``profile: king`` the concentration
    c = log10(r_t / r_c) that puts the tidal radius at 1.5 cone radii (arcmin) for the
    starting core radius ``scale`` (arcmin), so that no star starts beyond it, kept inside
    the prior's range; nothing for the other profiles (EFF starts at its prior's middle)."""
    if opts["profile"] != "king":
        return {}
    low, high = (float(v) for v in opts["king_concentration_prior_range"])
    margin = 0.01 * (high - low)
    start = float(np.log10(1.5 * cone_radius / scale))
    return {"king_concentration": float(np.clip(start, low + margin, high - margin))}


def colour_start(
    data: dict[str, np.ndarray], opts: dict[str, Any], likely_members: np.ndarray
) -> dict[str, Any]:
    """Starting values of the colour-magnitude term: the ridge's node colours from the
    running median of BP - RP against G (:func:`.cmd.running_median_colours`) of
    ``likely_members`` (those with a colour; the inner stars near the starting proper
    motion and parallax); the width and fractions at their priors' scale or mean."""
    likely = likely_members & data["has_colour"]
    if likely.sum() < STARS_PER_COMPONENT:
        likely = data["has_colour"]
    a_b, b_b = (float(v) for v in opts["cmd_binary_fraction_prior"])
    a_o, b_o = (float(v) for v in opts["cmd_outlier_fraction_prior"])
    return {
        "cmd_ridge_colour": cmd.running_median_colours(
            data["g_mag"][likely], data["bp_rp"][likely], data["cmd_node_mags"]
        ),
        "cmd_width": 0.5 * float(opts["cmd_width_prior_sd_mag"]),
        "cmd_binary_fraction": a_b / (a_b + b_b),
        "cmd_outlier_fraction": a_o / (a_o + b_o),
    }


def densest_rv(rv: np.ndarray, rv_error: np.ndarray, width_kms: float = _INIT_RV_WIDTH) -> float:
    """The radial velocity (km/s) of highest density of the stars' RVs, each smoothed by its
    error and ``width_kms`` in quadrature (0.1 km/s grid): a start for the cluster's RV that
    a few field stars or binaries with discrepant RVs do not drag, unlike the median."""
    sd = np.hypot(rv_error, width_kms)
    grid = np.arange(rv.min() - width_kms, rv.max() + width_kms + 0.1, 0.1)
    density = (stats.norm.pdf(grid[:, None], rv, sd)).sum(axis=1)
    return float(grid[np.argmax(density)])


def start_at(
    data: dict[str, np.ndarray], options: dict[str, Any], candidate: Any
) -> dict[str, Any]:
    """:func:`initial_values` with the cluster at the candidate's proper motion (mas/yr) and,
    if it has one, parallax (mas)."""
    return initial_values(
        data,
        options,
        cluster_pm=(candidate.pmra, candidate.pmdec),
        cluster_parallax=candidate.parallax,
    )


def field_mixture_start(data: dict[str, np.ndarray], k: int, n_iter: int = 60) -> dict[str, Any]:
    """Starting field mixture: a K-component Gaussian mixture fitted by
    expectation-maximisation to the (parallax, pmra, pmdec) of the stars in the outer half
    of the cone (all stars if fewer than 10 K are there), with no error deconvolution
    beyond subtracting the median measurement variance; components sorted by pmra width.

    Deterministic: the iterations start from K groups of stars by distance from the median
    proper motion (cold core first).
    """
    x = np.column_stack([data[name] for name in ASTROMETRY])
    outer = np.hypot(data["xi"], data["eta"]) > _FIELDINIT_RADIUS_FRACTION * float(
        data["cone_radius_arcmin"]
    )
    if outer.sum() >= STARS_PER_COMPONENT * k:
        x = x[outer]  # away from the centre, where few members are
    n = x.shape[0]
    distance = np.hypot(*(x[:, 1:] - np.median(x[:, 1:], axis=0)).T)
    labels = np.minimum(np.argsort(np.argsort(distance)) * k // n, k - 1)
    resp = np.eye(k)[labels]
    for _ in range(n_iter):
        nk = resp.sum(axis=0) + 1e-12
        weights = nk / n
        means = resp.T @ x / nk[:, None]
        covs = np.empty((k, 3, 3))
        log_p = np.empty((n, k))
        for j in range(k):
            dx = x - means[j]
            covs[j] = (resp[:, j, None] * dx).T @ dx / nk[j] + 1e-6 * np.eye(3)
            log_p[:, j] = np.log(weights[j]) + stats.multivariate_normal(
                means[j], covs[j], allow_singular=True
            ).logpdf(x)
        resp = np.exp(log_p - special.logsumexp(log_p, axis=1, keepdims=True))
    order = np.argsort(covs[:, 1, 1])
    weights, means, covs = weights[order], means[order], covs[order]
    error_var = np.median(np.column_stack([data[name] for name in ERRORS]) ** 2, axis=0)
    sd = np.sqrt(np.maximum(np.diagonal(covs, axis1=1, axis2=2) - error_var, 0.01 * error_var))
    corr = covs / np.sqrt(np.einsum("kii,kjj->kij", covs, covs))
    r01, r02, r12 = corr[:, 0, 1], corr[:, 0, 2], corr[:, 1, 2]
    partial = (r12 - r01 * r02) / np.sqrt((1.0 - r01**2) * (1.0 - r02**2))
    cpc = np.clip(0.5 * (np.column_stack([r01, r02, partial]) + 1.0), 0.05, 0.95)
    sd_pmra = np.maximum.accumulate(sd[:, 1]) * (1.0 + 1e-3 * np.arange(k))
    start: dict[str, Any] = {
        "parallax_field": means[:, 0],
        "pm_field": means[:, 1:],
        "sd_field_parallax": sd[:, 0],
        "sd_field_pmra_first": float(sd_pmra[0]),
        "sd_field_pmdec": sd[:, 2],
        "cpc_field_beta": cpc,
    }
    if k > 1:
        start["w_field"] = np.clip(weights, 0.02, None) / np.clip(weights, 0.02, None).sum()
        start["sd_field_pmra_gap"] = np.diff(sd_pmra)
    return start

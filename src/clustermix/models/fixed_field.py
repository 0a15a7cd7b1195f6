"""The log density of each star's observed astrometry under a field held fixed, computed
once before sampling (NumPy only).

A field learned on the control annulus (``field_model: control_field``) has no free
parameter, so each star's field term, log sum_k w_ik N(x_i | m_ik, Sigma_ik + C_i), is the
same at every point the sampler visits. The models store it as one data array per star,
``field_logpdf`` (n,), and their log density reads it instead of evaluating the K
Gaussians again at every gradient (on the default field K = 3-4: most of a gradient's
cost). It is a ``field_*`` array like the mixture's own, so a bootstrap field
(:mod:`clustermix.fit.field_uncertainty`) swaps it with them. The measurement covariance
C_i is the quoted one: the field was deconvolved with the quoted errors, so its widths
already hold any excess.
"""

from __future__ import annotations

import numpy as np

from clustermix.models.gaussian3d import trivariate_normal_logpdf_numpy

LOG_2PI = float(np.log(2.0 * np.pi))


def weighted_log_sum(weights: np.ndarray, log_components: np.ndarray) -> np.ndarray:
    """log sum_k w_ik exp(l_ik) over the last axis (n, K) -> (n,); weights of 0 allowed."""
    with np.errstate(divide="ignore"):
        terms = np.log(weights) + log_components
    peak = np.max(terms, axis=-1)
    return peak + np.log(np.sum(np.exp(terms - peak[..., None]), axis=-1))


def fixed_field_logpdf_1d(
    pmra: np.ndarray,
    pmra_error: np.ndarray,
    field_weights: np.ndarray,
    field_means: np.ndarray,
    field_sigmas: np.ndarray,
) -> np.ndarray:
    """Per star, ln sum_k w_ik N(x_i | m_ik, s_ik^2 + e_i^2) (ln per mas/yr): the observed
    pmra x_i (n,) with error e_i (n,), under each star's weights, means and intrinsic sds
    (n, K) (mas/yr)."""
    var = field_sigmas**2 + (pmra_error**2)[:, None]
    log_components = -0.5 * (LOG_2PI + np.log(var) + (pmra[:, None] - field_means) ** 2 / var)
    return weighted_log_sum(field_weights, log_components)


def fixed_field_logpdf_2d(
    value: np.ndarray,
    star_covariances: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    sigmas: np.ndarray,
    rho: np.ndarray,
) -> np.ndarray:
    """Per star, ln sum_k w_ik N2(x_i | m_ik, Sigma_ik + C_i) (ln per (mas/yr)^2).

    ``value`` (n, 2): observed (pmra, pmdec) in mas/yr; ``star_covariances`` (n, 3): each
    star's (var_a, var_d, cov_ad) in (mas/yr)^2; ``weights`` (n, K), ``means`` and
    ``sigmas`` (n, K, 2) (mas/yr), ``rho`` (n, K): each star's field mixture.
    """
    var_a = star_covariances[:, None, 0] + sigmas[..., 0] ** 2
    var_d = star_covariances[:, None, 1] + sigmas[..., 1] ** 2
    cov = star_covariances[:, None, 2] + rho * sigmas[..., 0] * sigmas[..., 1]
    dx = value[:, None, 0] - means[..., 0]
    dy = value[:, None, 1] - means[..., 1]
    det = var_a * var_d - cov**2
    maha = (var_d * dx**2 - 2.0 * cov * dx * dy + var_a * dy**2) / det
    return weighted_log_sum(weights, -0.5 * (2.0 * LOG_2PI + np.log(det) + maha))


def fixed_field_logpdf_3d(
    value: np.ndarray,
    star_covariances: np.ndarray,
    weights: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
) -> np.ndarray:
    """Per star, ln sum_k w_ik N3(x_i | m_ik, Sigma_ik + C_i).

    ``value`` (n, 3): observed (parallax, pmra, pmdec) in mas and mas/yr;
    ``star_covariances`` (n, 6) and ``covariances`` (n, K, 6): covariance entries in
    :data:`clustermix.models.gaussian3d.ENTRIES` order; ``weights`` (n, K), ``means``
    (n, K, 3): each star's field mixture.
    """
    d = value[:, None, :] - means
    total = star_covariances[:, None, :] + covariances
    log_components = trivariate_normal_logpdf_numpy(
        d[..., 0], d[..., 1], d[..., 2], *(total[..., j] for j in range(6))
    )
    return weighted_log_sum(weights, log_components)

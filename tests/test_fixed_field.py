"""A fixed field's density at each star, computed once before sampling (NumPy)."""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import logsumexp

from clustermix.models.fixed_field import (
    fixed_field_logpdf_1d,
    fixed_field_logpdf_2d,
    fixed_field_logpdf_3d,
    weighted_log_sum,
)
from clustermix.models.gaussian3d import ENTRIES


def _random_covariances(rng: np.random.Generator, shape: tuple[int, ...], d: int) -> np.ndarray:
    """Positive-definite (d, d) matrices of the given leading shape."""
    a = rng.normal(size=(*shape, d, d))
    return a @ np.swapaxes(a, -1, -2) + 0.5 * np.eye(d)


def _scipy_mixture(values, star_cov, weights, means, covariances) -> np.ndarray:
    """ln sum_k w_ik N(x_i | m_ik, Sigma_ik + C_i), star by star with SciPy."""
    out = []
    for i, x in enumerate(values):
        terms = [
            stats.multivariate_normal.logpdf(x, means[i, k], covariances[i, k] + star_cov[i])
            for k in range(weights.shape[1])
        ]
        out.append(logsumexp(terms, b=weights[i]))
    return np.array(out)


def test_3d_field_density_matches_scipy_star_by_star() -> None:
    rng = np.random.default_rng(1)
    n, k = 40, 3
    values = rng.normal(size=(n, 3))
    star_cov = _random_covariances(rng, (n,), 3)
    covariances = _random_covariances(rng, (n, k), 3)
    means = rng.normal(size=(n, k, 3))
    weights = rng.dirichlet(np.ones(k), size=n)
    weights[0, 1] = 0.0  # a bin without one component
    weights[0] /= weights[0].sum()
    got = fixed_field_logpdf_3d(
        values,
        np.stack([star_cov[:, i, j] for i, j in ENTRIES], axis=-1),
        weights,
        means,
        np.stack([covariances[..., i, j] for i, j in ENTRIES], axis=-1),
    )
    expected = _scipy_mixture(values, star_cov, weights, means, covariances)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_2d_field_density_matches_scipy_star_by_star() -> None:
    rng = np.random.default_rng(2)
    n, k = 40, 4
    values = rng.normal(size=(n, 2))
    star_cov = _random_covariances(rng, (n,), 2)
    sigmas = rng.uniform(0.5, 3.0, size=(n, k, 2))
    rho = rng.uniform(-0.8, 0.8, size=(n, k))
    covariances = np.empty((n, k, 2, 2))
    covariances[..., 0, 0] = sigmas[..., 0] ** 2
    covariances[..., 1, 1] = sigmas[..., 1] ** 2
    covariances[..., 0, 1] = covariances[..., 1, 0] = rho * sigmas[..., 0] * sigmas[..., 1]
    means = rng.normal(size=(n, k, 2))
    weights = rng.dirichlet(np.ones(k), size=n)
    got = fixed_field_logpdf_2d(
        values,
        np.column_stack([star_cov[:, 0, 0], star_cov[:, 1, 1], star_cov[:, 0, 1]]),
        weights,
        means,
        sigmas,
        rho,
    )
    expected = _scipy_mixture(values, star_cov, weights, means, covariances)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_1d_field_density_matches_scipy_star_by_star() -> None:
    rng = np.random.default_rng(3)
    n, k = 40, 3
    pmra, error = rng.normal(size=n), rng.uniform(0.1, 2.0, n)
    means, sigmas = rng.normal(size=(n, k)), rng.uniform(0.5, 5.0, (n, k))
    weights = rng.dirichlet(np.ones(k), size=n)
    expected = logsumexp(
        stats.norm.logpdf(pmra[:, None], means, np.hypot(sigmas, error[:, None])),
        b=weights,
        axis=1,
    )
    np.testing.assert_allclose(
        fixed_field_logpdf_1d(pmra, error, weights, means, sigmas), expected, rtol=1e-12
    )


def test_weighted_log_sum_is_stable_far_in_the_tails() -> None:
    """Component log densities of -2000 (a star 60 sd from every component) neither
    underflow to -inf nor lose the weights."""
    log_components = np.array([[-2000.0, -2001.0]])
    got = weighted_log_sum(np.array([[0.25, 0.75]]), log_components)
    np.testing.assert_allclose(got, logsumexp(log_components, b=[[0.25, 0.75]], axis=-1))
    assert np.isfinite(got).all()

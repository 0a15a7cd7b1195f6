"""The deconvolved Gaussian mixture that learns the field on the control field."""

from __future__ import annotations

import numpy as np
import pytest

from clustermix.models.field_choice import deconvolved_mixture, inverse_and_log_det


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_inverse_and_log_det_agree_with_numpy(d: int) -> None:
    """Cofactors for d <= 3, NumPy beyond, on symmetric positive-definite matrices whose
    scales span three orders of magnitude (condition numbers up to about 1e6, as a
    parallax error against a field's proper-motion dispersion): the same inverses and log
    determinants to 1e-9 relative (float64 loses about cond x 1e-16)."""
    rng = np.random.default_rng(d)
    factors = rng.normal(size=(500, 2, d, d)) * rng.uniform(0.01, 10.0, size=(500, 2, d, 1))
    matrices = factors @ np.swapaxes(factors, -1, -2) + 1e-3 * np.eye(d)
    inverse, log_det = inverse_and_log_det(matrices)
    expected = np.linalg.inv(matrices)
    scale = np.abs(expected).max(axis=(-1, -2), keepdims=True)
    np.testing.assert_allclose(inverse / scale, expected / scale, rtol=0, atol=1e-9)
    np.testing.assert_allclose(log_det, np.linalg.slogdet(matrices)[1], rtol=0, atol=1e-9)


def test_deconvolved_mixture_recovers_the_intrinsic_components() -> None:
    """Two 3-D components (a cold clump and a broad field, 1:3) observed with per-star
    errors as large as the clump's own width: the fit recovers the weights, means and the
    intrinsic (deconvolved, not the observed) widths. Tolerances: 5 standard errors of a
    mean (observed sd / sqrt(n_k)); a weight within 5 binomial sd; an intrinsic variance
    within 25% (its standard error is about sqrt(2 / n_k) of the observed variance, 4-8%
    here)."""
    rng = np.random.default_rng(42)
    n = 6000
    means = np.array([[0.4, -3.0, -4.0], [0.2, 0.0, 0.0]])
    sds = np.array([[0.05, 0.3, 0.3], [0.3, 3.0, 4.0]])
    component = (rng.random(n) < 0.25).astype(int) ^ 1  # 0: clump (25%), 1: field
    truth = means[component] + sds[component] * rng.normal(size=(n, 3))
    errors = rng.uniform(0.5, 1.5, size=(n, 1)) * np.array([0.05, 0.3, 0.3])
    observed = truth + errors * rng.normal(size=(n, 3))
    covariances = np.einsum("ni,ij->nij", errors**2, np.eye(3))
    fit = deconvolved_mixture(observed, covariances, 2)
    order = np.argsort(np.trace(fit["covariances"], axis1=1, axis2=2))  # clump first
    weights, fitted_means = fit["weights"][order], fit["means"][order]
    variances = np.diagonal(fit["covariances"][order], axis1=1, axis2=2)
    counts = np.bincount(component, minlength=2)
    assert abs(weights[0] - 0.25) < 5 * np.sqrt(0.25 * 0.75 / n)
    observed_sd = np.sqrt(sds**2 + (errors**2).mean(axis=0))
    np.testing.assert_array_less(
        np.abs(fitted_means - means), 5 * observed_sd / np.sqrt(counts)[:, None]
    )
    np.testing.assert_allclose(variances, sds**2, rtol=0.25)

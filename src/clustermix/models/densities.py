"""Mixture densities in NumPy, shared by the models' ``densities`` modules (for figures).

A model predicts each star's observed value convolved with that star's own uncertainty,
so a component's density of observed values is its intrinsic density averaged over the
stars' uncertainties: over :data:`N_ERROR_QUANTILES` quantiles of the error distribution
(1D) or over a seeded random subset of :data:`N_ERROR_STARS` stars' 2x2 covariances (2D).
Components are taken at the posterior median of each parameter (medians one parameter at
a time; every model orders its field components, so that a component keeps its label
across draws) and weighted as in the likelihood: the cluster by f, field component k by
(1 - f) w_k, so that each density integrates to its weight.

Nothing here imports PyMC or PyTensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

#: 1D densities are averaged over this many quantiles of the stars' errors.
N_ERROR_QUANTILES = 32
#: 2D densities are averaged over this many stars' measurement covariances.
N_ERROR_STARS = 200
#: Seed of that subset.
ERROR_SUBSET_SEED = 2024


# ------------------------------------------------------------------ posterior medians


def posterior_medians(posterior: xr.Dataset, names: Iterable[str]) -> dict[str, np.ndarray]:
    """Median over draws (chain, draw) of each of ``names`` that ``posterior`` holds,
    element by element; names it lacks are left out (a Deterministic that the trace does
    not store must be added first: :func:`clustermix.fit.fitted.with_deterministics`)."""
    return {
        name: np.asarray(posterior[name].median(dim=("chain", "draw")).values, float)
        for name in names
        if name in posterior
    }


def field_weights(w: np.ndarray | None, k: int) -> np.ndarray:
    """Field weights (k,) summing to 1: the posterior medians ``w`` of the weights, which
    for more than two components need not sum to 1, rescaled; a model with one field
    component has none (weight 1)."""
    if w is None or k == 1:
        return np.ones(1)
    w = np.atleast_1d(np.asarray(w, float))
    return w / w.sum()


# ------------------------------------------------------------------ the stars' errors


def pooled_bin_mixture(
    weights: np.ndarray, components: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """A field learned per G bin (each star carries its bin's mixture: ``weights`` (n, K) and
    per-component arrays (n, K) or (n, K, d) in ``components``) as one mixture of all the
    bins' components, for figures: each (bin, component) pair weighted by its weight times
    its bin's share of the stars. Returns ``w`` (M,) and each of ``components`` as (M,) or
    (M, d), M = bins x K, in the units given."""
    n, k = weights.shape
    blocks = [np.asarray(value, float).reshape(n, -1) for value in components.values()]
    unique, counts = np.unique(np.column_stack([weights, *blocks]), axis=0, return_counts=True)
    pooled = {"w": (unique[:, :k] * (counts / counts.sum())[:, None]).ravel()}
    start = k
    for name, block in zip(components, blocks, strict=True):
        width = block.shape[1]
        values = unique[:, start : start + width]
        pooled[name] = values.ravel() if width == k else values.reshape(-1, width // k)
        start += width
    return pooled


def error_quantiles(errors: np.ndarray, n: int = N_ERROR_QUANTILES) -> np.ndarray:
    """``n`` equally spaced quantiles (at (j + 1/2) / n) of the stars' ``errors``."""
    return np.quantile(np.asarray(errors, float), (np.arange(n) + 0.5) / n)


def quantile_stars(errors: np.ndarray, n: int = N_ERROR_QUANTILES) -> np.ndarray:
    """Indices of the ``n`` stars whose ``errors`` rank at (j + 1/2) / n (j = 0 .. n - 1):
    for densities that need each star's own parameters besides its error."""
    order = np.argsort(np.asarray(errors, float))
    return order[((np.arange(n) + 0.5) / n * len(order)).astype(int)]


def error_subset(n_stars: int, n: int = N_ERROR_STARS, seed: int = ERROR_SUBSET_SEED) -> np.ndarray:
    """Indices of a seeded random subset of at most ``n`` of ``n_stars`` stars."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_stars, size=min(n, n_stars), replace=False))


# -------------------------------------------------------------------------- 1D Gaussians


def normal_density(x: np.ndarray, mean: float, var: np.ndarray) -> np.ndarray:
    """N(x | mean, var), ``x`` (n_x,) against variances ``var`` (n_e,) -> (n_x, n_e)."""
    var = np.asarray(var, float)[None, :]
    x = np.asarray(x, float)
    return np.exp(-0.5 * (x[:, None] - mean) ** 2 / var) / np.sqrt(2.0 * np.pi * var)


def convolved_normal_density(
    x: np.ndarray, mean: float, sd: float, errors: np.ndarray
) -> np.ndarray:
    """N(x | mean, sd^2 + e^2) averaged over ``errors`` e; ``x``, ``mean``, ``sd`` and
    ``errors`` in the same units (mas or mas/yr); per unit of ``x``."""
    return normal_density(x, mean, sd**2 + np.asarray(errors, float) ** 2).mean(axis=1)


@dataclass(frozen=True)
class Components1D:
    """A 1D cluster + K-component Gaussian-field mixture at fixed parameters.

    Units are those of the data (mas/yr for pmra): cluster mean ``mu_cl`` and intrinsic
    width ``sigma_cl``; cluster fraction ``f``; field weights ``w`` (K, summing to 1),
    means ``mu`` (K) and widths ``sigma`` (K).
    """

    f: float
    mu_cl: float
    sigma_cl: float
    w: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray

    @property
    def cluster_width(self) -> float:
        """The cluster's intrinsic sd (data units)."""
        return float(self.sigma_cl)

    def densities(self, x: np.ndarray, errors: np.ndarray) -> dict[str, np.ndarray]:
        """:func:`gaussian_mixture_densities` on ``x`` averaged over
        :data:`N_ERROR_QUANTILES` quantiles of the stars' ``errors``."""
        return gaussian_mixture_densities(x, self, error_quantiles(errors))


def gaussian_mixture_densities(
    x: np.ndarray, components: Components1D, errors: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted densities on grid ``x`` averaged over ``errors`` (each a star's error):
    ``cluster`` (f N(mu_cl, s_cl^2 + e^2)), ``field_k`` ((1 - f) w_k N(mu_k, s_k^2 + e^2))
    for each k, and ``total``; each integrates to its weight."""
    c = components
    out = {"cluster": c.f * convolved_normal_density(x, c.mu_cl, c.sigma_cl, errors)}
    for k in range(len(c.mu)):
        density = convolved_normal_density(x, c.mu[k], c.sigma[k], errors)
        out[f"field_{k + 1}"] = (1.0 - c.f) * c.w[k] * density
    out["total"] = sum(out.values())
    return out


# -------------------------------------------------------------------------- 2D Gaussians


@dataclass(frozen=True)
class Components2D:
    """A 2D (pmra, pmdec) isotropic Gaussian cluster + K full-covariance Gaussian field.

    ``mu_cl`` (2,) and ``sigma_cl`` (isotropic dispersion), mas/yr; ``f``; field ``w`` (K),
    ``mu`` (K, 2), ``sigma`` (K, 2) standard deviations along pmra and pmdec, ``rho`` (K)
    correlations.
    """

    f: float
    mu_cl: np.ndarray
    sigma_cl: float
    w: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray
    rho: np.ndarray

    def densities(
        self, xx: np.ndarray, yy: np.ndarray, covariances: np.ndarray
    ) -> dict[str, np.ndarray]:
        """:func:`bivariate_densities` on the grid (``xx``, ``yy``) averaged over the
        :func:`error_subset` of the stars' ``covariances`` (n, 3)."""
        subset = error_subset(len(covariances))
        return bivariate_densities(xx, yy, self, np.asarray(covariances, float)[subset])


def bivariate_densities(
    xx: np.ndarray, yy: np.ndarray, components: Components2D, covariances: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted 2D densities on the grid (``xx``, ``yy``), averaged over the stars'
    measurement ``covariances`` (n, 3): entries (var_a, var_d, cov_ad) in (mas/yr)^2.
    Returns ``cluster``, ``field_k`` and ``total``, per (mas/yr)^2."""
    c = components
    var_a, var_d, cov_ad = (np.asarray(covariances, float)[:, j] for j in range(3))
    intrinsic = [(c.mu_cl, c.sigma_cl**2, c.sigma_cl**2, 0.0, c.f)]
    for k in range(len(c.mu)):
        sa, sd = c.sigma[k]
        weight = (1.0 - c.f) * c.w[k]
        intrinsic.append((c.mu[k], sa**2, sd**2, c.rho[k] * sa * sd, weight))
    out: dict[str, np.ndarray] = {}
    for index, (mean, a, d, ad, weight) in enumerate(intrinsic):
        total_a, total_d, total_ad = a + var_a, d + var_d, ad + cov_ad
        det = total_a * total_d - total_ad**2
        dx = xx[..., None] - mean[0]
        dy = yy[..., None] - mean[1]
        chi2 = (total_d * dx**2 - 2 * total_ad * dx * dy + total_a * dy**2) / det
        density = np.exp(-0.5 * chi2) / (2.0 * np.pi * np.sqrt(det))
        out["cluster" if index == 0 else f"field_{index}"] = weight * density.mean(axis=-1)
    out["total"] = sum(out.values())
    return out


# ---------------------------------------------------------------------------------- EDSD


def edsd_parallax_density(
    x: np.ndarray, length_scale_kpc: float, errors: np.ndarray, n_grid: int = 4000
) -> np.ndarray:
    """Density of observed parallaxes (per mas, ``x`` in mas) of field stars whose
    distances follow the EDSD p(r | L) = r^2 exp(-r / L) / (2 L^3), averaged over
    ``errors`` (mas).

    The true-parallax density, p(r(w) | L) / w^2 with r = 1 / w (kpc), is tabulated on a
    grid uniform in ln r (r from 1e-3 L to 40 L) and convolved with each error by
    trapezoidal integration.
    """
    x = np.asarray(x, float)
    log_r = np.linspace(np.log(1e-3 * length_scale_kpc), np.log(40 * length_scale_kpc), n_grid)
    r = np.exp(log_r)
    # p(r) dr = p(r) r d(ln r)
    weight = r**3 * np.exp(-r / length_scale_kpc) / (2.0 * length_scale_kpc**3)
    true_parallax = 1.0 / r
    step = np.gradient(log_r)
    density = np.zeros_like(x)
    for error in np.atleast_1d(np.asarray(errors, float)):
        kernel = np.exp(-0.5 * ((x[:, None] - true_parallax[None, :]) / error) ** 2)
        kernel /= np.sqrt(2.0 * np.pi) * error
        density += kernel @ (weight * step)
    return density / max(len(np.atleast_1d(errors)), 1)

"""The mixture machinery every model shares.

Each model writes, per star, the log-density of the data under the cluster component and
under the field (itself possibly a mixture), both already convolved with the star's
measurement uncertainties. This module turns those into the mixture log-likelihood and
into per-draw membership fractions, in log space. The functions take and return
PyTensor tensors inside a model and NumPy arrays in tests (``pytensor.tensor`` functions
accept both).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

LOG_2PI = float(np.log(2.0 * np.pi))


def normal_logpdf(x, mu, var):
    """Log-density of N(mu, var) at x, elementwise; ``var`` is a variance (not a sigma)."""
    return -0.5 * (LOG_2PI + pt.log(var) + (x - mu) ** 2 / var)


def bivariate_normal_logpdf(dx, dy, var_x, var_y, cov_xy):
    """Log-density of a zero-mean 2D Gaussian at (dx, dy) with the given covariance entries.

    Vectorised over stars and components by broadcasting; the 2x2 inverse is written out so
    that each star can carry its own covariance matrix.
    """
    det = var_x * var_y - cov_xy**2
    maha = (var_y * dx**2 - 2.0 * cov_xy * dx * dy + var_x * dy**2) / det
    return -0.5 * (2.0 * LOG_2PI + pt.log(det) + maha)


def mixture_logp(log_weights, component_logps, axis: int = -1):
    """log sum_k w_k p_k along ``axis``: the mixture log-likelihood of each star.

    ``log_weights`` broadcasts against ``component_logps`` (e.g. shape (K,) against
    (n_star, K)).
    """
    return pt.logsumexp(log_weights + component_logps, axis=axis)


def cluster_fraction_per_star(log_cluster_term, log_field_term):
    """p(cluster | data, theta) for one posterior draw: w_c L_c / (w_c L_c + w_f L_f).

    Both inputs already include their mixture weight, in log space. Averaging this over
    posterior draws gives the membership probability of the seed tutorial.
    """
    return pt.sigmoid(log_cluster_term - log_field_term)

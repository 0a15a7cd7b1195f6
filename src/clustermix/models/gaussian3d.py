"""Three-dimensional Gaussians with a different covariance for every star, written out.

The astrometric observables (parallax, pmra, pmdec) of a Gaia star have a full 3x3
covariance built from its three uncertainties and three correlation coefficients. A
model convolves every population's intrinsic covariance with it, so each star (and each
mixture component) needs its own determinant and inverse: here they are the explicit
cofactor formulas, elementwise and broadcasting over stars and components, with no
batched linear algebra. A symmetric 3x3 matrix is passed as its six distinct entries
(c00, c01, c02, c11, c12, c22). Inputs may be NumPy arrays or PyTensor tensors; the
log-density is a tensor (``.eval()`` it for NumPy inputs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph

LOG_2PI = float(np.log(2.0 * np.pi))

#: Order of the six distinct entries of a symmetric 3x3 matrix.
ENTRIES: tuple[tuple[int, int], ...] = ((0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2))


def astrometric_covariance(
    parallax_error: Any,
    pmra_error: Any,
    pmdec_error: Any,
    parallax_pmra_corr: Any,
    parallax_pmdec_corr: Any,
    pmra_pmdec_corr: Any,
) -> tuple[Any, ...]:
    """The six entries of each star's (parallax, pmra, pmdec) covariance.

    Units: mas^2, mas^2/yr and (mas/yr)^2 for errors in mas and mas/yr.
    """
    return (
        parallax_error**2,
        parallax_pmra_corr * parallax_error * pmra_error,
        parallax_pmdec_corr * parallax_error * pmdec_error,
        pmra_error**2,
        pmra_pmdec_corr * pmra_error * pmdec_error,
        pmdec_error**2,
    )


def covariance_determinant(c00, c01, c02, c11, c12, c22):
    """Determinant of the symmetric 3x3 matrix with these entries (elementwise)."""
    return (
        c00 * (c11 * c22 - c12**2) - c01 * (c01 * c22 - c12 * c02) + c02 * (c01 * c12 - c11 * c02)
    )


def trivariate_normal_logpdf(d0, d1, d2, c00, c01, c02, c11, c12, c22):
    """ln N3(d | 0, C) for residuals d = (d0, d1, d2) and covariance entries of C.

    The inverse is the adjugate over the determinant (cofactors written out), so every
    star and component may carry its own C. Broadcasts over all arguments. The gradient
    is supplied in closed form (d ln N / d d = -u, d ln N / d C_ij = u_i u_j - P_ij, halved
    on the diagonal, with P = C^-1 and u = P d), which halves the cost of a gradient
    evaluation with PyTensor's C backend compared with differentiating the cofactors.
    """
    args = [pt.as_tensor_variable(arg) for arg in (d0, d1, d2, c00, c01, c02, c11, c12, c22)]
    ndim = max(arg.ndim for arg in args)
    args = [pt.shape_padleft(arg, ndim - arg.ndim) for arg in args]
    inner = [arg.type() for arg in args]
    op = OpFromGraph(inner, [_logpdf_graph(*inner)], lop_overrides=_logpdf_gradient, inline=True)
    return op(*args)


def trivariate_normal_logpdf_numpy(d0, d1, d2, c00, c01, c02, c11, c12, c22) -> np.ndarray:
    """:func:`trivariate_normal_logpdf` for NumPy arrays, evaluated directly (no graph)."""
    _, det, _, (u0, u1, u2) = _adjugate_parts(d0, d1, d2, c00, c01, c02, c11, c12, c22)
    return -0.5 * (3.0 * LOG_2PI + np.log(det) + d0 * u0 + d1 * u1 + d2 * u2)


def _adjugate_parts(d0, d1, d2, c00, c01, c02, c11, c12, c22):
    """Adjugate entries, determinant, its reciprocal and u = C^-1 d."""
    a00 = c11 * c22 - c12**2
    a01 = c02 * c12 - c01 * c22
    a02 = c01 * c12 - c02 * c11
    a11 = c00 * c22 - c02**2
    a12 = c01 * c02 - c00 * c12
    a22 = c00 * c11 - c01**2
    det = c00 * a00 + c01 * a01 + c02 * a02
    inv = 1.0 / det
    u0 = (a00 * d0 + a01 * d1 + a02 * d2) * inv
    u1 = (a01 * d0 + a11 * d1 + a12 * d2) * inv
    u2 = (a02 * d0 + a12 * d1 + a22 * d2) * inv
    return (a00, a01, a02, a11, a12, a22), det, inv, (u0, u1, u2)


def _logpdf_graph(d0, d1, d2, *cov):
    """-1/2 (3 ln 2 pi + ln det C + d^T C^-1 d)."""
    _, det, _, (u0, u1, u2) = _adjugate_parts(d0, d1, d2, *cov)
    return -0.5 * (3.0 * LOG_2PI + pt.log(det) + d0 * u0 + d1 * u1 + d2 * u2)


def _logpdf_gradient(inputs, outputs, output_gradients):
    """Closed-form vector-Jacobian product of :func:`_logpdf_graph`, summed over the axes
    along which an input was broadcast."""
    g = output_gradients[0]
    (a00, a01, a02, a11, a12, a22), _, inv, (u0, u1, u2) = _adjugate_parts(*inputs)
    grads = (
        -g * u0,
        -g * u1,
        -g * u2,
        0.5 * g * (u0 * u0 - a00 * inv),
        g * (u0 * u1 - a01 * inv),
        g * (u0 * u2 - a02 * inv),
        0.5 * g * (u1 * u1 - a11 * inv),
        g * (u1 * u2 - a12 * inv),
        0.5 * g * (u2 * u2 - a22 * inv),
    )
    return [_sum_to_input(grad, value) for grad, value in zip(grads, inputs, strict=True)]


def _sum_to_input(grad, value):
    """``grad`` summed (keeping dims) over the axes where ``value`` has length 1."""
    axes = [axis for axis, flag in enumerate(value.type.broadcastable) if flag]
    return pt.sum(grad, axis=axes, keepdims=True) if axes else grad


def covariance_from_partial_correlations(sd, z01, z02, z12_0):
    """The six covariance entries of diag(sd) R diag(sd), R from canonical partial correlations.

    ``sd`` (..., 3): standard deviations; ``z01``, ``z02``: the correlations of axis 0 with
    axes 1 and 2; ``z12_0``: the partial correlation of axes 1 and 2 given axis 0. Any
    values in (-1, 1) give a positive-definite R (its Cholesky factor has rows
    (1, 0, 0), (z01, sqrt(1 - z01^2), 0), (z02, z12_0 sqrt(1 - z02^2), ...)), so
    R12 = z01 z02 + z12_0 sqrt((1 - z01^2)(1 - z02^2)). With (z01 + 1)/2 and (z02 + 1)/2
    ~ Beta(eta + 1/2, eta + 1/2) and (z12_0 + 1)/2 ~ Beta(eta, eta), independent, R has
    the LKJ(eta) distribution (Lewandowski, Kurowicka & Joe 2009).
    """
    s0, s1, s2 = sd[..., 0], sd[..., 1], sd[..., 2]
    r12 = z01 * z02 + z12_0 * ((1.0 - z01**2) * (1.0 - z02**2)) ** 0.5
    return (s0**2, s0 * s1 * z01, s0 * s2 * z02, s1**2, s1 * s2 * r12, s2**2)

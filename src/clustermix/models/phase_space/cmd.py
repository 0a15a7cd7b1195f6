"""The colour-magnitude membership term of the phase-space model (option ``cmd_term``).

The term is the likelihood of a star's colour c = BP - RP (mag) given its G (mag), for the
cluster and for the field; conditioning on G needs no luminosity function. For a star with
a colour,

    p(c | G, cluster) = (1 - f_o) [(1 - f_b) N(c | r(G), s^2) + f_b N(c | r(G + dG_b), s^2)]
                        + f_o p(c | G, field),
    s^2 = w^2 + sigma_c(G)^2,
    p(c | G, field) = sum_j K_G(G - G_j) N(c | c_j, h_c^2 + max(sigma_c(G)^2 - sigma_c(G_j)^2, 0))
                      / sum_j K_G(G - G_j),

with r(G) the cluster's ridge line, a natural cubic spline through the colours at nodes
in G (:func:`node_magnitudes`, :func:`ridge_basis`, :func:`ridge_colour`), constant beyond
the first and last node (so the binaries of the faintest stars take the ridge's colour at
the faint limit); w the sequence's intrinsic
width; f_b the fraction of equal-mass binaries, dG_b = 2.5 log10(2) mag brighter at the
same colour (:data:`BINARY_OFFSET_MAG`; or, with the model's ``cmd_binaries: band``,
binaries spread uniformly in colour between r(G) and r(G + dG_b), :func:`log_band_density`);
f_o the fraction of members off the ridge (the
subgiant branch and red clump that a smooth ridge in G cannot follow, blue stragglers),
whose colours are the field's, so that no member is ruled out by its colour alone; and
sigma_c(G) the colour's measurement uncertainty (:func:`clustermix.data.stars.colour_error`,
the Gaia DR3-like model the simulator draws its BP and RP noise from; the catalogue has no
flux errors). The field's conditional density is a Gaussian kernel density estimate in
(G, c) of the control annulus's stars (sum over j) divided by its marginal in G, so that it
integrates to one over c at every G; their colours already carry their own noise, and a
star fainter than a control star gets the difference of the two noise variances added
(:func:`field_colour_log_density`). Stars without a colour contribute neither term, nor
do stars brighter than the model's ``cmd_g_min_mag`` (by default the turnoff).

Everything here but :func:`cluster_colour_log_density` is NumPy; that one works with NumPy
or PyTensor arrays (``xp``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special
from scipy.interpolate import CubicSpline

#: How much brighter (mag) an unresolved binary of two equal stars is than either star.
BINARY_OFFSET_MAG = 2.5 * np.log10(2.0)
#: Stars per block of the kernel sums (memory: block x control stars doubles).
_BLOCK_STARS = 512


def node_magnitudes(g_mag: np.ndarray, spacing_mag: float) -> np.ndarray:
    """G (mag) of the ridge's K nodes, from the brightest to the faintest star,
    K = max(4, ceil(G range / ``spacing_mag``) + 1): each node halfway between K evenly
    spaced magnitudes and the K quantiles of ``g_mag`` at evenly spaced probabilities, so
    that the nodes gather where the stars are (a node among a handful of bright stars is
    barely constrained and strongly correlated with its neighbour, which slows the
    sampler) while the turnoff keeps its own."""
    g_mag = np.asarray(g_mag, float)
    low, high = float(np.min(g_mag)), float(np.max(g_mag))
    n_nodes = max(int(np.ceil((high - low) / float(spacing_mag))) + 1, 4)
    even = np.linspace(low, high, n_nodes)
    quantiles = np.quantile(g_mag, np.linspace(0.0, 1.0, n_nodes))
    return 0.5 * (even + quantiles)


def ridge_basis(g_mag: np.ndarray, node_mags: np.ndarray) -> np.ndarray:
    """(n, K) matrix B with ridge(G) = B @ node_colours: the natural cubic spline through
    (``node_mags``, node colours) is linear in the colours, and column k is the spline
    through the k-th unit vector. Outside the nodes the ridge is constant (G is clamped to
    the first and last node), as in :func:`ridge_colour`."""
    node_mags = np.asarray(node_mags, float)
    spline = CubicSpline(node_mags, np.eye(len(node_mags)), bc_type="natural")
    return np.asarray(spline(np.clip(np.asarray(g_mag, float), node_mags[0], node_mags[-1])))


def ridge_colour(g_mag: Any, node_colours: Any, node_mags: Any) -> np.ndarray:
    """The cluster's ridge line: BP - RP (mag) at ``g_mag`` (mag) of the natural cubic
    spline through the colours ``node_colours`` (mag; the free variable
    ``cmd_ridge_colour``) at the nodes ``node_mags`` (mag; its coordinate ``cmd_node``).
    ``node_colours`` may carry leading axes (draws): the result has shape
    (*leading, *g_mag.shape). The binary sequence is ``ridge_colour(g + BINARY_OFFSET_MAG,
    ...)`` at G = g."""
    node_colours, node_mags = np.asarray(node_colours, float), np.asarray(node_mags, float)
    spline = CubicSpline(node_mags, node_colours, axis=-1, bc_type="natural")
    return np.asarray(spline(np.clip(np.asarray(g_mag, float), node_mags[0], node_mags[-1])))


def scott_bandwidth(values: np.ndarray, n_dimensions: int = 2) -> float:
    """Scott's rule for a Gaussian kernel in ``n_dimensions``: a robust standard deviation
    (the interquartile range / 1.349, or the sd if smaller) times n^(-1 / (d + 4))."""
    values = np.asarray(values, float)
    iqr_sd = float(np.subtract(*np.percentile(values, [75, 25])) / 1.349)
    spread = min(float(np.std(values)), iqr_sd) if iqr_sd > 0 else float(np.std(values))
    return spread * values.size ** (-1.0 / (n_dimensions + 4))


def field_colour_log_density(
    g_mag: np.ndarray,
    colour: np.ndarray,
    colour_error: np.ndarray,
    control_g_mag: np.ndarray,
    control_colour: np.ndarray,
    control_colour_error: np.ndarray,
    *,
    g_bandwidth_mag: float | None = None,
    colour_bandwidth_mag: float | None = None,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """ln p(c | G, field) (ln of 1/mag) of each star (``g_mag``, ``colour``, mag; its colour
    uncertainty ``colour_error``, mag) from the control stars (``control_*``, finite values
    only), by the kernel estimate of the module docstring.

    ``g_bandwidth_mag``, ``colour_bandwidth_mag``: the kernels' widths in G and in colour
    (None: Scott's rule in two dimensions, :func:`scott_bandwidth`, on the control stars).
    ``exclude`` (n,): for each star, the index of its own row among the control stars
    (leave-one-out), or -1 for a star not among them.
    """
    g_mag, colour = np.asarray(g_mag, float), np.asarray(colour, float)
    variance = np.asarray(colour_error, float) ** 2
    control_g, control_c = np.asarray(control_g_mag, float), np.asarray(control_colour, float)
    control_variance = np.asarray(control_colour_error, float) ** 2
    h_g = scott_bandwidth(control_g) if g_bandwidth_mag is None else float(g_bandwidth_mag)
    h_c = (
        scott_bandwidth(control_c) if colour_bandwidth_mag is None else float(colour_bandwidth_mag)
    )
    out = np.empty(g_mag.size)
    for start in range(0, g_mag.size, _BLOCK_STARS):
        rows = slice(start, start + _BLOCK_STARS)
        weight_g = np.exp(-0.5 * ((g_mag[rows, None] - control_g) / h_g) ** 2)
        if exclude is not None:
            own = np.asarray(exclude[rows])
            has_own = own >= 0
            weight_g[np.flatnonzero(has_own), own[has_own]] = 0.0
        kernel_variance = h_c**2 + np.maximum(variance[rows, None] - control_variance, 0.0)
        kernel_c = np.exp(-0.5 * (colour[rows, None] - control_c) ** 2 / kernel_variance) / (
            np.sqrt(2.0 * np.pi * kernel_variance)
        )
        with np.errstate(divide="ignore"):
            out[rows] = np.log((weight_g * kernel_c).sum(axis=1)) - np.log(weight_g.sum(axis=1))
    return out


def log_band_density(colour, low, high, variance, xp: Any = np):
    """ln of a uniform distribution of colours between ``low`` and ``high`` (mag, either
    order) convolved with N(0, ``variance``): [Phi((c - lo) / s) - Phi((c - hi) / s)] / (hi - lo),
    from the tails' erfc on either side (no cancellation far from the band), and the
    normal density at the band's centre where it is narrower than 1e-6 mag."""
    erfc = special.erfc if xp is np else xp.erfc
    lo, hi = xp.minimum(low, high), xp.maximum(low, high)
    sd = xp.sqrt(variance)
    x_lo, x_hi = (colour - lo) / (sd * np.sqrt(2.0)), (colour - hi) / (sd * np.sqrt(2.0))
    above = 0.5 * (erfc(x_hi) - erfc(x_lo))  # accurate where c > hi
    below = 0.5 * (erfc(-x_lo) - erfc(-x_hi))  # accurate elsewhere
    mass = xp.maximum(xp.where(x_hi > 0, above, below), 1e-300)
    width = hi - lo
    narrow = -0.5 * (
        np.log(2.0 * np.pi) + xp.log(variance) + (colour - 0.5 * (lo + hi)) ** 2 / variance
    )
    return xp.where(width > 1e-6, xp.log(mass) - xp.log(xp.maximum(width, 1e-6)), narrow)


def cluster_colour_log_density(
    colour,
    ridge,
    ridge_binary,
    variance,
    binary_fraction,
    outlier_fraction,
    log_field_density,
    xp: Any = np,
    binary_band: bool = False,
):
    """ln p(c | G, cluster) of the module docstring, per star: ``colour`` (mag), ``ridge``
    and ``ridge_binary`` the ridge's colour at G and at G + :data:`BINARY_OFFSET_MAG` (mag),
    ``variance`` = w^2 + sigma_c^2 (mag^2), the binary and off-ridge fractions, and
    ``log_field_density`` ln p(c | G, field). ``binary_band``: the binaries' colours are
    spread uniformly between the two sequences (:func:`log_band_density`; mass ratios below
    one) instead of lying on the equal-mass one. ``xp``: ``numpy`` or ``pytensor.tensor``."""

    def log_normal(mean):
        return -0.5 * (np.log(2.0 * np.pi) + xp.log(variance) + (colour - mean) ** 2 / variance)

    single = xp.log1p(-binary_fraction) + log_normal(ridge)
    if binary_band:
        binary = xp.log(binary_fraction) + log_band_density(
            colour, ridge, ridge_binary, variance, xp=xp
        )
    else:
        binary = xp.log(binary_fraction) + log_normal(ridge_binary)
    on_ridge = xp.log1p(-outlier_fraction) + xp.logaddexp(single, binary)
    return xp.logaddexp(on_ridge, xp.log(outlier_fraction) + log_field_density)


def running_median_colours(
    g_mag: np.ndarray, colour: np.ndarray, node_mags: np.ndarray, min_stars: int = 3
) -> np.ndarray:
    """Colour (mag) at each node: the median colour of the stars within one node spacing of
    it (at least ``min_stars`` of them); nodes with fewer take the values of their
    neighbours (linear interpolation), or the stars' median colour without any."""
    g_mag, colour = np.asarray(g_mag, float), np.asarray(colour, float)
    spacing = float(np.diff(node_mags).min())
    values = np.full(len(node_mags), np.nan)
    for index, node in enumerate(node_mags):
        near = np.abs(g_mag - node) <= spacing
        if near.sum() >= min_stars:
            values[index] = np.median(colour[near])
    known = np.isfinite(values)
    if not known.any():
        return np.full(len(node_mags), float(np.median(colour)) if colour.size else 1.0)
    return np.interp(node_mags, node_mags[known], values[known])

"""The ``parallax_1d`` components' densities of observed parallax (per mas), for figures.

At the posterior medians: the cluster f N(plx_cl, s^2 + (k e)^2), averaged over the stars'
errors e (k the fitted factor on the members' errors, 1 without ``error_inflation``), and
the field (1 - f) F, either the EDSD's density of observed parallaxes at the median length
scale L (the median star's: a length scale that varies with G is drawn at
``ln_length_scale_field`` alone) or the binned field, averaged over stars at equally spaced
quantiles of the errors, each with its own G bin's bump weights (see
:mod:`clustermix.models.parallax_1d.model` for both). NumPy only: nothing here imports
PyMC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clustermix.models.densities import (
    convolved_normal_density,
    edsd_parallax_density,
    error_quantiles,
    posterior_medians,
    quantile_stars,
)
from clustermix.models.parallax_1d.bumps import bump_sd

if TYPE_CHECKING:
    import xarray as xr

#: The kind of panel the figure draws: a parallax histogram.
PANEL = "parallax"
#: Deterministics the components read (none: only free parameters).
DETERMINISTICS: tuple[str, ...] = ()
#: The posterior variables the components read (those the fitted field model has).
POSTERIOR_NAMES: tuple[str, ...] = (
    "f_cluster",
    "parallax_cl",
    "parallax_width_cl",
    "ln_length_scale_field",
    "error_excess_parallax",
    "parallax_zero_point_offset",
)


@dataclass(frozen=True)
class ParallaxComponents:
    """The parallax model: cluster parallax ``parallax_cl`` and intrinsic width
    ``width_cl`` (mas), fraction ``f``, the factor ``error_scale`` on the members' quoted
    errors; the field either an EDSD of length scale
    ``length_scale_kpc`` or binned: bump ``field_centres`` (mas), and the errors
    ``field_errors`` (mas) and bump weights ``field_weights`` (n, K) of stars at equally
    spaced quantiles of the errors (:func:`binned_field_components`)."""

    f: float
    parallax_cl: float
    width_cl: float
    length_scale_kpc: float | None = None
    field_centres: np.ndarray | None = None
    field_weights: np.ndarray | None = None
    field_errors: np.ndarray | None = None
    error_scale: float = 1.0

    @property
    def cluster_width(self) -> float:
        """The cluster's intrinsic sd (mas)."""
        return float(self.width_cl)

    def densities(self, x: np.ndarray, errors: np.ndarray) -> dict[str, np.ndarray]:
        """:func:`parallax_densities` on ``x`` (mas) averaged over quantiles of the stars'
        ``errors`` (mas)."""
        return parallax_densities(x, self, error_quantiles(errors))


def parallax_densities(
    x: np.ndarray, components: ParallaxComponents, errors: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted ``cluster``, ``field`` and ``total`` parallax densities (per mas) on ``x``
    (mas), averaged over ``errors`` (mas; a binned field over its own stars' errors)."""
    c = components
    cluster = c.f * convolved_normal_density(
        x, c.parallax_cl, c.width_cl, c.error_scale * np.asarray(errors, float)
    )
    if c.field_centres is None:
        field = (1.0 - c.f) * edsd_parallax_density(x, c.length_scale_kpc, errors)
    else:  # over stars at the quantiles of the errors, each with its own weights
        field = (1.0 - c.f) * binned_field_density(
            x, c.field_errors, c.field_weights, c.field_centres
        )
    return {"cluster": cluster, "field": field, "total": cluster + field}


def binned_field_density(
    x: np.ndarray, errors: np.ndarray, weights: np.ndarray, centres: np.ndarray
) -> np.ndarray:
    """The binned field's density of observed parallaxes (per mas) on ``x`` (mas):
    sum_k w_k N(x | c_k, b^2 + e^2) averaged over stars with uncertainties ``errors`` (n,)
    in mas and bump weights ``weights`` (n, K) at ``centres`` (K,) in mas."""
    sd = bump_sd(centres)
    var = sd**2 + np.asarray(errors, float)[None, :, None] ** 2
    terms = np.exp(-0.5 * (np.asarray(x, float)[:, None, None] - centres) ** 2 / var)
    return (np.asarray(weights)[None] * terms / np.sqrt(2.0 * np.pi * var)).sum(-1).mean(-1)


def binned_field_components(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The binned field at the posterior medians: the bump centres (mas) and each model
    star's bump weights (n, K), those of its G bin (w = softmax(0, a_2 .. a_K) per bin, from
    the medians of ``field_log_weights``)."""
    walk = np.atleast_2d(posterior_medians(posterior, ("field_log_weights",))["field_log_weights"])
    base = np.concatenate([np.zeros((len(walk), 1)), walk], axis=1)
    weights = np.exp(base - base.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    g_bin = data.get("g_bin", np.zeros(len(data["parallax"]), int))
    return data["field_bin_centres"], weights[g_bin]


def fitted_components(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray] | None = None
) -> ParallaxComponents:
    """The components at the posterior medians (free parameters only); a binned field
    needs the model's ``data`` (its bumps and the stars' G bins and errors)."""
    medians = posterior_medians(posterior, POSTERIOR_NAMES)
    cluster = {
        "f": float(medians["f_cluster"]),
        # where the members' observed parallaxes lie: with a fitted zero-point offset d,
        # plx_cl + d (the medians of each: d keeps its prior, centred on 0)
        "parallax_cl": float(medians["parallax_cl"])
        + float(medians.get("parallax_zero_point_offset", 0.0)),
        "width_cl": float(medians.get("parallax_width_cl", 0.0)),
        "error_scale": 1.0 + float(medians.get("error_excess_parallax", 0.0)),
    }
    if "ln_length_scale_field" in medians:
        return ParallaxComponents(
            **cluster, length_scale_kpc=float(np.exp(medians["ln_length_scale_field"]))
        )
    if data is None:
        raise ValueError("a binned parallax field needs the model's data")
    centres, weights = binned_field_components(posterior, data)
    errors = np.asarray(data["parallax_error"], float)
    chosen = quantile_stars(errors)
    return ParallaxComponents(
        **cluster,
        field_centres=centres,
        field_weights=weights[chosen],
        field_errors=errors[chosen],
    )


def panel_data(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays the panel draws: ``parallax`` and ``parallax_error`` (mas)."""
    return {"parallax": data["parallax"], "parallax_error": data["parallax_error"]}


def component_densities(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray], x: np.ndarray
) -> dict[str, np.ndarray]:
    """``cluster``, ``field`` and ``total`` densities (per mas) on the parallax grid ``x``
    (mas), averaged over the stars' ``parallax_error``; each integrates to its weight (up
    to the part of the field beyond the grid)."""
    return fitted_components(posterior, data).densities(x, data["parallax_error"])

"""The fitted cluster and field components over the data they were fitted to.

Three panels, one per 1D/2D model: the pmra histogram with the ``pmra_1d`` components,
the (pmra, pmdec) plane with the ``pm_2d`` components as density contours, and the
parallax histogram with the ``parallax_1d`` components. The components are drawn at the
posterior median of each parameter (medians taken one parameter at a time; the field
components are ordered in every model, so that a component keeps its label across draws)
and weighted as in the likelihood: the cluster by f, field component k by (1 - f) w_k.

A model predicts each star's observed value convolved with that star's own uncertainty,
so the curves are the model's densities averaged over the stars' uncertainties: over
:data:`N_ERROR_QUANTILES` quantiles of the error distribution (1D) or over a seeded
random subset of :data:`N_ERROR_STARS` stars' 2x2 covariances (2D). Histograms are
counts per bin; the curves are scaled to the same units (number of stars times bin
width times density).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib.lines import Line2D

from clustermix.io import PathLike
from clustermix.plotting.style import (
    CLUSTER_COLOUR,
    FIELD_COLOUR,
    PAGE_WIDTH_IN,
    PALETTE,
    use_style,
)

#: 1D models: the curves average the density over this many error quantiles.
N_ERROR_QUANTILES = 32
#: 2D model: the contours average the density over this many stars' covariances.
N_ERROR_STARS = 200
#: Seed of that subset.
ERROR_SUBSET_SEED = 2024
#: Colour of the total model curve.
TOTAL_COLOUR = PALETTE["black"]
#: Line styles of the field components (the cluster is solid), for greyscale printing.
FIELD_LINESTYLES: tuple[Any, ...] = ((0, (4, 1.5)), (0, (1, 1)), (0, (4, 1, 1, 1)), (0, (6, 2)))
HISTOGRAM_COLOUR = "0.80"
#: The densest part of the data shown: the central fraction of the stars (1D) ...
CENTRAL_FRACTION = 0.98
#: Enclosed fractions of each component's probability drawn as contours (2D).
CONTOUR_LEVELS: tuple[float, ...] = (0.393, 0.865)
#: Scatter layers with more points than this are rasterized inside the vector PDF.
RASTERIZE_ABOVE = 2000


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


@dataclass(frozen=True)
class ParallaxComponents:
    """The parallax model: cluster parallax ``parallax_cl`` and intrinsic width
    ``width_cl`` (mas), fraction ``f``; the field either an EDSD of length scale
    ``length_scale_kpc`` or binned: bump ``field_centres`` (mas), and the errors
    ``field_errors`` (mas) and bump weights ``field_weights`` (n, K) of stars at equally
    spaced quantiles of the errors
    (:func:`clustermix.models.parallax_1d.model.binned_field_components`)."""

    f: float
    parallax_cl: float
    width_cl: float
    length_scale_kpc: float | None = None
    field_centres: np.ndarray | None = None
    field_weights: np.ndarray | None = None
    field_errors: np.ndarray | None = None


# ------------------------------------------------------------------ posterior medians


def posterior_medians(
    posterior: xr.Dataset, names: Sequence[str], model: Any = None
) -> dict[str, np.ndarray]:
    """Median over draws (chain, draw) of each of ``names``, element by element.

    A name missing from ``posterior`` (a Deterministic, which traces do not store) is
    recomputed from the free parameters with ``pymc.compute_deterministics`` on
    ``model`` (the model the trace was sampled from); names that neither has are left
    out.
    """
    values = {name: posterior[name] for name in names if name in posterior}
    missing = [name for name in names if name not in values]
    if missing and model is not None:
        import pymc as pm

        known = [name for name in missing if name in model.named_vars]
        if known:
            free = [rv.name for rv in model.free_RVs]
            computed = pm.compute_deterministics(
                posterior[free], var_names=known, model=model, progressbar=False
            )
            values.update({name: computed[name] for name in known})
    return {
        name: np.asarray(value.median(dim=("chain", "draw")).values, float)
        for name, value in values.items()
    }


def pmra_components(posterior: xr.Dataset, model: Any) -> Components1D:
    """The ``pmra_1d`` components at the posterior medians (``model``: its pm.Model)."""
    names = ("f_cluster", "pmra_cl", "sigma_pmra_cl", "w_field", "pmra_field")
    medians = posterior_medians(posterior, (*names, "sigma_pmra_field"), model)
    mu = np.atleast_1d(medians["pmra_field"])
    return Components1D(
        f=float(medians["f_cluster"]),
        mu_cl=float(medians["pmra_cl"]),
        sigma_cl=float(medians["sigma_pmra_cl"]),
        w=_weights(medians.get("w_field"), mu.size),
        mu=mu,
        sigma=np.atleast_1d(medians["sigma_pmra_field"]),
    )


def pm_components(
    posterior: xr.Dataset, model: Any, data: Mapping[str, np.ndarray] | None = None
) -> Components2D:
    """The ``pm_2d`` components at the posterior medians (``model``: its pm.Model; ``data``
    its arrays, which hold the field when it was learned on the control field)."""
    if data is not None and "field_weights" in data:
        from clustermix.models.pm_2d.model import average_field

        medians = posterior_medians(posterior, ("f_cluster", "pmra_cl", "pmdec_cl", "sigma_cl"))
        field = average_field(dict(data))
        return Components2D(
            f=float(medians["f_cluster"]),
            mu_cl=np.array([medians["pmra_cl"], medians["pmdec_cl"]], float),
            sigma_cl=float(medians["sigma_cl"]),
            **field,
        )
    names = ("f_cluster", "pmra_cl", "pmdec_cl", "sigma_cl", "w_field", "pmra_field")
    medians = posterior_medians(
        posterior, (*names, "pmdec_field", "sigma_field", "rho_field"), model
    )
    mu = np.column_stack(
        [np.atleast_1d(medians["pmra_field"]), np.atleast_1d(medians["pmdec_field"])]
    )
    return Components2D(
        f=float(medians["f_cluster"]),
        mu_cl=np.array([medians["pmra_cl"], medians["pmdec_cl"]], float),
        sigma_cl=float(medians["sigma_cl"]),
        w=_weights(medians.get("w_field"), len(mu)),
        mu=mu,
        sigma=np.atleast_2d(medians["sigma_field"]),
        rho=np.atleast_1d(medians["rho_field"]),
    )


def parallax_components(
    posterior: xr.Dataset, data: dict[str, np.ndarray] | None = None
) -> ParallaxComponents:
    """The ``parallax_1d`` components at the posterior medians (free parameters only); a
    binned field needs the model's ``data`` (its bins and the stars' magnitudes)."""
    from clustermix.models.parallax_1d.model import binned_field_components

    medians = posterior_medians(
        posterior, ("f_cluster", "parallax_cl", "parallax_width_cl", "ln_length_scale_field")
    )
    cluster = {
        "f": float(medians["f_cluster"]),
        "parallax_cl": float(medians["parallax_cl"]),
        "width_cl": float(medians.get("parallax_width_cl", 0.0)),
    }
    if "ln_length_scale_field" in medians:
        return ParallaxComponents(
            **cluster, length_scale_kpc=float(np.exp(medians["ln_length_scale_field"]))
        )
    if data is None:
        raise ValueError("a binned parallax field needs the model's data")
    centres, weights = binned_field_components(posterior, data)
    errors = np.asarray(data["parallax_error"], float)
    order = np.argsort(errors)
    chosen = order[
        ((np.arange(N_ERROR_QUANTILES) + 0.5) / N_ERROR_QUANTILES * len(order)).astype(int)
    ]
    return ParallaxComponents(
        **cluster,
        field_centres=centres,
        field_weights=weights[chosen],
        field_errors=errors[chosen],
    )


def _weights(w: np.ndarray | None, k: int) -> np.ndarray:
    """Field weights; a model with one field component has none (weight 1)."""
    return np.ones(1) if w is None or k == 1 else np.atleast_1d(w)


# ------------------------------------------------------------------------- densities


def error_quantiles(errors: np.ndarray, n: int = N_ERROR_QUANTILES) -> np.ndarray:
    """``n`` equally spaced quantiles (at (j + 1/2) / n) of the stars' ``errors``."""
    return np.quantile(np.asarray(errors, float), (np.arange(n) + 0.5) / n)


def _normal(x: np.ndarray, mean: float, var: np.ndarray) -> np.ndarray:
    """N(x | mean, var), ``x`` (n_x,) against ``var`` (n_e,) -> (n_x, n_e)."""
    var = np.asarray(var, float)[None, :]
    return np.exp(-0.5 * (x[:, None] - mean) ** 2 / var) / np.sqrt(2.0 * np.pi * var)


def gaussian_mixture_densities(
    x: np.ndarray, components: Components1D, errors: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted densities on grid ``x`` averaged over ``errors`` (each a star's error):
    ``cluster`` (f N(mu_cl, s_cl^2 + e^2)), ``field_k`` ((1 - f) w_k N(mu_k, s_k^2 + e^2))
    for each k, and ``total``; each integrates to its weight."""
    e2 = np.asarray(errors, float) ** 2
    c = components
    out = {"cluster": c.f * _normal(x, c.mu_cl, c.sigma_cl**2 + e2).mean(axis=1)}
    for k in range(len(c.mu)):
        density = _normal(x, c.mu[k], c.sigma[k] ** 2 + e2).mean(axis=1)
        out[f"field_{k + 1}"] = (1.0 - c.f) * c.w[k] * density
    out["total"] = sum(out.values())
    return out


def edsd_parallax_density(
    x: np.ndarray, length_scale_kpc: float, errors: np.ndarray, n_grid: int = 4000
) -> np.ndarray:
    """Density of observed parallaxes (mas) of field stars whose distances follow the
    EDSD p(r | L) = r^2 exp(-r / L) / (2 L^3), averaged over ``errors`` (mas).

    The true-parallax density, p(r(w) | L) / w^2 with r = 1 / w (kpc), is tabulated on a
    grid uniform in ln r (r from 1e-3 L to 40 L) and convolved with each error by
    trapezoidal integration.
    """
    log_r = np.linspace(np.log(1e-3 * length_scale_kpc), np.log(40 * length_scale_kpc), n_grid)
    r = np.exp(log_r)
    # p(r) dr = p(r) r d(ln r)
    weight = r**3 * np.exp(-r / length_scale_kpc) / (2.0 * length_scale_kpc**3)
    true_parallax = 1.0 / r
    step = np.gradient(log_r)
    density = np.zeros_like(np.asarray(x, float))
    for error in np.asarray(errors, float):
        kernel = np.exp(-0.5 * ((x[:, None] - true_parallax[None, :]) / error) ** 2)
        kernel /= np.sqrt(2.0 * np.pi) * error
        density += kernel @ (weight * step)
    return density / max(len(np.atleast_1d(errors)), 1)


def parallax_densities(
    x: np.ndarray, components: ParallaxComponents, errors: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted ``cluster``, ``field`` and ``total`` parallax densities (per mas) on ``x``,
    averaged over ``errors`` (mas; a binned field over its own stars' errors)."""
    c = components
    e2 = np.asarray(errors, float) ** 2
    cluster = c.f * _normal(x, c.parallax_cl, c.width_cl**2 + e2).mean(axis=1)
    if c.field_centres is None:
        field = (1.0 - c.f) * edsd_parallax_density(x, c.length_scale_kpc, errors)
    else:  # over stars at the quantiles of the errors, each with its own weights
        from clustermix.models.parallax_1d.model import binned_field_density

        field = (1.0 - c.f) * binned_field_density(
            x, c.field_errors, c.field_weights, c.field_centres
        )
    return {"cluster": cluster, "field": field, "total": cluster + field}


def bivariate_densities(
    xx: np.ndarray, yy: np.ndarray, components: Components2D, covariances: np.ndarray
) -> dict[str, np.ndarray]:
    """Weighted 2D densities on the grid (``xx``, ``yy``), averaged over the stars'
    measurement ``covariances`` (n, 3): entries (var_a, var_d, cov_ad) in (mas/yr)^2.
    Returns ``cluster``, ``field_k`` and ``total``."""
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


def error_subset(n_stars: int, n: int = N_ERROR_STARS, seed: int = ERROR_SUBSET_SEED) -> np.ndarray:
    """Indices of a seeded random subset of at most ``n`` of ``n_stars`` stars."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_stars, size=min(n, n_stars), replace=False))


# --------------------------------------------------------------------------- panels


def _central_range(values: np.ndarray, fraction: float = CENTRAL_FRACTION) -> tuple[float, float]:
    """The range holding the central ``fraction`` of ``values``, padded by 5 per cent."""
    lo, hi = np.quantile(values, [(1 - fraction) / 2, (1 + fraction) / 2])
    pad = 0.05 * (hi - lo)
    return float(lo - pad), float(hi + pad)


def _histogram_panel(
    ax: plt.Axes,
    values: np.ndarray,
    densities_on: Any,
    value_range: tuple[float, float],
    n_bins: int,
) -> None:
    """Histogram of ``values`` and the curves ``densities_on(grid)`` scaled to counts."""
    edges = np.linspace(*value_range, n_bins + 1)
    ax.hist(values, bins=edges, color=HISTOGRAM_COLOUR, edgecolor="none", zorder=1)
    grid = np.linspace(*value_range, 600)
    scale = len(values) * (edges[1] - edges[0])
    curves = densities_on(grid)
    field_names = [name for name in curves if name.startswith("field")]
    for index, name in enumerate(field_names):
        style = FIELD_LINESTYLES[index % len(FIELD_LINESTYLES)]
        ax.plot(grid, scale * curves[name], color=FIELD_COLOUR, linestyle=style, zorder=3)
    ax.plot(grid, scale * curves["cluster"], color=CLUSTER_COLOUR, zorder=4)
    ax.plot(grid, scale * curves["total"], color=TOTAL_COLOUR, linewidth=0.8, zorder=5)
    ax.set_xlim(*value_range)
    ax.set_ylim(0, None)
    ax.set_ylabel("stars per bin")


def pmra_panel(
    ax: plt.Axes, pmra: np.ndarray, pmra_error: np.ndarray, components: Components1D
) -> None:
    """pmra (mas/yr) histogram with the ``pmra_1d`` components."""
    pmra = np.asarray(pmra, float)
    value_range = _central_range(pmra)
    errors = error_quantiles(pmra_error)
    _histogram_panel(
        ax,
        pmra,
        lambda grid: gaussian_mixture_densities(grid, components, errors),
        value_range,
        _n_bins(pmra, value_range, components.sigma_cl, np.median(pmra_error)),
    )
    ax.set_xlabel(r"$\mu_{\alpha*}$ (mas yr$^{-1}$)")


def parallax_panel(
    ax: plt.Axes,
    parallax: np.ndarray,
    parallax_error: np.ndarray,
    components: ParallaxComponents,
) -> None:
    """Parallax (mas) histogram with the ``parallax_1d`` components."""
    parallax = np.asarray(parallax, float)
    value_range = _central_range(parallax)
    errors = error_quantiles(parallax_error)
    _histogram_panel(
        ax,
        parallax,
        lambda grid: parallax_densities(grid, components, errors),
        value_range,
        _n_bins(parallax, value_range, components.width_cl, np.median(parallax_error)),
    )
    ax.set_xlabel(r"$\varpi$ (mas)")


def _n_bins(values: np.ndarray, value_range: tuple[float, float], width: float, error: float):
    """Bins narrow enough to resolve the cluster's observed width (a third of it) and few
    enough to keep ~10 stars per bin; between 20 and 120."""
    observed = np.hypot(width, error)
    by_width = (value_range[1] - value_range[0]) / max(observed / 3.0, 1e-9)
    by_count = len(values) / 10.0
    return int(np.clip(min(by_width, by_count), 20, 120))


def pm_panel(
    ax: plt.Axes,
    pmra: np.ndarray,
    pmdec: np.ndarray,
    covariances: np.ndarray,
    components: Components2D,
) -> None:
    """The stars in the (pmra, pmdec) plane (mas/yr) with contours enclosing
    :data:`CONTOUR_LEVELS` of each weighted, error-convolved component."""
    pmra, pmdec = np.asarray(pmra, float), np.asarray(pmdec, float)
    x_range, y_range = _central_range(pmra, 0.95), _central_range(pmdec, 0.95)
    ax.scatter(
        pmra,
        pmdec,
        s=0.6,
        color="0.55",
        linewidths=0,
        rasterized=len(pmra) > RASTERIZE_ABOVE,
        zorder=1,
    )
    xx, yy = np.meshgrid(np.linspace(*x_range, 220), np.linspace(*y_range, 220))
    subset = error_subset(len(pmra))
    curves = bivariate_densities(xx, yy, components, np.asarray(covariances)[subset])
    field_names = [name for name in curves if name.startswith("field")]
    for index, name in enumerate(field_names):
        style = FIELD_LINESTYLES[index % len(FIELD_LINESTYLES)]
        _enclosing_contours(ax, xx, yy, curves[name], FIELD_COLOUR, style)
    _enclosing_contours(ax, xx, yy, curves["cluster"], CLUSTER_COLOUR, "-")
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.set_xlabel(r"$\mu_{\alpha*}$ (mas yr$^{-1}$)")
    ax.set_ylabel(r"$\mu_\delta$ (mas yr$^{-1}$)")


def _enclosing_contours(
    ax: plt.Axes, xx: np.ndarray, yy: np.ndarray, density: np.ndarray, colour: str, style: Any
) -> None:
    """Contours of ``density`` enclosing :data:`CONTOUR_LEVELS` of its mass on the grid."""
    flat = np.sort(density.ravel())[::-1]
    cumulative = np.cumsum(flat)
    if cumulative[-1] <= 0:
        return
    cumulative /= cumulative[-1]
    levels = sorted({float(flat[np.searchsorted(cumulative, p)]) for p in CONTOUR_LEVELS})
    if len(levels) < 1 or levels[-1] <= 0:
        return
    ax.contour(xx, yy, density, levels=levels, colors=[colour], linestyles=[style], linewidths=0.9)


def components_panels(
    traces: Mapping[str, PathLike],
    catalog_path: PathLike,
    masks_path: PathLike,
) -> dict[str, dict[str, Any]]:
    """The keyword arguments of :func:`components_figure` from the fits' files.

    ``traces``: {model: trace path} for any of ``pmra_1d``, ``pm_2d`` and ``parallax_1d``;
    each model's stars are re-selected from the catalogue and masks it was fitted to.
    """
    from clustermix.fit_results import FittedModel

    panels: dict[str, dict[str, Any]] = {}
    for name, path in traces.items():
        fitted = FittedModel.open(path, catalog_path, masks_path)
        data, posterior = fitted.data, fitted.idata.posterior
        if name == "pmra_1d":
            panels["pmra"] = {
                "pmra": data["pmra"],
                "pmra_error": data["pmra_error"],
                "components": pmra_components(posterior, fitted.build_model()),
            }
        elif name == "pm_2d":
            covariances = np.column_stack(
                fitted.module.star_covariances(
                    data["pmra_error"], data["pmdec_error"], data["pmra_pmdec_corr"]
                )
            )
            panels["pm"] = {
                "pmra": data["pmra"],
                "pmdec": data["pmdec"],
                "covariances": covariances,
                "components": pm_components(posterior, fitted.build_model(), data),
            }
        elif name == "parallax_1d":
            panels["parallax"] = {
                "parallax": data["parallax"],
                "parallax_error": data["parallax_error"],
                "components": parallax_components(posterior, data),
            }
        else:
            raise ValueError(f"no components panel for model {name!r}")
    return panels


def components_figure(
    pmra: Mapping[str, Any] | None = None,
    pm: Mapping[str, Any] | None = None,
    parallax: Mapping[str, Any] | None = None,
) -> plt.Figure:
    """Page-wide figure with a panel for each model given.

    ``pmra``: {"pmra", "pmra_error", "components": Components1D}; ``pm``: {"pmra",
    "pmdec", "covariances" (n, 3), "components": Components2D}; ``parallax``:
    {"parallax", "parallax_error", "components": ParallaxComponents}. At least one.
    """
    panels = [(name, spec) for name, spec in (("pmra", pmra), ("pm", pm), ("parallax", parallax))]
    panels = [(name, spec) for name, spec in panels if spec is not None]
    if not panels:
        raise ValueError("components_figure needs at least one model's data")
    use_style()
    fig, axes = plt.subplots(
        1, len(panels), figsize=(PAGE_WIDTH_IN, 0.36 * PAGE_WIDTH_IN), squeeze=False
    )
    n_field = 1
    for ax, (name, spec) in zip(axes[0], panels, strict=True):
        if name == "pmra":
            pmra_panel(ax, spec["pmra"], spec["pmra_error"], spec["components"])
        elif name == "pm":
            pm_panel(ax, spec["pmra"], spec["pmdec"], spec["covariances"], spec["components"])
        else:
            parallax_panel(ax, spec["parallax"], spec["parallax_error"], spec["components"])
        if name != "parallax":
            n_field = max(n_field, len(spec["components"].mu))
    for ax, letter in zip(axes[0], "abc", strict=False):
        ax.text(0.03, 0.96, f"({letter})", transform=ax.transAxes, ha="left", va="top")
    handles = [
        Line2D([], [], color=HISTOGRAM_COLOUR, linewidth=5, label="data"),
        Line2D([], [], color=CLUSTER_COLOUR, label="cluster"),
    ]
    handles += [
        Line2D(
            [],
            [],
            color=FIELD_COLOUR,
            linestyle=FIELD_LINESTYLES[k % len(FIELD_LINESTYLES)],
            label=f"field {k + 1}" if n_field > 1 else "field",
        )
        for k in range(n_field)
    ]
    handles.append(Line2D([], [], color=TOTAL_COLOUR, linewidth=0.8, label="total"))
    fig.legend(
        handles=handles,
        loc="upper center",
        ncol=len(handles),
        frameon=False,
        bbox_to_anchor=(0.5, 1.0),
    )
    fig.tight_layout(rect=(0, 0, 1, 0.92), w_pad=1.2)
    return fig

"""The fitted cluster and field components over the data they were fitted to.

One panel per model that has a ``densities`` module
(``clustermix.models.<name>.densities``, NumPy only), of the kind its ``PANEL`` names:
``"pmra"`` and ``"parallax"`` a histogram with the components' curves, ``"pm"`` the
(pmra, pmdec) plane with the components as density contours. The components and their
densities -- at the posterior medians, averaged over the stars' uncertainties, weighted as
in the likelihood -- come from the model's module (:mod:`clustermix.models.densities`);
this module only draws them. Histograms are counts per bin; the curves are scaled to the
same units (number of stars times bin width times density).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from clustermix.io import PathLike
from clustermix.plotting.style import (
    CLUSTER_COLOUR,
    FIELD_COLOUR,
    PAGE_WIDTH_IN,
    PALETTE,
    use_style,
)

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


# --------------------------------------------------------------------------- panels


def _central_range(values: np.ndarray, fraction: float = CENTRAL_FRACTION) -> tuple[float, float]:
    """The range holding the central ``fraction`` of ``values``, padded by 5 per cent."""
    lo, hi = np.quantile(values, [(1 - fraction) / 2, (1 + fraction) / 2])
    pad = 0.05 * (hi - lo)
    return float(lo - pad), float(hi + pad)


def _histogram_panel(
    ax: plt.Axes,
    values: np.ndarray,
    errors: np.ndarray,
    components: Any,
) -> int:
    """Histogram of ``values`` and the curves ``components.densities(grid, errors)``
    (``cluster``, ``field...`` and ``total``) scaled to counts; returns the number of field
    curves drawn."""
    values = np.asarray(values, float)
    value_range = _central_range(values)
    n_bins = _n_bins(values, value_range, components.cluster_width, float(np.median(errors)))
    edges = np.linspace(*value_range, n_bins + 1)
    ax.hist(values, bins=edges, color=HISTOGRAM_COLOUR, edgecolor="none", zorder=1)
    grid = np.linspace(*value_range, 600)
    scale = len(values) * (edges[1] - edges[0])
    curves = components.densities(grid, errors)
    field_names = [name for name in curves if name.startswith("field")]
    for index, name in enumerate(field_names):
        style = FIELD_LINESTYLES[index % len(FIELD_LINESTYLES)]
        ax.plot(grid, scale * curves[name], color=FIELD_COLOUR, linestyle=style, zorder=3)
    ax.plot(grid, scale * curves["cluster"], color=CLUSTER_COLOUR, zorder=4)
    ax.plot(grid, scale * curves["total"], color=TOTAL_COLOUR, linewidth=0.8, zorder=5)
    ax.set_xlim(*value_range)
    ax.set_ylim(0, None)
    ax.set_ylabel("stars per bin")
    return len(field_names)


def pmra_panel(ax: plt.Axes, pmra: np.ndarray, pmra_error: np.ndarray, components: Any) -> int:
    """pmra (mas/yr) histogram with the components (``densities(grid, errors)``, per mas/yr,
    e.g. :class:`~clustermix.models.densities.Components1D`); returns the number of field
    curves."""
    n_field = _histogram_panel(ax, pmra, pmra_error, components)
    ax.set_xlabel(r"$\mu_{\alpha*}$ (mas yr$^{-1}$)")
    return n_field


def parallax_panel(
    ax: plt.Axes, parallax: np.ndarray, parallax_error: np.ndarray, components: Any
) -> int:
    """Parallax (mas) histogram with the components (``densities(grid, errors)``, per mas,
    e.g. :class:`~clustermix.models.parallax_1d.densities.ParallaxComponents`); returns the
    number of field curves."""
    n_field = _histogram_panel(ax, parallax, parallax_error, components)
    ax.set_xlabel(r"$\varpi$ (mas)")
    return n_field


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
    components: Any,
) -> int:
    """The stars in the (pmra, pmdec) plane (mas/yr) with contours enclosing
    :data:`CONTOUR_LEVELS` of each component (``densities(xx, yy, covariances)``, e.g.
    :class:`~clustermix.models.densities.Components2D`); returns the number of field
    components drawn."""
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
    curves = components.densities(xx, yy, covariances)
    field_names = [name for name in curves if name.startswith("field")]
    for index, name in enumerate(field_names):
        style = FIELD_LINESTYLES[index % len(FIELD_LINESTYLES)]
        _enclosing_contours(ax, xx, yy, curves[name], FIELD_COLOUR, style)
    _enclosing_contours(ax, xx, yy, curves["cluster"], CLUSTER_COLOUR, "-")
    ax.set_xlim(*x_range)
    ax.set_ylim(*y_range)
    ax.set_xlabel(r"$\mu_{\alpha*}$ (mas yr$^{-1}$)")
    ax.set_ylabel(r"$\mu_\delta$ (mas yr$^{-1}$)")
    return len(field_names)


#: The panel kinds (a model's densities module names its ``PANEL``), in the figure's order,
#: and how each is drawn: its function and the keys of its arrays, in order.
PANEL_DRAWERS: dict[str, tuple[Callable[..., int], tuple[str, ...]]] = {
    "pmra": (pmra_panel, ("pmra", "pmra_error")),
    "pm": (pm_panel, ("pmra", "pmdec", "covariances")),
    "parallax": (parallax_panel, ("parallax", "parallax_error")),
}


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

    ``traces``: {model: trace path} for models with a ``densities`` module; each model's
    stars are re-selected from the catalogue and masks it was fitted to, and its module
    gives the panel kind (``PANEL``), the arrays drawn (``panel_data``) and the components
    at the posterior medians (``fitted_components``).
    """
    from clustermix.fit.fitted import FittedModel
    from clustermix.models.registry import get_model_part

    panels: dict[str, dict[str, Any]] = {}
    for name, path in traces.items():
        try:
            densities = get_model_part(name, "densities")
        except ModuleNotFoundError as error:
            if error.name != f"clustermix.models.{name}.densities":
                raise
            raise ValueError(f"no components panel for model {name!r}") from error
        fitted = FittedModel.open(path, catalog_path, masks_path)
        posterior = fitted.posterior_with(densities.DETERMINISTICS)
        panels[densities.PANEL] = {
            **densities.panel_data(fitted.data),
            "components": densities.fitted_components(posterior, fitted.data),
        }
    return panels


def components_figure(
    pmra: Mapping[str, Any] | None = None,
    pm: Mapping[str, Any] | None = None,
    parallax: Mapping[str, Any] | None = None,
) -> plt.Figure:
    """Page-wide figure with a panel for each kind given (in :data:`PANEL_DRAWERS` order).

    ``pmra``: {"pmra", "pmra_error", "components"}; ``pm``: {"pmra", "pmdec",
    "covariances" (n, 3), "components"}; ``parallax``: {"parallax", "parallax_error",
    "components"}; each ``components`` an object with ``densities`` (and, for the
    histograms, ``cluster_width``), as a model's ``densities.fitted_components`` returns.
    At least one.
    """
    panels = {"pmra": pmra, "pm": pm, "parallax": parallax}
    chosen = [(kind, panels[kind]) for kind in PANEL_DRAWERS if panels[kind] is not None]
    if not chosen:
        raise ValueError("components_figure needs at least one model's data")
    use_style()
    fig, axes = plt.subplots(
        1, len(chosen), figsize=(PAGE_WIDTH_IN, 0.36 * PAGE_WIDTH_IN), squeeze=False
    )
    n_field = 1
    for ax, (kind, spec) in zip(axes[0], chosen, strict=True):
        draw, keys = PANEL_DRAWERS[kind]
        n_field = max(n_field, draw(ax, *(spec[key] for key in keys), spec["components"]))
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

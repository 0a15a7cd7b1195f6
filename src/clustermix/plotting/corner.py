"""Corner plots of each model's cluster quantities, with the truth of simulated data.

The quantities are those of the model's ``summary_quantities`` (the numbers the paper
reports, with the same systematic floors), plus, where it helps read the fit, a sampled
parameter that the summary leaves out (the cluster's intrinsic width, the field's length
scale); :data:`CORNER_QUANTITIES` lists them per model. The plot is ArviZ's
``plot_pair`` with kernel density estimates: filled contours at the 39.3, 86.5 and 98.9
per cent highest-density levels (1 and 2 sigma of a 2D Gaussian) and the 1D marginals on
the diagonal. True values, when known, are dashed black lines across every panel and
black squares where two of them meet.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import xarray as xr
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.colors import LinearSegmentedColormap, to_rgb
from matplotlib.ticker import MaxNLocator

from clustermix.models import MODEL_SPECS
from clustermix.palette import PALETTE
from clustermix.plotting.style import (
    COLUMN_WIDTH_IN,
    PAGE_WIDTH_IN,
    TRUTH_COLOUR,
    use_style,
)
from clustermix.quantities import QUANTITIES, axis_label

#: The quantities shown for each model, in panel order.
CORNER_QUANTITIES: dict[str, tuple[str, ...]] = {
    name: spec.presentation.corner_quantities for name, spec in MODEL_SPECS.items()
}
#: Axis labels (LaTeX, with units) of every quantity a corner plot may show.
CORNER_LABELS: dict[str, str] = {name: axis_label(name) for name in QUANTITIES}
#: Sampled parameters shown besides the summary quantities: {name: (posterior variable,
#: transform)}.
EXTRA_PARAMETERS: dict[str, tuple[str, Any]] = {
    "sigma_pmra_cl": ("sigma_pmra_cl", None),
    "sigma_cl": ("sigma_cl", None),
    "length_scale_field": ("ln_length_scale_field", np.exp),
}
#: Highest-density probabilities of the 2D contours: 1 and 2 sigma of a 2D Gaussian.
HDI_PROBS: tuple[float, ...] = (0.393, 0.865)
#: At most this many quantities fit in a column-wide corner plot; more span the page.
COLUMN_MAX_QUANTITIES = 4


def corner_draws(
    module: ModuleType,
    posterior: xr.Dataset,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any] | None = None,
    names: Sequence[str] | None = None,
) -> dict[str, xr.DataArray]:
    """Posterior draws (dims chain, draw) of the corner quantities of ``module``'s model.

    ``names`` defaults to :data:`CORNER_QUANTITIES` of the model; a name is taken from
    ``module.summary_quantities(posterior, data, options)``, else from
    :data:`EXTRA_PARAMETERS`; names that the posterior cannot give (a parameter the
    model's options switched off) are left out.
    """
    names = list(names if names is not None else CORNER_QUANTITIES[module.NAME])
    summary = module.summary_quantities(posterior, dict(data), dict(options or {}))
    draws: dict[str, xr.DataArray] = {}
    for name in names:
        if name in summary:
            draws[name] = summary[name]
        elif name in EXTRA_PARAMETERS and EXTRA_PARAMETERS[name][0] in posterior:
            variable, transform = EXTRA_PARAMETERS[name]
            values = posterior[variable]
            draws[name] = (transform(values) if transform else values).rename(name)
    return draws


def _light_cmap(colour: str) -> LinearSegmentedColormap:
    """White to ``colour``: the fill of the density contours."""
    return LinearSegmentedColormap.from_list("corner", [(1.0, 1.0, 1.0), to_rgb(colour)])


def corner_figure(
    draws: Mapping[str, xr.DataArray],
    truth: Mapping[str, float] | None = None,
    colour: str = PALETTE["blue"],
    labels: Mapping[str, str] | None = None,
) -> plt.Figure:
    """Corner plot of ``draws`` ({name: DataArray with dims chain, draw}).

    ``truth``: true values by name (missing or None: not drawn); ``colour``: the model's
    colour (contour fill and marginals); ``labels``: axis labels by name (defaults to
    :data:`CORNER_LABELS`, then the name). Column width for up to
    :data:`COLUMN_MAX_QUANTITIES` quantities, page width beyond.
    """
    use_style()
    names = list(draws)
    if len(names) < 2:
        raise ValueError(f"a corner plot needs at least two quantities, got {names}")
    labels = {**CORNER_LABELS, **(labels or {})}
    dataset = xr.Dataset({name: draws[name].transpose("chain", "draw") for name in names})
    n = len(names)
    width = COLUMN_WIDTH_IN if n <= COLUMN_MAX_QUANTITIES else PAGE_WIDTH_IN
    truth = {k: float(v) for k, v in (truth or {}).items() if k in names and v is not None}
    fig, axes = plt.subplots(n, n, figsize=(width, width), squeeze=False)
    with warnings.catch_warnings():
        # ArviZ 0.23 calls a matplotlib helper deprecated in matplotlib 3.11
        warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
        _plot_pair(dataset, names, axes, colour)
    for row in range(n):
        for column in range(n):
            _finish_panel(axes[row, column], row, column, names, labels, truth)
    fig.subplots_adjust(
        left=0.15 if n <= 3 else 0.11,
        bottom=0.15 if n <= 3 else 0.11,
        right=0.98,
        top=0.98,
        wspace=0.08,
        hspace=0.08,
    )
    fig.align_ylabels(axes[:, 0])
    fig.align_xlabels(axes[-1, :])
    return fig


def _plot_pair(dataset: xr.Dataset, names: list[str], axes: np.ndarray, colour: str) -> None:
    """ArviZ's KDE pair plot with marginals on ``axes``, in ``colour``."""
    az.plot_pair(
        dataset,
        var_names=names,
        kind="kde",
        marginals=True,
        ax=axes,
        textsize=7,
        kde_kwargs={
            "hdi_probs": list(HDI_PROBS),
            "contourf_kwargs": {"cmap": _light_cmap(colour)},
            "contour_kwargs": {"colors": [colour], "linewidths": 0.6},
        },
        marginal_kwargs={"color": colour, "plot_kwargs": {"linewidth": 1.0}},
        backend_kwargs={"constrained_layout": False},
    )


def _inner_ticks(limits: tuple[float, float], n: int = 3) -> np.ndarray:
    """At most ``n`` round tick values inside the central 76 per cent of ``limits``, so
    that the labels of neighbouring panels cannot touch."""
    lo, hi = sorted(limits)
    margin = 0.12 * (hi - lo)
    ticks = MaxNLocator(n).tick_values(lo + margin, hi - margin)
    return ticks[(ticks >= lo + margin) & (ticks <= hi - margin)]


def _finish_panel(
    ax: plt.Axes,
    row: int,
    column: int,
    names: list[str],
    labels: Mapping[str, str],
    truth: Mapping[str, float],
) -> None:
    """Truth lines, tick density and labels of one panel (upper triangle hidden)."""
    n = len(names)
    if column > row:
        ax.set_visible(False)
        return
    x_name, y_name = names[column], names[row]
    line = {"color": TRUTH_COLOUR, "linewidth": 0.7, "linestyle": (0, (3, 2)), "zorder": 5}
    if x_name in truth:
        ax.axvline(truth[x_name], **line)
    if row != column and y_name in truth:
        ax.axhline(truth[y_name], **line)
        if x_name in truth:
            ax.plot(truth[x_name], truth[y_name], "s", color=TRUTH_COLOUR, markersize=3, zorder=6)
    ax.set_xticks(_inner_ticks(ax.get_xlim()))
    if row != column:
        ax.set_yticks(_inner_ticks(ax.get_ylim()))
    ax.tick_params(labelsize=6, direction="in", top=True, right=row != column)
    if row == column:
        ax.set_yticks([])
    if row == n - 1:
        ax.set_xlabel(labels.get(x_name, x_name), fontsize=7)
        for tick in ax.get_xticklabels():
            tick.set_rotation(40)
            tick.set_horizontalalignment("right")
    else:
        ax.set_xlabel("")
        ax.tick_params(labelbottom=False)
    if column == 0 and row > 0:
        ax.set_ylabel(labels.get(y_name, y_name), fontsize=7)
    else:
        ax.set_ylabel("")
        ax.tick_params(labelleft=False)

"""The cluster models' estimates side by side, with the truth and the literature.

One panel per quantity, one row per model: a dot at the posterior median, a thick bar
over the 68 per cent interval (16th-84th percentile) and a thin one over the 95 per cent
interval (2.5th-97.5th). The true value of a simulated field is a solid black line (or,
where it differs between models, such as the member fraction of each model's own star
selection, a black tick on each row); published values are vertical lines, one style per
source, with their uncertainty as a shaded band where the source gives one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

from clustermix.plotting.style import (
    MODEL_COLOURS,
    MODEL_LABELS,
    PAGE_WIDTH_IN,
    PALETTE,
    TRUTH_COLOUR,
    use_style,
)
from clustermix.quantities import axis_label

#: The quantities compared, in panel order.
COMPARED_QUANTITIES: tuple[str, ...] = ("pmra", "pmdec", "parallax", "distance", "f_cluster")
#: Axis labels (with units) of the quantities.
QUANTITY_LABELS: dict[str, str] = {
    name: axis_label(name) for name in ("pmra", "pmdec", "parallax", "distance", "f_cluster", "rv")
}
#: The key of a quantity in config/literature.yaml (its uncertainty is ``<key>_err``).
LITERATURE_KEYS: dict[str, str] = {
    "pmra": "pmra_masyr",
    "pmdec": "pmdec_masyr",
    "parallax": "parallax_mas",
    "distance": "distance_pc",
    "rv": "rv_kms",
}
#: (colour, dash pattern) of the literature sources, in the order of the file.
LITERATURE_STYLES: tuple[tuple[str, Any], ...] = (
    (PALETTE["vermillion"], (0, (4, 1.5))),
    (PALETTE["purple"], (0, (1, 1))),
    ("#777777", (0, (5, 1.5, 1, 1.5))),
    (PALETTE["orange"], (0, (2, 2))),
    (PALETTE["sky"], (0, (6, 2, 1, 2, 1, 2))),
)


def literature_values(entry: Mapping[str, Any], quantity: str) -> tuple[float, float] | None:
    """(value, uncertainty) of ``quantity`` in one literature entry; NaN uncertainty if the
    source gives none; None if the entry lacks the quantity."""
    key = LITERATURE_KEYS.get(quantity)
    if key is None or entry.get(key) is None:
        return None
    error = entry.get(f"{key}_err")
    return float(entry[key]), float(error) if error is not None else math.nan


def model_comparison_figure(
    summaries: Mapping[str, Mapping[str, Any]],
    literature: Sequence[Mapping[str, Any]] = (),
    quantities: Sequence[str] = COMPARED_QUANTITIES,
) -> plt.Figure:
    """Posterior intervals of each model's ``quantities``, with truth and literature.

    Parameters
    ----------
    summaries
        ``{model: summary}``, each the content of ``results/{cluster}/summary/{model}.json``
        (``quantities`` with ``q2.5``, ``q16``, ``q50``, ``q84``, ``q97.5``; optional
        ``truth``). A model that does not report a quantity leaves its row empty there.
    literature
        Entries of ``config/literature.yaml`` for the cluster (``label`` and values under
        :data:`LITERATURE_KEYS`).
    quantities
        The quantities, one panel each; those no model reports are left out.
    """
    use_style()
    models = list(summaries)
    shown = [
        name
        for name in quantities
        if any(_interval(summaries[model], name) is not None for model in models)
    ]
    if not shown:
        raise ValueError(f"no model reports any of {list(quantities)}")
    rows = {model: len(models) - 1 - index for index, model in enumerate(models)}
    fig, axes = plt.subplots(
        1,
        len(shown),
        sharey=True,
        figsize=(PAGE_WIDTH_IN, 1.3 + 0.32 * len(models)),
        squeeze=False,
        layout="constrained",
    )
    fig.get_layout_engine().set(w_pad=0.02, h_pad=0.02, wspace=0.0)
    literature_used: dict[int, Line2D] = {}
    truth_shown = False
    for ax, quantity in zip(axes[0], shown, strict=True):
        for model in models:
            interval = _interval(summaries[model], quantity)
            if interval is None:
                continue
            low95, low68, median, high68, high95 = interval
            colour = MODEL_COLOURS.get(model, PALETTE["black"])
            row = rows[model]
            ax.plot([low95, high95], [row, row], color=colour, lw=0.9, solid_capstyle="butt")
            ax.plot([low68, high68], [row, row], color=colour, lw=3.0, solid_capstyle="butt")
            ax.plot(
                [median], [row], ls="none", marker="o", ms=3.2, mfc="white", mec=colour, mew=0.9
            )
        truth_shown |= _draw_truth(ax, summaries, quantity, rows)
        for index, entry in enumerate(literature):
            value = literature_values(entry, quantity)
            if value is None:
                continue
            colour, dashes = LITERATURE_STYLES[index % len(LITERATURE_STYLES)]
            centre, error = value
            if math.isfinite(error):
                ax.axvspan(centre - error, centre + error, color=colour, alpha=0.15, lw=0)
            ax.axvline(centre, color=colour, ls=dashes, lw=0.9, zorder=0.5)
            literature_used[index] = Line2D(
                [], [], color=colour, ls=dashes, lw=0.9, label=str(entry.get("label", ""))
            )
        ax.set_xlabel(QUANTITY_LABELS.get(quantity, quantity))
        ax.tick_params(axis="y", length=0)
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
        ax.margins(x=0.12)
    axes[0, 0].set_yticks(list(rows.values()))
    axes[0, 0].set_yticklabels([MODEL_LABELS.get(model, model) for model in rows])
    axes[0, 0].set_ylim(-0.7, len(models) - 0.3)

    handles = [
        Line2D([], [], color="#555555", lw=3.0, label="68%"),
        Line2D([], [], color="#555555", lw=0.9, label="95%"),
    ]
    if truth_shown:
        handles.append(Line2D([], [], color=TRUTH_COLOUR, lw=1.0, label="truth (simulation)"))
    handles += [literature_used[index] for index in sorted(literature_used)]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=min(len(handles), 3),
        frameon=False,
        handlelength=2.4,
        columnspacing=1.2,
    )
    return fig


def _interval(summary: Mapping[str, Any], quantity: str) -> tuple[float, ...] | None:
    """(q2.5, q16, q50, q84, q97.5) of ``quantity``, or None if absent or not finite."""
    stats = (summary.get("quantities") or {}).get(quantity)
    if not stats:
        return None
    values = [stats.get(key) for key in ("q2.5", "q16", "q50", "q84", "q97.5")]
    if any(value is None or not math.isfinite(float(value)) for value in values):
        return None
    return tuple(float(value) for value in values)


def _draw_truth(
    ax: plt.Axes,
    summaries: Mapping[str, Mapping[str, Any]],
    quantity: str,
    rows: Mapping[str, int],
) -> bool:
    """The true value: one line if every model has the same, else a tick per row."""
    truths = {
        model: float(summary["truth"][quantity])
        for model, summary in summaries.items()
        if (summary.get("truth") or {}).get(quantity) is not None
        and _interval(summary, quantity) is not None
    }
    if not truths:
        return False
    values = np.array(list(truths.values()))
    if np.allclose(values, values[0], rtol=1e-9, atol=0.0):
        ax.axvline(values[0], color=TRUTH_COLOUR, lw=1.0, zorder=0.6)
    else:
        for model, value in truths.items():
            row = rows[model]
            ax.plot([value, value], [row - 0.32, row + 0.32], color=TRUTH_COLOUR, lw=1.0)
    return True

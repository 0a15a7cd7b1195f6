"""Posterior summaries of a model's cluster quantities, compared with the truth if known.

The output (``results/{cluster}/summary/{model}.json``) is what the paper quotes::

    {"quantities": {"pmra": {"mean": ..., "sd": ..., "q2.5": ..., "q16": ..., "q50": ...,
                             "q84": ..., "q97.5": ..., "unit": "mas/yr",
                             "sd_statistical": ..., "sd_systematic": ...}, ...},
     "truth": {"pmra": -2.91, ...},          # only with a truth
     "truth_in_68": {"pmra": true, ...},     # truth within [q16, q84]
     "truth_in_95": {"pmra": true, ...}}     # truth within [q2.5, q97.5]

``sd`` is the whole error; where the model adds systematic floors
(:mod:`clustermix.models.systematics`), ``sd_statistical`` is the sd of the same quantity
without them and ``sd_systematic`` = sqrt(sd^2 - sd_statistical^2), the floors' part
(independent of the statistical draws, so the variances add).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

#: Percentiles reported for every quantity, and their keys.
PERCENTILES: dict[str, float] = {"q2.5": 2.5, "q16": 16.0, "q50": 50.0, "q84": 84.0, "q97.5": 97.5}
SAMPLE_DIMS: tuple[str, ...] = ("chain", "draw")


def summarize_draws(draws: xr.DataArray | np.ndarray) -> dict[str, float]:
    """Mean, standard deviation (ddof 0) and :data:`PERCENTILES` of one scalar quantity's
    posterior draws (all chains pooled)."""
    if isinstance(draws, xr.DataArray):
        extra = set(draws.dims) - set(SAMPLE_DIMS)
        if extra:
            raise ValueError(
                f"quantity '{draws.name}' has dims {sorted(extra)} besides chain/draw; "
                "summary quantities must be scalars per draw"
            )
    values = np.asarray(draws, float).ravel()
    stats = {"mean": float(values.mean()), "sd": float(values.std())}
    for key, value in zip(
        PERCENTILES, np.percentile(values, list(PERCENTILES.values())), strict=True
    ):
        stats[key] = float(value)
    return stats


def summarize(
    quantities: Mapping[str, xr.DataArray],
    units: Mapping[str, str],
    truth: Mapping[str, float] | None = None,
    statistical: Mapping[str, xr.DataArray] | None = None,
    one_floor: Mapping[str, Mapping[str, xr.DataArray]] | None = None,
) -> dict[str, Any]:
    """Summaries of every quantity (see the module docstring for the layout).

    ``units``: the unit of every quantity (e.g. :data:`clustermix.models.SUMMARY_UNITS`);
    a quantity without one is an error. ``truth``: true values by name (from the model's
    ``true_values``); quantities without a true value are left out of the truth objects.
    ``statistical``: the same quantities without the systematic floors (the model's
    ``summary_quantities`` with :func:`clustermix.models.systematics.without_systematics`
    options), which splits each ``sd`` into its statistical and systematic parts.
    ``one_floor``: by floor name (e.g. ``parallax``, ``pm``), the quantities with that
    floor alone (:func:`clustermix.models.systematics.with_one_floor`); each floor's part
    is ``sd_systematic_<name>`` = sqrt(sd_with_it^2 - sd_statistical^2).
    """
    missing = sorted(set(quantities) - set(units))
    if missing:
        raise ValueError(f"no unit for quantities {missing}; add them to SUMMARY_UNITS")
    result: dict[str, Any] = {
        "quantities": {
            name: {**summarize_draws(draws), "unit": units[name]}
            for name, draws in quantities.items()
        }
    }
    for name, draws in (statistical or {}).items():
        stats = result["quantities"].get(name)
        if stats is None:
            continue
        sd_statistical = float(np.asarray(draws, float).std())
        stats["sd_statistical"] = sd_statistical
        stats["sd_systematic"] = _added_sd(stats["sd"], sd_statistical)
        for floor, floor_quantities in (one_floor or {}).items():
            sd_with = float(np.asarray(floor_quantities[name], float).std())
            stats[f"sd_systematic_{floor}"] = _added_sd(sd_with, sd_statistical)
    if truth is not None:
        known = {name: float(value) for name, value in truth.items() if name in quantities}
        result["truth"] = known
        stats = result["quantities"]
        result["truth_in_68"] = {
            name: bool(stats[name]["q16"] <= value <= stats[name]["q84"])
            for name, value in known.items()
        }
        result["truth_in_95"] = {
            name: bool(stats[name]["q2.5"] <= value <= stats[name]["q97.5"])
            for name, value in known.items()
        }
    return result


def _added_sd(sd_total: float, sd_statistical: float) -> float:
    """The sd that a systematic part adds in quadrature: sqrt(total^2 - statistical^2)."""
    return math.sqrt(max(sd_total**2 - sd_statistical**2, 0.0))


def json_safe(obj: Any) -> Any:
    """``obj`` with non-finite floats replaced by None, so the JSON output is valid JSON."""
    if isinstance(obj, Mapping):
        return {key: json_safe(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(value) for value in obj]
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj

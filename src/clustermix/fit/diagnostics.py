"""Convergence diagnostics of a fit, for ``results/{cluster}/diagnostics/{model}.json``.

R-hat (rank-normalised, split), bulk and tail effective sample sizes are reported twice:
over the model's cluster quantities (what the paper quotes) and over every free
parameter in the posterior. Also: divergent transitions after warm-up, E-BFMI per chain,
and the sampler's cost (wall time, gradient evaluations) from the trace's attributes.
``warnings`` lists every threshold a fit misses (Vehtari et al. 2021 recommendations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from clustermix.fit.sampling import trace_attrs

if TYPE_CHECKING:
    import arviz as az

R_HAT_MAX = 1.01
ESS_MIN = 400.0
E_BFMI_MIN = 0.3
#: Trace attributes copied into the diagnostics.
COPIED_ATTRS: tuple[str, ...] = (
    "model",
    "sampler",
    "sampler_version",
    "seed",
    "chains",
    "draws",
    "tune",
    "wall_time_s",
    "compile_time_s",
    "compiler",
    "gradient_evaluations",
    "gradient_evaluations_warmup",
)


def convergence(dataset: xr.Dataset) -> dict[str, Any]:
    """Worst R-hat and smallest bulk/tail ESS over every variable and element of
    ``dataset`` (dims chain, draw, ...), and the same per variable (worst element)."""
    import arviz as az

    rhat = az.rhat(dataset)
    bulk = az.ess(dataset, method="bulk")
    tail = az.ess(dataset, method="tail")
    per_variable = {
        name: {
            "r_hat": _nan_reduce(np.nanmax, rhat[name]),
            "ess_bulk": _nan_reduce(np.nanmin, bulk[name]),
            "ess_tail": _nan_reduce(np.nanmin, tail[name]),
        }
        for name in dataset.data_vars
    }
    return {
        "r_hat_max": _worst(per_variable, "r_hat", max),
        "ess_bulk_min": _worst(per_variable, "ess_bulk", min),
        "ess_tail_min": _worst(per_variable, "ess_tail", min),
        "per_variable": per_variable,
    }


def fit_diagnostics(
    idata: az.InferenceData,
    cluster_quantities: Mapping[str, xr.DataArray] | Sequence[str] | None = None,
) -> dict[str, Any]:
    """Diagnostics of one trace.

    ``cluster_quantities``: the model's cluster quantities (a mapping of name to draws, as
    returned by a model's ``summary_quantities``) or names of posterior variables; None
    uses every free parameter. Returns ``cluster`` and ``all_parameters`` blocks (see
    :func:`convergence`), ``divergences``, ``e_bfmi`` (per chain) and ``e_bfmi_min``,
    the sampler attributes of :data:`COPIED_ATTRS`, and ``warnings``.
    """
    import arviz as az

    posterior = idata.posterior
    if cluster_quantities is None:
        cluster = posterior
    elif isinstance(cluster_quantities, Mapping):
        cluster = xr.Dataset(dict(cluster_quantities))
    else:
        cluster = posterior[list(cluster_quantities)]
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum()) if "diverging" in stats else 0
    e_bfmi = [float(value) for value in np.atleast_1d(az.bfmi(idata))]
    attrs = trace_attrs(idata)
    result: dict[str, Any] = {
        "cluster": convergence(cluster),
        "all_parameters": convergence(posterior),
        "divergences": divergences,
        "e_bfmi": e_bfmi,
        "e_bfmi_min": min(e_bfmi),
        **{key: attrs[key] for key in COPIED_ATTRS if key in attrs},
        "setup": fit_setup(attrs),
    }
    result["warnings"] = _warnings(result)
    return result


def fit_setup(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """What was decided before sampling, from the trace's attributes: the field's K and
    how (``n_field_components``; ``k_criterion`` "BIC" with ``delta_bic`` {K: BIC - min} and
    ``k_stars``, or None for a K given in the config), ``field_model`` (None for a model
    without the option), and the mode search: ``modes`` (found before sampling),
    ``cluster_modes`` (of them, cluster-like), ``chosen`` (the candidate whose mode every
    chain started in) and ``search_time_s``; the error model, ``error_inflation`` and
    ``rv_binaries`` (None for a model without the options), the colour-magnitude term
    ``cmd_term``, the prior width (mas) of a fitted parallax zero-point offset
    ``zero_point_offset_prior_sd_mas`` and the members' sky ``profile`` (each None without
    the option); ``priors``, the rows of
    :func:`~clustermix.models.priors.prior_rows` ([] for a trace without them)."""
    options = attrs.get("options") or {}
    choice = attrs.get("field_components") or None
    search = attrs.get("mode_search") or None
    modes = (search or {}).get("modes", [])
    return {
        "n_field_components": options.get("n_field_components"),
        "k_criterion": choice.get("criterion") if choice else None,
        "delta_bic": {row["k"]: row["delta_bic"] for row in choice["table"]} if choice else None,
        "k_stars": choice.get("n_stars") if choice else None,
        "field_model": options.get("field_model"),
        "modes": len(modes) if search else None,
        "cluster_modes": sum(bool(mode.get("is_cluster")) for mode in modes) if search else None,
        "chosen": search.get("chosen") if search else None,
        "search_time_s": search.get("seconds") if search else None,
        "error_inflation": options.get("error_inflation"),
        "rv_binaries": options.get("rv_binaries"),
        "cmd_term": options.get("cmd_term"),
        "zero_point_offset_prior_sd_mas": options.get("zero_point_offset_prior_sd_mas"),
        "profile": options.get("profile"),
        "priors": attrs.get("priors") or [],
    }


def _warnings(result: dict[str, Any]) -> list[str]:
    notes = []
    for block in ("cluster", "all_parameters"):
        stats = result[block]
        if stats["r_hat_max"] is None or stats["r_hat_max"] > R_HAT_MAX:
            notes.append(f"{block}: max R-hat {stats['r_hat_max']} > {R_HAT_MAX}")
        for key in ("ess_bulk_min", "ess_tail_min"):
            if stats[key] is None or stats[key] < ESS_MIN:
                notes.append(f"{block}: {key} {stats[key]} < {ESS_MIN:g}")
    if result["divergences"]:
        notes.append(f"{result['divergences']} divergent transitions after warm-up")
    if result["e_bfmi_min"] < E_BFMI_MIN:
        notes.append(f"E-BFMI {result['e_bfmi_min']:.3f} < {E_BFMI_MIN} in some chain")
    return notes


def _nan_reduce(function: Any, values: xr.DataArray) -> float | None:
    array = np.asarray(values, float)
    if array.size == 0 or np.isnan(array).all():
        return None
    return float(function(array))


def _worst(per_variable: dict[str, dict[str, float | None]], key: str, pick: Any) -> float | None:
    values = [stats[key] for stats in per_variable.values() if stats[key] is not None]
    return pick(values) if values else None

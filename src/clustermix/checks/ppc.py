"""Posterior predictive checks: replicated data sets against the data a model was fitted to.

For a subsample of posterior draws, :func:`replicate` draws one replicated data set per
draw for the *same* stars: every replicated star keeps its own measurement uncertainties
(and, in 2D/3D, its correlations). What is compared, and how it is replicated, is each
model's own (:mod:`clustermix.models`): its package's ``predictive`` module names the
quantities (``QUANTITIES``, with units and symbols here in :data:`QUANTITY_UNITS` and
:data:`QUANTITY_SYMBOLS`) and gives their observed values (``observed_quantities``), and
its ``model`` module draws the replicates (``replicate``: through the ``obs`` variable's
own random function, :mod:`clustermix.models.replication`, or, where ``obs`` cannot check
what the model predicts, through the full generative model in NumPy, e.g.
:mod:`clustermix.models.phase_space.replicate`).

Statistics (:func:`histogram_check`), per quantity. Bins: ``n_bins`` equal bins between
the 1st and 99th percentiles of the replicated values (all draws pooled: the bulk the
model predicts), plus the stars below and above that range as two tail bins, so every
star counts. The bins do not depend on the observed data: edges placed at the observed
percentiles would fix the observed tail counts at 1% each while the replicated ones
scatter, which inflates T(y_obs) for heavy-tailed data and rejects correct models. For
each bin, the observed count and the 2.5, 50 and 97.5 percentiles (and the mean E_b) of
the replicated counts. Discrepancy: the binned
chi-square T(y) = sum_b (n_b(y) - E_b)^2 / max(E_b, 1) over all bins (tails included);
the posterior predictive p-value is the fraction of replicated data sets with
T(y_rep) >= T(y_obs). The band fraction is the fraction of bins (tails included) whose
observed count lies within the replicated 2.5-97.5 percentile band.

Local checks (:mod:`clustermix.checks.ppc_local`), on the same replicates: the counts of stars in
the posterior-median cluster's window per annulus of radius, and the summed membership
probabilities per G bin against the replicated (and, for simulated data, the true)
numbers of members.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from clustermix.checks.ppc_local import (
    DEFAULT_ANNULI,
    DEFAULT_MAGNITUDE_BINS,
    LocalInputs,
    load_local_inputs,
    local_checks,
    local_macros,
    predictive_part,
)
from clustermix.checks.ppc_stats import (
    BAND_PERCENTILES,
    LOW_P_VALUE,
    chi_square,
    chi_square_summary,
    format_p_value,
)
from clustermix.errors import InputDataError
from clustermix.fit.fitted import FittedModel
from clustermix.fit.summary import json_safe
from clustermix.io import PathLike, write_json_atomic
from clustermix.models import MODEL_NAMES
from clustermix.models.registry import get_model
from clustermix.paper.macros import format_number, macro_name, write_macros
from clustermix.quantities import OBSERVABLES

log = logging.getLogger(__name__)

#: Units and symbols (LaTeX math, also valid matplotlib mathtext) of the quantities the
#: checks compare (:data:`clustermix.quantities.OBSERVABLES`).
QUANTITY_UNITS: dict[str, str] = {name: q.unit for name, q in OBSERVABLES.items()}
QUANTITY_SYMBOLS: dict[str, str] = {name: q.symbol for name, q in OBSERVABLES.items()}
#: Default number of posterior draws replicated, and histogram binning.
DEFAULT_DRAWS = 200
DEFAULT_MAX_BINS = 40
MIN_BINS = 5
RANGE_PERCENTILES: tuple[float, float] = (1.0, 99.0)


# ------------------------------------------------------------------ posterior draws


def thin_posterior(posterior: xr.Dataset, n_draws: int, rng: np.random.Generator) -> xr.Dataset:
    """``n_draws`` posterior draws chosen at random without replacement (all of them if
    fewer), in their original order, as one chain (dims ``chain`` = 1, ``draw``)."""
    stacked = posterior.stack(sample=("chain", "draw"))
    total = stacked.sizes["sample"]
    chosen = np.sort(rng.choice(total, size=min(int(n_draws), total), replace=False))
    thinned = stacked.isel(sample=chosen).drop_vars(["sample", "chain", "draw"])
    thinned = thinned.rename({"sample": "draw"}).expand_dims("chain", 0)
    thinned = thinned.assign_coords(chain=[0], draw=np.arange(len(chosen)))
    return thinned.transpose("chain", "draw", ...)


# ------------------------------------------------------------------ observed and replicated


def model_quantities(model: str) -> tuple[str, ...]:
    """The quantities ``model``'s check compares, in panel order."""
    return tuple(predictive_part(model).QUANTITIES)


def observed_quantities(model: str, data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The observed values (n_star,) of each quantity of ``model``'s check, by name
    (the model's own ``observed_quantities``)."""
    return predictive_part(model).observed_quantities(data)


def replicate(
    model: str,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    posterior: xr.Dataset,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """One replicated data set per posterior draw: ``{quantity: (n_draw, n_star)}``, by
    ``model``'s own ``replicate``.

    ``posterior`` holds the draws to replicate (dims ``chain``, ``draw``; all of them are
    used, see :func:`thin_posterior`); ``rng`` is the only source of randomness.
    """
    return get_model(model).replicate(data, options, posterior, rng)


# ------------------------------------------------------------------ statistics


def bin_count(n_stars: int, max_bins: int = DEFAULT_MAX_BINS) -> int:
    """Number of histogram bins: about sqrt(n_stars), between 5 and ``max_bins``."""
    return int(np.clip(round(np.sqrt(max(n_stars, 1))), MIN_BINS, max(max_bins, MIN_BINS)))


def bin_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    """``n_bins`` + 1 equal-width edges between the 1st and 99th percentiles of ``values``
    (any shape, pooled)."""
    low, high = np.percentile(values, RANGE_PERCENTILES)
    if not high > low:
        half = 0.5 * max(abs(low) * 1e-3, 1e-6)
        low, high = low - half, high + half
    return np.linspace(low, high, n_bins + 1)


def binned_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of ``values`` (..., n_star) in [below, the bins..., above]: (..., n_bins + 2).

    Bins are half-open [e_j, e_j+1) except the last, which includes its right edge.
    """
    n_bins = len(edges) - 1
    index = np.searchsorted(edges, values, side="right")  # 0: below, n_bins + 1: above
    index = np.where(values == edges[-1], n_bins, index)
    flat = index.reshape(-1, index.shape[-1])
    offsets = (np.arange(flat.shape[0]) * (n_bins + 2))[:, None]
    counts = np.bincount((flat + offsets).ravel(), minlength=flat.shape[0] * (n_bins + 2))
    return counts.reshape(*index.shape[:-1], n_bins + 2)


def histogram_check(
    observed: np.ndarray, replicated: np.ndarray, n_bins: int | None = None
) -> dict[str, Any]:
    """The histogram comparison and p-value of one quantity (see the module docstring).

    ``observed`` (n_star,); ``replicated`` (n_draw, n_star), the same stars. Returns
    ``edges``, per inner bin ``observed`` / ``replicated_mean`` / ``replicated_q2.5`` /
    ``replicated_q50`` / ``replicated_q97.5`` (counts), the same for the two tails under
    ``below`` and ``above``, ``chi2_observed``, ``chi2_replicated`` (its 2.5, 50 and 97.5
    percentiles), ``p_value`` and ``band_fraction``.
    """
    observed = np.asarray(observed, float)
    replicated = np.asarray(replicated, float)
    if replicated.ndim != 2 or replicated.shape[1] != observed.shape[0]:
        raise ValueError(
            f"replicated data {replicated.shape} do not match {observed.shape[0]} observed stars"
        )
    n_bins = bin_count(observed.size) if n_bins is None else int(n_bins)
    edges = bin_edges(replicated, n_bins)
    counts_obs = binned_counts(observed, edges).astype(float)
    counts_rep = binned_counts(replicated, edges).astype(float)
    expected = counts_rep.mean(axis=0)
    low, median, high = np.percentile(counts_rep, BAND_PERCENTILES, axis=0)
    t_obs = float(chi_square(counts_obs, expected))
    t_rep = chi_square(counts_rep, expected)
    inside = (counts_obs >= low) & (counts_obs <= high)

    def per_bin(index: slice | int) -> dict[str, Any]:
        return {
            "observed": counts_obs[index],
            "replicated_mean": expected[index],
            "replicated_q2.5": low[index],
            "replicated_q50": median[index],
            "replicated_q97.5": high[index],
        }

    inner = {key: value.tolist() for key, value in per_bin(slice(1, -1)).items()}
    return {
        "n_stars": int(observed.size),
        "n_draws": int(replicated.shape[0]),
        "n_bins": n_bins,
        "edges": edges.tolist(),
        **inner,
        "below": {key: float(value) for key, value in per_bin(0).items()},
        "above": {key: float(value) for key, value in per_bin(-1).items()},
        **chi_square_summary(t_obs, t_rep),
        "band_fraction": float(inside.mean()),
        "n_bins_in_band": int(inside.sum()),
        "n_bins_total": int(inside.size),
    }


def posterior_predictive_check(
    model: str,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    posterior: xr.Dataset,
    *,
    n_draws: int = DEFAULT_DRAWS,
    seed: int,
    max_bins: int = DEFAULT_MAX_BINS,
    local: LocalInputs | None = None,
    n_annuli: int | None = None,
    n_magnitude_bins: int | None = None,
) -> dict[str, Any]:
    """Replicate ``n_draws`` random posterior draws (seeded by ``seed``) and compare them
    with the observed quantities of ``model``: ``{"quantities": {name: histogram_check}}``
    with each quantity's ``unit`` and ``symbol`` added, and the two local checks of
    :mod:`clustermix.checks.ppc_local` on the same replicates (keys ``radial_window`` and
    ``membership_by_magnitude``; ``local`` holds the per-star values they need beyond
    ``data``, without which a check is skipped with its reason; ``n_annuli`` and
    ``n_magnitude_bins``: their numbers of bins, default
    :data:`~clustermix.checks.ppc_local.DEFAULT_ANNULI` and ``DEFAULT_MAGNITUDE_BINS``)."""
    rng = np.random.default_rng(seed)
    thinned = thin_posterior(posterior, n_draws, rng)
    observed = observed_quantities(model, data)
    replicated = replicate(model, data, options, thinned, rng)
    quantities = {}
    for name in model_quantities(model):
        check = histogram_check(
            observed[name], replicated[name], bin_count(len(observed[name]), max_bins)
        )
        quantities[name] = {"unit": QUANTITY_UNITS[name], "symbol": QUANTITY_SYMBOLS[name], **check}
        log.info(
            "%s %s: chi2 %.1f, p = %.3f, %d of %d bins in the 95%% band",
            model,
            name,
            check["chi2_observed"],
            check["p_value"],
            check["n_bins_in_band"],
            check["n_bins_total"],
        )
    checks = local_checks(
        model,
        data,
        posterior,
        thinned,
        observed,
        replicated,
        local,
        seed=seed,
        n_annuli=n_annuli or DEFAULT_ANNULI,
        n_magnitude_bins=n_magnitude_bins or DEFAULT_MAGNITUDE_BINS,
    )
    for key, check in checks.items():
        if check["status"] == "done":
            log.info("%s %s: p = %s", model, key, check.get("p_value", "-"))
        else:
            log.info("%s %s skipped: %s", model, key, check["reason"])
    return {
        "model": model,
        "n_draws": int(thinned.sizes["draw"]),
        "seed": int(seed),
        "statistic": "binned chi-square against the replicated mean counts, tails as two bins",
        "quantities": quantities,
        **checks,
    }


def check_observed_data(
    idata: Any, model: str, data: Mapping[str, np.ndarray], path: PathLike
) -> None:
    """Raise :class:`InputDataError` unless the rebuilt data equal the trace's observed data.

    The trace's ``observed_data`` group holds ``obs`` as fitted; a catalogue or mask that
    selects other stars, or other values, would make the check compare the wrong data.
    """
    if "observed_data" not in idata.groups() or "obs" not in idata.observed_data:
        return
    fitted = np.asarray(idata.observed_data["obs"].values, float)
    observed = observed_quantities(model, data)
    rebuilt = np.stack(
        [np.asarray(observed[name], float) for name in predictive_part(model).OBS_QUANTITIES], -1
    )
    rebuilt = rebuilt.reshape(fitted.shape) if rebuilt.size == fitted.size else rebuilt
    if rebuilt.shape != fitted.shape or not np.allclose(rebuilt, fitted, rtol=1e-12, atol=0.0):
        raise InputDataError(
            f"{path}: the catalogue and masks give other stars ({len(data['source_id'])}) or "
            f"values than the fit's observed data ({fitted.shape[0]} stars); rerun the fit"
        )


def run_ppc(
    trace_path: PathLike,
    ppc_path: PathLike,
    *,
    seed: int,
    n_draws: int = DEFAULT_DRAWS,
    max_bins: int = DEFAULT_MAX_BINS,
    catalog_path: PathLike | None = None,
    masks_path: PathLike | None = None,
    membership_path: PathLike | None = None,
    truth_path: PathLike | None = None,
    n_annuli: int | None = None,
    n_magnitude_bins: int | None = None,
) -> dict[str, Any]:
    """Write the posterior predictive check of one fit (trace) to ``ppc_path`` (JSON).

    The model, options and stars are those of the trace (its attributes, and the
    catalogue and masks it was fitted to, checked against the recorded ``data_sha256``
    and against its observed data); the line example passes no catalogue. The local
    checks (:mod:`clustermix.checks.ppc_local`) also read G and ``separation_arcmin`` from the
    catalogue and masks, ``p_cluster`` from the fit's ``membership_path`` and, for
    simulated data, the true members from ``truth_path`` (truth.json); ``n_annuli`` and
    ``n_magnitude_bins`` are their numbers of bins (None: the defaults).
    """
    fitted = FittedModel.open(trace_path, catalog_path, masks_path)
    idata, attrs, model, data = fitted.idata, fitted.attrs, fitted.name, fitted.data
    check_observed_data(idata, model, data, trace_path)
    local = load_local_inputs(
        data["source_id"],
        catalog_path=catalog_path,
        masks_path=masks_path,
        membership_path=membership_path,
        truth_path=truth_path,
    )
    result = posterior_predictive_check(
        model,
        data,
        attrs["options"],
        idata.posterior,
        n_draws=n_draws,
        seed=seed,
        max_bins=max_bins,
        local=local,
        n_annuli=n_annuli,
        n_magnitude_bins=n_magnitude_bins,
    )
    header = {key: attrs.get(key) for key in ("cluster", "n_stars", "code_version")}
    result = json_safe({**header, **result})
    write_json_atomic(result, ppc_path)
    return result


# ------------------------------------------------------------------ paper numbers


def ppc_pairs(results: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(model, quantity, check) for every quantity of every result, results in order and
    each model's quantities in its check's order (:func:`model_quantities`; JSON files sort
    them by name)."""
    pairs = []
    for result in results:
        checks = result["quantities"]
        known = model_quantities(result["model"]) if result["model"] in MODEL_NAMES else ()
        order = [name for name in known if name in checks]
        order += [name for name in checks if name not in order]
        pairs += [(result["model"], name, checks[name]) for name in order]
    return pairs


def ppc_macros(
    results: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The paper's macros for the posterior predictive checks of ``results`` (ppc JSON).

    Per model and quantity: ``\\Ppc<Model><Quantity>Pvalue`` and
    ``\\Ppc<Model><Quantity>BandFraction`` (two decimals); overall: ``\\PpcDraws``,
    ``\\PpcPairs`` (model-quantity pairs), ``\\PpcPvalueMin``, ``\\PpcPvalueMax``,
    ``\\PpcLowCount`` (pairs with p below ``\\PpcLowThreshold`` = :data:`LOW_P_VALUE`),
    ``\\PpcBandPercent`` (bins in the band over all checks, per cent) and
    ``\\PpcSummary``, one sentence stating them; and the local checks' macros
    (:func:`clustermix.checks.ppc_local.local_macros`). ``labels`` names the models in the
    sentences (default: the model names).
    """
    pairs = ppc_pairs(results)
    if not pairs:
        raise ValueError("no posterior predictive checks to report")
    n_draws = min(int(result["n_draws"]) for result in results)
    macros: dict[str, str] = {"PpcDraws": str(n_draws)}
    for model, name, check in pairs:
        macros[macro_name("ppc", model, name, "pvalue")] = format_p_value(check["p_value"], n_draws)
        macros[macro_name("ppc", model, name, "band_fraction")] = format_number(
            check["band_fraction"], 2
        )
    p_values = [check["p_value"] for _, _, check in pairs]
    lowest = int(np.argmin(p_values))
    n_low = sum(p < LOW_P_VALUE for p in p_values)
    in_band = sum(check["n_bins_in_band"] for _, _, check in pairs)
    total = sum(check["n_bins_total"] for _, _, check in pairs)
    percent = format_number(100.0 * in_band / total, 0)
    macros["PpcPvalueMin"] = format_p_value(min(p_values), n_draws)
    macros["PpcPvalueMax"] = format_p_value(max(p_values), n_draws)
    macros["PpcBandPercent"] = percent
    macros["PpcPairs"] = str(len(pairs))
    macros["PpcLowCount"] = str(n_low)
    macros["PpcLowThreshold"] = format_number(LOW_P_VALUE, 2)
    model, name, _ = pairs[lowest]
    label = (labels or {}).get(model, model.replace("_", r"\_"))
    low_text = macros["PpcPvalueMin"].replace(r"\ensuremath{<}", "below ")
    n_low_text = "none" if n_low == 0 else f"{n_low} of the {len(pairs)}"
    macros["PpcSummary"] = (
        f"Over {n_draws} replicated data sets per fit, the posterior predictive $p$-values "
        f"of the binned $\\chi^2$ of the {len(pairs)} model--quantity pairs range from "
        f"{low_text} (for {QUANTITY_SYMBOLS[name]} under the {label} model) "
        f"to {macros['PpcPvalueMax']}, with {n_low_text} below "
        f"{macros['PpcLowThreshold']}, and {percent}\\% of the bins lie within the "
        "replicated 95\\% bands."
    )
    macros.update(local_macros(results, labels))
    return macros


def write_ppc_numbers(
    ppc_paths: Sequence[PathLike],
    macros_path: PathLike,
    *,
    labels: Mapping[str, str] | None = None,
    made_by: str = "",
) -> dict[str, str]:
    """Read the ppc JSON files and write their macros (:func:`ppc_macros`) to ``macros_path``."""
    results = [json.loads(Path(path).read_text()) for path in ppc_paths]
    macros = ppc_macros(results, labels)
    write_macros(macros, macros_path, made_by=made_by)
    return macros

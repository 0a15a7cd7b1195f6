"""Membership probabilities from the posterior, and the per-cluster membership table.

For one posterior draw, a model's ``p_cluster`` Deterministic is each star's
w_c L_c / (w_c L_c + w_f L_f). The membership probability is its average over all draws
(chains x draws), as in the seed tutorial. The Deterministic is not stored while
sampling; :func:`membership_statistics` recomputes it draw by draw with one compiled
function, so memory stays at a few arrays of one value per star however many draws
there are (20,000 stars x 4,000 draws would be 640 MB at once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from astropy.table import Table

from clustermix.errors import InputDataError
from clustermix.io import PathLike, write_table_atomic
from clustermix.models.compiled import per_draw_compile_mode

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm
    import xarray as xr

log = logging.getLogger(__name__)

MEMBERSHIP_VAR = "p_cluster"


def per_draw(
    model: pm.Model, posterior: az.InferenceData | xr.Dataset, var_name: str = MEMBERSHIP_VAR
) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(chain, draw, value)`` of the Deterministic ``var_name`` for every posterior draw,
    computed with one compiled function (the posterior must hold every free variable),
    compiled with JAX where it is installed
    (:func:`~clustermix.models.compiled.per_draw_compile_mode`)."""
    dataset = getattr(posterior, "posterior", posterior)
    names = [rv.name for rv in model.free_RVs]
    missing = sorted(set(names) - set(dataset.data_vars))
    if missing:
        raise ValueError(f"the posterior lacks the model's free variables {missing}")
    mode = per_draw_compile_mode()
    function = model.compile_fn(
        inputs=model.free_RVs,
        outs=model[var_name],
        on_unused_input="ignore",
        point_fn=False,
        **({} if mode is None else {"mode": mode}),
    )
    draws = [np.asarray(dataset[name].transpose("chain", "draw", ...).values) for name in names]
    n_chain, n_draw = draws[0].shape[:2]
    for chain in range(n_chain):
        for draw in range(n_draw):
            value = np.asarray(function(*(values[chain, draw] for values in draws)), float)
            yield chain, draw, value


def membership_statistics(
    model: pm.Model,
    posterior: az.InferenceData | xr.Dataset,
    var_name: str = MEMBERSHIP_VAR,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over posterior draws of the Deterministic ``var_name``.

    ``posterior``: an InferenceData (its ``posterior`` group is used) or the posterior
    Dataset, holding every free variable of ``model`` with dims (chain, draw, ...).
    Returns two arrays shaped like ``var_name`` (one value per star): the membership
    probability and its spread over draws (from the parameter uncertainty).
    """
    total = np.zeros(0)
    total_sq = np.zeros(0)
    count = 0
    for _, _, value in per_draw(model, posterior, var_name):
        if total.shape != value.shape:
            total, total_sq = np.zeros_like(value), np.zeros_like(value)
        total += value
        total_sq += value * value
        count += 1
    mean = total / count
    sd = np.sqrt(np.clip(total_sq / count - mean**2, 0.0, None))
    log.info("%s averaged over %d draws for %d stars", var_name, count, mean.size)
    return mean, sd


def member_count_draws(
    model: pm.Model,
    posterior: az.InferenceData | xr.Dataset,
    seed: int,
    var_name: str = MEMBERSHIP_VAR,
) -> np.ndarray:
    """Posterior draws of the number of cluster members among the fitted stars.

    For each posterior draw, every star is a member with its probability ``var_name`` at
    that draw (an independent Bernoulli draw, seeded by ``seed``); the count is their sum.
    Shape (chain, draw). This is the realised number of members, which the simulator's
    truth counts; the mixture weight f is the probability that a star of the population is
    a member, so its posterior is wider than that of the realised fraction count / N by
    the binomial spread f (1 - f) / N.
    """
    rng = np.random.default_rng(seed)
    counts: dict[tuple[int, int], int] = {}
    for chain, draw, value in per_draw(model, posterior, var_name):
        counts[chain, draw] = int(np.count_nonzero(rng.random(value.shape) < value))
    n_chain = 1 + max(chain for chain, _ in counts)
    n_draw = 1 + max(draw for _, draw in counts)
    result = np.zeros((n_chain, n_draw), np.int64)
    for (chain, draw), count in counts.items():
        result[chain, draw] = count
    return result


def membership_probabilities(
    model: pm.Model, posterior: az.InferenceData | xr.Dataset, var_name: str = MEMBERSHIP_VAR
) -> np.ndarray:
    """Each star's membership probability: ``var_name`` averaged over posterior draws."""
    return membership_statistics(model, posterior, var_name)[0]


def model_membership_table(
    source_id: np.ndarray, probability: np.ndarray, spread: np.ndarray, model_name: str
) -> Table:
    """One model's memberships: ``source_id``, ``p_cluster`` and ``p_cluster_sd``."""
    table = Table(
        {
            "source_id": np.asarray(source_id, np.int64),
            "p_cluster": np.asarray(probability, float),
            "p_cluster_sd": np.asarray(spread, float),
        }
    )
    table["p_cluster"].description = "membership probability (mean over posterior draws)"
    table["p_cluster_sd"].description = "standard deviation over posterior draws"
    table.meta["MODEL"] = model_name
    return table


def combine_memberships(
    source_id: np.ndarray,
    per_model: Mapping[str, Table],
    member_source_ids: Iterable[int] | None = None,
) -> Table:
    """One row per catalogue star (``source_id``, in catalogue order), a ``p_<model>``
    column per model (NaN for stars the model did not use) and, for simulated data, a
    boolean ``true_member`` column."""
    source_id = np.asarray(source_id, np.int64)
    table = Table({"source_id": source_id})
    order = np.argsort(source_id)
    for name, model_table in per_model.items():
        ids = np.asarray(model_table["source_id"], np.int64)
        position = np.searchsorted(source_id, ids, sorter=order).clip(0, len(source_id) - 1)
        rows = order[position]
        unknown = source_id[rows] != ids
        if unknown.any():
            raise InputDataError(
                f"membership of model '{name}': {int(unknown.sum())} source_id values are "
                "not in the cleaned catalogue"
            )
        column = np.full(len(source_id), np.nan)
        column[rows] = np.asarray(model_table["p_cluster"], float)
        table[f"p_{name}"] = column
        table[f"p_{name}"].description = f"membership probability from model {name}"
    if member_source_ids is not None:
        table["true_member"] = np.isin(source_id, np.fromiter(member_source_ids, np.int64))
        table["true_member"].description = "simulated cluster member (truth.json)"
    return table


def run_membership_table(
    catalog_path: PathLike,
    membership_paths: Mapping[str, PathLike],
    *,
    table_path: PathLike,
    truth_path: PathLike | None = None,
) -> None:
    """Write one cluster's membership table: a row per star of the cleaned catalogue,
    ``p_<model>`` per model (NaN where unused) and ``true_member`` for simulated data
    (from truth.json's ``member_source_ids``)."""
    catalog = Table.read(catalog_path)
    per_model = {name: Table.read(path) for name, path in membership_paths.items()}
    members = None
    if truth_path is not None:
        truth = json.loads(Path(truth_path).read_text())
        if "member_source_ids" not in truth:
            raise InputDataError(f"{truth_path}: no 'member_source_ids' list")
        members = truth["member_source_ids"]
    table = combine_memberships(catalog["source_id"], per_model, members)
    write_table_atomic(table, table_path)
    log.info("membership table of %d stars and %d models", len(table), len(per_model))

"""A tiny model that follows the clustermix model interface, for testing the inference layer.

One observable (pmRA, mas/yr) with per-star errors: a Gaussian cluster (mean ``mu_cl``,
intrinsic width ``s_cl``) and a Gaussian field (mean ``mu_f``, width ``s_f = s_cl + ds``, so
the field is always the wider component and the labels cannot switch), both convolved
with each star's ``pmra_error``, mixed with cluster fraction ``f_cluster``.
:func:`numpy_p_cluster` computes the per-draw membership fraction independently with SciPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from astropy.table import Table
from scipy import special, stats

from clustermix.errors import InputDataError
from clustermix.models.mixture import cluster_fraction_per_star, normal_logpdf

NAME = "toy"
DEFAULT_OPTIONS: dict[str, Any] = {
    "stars": "all",
    "cluster_prior": {"mean_masyr": -3.0, "sd_masyr": 1.0},
    "field_prior_sd_masyr": 10.0,
}
FREE_RVS = ("mu_cl", "s_cl", "mu_f", "ds", "f_cluster")


def simulate(
    n_members: int = 150, n_field: int = 350, seed: int = 42
) -> tuple[Table, dict[str, Any]]:
    """A catalogue (source_id, pmra, pmra_error in mas/yr) and its truth dictionary."""
    rng = np.random.default_rng(seed)
    n = n_members + n_field
    error = rng.uniform(0.05, 0.3, n)
    true = np.r_[rng.normal(-2.9, 0.15, n_members), rng.normal(-1.0, 3.0, n_field)]
    source_id = np.arange(1000, 1000 + n, dtype=np.int64)
    catalog = Table(
        {
            "source_id": source_id,
            "pmra": true + rng.normal(0.0, error),
            "pmra_error": error,
            "in_cluster_region": np.ones(n, bool),
        }
    )
    truth = {"pmra_masyr": -2.9, "member_source_ids": source_id[:n_members].tolist()}
    return catalog, truth


def prepare_data(catalog: Table, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """The arrays the model needs: source_id, pmra and pmra_error (mas/yr)."""
    keep = np.ones(len(catalog), bool)
    if options["stars"] == "cluster_region":
        keep = np.asarray(catalog["in_cluster_region"], bool)
    if not keep.any():
        raise InputDataError(f"{source}: no stars selected (column in_cluster_region, 0 rows)")
    return {
        "source_id": np.asarray(catalog["source_id"][keep], np.int64),
        "pmra": np.asarray(catalog["pmra"][keep], float),
        "pmra_error": np.asarray(catalog["pmra_error"][keep], float),
    }


def _component_terms(rvs: dict[str, Any], pmra: Any, error: Any) -> tuple[Any, Any]:
    """log(w_c L_c) and log(w_f L_f) per star (PyTensor or NumPy via pytensor.tensor)."""
    s_f = rvs["s_cl"] + rvs["ds"]
    log_c = pt.log(rvs["f_cluster"]) + normal_logpdf(
        pmra, rvs["mu_cl"], rvs["s_cl"] ** 2 + error**2
    )
    log_f = pt.log1p(-rvs["f_cluster"]) + normal_logpdf(pmra, rvs["mu_f"], s_f**2 + error**2)
    return log_c, log_f


def build_model(data: dict[str, np.ndarray], options: dict[str, Any]) -> pm.Model:
    """The two-Gaussian mixture with observed ``obs`` and Deterministic ``p_cluster``."""
    prior = options["cluster_prior"]
    with pm.Model(coords={"star": data["source_id"]}) as model:
        pmra = pm.Data("pmra", data["pmra"], dims="star")
        error = pm.Data("pmra_error", data["pmra_error"], dims="star")
        rvs = {
            "mu_cl": pm.Normal("mu_cl", prior["mean_masyr"], prior["sd_masyr"]),
            "s_cl": pm.HalfNormal("s_cl", 0.5),
            "mu_f": pm.Normal("mu_f", 0.0, options["field_prior_sd_masyr"]),
            "ds": pm.HalfNormal("ds", 5.0),
            "f_cluster": pm.Beta("f_cluster", 1.0, 1.0),
        }
        log_c, log_f = _component_terms(rvs, pmra, error)
        pm.Deterministic("p_cluster", cluster_fraction_per_star(log_c, log_f), dims="star")
        pm.CustomDist(
            "obs",
            log_c,
            log_f,
            logp=lambda value, lc, lf: pt.logaddexp(lc, lf),
            observed=pmra,
            dims="star",
        )
    return model


def numpy_p_cluster(posterior: xr.Dataset, data: dict[str, np.ndarray]) -> np.ndarray:
    """Per-draw membership fraction, shape (chain, draw, star), with SciPy only."""
    draw = {name: posterior[name].values[..., None] for name in FREE_RVS}
    x, e = data["pmra"], data["pmra_error"]
    s_f = draw["s_cl"] + draw["ds"]
    log_c = np.log(draw["f_cluster"]) + stats.norm.logpdf(
        x, draw["mu_cl"], np.sqrt(draw["s_cl"] ** 2 + e**2)
    )
    log_f = np.log1p(-draw["f_cluster"]) + stats.norm.logpdf(
        x, draw["mu_f"], np.sqrt(s_f**2 + e**2)
    )
    return special.expit(log_c - log_f)


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any]
) -> dict[str, xr.DataArray]:
    """The cluster's mean pmRA (mas/yr) and the cluster fraction."""
    return {"pmra": posterior["mu_cl"], "f_cluster": posterior["f_cluster"]}


def true_values(truth: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, float]:
    """The simulated mean pmRA and the member fraction among the selected stars."""
    members = np.isin(data["source_id"], truth["member_source_ids"])
    return {"pmra": truth["pmra_masyr"], "f_cluster": float(members.mean())}

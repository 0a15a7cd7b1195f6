"""Local posterior predictive checks: where in the cone, and at which magnitude, a fit fails.

The histograms of :mod:`clustermix.checks.ppc` compare each observable over all stars; a
"cluster" that is really the field's core, or a member fraction that is biased for the
faint stars, can pass them. Two checks look locally, with the same replicated data sets
(the same posterior draws and replicates as the histograms):

**Counts in the cluster's window against radius** (:func:`radial_window_check`). The
window is a box around the posterior-median cluster in the model's observables:
parallax within ``WINDOW_HALF_WIDTH_SD`` (2) sd of the cluster's parallax and proper
motion within 2 sd of its proper motion (an ellipse, (d_a / sd_a)^2 + (d_d / sd_d)^2 <= 4,
when the model has both components). Each sd is the posterior median of the cluster's
intrinsic spread in that observable added in quadrature to the median measurement error
of the model's stars, sd = sqrt(s_int^2 + median(e)^2): a member with a typical error lies
inside with probability about 95% (86% in the ellipse), and the window does not follow
each star's own error, so observed and replicated stars are counted by the same rule.
Which observables make the window (``WINDOW_GROUPS``) and the cluster's centre and
intrinsic spread in each (``cluster_spread_draws``) are the model's own, in its package's
``predictive`` module (:mod:`clustermix.models`); a model without a window (the line
example) has no local checks.

Radius: for a model whose replicates redraw positions (``REPLICATES_POSITIONS``, e.g.
phase_space), the tangent-plane distance R (arcmin) from the cone centre, observed and
replicated. The other models have no positions: each star keeps its catalogue
``separation_arcmin`` (from the cone centre) and only its observables are redrawn, so the
model predicts the same window fraction at every radius. For them the check tests that
assumption: a real cluster, concentrated towards the centre, fails it (observed counts
above the replicated ones in the inner annuli), while a "cluster" that is the field's
core, spread like the field, passes. For a model with positions a pass is the good
outcome.

Annuli: ``n_annuli`` (5) of equal star count in the radii the model predicts (the pooled
replicated radii for a model with positions, the separations otherwise), from 0 to the
outermost star. Per annulus: the observed window count and the replicated ones (mean and the 2.5,
50 and 97.5 percentiles over draws), their ratio, and a two-sided p-value
p_j = min(1, 2 min(P(N_rep >= n_obs), P(N_rep <= n_obs))). Summary: the binned chi-square
T = sum_j (n_j - E_j)^2 / max(E_j, 1) against the replicated mean counts E_j, and
p = P(T_rep >= T_obs), as for the histograms.

**Summed membership probabilities per magnitude bin**
(:func:`membership_by_magnitude`). The model's stars are split into ``n_magnitude_bins``
(5) bins of equal star count in G (``phot_g_mean_mag``, mag). Per bin, the sum of the
membership probabilities Sigma p (the fit's ``p_cluster``, averaged over all posterior
draws) against (a) the replicated number of cluster stars: every model's replication draws
each star as a member with probability f, whatever its magnitude (no model uses G), so
for posterior draw d a bin of n_b stars holds Binomial(n_b, f_d) replicated members; they
are drawn here, from the same thinned draws as the replicates, with their own seeded
stream. Under a correct model Sigma p is the expected number of members given the data,
which scatters less than the member count itself, so falling outside the replicated 95%
range (the bin is *flagged*) is a conservative sign that f depends on magnitude: a
luminosity function of the members unlike the field's, or memberships biased where the
errors are large. (b) For simulated data, the true number of members in the bin
(truth.json's ``member_source_ids``), with the ratio Sigma p / N_true and the scatter
expected of N_true given the memberships, sqrt(sum p (1 - p)); a bin whose N_true lies
outside Sigma p +- 1.96 of that scatter is flagged too. The replicated comparison cannot
see a "cluster" that is the field's core when f does not depend on magnitude (the
memberships are then consistent with the model that made them); the true counts can.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import xarray as xr
from astropy.table import Table

from clustermix.checks.ppc_stats import (
    BAND_PERCENTILES,
    LOW_P_VALUE,
    chi_square,
    chi_square_summary,
    format_p_value,
)
from clustermix.data.masks import read_catalog_with_masks
from clustermix.errors import InputDataError
from clustermix.io import PathLike
from clustermix.models.draws import draw_values
from clustermix.models.registry import get_model_part
from clustermix.paper.macros import format_number, macro_name

#: Half-width of the cluster's window, in units of sd (see the module docstring).
WINDOW_HALF_WIDTH_SD = 2.0
#: Default numbers of annuli (radial check) and G bins (membership check), equal counts.
DEFAULT_ANNULI = 5
DEFAULT_MAGNITUDE_BINS = 5
#: Units of the window's observables.
WINDOW_UNITS = {"parallax": "mas", "pmra": "mas/yr", "pmdec": "mas/yr"}
#: The JSON keys of the two checks in a ppc result.
RADIAL_KEY = "radial_window"
MAGNITUDE_KEY = "membership_by_magnitude"
#: A true member count further than this many expected sd from Sigma p is flagged (95%).
TRUTH_Z = 1.96
#: Child stream of the check's seed for the replicated member counts (the replicates and
#: the draws use the seed itself, so adding this check changed none of them).
MEMBER_STREAM = 7


@dataclass(frozen=True)
class LocalInputs:
    """Per-star values the local checks need beyond the model's data, each (n_star,) in the
    order of the data's ``source_id`` (None when not available).

    ``separation_arcmin``: distance from the cone centre (arcmin), the catalogue's mask
    column; ``phot_g_mean_mag``: G (mag); ``p_cluster``: membership probability (the fit's
    membership file); ``true_member``: simulated membership (truth.json).
    """

    separation_arcmin: np.ndarray | None = None
    phot_g_mean_mag: np.ndarray | None = None
    p_cluster: np.ndarray | None = None
    true_member: np.ndarray | None = None


# ------------------------------------------------------------------ the window


def predictive_part(model: str) -> ModuleType:
    """Model ``model``'s NumPy module of what its posterior predictive checks compare
    (``clustermix.models.<model>.predictive``): ``QUANTITIES``, ``OBS_QUANTITIES``,
    ``observed_quantities`` and, for the local checks, ``WINDOW_GROUPS`` (the window's
    observables, grouped; empty for a model with no cluster), ``REPLICATES_POSITIONS`` and,
    for a cluster model, ``cluster_spread_draws``. Loads no PyMC."""
    return get_model_part(model, "predictive")


def has_cluster_window(model: str) -> bool:
    """Whether ``model`` has a cluster, so a window (and memberships) to check locally."""
    return bool(predictive_part(model).WINDOW_GROUPS)


def cluster_spread_draws(model: str, posterior: xr.Dataset) -> dict[str, tuple[np.ndarray, ...]]:
    """Per window observable, the draws (n_draw,) of the cluster's centre and intrinsic sd
    (mas or mas/yr), by ``model``'s own ``cluster_spread_draws``."""
    if not has_cluster_window(model):
        raise ValueError(f"model '{model}' has no cluster window")
    return predictive_part(model).cluster_spread_draws(posterior)


def cluster_window(
    model: str,
    posterior: xr.Dataset,
    data: Mapping[str, np.ndarray],
    half_width_sd: float = WINDOW_HALF_WIDTH_SD,
) -> dict[str, Any]:
    """The posterior-median cluster's window in ``model``'s observables.

    Returns ``half_width_sd``, ``groups`` (lists of observables; two make an ellipse) and
    per observable ``centre``, ``intrinsic_sd``, ``median_error`` and ``sd`` (mas or
    mas/yr, sd = sqrt(intrinsic_sd^2 + median_error^2)) and its ``unit``.
    """
    observables = {}
    for name, (centre, spread) in cluster_spread_draws(model, posterior).items():
        intrinsic = float(np.median(spread))
        error = float(np.median(np.asarray(data[f"{name}_error"], float)))
        observables[name] = {
            "unit": WINDOW_UNITS[name],
            "centre": float(np.median(centre)),
            "intrinsic_sd": intrinsic,
            "median_error": error,
            "sd": float(np.hypot(intrinsic, error)),
        }
    return {
        "half_width_sd": float(half_width_sd),
        "groups": [list(group) for group in predictive_part(model).WINDOW_GROUPS],
        "observables": observables,
    }


def in_window(values: Mapping[str, np.ndarray], window: Mapping[str, Any]) -> np.ndarray:
    """Whether each value set lies in ``window`` (:func:`cluster_window`): every group's
    sum of squared standardised offsets at most half_width_sd^2. ``values``: arrays of
    one shape per observable; returns a boolean array of that shape."""
    limit = float(window["half_width_sd"]) ** 2
    inside: np.ndarray | None = None
    for group in window["groups"]:
        distance = sum(
            (
                (np.asarray(values[name], float) - window["observables"][name]["centre"])
                / window["observables"][name]["sd"]
            )
            ** 2
            for name in group
        )
        group_inside = np.asarray(distance <= limit)
        inside = group_inside if inside is None else inside & group_inside
    if inside is None:
        raise ValueError("the window has no observables")
    return inside


# ------------------------------------------------------------------ counting


def equal_count_edges(values: np.ndarray, n_bins: int, low: float | None = None) -> np.ndarray:
    """``n_bins`` + 1 edges at the quantiles of ``values`` (any shape, pooled, finite only):
    the outer edges are ``low`` (default the smallest value) and the largest value."""
    finite = np.asarray(values, float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        raise ValueError("no finite values to bin")
    edges = np.quantile(finite, np.linspace(0.0, 1.0, int(n_bins) + 1))
    if low is not None:
        edges[0] = min(float(low), edges[0])
    return edges


def bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The bin (0 .. n_bins - 1) of each value: inner edges split the bins, values outside
    the outer edges go to the first or last bin (-1 for NaN)."""
    values = np.asarray(values, float)
    index = np.searchsorted(edges[1:-1], values, side="right")
    return np.where(np.isfinite(values), index, -1)


def counts_per_bin(index: np.ndarray, n_bins: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts (or sums of ``weights``) per bin along the last axis: (..., n_star) indices
    (-1: not counted) give (..., n_bins)."""
    index = np.asarray(index)
    flat = index.reshape(-1, index.shape[-1])
    use = flat >= 0
    rows = np.broadcast_to(np.arange(flat.shape[0])[:, None], flat.shape)
    weight = (
        np.ones(flat.shape)
        if weights is None
        else np.broadcast_to(np.asarray(weights, float), index.shape).reshape(flat.shape)
    )
    counts = np.bincount(
        (rows * n_bins + flat)[use], weights=weight[use], minlength=flat.shape[0] * n_bins
    )
    return counts.reshape(*index.shape[:-1], n_bins)


def two_sided_p_values(observed: np.ndarray, replicated: np.ndarray) -> np.ndarray:
    """Per bin, min(1, 2 min(P(rep >= obs), P(rep <= obs))) over the replicated draws
    (``replicated`` (n_draw, n_bins), ``observed`` (n_bins,))."""
    upper = np.mean(replicated >= observed, axis=0)
    lower = np.mean(replicated <= observed, axis=0)
    return np.minimum(1.0, 2.0 * np.minimum(upper, lower))


def band(replicated: np.ndarray) -> dict[str, list[float]]:
    """Mean and the 2.5, 50 and 97.5 percentiles over draws (axis 0), per bin."""
    low, median, high = np.percentile(replicated, BAND_PERCENTILES, axis=0)
    return {
        "replicated_mean": replicated.mean(axis=0).tolist(),
        "replicated_q2.5": low.tolist(),
        "replicated_q50": median.tolist(),
        "replicated_q97.5": high.tolist(),
    }


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> list[float]:
    """numerator / denominator, NaN where the denominator is 0 (None in the JSON)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(denominator > 0, numerator / np.maximum(denominator, 1e-300), np.nan)
    return ratio.tolist()


def skipped(reason: str) -> dict[str, Any]:
    """The entry of a check that could not be made, with its reason."""
    return {"status": "skipped", "reason": reason}


# ------------------------------------------------------------------ check 1: radius


def radial_window_check(
    observed: Mapping[str, np.ndarray],
    replicated: Mapping[str, np.ndarray],
    window: Mapping[str, Any],
    radius_observed: np.ndarray,
    radius_replicated: np.ndarray,
    *,
    n_annuli: int = DEFAULT_ANNULI,
) -> dict[str, Any]:
    """Observed against replicated counts of stars in ``window`` per annulus.

    ``observed``: the window's observables (n_star,); ``replicated``: the same (n_draw,
    n_star); ``radius_observed`` (n_star,) and ``radius_replicated`` (n_draw, n_star, or
    (n_star,) when the replicates keep each star's position), arcmin. Returns ``edges``
    (arcmin), per annulus ``n_stars`` (observed, all stars), ``observed`` (window counts),
    the replicated band (:func:`band`), ``ratio`` (observed / replicated mean) and
    ``p_values`` (two-sided), and the summary ``chi2_observed``, ``chi2_replicated``,
    ``p_value`` and ``n_annuli_low`` (annuli with p below :data:`LOW_P_VALUE`).
    """
    names = [name for group in window["groups"] for name in group]
    radius_observed = np.asarray(radius_observed, float)
    n_draws = np.asarray(replicated[names[0]]).shape[0]
    radius_rep = np.broadcast_to(
        np.asarray(radius_replicated, float), (n_draws, radius_observed.size)
    )
    edges = equal_count_edges(radius_rep, n_annuli, low=0.0)
    edges[-1] = max(edges[-1], float(np.nanmax(radius_observed)))
    index_obs = bin_index(radius_observed, edges)
    index_rep = bin_index(radius_rep, edges)
    inside_obs = in_window(observed, window)
    inside_rep = in_window(replicated, window)
    stars = counts_per_bin(index_obs, n_annuli)
    counts_obs = counts_per_bin(np.where(inside_obs, index_obs, -1), n_annuli)
    counts_rep = counts_per_bin(np.where(inside_rep, index_rep, -1), n_annuli)
    expected = counts_rep.mean(axis=0)
    t_obs = float(chi_square(counts_obs, expected))
    t_rep = chi_square(counts_rep, expected)
    p_values = two_sided_p_values(counts_obs, counts_rep)
    return {
        "status": "done",
        "n_annuli": int(n_annuli),
        "n_draws": int(n_draws),
        "edges": edges.tolist(),
        "n_stars": stars.tolist(),
        "observed": counts_obs.tolist(),
        **band(counts_rep),
        "ratio": _ratio(counts_obs, expected),
        "p_values": p_values.tolist(),
        **chi_square_summary(t_obs, t_rep),
        "n_annuli_low": int(np.sum(p_values < LOW_P_VALUE)),
    }


def radial_inputs(
    model: str,
    observed: Mapping[str, np.ndarray],
    replicated: Mapping[str, np.ndarray],
    inputs: LocalInputs,
) -> tuple[np.ndarray, np.ndarray, str] | str:
    """(observed radii, replicated radii, what the radius is) for ``model``, or the reason
    the radial check cannot be made."""
    if predictive_part(model).REPLICATES_POSITIONS:
        return (
            observed["radius"],
            replicated["radius"],
            "tangent-plane distance from the cone centre, redrawn with each replicate",
        )
    if inputs.separation_arcmin is None:
        return (
            f"model '{model}' has no positions and the data carry no separation_arcmin "
            "(the sky-mask column), so no star has a radius"
        )
    separation = np.asarray(inputs.separation_arcmin, float)
    return (
        separation,
        separation,
        "catalogue separation_arcmin from the cone centre, the same for every replicate "
        "(the model has no positions)",
    )


# ------------------------------------------------------------------ check 2: magnitude


def membership_by_magnitude(
    g_mag: np.ndarray,
    p_cluster: np.ndarray,
    f_draws: np.ndarray,
    rng: np.random.Generator,
    *,
    true_member: np.ndarray | None = None,
    n_bins: int = DEFAULT_MAGNITUDE_BINS,
) -> dict[str, Any]:
    """Sigma p per G bin against the replicated member counts (and the true ones).

    ``g_mag`` (mag), ``p_cluster`` and ``true_member`` (bool): (n_star,) for the model's
    stars (stars without a finite G are left out and counted in ``n_no_magnitude``);
    ``f_draws`` (n_draw,): the cluster fraction of each replicated posterior draw. Returns
    ``edges`` (mag), per bin ``n_stars``, ``sum_p``, the replicated band of the member
    counts (:func:`band`), ``ratio`` (sum_p / replicated mean), ``flagged`` (sum_p outside
    the replicated 2.5-97.5 percentile range) and ``n_flagged``; with ``true_member``, a
    ``truth`` entry with ``n_members``, ``ratio`` (sum_p / n_members), ``expected_sd``
    (sqrt(sum p (1 - p)), the scatter of the true count given calibrated memberships) and
    ``flagged`` / ``n_flagged``: bins whose true count is outside sum_p +- 1.96
    expected_sd (the normal approximation of its 95% range).
    """
    g_mag = np.asarray(g_mag, float)
    p_cluster = np.asarray(p_cluster, float)
    if g_mag.shape != p_cluster.shape:
        raise ValueError(f"{g_mag.shape} magnitudes for {p_cluster.shape} probabilities")
    edges = equal_count_edges(g_mag, n_bins)
    index = bin_index(g_mag, edges)
    stars = counts_per_bin(index, n_bins)
    sum_p = counts_per_bin(index, n_bins, weights=np.nan_to_num(p_cluster))
    f_draws = np.clip(np.asarray(f_draws, float), 0.0, 1.0)
    members_rep = rng.binomial(stars[None, :].astype(np.int64), f_draws[:, None]).astype(float)
    low, high = np.percentile(members_rep, [BAND_PERCENTILES[0], BAND_PERCENTILES[-1]], axis=0)
    flagged = (sum_p < low) | (sum_p > high)
    result: dict[str, Any] = {
        "status": "done",
        "n_bins": int(n_bins),
        "n_draws": int(f_draws.size),
        "n_no_magnitude": int(np.sum(index < 0)),
        "edges": edges.tolist(),
        "n_stars": stars.tolist(),
        "sum_p": sum_p.tolist(),
        **band(members_rep),
        "ratio": _ratio(sum_p, members_rep.mean(axis=0)),
        "flagged": flagged.tolist(),
        "n_flagged": int(flagged.sum()),
    }
    if true_member is not None:
        true_member = np.asarray(true_member, bool)
        n_true = counts_per_bin(np.where(true_member, index, -1), n_bins)
        variance = counts_per_bin(index, n_bins, weights=np.nan_to_num(p_cluster * (1 - p_cluster)))
        expected_sd = np.sqrt(variance)
        truth_flagged = np.abs(n_true - sum_p) > TRUTH_Z * expected_sd
        result["truth"] = {
            "n_members": n_true.tolist(),
            "ratio": _ratio(sum_p, n_true),
            "expected_sd": expected_sd.tolist(),
            "flagged": truth_flagged.tolist(),
            "n_flagged": int(truth_flagged.sum()),
        }
    return result


# ------------------------------------------------------------------ both checks


def local_checks(
    model: str,
    data: Mapping[str, np.ndarray],
    posterior: xr.Dataset,
    thinned: xr.Dataset,
    observed: Mapping[str, np.ndarray],
    replicated: Mapping[str, np.ndarray],
    inputs: LocalInputs | None,
    *,
    seed: int,
    n_annuli: int = DEFAULT_ANNULI,
    n_magnitude_bins: int = DEFAULT_MAGNITUDE_BINS,
) -> dict[str, dict[str, Any]]:
    """Both local checks of one fit: ``{RADIAL_KEY: ..., MAGNITUDE_KEY: ...}``, each
    ``status`` "done" or "skipped" (with its ``reason``).

    ``posterior``: all draws (the window is the posterior median); ``thinned``: the
    replicated draws; ``observed`` and ``replicated``: :mod:`clustermix.checks.ppc`'s quantities
    (n_star,) and (n_draw, n_star); ``inputs``: the per-star extras; ``seed``: the check's
    seed (the member counts use its child stream :data:`MEMBER_STREAM`).
    """
    inputs = inputs or LocalInputs()
    if not has_cluster_window(model):
        reason = f"model '{model}' is not a cluster model: no cluster window, no memberships"
        return {RADIAL_KEY: skipped(reason), MAGNITUDE_KEY: skipped(reason)}
    window = cluster_window(model, posterior, data)
    radii = radial_inputs(model, observed, replicated, inputs)
    if isinstance(radii, str):
        radial = {**skipped(radii), "window": window}
    else:
        radius_obs, radius_rep, what = radii
        radial = {
            "spatial_model": bool(predictive_part(model).REPLICATES_POSITIONS),
            "radius": what,
            "window": window,
            **radial_window_check(
                observed, replicated, window, radius_obs, radius_rep, n_annuli=n_annuli
            ),
        }
    if inputs.p_cluster is None:
        magnitude = skipped("no membership probabilities (the fit's membership file)")
    elif inputs.phot_g_mean_mag is None:
        magnitude = skipped("the catalogue has no phot_g_mean_mag")
    else:
        magnitude = membership_by_magnitude(
            inputs.phot_g_mean_mag,
            inputs.p_cluster,
            draw_values(thinned, "f_cluster"),
            np.random.default_rng([int(seed), MEMBER_STREAM]),
            true_member=inputs.true_member,
            n_bins=n_magnitude_bins,
        )
    return {RADIAL_KEY: radial, MAGNITUDE_KEY: magnitude}


# ------------------------------------------------------------------ inputs from files


def aligned(
    source_id: np.ndarray, table_ids: np.ndarray, values: np.ndarray, what: str
) -> np.ndarray:
    """``values`` (one per ``table_ids``) in the order of ``source_id``; raises
    :class:`InputDataError` naming ``what`` if a star of ``source_id`` is missing."""
    source_id = np.asarray(source_id, np.int64)
    table_ids = np.asarray(table_ids, np.int64)
    order = np.argsort(table_ids)
    position = np.searchsorted(table_ids, source_id, sorter=order).clip(0, len(table_ids) - 1)
    rows = order[position]
    missing = int(np.sum(table_ids[rows] != source_id)) if len(table_ids) else len(source_id)
    if missing:
        raise InputDataError(f"{what}: {missing} of the fit's {len(source_id)} stars are missing")
    return np.asarray(values)[rows]


def load_local_inputs(
    source_id: np.ndarray,
    *,
    catalog_path: PathLike | None = None,
    masks_path: PathLike | None = None,
    membership_path: PathLike | None = None,
    truth_path: PathLike | None = None,
) -> LocalInputs:
    """The per-star extras of the fit's stars ``source_id`` from the cleaned catalogue and
    masks (G, separation), the fit's membership file (``p_cluster``) and truth.json
    (``member_source_ids``); each is None when its file is not given."""
    separation = g_mag = p_cluster = true_member = None
    if catalog_path is not None and masks_path is not None:
        catalog = read_catalog_with_masks(catalog_path, masks_path)
        ids = np.asarray(catalog["source_id"], np.int64)
        for name in ("separation_arcmin", "phot_g_mean_mag"):
            if name in catalog.colnames:
                column = np.ma.filled(np.ma.asarray(catalog[name], float), np.nan)
                value = aligned(source_id, ids, column, f"{catalog_path} ({name})")
                if name == "separation_arcmin":
                    separation = value
                else:
                    g_mag = value
    if membership_path is not None:
        table = Table.read(membership_path)
        p_cluster = aligned(
            source_id,
            table["source_id"],
            np.asarray(table["p_cluster"], float),
            f"{membership_path} (rerun the fit)",
        )
    if truth_path is not None:
        truth = json.loads(Path(truth_path).read_text())
        if "member_source_ids" not in truth:
            raise InputDataError(f"{truth_path}: key 'member_source_ids' is missing")
        true_member = np.isin(
            np.asarray(source_id, np.int64), np.asarray(truth["member_source_ids"], np.int64)
        )
    return LocalInputs(separation, g_mag, p_cluster, true_member)


# ------------------------------------------------------------------ paper numbers


def _done(result: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    entry = result.get(key)
    return entry if isinstance(entry, Mapping) and entry.get("status") == "done" else None


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and np.isfinite(v)]


def _number(value: float | None, decimals: int = 2) -> str:
    """``value`` formatted, or an en dash when it is missing (None or NaN)."""
    if value is None or not np.isfinite(value):
        return "--"
    return format_number(float(value), decimals)


def local_macros(
    results: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The paper's macros for the local checks of ``results`` (ppc JSON), named like
    :func:`clustermix.checks.ppc.ppc_macros`'s.

    Per model with a radial check: ``\\Ppc<Model>RadialWindowPvalue`` (chi-square p) and
    ``\\Ppc<Model>RadialWindowInnerRatio`` (observed / replicated window count in the
    innermost annulus); per model with a magnitude check: ``\\Ppc<Model>MagnitudeFlagged``
    (bins outside the replicated 95% range), ``\\Ppc<Model>MagnitudeRatioMin`` /
    ``Max`` (Sigma p / replicated members) and, for simulated data,
    ``\\Ppc<Model>MagnitudeTruthRatioMin`` / ``Max`` (Sigma p / true members) and
    ``\\Ppc<Model>MagnitudeTruthFlagged`` (bins whose true count is outside Sigma p's
    95% range). Overall:
    ``\\PpcWindowSd``, ``\\PpcAnnuli``, ``\\PpcMagnitudeBins``, ``\\PpcRadialLowCount``,
    ``\\PpcMagnitudeFlaggedCount``, ``\\PpcMagnitudeBinsTotal`` and ``\\PpcLocalSummary``
    (sentences stating them; always defined, also when no check was possible).
    """
    labels = labels or {}
    macros: dict[str, str] = {
        "PpcWindowSd": format_number(WINDOW_HALF_WIDTH_SD, 0),
        "PpcAnnuli": str(DEFAULT_ANNULI),
        "PpcMagnitudeBins": str(DEFAULT_MAGNITUDE_BINS),
    }
    spatial: list[tuple[str, Mapping[str, Any]]] = []
    flat: list[tuple[str, Mapping[str, Any]]] = []
    magnitude: list[tuple[str, Mapping[str, Any]]] = []
    for result in results:
        model = result["model"]
        radial = _done(result, RADIAL_KEY)
        if radial is not None:
            macros["PpcAnnuli"] = str(radial["n_annuli"])
            n_draws = int(radial["n_draws"])
            macros[macro_name("ppc", model, "radial_window", "pvalue")] = format_p_value(
                radial["p_value"], n_draws
            )
            macros[macro_name("ppc", model, "radial_window", "inner_ratio")] = _number(
                radial["ratio"][0]
            )
            (spatial if radial.get("spatial_model") else flat).append((model, radial))
        by_mag = _done(result, MAGNITUDE_KEY)
        if by_mag is not None:
            macros["PpcMagnitudeBins"] = str(by_mag["n_bins"])
            macros[macro_name("ppc", model, "magnitude", "flagged")] = str(by_mag["n_flagged"])
            low, high = _range(by_mag["ratio"])
            macros[macro_name("ppc", model, "magnitude", "ratio_min")] = low
            macros[macro_name("ppc", model, "magnitude", "ratio_max")] = high
            truth = by_mag.get("truth")
            if truth:
                low, high = _range(truth["ratio"])
                macros[macro_name("ppc", model, "magnitude", "truth_ratio_min")] = low
                macros[macro_name("ppc", model, "magnitude", "truth_ratio_max")] = high
                macros[macro_name("ppc", model, "magnitude", "truth_flagged")] = str(
                    truth["n_flagged"]
                )
            magnitude.append((model, by_mag))
    radial_all = spatial + flat
    macros["PpcRadialLowCount"] = str(sum(c["p_value"] < LOW_P_VALUE for _, c in radial_all))
    macros["PpcMagnitudeFlaggedCount"] = str(sum(c["n_flagged"] for _, c in magnitude))
    macros["PpcMagnitudeBinsTotal"] = str(sum(c["n_bins"] for _, c in magnitude))
    macros["PpcLocalSummary"] = local_summary(spatial, flat, magnitude, macros, labels)
    return macros


def _range(values: Sequence[float | None]) -> tuple[str, str]:
    """The smallest and largest finite value, formatted (en dashes if there is none)."""
    finite = _finite(values)
    return (_number(min(finite)), _number(max(finite))) if finite else ("--", "--")


def _label(model: str, labels: Mapping[str, str]) -> str:
    return labels.get(model, model.replace("_", r"\_"))


def _p_math(check: Mapping[str, Any]) -> str:
    """``$p = 0.42$``, or ``$p < 0.005$`` when no replicate was as extreme."""
    text = format_p_value(check["p_value"], int(check["n_draws"]))
    below = r"\ensuremath{<}"
    if text.startswith(below):
        return f"$p < {text.removeprefix(below)}$"
    return f"$p = {text}$"


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def local_summary(
    spatial: Sequence[tuple[str, Mapping[str, Any]]],
    flat: Sequence[tuple[str, Mapping[str, Any]]],
    magnitude: Sequence[tuple[str, Mapping[str, Any]]],
    macros: Mapping[str, str],
    labels: Mapping[str, str],
) -> str:
    """Sentences on the local checks (LaTeX text): the radial window counts of the models
    with positions, then those without, then the summed memberships per G bin."""
    sentences = []
    if spatial:
        parts = [f"{_p_math(c)} under the {_label(m, labels)} model" for m, c in spatial]
        n_low = sum(c["p_value"] < LOW_P_VALUE for _, c in spatial)
        if n_low == 0:
            verdict = "follow the replicated ones"
        elif len(spatial) == 1:
            verdict = "depart from the replicated ones"
        else:
            verdict = f"depart from the replicated ones in {n_low} of {len(spatial)} fits"
        sentences.append(
            f"The counts in the cluster's window per annulus {verdict} ({_listing(parts)})."
        )
    if flat:
        names = _listing([_label(m, labels) for m, _ in flat])
        p_values = _listing([_p_math(c) for _, c in flat])
        inner = _listing([_number(c["ratio"][0]) for _, c in flat])
        sentences.append(
            "The models without positions predict the same fraction of stars in the window "
            "at every radius, so for them a low $p$ with an excess in the inner annuli shows "
            f"a concentrated cluster rather than a misfit: {p_values} for the {names} "
            f"model{'s' if len(flat) > 1 else ''}, with {inner} times the replicated count "
            f"in the innermost annulus{', respectively' if len(flat) > 1 else ''}."
        )
    if magnitude:
        flagged = int(macros["PpcMagnitudeFlaggedCount"])
        total = int(macros["PpcMagnitudeBinsTotal"])
        low, high = _range([r for _, c in magnitude for r in c["ratio"]])
        text = (
            "The summed membership probabilities per $G$ bin lie outside the replicated "
            f"95\\% range of the member counts in {'none' if flagged == 0 else flagged} of "
            f"the {total} bins ({low} to {high} times the replicated mean)"
        )
        if flagged:
            text += (
                ", a sign that the fraction of members changes with magnitude, which the "
                "models take as constant"
            )
        with_truth = [c["truth"] for _, c in magnitude if c.get("truth")]
        true_ratios = [r for truth in with_truth for r in truth["ratio"]]
        if _finite(true_ratios):
            low, high = _range(true_ratios)
            off = sum(truth["n_flagged"] for truth in with_truth)
            n_bins = sum(len(truth["ratio"]) for truth in with_truth)
            text += (
                f"; they are {low} to {high} times the numbers of simulated members, which "
                f"lie outside their 95\\% range in {'none' if off == 0 else off} of "
                f"{n_bins} bins"
            )
        sentences.append(text + ".")
    if not sentences:
        return "No fit could be checked locally."
    return " ".join(sentences)

"""Calibration benchmark: interval coverage, f pulls and membership reliability over seeds.

For each of ``--seeds`` seeds and each field configuration, a field is simulated (the
bundled simulator), cleaned and masked as the workflow does, and every cluster model is
fitted exactly as a workflow fit is (:func:`clustermix.fit.run.fit_catalog`: K chosen on
the control field, the mode search, every chain checked). Recorded per fit: for every
cluster quantity, whether the simulator's truth lies inside the central 68% and 95%
intervals; the pull of f, (posterior mean - true member fraction) / posterior sd; and each
star's membership probability with its true label, for a reliability diagram (fraction of
true members per bin of p). Besides the model's quantities, ``n_members``: the posterior of
the realised number of members among the fitted stars
(:func:`clustermix.fit.membership.member_count_draws`), against the true count.

f is the probability that a star of the population is a member, not the realised fraction
n / N of the N fitted stars (the simulator draws a fixed number of members): f's posterior
also holds the binomial spread of a population fraction, so its intervals cover n / N more
often than they claim (:func:`expected_f_pull_sd`). f's coverage is therefore taken against
the population fraction of which the fitted stars' true labels are a sample: given n
members among N stars, that truth is distributed as Beta(n + 1, N - n + 1) (a uniform prior;
the models' own priors on f move it by much less than its spread at N of a few hundred or
more), and a fit's coverage is the probability that this truth falls in its interval
(:func:`population_fraction_record`). The f pulls stay against n / N. A fit that stops with a
:class:`~clustermix.errors.ModeError` is counted as such (it returned no number).

Configurations (both at the NGC 6819 position, fields of a few thousand stars):

``default``
    The default simulated field of ``config/config.yaml`` scaled down (members and field
    stars by ``--scale``), NGC 6819's parameters.
``hard``
    A poor, distant cluster (2.5% of the stars) moving with the field's bulk, in a wide
    (40') cone, with a richer second cluster 27' away, two comoving clumps, unresolved
    binaries and uncertainties underestimated by 20%.

Results go to ``--json`` (every fit) and ``--markdown`` (coverage per model and quantity,
f pulls, the reliability table); ``bench/README.md`` holds a measured run.

Usage (from the repository root)::

    .venv/bin/python bench/calibration.py --seeds 20 --json bench/calibration.json \\
        --markdown bench/calibration.md
    .venv/bin/python bench/calibration.py --seeds 2 --models pm_2d --quick   # smoke test

The systematic floors that ``summary_quantities`` adds as seeded draws are set to zero:
the simulator has no systematics, and they would widen the intervals.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from clustermix.checks.calibration import F_TRUTH_POPULATION  # noqa: E402
from clustermix.data.hard_fields import hard_field  # noqa: E402
from clustermix.data.prepared import prepared_field  # noqa: E402
from clustermix.errors import ModeError  # noqa: E402
from clustermix.fit.diagnostics import fit_diagnostics  # noqa: E402
from clustermix.fit.field_uncertainty import field_arrays, field_uncertainty_of_fit  # noqa: E402
from clustermix.fit.membership import member_count_draws, membership_statistics  # noqa: E402
from clustermix.fit.run import fit_catalog  # noqa: E402
from clustermix.models import CLUSTER_MODEL_NAMES  # noqa: E402
from clustermix.models.registry import get_model, model_options, sampling_settings  # noqa: E402

CONFIG_PATH = REPO / "config" / "config.yaml"
SAMPLING = {"backend": "pymc", "chains": 2, "draws": 500, "tune": 500, "target_accept": 0.9}
QUICK_SAMPLING = {"backend": "pymc", "chains": 2, "draws": 150, "tune": 150}
NO_SYSTEMATICS = {"parallax_systematic_mas": 0.0, "pm_systematic_masyr": 0.0}
P_BINS = np.linspace(0.0, 1.0, 6)  # width 0.2
G_MAX = 19.0
HARD_BINARY_FRACTION = 0.3  # unresolved binaries among the hard field's members
HARD_ERRORS = 1.2  # true / quoted uncertainties on the hard field
#: Bootstrap fields of the control annulus behind ``n_members`` (0: the field held fixed).
FIELD_BOOTSTRAP = 20


def default_field(seed: int, scale: float) -> dict[str, Any]:
    """Simulation keywords of the default field, scaled down by ``scale``."""
    cluster = yaml.safe_load(CONFIG_PATH.read_text())["clusters"][0]
    simulation = dict(cluster["simulation"])
    simulation.update(
        seed=seed,
        n_members=round(simulation["n_members"] * scale),
        n_field=round(simulation["n_field"] * scale),
        g_max_mag=G_MAX,
    )
    return {
        "ra_deg": cluster["ra_deg"],
        "dec_deg": cluster["dec_deg"],
        "radius_arcmin": cluster["radius_arcmin"],
        **simulation,
    }


def hard_configuration(seed: int, scale: float) -> dict[str, Any]:
    """The field built to break the models (:mod:`clustermix.data.hard_fields`), with 30%
    unresolved binaries and uncertainties underestimated by 20%."""
    return hard_field(
        seed,
        n_members=round(80 * scale / 0.15),
        n_field=round(3100 * scale / 0.15),
        neighbour_members=round(200 * scale / 0.15),
        g_max_mag=G_MAX,
        binary_fraction=HARD_BINARY_FRACTION,
        error_underestimate=HARD_ERRORS,
    )


CONFIGURATIONS = {"default": default_field, "hard": hard_configuration}
#: True / quoted uncertainties per configuration (the oracle weighs by the true ones).
ERROR_SCALES = {"default": 1.0, "hard": HARD_ERRORS}
#: The quantities the oracle covers: the parallax and what is monotone in it.
ORACLE_QUANTITIES = ("parallax", "distance")


def oracle_parallax(catalog: Any, truth: Mapping[str, Any], error_scale: float) -> dict[str, Any]:
    """What the data hold on the cluster's parallax, whatever the model.

    The inverse-variance weighted mean (mas) of the true members' parallaxes in the cleaned
    ``catalog``, weighted by their true uncertainties (quoted x ``error_scale``), and its
    sd; with whether the central 68% and 95% intervals of N(mean, sd^2) cover the truth.
    The simulated members have no parallax spread of their own (< 0.001 mas), so no
    estimator does better: over many seeds its 95% interval covers the truth 95% of the
    time (2,000 hard-field seeds: 0.948), while over a few it shows how far the
    realisations themselves stray. A model whose coverage is below 95% on seeds where the
    oracle's is too is paying for the seeds, not for a fault of its own.
    """
    members = np.isin(
        np.asarray(catalog["source_id"]), np.asarray(truth["member_source_ids"], np.int64)
    )
    parallax = np.asarray(catalog["parallax"], float)[members]
    weight = (error_scale * np.asarray(catalog["parallax_error"], float)[members]) ** -2
    mean = float(np.sum(weight * parallax) / np.sum(weight))
    sd = float(np.sum(weight) ** -0.5)
    pull = (mean - float(truth["parallax"])) / sd
    return {
        "mean": mean,
        "sd": sd,
        "truth": float(truth["parallax"]),
        "in_68": bool(abs(pull) <= 0.9945),
        "in_95": bool(abs(pull) <= 1.95996),
    }


#: The central intervals' bounds, as quantiles (68%: 0.16-0.84, 95%: 0.025-0.975).
INTERVAL_QUANTILES = (0.025, 0.16, 0.84, 0.975)


def interval_record(draws: np.ndarray, truth: float) -> dict[str, Any]:
    """Posterior mean and sd, the central intervals' bounds (``quantiles``, at
    :data:`INTERVAL_QUANTILES`), and whether ``truth`` is inside the central 68% and 95%."""
    flat = np.asarray(draws, float).ravel()
    q = np.quantile(flat, INTERVAL_QUANTILES)
    return {
        "mean": float(flat.mean()),
        "sd": float(flat.std()),
        "truth": float(truth),
        "quantiles": [float(v) for v in q],
        "in_68": bool(q[1] <= truth <= q[2]),
        "in_95": bool(q[0] <= truth <= q[3]),
    }


def population_fraction_record(draws: np.ndarray, n_members: int, n_stars: int) -> dict[str, Any]:
    """The record of f (the population's member fraction) against its truth given the labels.

    ``draws``: f's posterior draws; ``n_members`` of the ``n_stars`` fitted stars are true
    members. The labels are a binomial sample of a population whose member fraction, given
    them (uniform prior), is distributed as Beta(n + 1, N - n + 1): ``in_68`` and ``in_95``
    are the probabilities (not booleans) that this truth lies in the central 68% and 95%
    intervals, so that their mean over fits is the intervals' coverage of the population
    fraction. ``truth`` is the realised fraction n / N (the pulls' reference), and
    ``in_68_realised``, ``in_95_realised`` say whether n / N is inside."""
    record = interval_record(draws, n_members / n_stars)
    in_68, in_95 = population_fraction_coverage(record["quantiles"], n_members, n_stars)
    record.update(
        in_68_realised=record["in_68"],
        in_95_realised=record["in_95"],
        in_68=in_68,
        in_95=in_95,
        n_members=int(n_members),
        n_stars=int(n_stars),
    )
    return record


def population_fraction_coverage(
    quantiles: Sequence[float], n_members: int, n_stars: int
) -> tuple[float, float]:
    """The probabilities that the population's member fraction, given ``n_members`` true
    members among ``n_stars`` (Beta(n + 1, N - n + 1)), lies in the central 68% and 95%
    intervals whose bounds are ``quantiles`` (at :data:`INTERVAL_QUANTILES`)."""
    from scipy import stats

    cdf = stats.beta(n_members + 1, n_stars - n_members + 1).cdf(np.asarray(quantiles, float))
    return float(cdf[2] - cdf[1]), float(cdf[3] - cdf[0])


def fit_one(
    model_name: str,
    catalog: Any,
    truth: Mapping[str, Any],
    sampling: Mapping[str, Any],
    seed: int,
    field_bootstrap: int = FIELD_BOOTSTRAP,
    recentre: bool | str = "auto",
    model_overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One workflow-like fit; its coverage record, f pull and memberships.

    For a model whose field is learned on the control annulus and held fixed, and
    ``field_bootstrap`` > 0, ``n_members`` and the memberships ``p`` carry the field's
    uncertainty (:mod:`clustermix.fit.field_uncertainty`, that many bootstrap fields, the
    draws moved with the posterior's mode per field as ``recentre`` says);
    the fixed field's are kept beside them as ``n_members_fixed_field`` and
    ``p_fixed_field``, with the method's ``field_uncertainty`` diagnostics and its
    ``field_bootstrap_seconds``. ``model_overrides``: options of the model set besides
    the defaults (e.g. ``{"cmd_term": True}``)."""
    module = get_model(model_name)
    overrides = {
        key: value for key, value in NO_SYSTEMATICS.items() if key in module.DEFAULT_OPTIONS
    }
    overrides.update(model_overrides or {})
    options = model_options(module, overrides)
    started = time.perf_counter()
    try:
        fit = fit_catalog(module, options, catalog, {**sampling, "seed": seed}, source="sim")
    except ModeError as err:
        return {"model": model_name, "status": "no cluster mode", "message": str(err)}
    seconds = time.perf_counter() - started
    if fit.mode_error is not None:
        return {
            "model": model_name,
            "status": "chains left the mode",
            "seconds": seconds,
            "message": str(fit.mode_error),
        }
    quantities = module.summary_quantities(fit.idata.posterior, fit.data, fit.options)
    truths = module.true_values(dict(truth), fit.data)
    records = {
        name: interval_record(quantities[name].values, truths[name])
        for name in quantities
        if name in truths
    }
    mean, _ = membership_statistics(fit.model, fit.idata)
    members = np.isin(fit.data["source_id"], np.asarray(truth["member_source_ids"], np.int64))
    n_true = np.count_nonzero(members)
    records["f_cluster"] = population_fraction_record(
        quantities["f_cluster"].values, n_true, members.size
    )
    f = records["f_cluster"]
    records["n_members"] = interval_record(member_count_draws(fit.model, fit.idata, seed), n_true)
    extra: dict[str, Any] = {}
    if field_bootstrap > 0 and field_arrays(fit.data):
        started = time.perf_counter()
        result = field_uncertainty_of_fit(
            module,
            fit,
            catalog,
            n_boot=field_bootstrap,
            seed=seed,
            source="sim",
            recentre=recentre,
        )
        records["n_members_fixed_field"] = records["n_members"]
        records["n_members"] = interval_record(result.count_draws(seed), n_true)
        extra = {
            "p_fixed_field": [float(v) for v in mean],
            "field_uncertainty": result.diagnostics(),
            "field_bootstrap_seconds": time.perf_counter() - started,
        }
        mean = result.membership
    gate = fit_diagnostics(fit.idata, quantities)
    return {
        "model": model_name,
        "status": "ok",
        "seconds": seconds,
        "draws_kept": int(fit.idata.posterior.sizes["draw"]),
        "gate": {
            "r_hat_max": gate["cluster"]["r_hat_max"],
            "ess_bulk_min": gate["cluster"]["ess_bulk_min"],
            "divergences": gate["divergences"],
        },
        "n_field_components": fit.options.get("n_field_components"),
        "quantities": records,
        "f_pull": (f["mean"] - f["truth"]) / f["sd"],
        "p": [float(v) for v in mean],
        "member": [bool(v) for v in members],
        **extra,
    }


def count_pull_table(fits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration, model and member-count quantity (``n_members``, and
    ``n_members_fixed_field`` where the field's uncertainty was propagated): the pulls
    (mean - truth) / sd over fits, their mean and sd (0 and 1 if calibrated)."""
    groups: dict[tuple[str, str, str], list[float]] = {}
    for fit in fits:
        for name, record in fit.get("quantities", {}).items():
            if name.startswith("n_members") and record["sd"] > 0:
                key = (fit["configuration"], fit["model"], name)
                pull = (record["mean"] - record["truth"]) / record["sd"]
                groups.setdefault(key, []).append(pull)
    return [
        {
            "configuration": configuration,
            "model": model,
            "quantity": name,
            "fits": len(pulls),
            "pull_mean": float(np.mean(pulls)),
            "pull_sd": float(np.std(pulls)),
        }
        for (configuration, model, name), pulls in sorted(groups.items())
    ]


def coverage_table(fits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration, model and quantity: fits, coverage of the 68% and 95% intervals;
    for the parallax and distance also the oracle's over the same seeds
    (:func:`oracle_parallax`), when every fit carries it."""
    groups: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    oracles: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for fit in fits:
        for name, record in fit.get("quantities", {}).items():
            key = (fit["configuration"], fit["model"], name)
            groups.setdefault(key, []).append(record)
            if name in ORACLE_QUANTITIES and "oracle_parallax" in fit:
                oracles.setdefault(key, []).append(fit["oracle_parallax"])
    rows = []
    for key, records in sorted(groups.items()):
        configuration, model, name = key
        row = {
            "configuration": configuration,
            "model": model,
            "quantity": name,
            "fits": len(records),
            "coverage_68": float(np.mean([r["in_68"] for r in records])),
            "coverage_95": float(np.mean([r["in_95"] for r in records])),
        }
        if len(oracles.get(key, [])) == len(records):
            row["oracle_coverage_68"] = float(np.mean([r["in_68"] for r in oracles[key]]))
            row["oracle_coverage_95"] = float(np.mean([r["in_95"] for r in oracles[key]]))
        rows.append(row)
    return rows


def reliability_table(fits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration and model: per p bin of width 0.2, stars, mean p and the fraction
    of true members (a calibrated membership has the two equal)."""
    rows = []
    keys = sorted({(fit["configuration"], fit["model"]) for fit in fits if "p" in fit})
    for configuration, model in keys:
        chosen = [f for f in fits if (f["configuration"], f["model"]) == (configuration, model)]
        p = np.concatenate([np.asarray(f["p"]) for f in chosen if "p" in f])
        member = np.concatenate([np.asarray(f["member"]) for f in chosen if "p" in f])
        index = np.clip(np.digitize(p, P_BINS) - 1, 0, len(P_BINS) - 2)
        for b in range(len(P_BINS) - 1):
            inside = index == b
            rows.append(
                {
                    "configuration": configuration,
                    "model": model,
                    "p_bin": f"[{P_BINS[b]:.1f}, {P_BINS[b + 1]:.1f})",
                    "stars": int(inside.sum()),
                    "mean_p": float(p[inside].mean()) if inside.any() else None,
                    "member_fraction": float(member[inside].mean()) if inside.any() else None,
                }
            )
    return rows


#: A fit that returned a number "took another cluster" when the truth of a quantity that
#: locates the cluster lies this many posterior sd from its posterior mean or more.
ANOTHER_CLUSTER_SD = 10.0
LOCATING_QUANTITIES = ("parallax", "pmra", "pmdec")


def took_another_cluster(fit: Mapping[str, Any]) -> bool:
    """Whether a fit that returned a number located another cluster than the simulated one:
    its parallax or proper motion :data:`ANOTHER_CLUSTER_SD` posterior sd or more from the
    truth (the neighbour cluster of the hard field sits 50-90 sd away; a calibrated fit
    misses by more than 4 sd once in 15,000)."""
    if fit.get("status") != "ok":
        return False
    for name in LOCATING_QUANTITIES:
        record = fit.get("quantities", {}).get(name)
        if record and record["sd"] > 0:
            if abs(record["mean"] - record["truth"]) >= ANOTHER_CLUSTER_SD * record["sd"]:
                return True
    return False


def outcome_table(fits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration and model: fits, those that returned a number (and of those, the
    ones that took another cluster: :func:`took_another_cluster`), those stopped before
    sampling (no cluster-like mode) and after (chains left the mode), median s."""
    rows = []
    for configuration in CONFIGURATIONS:
        for model in CLUSTER_MODEL_NAMES:
            chosen = [f for f in fits if (f["configuration"], f["model"]) == (configuration, model)]
            if chosen:
                status = [f["status"] for f in chosen]
                seconds = [f["seconds"] for f in chosen if "seconds" in f]
                rows.append(
                    {
                        "configuration": configuration,
                        "model": model,
                        "fits": len(chosen),
                        "ok": status.count("ok"),
                        "another_cluster": sum(took_another_cluster(f) for f in chosen),
                        "no_cluster_mode": status.count("no cluster mode"),
                        "chains_left": status.count("chains left the mode"),
                        "median_seconds": float(np.median(seconds)) if seconds else None,
                        "f_pull_mean": _mean([f.get("f_pull") for f in chosen]),
                        "f_pull_sd": _sd([f.get("f_pull") for f in chosen]),
                        "f_pull_sd_expected": _median([expected_f_pull_sd(f) for f in chosen]),
                    }
                )
    return rows


def expected_f_pull_sd(fit: Mapping[str, Any]) -> float | None:
    """The sd the f pulls of a calibrated fit should have here.

    The truth is the realised member fraction n / N of the fitted stars (the simulator
    draws a fixed number of members), while f is the probability that a star of the
    population is a member: its posterior is wider than what is known of n / N by the
    binomial spread f (1 - f) / N, which the seeds do not scatter by. So the pulls
    (mean - n / N) / sd have sd sqrt(1 - f (1 - f) / (N sd^2)) (< 1), and f's intervals
    cover more than they claim; the realised count's (``n_members``) should not."""
    if "f_pull" not in fit or "p" not in fit:
        return None
    record = fit["quantities"]["f_cluster"]
    binomial = record["truth"] * (1.0 - record["truth"]) / len(fit["p"])
    return float(np.sqrt(max(0.0, 1.0 - binomial / record["sd"] ** 2)))


def _median(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.median(kept)) if kept else None


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def _sd(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.std(kept)) if kept else None


def summary(fits: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The compact record the paper's calibration figure and numbers are made from
    (``bench/calibration_summary.json``): settings, the seeds done, outcomes, coverage and
    reliability tables. ``settings.f_truth`` says f's coverage is against the population
    fraction given the labels when every fit's f record is (:func:`population_fraction_record`)."""
    f_records = [fit["quantities"]["f_cluster"] for fit in fits if "quantities" in fit]
    settings = dict(settings)
    if f_records and all("n_stars" in record for record in f_records):
        settings["f_truth"] = F_TRUTH_POPULATION
    return {
        "settings": settings,
        "seeds": record_seeds(fits),
        "extra_seeds": extra_seeds(fits),
        "outcomes": outcome_table(fits),
        "coverage": coverage_table(fits),
        "reliability": reliability_table(fits),
    }


def _seeds_by_pair(fits: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], set[int]]:
    """The seeds fitted per (configuration, model)."""
    pairs: dict[tuple[str, str], set[int]] = {}
    for fit in fits:
        pairs.setdefault((fit["configuration"], fit["model"]), set()).add(int(fit["seed"]))
    return pairs


def record_seeds(fits: Sequence[Mapping[str, Any]]) -> list[int]:
    """The record's seeds: the set of seeds most (configuration, model) pairs were fitted to
    (on a tie, the larger set). Pairs fitted to other seeds (a model rerun over more seeds,
    or over other ones with newer code) are named by :func:`extra_seeds`."""
    sets = [frozenset(seeds) for seeds in _seeds_by_pair(fits).values()]
    if not sets:
        return []
    return sorted(max(set(sets), key=lambda seeds: (sets.count(seeds), len(seeds), sorted(seeds))))


def extra_seeds(fits: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """``{"<configuration>/<model>": seeds}`` for the pairs fitted to other seeds than the
    record's (:func:`record_seeds`), with their number of seeds."""
    common = set(record_seeds(fits))
    return {
        f"{configuration}/{model}": len(seeds)
        for (configuration, model), seeds in sorted(_seeds_by_pair(fits).items())
        if seeds != common
    }


def merged_summary(new: Mapping[str, Any], kept: Mapping[str, Any]) -> dict[str, Any]:
    """The compact record ``new`` with the rows of every (configuration, model) it does not
    hold taken from the earlier record ``kept`` (after a change to one model, only that
    model is rerun); the seeds must be the same. ``settings["kept_from_earlier_run"]`` lists
    the pairs taken over; their ``extra_seeds`` (fitted to other seeds) come along."""
    if new["seeds"] != kept["seeds"]:
        raise ValueError(f"seeds differ: {new['seeds']} here, {kept['seeds']} in the kept record")
    done = {(row["configuration"], row["model"]) for row in new["outcomes"]}
    taken = sorted(
        {(row["configuration"], row["model"]) for row in kept["outcomes"]} - done,
        key=lambda pair: (pair[0], pair[1]),
    )
    kept_extra = {
        pair: seeds
        for pair, seeds in kept.get("extra_seeds", {}).items()
        if tuple(pair.split("/")) in set(taken)
    }
    merged: dict[str, Any] = {
        "settings": dict(new["settings"]),
        "seeds": new["seeds"],
        "extra_seeds": dict(sorted({**kept_extra, **new.get("extra_seeds", {})}.items())),
    }
    merged["settings"]["models"] = sorted(
        set(new["settings"]["models"]) | {model for _, model in taken}
    )
    merged["settings"]["kept_from_earlier_run"] = [list(pair) for pair in taken]
    for table in ("outcomes", "coverage", "reliability"):
        merged[table] = [
            row for row in kept[table] if (row["configuration"], row["model"]) in set(taken)
        ] + list(new[table])
    return merged


def markdown(fits: Sequence[Mapping[str, Any]], settings: Mapping[str, Any]) -> str:
    """The Markdown report: settings, outcomes, coverage, f pulls, reliability."""
    lines = [f"Settings: {json.dumps(settings, sort_keys=True)}", ""]
    lines += [
        "| configuration | model | fits | ok | of which another cluster | no cluster mode "
        "| chains left | median s | K |"
    ]
    lines += ["| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for configuration in CONFIGURATIONS:
        for model in CLUSTER_MODEL_NAMES:
            chosen = [f for f in fits if (f["configuration"], f["model"]) == (configuration, model)]
            if not chosen:
                continue
            status = [f["status"] for f in chosen]
            seconds = [f["seconds"] for f in chosen if "seconds" in f]
            ks = sorted(
                {f.get("n_field_components") for f in chosen if f.get("n_field_components")}
            )
            lines.append(
                f"| {configuration} | {model} | {len(chosen)} | {status.count('ok')} | "
                f"{sum(took_another_cluster(f) for f in chosen)} | "
                f"{status.count('no cluster mode')} | {status.count('chains left the mode')} | "
                f"{np.median(seconds) if seconds else float('nan'):.0f} | {ks} |"
            )
    lines += [
        "",
        "| configuration | model | quantity | fits | 68% coverage | 95% coverage "
        "| oracle 68% | oracle 95% |",
    ]
    lines += ["| --- " * 8 + "|"]
    for row in coverage_table(fits):
        oracle = [row.get(f"oracle_coverage_{level}") for level in (68, 95)]
        lines.append(
            f"| {row['configuration']} | {row['model']} | {row['quantity']} | {row['fits']} | "
            f"{row['coverage_68']:.2f} | {row['coverage_95']:.2f} | "
            + " | ".join("" if v is None else f"{v:.2f}" for v in oracle)
            + " |"
        )
    lines += [
        "",
        "| configuration | model | f pulls: mean | sd | sd if calibrated (median) | min | max |",
        "| --- " * 7 + "|",
    ]
    for configuration in CONFIGURATIONS:
        for model in CLUSTER_MODEL_NAMES:
            chosen = [
                f
                for f in fits
                if (f["configuration"], f["model"]) == (configuration, model) and "f_pull" in f
            ]
            if chosen:
                pulls = [f["f_pull"] for f in chosen]
                expected = _median([expected_f_pull_sd(f) for f in chosen])
                lines.append(
                    f"| {configuration} | {model} | {np.mean(pulls):+.2f} | {np.std(pulls):.2f} | "
                    + ("" if expected is None else f"{expected:.2f}")
                    + f" | {np.min(pulls):+.2f} | {np.max(pulls):+.2f} |"
                )
    lines += ["", "| configuration | model | count | fits | pulls: mean | sd |"]
    lines += ["| --- " * 6 + "|"]
    for row in count_pull_table(fits):
        lines.append(
            f"| {row['configuration']} | {row['model']} | {row['quantity']} | {row['fits']} | "
            f"{row['pull_mean']:+.2f} | {row['pull_sd']:.2f} |"
        )
    lines += ["", "| configuration | model | p bin | stars | mean p | member fraction |"]
    lines += ["| --- | --- | --- | --- | --- | --- |"]
    for row in reliability_table(fits):
        mean_p = "" if row["mean_p"] is None else f"{row['mean_p']:.3f}"
        fraction = "" if row["member_fraction"] is None else f"{row['member_fraction']:.3f}"
        lines.append(
            f"| {row['configuration']} | {row['model']} | {row['p_bin']} | {row['stars']} | "
            f"{mean_p} | {fraction} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1000)
    parser.add_argument("--scale", type=float, default=0.15, help="default field's size factor")
    parser.add_argument("--configurations", nargs="+", default=list(CONFIGURATIONS))
    parser.add_argument("--models", nargs="+", default=list(CLUSTER_MODEL_NAMES))
    parser.add_argument("--quick", action="store_true", help="short chains: a smoke test")
    parser.add_argument(
        "--production-sampling",
        action="store_true",
        help="each model's sampler settings of config/config.yaml (nutpie, the sampling "
        "target), the seed per field, instead of PyMC's 2 x 500",
    )
    parser.add_argument(
        "--field-bootstrap",
        type=int,
        default=FIELD_BOOTSTRAP,
        help="bootstrap fields behind n_members of a model with a fixed control field (0: none)",
    )
    parser.add_argument(
        "--recentre",
        choices=("auto", "always", "never"),
        default="auto",
        help="move the draws with the posterior's mode per bootstrap field before weighting: "
        "where the plain weights' k-hat exceeds 0.7 (auto), always or never",
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="a model option besides the defaults, the value as YAML (repeatable), "
        "e.g. phase_space.cmd_term=true",
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    parser.add_argument(
        "--summary", type=Path, default=None, help="the compact record the paper reads"
    )
    parser.add_argument(
        "--fits-record",
        type=Path,
        default=None,
        help="every fit's record without its per-star arrays, gzipped JSON (for reanalysis)",
    )
    parser.add_argument(
        "--report-from",
        type=Path,
        nargs="+",
        default=None,
        help="only write the report of these JSONs (their fits pooled; settings of the first)",
    )
    parser.add_argument(
        "--keep-from",
        type=Path,
        default=None,
        help="an earlier compact record: the summary takes from it the models not run here",
    )
    args = parser.parse_args(argv)
    kept = json.loads(args.keep_from.read_text()) if args.keep_from else None
    if args.report_from:  # e.g. of a run stopped early, or of runs over more seeds
        saved = [json.loads(path.read_text()) for path in args.report_from]
        fits = [fit for run in saved for fit in run["fits"]]
        settings = {
            **saved[0]["settings"],
            "seeds": len(record_seeds(fits)),
            "first_seed": min(record_seeds(fits), default=None),
            "models": list(dict.fromkeys(fit["model"] for fit in fits)),
        }
        with_oracles(fits, settings.get("scale", args.scale))
        write_reports(fits, settings, args.markdown, args.summary, kept, args.fits_record)
        return 0
    logging.basicConfig(level=logging.WARNING)
    sampling = QUICK_SAMPLING if args.quick else SAMPLING
    # per model: the same settings for all, or the workflow's own
    per_model = (
        production_sampling()
        if args.production_sampling
        else dict.fromkeys(CLUSTER_MODEL_NAMES, sampling)
    )
    settings = {
        "hard": {"binary_fraction": HARD_BINARY_FRACTION, "error_underestimate": HARD_ERRORS},
        "p_bin_width": float(P_BINS[1] - P_BINS[0]),
        "seeds": args.seeds,
        "first_seed": args.first_seed,
        "scale": args.scale,
        "sampling": per_model if args.production_sampling else sampling,
        "models": args.models,
        "field_bootstrap": args.field_bootstrap,
        "recentre": args.recentre,
    }
    model_overrides = parse_options(args.option)
    if model_overrides:
        settings["options"] = model_overrides
    fits: list[dict[str, Any]] = []
    # seeds outermost, so that a run stopped early has every configuration for its seeds
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for configuration in args.configurations:
            catalog, truth = prepared_field(CONFIGURATIONS[configuration](seed, args.scale))
            oracle = oracle_parallax(catalog, truth, ERROR_SCALES[configuration])
            for model in args.models:
                record = fit_one(
                    model,
                    catalog,
                    truth,
                    per_model[model],
                    seed,
                    args.field_bootstrap,
                    {"auto": "auto", "always": True, "never": False}[args.recentre],
                    model_overrides.get(model),
                )
                record.update(
                    configuration=configuration,
                    seed=seed,
                    n_stars=len(catalog),
                    oracle_parallax=oracle,
                )
                fits.append(record)
                pull = record.get("f_pull")
                print(
                    f"{configuration} seed {seed} {model}: {record['status']}"
                    + (f", f pull {pull:+.2f}" if pull is not None else ""),
                    flush=True,
                )
            if args.json:
                args.json.write_text(json.dumps({"settings": settings, "fits": fits}))
    write_reports(fits, settings, args.markdown, args.summary, kept, args.fits_record)
    return 0


def production_sampling() -> dict[str, dict[str, Any]]:
    """Per cluster model, the sampler settings the workflow uses with
    ``config/config.yaml`` (the seed is the field's, set per fit)."""
    config = yaml.safe_load(CONFIG_PATH.read_text())
    settings = {}
    for model in CLUSTER_MODEL_NAMES:
        settings[model] = sampling_settings(config, model)
        settings[model].pop("store_log_likelihood", None)
    return settings


def parse_options(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{"phase_space": {"cmd_term": True}}`` from ``["phase_space.cmd_term=true"]`` (the
    value read as YAML); a malformed item or an unknown model or option is an error."""
    overrides: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        model, dot, name = key.partition(".")
        if not (sep and dot and name):
            raise SystemExit(f"--option {item!r}: expected MODEL.KEY=VALUE")
        if model not in CLUSTER_MODEL_NAMES:
            raise SystemExit(f"--option {item!r}: unknown model {model!r}")
        if name not in get_model(model).DEFAULT_OPTIONS:
            raise SystemExit(f"--option {item!r}: {model} has no option {name!r}")
        overrides.setdefault(model, {})[name] = yaml.safe_load(value)
    return overrides


def with_oracles(fits: Sequence[dict[str, Any]], scale: float) -> None:
    """Give every fit of a saved run that lacks it its seed's :func:`oracle_parallax`
    (the field simulated and cleaned again: a second or so per seed)."""
    cache: dict[tuple[str, int], dict[str, Any]] = {}
    for fit in fits:
        if "oracle_parallax" in fit:
            continue
        key = (fit["configuration"], int(fit["seed"]))
        if key not in cache:
            catalog, truth = prepared_field(CONFIGURATIONS[key[0]](key[1], scale))
            cache[key] = oracle_parallax(catalog, truth, ERROR_SCALES[key[0]])
        fit["oracle_parallax"] = cache[key]


#: A fit's per-star arrays, left out of :func:`compact_fits`.
PER_STAR_KEYS = ("p", "member", "p_fixed_field")


def compact_fits(fits: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every fit's record without its per-star arrays (:data:`PER_STAR_KEYS`): the
    intervals, truths and outcomes, from which coverage and pulls can be computed again
    without refitting (the reliability table needs the arrays)."""
    return [{k: v for k, v in fit.items() if k not in PER_STAR_KEYS} for fit in fits]


def write_reports(
    fits: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Any],
    markdown_path: Path | None,
    summary_path: Path | None,
    kept: Mapping[str, Any] | None = None,
    fits_record_path: Path | None = None,
) -> None:
    """Print the Markdown report (of this run's fits) and write it, the compact summary
    (with the models of ``kept`` not run here, :func:`merged_summary`) and the per-fit
    record (:func:`compact_fits`, gzipped) where asked."""
    report = markdown(fits, settings)
    if fits_record_path:
        with gzip.open(fits_record_path, "wt") as stream:
            json.dump({"settings": dict(settings), "fits": compact_fits(fits)}, stream)
    if markdown_path:
        markdown_path.write_text(report)
    if summary_path:
        record = summary(fits, settings)
        if kept is not None:
            record = merged_summary(record, kept)
        summary_path.write_text(json.dumps(record, indent=1) + "\n")
    print(report)


if __name__ == "__main__":
    raise SystemExit(main())

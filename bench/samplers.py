"""Sampler benchmark: PyMC's NUTS against nutpie (and NumPyro where installed), and against
the workflow's own fit.

In one run on one machine, every cluster model is fitted with every available backend to
the default simulated field of ``config/config.yaml`` (its first cluster, cuts and masks),
each fit in its own subprocess so that its peak memory is its own. Reported per fit:
sampling wall time, nutpie's compile time, gradient evaluations, the smallest bulk ESS per
second of sampling over the model's cluster quantities, their largest R-hat, peak memory,
and whether the cluster quantities agree with PyMC's within Monte Carlo error. The
``production`` "backend" is the workflow's fit itself (``fit_catalog``: K chosen, the mode
search, nutpie whitened at the mode, sampling to the config's target, at the config's
sampling settings rather than ``--draws``/``--tune``), so that its ESS per second, of
sampling and of the whole fit, can be set against PyMC's default NUTS in one run. With
``--scaling``, one logp + gradient evaluation of the slowest model is timed at growing
star counts: sampling time is gradient evaluations times this cost.

Usage (from the repository root)::

    .venv/bin/python bench/samplers.py --json bench/samplers.json --markdown bench/samplers.md
    .venv/bin/python bench/samplers.py --quick --models pmra_1d pm_2d
    .venv/bin/python bench/samplers.py --models phase_space --backends pymc production
    .venv/bin/python bench/samplers.py --scaling --models --scaling-sizes 2000 20000 200000

The cluster quantities are the statistical ones, as a sampling target judges them
(:func:`clustermix.fit.run.statistical_quantities`: the systematic floors, seeded i.i.d.
draws added in ``summary_quantities``, set to zero): the floors are not sampled, and they
would inflate the ESS and Monte Carlo errors the comparison rests on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
CONFIG_PATH = REPO / "config" / "config.yaml"
ALL_BACKENDS = ("pymc", "nutpie", "numpyro", "production")
#: Not a backend: the workflow's own fit (``fit_catalog``: K chosen, mode search, nutpie
#: whitened at the mode, sampling to the config's target), at the config's sampling settings.
PRODUCTION = "production"
FULL_SAMPLING = {"chains": 4, "draws": 1000, "tune": 1000}
QUICK_SAMPLING = {"chains": 2, "draws": 100, "tune": 100}
QUICK_STARS = 1500
CORES = 2
#: Posterior means agree if they differ by at most this many combined Monte Carlo errors.
AGREEMENT_SIGMAS = 4.0
#: A fit whose cluster quantities have a larger R-hat has not converged.
R_HAT_MAX = 1.01
SCALING_MODEL = "phase_space"
SCALING_SIZES = (2000, 20000, 200000)
#: Each logp + gradient timing batch runs at least this long (s); the median batch counts.
TIMING_BATCH_S = 0.5
TIMING_BATCHES = 5


# ----------------------------------------------------------------------------- the field


def load_config(path: Path) -> dict[str, Any]:
    """The workflow configuration (YAML) as a dict."""
    return yaml.safe_load(Path(path).read_text())


def simulation_settings(cluster: Mapping[str, Any], n_stars: int | None) -> dict[str, Any]:
    """``cluster.simulation`` with members and field scaled to ``n_stars`` in total (same
    member fraction); None keeps the configured counts."""
    settings = dict(cluster["simulation"])
    if n_stars is not None:
        total = settings["n_members"] + settings["n_field"]
        n_members = max(1, round(n_stars * settings["n_members"] / total))
        settings.update(n_members=n_members, n_field=max(1, n_stars - n_members))
    return settings


def build_field(config: Mapping[str, Any], n_stars: int | None = None) -> Any:
    """The cleaned simulated catalogue of the first cluster, joined with its sky masks."""
    from clustermix.data.catalog import validate_catalog
    from clustermix.data.clean import clean_catalog
    from clustermix.data.masks import sky_masks
    from clustermix.data.simulate import simulate_field

    cluster = config["clusters"][0]
    centre = {"ra_deg": cluster["ra_deg"], "dec_deg": cluster["dec_deg"]}
    raw, _ = simulate_field(
        **centre,
        radius_arcmin=cluster["radius_arcmin"],
        **simulation_settings(cluster, n_stars),
    )
    source = f"simulated {cluster['name']}"
    validate_catalog(raw, source)
    catalog, _ = clean_catalog(raw, source=source, **config["cuts"])
    masks = sky_masks(catalog, **centre, **config["masks"], source=source)
    for name in masks.colnames:
        if name != "source_id":
            catalog[name] = masks[name]
    return catalog


# ------------------------------------------------------------------------------ one fit


def model_setup(config: Mapping[str, Any], model_name: str) -> tuple[Any, dict[str, Any]]:
    """The model module and its options (module defaults < ``models.<name>`` of the config)."""
    from clustermix.models.registry import get_model, model_options, option_overrides

    module = get_model(model_name)
    return module, model_options(module, option_overrides(config, model_name))


def quantity_statistics(quantities: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per cluster quantity: posterior mean, sd, MCSE of the mean, bulk ESS and R-hat."""
    import arviz as az
    import xarray as xr

    dataset = xr.Dataset(dict(quantities))
    mcse = az.mcse(dataset, method="mean")
    ess = az.ess(dataset, method="bulk")
    rhat = az.rhat(dataset)
    return {
        name: {
            "mean": float(dataset[name].mean()),
            "sd": float(dataset[name].std()),
            "mcse_mean": float(mcse[name]),
            "ess_bulk": float(ess[name]),
            "r_hat": float(rhat[name]),
        }
        for name in dataset.data_vars
    }


def add_judge_option(parser: Any, what: str) -> None:
    """The ``--judge`` option of the benchmarks that sample to a target: what ``what``
    judges (``sampling.target.judge``)."""
    parser.add_argument(
        "--judge",
        choices=("cluster", "free"),
        default="cluster",
        help=f"what {what} judges: the cluster quantities or every free parameter",
    )


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory (MB) of this process and of its largest finished child (PyMC's
    forked chain workers, which share most pages with it, or a C compiler that PyTensor
    ran); Linux reports ``ru_maxrss`` in KiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"peak_rss_mb": own / 1024.0, "peak_rss_children_mb": children / 1024.0}


def fit_one(
    model_name: str, backend: str, catalog_path: Path, config: Mapping[str, Any], args: Any
) -> dict[str, Any]:
    """Fit one model with one backend to the stored field; the result row (no memory).

    ``wall_time_s`` is the sampling (PyMC's includes its graph compilation); ``fit_time_s``
    everything from the built model to the trace: for nutpie its compile too (with the
    config's ``sampling.compiler``), for ``production`` also the choice of K, the mode
    search and the whitening."""
    from astropy.table import Table

    from clustermix.fit.run import fit_catalog, prepare_cluster_fit, statistical_quantities
    from clustermix.fit.sampling import sample
    from clustermix.models.registry import sampling_settings

    module, options = model_setup(config, model_name)
    settings = sampling_settings(config, model_name)
    catalog = Table.read(catalog_path)
    if backend == PRODUCTION:
        started = time.perf_counter()
        fit = fit_catalog(
            module,
            options,
            catalog,
            {**settings, "seed": args.seed},
            source=str(catalog_path.name),
            hint=config["clusters"][0].get("hint"),
            progress_interval=None,
        )
        data, idata, options = fit.data, fit.idata, fit.options
        if fit.mode_error is not None:
            raise fit.mode_error
    else:
        # as the workflow does: K chosen on the control field, then the data prepared
        options, data, _ = prepare_cluster_fit(module, options, catalog, str(catalog_path.name))
        model = module.build_model(data, options)
        initial_values = getattr(module, "initial_values", None)
        initvals = initial_values(data, options) if initial_values is not None else None
        started = time.perf_counter()
        idata = sample(
            model,
            backend=backend,
            draws=args.draws,
            tune=args.tune,
            chains=args.chains,
            target_accept=settings["target_accept"],
            seed=args.seed,
            cores=args.cores,
            initvals=initvals,
            compiler=settings["compiler"],
        )
    fit_time = time.perf_counter() - started
    stats = quantity_statistics(statistical_quantities(module, data, options)(idata.posterior))
    wall = float(idata.attrs["wall_time_s"])
    min_ess = min(row["ess_bulk"] for row in stats.values())
    return {
        "model": model_name,
        "backend": backend,
        "n_stars": len(data["source_id"]),
        "chains": int(idata.attrs["chains"]),
        "draws": int(idata.attrs["draws"]),
        "tune": int(idata.attrs["tune"]),
        "cores": args.cores,
        "wall_time_s": wall,
        "fit_time_s": fit_time,
        "compile_time_s": float(idata.attrs.get("compile_time_s", math.nan)),
        "gradient_evaluations": int(idata.attrs["gradient_evaluations"]),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "quantities": stats,
        "min_ess_bulk_per_s": min_ess / wall,
        "min_ess_bulk_per_fit_s": min_ess / fit_time,
        "max_r_hat": max(row["r_hat"] for row in stats.values()),
    }


def run_one(args: Any) -> None:
    """The ``--one MODEL BACKEND`` mode: one fit, its row and peak memory to ``--json``."""
    model_name, backend = args.one
    try:
        row = fit_one(model_name, backend, Path(args.catalog), load_config(args.config), args)
    except Exception as err:  # reported in the table, not fatal to the benchmark
        row = {"model": model_name, "backend": backend, "error": f"{type(err).__name__}: {err}"}
    row.update(peak_memory_mb())
    write_json(row, Path(args.json))


def fit_in_subprocess(
    model_name: str, backend: str, catalog_path: Path, workdir: Path, args: Any
) -> dict[str, Any]:
    """Run ``--one MODEL BACKEND`` in a fresh interpreter and read its row back."""
    out = workdir / f"{model_name}-{backend}.json"
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        model_name,
        backend,
        "--catalog",
        str(catalog_path),
        "--json",
        str(out),
        "--config",
        str(args.config),
        *("--chains", str(args.chains), "--draws", str(args.draws), "--tune", str(args.tune)),
        *("--seed", str(args.seed), "--cores", str(args.cores)),
    ]
    print(f"fitting {model_name} with {backend} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, check=False, cwd=REPO)
    if not out.exists():
        return {"model": model_name, "backend": backend, "error": f"exit code {done.returncode}"}
    return json.loads(out.read_text())


# ----------------------------------------------------------------------------- comparing


def available_backends(requested: Sequence[str]) -> list[str]:
    """The requested backends whose packages import (PyMC is always there)."""
    packages = {
        "pymc": ["pymc"],
        "nutpie": ["nutpie"],
        "numpyro": ["jax", "numpyro"],
        PRODUCTION: ["nutpie"],
    }
    available = []
    for backend in requested:
        if all(importlib.util.find_spec(name) is not None for name in packages[backend]):
            available.append(backend)
        else:
            print(f"skipping {backend}: not installed", file=sys.stderr)
    return available


def agreement(row: Mapping[str, Any], reference: Mapping[str, Any]) -> dict[str, Any]:
    """Whether every cluster quantity's mean in ``row`` is within AGREEMENT_SIGMAS combined
    MCSEs of ``reference``'s; the worst |difference| / combined MCSE; whether both fits
    converged (the MCSE of an unconverged fit is not to be trusted)."""
    scores = {}
    for name, stats in row["quantities"].items():
        ref = reference["quantities"][name]
        error = math.hypot(stats["mcse_mean"], ref["mcse_mean"])
        scores[name] = abs(stats["mean"] - ref["mean"]) / error if error > 0 else math.inf
    worst = max(scores, key=scores.get)
    return {
        "agrees": scores[worst] <= AGREEMENT_SIGMAS,
        "worst_quantity": worst,
        "worst_sigmas": scores[worst],
        "sigmas": scores,
        "both_converged": max(row["max_r_hat"], reference["max_r_hat"]) <= R_HAT_MAX,
    }


def compare(rows: list[dict[str, Any]], backends: Sequence[str]) -> None:
    """Add ``reference``, ``agreement``, ``ess_ratio`` (min ESS per second of sampling over
    the reference's) and ``ess_ratio_fit`` (per second of the whole fit) to each successful
    row; the reference is PyMC, else the first backend."""
    reference_backend = "pymc" if "pymc" in backends else backends[0]
    for row in rows:
        ref = find_row(rows, row["model"], reference_backend)
        if "error" in row or ref is None or "error" in ref:
            continue
        row["reference"] = reference_backend
        row["ess_ratio"] = row["min_ess_bulk_per_s"] / ref["min_ess_bulk_per_s"]
        row["ess_ratio_fit"] = row["min_ess_bulk_per_fit_s"] / ref["min_ess_bulk_per_fit_s"]
        if row is not ref:
            row["agreement"] = agreement(row, ref)


def find_row(rows: Sequence[Mapping[str, Any]], model: str, backend: str) -> Any:
    """The row of ``model`` fitted with ``backend``, or None."""
    return next((r for r in rows if r["model"] == model and r["backend"] == backend), None)


def slowest_model(rows: Sequence[Mapping[str, Any]]) -> str | None:
    """The model with the longest mean sampling wall time over its successful fits."""
    times: dict[str, list[float]] = {}
    for row in rows:
        if "error" not in row:
            times.setdefault(row["model"], []).append(row["wall_time_s"])
    return max(times, key=lambda name: np.mean(times[name])) if times else None


def winner(rows: Sequence[Mapping[str, Any]], model: str) -> dict[str, Any] | None:
    """The successful fit of ``model`` with the highest min ESS_bulk/s."""
    fits = [r for r in rows if r["model"] == model and "error" not in r]
    return max(fits, key=lambda r: r["min_ess_bulk_per_s"]) if fits else None


# ------------------------------------------------------------------------------- scaling


def time_per_call(function: Any, x: Any) -> float:
    """Seconds per call of ``function(x)``: the median over TIMING_BATCHES batches of at
    least TIMING_BATCH_S each."""
    batches = []
    for _ in range(TIMING_BATCHES):
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < TIMING_BATCH_S:
            function(x)
            calls += 1
        batches.append(elapsed / calls)
    return float(np.median(batches))


def time_logp_grad(model: Any, initvals: Mapping[str, Any] | None) -> dict[str, float]:
    """Compile logp + gradient once; its compile time and mean time per call (s), the
    median over TIMING_BATCHES batches of at least TIMING_BATCH_S each."""
    from pymc.blocking import DictToArrayBijection

    for name, value in (initvals or {}).items():
        model.set_initval(model[name], value)
    point = model.initial_point()
    start = time.perf_counter()
    function = model.logp_dlogp_function(ravel_inputs=True, initial_point=point)
    function.set_extra_values({})
    x = DictToArrayBijection.map({var.name: point[var.name] for var in model.continuous_value_vars})
    function(x)
    compile_s = time.perf_counter() - start
    return {"compile_s": compile_s, "eval_s": time_per_call(function, x)}


def time_nutpie_gradient(model: Any) -> dict[str, float]:
    """nutpie's compile of ``model`` (numba) and the time of one logp + gradient call of
    the compiled function at the initial point (s; median over TIMING_BATCHES batches):
    what nutpie's sampler pays per gradient, plus a Python call's overhead."""
    import nutpie
    from pymc.blocking import DictToArrayBijection

    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    compile_s = time.perf_counter() - start
    point = model.initial_point()
    x = DictToArrayBijection.map({var.name: point[var.name] for var in model.value_vars}).data
    function = compiled.logp_func
    function(x)
    return {"nutpie_compile_s": compile_s, "nutpie_eval_s": time_per_call(function, x)}


def scaling_row(config: Mapping[str, Any], model_name: str, size: int) -> dict[str, Any]:
    """Simulate ``size`` stars, build ``model_name`` on them and time logp + gradient."""
    from clustermix.fit.run import prepare_cluster_fit

    module, options = model_setup(config, model_name)
    catalog = build_field(config, size)
    # as the workflow does: K chosen on the control field, then the data prepared
    start = time.perf_counter()
    options, data, _ = prepare_cluster_fit(
        module, options, catalog, f"simulated field of {size} stars"
    )
    prepare_s = time.perf_counter() - start
    model = module.build_model(data, options)
    initial_values = getattr(module, "initial_values", None)
    initvals = initial_values(data, options) if initial_values is not None else None
    timing = time_logp_grad(model, initvals)
    if "nutpie" in available_backends(["nutpie"]):
        timing.update(time_nutpie_gradient(model))
    return {
        "simulated": size,
        "n_stars": len(data["source_id"]),
        "prepare_s": prepare_s,
        **timing,
    }


def run_scaling(config: Mapping[str, Any], model_name: str, sizes: Sequence[int]) -> dict:
    """Per size, the cost of one logp + gradient evaluation and its ratio to the first."""
    rows = []
    for size in sizes:
        print(f"scaling: {model_name} at {size} stars ...", file=sys.stderr, flush=True)
        rows.append(scaling_row(config, model_name, size))
    for row in rows:
        row["ratio"] = row["eval_s"] / rows[0]["eval_s"]
        row["stars_ratio"] = row["n_stars"] / rows[0]["n_stars"]
    return {"model": model_name, "rows": rows}


# ------------------------------------------------------------------------------ markdown


def write_json(obj: Any, path: Path) -> None:
    """Write ``obj`` as JSON, non-finite floats as null."""
    from clustermix.fit.summary import json_safe

    path.write_text(json.dumps(json_safe(obj), indent=2) + "\n")


def fmt(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; an em dash for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return format(value, spec)


def agrees_cell(row: Mapping[str, Any]) -> str:
    """``ref`` for the reference backend, else yes/no with the worst quantity's sigmas
    (flagged when either fit has not converged)."""
    if "agreement" not in row:
        return "ref" if "reference" in row else "—"
    result = row["agreement"]
    verdict = "yes" if result["agrees"] else "**no**"
    caveat = "" if result["both_converged"] else f", R-hat > {R_HAT_MAX}"
    return f"{verdict} ({result['worst_quantity']} {result['worst_sigmas']:.1f}σ{caveat})"


FITS_NOTES = (
    "wall s: sampling (warm-up included); PyMC's includes its graph compilation, nutpie's "
    "compilation (sampling.compiler: JAX by default) is in compile s. fit s: from the "
    "built model to the trace (for "
    f"{PRODUCTION}, the workflow's fit, from the catalogue: K chosen, mode search, compile, "
    "whitening, sampling to the target). grad evals: leapfrog steps of all chains, warm-up "
    "included. min ESS_bulk/s and max R-hat: over the model's cluster quantities (ESS over "
    "sampling wall time; per fit s: over fit s). peak MB: ru_maxrss of the fit's process "
    "(PyMC's forked chain workers and compiler runs are in the JSON as "
    "peak_rss_children_mb). agrees: every "
    f"cluster quantity's mean within {AGREEMENT_SIGMAS:g} combined MCSEs of the reference "
    "fit's; the worst quantity in brackets.",
)


def fits_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The per-fit Markdown table."""
    lines = [
        "| model | backend | stars | draws | wall s | compile s | fit s | grad evals "
        "| min ESS_bulk/s | per fit s | max R-hat | peak MB | agrees |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['model']} | {row['backend']} | failed: {row['error']} |")
            continue
        cells = [
            row["model"],
            row["backend"],
            str(row["n_stars"]),
            f"{row['chains']} x {row['draws']} (tune {row['tune']})",
            fmt(row["wall_time_s"], ".1f"),
            fmt(row["compile_time_s"], ".1f"),
            fmt(row.get("fit_time_s"), ".1f"),
            str(row["gradient_evaluations"]),
            fmt(row["min_ess_bulk_per_s"], ".1f"),
            fmt(row.get("min_ess_bulk_per_fit_s"), ".2f"),
            fmt(row["max_r_hat"], ".3f"),
            fmt(row.get("peak_rss_mb"), ".0f"),
            agrees_cell(row),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, "", *FITS_NOTES]


def ratio_table(rows: Sequence[Mapping[str, Any]], backends: Sequence[str]) -> list[str]:
    """Per model, each backend's min ESS_bulk per second over the reference backend's: per
    second of sampling / per second of the whole fit."""
    reference = "pymc" if "pymc" in backends else backends[0]
    lines = [
        f"Min ESS_bulk per second relative to {reference} (sampling / whole fit):",
        "",
        "| model | " + " | ".join(backends) + " |",
        "|---|" + "---:|" * len(backends),
    ]
    for model in dict.fromkeys(r["model"] for r in rows):
        found = [find_row(rows, model, b) or {} for b in backends]
        cells = [
            f"{fmt(row.get('ess_ratio'), '.2f')} / {fmt(row.get('ess_ratio_fit'), '.2f')}"
            for row in found
        ]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return lines


def verdict(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Which backend has the highest min ESS_bulk/s on the slowest model, with caveats."""
    model = slowest_model(rows)
    best = winner(rows, model) if model else None
    if best is None:
        return ["No fit succeeded."]
    text = (
        f"Slowest model (mean sampling wall time): **{model}**. Winner there: "
        f"**{best['backend']}**, {best['min_ess_bulk_per_s']:.1f} min ESS_bulk/s"
    )
    if "ess_ratio" in best and best["backend"] != best.get("reference"):
        text += (
            f" ({best['ess_ratio']:.2f}x {best['reference']} per second of sampling, "
            f"{best['ess_ratio_fit']:.2f}x per second of the whole fit)"
        )
    caveats = []
    if best["max_r_hat"] > R_HAT_MAX:
        caveats.append(f"its max R-hat is {best['max_r_hat']:.3f} > {R_HAT_MAX}")
    if not best.get("agreement", {"agrees": True})["agrees"]:
        caveats.append("its posterior disagrees with the reference")
    return [text + (f"; but {' and '.join(caveats)}." if caveats else ".")]


def scaling_table(scaling: Mapping[str, Any]) -> list[str]:
    """The logp + gradient scaling table."""
    lines = [
        f"Cost of one logp + gradient evaluation of {scaling['model']} (sampling wall time "
        "≈ gradient evaluations x this):",
        "",
        "| simulated | stars | prepare s | compile s | ms / eval | nutpie compile s "
        "| nutpie ms / eval | ratio to first | stars ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in scaling["rows"]:
        cells = [
            str(row["simulated"]),
            str(row["n_stars"]),
            fmt(row.get("prepare_s", math.nan), ".1f"),
            fmt(row["compile_s"], ".1f"),
            fmt(1e3 * row["eval_s"], ".3f"),
            fmt(row.get("nutpie_compile_s", math.nan), ".1f"),
            fmt(1e3 * row.get("nutpie_eval_s", math.nan), ".3f"),
            fmt(row["ratio"], ".2f"),
            fmt(row["stars_ratio"], ".2f"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(result: Mapping[str, Any]) -> str:
    """The whole report as Markdown."""
    settings = result["settings"]
    lines = []
    sections = []
    if result["fits"]:
        lines += [
            f"Sampler benchmark: {settings['chains']} chains x {settings['draws']} draws "
            f"(tune {settings['tune']}), cores={settings['cores']}, seed {settings['seed']}"
            f" ({PRODUCTION}: the config's sampling settings).",
            "",
        ]
        sections += [
            fits_table(result["fits"]),
            ratio_table(result["fits"], result["backends"]),
            verdict(result["fits"]),
        ]
    if result.get("scaling"):
        sections.append(scaling_table(result["scaling"]))
    for section in sections:
        lines += [*section, ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line flags; ``--quick`` fills in the sampling settings not given."""
    from clustermix.models import CLUSTER_MODEL_NAMES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="*", default=list(CLUSTER_MODEL_NAMES), choices=CLUSTER_MODEL_NAMES
    )
    parser.add_argument("--backends", nargs="+", default=list(ALL_BACKENDS), choices=ALL_BACKENDS)
    parser.add_argument("--chains", type=int)
    parser.add_argument("--draws", type=int)
    parser.add_argument("--tune", type=int)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--cores", type=int, default=CORES)
    parser.add_argument("--stars", type=int, help="simulated stars (default: the config's)")
    parser.add_argument("--quick", action="store_true", help="~1,500 stars, 2 chains x 100")
    parser.add_argument("--scaling", action="store_true", help="also time logp + gradient")
    parser.add_argument("--scaling-model", default=SCALING_MODEL)
    parser.add_argument("--scaling-sizes", nargs="+", type=int, default=list(SCALING_SIZES))
    parser.add_argument("--config", type=Path, default=CONFIG_PATH)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--markdown", type=Path, help="write the Markdown report here")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "BACKEND"), help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    defaults = QUICK_SAMPLING if args.quick else FULL_SAMPLING
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.quick and args.stars is None:
        args.stars = QUICK_STARS
    return args


def run_fits(config: Mapping[str, Any], args: Any, backends: Sequence[str]) -> list[dict]:
    """Build the field once, then fit every (model, backend) in its own subprocess."""
    if not args.models or not backends:
        return []
    with tempfile.TemporaryDirectory(prefix="clustermix-bench-") as tmp:
        workdir = Path(tmp)
        catalog_path = workdir / "field.fits"
        print("simulating, cleaning and masking the field ...", file=sys.stderr, flush=True)
        build_field(config, args.stars).write(catalog_path)
        rows = [
            fit_in_subprocess(model, backend, catalog_path, workdir, args)
            for model in args.models
            for backend in backends
        ]
    compare(rows, backends)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark (or, with ``--one``, a single fit for the parent process)."""
    args = parse_args(argv)
    if args.one:
        run_one(args)
        return
    config = load_config(args.config)
    backends = available_backends(args.backends)
    settings = {key: getattr(args, key) for key in ("chains", "draws", "tune", "seed", "cores")}
    result: dict[str, Any] = {"settings": {**settings, "stars": args.stars}, "backends": backends}
    result["fits"] = run_fits(config, args, backends)
    if args.scaling:
        result["scaling"] = run_scaling(config, args.scaling_model, args.scaling_sizes)
    report = markdown(result)
    print(report)
    if args.json:
        write_json(result, args.json)
    if args.markdown:
        args.markdown.write_text(report + "\n")


if __name__ == "__main__":
    main()

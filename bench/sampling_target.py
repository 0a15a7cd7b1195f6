"""Sampling to a target against a fixed number of draws, on the default field.

Each model is fitted as the workflow fits it (:func:`clustermix.fit.run.fit_catalog`: K
chosen on the control field, the mode search, every chain checked) to the default
simulated field of ``config/config.yaml`` (its first cluster, cuts and masks), with the
config's sampler settings, in three variants: the fixed ``draws`` after ``tune`` warm-up
steps; the same with ``sampling.target`` (:mod:`clustermix.fit.stopping`; ``draws`` is
the cap); and the target after a shorter warm-up (``--short-tune``). Reported per fit:
draws kept per chain, gradient evaluations (warm-up, kept draws, and all, the draws made
past the stopping checkpoint included), the whitening, sampling and compile time,
the cluster quantities' smallest bulk and tail ESS and largest R-hat (what the
convergence gate checks), and how far each quantity's posterior mean moved from the fixed
run's in Monte Carlo standard errors of the difference. Ratios are within one run on one
machine.

Usage (from the repository root)::

    .venv/bin/python bench/sampling_target.py --models pm_2d phase_space --json target.json
    .venv/bin/python bench/sampling_target.py --variants fixed short --rhat-max 1.005 \\
        --sampler-seeds 1 2 3 4 --json target_seeds.json

The first variant run per model is the reference of the "moved" column, unless
``--reference`` reads it from an earlier run's JSON::

    .venv/bin/python bench/sampling_target.py --variants target --sampler-seeds 1 2 \\
        --models pmra_1d parallax_1d pm_2d phase_space \\
        --reference bench/sampling_target_defaults.json --json whitened.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from samplers import (  # noqa: E402
    add_judge_option,
    build_field,
    model_setup,
    quantity_statistics,
)


def fit_variant(
    catalog: Any, config: dict[str, Any], model_name: str, sampling: dict[str, Any]
) -> dict[str, Any]:
    """One workflow-like fit with ``sampling``; its cost and cluster quantities."""
    from clustermix.fit.run import fit_catalog, statistical_quantities
    from clustermix.fit.sampling import trace_attrs

    module, options = model_setup(config, model_name)
    started = time.perf_counter()
    fit = fit_catalog(
        module, options, catalog, sampling, source="bench", cores=2, progress_interval=None
    )
    total = time.perf_counter() - started
    attrs = trace_attrs(fit.idata)
    quantities = statistical_quantities(module, fit.data, fit.options)(fit.idata.posterior)
    stats = quantity_statistics(quantities)
    import arviz as az
    import xarray as xr

    tail = az.ess(xr.Dataset(dict(quantities)), method="tail")
    return {
        "model": model_name,
        "draws_kept": int(attrs["draws"]),
        "tune": int(attrs["tune"]),
        "gradient_evaluations": int(attrs["gradient_evaluations"]),
        "gradient_evaluations_warmup": int(attrs.get("gradient_evaluations_warmup", -1)),
        # warm-up and kept draws: without the draws the chains made past the checkpoint
        # before the sampler was stopped (cheap models race ahead between two looks)
        "gradient_evaluations_kept": int(attrs.get("gradient_evaluations_warmup", 0))
        + int(fit.idata.sample_stats["n_steps"].sum()),
        "whitening": attrs.get("whitening"),
        "sampling_s": float(attrs["wall_time_s"]),
        "compile_s": float(attrs.get("compile_time_s", math.nan)),
        "fit_s": total,
        "ess_bulk_min": min(row["ess_bulk"] for row in stats.values()),
        "ess_tail_min": float(min(float(tail[name]) for name in tail.data_vars)),
        "r_hat_max": max(row["r_hat"] for row in stats.values()),
        "stopped": (attrs.get("sampling_target") or {}).get("stopped", "fixed draws"),
        "chains_ok": fit.mode_error is None,
        "quantities": stats,
    }


def shifts(row: dict[str, Any], reference: dict[str, Any]) -> dict[str, float]:
    """Per quantity: (mean - reference mean) / sqrt(mcse^2 + reference mcse^2)."""
    out = {}
    for name, stats in row["quantities"].items():
        ref = reference["quantities"][name]
        error = math.hypot(stats["mcse_mean"], ref["mcse_mean"])
        out[name] = (stats["mean"] - ref["mean"]) / error if error > 0 else math.nan
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["pm_2d", "phase_space"])
    parser.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    parser.add_argument("--ess", type=float, default=400.0)
    parser.add_argument("--rhat-max", type=float, default=1.01)
    parser.add_argument("--check-every", type=int, default=100)
    parser.add_argument("--short-tune", type=int, default=300)
    parser.add_argument(
        "--fixed-tune",
        type=int,
        default=1000,
        help="warm-up of the fixed reference (1,000 draws after 1,000 steps: the defaults "
        "before session 15)",
    )
    add_judge_option(parser, "the target")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=("fixed", "target", "short"),
        default=["fixed", "target", "short"],
        help="fixed draws (the reference), the target, the target after --short-tune",
    )
    parser.add_argument(
        "--sampler-seeds",
        type=int,
        nargs="+",
        default=None,
        help="sampler seeds for the target variants (default: the config's); the fixed "
        "reference runs once, with the config's seed",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        default=None,
        help="an earlier run's JSON whose first fixed-draws row per model is the reference "
        "of the 'moved' column (the same field and model; e.g. "
        "bench/sampling_target_defaults.json), instead of running it again",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    earlier = {}
    if args.reference:
        for row in json.loads(args.reference.read_text()):
            if row["variant"] == "fixed":
                earlier.setdefault(row["model"], row)
    config = yaml.safe_load(args.config.read_text())
    from clustermix.models.registry import sampling_settings

    catalog = build_field(config)
    target = {
        "ess": args.ess,
        "rhat_max": args.rhat_max,
        "check_every": args.check_every,
        "judge": args.judge,
    }
    rows = []
    for model_name in args.models:
        base = sampling_settings(config, model_name)
        base.pop("store_log_likelihood", None)
        seeds = args.sampler_seeds or [base["seed"]]
        variants = []
        if "fixed" in args.variants:
            variants.append(("fixed", {**base, "target": None, "tune": args.fixed_tune}))
        for seed in seeds:
            if "target" in args.variants:
                variants.append(("target", {**base, "target": target, "seed": seed}))
            if "short" in args.variants:
                short = {**base, "target": target, "tune": args.short_tune, "seed": seed}
                variants.append((f"target, tune {args.short_tune}", short))
        reference = earlier.get(model_name)
        for variant, sampling in variants:
            row = {
                "variant": variant,
                "seed": sampling["seed"],
                **fit_variant(catalog, config, model_name, sampling),
            }
            reference = reference or row
            row["mean_shift_in_mcse"] = shifts(row, reference)
            rows.append(row)
            brief = {k: v for k, v in row.items() if k not in ("quantities", "mean_shift_in_mcse")}
            worst = max(abs(v) for v in row["mean_shift_in_mcse"].values())
            print(json.dumps({**brief, "largest_mean_shift_in_mcse": worst}), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()

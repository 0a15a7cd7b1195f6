"""A large field's fit with the far stars compressed, against the full fit.

Each size of ``--stars`` simulates the default field of ``config/config.yaml`` (its first
cluster, members and field scaled together), cleans and masks it as the workflow does, and
fits ``--model`` as the workflow does (:func:`clustermix.fit.run.fit_catalog`: K chosen on
the control field, the mode search, every chain checked), with the config's sampler
settings: with the stars the cluster cannot claim compressed into one term
(``far_stars=True``, :mod:`clustermix.fit.far_stars`) and, up to ``--full-up-to`` stars,
also the full model. Reported per fit: stars kept one by one and compressed, the time of
each stage (field and K, mode search, sampling, nutpie's compile, the whole fit),
gradient evaluations, the cluster quantities' smallest bulk ESS and largest R-hat; and
per quantity how far the compressed fit's posterior mean is from the full fit's, in
posterior sd and in Monte Carlo standard errors of the difference, and the ratio of their
posterior sd. Ratios are within one run on one machine.

Usage (from the repository root)::

    .venv/bin/python bench/large_field.py --stars 20000 200000 --json large.json
    .venv/bin/python bench/large_field.py --stars 20000 --far-fractions   # no sampling
    .venv/bin/python bench/large_field.py --stars 200000 --tune 300 --target 400 1.005

With ``--far-fractions`` it only reports, after the K choice and the mode search, the
fraction of the stars that would be compressed for several boxes around the mode and
bounds on p (:func:`far_fractions`).
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


def one_fit(
    catalog: Any, config: dict[str, Any], model_name: str, sampling: dict[str, Any], far: bool
) -> dict[str, Any]:
    """One workflow-like fit, compressed or not: its stars, costs and cluster quantities."""
    from clustermix.fit.run import fit_catalog, statistical_quantities
    from clustermix.fit.sampling import trace_attrs
    from clustermix.models.mixture import N_FAR_STARS

    module, options = model_setup(config, model_name)
    started = time.perf_counter()
    fit = fit_catalog(
        module,
        options,
        catalog,
        sampling,
        source="bench",
        cores=2,
        progress_interval=None,
        far_stars=far,
    )
    total = time.perf_counter() - started
    attrs = trace_attrs(fit.idata)
    quantities = statistical_quantities(module, fit.data, fit.options)(fit.idata.posterior)
    stats = quantity_statistics(quantities)
    return {
        "model": model_name,
        "far_stars": far,
        "stars_kept": len(fit.data["source_id"]),
        "stars_compressed": int(fit.data.get(N_FAR_STARS, 0)),
        "far_star_check": attrs.get("far_stars"),
        "search_s": float((attrs.get("mode_search") or {}).get("seconds", math.nan)),
        "sampling_s": float(attrs["wall_time_s"]),
        "compile_s": float(attrs.get("compile_time_s", math.nan)),
        "fit_s": total,
        "gradient_evaluations": int(attrs.get("gradient_evaluations", -1)),
        "gradient_evaluations_warmup": int(attrs.get("gradient_evaluations_warmup", -1)),
        "draws_kept": int(attrs["draws"]),
        "tune": int(attrs["tune"]),
        "seed": int(attrs["seed"]),
        "whitening": attrs.get("whitening"),
        "sampling_target": attrs.get("sampling_target"),
        "ess_bulk_min": min(row["ess_bulk"] for row in stats.values()),
        "r_hat_max": max(row["r_hat"] for row in stats.values()),
        "chains_ok": fit.mode_error is None,
        "quantities": stats,
    }


#: The boxes (posterior sd around the mode) and bounds on p of ``--far-fractions``.
PROBE_BOXES = (0.0, 2.0, 4.0, 8.0)
PROBE_BOUNDS = (1e-8, 1e-6, 1e-4, 1e-3, 1e-2)


def far_fractions(catalog: Any, config: dict[str, Any], model_name: str) -> dict[str, Any]:
    """The fraction of the fitted stars that are far (eligible, and with p at most each of
    :data:`PROBE_BOUNDS` at the mode and over each box of :data:`PROBE_BOXES` posterior sd
    around it), after the workflow's K choice and mode search; no sampling."""
    import numpy as np

    from clustermix.fit.far_stars import membership_function, plausible_points
    from clustermix.fit.run import prepare_cluster_fit
    from clustermix.models.modes import candidate_centres, search_modes, sky_regions

    module, options = model_setup(config, model_name)
    options, data, _ = prepare_cluster_fit(module, options, catalog, "bench")
    model = module.build_model(data, options)
    regions = sky_regions(catalog, data["source_id"], "bench")
    search = search_modes(
        module, model, data, options, candidate_centres(catalog, None, "bench"), regions
    )
    function = membership_function(model)
    eligible = module.far_star_eligible(data, options)
    rows = {}
    for box in PROBE_BOXES:
        points = plausible_points(model, search.chosen.start, box)
        largest = np.max([np.asarray(function(*values)) for values in points], axis=0)
        largest = np.where(eligible, largest, 1.0)
        rows[f"box {box:g} sd"] = {f"{b:g}": float(np.mean(largest <= b)) for b in PROBE_BOUNDS}
    return {"stars": len(eligible), "eligible": float(np.mean(eligible)), "fractions": rows}


def agreement(row: dict[str, Any], reference: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per quantity: the shift of the posterior mean in the reference's posterior sd and in
    the combined Monte Carlo standard errors, and the ratio of the posterior sds."""
    out = {}
    for name, stats in row["quantities"].items():
        ref = reference["quantities"][name]
        mcse = math.hypot(stats["mcse_mean"], ref["mcse_mean"])
        shift = stats["mean"] - ref["mean"]
        out[name] = {
            "shift_sd": shift / ref["sd"] if ref["sd"] > 0 else math.nan,
            "shift_mcse": shift / mcse if mcse > 0 else math.nan,
            "sd_ratio": stats["sd"] / ref["sd"] if ref["sd"] > 0 else math.nan,
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stars", type=int, nargs="+", default=[20000, 200000])
    parser.add_argument("--model", default="phase_space")
    parser.add_argument("--full-up-to", type=int, default=20000)
    parser.add_argument("--config", type=Path, default=REPO / "config" / "config.yaml")
    parser.add_argument("--tune", type=int, default=None, help="default: the config's")
    parser.add_argument("--draws", type=int, default=None, help="default: the config's")
    parser.add_argument(
        "--seed", type=int, default=None, help="sampler seed; default: the config's"
    )
    parser.add_argument(
        "--target",
        nargs=2,
        type=float,
        metavar=("ESS", "RHAT_MAX"),
        default=None,
        help="sample to this target (sampling.target, checked every 100 draws; --draws caps "
        "it); default: the config's sampling.target",
    )
    add_judge_option(parser, "--target")
    parser.add_argument(
        "--no-far-stars",
        action="store_true",
        help="fit only the full model at every size (no compressed fit)",
    )
    parser.add_argument(
        "--far-fractions",
        action="store_true",
        help="only the fraction of far stars per box and bound (no sampling)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    config = yaml.safe_load(args.config.read_text())
    from clustermix.models.registry import sampling_settings

    sampling = sampling_settings(config, args.model)
    sampling.pop("store_log_likelihood", None)
    chosen = (("tune", args.tune), ("draws", args.draws), ("seed", args.seed))
    sampling.update({key: value for key, value in chosen if value is not None})
    if args.target:
        sampling["target"] = {
            "ess": args.target[0],
            "rhat_max": args.target[1],
            "judge": args.judge,
        }
    rows = []
    for n_stars in args.stars:
        started = time.perf_counter()
        catalog = build_field(config, n_stars)
        field_s = time.perf_counter() - started
        if args.far_fractions:
            rows.append({"stars_simulated": n_stars, **far_fractions(catalog, config, args.model)})
            print(json.dumps(rows[-1]), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1) + "\n")
            continue
        variants = [True, False] if n_stars <= args.full_up_to else [True]
        if args.no_far_stars:
            variants = [False]
        fits = {}
        for far in variants:
            row = {"stars_simulated": n_stars, "stars_fitted": len(catalog), "simulate_s": field_s}
            row.update(one_fit(catalog, config, args.model, sampling, far))
            fits[far] = row
            rows.append(row)
            brief = {k: v for k, v in row.items() if k != "quantities"}
            print(json.dumps(brief), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1) + "\n")
        if False in fits:
            fits[True]["against_full"] = agreement(fits[True], fits[False])
            print(json.dumps({"against_full": fits[True]["against_full"]}), flush=True)
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()

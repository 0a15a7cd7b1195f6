"""How much the control field's finite sample moves one fit's member count.

One default-field seed (as ``bench/calibration.py`` simulates, prepares and fits it), one
model (pm_2d by default): the fit, then :func:`clustermix.fit.field_uncertainty.field_uncertainty`
with ``--boot`` bootstrap fields. Printed: the fixed field's count (mean, sd), the spread
across bootstrap fields of sum_i p_i at fixed theta, the per-field k-hats and effective
sample sizes, each field's reweighted mean count, the pooled count and the seconds spent.

    .venv/bin/python bench/field_uncertainty_probe.py --seed 1000 --json probe.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "src"))

from calibration import NO_SYSTEMATICS, SAMPLING, default_field  # noqa: E402

from clustermix.data.prepared import prepared_field  # noqa: E402
from clustermix.fit.field_uncertainty import (  # noqa: E402
    bootstrap_fields,
    field_uncertainty_of_fit,
)
from clustermix.fit.run import fit_catalog  # noqa: E402
from clustermix.models.registry import get_model, model_options  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--model", default="pm_2d")
    parser.add_argument("--boot", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.15)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    catalog, truth = prepared_field(default_field(args.seed, args.scale))
    module = get_model(args.model)
    overrides = {k: v for k, v in NO_SYSTEMATICS.items() if k in module.DEFAULT_OPTIONS}
    options = model_options(module, overrides)
    started = time.perf_counter()
    fit = fit_catalog(module, options, catalog, {**SAMPLING, "seed": args.seed}, source="sim")
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    fields = bootstrap_fields(
        module, fit.options, catalog, fit.data, args.boot, args.seed, source="sim"
    )
    boot_seconds = time.perf_counter() - started
    record = {
        "model": args.model,
        "seed": args.seed,
        "n_stars": len(fit.data["source_id"]),
        "n_control": int(np.sum(np.asarray(catalog["in_control_field"], bool))),
        "K": fit.options["n_field_components"],
        "true_count": int(
            np.isin(fit.data["source_id"], np.asarray(truth["member_source_ids"], np.int64)).sum()
        ),
        "seconds": {"fit": fit_seconds, "bootstrap_fields": boot_seconds},
    }
    for recentre in (False, True):
        started = time.perf_counter()
        result = field_uncertainty_of_fit(
            module,
            fit,
            catalog,
            n_boot=args.boot,
            seed=args.seed,
            fields=fields,
            recentre=recentre,
        )
        weights = np.exp(result.log_weights)
        record["recentred" if recentre else "plain"] = {
            "fixed_count_mean": float(result.fixed_counts.mean()),
            "fixed_sum_p_mean": float(result.fixed_sum_p.mean()),
            "pooled_count_mean_sd": result.count_moments(),
            "diagnostics": result.diagnostics(),
            "khat": np.round(result.khat, 3).tolist(),
            "ess": np.round(result.ess, 1).tolist(),
            "per_field_weighted_mean_count": np.round(
                (weights * result.counts).sum(axis=1), 2
            ).tolist(),
            "per_field_sum_p_at_fixed_draws_mean": np.round(result.sum_p.mean(axis=1), 2).tolist(),
            "seconds": time.perf_counter() - started,
        }
    text = json.dumps(record, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Compiler-flag benchmark: PyTensor's default C flags against clustermix's and others.

For every cluster model, on the first cluster of ``config/test.yaml`` (the tests' tiny
simulated field, cleaned and masked as the workflow does), each in a fresh subprocess with
an empty PyTensor compile directory: the time to build the model's log posterior and
gradient from cold (graph rewrites and the g++ build of its C modules), the number of C
modules built, and the cost of one evaluation at the model's starting point (median of
``--repeats`` blocks). Reported as ratios clustermix / default, measured in one run on one
machine (:mod:`clustermix.compile_flags` explains the choice).

Usage (from the repository root)::

    .venv/bin/python bench/compile_flags.py --json flags.json --markdown flags.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

#: The flag settings compared: PyTensor's default (no extra flags) and clustermix's.
SETTINGS = {
    "PyTensor default (-O3 -g)": "",
    "clustermix (-O3 -g0)": "-g0",
    "-O1 -g0": "-O1 -g0",
}
MODELS = ("pmra_1d", "parallax_1d", "pm_2d", "phase_space")


def measure_one(model_name: str, evaluations: int, repeats: int) -> dict[str, Any]:
    """In this process: cold compile time, C modules built and seconds per evaluation."""
    import numpy as np
    import pytensor
    from pymc.blocking import DictToArrayBijection

    from clustermix.data.prepared import prepared_field
    from clustermix.fit.run import prepare_cluster_fit
    from clustermix.models.compiled import logp_dlogp
    from clustermix.models.registry import get_model, model_options

    cluster = yaml.safe_load((REPO / "config" / "test.yaml").read_text())["clusters"][0]
    simulation = {
        **cluster["simulation"],
        "ra_deg": cluster["ra_deg"],
        "dec_deg": cluster["dec_deg"],
        "radius_arcmin": cluster["radius_arcmin"],
    }
    catalog, _ = prepared_field(simulation)
    module = get_model(model_name)
    options, data, _ = prepare_cluster_fit(module, model_options(module, {}), catalog, "bench")
    model = module.build_model(data, options)
    compiledir = Path(pytensor.config.compiledir)
    before = sum(1 for _ in compiledir.glob("tmp*"))
    started = time.perf_counter()
    function = logp_dlogp(model)
    compile_s = time.perf_counter() - started
    modules = sum(1 for _ in compiledir.glob("tmp*")) - before
    point = model.initial_point()
    x = DictToArrayBijection.map({v.name: point[v.name] for v in model.continuous_value_vars})
    function(x.data)
    blocks = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(evaluations):
            function(x.data)
        blocks.append((time.perf_counter() - started) / evaluations)
    return {
        "model": model_name,
        "cxxflags": pytensor.config.gcc__cxxflags,
        "compile_s": compile_s,
        "c_modules": modules,
        "ms_per_evaluation": 1000.0 * float(np.median(blocks)),
    }


def run_isolated(model_name: str, flags: str, evaluations: int, repeats: int) -> dict[str, Any]:
    """:func:`measure_one` in a subprocess with an empty compile directory and ``flags``."""
    with tempfile.TemporaryDirectory() as compiledir:
        env = {
            **os.environ,
            "PYTENSOR_FLAGS": f"base_compiledir={compiledir},gcc__cxxflags={flags}",
        }
        code = (
            "import json, sys; sys.path.insert(0, sys.argv[1]); import compile_flags as b; "
            "print(json.dumps(b.measure_one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))"
        )
        output = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                str(Path(__file__).parent),
                model_name,
                str(evaluations),
                str(repeats),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def markdown(rows: list[dict[str, Any]]) -> str:
    """One line per model and setting: compile time, modules and cost, and their ratios to
    PyTensor's default."""
    default = next(iter(SETTINGS))
    lines = [
        "| model | setting | C modules | cold compile (s) | ratio "
        "| ms per logp + gradient | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for model in dict.fromkeys(row["model"] for row in rows):
        base = next(r for r in rows if r["model"] == model and r["setting"] == default)
        for row in (r for r in rows if r["model"] == model):
            lines.append(
                f"| {model} | {row['setting']} | {row['c_modules']} | {row['compile_s']:.1f} | "
                f"{row['compile_s'] / base['compile_s']:.2f} | {row['ms_per_evaluation']:.3f} | "
                f"{row['ms_per_evaluation'] / base['ms_per_evaluation']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--evaluations", type=int, default=500, help="per timed block")
    parser.add_argument("--repeats", type=int, default=5, help="timed blocks per fit")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    for model in args.models:
        for setting, flags in SETTINGS.items():  # interleaved: drifts hit both alike
            row = {"setting": setting, **run_isolated(model, flags, args.evaluations, args.repeats)}
            print(json.dumps(row), flush=True)
            rows.append(row)
    table = markdown(rows)
    print(table)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()

"""The whole default workflow's wall time, and each fit's cost, in one run.

Clones a tree (``--tree``, default this repository; a commit or worktree of an earlier
state measures "before") into a fresh directory, links this repository's ``.venv`` and
runs ``snakemake --cores N`` there on the default configuration (set-up excluded: the
environment and TeX Live are already installed), with an empty PyTensor compile directory
of its own unless ``--warm-compiledir`` (the user's) or ``--compiledir`` (one kept between
runs: PyTensor caches its C modules there, and numba's functions with
``sampling.compiler: numba``, so a second run shows what a rebuild on the same machine
costs) is given. Reported: the workflow's wall time; the time per rule (Snakemake's
``benchmarks/`` files, summed over the rule's jobs); and for every fit its time, sampling
time, nutpie's compile, gradient evaluations, draws per chain and the smallest bulk ESS
per second of sampling over its free parameters (from the trace). Times are within one
run on one machine.

Usage (from the repository root)::

    .venv/bin/python bench/workflow_time.py --json workflow_time.json --markdown workflow_time.md
    .venv/bin/python bench/workflow_time.py --tree /tmp/before --config sampling.tune=1000
    .venv/bin/python bench/workflow_time.py --compiledir /tmp/cache   # twice: cold, warm

``--config KEY=VALUE`` is passed to Snakemake's ``--config``; ``--configfile extra.yaml`` is
merged over ``config/config.yaml`` (e.g. other sampler settings: ``bench/sampling_target.yaml``).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run_workflow(
    tree: Path,
    work: Path,
    cores: int,
    config: list[str],
    compiledir: Path | None,
    extra: Path | None,
) -> float:
    """Clone ``tree`` into ``work``, run the workflow there (with the configuration file
    ``extra`` over the default one, if given) with PyTensor's compile directory
    ``compiledir`` (None: the user's own); its wall time (s)."""
    subprocess.run(["git", "clone", "--quiet", str(tree), str(work)], check=True)
    (work / ".venv").symlink_to(REPO / ".venv")
    env = dict(os.environ)
    if compiledir is not None:
        env["PYTENSOR_FLAGS"] = f"base_compiledir={compiledir.resolve()}"
    command = [str(REPO / ".venv" / "bin" / "snakemake"), "--cores", str(cores)]
    if extra is not None:
        command += ["--configfile", "config/config.yaml", str(extra.resolve())]
    if config:
        command += ["--config", *config]
    started = time.perf_counter()
    with open(work / "snakemake.log", "w") as log:
        subprocess.run(command, cwd=work, env=env, check=True, stdout=log, stderr=log)
    return time.perf_counter() - started


def rule_times(work: Path) -> dict[str, dict[str, float]]:
    """Per rule: jobs and seconds summed over its ``benchmarks/`` files (the rule is the
    directory holding a file, or the file's stem for a rule with one job)."""
    totals: dict[str, dict[str, float]] = defaultdict(lambda: {"jobs": 0, "seconds": 0.0})
    for path in sorted((work / "benchmarks").rglob("*.tsv")):
        with path.open() as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        parts = path.relative_to(work / "benchmarks").parts
        rule = parts[-2] if len(parts) > 2 else path.stem
        totals[rule]["jobs"] += 1
        totals[rule]["seconds"] += sum(float(row["s"]) for row in rows)
    return dict(totals)


def fit_costs(work: Path) -> list[dict[str, Any]]:
    """Per trace under ``results/``: fit time (its benchmark), sampling and compile time,
    gradient evaluations, draws per chain, smallest bulk ESS of its free parameters and
    that per second of sampling."""
    sys.path.insert(0, str(work / "src"))
    import arviz as az

    from clustermix.fit.sampling import load_trace, trace_attrs

    rows = []
    for path in sorted((work / "results").rglob("*.nc")):
        if "traces" not in path.parts and path.name != "trace.nc":
            continue
        idata = load_trace(path)
        attrs = trace_attrs(idata)
        ess = az.ess(idata.posterior, method="bulk")
        smallest = min(float(ess[name].min()) for name in ess.data_vars)
        sampling_s = float(attrs.get("wall_time_s", math.nan))
        label = str(path.relative_to(work / "results"))
        rows.append(
            {
                "trace": label,
                "sampling_s": sampling_s,
                "compile_s": float(attrs.get("compile_time_s", math.nan)),
                "gradient_evaluations": int(attrs.get("gradient_evaluations", -1)),
                "draws_per_chain": int(idata.posterior.sizes["draw"]),
                "min_ess_bulk": smallest,
                "min_ess_bulk_per_s": smallest / sampling_s if sampling_s > 0 else math.nan,
            }
        )
    return rows


def markdown(result: dict[str, Any]) -> str:
    """The report as Markdown."""
    lines = [
        f"Workflow wall time: {result['wall_s']:.0f} s (commit {result['commit'][:7]}, "
        f"{result['cores']} cores, config {result['config'] or 'default'}, "
        f"{result.get('compile_cache', 'cold')} compile cache).",
        "",
        "| rule | jobs | s (sum) |",
        "| --- | ---: | ---: |",
    ]
    rules = sorted(result["rules"].items(), key=lambda item: -item[1]["seconds"])
    lines += [f"| {name} | {row['jobs']:.0f} | {row['seconds']:.1f} |" for name, row in rules]
    lines += [
        "",
        "| trace | sampling s | compile s | gradients | draws/chain | min ESS bulk | per s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["fits"]:
        lines.append(
            f"| {row['trace']} | {row['sampling_s']:.1f} | {row['compile_s']:.1f} | "
            f"{row['gradient_evaluations']} | {row['draws_per_chain']} | "
            f"{row['min_ess_bulk']:.0f} | {row['min_ess_bulk_per_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--config", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--configfile", type=Path, default=None, help="YAML merged over config/config.yaml"
    )
    parser.add_argument(
        "--warm-compiledir", action="store_true", help="the user's own PyTensor compile directory"
    )
    parser.add_argument(
        "--compiledir",
        type=Path,
        default=None,
        help="this PyTensor compile directory, kept (run twice: cold, then with its caches)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="run here and keep it")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="clustermix-workflow-") as scratch:
        work = args.keep or Path(scratch) / "tree"
        compiledir = args.compiledir or (None if args.warm_compiledir else work / ".pytensor")
        cache = "warm" if compiledir is None or any(compiledir.glob("*")) else "cold"
        wall = run_workflow(args.tree, work, args.cores, args.config, compiledir, args.configfile)
        commit = subprocess.run(
            ["git", "-C", str(work), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        result = {
            "commit": commit,  # the tree's, not its path (no local path in a record)
            "cores": args.cores,
            "config": args.config + ([args.configfile.name] if args.configfile else []),
            "compile_cache": cache,  # PyTensor's compile directory before the run
            "wall_s": wall,
            "rules": rule_times(work),
            "fits": fit_costs(work),
        }
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown(result))


if __name__ == "__main__":
    main()

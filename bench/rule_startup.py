"""Per-rule start-up: what each rule's script imports, and what that costs, before any work.

Every rule of the workflow runs one script of ``scripts/`` in a fresh Python process. Before
the script does anything, the interpreter starts and the script's top-level imports run;
for the ~50 small figure and number rules that is most of their time. This benchmark runs,
for each script, a fresh ``python -c`` with exactly the script's top-level import
statements (read with ``ast``) and reports the process's wall time (interpreter start and
imports), whether PyMC, PyTensor, ArviZ or matplotlib were loaded, and the sum over rules.

With ``--tree OLD`` it measures another checkout (e.g. a ``git worktree`` of an earlier
commit, with its own ``src`` and ``scripts``) in the same run, interleaved script by script
so that both see the same load, and prints both columns and their ratio.

Usage (from the repository root)::

    .venv/bin/python bench/rule_startup.py --repeat 3
    git worktree add /tmp/old c8f16c3
    .venv/bin/python bench/rule_startup.py --repeat 3 --tree /tmp/old --markdown startup.md
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The heavy modules whose import a cheap rule should not pay for.
HEAVY = ("pymc", "pytensor", "arviz", "matplotlib")


def import_statements(script: Path) -> list[str]:
    """The script's top-level ``import`` and ``from ... import`` statements, as source."""
    tree = ast.parse(script.read_text())
    return [
        ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
    ]


def measure(script: Path, src: Path) -> dict[str, Any]:
    """One fresh process with ``script``'s imports (``src`` first on the path): its wall
    time (s) and which of :data:`HEAVY` it loaded."""
    code = "\n".join(
        [
            "import sys",
            *import_statements(script),
            f"print(*(m in sys.modules for m in {HEAVY!r}))",
        ]
    )
    env = {**os.environ, "PYTHONPATH": str(src)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        return {"seconds": seconds, "error": result.stderr.strip().splitlines()[-1]}
    loaded = result.stdout.split()
    return {
        "seconds": seconds,
        **{m: flag == "True" for m, flag in zip(HEAVY, loaded, strict=True)},
    }


def run(trees: dict[str, Path], repeat: int) -> dict[str, dict[str, dict[str, Any]]]:
    """Per tree and script: the median wall time over ``repeat`` interleaved runs and the
    heavy modules loaded (from the first run)."""
    names = sorted({p.stem for tree in trees.values() for p in (tree / "scripts").glob("*.py")})
    results: dict[str, dict[str, dict[str, Any]]] = {label: {} for label in trees}
    for name in names:
        for label, tree in trees.items():
            script = tree / "scripts" / f"{name}.py"
            if not script.exists():
                continue
            runs = [measure(script, tree / "src") for _ in range(repeat)]
            row = dict(runs[0])
            row["seconds"] = statistics.median(r["seconds"] for r in runs)
            results[label][name] = row
        print(name, json.dumps({label: results[label].get(name) for label in trees}), flush=True)
    return results


def markdown(results: dict[str, dict[str, dict[str, Any]]]) -> str:
    """A table per script (seconds and heavy imports per tree), with totals."""
    labels = list(results)
    names = sorted({name for rows in results.values() for name in rows})

    def cell(row: dict[str, Any] | None) -> str:
        if row is None:
            return "—"
        if "error" in row:
            return f"error: {row['error']}"
        heavy = ", ".join(m for m in HEAVY if row.get(m))
        return f"{row['seconds']:.2f} ({heavy or 'none heavy'})"

    lines = ["| script | " + " | ".join(labels) + " |", "| --- " * (len(labels) + 1) + "|"]
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(cell(results[lb].get(name)) for lb in labels) + " |"
        )
    totals = []
    for label in labels:
        rows = [r for r in results[label].values() if "error" not in r]
        pymc = sum(1 for r in rows if r.get("pymc"))
        totals.append(f"{sum(r['seconds'] for r in rows):.1f} s, {pymc} of {len(rows)} with PyMC")
    lines.append("| **sum over scripts** | " + " | ".join(totals) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per script (median)")
    parser.add_argument("--tree", type=Path, default=None, help="another checkout to compare")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    trees = {"this tree": REPO}
    if args.tree is not None:
        trees = {f"{args.tree.name}": args.tree.resolve(), **trees}
    results = run(trees, args.repeat)
    report = markdown(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.markdown:
        args.markdown.write_text(report)
    print(report)


if __name__ == "__main__":
    main()

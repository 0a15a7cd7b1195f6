"""The code style the project promises: ruff, snakefmt and Snakemake's linter are clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .conftest import REPO, run_snakemake

BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_is_clean() -> None:
    lint = run(str(BIN / "ruff"), "check", "src", "scripts", "tests", "bench")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = run(str(BIN / "ruff"), "format", "--check", "src", "scripts", "tests", "bench")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr


def test_snakefiles_are_formatted() -> None:
    check = run(str(BIN / "snakefmt"), "--check", "workflow")
    assert check.returncode == 0, check.stdout + check.stderr


def test_snakemake_lint_is_clean(workdir: Path) -> None:
    process = run_snakemake(workdir, "--lint", check=False)
    output = process.stdout + process.stderr
    assert process.returncode == 0, output
    assert "Congratulations" in output, output

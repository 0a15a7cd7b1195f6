"""Shared fixtures: an isolated copy of the workflow to run Snakemake in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
# What a workflow run needs from the repository (no results, no resources).
WORKFLOW_PARTS = (
    "workflow",
    "scripts",
    "src",
    "config",
    "environment.yml",
    "bench/calibration_summary.json",  # the paper's calibration figure reads it
)


def copy_workflow(destination: Path) -> Path:
    """Copy the workflow, scripts, library and config into ``destination``."""
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(
                source,
                destination / part,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "figures", "output"),
            )
        else:
            (destination / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / part)
    return destination


#: The xdist group of every test that reads the shared end-to-end build (``built_paper``).
BUILT_PAPER_GROUP = "built_paper"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep what a fixture shares on one ``pytest-xdist`` worker (``--dist loadgroup``).

    The tests that read the end-to-end build form one group, so that the build runs once;
    every other test is grouped with its module, so that module-scoped fixtures (a fitted
    model, a simulated field) are computed once. Without xdist the marks do nothing.
    """
    for item in items:
        uses_paper = BUILT_PAPER_GROUP in getattr(item, "fixturenames", ())
        group = BUILT_PAPER_GROUP if uses_paper else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh copy of the workflow in a temporary directory."""
    return copy_workflow(tmp_path / "clustermix")


def run_snakemake(
    workdir: Path, *args: str, timeout_s: float = 900, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the workflow's Snakemake in ``workdir`` and return the finished process."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.run(
        [SNAKEMAKE, "--cores", "2", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    if check and process.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({process.returncode}):\n"
            f"{process.stdout[-4000:]}\n{process.stderr[-8000:]}"
        )
    return process


#: The tiny configuration of the end-to-end tests (targets must come before it).
TEST_CONFIG = ("--configfile", "config/test.yaml")
#: On the 2-core test machine a fit spends most of its time compiling and searching for the
#: mode on one core; with one thread per fit (chains then run one after the other) two
#: fits run side by side. The products are the same: each chain has its own seed.
FIT_ONE_THREAD = ("--set-threads", "fit_model=1", "fit_example=1")


@pytest.fixture(scope="session")
def built_paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the workflow in which ``snakemake --cores 2`` on the tiny config has run.

    Shared by every test that inspects the finished products (the PDF, the provenance
    manifest, the report, the arXiv tarball); tests that edit files restore them.
    """
    workdir = copy_workflow(tmp_path_factory.mktemp("paper"))
    run_snakemake(workdir, *FIT_ONE_THREAD, *TEST_CONFIG, timeout_s=1500)
    return workdir


@pytest.fixture
def snakemake_runner() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The :func:`run_snakemake` function, as a fixture."""
    return run_snakemake

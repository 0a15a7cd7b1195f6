"""Shared fixtures: an isolated copy of the workflow to run Snakemake in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Before any test module imports PyMC: PyTensor's C flags as the workflow's scripts get them
# (clustermix.compile_flags), which the Snakemake runs started here inherit.
import clustermix  # noqa: F401

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


#: The test modules that read the shared end-to-end build (``built_paper``). They run on one
#: ``pytest-xdist`` worker, so that the build is made once and never edited by two workers.
BUILT_PAPER_MODULES = frozenset(
    {
        "test_arxiv.py",
        "test_provenance_audit.py",
        "test_report.py",
        "test_slurm.py",
        "test_workflow_clusters.py",
        "test_workflow_paper.py",
    }
)
BUILT_PAPER_GROUP = "built_paper"


def xdist_group(nodeid: str) -> str:
    """The unit of work a ``pytest-xdist`` worker takes whole: the end-to-end build's
    group for :data:`BUILT_PAPER_MODULES`, else the test's module (so that module-scoped
    fixtures, a fitted model or a simulated field, are computed once)."""
    module = nodeid.split("::")[0]
    return BUILT_PAPER_GROUP if Path(module).name in BUILT_PAPER_MODULES else module


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Schedule whole :func:`xdist_group` units, the end-to-end build's first (it is the
    longest). pytest-xdist's own ``loadgroup`` marks do not reach its scheduler under
    pytest 9, so the grouping is done here, from the node ids."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid)

    config.option.loadscopereorder = False  # keep collection order: test_arxiv.py first
    return GroupScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Stop if a test outside :data:`BUILT_PAPER_MODULES` reads the end-to-end build: on
    another worker it would build it a second time, or edit it under another test."""
    strays = [
        item.nodeid
        for item in items
        if BUILT_PAPER_GROUP in getattr(item, "fixturenames", ())
        and xdist_group(item.nodeid) != BUILT_PAPER_GROUP
    ]
    if strays:
        raise pytest.UsageError(
            f"{strays} use the built_paper fixture: add their module to "
            "BUILT_PAPER_MODULES in tests/conftest.py"
        )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A fresh copy of the workflow in a temporary directory."""
    return copy_workflow(tmp_path / "clustermix")


def run_snakemake(
    workdir: Path,
    *args: str,
    timeout_s: float = 900,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the workflow's Snakemake in ``workdir`` and return the finished process
    (``env``: variables to set besides this process's own)."""
    env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
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


@pytest.fixture(scope="session")
def built_paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the workflow in which ``snakemake --cores 2`` on the tiny config has run.

    Shared by every test that inspects the finished products (the PDF, the provenance
    manifest, the report, the arXiv tarball); tests that edit files restore them.
    """
    workdir = copy_workflow(tmp_path_factory.mktemp("paper"))
    run_snakemake(workdir, *TEST_CONFIG, timeout_s=1500)
    return workdir


@pytest.fixture
def snakemake_runner() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The :func:`run_snakemake` function, as a fixture."""
    return run_snakemake

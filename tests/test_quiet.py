"""Only warnings nobody can act on are silenced, each at its source (clustermix.quiet)."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from clustermix.quiet import silence_unactionable_warnings
from clustermix.scripting import logged

from .conftest import REPO

#: Runs PyTensor's BLAS detection, which warns when it finds no BLAS to link.
DETECT_BLAS = (
    "from pytensor.link.c.cmodule import default_blas_ldflags; "
    "print('ldflags=' + default_blas_ldflags())"
)


def blas_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "could not link to a BLAS" in str(w.message)]


def test_the_blas_warning_is_silenced_and_nothing_else() -> None:
    from pytensor.link.c.cmodule import default_blas_ldflags

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ldflags = default_blas_ldflags()
    # Without a BLAS to link (a pip install on a bare machine) PyTensor still says so in
    # these words; where one is found it says nothing and there is nothing to silence.
    assert bool(blas_warnings(caught)) == (ldflags == "")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_unactionable_warnings()
        default_blas_ldflags()
        # the same words from anywhere but PyTensor's C module are not silenced
        warnings.warn(
            "PyTensor could not link to a BLAS installation (test)", UserWarning, stacklevel=1
        )
        warnings.warn("a warning a user can act on", UserWarning, stacklevel=1)
    assert blas_warnings(caught) == ["PyTensor could not link to a BLAS installation (test)"]
    assert "a warning a user can act on" in [str(w.message) for w in caught]


def test_importing_clustermix_installs_the_filters() -> None:
    """As in a workflow script: clustermix imported first, every warning shown."""
    code = f"import clustermix; {DETECT_BLAS}"
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "ldflags=" in done.stdout
    assert "BLAS" not in done.stderr, done.stderr


def test_a_script_logs_pymc_messages_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """PyMC imported before the script's logging is set up adds a console handler of its
    own; the script's logging takes its place, so each message is printed once."""
    root, pymc_logger = logging.getLogger(), logging.getLogger("pymc")
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setattr(pymc_logger, "handlers", [logging.StreamHandler()])
    job = SimpleNamespace(log=[str(tmp_path / "job.log")], rule="fit_model")
    with logged(job):
        pymc_logger.info("Multiprocess sampling (2 chains in 2 jobs)")
    for handler in root.handlers:
        handler.close()
    assert capsys.readouterr().err.count("Multiprocess sampling") == 1
    assert (tmp_path / "job.log").read_text().count("Multiprocess sampling") == 1

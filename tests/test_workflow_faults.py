"""A fit killed by SIGKILL mid-sampling: nothing half-written passes for a trace, the fit
that finished is kept, and the next run redoes only the killed fit."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SNAKEMAKE, TEST_CONFIG, run_snakemake

pytestmark = pytest.mark.slow

TRACES = Path("results/ngc6819/traces")
# One job at a time (--cores 1: a fit declares one thread, so with more cores the two fits
# would run side by side): pmra_1d runs first (--prioritize) and completes; pm_2d is killed
# while it samples (its chains take several seconds on the tiny config, pmra_1d's about
# half as long).
COMPLETED, KILLED = "pmra_1d", "pm_2d"
TARGETS = tuple(str(TRACES / f"{model}.nc") for model in (COMPLETED, KILLED))
KILLED_LOG = Path(f"logs/ngc6819/fit_model/{KILLED}.log")
# What PyMC (the tiny config's backend) logs as its chains start.
SAMPLING_STARTED = re.compile(r"(Multiprocess|Sequential) sampling")
# After the chains start, let them run this long (s) so that the kill lands mid-sampling.
INTO_SAMPLING_S = 1.0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fit_processes(session: int) -> list[int]:
    """Pids of the fit_model job scripts among the processes of ``session``."""
    import psutil

    pids = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        try:
            if os.getsid(process.pid) != session:
                continue
        except ProcessLookupError:
            continue
        if any("fit_model.py" in part for part in process.info["cmdline"] or []):
            pids.append(process.pid)
    return pids


def start_fits(workdir: Path, log: Path) -> subprocess.Popen[bytes]:
    """Snakemake on both fits, in its own session (process group), output to ``log``."""
    command = [SNAKEMAKE, "--cores", "1", *TARGETS]
    command += ["--prioritize", TARGETS[0], *TEST_CONFIG]
    with log.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=workdir,
            env={**os.environ, "MPLBACKEND": "Agg"},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_killed_fit_samples(
    process: subprocess.Popen[bytes], workdir: Path, timeout_s: float = 600
) -> None:
    """Return once the first fit has finished and the second one's chains are running."""
    deadline = time.monotonic() + timeout_s
    log = workdir / KILLED_LOG
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"snakemake ended ({process.returncode}) before {KILLED} sampled")
        started = log.exists() and SAMPLING_STARTED.search(log.read_text(errors="replace"))
        if started and (workdir / TARGETS[0]).exists():
            return
        time.sleep(0.1)
    pytest.fail(f"{KILLED} did not start sampling within {timeout_s} s")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL Snakemake's whole process group and wait until no member is left."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail("processes of the killed Snakemake group survived SIGKILL")


def dry_run_jobs(workdir: Path) -> tuple[dict[str, int], str]:
    """Rule -> jobs a dry run of TARGETS would execute, and the dry run's output."""
    process = run_snakemake(workdir, "-n", *TARGETS, *TEST_CONFIG)
    output = process.stdout + process.stderr
    if "Nothing to be done" in output:
        return {}, output
    table = output.split("Job stats:")[1].split("Reasons:")[0]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M))
    jobs.pop("total", None)
    return {rule: int(count) for rule, count in jobs.items()}, output


def kill_a_writer(workdir: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """A process that SIGKILLs itself while clustermix.io.atomic_path writes ``target``."""
    code = (
        "import os, signal, sys\n"
        "from clustermix.io import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_bytes(b'CDF\\x01 half a trace')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(workdir / "src")}
    return subprocess.run(
        [sys.executable, "-c", code, str(target)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_fit_killed_mid_sampling_is_redone_alone(workdir: Path, tmp_path: Path) -> None:
    first_log = tmp_path / "killed_run.log"
    process = start_fits(workdir, first_log)
    try:
        wait_until_killed_fit_samples(process, workdir)
        # the chains are running: the fit's job script is alive, its trace not yet written
        assert fit_processes(process.pid), "no fit_model job process in the group"
        time.sleep(INTO_SAMPLING_S)
        assert not (workdir / TARGETS[1]).exists(), f"{KILLED} finished before the kill"
        assert fit_processes(process.pid), f"{KILLED}'s job ended before the kill"
    finally:
        if process.poll() is None:
            kill_group(process)
    assert process.returncode == -signal.SIGKILL
    output = first_log.read_text(errors="replace")
    assert f"model={KILLED}" in output and "Finished job" in output, output[-3000:]

    # The finished fit is kept; the killed one left no file under (or like) a trace's name.
    traces = workdir / TRACES
    completed, killed = workdir / TARGETS[0], workdir / TARGETS[1]
    completed_sha, completed_mtime = sha256(completed), completed.stat().st_mtime_ns
    assert not killed.exists()
    assert not (workdir / f"results/ngc6819/membership/{KILLED}.fits").exists()
    leftovers = sorted(p.name for p in traces.iterdir() if p.name != completed.name)
    assert all(name.startswith(f".{KILLED}.nc.") for name in leftovers), leftovers

    # A writer killed inside atomic_path (here: during the write itself) leaves its
    # temporary file, hidden and with a .part suffix, beside the target; no rule's output
    # pattern matches it, so Snakemake still sees the trace as missing (checked below).
    writer = kill_a_writer(workdir, killed)
    assert writer.returncode == -signal.SIGKILL, writer.stderr
    junk = sorted(traces.glob(f".{KILLED}.nc.*.part"))
    assert junk and not killed.exists()

    # The lock of the killed run is released by --unlock; then exactly the killed fit is
    # due, and the second run redoes it alone.
    run_snakemake(workdir, "--unlock", *TARGETS, *TEST_CONFIG)
    jobs, dry = dry_run_jobs(workdir)
    assert jobs == {"fit_model": 1}, dry[-3000:]
    assert re.findall(r"model=(\w+)", dry) == [KILLED], dry[-3000:]

    rerun = run_snakemake(workdir, *TARGETS, *TEST_CONFIG)
    rerun_output = rerun.stdout + rerun.stderr
    assert re.findall(r"model=(\w+)", rerun_output) == [KILLED], rerun_output[-3000:]
    assert sha256(completed) == completed_sha
    assert completed.stat().st_mtime_ns == completed_mtime

    from clustermix.fit.sampling import load_trace, trace_attrs

    assert trace_attrs(load_trace(killed))["model"] == KILLED
    assert trace_attrs(load_trace(completed))["model"] == COMPLETED
    # The rewrite cleared the killed writer's temporary file.
    assert not list(traces.glob(f".{KILLED}.nc.*.part"))

"""The SLURM profile on a real SLURM.

A single-node cluster on loopback (tests/slurm/loopback_slurm.sh, with slurmdbd, so job status
comes from sacct as on a real cluster) runs the data stage and two fits of ngc6819 with their
summaries through ``--profile workflow/profiles/slurm``. Every job must have gone through
SLURM, and every output must equal the local run's (the session's ``built_paper``): same
seeds, same numbers.

Needs root (the daemons, /etc/slurm/slurm.conf) and Debian's SLURM packages (installed with
apt-get when missing); skipped otherwise, with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pytest
import xarray as xr
import yaml
from astropy.io import fits

from .conftest import SNAKEMAKE, TEST_CONFIG, copy_workflow

SCRIPT = Path(__file__).parent / "slurm" / "loopback_slurm.sh"
#: What loopback_slurm.sh exits with when this machine cannot host a loopback-only cluster.
CANNOT_RUN_HERE = 3
CLUSTER = "ngc6819"
#: The two fastest fits: multi-core jobs and concurrent single-core summaries are covered
#: by these; each further fit adds a minute or more of CI time, not coverage.
MODELS = ("pmra_1d", "pm_2d")  # the two fastest fits
#: A target made by one of the workflow's `localrules` (num_literature): it must run where
#: Snakemake runs, not as a SLURM job.
LOCAL_TARGET = "src/tex/output/literature.tex"
LOCAL_RULE = "num_literature"
#: Hard limit of the SLURM run (seconds); it takes 2 to 3 minutes on 2 shared cores.
TIMEOUT_S = 900
#: Keys of JSON outputs that may differ between two runs of the same fit: times, dates,
#: hosts, and the code's commit (a working tree may be committed between the two runs).
RUN_SPECIFIC_KEY = re.compile(r"time|date|created|host|code_version", re.IGNORECASE)


def slurm_targets() -> list[str]:
    """The files the SLURM run is asked for: the data stage, the fits of MODELS, and one
    number file made by a local rule."""
    base = f"results/{CLUSTER}"
    return [LOCAL_TARGET, f"{base}/catalog.fits", f"{base}/masks.fits"] + [
        f"{base}/{kind}/{model}.{extension}"
        for model in MODELS
        for kind, extension in (
            ("traces", "nc"),
            ("membership", "fits"),
            ("summary", "json"),
            ("diagnostics", "json"),
        )
    ]


def skip_reason() -> str | None:
    """Why the loopback cluster cannot run here, or None if it can."""
    if os.geteuid() != 0:
        return "the loopback SLURM cluster needs root (daemons, /etc/slurm/slurm.conf)"
    if not Path("/etc/debian_version").exists():
        return "the loopback SLURM cluster needs Debian's SLURM packages (not Debian)"
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        return "the loopback SLURM cluster needs apt-get to install SLURM"
    if shutil.which("timeout") is None:
        return "the SLURM run needs timeout (coreutils) as a hard limit"
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        address = "nothing"
    if not address.startswith("127."):
        # The daemons bind what the hostname resolves to (see loopback_slurm.sh).
        return f"the hostname resolves to {address}, not loopback: SLURM would listen on it"
    return None


#: Decided at collection, so that a skip does not first wait for the local run.
SKIP_REASON = skip_reason()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SKIP_REASON is not None, reason=f"{SKIP_REASON}"),
]


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=value lines of ``path`` as a dict."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


@pytest.fixture
def loopback_slurm(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[dict[str, str]]:
    """A running single-node SLURM cluster; yields its cluster.env (ACCOUNT, PARTITION...).

    The cluster is stopped (daemons by PID, /etc/slurm/slurm.conf restored) however the
    test ends; its directory has the daemons' logs.
    """
    directory = tmp_path_factory.mktemp("slurm")

    def stop() -> None:
        subprocess.run(["bash", str(SCRIPT), "stop", str(directory)], timeout=120, check=False)

    # Registered before the start, so that a start that fails half-way is cleaned up too.
    request.addfinalizer(stop)
    started = time.monotonic()
    process = subprocess.run(
        ["bash", str(SCRIPT), "start", str(directory)],
        capture_output=True,
        text=True,
        timeout=900,  # apt-get install included
    )
    if process.returncode == CANNOT_RUN_HERE:
        pytest.skip(f"loopback SLURM cannot run here: {process.stderr.strip()}")
    if process.returncode != 0:
        pytest.fail(f"loopback SLURM did not start ({process.returncode}):\n{process.stderr}")
    env = read_env_file(directory / "cluster.env")
    env["DIRECTORY"] = str(directory)
    env["START_S"] = f"{time.monotonic() - started:.1f}"
    yield env


def run_slurm_workflow(workdir: Path, account: str, partition: str) -> str:
    """Run the SLURM targets through the SLURM profile; return Snakemake's output.

    On a failure (or the time limit), unlock the directory and fail with the logs.
    """
    command = [
        "timeout",
        "-k",
        "10",
        str(TIMEOUT_S),
        SNAKEMAKE,
        # Targets first: --default-resources and --configfile take every word after them.
        *slurm_targets(),
        "--profile",
        "workflow/profiles/slurm",
        # Status checks 1, 12, 33... s after a submission or a finished job (the interval
        # grows by 10 s), not 20, 50, 90... as in the profile: these jobs take seconds.
        "--slurm-init-seconds-before-status-checks",
        "1",
        "--slurm-keep-successful-logs",
        "--default-resources",
        f"slurm_account={account}",
        f"slurm_partition={partition}",
        *TEST_CONFIG,
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.run(
        command,
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S + 60,
    )
    output = process.stdout + process.stderr
    if process.returncode != 0:
        subprocess.run(
            [SNAKEMAKE, "--unlock", *TEST_CONFIG],
            cwd=workdir,
            env=env,
            capture_output=True,
            timeout=120,
        )
        job_logs = "\n".join(
            f"--- {log}\n{log.read_text()[-2000:]}"
            for log in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
        )
        limit = " (time limit)" if process.returncode in (124, 137) else ""
        pytest.fail(
            f"snakemake on SLURM failed ({process.returncode}{limit}):\n"
            f"{output[-6000:]}\n{job_logs[-6000:]}"
        )
    return output


def slurm_jobs(output: str) -> dict[str, str]:
    """SLURM job id -> rule, from Snakemake's submission messages."""
    pattern = r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/"
    return dict(re.findall(pattern, output))


def sacct_records(job_ids: list[str], slurm_conf: str) -> dict[str, dict[str, str]]:
    """Accounting records (state, account, partition, CPUs) of the jobs, by job id."""
    fields = ["JobIDRaw", "State", "Account", "Partition", "AllocCPUS"]
    process = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), f"--format={','.join(fields)}"],
        env={**os.environ, "SLURM_CONF": slurm_conf},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    records = (
        dict(zip(fields, line.split("|"), strict=True)) for line in process.stdout.splitlines()
    )
    return {record["JobIDRaw"]: record for record in records}


def without_run_specific(value: Any) -> Any:
    """``value`` (parsed JSON) without the keys that RUN_SPECIFIC_KEY matches."""
    if isinstance(value, dict):
        return {
            k: without_run_specific(v) for k, v in value.items() if not RUN_SPECIFIC_KEY.search(k)
        }
    if isinstance(value, list):
        return [without_run_specific(item) for item in value]
    return value


def assert_same_fits(path: Path, reference: Path) -> None:
    """The two FITS files hold the same HDUs with the same data (headers may differ)."""
    with fits.open(path) as hdus, fits.open(reference) as reference_hdus:
        assert len(hdus) == len(reference_hdus), path
        for hdu, reference_hdu in zip(hdus, reference_hdus, strict=True):
            if isinstance(hdu, fits.BinTableHDU | fits.TableHDU):
                assert hdu.columns.names == reference_hdu.columns.names, path
                for name in hdu.columns.names:
                    np.testing.assert_array_equal(
                        hdu.data[name], reference_hdu.data[name], err_msg=f"{path}: {name}"
                    )
            elif hdu.data is None:
                assert reference_hdu.data is None, path
            else:
                np.testing.assert_array_equal(hdu.data, reference_hdu.data, err_msg=str(path))


def assert_same_posterior(path: Path, reference: Path) -> None:
    """The two traces hold the same posterior draws (attributes, e.g. times, aside)."""
    xr.testing.assert_equal(az.from_netcdf(path).posterior, az.from_netcdf(reference).posterior)


def assert_same_output(path: Path, reference: Path) -> None:
    """``path`` (made on SLURM) has the contents of ``reference`` (made locally)."""
    assert reference.exists(), f"the local run did not make {reference}"
    if path.suffix == ".nc":
        assert_same_posterior(path, reference)
    elif path.suffix == ".fits":
        assert_same_fits(path, reference)
    elif path.suffix == ".json":
        assert without_run_specific(json.loads(path.read_text())) == without_run_specific(
            json.loads(reference.read_text())
        ), path
    else:
        assert path.read_bytes() == reference.read_bytes(), path


def test_workflow_on_slurm(
    built_paper: Path,
    loopback_slurm: dict[str, str],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    """Data stage and two fits through the SLURM profile: on SLURM, with the same results."""
    workdir = copy_workflow(tmp_path / "clustermix")
    started = time.monotonic()
    output = run_slurm_workflow(workdir, loopback_slurm["ACCOUNT"], loopback_slurm["PARTITION"])
    run_s = time.monotonic() - started

    # (a) Every job but the local rule's went through SLURM, under the account and partition
    # given, and the fits got one core per chain.
    jobs = slurm_jobs(output)
    stats = re.search(r"^total\s+(\d+)$", output, re.MULTILINE)
    assert stats, f"no job stats in Snakemake's output:\n{output}"
    n_jobs = int(stats.group(1))
    assert f"localrule {LOCAL_RULE}:" in output, output
    assert LOCAL_RULE not in jobs.values(), jobs
    assert len(jobs) == n_jobs - 1, f"{n_jobs} jobs, {len(jobs)} SLURM submissions:\n{output}"
    records = sacct_records(sorted(jobs), loopback_slurm["SLURM_CONF"])
    chains = yaml.safe_load((workdir / TEST_CONFIG[1]).read_text())["sampling"]["chains"]
    for job_id, rule in jobs.items():
        record = records[job_id]
        assert record["State"] == "COMPLETED", record
        assert record["Account"] == loopback_slurm["ACCOUNT"], record
        assert record["Partition"] == loopback_slurm["PARTITION"], record
        expected_cpus = chains if rule == "fit_model" else 1
        assert int(record["AllocCPUS"]) == expected_cpus, (rule, record)
    assert sorted(jobs.values()).count("fit_model") == len(MODELS)

    # (b) The same files as the local run, with the same contents.
    made = sorted(
        path
        for folder in ("resources", "results", "src/tex/output")
        for path in (workdir / folder).rglob("*")
        if path.is_file()
    )
    made_names = {str(path.relative_to(workdir)) for path in made}
    assert set(slurm_targets()) <= made_names
    for path in made:
        assert_same_output(path, built_paper / path.relative_to(workdir))

    # The whole test's time: cluster start, SLURM run, cluster stop (the finalizer's stop
    # is then a no-op).
    stopped = time.monotonic()
    subprocess.run(
        ["bash", str(SCRIPT), "stop", loopback_slurm["DIRECTORY"]], timeout=120, check=True
    )
    stop_s = time.monotonic() - stopped
    record_property("slurm_start_s", loopback_slurm["START_S"])
    record_property("slurm_run_s", f"{run_s:.1f}")
    record_property("slurm_stop_s", f"{stop_s:.1f}")
    record_property("slurm_jobs", n_jobs)
    print(
        f"SLURM: start {loopback_slurm['START_S']} s, run {run_s:.1f} s for {n_jobs} jobs, "
        f"stop {stop_s:.1f} s"
    )

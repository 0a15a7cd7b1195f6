"""What clustermix reads from Snakemake, checked against a tiny real workflow.

The provenance manifest and ``clustermix audit`` read Snakemake's public summary
(:mod:`clustermix.provenance.snakemake_summary`) and, for what it does not show, Snakemake's
private records (:mod:`clustermix.provenance.snakemake_records`). A workflow of three
trivial rules runs here (a few seconds) with the installed Snakemake; if a new Snakemake
lays its records out differently or changes the summary's columns, these tests fail with a
message naming the Snakemake version and the missing key, folder or column.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clustermix.provenance.snakemake_records import (
    SnakemakeLayoutError,
    check_layout,
    is_incomplete,
    job_record,
    record_path,
    wall_time_s,
)
from clustermix.provenance.snakemake_summary import (
    DETAILED_COLUMNS,
    SnakemakeSummaryError,
    config_arguments,
    parse_summary,
    run_summary,
    snakemake_version,
)

#: An output whose encoded name is longer than a file name may be (split into folders).
LONG = "out/" + "x" * 220 + ".txt"
SNAKEFILE = """
import os

rule all:
    input:
        "out/b.txt",
        {long!r},

rule a:
    output:
        "out/a.txt",
    log:
        "logs/a.log",
    params:
        greeting=config["greeting"],
    shell:
        "echo {{params.greeting}} > {{output}} && echo done > {{log}}"

rule b:
    input:
        "out/a.txt",
    output:
        "out/b.txt",
    run:
        # Snakemake marks the job incomplete while it runs: is the marker where we look?
        with open(output[0], "w") as handle:
            handle.write(str(os.path.exists({marker!r})))

rule long_name:
    output:
        {long!r},
    shell:
        "touch {{output}}"
"""


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed Snakemake in ``workdir`` (one core, no profile)."""
    process = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    return process


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of the three-rule workflow, with ``--config greeting=hello``."""
    workdir = tmp_path_factory.mktemp("tiny_workflow")
    marker = record_path(workdir, "out/b.txt", "incomplete")
    (workdir / "Snakefile").write_text(SNAKEFILE.format(long=LONG, marker=str(marker)))
    snakemake(workdir, "--config", "greeting=hello")
    return workdir


def test_private_records_are_where_clustermix_reads_them(tiny_run: Path) -> None:
    before = time.time()
    record = check_layout(tiny_run, "out/a.txt")
    assert record.starttime is not None and record.endtime is not None
    # the end time is the output's modification time: for a job this short it may
    # precede the recorded start by a millisecond
    assert max(record.starttime, record.endtime) <= before
    assert record.wall_time_s is not None and 0 <= record.wall_time_s < 60
    assert "hello" in json.dumps(record.params)
    # a long output's record sits in folders prefixed with "@"
    long_record = check_layout(tiny_run, LONG)
    assert long_record.endtime is not None
    folders = record_path(tiny_run, LONG).relative_to(tiny_run / ".snakemake/metadata").parts
    assert len(folders) > 1 and all(part.startswith("@") for part in folders[:-1])
    assert job_record(tiny_run, "Snakefile") is None  # not made by Snakemake


def test_the_incomplete_marker_exists_while_a_job_runs(tiny_run: Path) -> None:
    marker_seen = (tiny_run / "out/b.txt").read_text()
    assert marker_seen == "True", (
        f"Snakemake {snakemake_version()}: no incomplete marker at "
        f"{record_path(tiny_run, 'out/b.txt', 'incomplete')} while its job ran"
    )
    assert not is_incomplete(tiny_run, "out/b.txt")


def test_the_public_summary_gives_rule_inputs_and_logs(tiny_run: Path) -> None:
    same_config = config_arguments(config={"greeting": "hello"})
    assert same_config == ["--config", 'greeting="hello"']
    rows = run_summary(tiny_run, config={"greeting": "hello"}, targets=["out/b.txt"])
    assert set(rows) == {"out/a.txt", "out/b.txt"}  # the targets' jobs only
    a, b = rows["out/a.txt"], rows["out/b.txt"]
    assert (a.rule, a.inputs, a.log, a.status, a.plan) == (
        "a",
        [],
        ["logs/a.log"],
        "ok",
        "no update",
    )
    assert a.shellcmd == "echo hello > out/a.txt && echo done > logs/a.log"
    assert (b.rule, b.inputs, b.log, b.shellcmd) == ("b", ["out/a.txt"], [], None)
    assert a.recorded and b.recorded

    # the short summary, with another value for the config: Snakemake's verdict
    changed = run_summary(tiny_run, detailed=False, config={"greeting": "bye"})
    assert changed["out/a.txt"].status == "params changed"
    assert changed["out/b.txt"].status == "ok"
    assert changed[LONG].inputs is None  # not in the short summary


def test_unexpected_layouts_fail_naming_the_version(tmp_path: Path) -> None:
    location = record_path(tmp_path, "out/a.txt")
    location.parent.mkdir(parents=True)
    location.write_text(json.dumps({"rule": "a", "starttime": 1.0, "params": []}))
    with pytest.raises(SnakemakeLayoutError, match=r"Snakemake \S+: .* has no endtime; "):
        job_record(tmp_path, "out/a.txt")
    location.write_text("not json")
    with pytest.raises(SnakemakeLayoutError, match="not valid JSON"):
        job_record(tmp_path, "out/a.txt")
    with pytest.raises(SnakemakeLayoutError, match=r"no metadata record of out/b\.txt"):
        check_layout(tmp_path, "out/b.txt")
    with pytest.raises(SnakemakeLayoutError, match=r"no folder .*metadata"):
        check_layout(tmp_path / "elsewhere", "out/a.txt")

    with pytest.raises(SnakemakeSummaryError, match=r"Snakemake \S+: .* expects the columns"):
        parse_summary("output_file\tdate\trule\tstatus\n", detailed=True)
    with pytest.raises(SnakemakeSummaryError, match="no header"):
        parse_summary("Building DAG of jobs...\n", detailed=False)
    header = "\t".join(DETAILED_COLUMNS)
    rows = parse_summary(
        f"{header}\nx.txt\t-\tr\t-\t-\t-\tmissing\tupdate pending\n", detailed=True
    )
    assert not rows["x.txt"].recorded and rows["x.txt"].date is None


def test_config_arguments_round_trip() -> None:
    arguments = config_arguments(
        ["config/test.yaml"], {"data": {"source": "archive"}, "n": 3, "off": None}
    )
    assert arguments == [
        "--configfile",
        "config/test.yaml",
        "--config",
        'data={"source": "archive"}',
        "n=3",
        "off=",
    ]


def test_wall_time_from_a_record() -> None:
    assert wall_time_s({"starttime": 10.0, "endtime": 12.5}) == 2.5
    assert wall_time_s({"starttime": None, "endtime": 12.5}) is None

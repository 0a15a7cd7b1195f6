"""What Snakemake says about a workflow's outputs through its public command line.

``snakemake --detailed-summary`` prints one tab-separated row per output file of the jobs
needed for the targets: the output, its modification date, the rule, the recorded log
files, the recorded input files, the recorded shell command, its status (``ok``,
``missing``, ``params changed`` ...) and the plan (``no update``/``update pending``);
``snakemake --summary`` prints the same without the input files and the shell command.
Both read Snakemake's records through Snakemake itself, whatever persistence backend it
uses, so the provenance manifest and ``clustermix audit`` take the rule, inputs and logs
of every file from here. What the summary does not show (start and end times, params,
jobs left incomplete) is read from Snakemake's private records by
:mod:`clustermix.provenance.snakemake_records`, the one module that knows their layout.

Snakemake runs as ``python -m snakemake`` with the interpreter running this module (the
Snakemake that ran the workflow), else the ``snakemake`` on PATH. Tested with the
Snakemake 9 versions listed in :mod:`clustermix.provenance.snakemake_records`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any

from clustermix.errors import ClusterMixError
from clustermix.io import PathLike

#: The header of ``snakemake --detailed-summary`` (Snakemake 9).
DETAILED_COLUMNS = (
    "output_file",
    "date",
    "rule",
    "log-file(s)",
    "input-file(s)",
    "shellcmd",
    "status",
    "plan",
)
#: The header of ``snakemake --summary`` (Snakemake 9).
SHORT_COLUMNS = ("output_file", "date", "rule", "log-file(s)", "status", "plan")
#: What the summary prints in place of a value Snakemake has no record of.
NO_RECORD = "-"
#: Seconds a summary may take (it builds the DAG; a few seconds for this workflow).
SUMMARY_TIMEOUT_S = 600


class SnakemakeSummaryError(ClusterMixError):
    """Snakemake's summary could not be obtained or does not have the expected columns."""


@dataclass(frozen=True)
class SummaryRow:
    """One output file of ``snakemake --(detailed-)summary``.

    ``log``, ``inputs`` and ``shellcmd`` are what Snakemake recorded when the file was made
    (None when it has no record of the file: never made by Snakemake, or the summary was not
    detailed); ``rule`` is the rule that makes the file in the workflow as it is now.
    """

    output: str
    date: str | None
    rule: str
    log: list[str] | None
    inputs: list[str] | None
    shellcmd: str | None
    status: str
    plan: str

    @property
    def recorded(self) -> bool:
        """True if Snakemake holds a record of the job that made this file."""
        return self.inputs is not None


def snakemake_command() -> list[str]:
    """The command that runs the Snakemake of this environment (``python -m snakemake``),
    else the ``snakemake`` on PATH; empty if there is none."""
    if find_spec("snakemake") is not None:
        return [sys.executable, "-m", "snakemake"]
    found = shutil.which("snakemake")
    return [found] if found else []


def config_arguments(
    configfiles: Sequence[str] = (), config: Mapping[str, Any] | None = None
) -> list[str]:
    """``--configfile``/``--config`` arguments that give Snakemake the same configuration.

    ``config`` holds the values given with ``--config`` (Snakemake's
    ``workflow.overwrite_config``); each top-level key is passed back as ``key=<JSON>``,
    which Snakemake's parser reads to the same value.
    """
    arguments: list[str] = []
    if configfiles:
        arguments += ["--configfile", *[str(name) for name in configfiles]]
    if config:
        items = [
            f"{key}=" if value is None else f"{key}={json.dumps(value)}"
            for key, value in config.items()
        ]
        arguments += ["--config", *items]
    return arguments


def parse_summary(text: str, *, detailed: bool) -> dict[str, SummaryRow]:
    """Output file -> :class:`SummaryRow` from the standard output of a summary.

    Raises :class:`SnakemakeSummaryError`, naming the Snakemake version, when the header is
    absent or its columns differ from :data:`DETAILED_COLUMNS`/:data:`SHORT_COLUMNS`.
    """
    expected = DETAILED_COLUMNS if detailed else SHORT_COLUMNS
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("output_file\t")), None)
    if start is None or tuple(lines[start].split("\t")) != expected:
        found = "no header" if start is None else repr(lines[start])
        raise SnakemakeSummaryError(
            f"Snakemake {snakemake_version()}: the {'detailed ' if detailed else ''}summary "
            f"has {found}; clustermix expects the columns {', '.join(expected)}"
        )
    rows: dict[str, SummaryRow] = {}
    for line in lines[start + 1 :]:
        values = line.split("\t")
        if len(values) != len(expected):
            continue  # a message that is not a row
        row = dict(zip(expected, values, strict=True))
        rows[row["output_file"]] = SummaryRow(
            output=row["output_file"],
            date=None if row["date"] == NO_RECORD else row["date"],
            rule=row["rule"],
            log=_file_list(row["log-file(s)"]),
            inputs=_file_list(row["input-file(s)"]) if detailed else None,
            shellcmd=_value(row["shellcmd"]) if detailed else None,
            status=row["status"],
            plan=row["plan"],
        )
    return rows


def run_summary(
    workdir: PathLike,
    *,
    detailed: bool = True,
    configfiles: Sequence[str] = (),
    config: Mapping[str, Any] | None = None,
    targets: Sequence[str] = (),
) -> dict[str, SummaryRow]:
    """Run ``snakemake --(detailed-)summary`` in ``workdir`` and parse it.

    ``targets`` limit the summary to the jobs they need (all of the workflow's default
    target when empty). Raises :class:`SnakemakeSummaryError` when Snakemake is not found,
    fails or prints an unexpected table.
    """
    command = snakemake_command()
    if not command:
        raise SnakemakeSummaryError("Snakemake is not installed in this environment")
    option = "--detailed-summary" if detailed else "--summary"
    arguments = [*command, option, *config_arguments(configfiles, config)]
    if targets:
        arguments += ["--", *targets]
    try:
        process = subprocess.run(
            arguments,
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=SUMMARY_TIMEOUT_S,
        )
    except (OSError, subprocess.SubprocessError) as err:
        raise SnakemakeSummaryError(f"`snakemake {option}` could not run: {err}") from err
    if process.returncode != 0:
        tail = "\n".join(process.stderr.strip().splitlines()[-15:])
        status = process.returncode
        raise SnakemakeSummaryError(f"`snakemake {option}` failed ({status}) in {workdir}:\n{tail}")
    return parse_summary(process.stdout, detailed=detailed)


def snakemake_version() -> str:
    """The installed Snakemake's version (``unknown`` if it is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("snakemake")
    except PackageNotFoundError:
        return "unknown"


def _file_list(value: str) -> list[str] | None:
    """A comma-separated file column: None for no record, [] for a job without files."""
    if value == NO_RECORD:
        return None
    return [item for item in value.split(",") if item]


def _value(value: str) -> str | None:
    return None if value == NO_RECORD else value

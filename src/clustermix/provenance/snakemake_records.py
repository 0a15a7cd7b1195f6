"""The one module that reads Snakemake's private records (``.snakemake/``).

Most of what the provenance manifest and ``clustermix audit`` need from Snakemake comes
through its public command line (:mod:`clustermix.provenance.snakemake_summary`: the rule, inputs,
logs and shell command of each output, and whether its params changed). What no public
interface shows is read here, from Snakemake's file persistence (the default backend):

- ``.snakemake/metadata/<key>``: one JSON record per output file, of which clustermix
  reads only :data:`USED_KEYS`: the job's ``starttime`` and ``endtime`` (Unix seconds)
  and its ``params``;
- ``.snakemake/incomplete/<key>``: a marker for each output of a job that started and has
  not finished (killed, crashed or still running).

``<key>`` is the output's path as the workflow names it, URL-safe base64 encoded, split
into folders of at most NAME_MAX characters (all but the last prefixed with ``@``).
Snakemake's report plugins receive start and end times too, but only in a report run over
the whole finished workflow, after the manifest is built. A scheduler's job id
(``external_jobid``) is kept only in the incomplete marker while the job runs: Snakemake 9
leaves it empty in the finished record, so clustermix does not read it.

This layout is not a public interface. ``tests/test_snakemake_records.py`` runs a tiny
workflow and checks it with :func:`check_layout`, which fails naming the Snakemake version
and the missing key or path. Tested with Snakemake 9.0.0, 9.6.0, 9.9.0, 9.12.0, 9.18.2,
9.23.1 and 9.27.1 (``pyproject.toml`` allows ``>=9.0,<10``; README, "Development", gives
the command that re-tests a version). With another persistence backend (the
``--persistence-backend db`` of recent releases) there are no files here: the manifest
then lacks times and params, and the audit cannot see interrupted jobs.
"""

from __future__ import annotations

import json
import os
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustermix.errors import ClusterMixError
from clustermix.io import PathLike
from clustermix.provenance.snakemake_summary import snakemake_version

#: Snakemake's per-workflow state folder, relative to the working directory.
STATE_DIR = ".snakemake"
#: The folders of ``STATE_DIR`` this module reads.
KINDS = ("metadata", "incomplete")
#: The keys of a metadata record that clustermix reads.
USED_KEYS = ("starttime", "endtime", "params")


class SnakemakeLayoutError(ClusterMixError):
    """Snakemake's private records are not laid out as this module expects."""


@dataclass(frozen=True)
class JobRecord:
    """What only Snakemake's private record of an output says about the job that made it."""

    starttime: float | None
    endtime: float | None
    params: Any

    @property
    def wall_time_s(self) -> float | None:
        """The job's wall time in seconds (None if a time is missing)."""
        return wall_time_s({"starttime": self.starttime, "endtime": self.endtime})


def record_path(workdir: PathLike, path: str, kind: str = "metadata") -> Path:
    """Where Snakemake keeps the ``kind`` (``metadata`` or ``incomplete``) entry of ``path``.

    ``path`` is the output path as the workflow names it (relative to ``workdir``).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    folder = Path(workdir) / STATE_DIR / kind
    max_len = _name_max(folder)
    encoded = urlsafe_b64encode(path.encode()).decode()
    parts = [encoded[i : i + max_len - 1] for i in range(0, len(encoded), max_len - 1)]
    parts = ["@" + part for part in parts[:-1]] + [parts[-1]]
    return folder.joinpath(*parts)


def read_record(workdir: PathLike, path: str) -> dict[str, Any] | None:
    """Snakemake's whole metadata record of output ``path``, or None if it has none.

    A file Snakemake did not make (the user's catalogue, a source file) has no record.
    """
    location = record_path(workdir, path)
    try:
        record = json.loads(location.read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SnakemakeLayoutError(
            f"Snakemake {snakemake_version()}: the metadata record {location} is not valid "
            f"JSON: {err}"
        ) from err
    if not isinstance(record, dict):
        raise SnakemakeLayoutError(
            f"Snakemake {snakemake_version()}: the metadata record {location} is a "
            f"{type(record).__name__}, not a JSON object"
        )
    return record


def job_record(workdir: PathLike, path: str) -> JobRecord | None:
    """The :data:`USED_KEYS` of output ``path``'s record (None if it has no record).

    Raises :class:`SnakemakeLayoutError` if the record lacks one of them.
    """
    record = read_record(workdir, path)
    if record is None:
        return None
    missing = [key for key in USED_KEYS if key not in record]
    if missing:
        raise SnakemakeLayoutError(
            f"Snakemake {snakemake_version()}: the metadata record of {path} "
            f"({record_path(workdir, path)}) has no {', '.join(missing)}; its keys are "
            f"{', '.join(sorted(record))}"
        )
    return JobRecord(
        starttime=_float_or_none(record["starttime"]),
        endtime=_float_or_none(record["endtime"]),
        params=record["params"],
    )


def is_incomplete(workdir: PathLike, path: str) -> bool:
    """True if a job writing ``path`` started and never finished (killed, crashed, running)."""
    return record_path(workdir, path, "incomplete").exists()


def wall_time_s(record: dict[str, Any]) -> float | None:
    """The job's wall time in seconds from a record's start and end times."""
    start, end = record.get("starttime"), record.get("endtime")
    if start is None or end is None:
        return None
    return round(max(float(end) - float(start), 0.0), 3)


def check_layout(workdir: PathLike, made: str) -> JobRecord:
    """Check the layout this module expects against a workflow that has run in ``workdir``.

    ``made`` is an output Snakemake has made there. Raises :class:`SnakemakeLayoutError`,
    naming the Snakemake version and the missing folder, file or key, if the metadata
    folder, the record of ``made`` or one of :data:`USED_KEYS` is not where this module
    looks. (The ``incomplete`` folder may be absent when no job is running: Snakemake
    9.18.2, unlike 9.12.0, removes it with the last marker of a long-named output.)
    """
    folder = Path(workdir) / STATE_DIR / "metadata"
    if not folder.is_dir():
        raise SnakemakeLayoutError(
            f"Snakemake {snakemake_version()}: no folder {folder} (clustermix reads "
            "Snakemake's metadata records there)"
        )
    location = record_path(workdir, made)
    if not location.is_file():
        present = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        raise SnakemakeLayoutError(
            f"Snakemake {snakemake_version()}: no metadata record of {made} at {location}; "
            f"{folder} holds {len(present)} files ({', '.join(present[:3]) or 'none'})"
        )
    record = job_record(workdir, made)
    assert record is not None  # the file exists
    if record.starttime is None or record.endtime is None:
        raise SnakemakeLayoutError(
            f"Snakemake {snakemake_version()}: the record of {made} has no start or end time"
        )
    return record


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _name_max(folder: Path) -> int:
    probe = folder if folder.exists() else folder.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX") or 255
    except (OSError, ValueError):
        return 255

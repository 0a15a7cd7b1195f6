"""Read what Snakemake itself records about each output file.

Snakemake (file persistence, the default) keeps one JSON record per output under
``.snakemake/metadata/``: the rule, its inputs, params, log files, start and end times (Unix
seconds), the conda environment and the scheduler's job id. A job that started but did not
finish leaves a marker under ``.snakemake/incomplete/``. Both are named by the output's
path, URL-safe base64 encoded (split into folders of at most NAME_MAX characters).

The provenance manifest is built from these records rather than from a second bookkeeping
of our own; this module only reads them.
"""

from __future__ import annotations

import json
import os
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import Any

#: Snakemake's per-workflow state folder, relative to the working directory.
STATE_DIR = ".snakemake"


def record_path(workdir: str | os.PathLike[str], path: str, kind: str = "metadata") -> Path:
    """Where Snakemake keeps the ``kind`` (``metadata`` or ``incomplete``) entry of ``path``.

    ``path`` is the output path as the workflow names it (relative to ``workdir``).
    """
    folder = Path(workdir) / STATE_DIR / kind
    max_len = _name_max(folder)
    encoded = urlsafe_b64encode(path.encode()).decode()
    parts = [encoded[i : i + max_len - 1] for i in range(0, len(encoded), max_len - 1)]
    parts = ["@" + part for part in parts[:-1]] + [parts[-1]]
    return folder.joinpath(*parts)


def read_record(workdir: str | os.PathLike[str], path: str) -> dict[str, Any] | None:
    """Snakemake's metadata record of output ``path``, or None if it has none.

    A file Snakemake did not make (the user's catalogue, a source file) has no record.
    """
    location = record_path(workdir, path)
    try:
        return json.loads(location.read_text())
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as err:
        raise ValueError(f"{location}: Snakemake metadata record is not valid JSON: {err}") from err


def is_incomplete(workdir: str | os.PathLike[str], path: str) -> bool:
    """True if a job writing ``path`` started and never finished (killed, crashed, running)."""
    return record_path(workdir, path, "incomplete").exists()


def wall_time_s(record: dict[str, Any]) -> float | None:
    """The job's wall time in seconds from a record's start and end times."""
    start, end = record.get("starttime"), record.get("endtime")
    if start is None or end is None:
        return None
    return round(max(float(end) - float(start), 0.0), 3)


def _name_max(folder: Path) -> int:
    probe = folder if folder.exists() else folder.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return os.pathconf(probe, "PC_NAME_MAX") or 255
    except (OSError, ValueError):
        return 255

"""Atomic writes and checksums.

Every workflow output is written to a temporary file in the destination directory and
moved into place with :func:`os.replace`, so a killed job never leaves a half-written
file under the final name.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from astropy.table import Table

#: A file path: a string or any os.PathLike of one.
PathLike = str | os.PathLike[str]


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was. A writer
    killed outright (SIGKILL) cannot remove it: the next write of ``path`` does.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_leftover_parts(final)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def remove_leftover_parts(final: Path) -> None:
    """Delete temporary files that killed writers of ``final`` left beside it.

    Only ``.<name>.<8 random characters>.part`` files of exactly this ``name`` match; one
    job writes a given output, so none of them can belong to a live writer.
    """
    pattern = re.compile(rf"\.{re.escape(final.name)}\.[A-Za-z0-9_]{{8}}\.part")
    for leftover in final.parent.glob(f".{glob.escape(final.name)}.*.part"):
        if pattern.fullmatch(leftover.name):
            leftover.unlink(missing_ok=True)


def write_json_atomic(obj: Any, path: PathLike) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def write_text_atomic(text: str, path: PathLike) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_table_atomic(table: Table, path: PathLike, **kwargs: Any) -> None:
    """Write an astropy table atomically; the format follows the suffix of ``path``."""
    fmt = kwargs.pop("format", None) or _format_for(Path(path))
    with atomic_path(path) as tmp:
        table.write(tmp, format=fmt, overwrite=True, **kwargs)


def sha256_file(path: PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def _current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _format_for(path: Path) -> str:
    suffixes = "".join(path.suffixes).lower()
    for ending, fmt in (
        (".fits.gz", "fits"),
        (".fits", "fits"),
        (".fit", "fits"),
        (".ecsv", "ascii.ecsv"),
        (".csv", "ascii.csv"),
        (".vot", "votable"),
        (".xml", "votable"),
    ):
        if suffixes.endswith(ending):
            return fmt
    raise ValueError(f"{path}: cannot tell the table format from the file name")


def _json_default(obj: Any) -> Any:
    """Turn NumPy scalars and arrays into plain JSON values."""
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__} to JSON")

"""Where an output came from: configuration hash, code version and package versions.

These strings are written into every trace's attributes (see
:func:`clustermix.fit.sampling.stamp_trace`), so that a NetCDF file found on its own still says
which settings, which commit and which libraries produced it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

import clustermix
from clustermix.io import PathLike

#: The source tree this module belongs to (``<repo>/src/clustermix/provenance/origin.py``).
REPO_ROOT = Path(__file__).resolve().parents[3]

#: Packages whose versions are recorded with every fit.
RECORDED_PACKAGES: tuple[str, ...] = (
    "clustermix",
    "pymc",
    "pytensor",
    "nutpie",
    "numpyro",
    "jax",
    "arviz",
    "xarray",
    "h5netcdf",
    "numpy",
    "scipy",
    "astropy",
    "snakemake",
)
#: Trace attributes stored as JSON text (NetCDF attributes cannot hold mappings; see
#: :func:`clustermix.fit.sampling.stamp_trace`).
JSON_ATTRS: frozenset[str] = frozenset(
    {
        "options",
        "sampling",
        "package_versions",
        "field_components",
        "mode_search",
        "hint",
        "priors",
        "sampling_target",
        "whitening",
        "far_stars",
    }
)


def config_hash(settings: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``settings`` as canonical JSON (sorted keys, no whitespace).

    Equal settings give equal hashes whatever the key order; NumPy scalars and arrays are
    hashed by value.
    """
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def code_version(repo: str | Path | None = None) -> str:
    """``git:<commit>`` (plus ``-dirty`` if anything differs from it) or the package version.

    ``repo`` defaults to the checkout this module was imported from. "Dirty" means a tracked
    file is modified or an untracked, non-ignored file exists. Outside a git checkout (an
    installed package, a copied workflow, no git), returns ``clustermix <version>``.
    """
    root = Path(repo) if repo is not None else REPO_ROOT
    try:
        top = _git(root, "rev-parse", "--show-toplevel")
        if Path(top).resolve() != root.resolve():  # an unrelated enclosing repository
            raise FileNotFoundError(top)
        commit = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain"))
    except (OSError, subprocess.SubprocessError):
        return f"clustermix {clustermix.__version__}"
    return f"git:{commit}{'-dirty' if dirty else ''}"


def package_versions(names: Iterable[str] = RECORDED_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (missing packages are left out), plus Python's."""
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def utc_now() -> str:
    """The current time in UTC, ISO 8601 with seconds (``2025-01-31T12:00:00+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read_trace_attrs(path: PathLike) -> dict[str, Any]:
    """The attributes of the trace file at ``path`` as plain Python values, read without
    loading any draws (:func:`clustermix.fit.sampling.trace_attrs` of an open trace)."""
    import h5netcdf

    with h5netcdf.File(path, "r") as handle:
        return decoded_attrs(handle.attrs)


def decoded_attrs(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Trace attributes as :func:`clustermix.fit.sampling.stamp_trace` wrote them -> plain
    Python values (NumPy scalars unwrapped, bytes decoded, :data:`JSON_ATTRS` parsed)."""
    attrs: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, bytes):
            value = value.decode()
        if key in JSON_ATTRS and isinstance(value, str):
            value = json.loads(value) if value else None
        attrs[key] = value
    return attrs


def _git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()


def _plain(obj: Any) -> Any:
    """JSON fallback for NumPy values and paths."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot hash a {type(obj).__name__} in the configuration")

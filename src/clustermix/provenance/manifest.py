"""The provenance manifest: what made every figure and number file the paper includes.

Built by the workflow's ``provenance_manifest`` rule from what Snakemake itself records: the
rule, inputs, logs and shell command of each file from ``snakemake --detailed-summary``
(public; :mod:`clustermix.provenance.snakemake_summary`), the params and the start and end
times from its private records (:mod:`clustermix.provenance.snakemake_records`, the only
module that reads them). It adds only what Snakemake does not keep: the sha256 of every file
in each product's lineage, the script and library files that ran (with hashes), the versions
of the packages they import, the sampler and seed of each fit (from the trace's attributes),
the simulator's seed and truth, the archive query's ADQL and time, the VizieR query of a
reference member list, or the checksum of the user's own catalogue.

Layout (JSON)::

    {"schema": "clustermix-provenance/1", "created": ..., "code_version": ...,
     "commit": ..., "dirty": ...,
     "config": {"files": [...], "command_line": [...], "command_line_values": {...},
                "hash": ..., "values": {...}},
     "software": {...},
     "products": {path: {"kind", "name", "sha256", "lineage": [path, ...]}},
     "files": {path: {"sha256", "size_bytes", "made_by": {...} | None, ...}}}

``products`` are the paper's figures and number files; ``files`` holds one node per file
in any product's lineage (the products included), each naming the job that made it and
that job's inputs, down to the raw catalogue.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clustermix.io import PathLike, sha256_file
from clustermix.provenance.code_imports import distribution_versions, script_dependencies
from clustermix.provenance.origin import (
    code_version,
    config_hash,
    package_versions,
    read_trace_attrs,
    utc_now,
)
from clustermix.provenance.snakemake_records import (
    SnakemakeLayoutError,
    is_incomplete,
    job_record,
    read_record,
)
from clustermix.provenance.snakemake_summary import SummaryRow, run_summary

SCHEMA = "clustermix-provenance/1"
#: A file whose modification time is later than the end of the job that made it, by more
#: than this (seconds), was changed by something else afterwards (an edit by hand).
MODIFIED_TOLERANCE_S = 1.0
#: Trace attributes (see clustermix.fit.run) that say how a fit was sampled.
FIT_ATTRS = (
    "sampler",
    "sampler_version",
    "seed",
    "chains",
    "draws",
    "tune",
    "target_accept",
    "wall_time_s",
    "created",
    "model",
    "cluster",
    "n_stars",
    "code_version",
    "package_versions",
)
#: Truth values of the simulator recorded with its catalogue (units in the truth file).
TRUTH_KEYS = (
    "seed",
    "n_members",
    "n_field",
    "parallax",
    "distance",
    "pmra",
    "pmdec",
    "rv",
    "sigma_v",
    "f_cluster",
)


def build_manifest(
    *,
    figures: Sequence[str],
    numbers: Sequence[str],
    configfiles: Sequence[str],
    command_line_configfiles: Sequence[str] = (),
    command_line_config: Mapping[str, Any] | None = None,
    config: Mapping[str, Any],
    rule_scripts: Mapping[str, str],
    workdir: PathLike = ".",
    src_root: PathLike = "src",
    summary: Mapping[str, SummaryRow] | None = None,
) -> dict[str, Any]:
    """The manifest of ``figures`` and ``numbers`` (paths relative to ``workdir``).

    ``rule_scripts`` maps each rule to its script (relative to ``workdir``);
    ``configfiles`` are every config file of the run; ``command_line_configfiles`` those
    given with ``--configfile`` (they override the Snakefile's ``configfile:``) and
    ``command_line_config`` the values given with ``--config``, which is what Snakemake
    needs to see the same config again. ``summary`` is Snakemake's detailed summary of the
    products (by default, ``snakemake --detailed-summary`` is run for them in ``workdir``).
    """
    workdir = Path(workdir)
    hasher = _Hasher(workdir)
    if summary is None:
        summary = run_summary(
            workdir,
            configfiles=command_line_configfiles,
            config=command_line_config,
            targets=[*figures, *numbers],
        )
    nodes = _NodeMaker(workdir, hasher, rule_scripts, Path(src_root), summary)
    files: dict[str, dict[str, Any]] = {}
    products: dict[str, dict[str, Any]] = {}
    for kind, paths in (("figure", figures), ("number", numbers)):
        for path in paths:
            lineage = _walk(path, files, nodes)
            products[path] = {
                "kind": kind,
                "name": Path(path).stem,
                "sha256": files[path]["sha256"],
                "lineage": sorted(lineage - {path}),
            }
    version = code_version(workdir)
    return {
        "schema": SCHEMA,
        "created": utc_now(),
        "code_version": version,
        "commit": version.removeprefix("git:").removesuffix("-dirty")
        if version.startswith("git:")
        else None,
        "dirty": version.endswith("-dirty") if version.startswith("git:") else None,
        "config": {
            "files": [{"path": str(path), "sha256": hasher(str(path))} for path in configfiles],
            "command_line": [str(path) for path in command_line_configfiles],
            "command_line_values": json.loads(
                json.dumps(dict(command_line_config or {}), default=str)
            ),
            "hash": config_hash(config),
            "values": json.loads(json.dumps(config, default=str)),
        },
        "software": package_versions(),
        "products": products,
        "files": files,
    }


def _walk(path: str, files: dict[str, dict[str, Any]], nodes: _NodeMaker) -> set[str]:
    """Add ``path`` and everything it was made from to ``files``; return those paths."""
    lineage: set[str] = set()
    pending = [path]
    while pending:
        current = pending.pop()
        if current in lineage:
            continue
        lineage.add(current)
        if current not in files:
            files[current] = nodes(current)
        job = files[current]["made_by"]
        if job is not None:
            pending.extend(job["inputs"])
    return lineage


class _NodeMaker:
    """Makes the manifest entry of one file of a workflow run in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        hasher: Callable[[str], str | None],
        rule_scripts: Mapping[str, str],
        src_root: Path,
        summary: Mapping[str, SummaryRow],
    ) -> None:
        self.workdir, self.hasher, self.rule_scripts = workdir, hasher, rule_scripts
        self.src_root = src_root
        self.summary = {os.path.normpath(key): row for key, row in summary.items()}

    def __call__(self, path: str) -> dict[str, Any]:
        """The entry of ``path``: its hash and the job that made it (None for a source
        file or the user's own catalogue)."""
        workdir, hasher = self.workdir, self.hasher
        full = workdir / path
        node: dict[str, Any] = {
            "sha256": hasher(path),
            "size_bytes": full.stat().st_size if full.is_file() else None,
            "made_by": None,
        }
        row = self.summary.get(os.path.normpath(path))
        if row is None or not row.recorded:
            node["origin"] = self._origin(path, row)
            return node
        try:
            record = job_record(workdir, path)
        except SnakemakeLayoutError as err:  # the job is known; its times are not
            record, node["snakemake_records_error"] = None, str(err)
        job: dict[str, Any] = {
            "rule": row.rule,
            "inputs": [_relative(item, workdir) for item in row.inputs or []],
            "params": record.params if record else None,
            "log": row.log,
            "started": _iso(record.starttime if record else None),
            "finished": _iso(record.endtime if record else None),
            "wall_time_s": record.wall_time_s if record else None,
        }
        if row.shellcmd:
            job["shellcmd"] = row.shellcmd
        script = self.rule_scripts.get(row.rule)
        if script:
            library, modules = script_dependencies(workdir / script, workdir / self.src_root)
            job["script"] = {"path": script, "sha256": hasher(script)}
            job["library"] = {
                _relative(str(file), workdir): hasher(_relative(str(file), workdir))
                for file in library
            }
            job["software"] = distribution_versions(modules)
        node["made_by"] = job
        node["incomplete"] = is_incomplete(workdir, path)
        end = record.endtime if record else None
        node["modified_after_job"] = bool(
            full.is_file() and end is not None and full.stat().st_mtime > end + MODIFIED_TOLERANCE_S
        )
        details = _details(path, row.rule, full)
        if details:
            node["details"] = details
        return node

    def _origin(self, path: str, row: SummaryRow | None) -> str:
        """Where a file Snakemake's summary names no recorded job for comes from."""
        if row is not None:
            return f"output of rule {row.rule}, with no record of Snakemake's"
        try:
            recorded = read_record(self.workdir, path) is not None
        except SnakemakeLayoutError:
            recorded = True  # a record, if not a readable one
        if recorded:  # but no job of the summary's workflow: not the run's configuration
            return "made by Snakemake, but by no job of the workflow as configured now"
        return "source" if _is_source(path, self.src_root) else "external file"


def _details(path: str, rule: str | None, full: Path) -> dict[str, Any]:
    """What a lineage tree shows of the file beyond its job: sampler and seed for a
    trace, seed and truth for the simulator, ADQL and time for an archive query, table,
    cluster name and time for a VizieR member list."""
    if full.suffix == ".nc" and full.is_file():
        attrs = read_trace_attrs(full)
        return {"fit": {key: attrs[key] for key in FIT_ATTRS if key in attrs}}
    truth_file = full.with_name("truth.json")
    if rule == "simulate_field" and truth_file.is_file():
        truth = json.loads(truth_file.read_text())
        simulator = {key: truth[key] for key in TRUTH_KEYS if key in truth}
        return {"simulator": {**simulator, "truth_file": str(Path(path).with_name("truth.json"))}}
    if rule == "query_gaia" and full.suffix == ".fits":
        sidecar = full.with_name(full.name.removesuffix(".fits") + ".provenance.json")
        if sidecar.is_file():
            record = json.loads(sidecar.read_text())
            keep = ("adql", "service_url", "query_utc", "n_rows", "astroquery_version")
            return {"archive_query": {key: record[key] for key in keep if key in record}}
    if rule == "query_reference_members" and full.suffix == ".fits":
        sidecar = full.with_name(full.name.removesuffix(".fits") + ".provenance.json")
        if sidecar.is_file():
            record = json.loads(sidecar.read_text())
            keep = ("vizier_table", "cluster_name", "server", "query_utc", "n_rows")
            return {"vizier_query": {key: record[key] for key in keep if key in record}}
    return {}


def manifest_macros(manifest_sha256: str, version: str, manifest_path: str) -> str:
    """LaTeX that stamps the paper's PDF metadata with the manifest it was built with.

    ``clustermix audit ms.pdf`` reads these fields back (Subject and Keywords).
    """
    return (
        "% Written by the provenance_manifest rule: the PDF's metadata names the manifest\n"
        "% (results/provenance.json) this paper was built with; see `clustermix audit`.\n"
        "\\hypersetup{pdfcreator={clustermix},"
        f"pdfsubject={{clustermix paper; manifest {manifest_path}}},"
        f"pdfkeywords={{clustermix-manifest-sha256={manifest_sha256};"
        f" clustermix-code={version}}}}}\n"
    )


class _Hasher:
    """sha256 of files below a working directory, each file read once (None if absent)."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._cache: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        if path not in self._cache:
            full = self._workdir / path
            self._cache[path] = sha256_file(full) if full.is_file() else None
        return self._cache[path]


def _relative(path: str, workdir: Path) -> str:
    """``path`` relative to ``workdir`` when it lies below it (Snakemake may record either)."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return str(candidate.resolve().relative_to(workdir.resolve()))
        except ValueError:
            return str(candidate)
    return os.path.normpath(path)


def _is_source(path: str, src_root: Path) -> bool:
    parts = Path(path).parts
    return bool(parts) and parts[0] in {src_root.name, "scripts", "workflow"}


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(float(timestamp), dt.UTC).isoformat(timespec="seconds")

"""``clustermix audit``: do the paper's figures and numbers still match what made them?

Reads the provenance manifest (:mod:`clustermix.provenance.manifest`) and recomputes the sha256 of
every file in each product's lineage, of the scripts and of the library modules that ran.
A product is

- ``up to date`` when nothing differs,
- ``stale`` when the product itself (an edit by hand), an input, a script, a library module
  or a param/config value it depends on changed since the build, or when a job in its
  lineage was left incomplete (killed),
- ``missing`` when the product file is gone.

Config changes are judged by Snakemake itself: when a config file recorded in the manifest
differs, ``snakemake --summary`` (with the same config files and ``--config`` values; see
:mod:`clustermix.provenance.snakemake_summary`) says which outputs' params changed. Interrupted jobs
are seen in Snakemake's private records (:mod:`clustermix.provenance.snakemake_records`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from clustermix.errors import ClusterMixError
from clustermix.io import PathLike, sha256_file
from clustermix.provenance.manifest import SCHEMA
from clustermix.provenance.snakemake_records import is_incomplete
from clustermix.provenance.snakemake_summary import SnakemakeSummaryError, run_summary

UP_TO_DATE, STALE, MISSING = "up to date", "stale", "missing"
#: The manifest's place in a workflow's working directory.
DEFAULT_MANIFEST = Path("results/provenance.json")
#: Key in the paper's PDF Keywords that names the manifest it was built with.
PDF_MANIFEST_KEY = "clustermix-manifest-sha256"
#: Snakemake ``--summary`` statuses that mean a file's recorded job no longer matches what
#: the workflow would run now.
SNAKEMAKE_CHANGED = ("params changed", "rule implementation changed", "set of input files changed")


class AuditError(ClusterMixError):
    """The audit cannot start: no manifest, not a clustermix PDF, an unknown figure."""


@dataclass
class ProductStatus:
    """The audit's verdict on one figure or number file."""

    path: str
    kind: str
    rule: str | None
    script: str | None
    status: str = UP_TO_DATE
    reasons: list[str] = field(default_factory=list)


class Auditor:
    """Checks the products of one manifest against the files below ``workdir``."""

    def __init__(self, manifest: Mapping[str, Any], workdir: PathLike) -> None:
        self.manifest = manifest
        self.workdir = Path(workdir)
        self._snakemake_status: dict[str, str] | None = None
        self._config_reasons = self._config_changes()

    @cache  # noqa: B019 - one Auditor per command; the cache dies with it
    def current_sha256(self, path: str) -> str | None:
        """sha256 of ``path`` (relative to the working directory) now; None if absent."""
        full = self.workdir / path
        return sha256_file(full) if full.is_file() else None

    def check_all(self) -> list[ProductStatus]:
        """The status of every product, in manifest order (figures, then numbers)."""
        return [self.check(path) for path in self.manifest["products"]]

    def check(self, path: str) -> ProductStatus:
        """The status of product ``path`` with every reason it is not up to date."""
        product = self.manifest["products"][path]
        job = self.manifest["files"][path].get("made_by") or {}
        result = ProductStatus(
            path=path,
            kind=product["kind"],
            rule=job.get("rule"),
            script=(job.get("script") or {}).get("path"),
        )
        if self.current_sha256(path) is None:
            result.status = MISSING
            result.reasons.append(f"{path} does not exist")
            return result
        if self.current_sha256(path) != product["sha256"]:
            result.reasons.append(f"{path} was changed after the build (sha256 differs)")
        for node_path in [path, *product["lineage"]]:
            result.reasons += self.node_changes(node_path, is_product=node_path == path)
        result.reasons += self._config_reasons_for([path, *product["lineage"]])
        if result.reasons:
            result.status = STALE
        return result

    def node_changes(self, path: str, *, is_product: bool = False) -> list[str]:
        """Why the file ``path`` of a lineage no longer matches the manifest (empty if it does)."""
        node = self.manifest["files"][path]
        reasons: list[str] = []
        if node.get("modified_after_job"):
            reasons.append(f"{path} was modified after its rule ran, before the manifest")
        if not is_product:
            now = self.current_sha256(path)
            if now is None:
                reasons.append(f"input {path} is missing")
            elif now != node["sha256"]:
                reasons.append(f"input {path} changed")
        if is_incomplete(self.workdir, path):
            reasons.append(f"{path} was left incomplete by an interrupted job")
        job = node.get("made_by") or {}
        script = job.get("script")
        if script and self.current_sha256(script["path"]) != script["sha256"]:
            reasons.append(f"script {script['path']} changed")
        for module, digest in (job.get("library") or {}).items():
            if self.current_sha256(module) != digest:
                reasons.append(f"library module {module} changed")
        return reasons

    def _config_changes(self) -> list[str]:
        """Which recorded config files differ from the files on disk now."""
        changed = []
        for entry in self.manifest.get("config", {}).get("files", []):
            if self.current_sha256(entry["path"]) != entry["sha256"]:
                changed.append(entry["path"])
        return changed

    def _config_reasons_for(self, paths: list[str]) -> list[str]:
        """Reasons from a changed config: Snakemake's verdict on each file of ``paths``."""
        if not self._config_reasons:
            return []
        statuses = self.snakemake_statuses()
        if statuses is None:
            return [
                f"config file {name} changed since the build (Snakemake could not tell which "
                "results it affects)"
                for name in self._config_reasons
            ]
        return [
            f"{path}: {statuses[path]} since the build (config "
            f"{', '.join(self._config_reasons)} changed)"
            for path in paths
            if any(statuses.get(path, "").startswith(kind) for kind in SNAKEMAKE_CHANGED)
        ]

    def snakemake_statuses(self) -> dict[str, str] | None:
        """Output file -> status from ``snakemake --summary`` with the manifest's config files
        and ``--config`` values (None if no workflow or Snakemake is available here)."""
        if self._snakemake_status is not None:
            return self._snakemake_status
        config = self.manifest["config"]
        configfiles = list(config.get("command_line", []))
        if not (self.workdir / "workflow/Snakefile").is_file():
            return None
        if any(not (self.workdir / name).is_file() for name in configfiles):
            return None
        try:
            rows = run_summary(
                self.workdir,
                detailed=False,
                configfiles=configfiles,
                config=config.get("command_line_values"),
            )
        except SnakemakeSummaryError:
            return None
        self._snakemake_status = {path: row.status for path, row in rows.items()}
        return self._snakemake_status


def load_manifest(path: PathLike) -> dict[str, Any]:
    """The manifest at ``path``, with a clear error when it is absent or not a manifest."""
    path = Path(path)
    if not path.is_file():
        raise AuditError(
            f"no provenance manifest at {path}: build it with "
            f"`snakemake {DEFAULT_MANIFEST}` (it is part of `snakemake --cores all`), "
            "or name it with --manifest"
        )
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AuditError(f"{path} is not a clustermix provenance manifest: {err}") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        raise AuditError(
            f"{path} is not a clustermix provenance manifest (expected schema {SCHEMA!r})"
        )
    return manifest


def pdf_metadata(path: PathLike) -> dict[str, str]:
    """The document information of a PDF (Title, Subject, Keywords ...), without slashes."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        info = PdfReader(path).metadata or {}
    except (PdfReadError, OSError, ValueError) as err:
        raise AuditError(f"{path}: cannot read it as a PDF ({err})") from None
    return {str(key).lstrip("/"): str(value) for key, value in info.items()}


def paper_manifest_sha256(pdf: PathLike) -> str:
    """The manifest checksum stamped in the paper PDF's Keywords, or an AuditError."""
    keywords = pdf_metadata(pdf).get("Keywords", "")
    for item in keywords.replace(",", ";").split(";"):
        key, _, value = item.strip().partition("=")
        if key == PDF_MANIFEST_KEY and value:
            return value.strip()
    raise AuditError(
        f"{pdf} was not made by the clustermix workflow: its PDF metadata names no "
        f"provenance manifest ({PDF_MANIFEST_KEY})"
    )


def figure_pdf_provenance(pdf: PathLike) -> dict[str, Any] | None:
    """The provenance JSON a clustermix figure carries in its Keywords (None if none)."""
    keywords = pdf_metadata(pdf).get("Keywords", "")
    try:
        provenance = json.loads(keywords)
    except json.JSONDecodeError:
        return None
    return provenance if isinstance(provenance, dict) and "rule" in provenance else None


def find_product(manifest: Mapping[str, Any], target: str) -> str:
    """The manifest product that ``target`` names: its path, file name or stem.

    ``sky_masks``, ``sky_masks.pdf`` and ``src/tex/figures/sky_masks.pdf`` all name the sky
    figure; ``results`` names ``src/tex/output/results.tex``.
    """
    products = manifest["products"]
    normalized = os.path.normpath(target)
    if normalized in products:
        return normalized
    name = Path(target).name
    matches = [
        path for path in products if Path(path).name == name or products[path]["name"] == name
    ]
    figures = [path for path in matches if products[path]["kind"] == "figure"]
    if len(matches) == 1 or len(figures) == 1:
        # a bare name shared by a figure and a number file (ppc) means the figure
        return matches[0] if len(matches) == 1 else figures[0]
    known = ", ".join(sorted({products[path]["name"] for path in products}))
    if matches:
        raise AuditError(f"'{target}' names several products ({', '.join(matches)}); give a path")
    raise AuditError(f"no figure or number named '{target}' in the manifest; known: {known}")


def lineage_tree(auditor: Auditor, product: str) -> str:
    """The lineage of ``product`` as a text tree, down to the raw catalogue's origin."""
    lines: list[str] = []
    shown: set[str] = set()
    _tree_lines(auditor, product, "", "", shown, lines)
    return "\n".join(lines)


def _tree_lines(
    auditor: Auditor, path: str, lead: str, child_lead: str, shown: set[str], lines: list[str]
) -> None:
    node = auditor.manifest["files"][path]
    mark = _file_mark(auditor, path, node)
    digest = (node.get("sha256") or "")[:12]
    if path in shown:
        lines.append(f"{lead}{path}  (see above)")
        return
    shown.add(path)
    lines.append(f"{lead}{path}  sha256:{digest}{mark}")
    job = node.get("made_by")
    if job is None:
        origin = node.get("origin", "external file")
        label = "user catalogue" if origin == "external file" else origin
        lines.append(f"{child_lead}└─ {label}, not made by the workflow (sha256 {digest})")
        return
    lines.append(f"{child_lead}└─ {_job_summary(job)}")
    detail_lead = child_lead + "   "
    for text in _detail_lines(node.get("details") or {}):
        lines.append(f"{detail_lead}{text}")
    inputs = job.get("inputs") or []
    for index, item in enumerate(inputs):
        last = index == len(inputs) - 1
        branch, carry = ("└─ ", "   ") if last else ("├─ ", "│  ")
        if item not in auditor.manifest["files"]:
            lines.append(f"{detail_lead}{branch}{item}  (not in the manifest)")
            continue
        _tree_lines(auditor, item, detail_lead + branch, detail_lead + carry, shown, lines)


def _file_mark(auditor: Auditor, path: str, node: Mapping[str, Any]) -> str:
    now = auditor.current_sha256(path)
    if now is None:
        return "  [MISSING]"
    if now != node.get("sha256"):
        return "  [CHANGED since the build]"
    return ""


def _job_summary(job: Mapping[str, Any]) -> str:
    parts = [f"rule {job['rule']}"]
    script = job.get("script")
    if script:
        parts.append(f"script {script['path']} (sha256:{script['sha256'][:12]})")
    if job.get("finished"):
        parts.append(f"finished {job['finished']}")
    if job.get("wall_time_s") is not None:
        parts.append(f"{job['wall_time_s']:.1f} s")
    return ", ".join(parts)


def _detail_lines(details: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    fit = details.get("fit")
    if fit:
        lines.append(
            f"sampler {fit.get('sampler')} {fit.get('sampler_version', '')}, "
            f"seed {fit.get('seed')}, {fit.get('chains')} chains x {fit.get('draws')} draws "
            f"after {fit.get('tune')} tuning, target_accept {fit.get('target_accept')}, "
            f"code {fit.get('code_version')}"
        )
    simulator = details.get("simulator")
    if simulator:
        truth = ", ".join(
            f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
            for key, value in simulator.items()
            if key not in {"seed", "truth_file"}
        )
        lines.append(
            f"simulated field: seed {simulator.get('seed')}; truth "
            f"({simulator.get('truth_file')}): {truth}"
        )
    query = details.get("archive_query")
    if query:
        when, where = query.get("query_utc"), query.get("service_url")
        lines.append(f"Gaia archive query at {when} on {where}")
        lines += ["  " + line for line in str(query.get("adql", "")).splitlines()]
    vizier = details.get("vizier_query")
    if vizier:
        lines.append(
            f"VizieR {vizier.get('vizier_table')} ({vizier.get('cluster_name')}) at "
            f"{vizier.get('query_utc')} on {vizier.get('server')}: {vizier.get('n_rows')} rows"
        )
    return lines

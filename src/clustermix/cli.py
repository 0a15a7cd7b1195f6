"""The ``clustermix`` command.

``clustermix audit ms.pdf``
    every figure and number in the paper, what made it, and whether it is up to date,
    stale or missing (exit status 1 if anything is stale or missing);
``clustermix audit FIGURE``
    the lineage of one figure or number file as a tree, down to the Gaia query, the
    simulator or the user's catalogue. FIGURE is a name (``corner_pm_2d``), a path in the
    workflow (``src/tex/figures/corner_pm_2d.pdf``) or a figure PDF found elsewhere (its
    own metadata names it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from clustermix.io import sha256_file
from clustermix.provenance.audit import (
    DEFAULT_MANIFEST,
    MISSING,
    STALE,
    UP_TO_DATE,
    AuditError,
    Auditor,
    ProductStatus,
    figure_pdf_provenance,
    find_product,
    lineage_tree,
    load_manifest,
    paper_manifest_sha256,
    pdf_metadata,
)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clustermix`` console script; returns the exit status."""
    parser = argparse.ArgumentParser(prog="clustermix", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    audit = commands.add_parser(
        "audit",
        help="check the paper's figures and numbers against what made them",
        description="Check ms.pdf's figures and numbers against the provenance manifest, "
        "or print the lineage of one figure.",
    )
    audit.add_argument("target", help="the paper (ms.pdf), or a figure/number name or file")
    audit.add_argument(
        "--manifest",
        type=Path,
        help=f"the provenance manifest (default: {DEFAULT_MANIFEST} in the workflow directory)",
    )
    audit.add_argument(
        "--workdir",
        type=Path,
        help="the workflow's working directory (default: the paper's folder, else the "
        "current directory)",
    )
    args = parser.parse_args(argv)
    try:
        return run_audit(args.target, manifest_path=args.manifest, workdir=args.workdir)
    except AuditError as err:
        print(f"clustermix audit: error: {err}", file=sys.stderr)
        return 2


def run_audit(target: str, *, manifest_path: Path | None, workdir: Path | None) -> int:
    """``clustermix audit TARGET``; prints the report, returns the exit status."""
    target_path = Path(target)
    is_pdf = target_path.suffix.lower() == ".pdf" and target_path.is_file()
    if is_pdf and _is_paper(target_path):
        workdir = workdir or target_path.resolve().parent
        return audit_paper(target_path, manifest_path or workdir / DEFAULT_MANIFEST, workdir)
    workdir = workdir or Path.cwd()
    manifest_path = manifest_path or workdir / DEFAULT_MANIFEST
    if target_path.suffix.lower() == ".pdf" and not target_path.exists():
        raise AuditError(f"{target}: no such file")
    if is_pdf:
        provenance = figure_pdf_provenance(target_path)
        if provenance is None:
            raise AuditError(
                f"{target} was not made by the clustermix workflow: its PDF metadata carries "
                "neither a figure's provenance nor a paper's manifest"
            )
        print(
            f"{target}: made by rule {provenance['rule']} ({provenance.get('script')}), "
            f"code {provenance.get('code_version')}"
        )
        name = pdf_metadata(target_path).get("Title") or target_path.name
        manifest = load_manifest(manifest_path)
        product = find_product(manifest, name)
        if sha256_file(target_path) != manifest["products"][product]["sha256"]:
            print(f"note: this file differs from the build recorded for {product}")
    else:
        manifest = load_manifest(manifest_path)
        product = find_product(manifest, target)
    auditor = Auditor(manifest, workdir)
    status = auditor.check(product)
    print(lineage_tree(auditor, product))
    _print_status_line(status)
    return 0 if status.status == UP_TO_DATE else 1


def audit_paper(pdf: Path, manifest_path: Path, workdir: Path) -> int:
    """The table of every product of the paper with its status; 1 if any is not up to date."""
    stamped = paper_manifest_sha256(pdf)
    manifest = load_manifest(manifest_path)
    findings = 0
    print(f"clustermix audit of {pdf}")
    print(f"  manifest {manifest_path} (created {manifest['created']}, {manifest['code_version']})")
    if sha256_file(manifest_path) != stamped:
        findings += 1
        print(
            f"  {STALE}: {pdf} was built with another manifest (sha256 {stamped[:12]}); the "
            "workflow has rewritten results since: rebuild the paper"
        )
    auditor = Auditor(manifest, workdir)
    statuses = auditor.check_all()
    width = max((len(status.path) for status in statuses), default=len("PRODUCT"))
    print(f"\n{'STATUS':<11} {'KIND':<7} {'PRODUCT':<{width}}  MADE BY")
    for status in statuses:
        made_by = f"rule {status.rule}" + (f" ({status.script})" if status.script else "")
        print(f"{status.status:<11} {status.kind:<7} {status.path:<{width}}  {made_by}")
        for reason in status.reasons:
            print(f"{'':<20}- {reason}")
    counts = {
        name: sum(status.status == name for status in statuses)
        for name in (UP_TO_DATE, STALE, MISSING)
    }
    print(
        f"\n{len(statuses)} products: {counts[UP_TO_DATE]} up to date, {counts[STALE]} stale, "
        f"{counts[MISSING]} missing"
    )
    findings += counts[STALE] + counts[MISSING]
    return 1 if findings else 0


def _is_paper(pdf: Path) -> bool:
    """True if ``pdf`` carries a paper's manifest stamp, or is named ms.pdf and carries no
    figure provenance (a paper from elsewhere: the audit then says it is not ours)."""
    try:
        paper_manifest_sha256(pdf)
        return True
    except AuditError:
        return figure_pdf_provenance(pdf) is None and pdf.name == "ms.pdf"


def _print_status_line(status: ProductStatus) -> None:
    print(f"\nstatus: {status.status}")
    for reason in status.reasons:
        print(f"  - {reason}")


if __name__ == "__main__":
    sys.exit(main())

"""Where a finished run put what a reader looks for: the closing note of ``make paper``.

``python -m clustermix.provenance.outputs [WORKDIR]`` prints the paper (``ms.pdf``), each cluster's
membership catalogues (``results/{cluster}/members.*`` and ``membership.fits``, whichever
exist) and the provenance manifest (``results/provenance.json``), with absolute paths.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from clustermix.io import PathLike

PAPER = "ms.pdf"
MANIFEST = "results/provenance.json"
#: A cluster's membership catalogues, in the order the note lists them.
CATALOGUE_NAMES: tuple[str, ...] = (
    "members.fits",
    "members.vot",
    "members.ecsv",
    "membership.fits",
)


def membership_catalogues(workdir: Path) -> dict[Path, list[str]]:
    """Cluster directory under ``results/`` -> the names of its catalogues that exist."""
    found: dict[Path, list[str]] = {}
    results = workdir / "results"
    if not results.is_dir():
        return found
    for directory in sorted(path for path in results.iterdir() if path.is_dir()):
        names = [name for name in CATALOGUE_NAMES if (directory / name).is_file()]
        if names:
            found[directory] = names
    return found


def closing_note(workdir: PathLike = ".") -> str:
    """The note: where the paper, the membership catalogues and the manifest are."""
    root = Path(workdir).resolve()
    paper, manifest = root / PAPER, root / MANIFEST
    lines = ["clustermix: the run's products"]
    lines.append(f"  paper:                 {paper if paper.is_file() else f'{paper} (missing)'}")
    catalogues = membership_catalogues(root)
    if catalogues:
        for index, (directory, names) in enumerate(catalogues.items()):
            head = "  membership catalogues:" if index == 0 else " " * 24
            lines.append(f"{head} {directory}/ ({', '.join(names)})")
    else:
        lines.append(f"  membership catalogues: none under {root / 'results'}/")
    if manifest.is_file():
        audit = f"clustermix audit {paper.relative_to(root)}"
        lines.append(f"  provenance manifest:   {manifest} (check the paper against it: {audit})")
    else:
        lines.append(f"  provenance manifest:   {manifest} (missing)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print :func:`closing_note` of WORKDIR (default: the current directory)."""
    args = list(sys.argv[1:] if argv is None else argv)
    print(closing_note(args[0] if args else "."))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

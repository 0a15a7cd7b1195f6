"""The arXiv submission tarball: ms.tex with everything it reads and nothing else.

arXiv compiles the source with its own TeX Live and does not run BibTeX, so the tarball
holds ``ms.tex``, the bibliography as ``ms.bbl``, the document class file (arXiv's TeX
may lack the AASTeX class or carry another version) and every figure and number file the
paper reads, under the paths ``ms.tex`` uses (``figures/...``, ``output/...``).

The ``.bbl`` is made here, not taken from the workflow's own LaTeX build: the given files
are staged in a temporary directory, compiled there (``pdflatex -draftmode``, which writes
no PDF), BibTeX is run, and the result is exactly the bibliography of the files that go
into the tarball. The same compile records (``-recorder``) which staged files LaTeX
really read, so that a given file the paper does not read is left out, and a file the
paper reads but was not given stops the build with LaTeX's own message.

The tarball is deterministic: members sorted by name, fixed modification time, owner and
permissions in the tar headers, and no time stamp or file name in the gzip header, so the
same inputs give the same bytes.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from clustermix.errors import ClusterMixError
from clustermix.io import PathLike, atomic_path

logger = logging.getLogger(__name__)

#: The modification time (2000-01-01T00:00:00Z) of every member: a fixed, plausible date
#: (GNU tar warns about an "implausibly old time stamp" of 0).
MEMBER_MTIME = 946_684_800
#: Permissions of every member.
MEMBER_MODE = 0o644
#: Seconds one LaTeX or BibTeX run may take.
TEX_TIMEOUT_S = 300
#: Environment variables dropped for the staged compile, so that LaTeX finds the paper's
#: files in the staging directory only (and the rest in the TeX distribution).
ISOLATED_VARIABLES = ("TEXINPUTS",)

_DOCUMENTCLASS = re.compile(r"^[^%\n]*?\\documentclass\s*(?:\[[^\]]*\])?\s*\{([^}]+)\}", re.M)


class ArxivError(ClusterMixError):
    """The arXiv tarball cannot be made; the message says which file or tool failed."""


def document_class(tex_text: str) -> str:
    """The name of the class in the first uncommented ``\\documentclass`` of ``tex_text``."""
    match = _DOCUMENTCLASS.search(tex_text)
    if match is None:
        raise ArxivError("the paper has no \\documentclass")
    return match.group(1).strip()


def find_tex_file(name: str) -> Path:
    """The path of ``name`` (e.g. ``aastex631.cls``) in the TeX installation, by kpsewhich."""
    kpsewhich = shutil.which("kpsewhich")
    if kpsewhich is None:
        raise ArxivError("kpsewhich not found: is TeX Live installed?")
    found = subprocess.run(
        [kpsewhich, name], capture_output=True, text=True, check=False, timeout=60
    )
    path = found.stdout.strip()
    if found.returncode != 0 or not path:
        raise ArxivError(f"{name} not found by kpsewhich; install the TeX package that has it")
    return Path(path)


def archive_names(root: PathLike, files: Iterable[PathLike]) -> dict[str, Path]:
    """Map each file to its name in the tarball: its path relative to ``root`` (the
    directory of ms.tex), as ms.tex refers to it. A file outside ``root`` is an error."""
    base = Path(os.path.abspath(root))
    names: dict[str, Path] = {}
    for file in files:
        path = Path(os.path.abspath(file))
        try:
            name = path.relative_to(base).as_posix()
        except ValueError:
            raise ArxivError(f"{file} is not under {root}, where ms.tex could read it") from None
        if name in names and names[name] != path:
            raise ArxivError(f"two files for {name} in the tarball")
        names[name] = path
    return names


def read_recorded_inputs(fls: PathLike) -> set[str]:
    """The files under the compile directory that a ``-recorder`` run read, relative to
    that directory (``figures//x.pdf`` from a ``\\graphicspath`` becomes ``figures/x.pdf``)."""
    lines = Path(fls).read_text(errors="replace").splitlines()
    directory = next((line[4:] for line in lines if line.startswith("PWD ")), None)
    if directory is None:
        raise ArxivError(f"{fls}: no PWD line")
    base = Path(os.path.normpath(directory))
    inputs: set[str] = set()
    for line in lines:
        if not line.startswith("INPUT "):
            continue
        path = Path(os.path.normpath(os.path.join(base, line[6:])))
        if path.is_relative_to(base):
            inputs.add(path.relative_to(base).as_posix())
    return inputs


def make_bbl(directory: PathLike, jobname: str = "ms") -> tuple[Path, set[str]]:
    """Compile ``jobname.tex`` in ``directory`` (draft mode, no PDF) and run BibTeX; return
    the ``.bbl`` and the files under ``directory`` that LaTeX read."""
    directory = Path(directory)
    _run_latex(directory, jobname)
    read = read_recorded_inputs(directory / f"{jobname}.fls")
    _run(["bibtex", jobname], directory, f"{jobname}.blg")
    bbl = directory / f"{jobname}.bbl"
    if not bbl.is_file():
        raise ArxivError(f"BibTeX wrote no {bbl.name}; see {jobname}.blg")
    return bbl, read


def compile_with_bbl(directory: PathLike, jobname: str = "ms") -> list[str]:
    """Compile ``jobname.tex`` twice more with its ``.bbl``, as arXiv would (no BibTeX),
    and return LaTeX's warnings about undefined citations and references."""
    directory = Path(directory)
    for _ in range(2):
        _run_latex(directory, jobname)
    log = (directory / f"{jobname}.log").read_text(errors="replace")
    return [line.strip() for line in log.splitlines() if "undefined" in line and "Warning" in line]


def write_tarball(members: Mapping[str, PathLike], output: PathLike) -> None:
    """Write ``members`` ({name in the tarball: file}) as a deterministic ``.tar.gz``,
    atomically."""
    with atomic_path(output) as tmp, open(tmp, "wb") as raw:
        with (
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
        ):
            for name in sorted(members):
                data = Path(members[name]).read_bytes()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = MEMBER_MTIME
                info.mode = MEMBER_MODE
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data))


def build_arxiv_tarball(
    tex: PathLike,
    bib: PathLike,
    files: Iterable[PathLike],
    output: PathLike,
) -> list[str]:
    """Make the arXiv tarball of the paper ``tex`` and return its member names.

    ``files`` are the figures, number files and other files the paper may read, under the
    directory of ``tex``; ``bib`` is its BibTeX database (used for the ``.bbl``, not
    shipped). The class file is found with kpsewhich and shipped beside ``ms.tex``.
    """
    tex = Path(tex)
    jobname = tex.stem
    class_name = f"{document_class(tex.read_text())}.cls"
    given = archive_names(tex.parent, files)
    members: dict[str, Path] = {
        f"{jobname}.tex": tex,
        class_name: find_tex_file(class_name),
        **given,
    }
    with tempfile.TemporaryDirectory(prefix="clustermix-arxiv-") as stage:
        for name, path in members.items():
            destination = Path(stage, name)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
        shutil.copyfile(bib, Path(stage, Path(bib).name))
        bbl, read = make_bbl(stage, jobname)
        for warning in compile_with_bbl(stage, jobname):
            logger.warning("the staged paper: %s", warning)
        unread = sorted(set(given) - read)
        if unread:
            logger.warning("left out, the paper does not read them: %s", ", ".join(unread))
        for name in unread:
            del members[name]
        members[f"{jobname}.bbl"] = bbl
        write_tarball(members, output)
    names = sorted(members)
    logger.info("%s: %d files (%s)", output, len(names), ", ".join(names))
    return names


def _run_latex(directory: Path, jobname: str) -> None:
    """One draft-mode pdflatex run of ``jobname`` in ``directory``, recording its inputs."""
    command = [
        "pdflatex",
        "-draftmode",
        "-recorder",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        f"{jobname}.tex",
    ]
    _run(command, directory, f"{jobname}.log")


def _run(command: list[str], directory: Path, log_name: str) -> None:
    """Run a TeX tool in ``directory``; on failure raise with the end of its log."""
    if shutil.which(command[0]) is None:
        raise ArxivError(f"{command[0]} not found: is TeX Live installed?")
    env = {key: value for key, value in os.environ.items() if key not in ISOLATED_VARIABLES}
    try:
        process = subprocess.run(
            command,
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
            timeout=TEX_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        raise ArxivError(f"{command[0]} took more than {TEX_TIMEOUT_S} s") from None
    if process.returncode != 0:
        log = directory / log_name
        text = log.read_text(errors="replace") if log.is_file() else process.stdout
        raise ArxivError(
            f"{' '.join(command)} failed in the staged tarball:\n{_error_excerpt(text)}"
        )


def _error_excerpt(log_text: str, lines: int = 8) -> str:
    """TeX's first error (from its ``!`` line on) in ``log_text``, else the log's end."""
    log_lines = log_text.splitlines()
    start = next((i for i, line in enumerate(log_lines) if line.startswith("!")), None)
    if start is None:
        return "\n".join(log_lines[-25:])
    return "\n".join(log_lines[start : start + lines])

"""The arXiv tarball: the library on small inputs, then the workflow's tarball compiled alone."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from clustermix.paper.arxiv import (
    MEMBER_MODE,
    MEMBER_MTIME,
    ArxivError,
    archive_names,
    build_arxiv_tarball,
    document_class,
    find_tex_file,
    read_recorded_inputs,
    write_tarball,
)

from .conftest import TEST_CONFIG, run_snakemake

HAVE_TEX = all(shutil.which(tool) for tool in ("pdflatex", "bibtex", "kpsewhich"))
needs_tex = pytest.mark.skipif(not HAVE_TEX, reason="needs pdflatex, bibtex and kpsewhich")

MINI_PAPER = r"""% a two-page paper that reads one number file and one figure
\documentclass{article}
\usepackage{graphicx}
\input{output/numbers.tex}
\graphicspath{{figures/}}
\begin{document}
The answer is \TheAnswer{} \cite{Hogg2010}.
\includegraphics[width=2cm]{fig}
\bibliographystyle{plain}
\bibliography{bib}
\end{document}
"""
MINI_BIB = """@article{Hogg2010,
  author = {Hogg, David W. and Bovy, Jo and Lang, Dustin},
  title = {Data analysis recipes: Fitting a model to data},
  journal = {arXiv e-prints},
  year = {2010},
}
"""


def members(tarball: Path) -> dict[str, bytes]:
    """Name -> content of every member of ``tarball``."""
    with tarfile.open(tarball) as tar:
        return {info.name: tar.extractfile(info).read() for info in tar.getmembers()}


# -- small functions ----------------------------------------------------------------------


def test_document_class_skips_comments_and_options() -> None:
    text = "% \\documentclass{article}\n\\documentclass[twocolumn]{aastex631}\n"
    assert document_class(text) == "aastex631"
    with pytest.raises(ArxivError, match="documentclass"):
        document_class("% \\documentclass{article}\n\\begin{document}\n")


def test_archive_names_are_relative_to_the_paper(tmp_path: Path) -> None:
    tex = tmp_path / "src/tex"
    files = [tex / "figures/a.pdf", tex / "output/b.tex"]
    names = archive_names(tex, files)
    assert names == {"figures/a.pdf": files[0], "output/b.tex": files[1]}
    with pytest.raises(ArxivError, match="not under"):
        archive_names(tex, [tmp_path / "results/c.json"])


def test_recorded_inputs_are_those_under_the_directory(tmp_path: Path) -> None:
    fls = tmp_path / "ms.fls"
    fls.write_text(
        f"PWD {tmp_path}\n"
        f"INPUT {tmp_path.parent}/texmf-dist/tex/latex/base/article.cls\n"
        "INPUT ./ms.tex\n"
        "INPUT ms.tex\n"
        "INPUT ./figures//fig.pdf\n"
        f"INPUT {tmp_path}/output/numbers.tex\n"
        "OUTPUT ms.aux\n"
        "INPUT ../elsewhere.tex\n"
    )
    assert read_recorded_inputs(fls) == {"ms.tex", "figures/fig.pdf", "output/numbers.tex"}


def test_tarball_is_sorted_normalised_and_reproducible(tmp_path: Path) -> None:
    (tmp_path / "b.tex").write_text("b")
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4 a")
    (tmp_path / "a.pdf").chmod(0o600)
    spec = {"output/b.tex": tmp_path / "b.tex", "figures/a.pdf": tmp_path / "a.pdf"}
    write_tarball(spec, tmp_path / "one.tar.gz")
    os.utime(tmp_path / "b.tex", (1, 1))
    write_tarball(spec, tmp_path / "two.tar.gz")
    first = (tmp_path / "one.tar.gz").read_bytes()
    assert first == (tmp_path / "two.tar.gz").read_bytes()
    # gzip header: no time stamp (bytes 4-7) and no file name (flag bit 3)
    assert first[4:8] == b"\0\0\0\0"
    assert not first[3] & 0x08
    with tarfile.open(tmp_path / "one.tar.gz") as tar:
        infos = tar.getmembers()
    assert [info.name for info in infos] == ["figures/a.pdf", "output/b.tex"]
    for info in infos:
        assert info.isfile()
        assert (info.mtime, info.mode, info.uid, info.gid) == (MEMBER_MTIME, MEMBER_MODE, 0, 0)
        assert info.uname == info.gname == ""
    assert members(tmp_path / "one.tar.gz")["output/b.tex"] == b"b"


def test_tarball_is_written_atomically(tmp_path: Path) -> None:
    output = tmp_path / "arxiv.tar.gz"
    output.write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        write_tarball({"ms.tex": tmp_path / "missing.tex"}, output)
    assert output.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["arxiv.tar.gz"]


@needs_tex
def test_find_tex_file() -> None:
    assert find_tex_file("article.cls").name == "article.cls"
    with pytest.raises(ArxivError, match="not found"):
        find_tex_file("no-such-class-clustermix.cls")


# -- a small paper --------------------------------------------------------------------------


@pytest.fixture
def mini_paper(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    """ms.tex, bib.bib and the files it may read (one of them unread) under src/tex."""
    root = tmp_path / "src/tex"
    (root / "figures").mkdir(parents=True)
    (root / "output").mkdir()
    (root / "ms.tex").write_text(MINI_PAPER)
    (root / "bib.bib").write_text(MINI_BIB)
    (root / "output/numbers.tex").write_text("\\newcommand{\\TheAnswer}{42}\n")
    for name in ("fig", "unused"):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [0, 1])
        fig.savefig(root / f"figures/{name}.pdf", metadata={"CreationDate": None})
        plt.close(fig)
    files = [root / "figures/fig.pdf", root / "figures/unused.pdf", root / "output/numbers.tex"]
    # a LaTeX run in the paper's own directory must not leak into the tarball
    (root / "ms.aux").write_text("stale")
    (root / "ms.bbl").write_text("stale")
    return root / "ms.tex", root / "bib.bib", files


@needs_tex
def test_mini_paper_tarball(
    mini_paper: tuple[Path, Path, list[Path]], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tex, bib, files = mini_paper
    output = tmp_path / "arxiv.tar.gz"
    names = build_arxiv_tarball(tex, bib, files, output)
    expected = ["article.cls", "figures/fig.pdf", "ms.bbl", "ms.tex", "output/numbers.tex"]
    assert names == expected
    content = members(output)
    assert sorted(content) == expected
    assert "\\bibitem{Hogg2010}" in content["ms.bbl"].decode()
    assert content["ms.tex"] == tex.read_bytes()
    assert content["figures/fig.pdf"] == files[0].read_bytes()
    assert "figures/unused.pdf" in caplog.text  # left out, with a warning
    # the same inputs again (newer mtimes) give the same bytes
    for path in [tex, *files]:
        os.utime(path)
    build_arxiv_tarball(tex, bib, files, tmp_path / "again.tar.gz")
    assert (tmp_path / "again.tar.gz").read_bytes() == output.read_bytes()


@needs_tex
def test_a_file_the_paper_reads_but_was_not_given_is_an_error(
    mini_paper: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    tex, bib, files = mini_paper
    output = tmp_path / "arxiv.tar.gz"
    with pytest.raises(ArxivError, match=r"numbers\.tex"):
        build_arxiv_tarball(tex, bib, files[:2], output)
    assert not output.exists()


@needs_tex
def test_a_file_outside_the_paper_directory_is_an_error(
    mini_paper: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    tex, bib, files = mini_paper
    stray = tmp_path / "stray.tex"
    stray.write_text("")
    with pytest.raises(ArxivError, match=r"stray\.tex"):
        build_arxiv_tarball(tex, bib, [*files, stray], tmp_path / "arxiv.tar.gz")


# -- the workflow's tarball -------------------------------------------------------------------

#: Files of a LaTeX run or of the sources that must not be shipped.
FORBIDDEN = re.compile(r"\.(aux|log|blg|bib|fls|fdb_latexmk|out|synctex\.gz)$|^ms\.pdf$")


@pytest.mark.slow
@needs_tex
def test_workflow_tarball_has_exactly_what_ms_tex_reads(built_paper: Path) -> None:
    tex_dir = built_paper / "src/tex"
    content = members(built_paper / "arxiv.tar.gz")
    ms_tex = (tex_dir / "ms.tex").read_text()
    numbers = set(re.findall(r"\\(?:input|tablebody)\{(output/[^}]+)\}", ms_tex))
    figures = {f"figures/{path.name}" for path in (tex_dir / "figures").glob("*.pdf")}
    included = set(re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", ms_tex))
    assert {f"figures/{name}.pdf" for name in included} == figures
    assert set(content) == {"ms.tex", "ms.bbl", "aastex631.cls"} | figures | numbers
    assert not [name for name in content if FORBIDDEN.search(name)]
    for name in figures | numbers | {"ms.tex"}:
        assert content[name] == (tex_dir / name).read_bytes(), name
    # the same bibliography as the paper's own build, and the installed class
    assert content["ms.bbl"] == (tex_dir / "ms.bbl").read_bytes()
    assert content["aastex631.cls"] == find_tex_file("aastex631.cls").read_bytes()


@pytest.mark.slow
@needs_tex
def test_workflow_tarball_compiles_by_itself(built_paper: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "arxiv"
    unpacked.mkdir()
    assert not any(unpacked.iterdir())
    with tarfile.open(built_paper / "arxiv.tar.gz") as tar:
        tar.extractall(unpacked, filter="data")
    # A clean environment: no TEXINPUTS or BIBINPUTS, no personal texmf tree; no BibTeX.
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LC_ALL": "C"}
    command = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-recorder", "ms.tex"]
    for _ in range(2):
        process = subprocess.run(
            command, cwd=unpacked, env=env, capture_output=True, text=True, timeout=300
        )
        assert process.returncode == 0, process.stdout[-3000:]
    pdf = unpacked / "ms.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    log = (unpacked / "ms.log").read_text(errors="replace")
    assert "There were undefined references" not in log
    assert "There were undefined citations" not in log
    undefined = re.findall(r"(?:Citation|Reference) `[^']*' on page \d+ undefined", log)
    assert not undefined, undefined
    # nothing was read from the workflow's directory
    read = (unpacked / "ms.fls").read_text()
    assert str(built_paper) not in read


@pytest.mark.slow
@needs_tex
def test_workflow_tarball_is_reproducible(built_paper: Path) -> None:
    tarball = built_paper / "arxiv.tar.gz"
    before = tarball.read_bytes()
    # -f forces the target's own rule only; targets and flags go before --configfile
    run_snakemake(built_paper, "-f", "arxiv.tar.gz", *TEST_CONFIG)
    assert tarball.read_bytes() == before

"""`snakemake --report`: every paper figure, with its caption and its category."""

from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .conftest import TEST_CONFIG, run_snakemake

pytestmark = pytest.mark.slow

#: Every model of the tiny config; the per-model figures are filed under the model's name.
MODELS = ("line_outliers", "pmra_1d", "parallax_1d", "pm_2d", "phase_space")
#: (category, subcategory) of each figure that is not one per model. The CMD and the
#: proper-motion figure are coloured by the phase-space model's memberships when that model
#: is enabled (it is in the tiny config).
CATEGORIES = {
    "sky_masks": ("Data", "Sky regions"),
    "cmd_membership": ("phase_space", "Membership"),
    "pm_membership": ("phase_space", "Membership"),
    "line_outliers": ("line_outliers", "Fit to the data"),
    "galactocentric": ("phase_space", "Galactocentric position and velocity"),
    "model_comparison": ("Model comparison", "Shared quantities"),
    "components": ("Model comparison", "Fitted components"),
    "ppc": ("Checks", "Posterior predictive checks"),
    "membership_roc": ("Validation", "Membership"),
    "recovery": ("Validation", "Parameter recovery"),
    "calibration": ("Validation", "Calibration"),
}
#: Per-model figures: file-name prefix -> (caption file, subcategory).
PER_MODEL = {"pgm_": ("pgm", "Graphical model"), "corner_": ("corner", "Posterior")}


def expected(stem: str) -> tuple[str, str, str, str | None]:
    """(caption file stem, category, subcategory, model) of the figure ``stem``."""
    for prefix, (caption, subcategory) in PER_MODEL.items():
        model = stem.removeprefix(prefix)
        if stem.startswith(prefix) and model in MODELS:
            return caption, model, subcategory, model
    category, subcategory = CATEGORIES[stem]
    return stem, category, subcategory, None


def words(text: str) -> list[str]:
    """The words of ``text`` (HTML tags, entities and punctuation dropped)."""
    return re.findall(r"[A-Za-z0-9]+", html.unescape(re.sub(r"<[^>]+>", " ", text)))


def contains_in_order(haystack: list[str], chunks: list[list[str]]) -> bool:
    """Whether every word sequence of ``chunks`` occurs in ``haystack``, in order."""
    start = 0
    for chunk in chunks:
        for i in range(start, len(haystack) - len(chunk) + 1):
            if haystack[i : i + len(chunk)] == chunk:
                start = i + len(chunk)
                break
        else:
            return False
    return True


def embedded_json(page: str, name: str) -> Any:
    """The JSON value the report page assigns to ``var name`` in its script block."""
    match = re.search(rf'<script id="{name}">\s*var {name} = (.*?);\s*</script>', page, re.S)
    assert match, f"no {name} in the report"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def report(built_paper: Path) -> dict[str, Any]:
    """The report of the built paper: its page's results and categories, and its files."""
    path = built_paper / "report.zip"
    path.unlink(missing_ok=True)
    run_snakemake(built_paper, "--report", "report.zip", *TEST_CONFIG)
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    page = files["report/report.html"].decode()
    return {
        "results": embedded_json(page, "results"),
        "categories": embedded_json(page, "categories"),
        "description": json.loads(re.search(r"var workflow_desc = (.*?);\n", page).group(1)),
        "files": files,
    }


def paper_figures(built_paper: Path) -> list[Path]:
    """The figures the paper includes: every PDF the workflow wrote to src/tex/figures/."""
    figures = sorted((built_paper / "src/tex/figures").glob("*.pdf"))
    ms_tex = (built_paper / "src/tex/ms.tex").read_text()
    included = set(re.findall(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+)\}", ms_tex))
    assert {path.stem for path in figures} == included
    return figures


def test_every_paper_figure_is_in_the_report(built_paper: Path, report: dict[str, Any]) -> None:
    for figure in paper_figures(built_paper):
        key = f"src/tex/figures/{figure.name}"
        assert key in report["results"], f"{figure.name} is not in the report"
        result = report["results"][key]
        assert result["mime_type"] == "application/pdf"
        assert report["files"][f"report/{result['data_uri']}"] == figure.read_bytes()


def test_every_figure_has_its_category(built_paper: Path, report: dict[str, Any]) -> None:
    placed = {
        path: (category, subcategory)
        for category, subcategories in report["categories"].items()
        for subcategory, paths in subcategories.items()
        for path in paths
    }
    for figure in paper_figures(built_paper):
        _, category, subcategory, _ = expected(figure.stem)
        assert placed[f"src/tex/figures/{figure.name}"] == (category, subcategory), figure.name


def test_every_figure_has_its_caption(built_paper: Path, report: dict[str, Any]) -> None:
    for figure in paper_figures(built_paper):
        caption_file, _, _, model = expected(figure.stem)
        source = (built_paper / f"workflow/report/{caption_file}.rst").read_text()
        caption = report["results"][f"src/tex/figures/{figure.name}"]["caption"]
        # The caption's own words, in order, around what Jinja fills in ({{ ... }}).
        chunks = [words(part) for part in re.split(r"\{\{.*?\}\}", source, flags=re.S)]
        assert contains_in_order(words(caption), [c for c in chunks if c]), figure.name
        assert "{{" not in caption and "snakemake." not in caption
        if model is not None:
            assert model in html.unescape(caption), figure.name


def test_report_has_the_workflow_description(report: dict[str, Any]) -> None:
    description = html.unescape(re.sub(r"<[^>]+>", " ", report["description"]))
    assert "clustermix" in description
    assert "NGC 6819" in description  # from the config
    assert "convergence gate" in description

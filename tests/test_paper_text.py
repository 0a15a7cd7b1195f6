"""No number is typed by hand into the paper's results: they are all workflow macros."""

from __future__ import annotations

import re

import pytest

from .conftest import REPO

MS_TEX = REPO / "src" / "tex" / "ms.tex"
# Sections whose prose reports results: every number there must come from a macro.
RESULT_SECTIONS = ("abstract", "Results", "Comparison", "Validation")
# Digits allowed in prose: names (Gaia DR3, 2D/3D), interval names and sigma bands.
ALLOWED = (
    r"DR3",
    r"\b[123]D\b",
    r"\b(?:68|95)\\%",
    r"16--84\\%",
    r"\\pm\s*[12]\\sigma",
    r"\d\\sigma",
)
# Arguments that hold names, not numbers.
NAME_COMMANDS = (
    "ref",
    "label",
    "cite",
    "citet",
    "citep",
    "input",
    "tablebody",
    "includegraphics",
    "figuresource",
    "begin",
    "end",
    "code",
)


def result_prose(text: str) -> dict[str, str]:
    """The abstract and the result sections of ``text``, comments removed."""
    text = re.sub(r"(?<!\\)%.*", "", text)
    parts = {"abstract": text.split(r"\begin{abstract}")[1].split(r"\end{abstract}")[0]}
    sections = re.split(r"\\section\*?\{", text)
    for section in sections[1:]:
        title = section.split("}", 1)[0]
        for name in RESULT_SECTIONS[1:]:
            if title.startswith(name):
                parts[name] = section
    return parts


def bare_numbers(prose: str) -> list[str]:
    """Digits left in ``prose`` once macros, name arguments and allowed tokens are removed."""
    for command in NAME_COMMANDS:
        prose = re.sub(rf"\\{command}\*?(\[[^\]]*\])*\{{[^}}]*\}}", " ", prose)
    for pattern in ALLOWED:
        prose = re.sub(pattern, " ", prose)
    prose = re.sub(r"\\[A-Za-z]+", " ", prose)  # macros: their names hold no digits
    prose = re.sub(r"\[[^\]]*(width|height)[^\]]*\]", " ", prose)  # graphics options
    return re.findall(r"[^\s]*\d[^\s]*", prose)


def test_result_sections_are_found() -> None:
    parts = result_prose(MS_TEX.read_text())
    assert set(parts) == set(RESULT_SECTIONS)


@pytest.mark.parametrize("section", RESULT_SECTIONS)
def test_no_number_typed_by_hand(section: str) -> None:
    prose = result_prose(MS_TEX.read_text())[section]
    assert bare_numbers(prose) == [], f"bare numbers in {section} of ms.tex"


def test_the_check_catches_a_typed_number() -> None:
    assert bare_numbers(r"we find $\mu = -2.91 \pm 0.01$~\pmunit{} \citep{Hole2009}") == [
        "-2.91",
        "0.01$~",
    ]
    assert bare_numbers(r"the 95\% interval of $\PmTwoDPmra$ (Figure~\ref{fig:x})") == []


def test_model_switches_say_which_models_were_fitted() -> None:
    """One 1/0 switch per registered model, for ms.tex's \\ifmodel, and the components
    figure's and the CMD model's."""
    from clustermix.models import MODEL_NAMES
    from clustermix.paper.macros import macro_name, model_switch_macros

    macros = model_switch_macros(
        MODEL_NAMES,
        ["pmra_1d", "pm_2d"],
        components_figure=True,
        cmd_model_prose="two-dimensional proper-motion",
    )
    assert macros["ModelFittedPmTwoD"] == macros["ModelFittedPmraOneD"] == "1"
    assert macros["ModelFittedPhaseSpace"] == macros["ModelFittedLineOutliers"] == "0"
    assert {name for name in macros if name.startswith("ModelFitted")} == {
        macro_name("model_fitted", name) for name in MODEL_NAMES
    }
    assert macros["ComponentsFigure"] == "1"
    assert macros["CmdModelProse"] == "two-dimensional proper-motion"


def test_the_sampling_sentence_says_how_long_the_chains_drew() -> None:
    """With a target the paper states it (``\\SamplingToTarget`` 1, its thresholds, what it
    judges; ``\\SamplingDraws`` is then the cap), without one the fixed draws (0); each
    fit's kept draws per chain head its row of the diagnostics table."""
    from clustermix.models.registry import SAMPLING_DEFAULTS
    from clustermix.paper.macros import diagnostics_row, paper_meta_macros

    cluster = {"name": "ngc6819", "label": "NGC 6819", "ra_deg": 295.327, "dec_deg": 40.19}
    target = {"ess": 400, "rhat_max": 1.01, "check_every": 100, "judge": "cluster"}
    macros = paper_meta_macros(cluster, {**SAMPLING_DEFAULTS, "target": target})
    assert macros["SamplingToTarget"] == "1"
    assert macros["SamplingTargetEss"] == "400" and macros["SamplingTargetRhatMax"] == "1.01"
    assert macros["SamplingTargetCheckEvery"] == "100"
    assert macros["SamplingTargetJudged"] == "cluster parameter"
    assert macros["SamplingDraws"] == "1{,}000"
    free = paper_meta_macros(cluster, {**SAMPLING_DEFAULTS, "target": {"judge": "free"}})
    assert free["SamplingTargetJudged"] == "free parameter" and free["SamplingTargetEss"] == "400"
    fixed = paper_meta_macros(cluster, {**SAMPLING_DEFAULTS, "target": None})
    assert fixed["SamplingToTarget"] == "0" and "SamplingTargetEss" not in fixed
    # the whitening sentence only where nutpie whitens (the pymc backend ignores the key)
    assert macros["SamplingWhitened"] == "1"
    for changed in ({"whiten": False}, {"backend": "pymc"}):
        meta = paper_meta_macros(cluster, {**SAMPLING_DEFAULTS, **changed})
        assert meta["SamplingWhitened"] == "0"
    diagnostics = {
        "draws": 300,
        "cluster": {"r_hat_max": 1.004, "ess_bulk_min": 812.4, "ess_tail_min": 650.0},
        "divergences": 0,
        "e_bfmi_min": 0.91,
        "wall_time_s": 52.0,
        "gradient_evaluations": 10428,
        "sampler": "nutpie",
        "sampler_version": "0.16.8",
    }
    assert diagnostics_row("pm_2d", diagnostics)[:3] == ["pm\\_2d", "300", "1.004"]
    assert diagnostics_row("pm_2d", diagnostics)[-1] == "nutpie 0.16.8"
    jax_row = diagnostics_row("pm_2d", {**diagnostics, "compiler": "jax"})
    assert jax_row[-1] == "nutpie 0.16.8 (jax)"
    # the table has one column per row entry
    tex = (REPO / "src" / "tex" / "ms.tex").read_text()
    spec = re.search(r"\\label\{tab:diagnostics\}.*?\\begin\{tabular\}\{(\w+)\}", tex, re.S)
    assert spec is not None and len(spec.group(1)) == len(diagnostics_row("pm_2d", diagnostics))

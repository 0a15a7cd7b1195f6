"""The manuscript and the table of the paper's products agree (no Snakemake run).

``ms.tex`` includes exactly the figures and number files of the table
(:func:`clustermix.paper.products.paper_products`) for the default config, and disabling a
model drops exactly the files that ``ms.tex`` keeps inside that model's
``\\ifmodel{<Name>} ... \\fi``; without the simulator's truth, exactly the figures it shows
only when ``\\ValidationAvailable`` is true.
"""

from __future__ import annotations

import copy
import re
from typing import Any, NamedTuple

import pytest
import yaml

from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_NAMES
from clustermix.paper.macros import macro_name
from clustermix.paper.products import (
    KINDS,
    Product,
    paper_products,
    product_paths,
)

from .conftest import REPO

MS_TEX = REPO / "src" / "tex" / "ms.tex"
CONFIG = REPO / "config" / "config.yaml"
#: The kinds of product ms.tex reads, by how it reads them.
FIGURE_KINDS = {"figure"}
NUMBER_KINDS = {"numbers", "support"}


class Use(NamedTuple):
    """One file ``ms.tex`` reads: ``kind`` "figure" (``\\includegraphics{name}``) or
    "numbers" (``\\input{output/name.tex}``, ``\\tablebody{output/name.tex}``), and the
    models whose ``\\ifmodel{<Name>}`` encloses it."""

    name: str
    kind: str
    models: frozenset[str]
    start: int


def strip_comments(text: str) -> str:
    """``text`` without TeX comments (an escaped ``\\%`` stays), offsets kept per line."""
    return re.sub(r"(?<!\\)%.*", "", text)


def custom_conditionals(preamble: str) -> set[str]:
    r"""The macros the preamble defines as the start of a TeX conditional
    (``\newcommand{\ifmodel}[1]{\ifnum...}``): each is closed by a ``\fi`` like ``\ifnum``."""
    return set(re.findall(r"\\newcommand\{\\(\w+)\}(?:\[\d\])?\{\\if", preamble))


def manuscript_uses(text: str) -> list[Use]:
    """Every figure and number file ``text`` (ms.tex) reads, with its ``\\ifmodel`` guards.

    The body's conditionals (``\\if...``, and the preamble's own, e.g. ``\\IsSimulated``)
    are tracked to their ``\\fi``; ``\\ifthenelse`` is a macro with arguments, not one of them.
    """
    text = strip_comments(text)
    conditionals = custom_conditionals(text.split(r"\begin{document}")[0])
    body_start = text.index(r"\begin{document}")
    token = re.compile(
        r"\\ifmodel\{(?P<model>\w+)\}"
        r"|\\includegraphics(?:\[[^\]]*\])?\{(?P<figure>[^}]+)\}"
        r"|\\(?:input|tablebody)\{output/(?P<numbers>[^}]+)\.tex\}"
        r"|\\(?P<fi>fi)(?![A-Za-z])"
        r"|\\(?P<cond>if[A-Za-z]*|[A-Za-z]+)"
    )
    stack: list[str | None] = []
    uses = []
    for match in token.finditer(text):
        in_body = match.start() > body_start
        guards = frozenset(name for name in stack if name is not None)
        if match["model"] is not None:
            stack.append(match["model"])
        elif match["figure"] is not None:
            uses.append(Use(match["figure"], "figure", guards, match.start()))
        elif match["numbers"] is not None:
            uses.append(Use(match["numbers"], "numbers", guards, match.start()))
        elif not in_body:
            continue
        elif match["fi"] is not None:
            assert stack, f"ms.tex: a \\fi without its \\if at offset {match.start()}"
            stack.pop()
        elif match["cond"] is not None:
            name = match["cond"]
            if (name.startswith("if") and name != "ifthenelse") or name in conditionals:
                stack.append(None)
    assert not stack, "ms.tex: an \\if without its \\fi"
    return uses


def branch_of(text: str, opening: str) -> tuple[int, int]:
    r"""The offsets of the true branch (second argument) of the ``\ifthenelse`` that starts
    with ``opening`` (its first argument included) in ``text``."""
    start = text.index(opening) + len(opening)
    assert text[start] == "{", opening
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{" and text[index - 1] != "\\":
            depth += 1
        elif text[index] == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return start, index
    raise AssertionError(f"ms.tex: unbalanced braces after {opening}")


def default_config() -> dict[str, Any]:
    """The default config (config/config.yaml)."""
    return yaml.safe_load(CONFIG.read_text())


def with_model_disabled(config: dict[str, Any], name: str) -> dict[str, Any]:
    """A copy of ``config`` with ``models.<name>.enabled: false``."""
    changed = copy.deepcopy(config)
    changed.setdefault("models", {}).setdefault(name, {})["enabled"] = False
    return changed


def used_names(products: list[Product], kinds: set[str]) -> set[str]:
    """The names (as ms.tex writes them) of the ``products`` of ``kinds``."""
    return {product.name for product in products if product.kind in kinds}


@pytest.fixture(scope="module")
def uses() -> list[Use]:
    return manuscript_uses(MS_TEX.read_text())


def test_the_default_config_fits_every_model() -> None:
    """The comparisons below start from a paper with every model."""
    config = default_config()
    assert all(
        (config.get("models") or {}).get(name, {}).get("enabled", True) for name in MODEL_NAMES
    )


def test_the_manuscript_reads_exactly_the_tables_figures(uses: list[Use]) -> None:
    products = paper_products(default_config())
    figures = {use.name for use in uses if use.kind == "figure"}
    assert figures == used_names(products, FIGURE_KINDS)
    for product in products:
        if product.kind == "figure":
            assert product.path == f"src/tex/figures/{product.name}.pdf"


def test_the_manuscript_reads_exactly_the_tables_number_files(uses: list[Use]) -> None:
    products = paper_products(default_config())
    number_files = {use.name for use in uses if use.kind == "numbers"}
    assert number_files == used_names(products, NUMBER_KINDS)
    for product in products:
        if product.kind in NUMBER_KINDS:
            assert product.path == f"src/tex/output/{product.name}.tex"


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_a_disabled_model_drops_what_its_ifmodel_guards(uses: list[Use], model: str) -> None:
    config = default_config()
    before = paper_products(config)
    after = paper_products(with_model_disabled(config, model))
    kept = {product.path for product in after}
    assert kept <= {product.path for product in before}  # nothing appears
    dropped_products = [product for product in before if product.path not in kept]
    dropped = {(product.name, product.kind) for product in dropped_products}
    tex_name = macro_name(model)
    guarded = {
        (use.name, "figure" if use.kind == "figure" else "numbers")
        for use in uses
        if tex_name in use.models
    }
    assert dropped == guarded, f"\\ifmodel{{{tex_name}}} in ms.tex against the table"
    assert dropped, f"disabling {model} drops nothing"
    # the table says so itself: what needs that model alone
    assert [product for product in before if product.models == (model,)] == dropped_products


def test_without_truth_the_validation_figures_drop(uses: list[Use]) -> None:
    """Archive data have no truth: the figures that go are those ms.tex shows only when
    \\ValidationAvailable is true; the number files stay (their values say so)."""
    config = default_config()
    before = paper_products(config)
    archive = copy.deepcopy(config)
    archive["data"]["source"] = "archive"
    after = paper_products(archive)
    kept = {product.path for product in after}
    assert kept <= {product.path for product in before}
    dropped = [product for product in before if product.path not in kept]
    assert {product.kind for product in dropped} == {"figure"}
    assert dropped == [product for product in before if product.truth]
    text = strip_comments(MS_TEX.read_text())
    start, end = branch_of(text, r"\ifthenelse{\equal{\ValidationAvailable}{true}}")
    shown_with_truth = {
        use.name for use in uses if use.kind == "figure" and start < use.start < end
    }
    assert {product.name for product in dropped} == shown_with_truth


def test_the_kinds_split_the_table() -> None:
    products = paper_products(default_config())
    paths = [path for kind in KINDS for path in product_paths(products, kind)]
    assert sorted(paths) == sorted(product.path for product in products)
    assert len(set(paths)) == len(paths)
    assert "arxiv.tar.gz" in product_paths(products, "output")
    with pytest.raises(ValueError, match="unknown product kind"):
        product_paths(products, "figures")  # type: ignore[arg-type]


def test_the_parser_sees_a_guard() -> None:
    """The check above would pass vacuously if the parser found no guard."""
    text = (
        r"\newcommand{\ifmodel}[1]{\ifnum\csname ModelFitted#1\endcsname=1 }"
        "\n\\begin{document}\n"
        r"\ifmodel{PhaseSpace}\ifnum1=1 \fi\includegraphics{a}\fi\includegraphics{b}"
        r"\tablebody{output/c.tex}"
    )
    found = {use.name: use.models for use in manuscript_uses(text)}
    assert found == {"a": {"PhaseSpace"}, "b": frozenset(), "c": frozenset()}


def test_each_product_says_when_it_exists() -> None:
    products = {product.path: product for product in paper_products(default_config())}
    figures = "src/tex/figures/"
    assert products[f"{figures}sky_masks.pdf"].condition == "always"
    assert products[f"{figures}galactocentric.pdf"].condition == "model phase_space enabled"
    assert products["src/tex/output/galactocentric.tex"].condition == "always"  # n/a values
    assert products[f"{figures}corner_pm_2d.pdf"].models == ("pm_2d",)
    recovery = products[f"{figures}recovery.pdf"]
    assert recovery.truth and recovery.condition.endswith("(truth)")
    assert products[f"{figures}components.pdf"].condition.startswith("any of ")
    assert products["results/ngc6819/members.vot"].kind == "output"


def test_the_paper_follows_its_clusters_own_models() -> None:
    """Listing the paper cluster's models (``clusters[].models``) without one makes the
    same products as disabling that model (``models.<name>.enabled``)."""
    config = default_config()
    for model in CLUSTER_MODEL_NAMES:
        listed = copy.deepcopy(config)
        listed["clusters"][0]["models"] = [name for name in CLUSTER_MODEL_NAMES if name != model]
        assert paper_products(listed) == paper_products(with_model_disabled(config, model))

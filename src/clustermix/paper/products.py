"""The paper's products: one table, computed from the config, of every figure and number
file that ``src/tex/ms.tex`` reads and of the workflow's other final outputs.

The workflow's rules take their targets from it (``workflow/rules/common.smk`` computes it
once: ``build_paper``, ``provenance_manifest``, ``arxiv_tarball`` and ``all`` read it), and
``tests/test_paper_products.py`` checks it against the manuscript, so that the workflow and
the paper cannot disagree: a figure the paper includes is a product, every product is used,
and a disabled model drops exactly the files that ``ms.tex`` keeps inside that model's
``\\ifmodel{<Name>} ... \\fi``.

Each :class:`Product` says when it exists: ``models``, the models of which at least one
must be enabled (empty: whatever the models), and ``truth``, whether it needs the paper
cluster's simulator truth (simulated data). The table lists only the products of the given
config, in a fixed order (the order the rules' inputs have always had).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from clustermix.config import cluster_source, paper_cluster
from clustermix.models.registry import (
    cluster_model_names,
    component_models,
    enabled_cluster_models,
    enabled_example_models,
    galactocentric_model,
)

#: What a product is: a figure of the paper (``src/tex/figures/<name>.pdf``), a number
#: file it inputs (``src/tex/output/<name>.tex``: macros or a table body), a file ms.tex
#: reads that is not a result of its own (the PDF's provenance macros: the manifest does
#: not list it), or another final output of the workflow that the paper does not read
#: (membership catalogues, the cross-cluster table, the manifest, the arXiv tarball).
Kind = Literal["figure", "numbers", "support", "output"]
KINDS: tuple[Kind, ...] = ("figure", "numbers", "support", "output")

FIGURES_DIR = "src/tex/figures"
OUTPUT_DIR = "src/tex/output"


@dataclass(frozen=True)
class Product:
    """One product of the workflow.

    ``path``: relative to the working directory; ``kind``: one of :data:`KINDS`;
    ``models``: it is made when at least one of these models is enabled (empty: whatever
    the models); ``truth``: it also needs the paper cluster's simulator truth.
    """

    path: str
    kind: Kind
    models: tuple[str, ...] = ()
    truth: bool = False

    @property
    def name(self) -> str:
        """The file's name without its directory and suffix, as ``ms.tex`` names it
        (``\\includegraphics{<name>}``, ``\\input{output/<name>.tex}``)."""
        return PurePosixPath(self.path).stem

    @property
    def condition(self) -> str:
        """When the product exists, in words (for messages and the README)."""
        parts = []
        if len(self.models) == 1:
            parts.append(f"model {self.models[0]} enabled")
        elif self.models:
            parts.append(f"any of {', '.join(self.models)} enabled")
        if self.truth:
            parts.append("simulated paper cluster (truth)")
        return " and ".join(parts) or "always"


def figure(name: str, models: Iterable[str] = (), *, truth: bool = False) -> Product:
    """The paper's figure ``src/tex/figures/<name>.pdf``."""
    return Product(f"{FIGURES_DIR}/{name}.pdf", "figure", tuple(models), truth)


def numbers(name: str, models: Iterable[str] = (), *, kind: Kind = "numbers") -> Product:
    """The paper's number file ``src/tex/output/<name>.tex`` (``kind`` "support" for a
    file that is not a result of its own)."""
    return Product(f"{OUTPUT_DIR}/{name}.tex", kind, tuple(models))


def members_catalogs(config: Mapping[str, Any]) -> list[str]:
    """Every cluster's membership catalogues (FITS, VOTable, ECSV), the targets of rule
    ``members``; none without a cluster model."""
    if not enabled_cluster_models(config):
        return []
    return [
        f"results/{cluster}/members.{ext}"
        for cluster in _cluster_names(config)
        for ext in ("fits", "vot", "ecsv")
    ]


def paper_products(config: Mapping[str, Any]) -> list[Product]:
    """The table of the products of ``config`` (a validated workflow config): the paper's
    figures, number files and support files, then the other final outputs. The cluster
    models are the paper cluster's (its ``clusters[].models``, else every enabled one).

    Figures: the sky regions; with any cluster model, the membership CMD and proper-motion
    diagrams and the model comparison; each enabled example model's fit over its data
    (``<name>.pdf``); with the paper cluster's truth, the ROC and parameter-recovery
    figures; the calibration; each enabled model's graphical model and corner plot; the
    components (with a model that has a panel); the Galactocentric figure (with the model
    that measures it); the posterior predictive checks (with any fit). Number files whose
    values may be n/a (galactocentric, validation, reference overlap, clusters table) are
    always made, so that the paper compiles for any config.
    """
    cluster_models = cluster_model_names(config, paper_cluster(dict(config)))
    example_models = enabled_example_models(config)
    fits = [*cluster_models, *example_models]
    has_truth = cluster_source(dict(config), paper_cluster(dict(config))) == "simulated"
    shown_components = component_models(cluster_models)
    galactocentric = galactocentric_model(cluster_models)

    figures = [figure("sky_masks")]
    if cluster_models:
        figures += [
            figure(name, cluster_models)
            for name in ("cmd_membership", "pm_membership", "model_comparison")
        ]
    # an example's fit over its own data, named after it (rule fig_line_outliers draws the
    # one example there is; a new example model brings its own rule)
    figures += [figure(name, [name]) for name in example_models]
    if has_truth and cluster_models:
        figures += [
            figure(name, cluster_models, truth=True) for name in ("membership_roc", "recovery")
        ]
    figures.append(figure("calibration"))
    for prefix in ("pgm", "corner"):
        figures += [
            figure(f"{prefix}_{name}", [name]) for name in [*example_models, *cluster_models]
        ]
    if shown_components:
        figures.append(figure("components", shown_components))
    if galactocentric is not None:
        figures.append(figure("galactocentric", [galactocentric]))
    if fits:
        figures.append(figure("ppc", fits))

    number_files = [
        numbers(name)
        for name in (
            "reference_overlap",
            "literature_table",
            "literature",
            "data_numbers",
            "validation",
            "validation_table",
            "calibration",
            "galactocentric",
        )
    ]
    if fits:
        number_files.append(numbers("ppc", fits))
    number_files += [
        numbers(name)
        for name in (
            "clusters_table",
            "paper_meta",
            "models",
            "gate",
            "results",
            "diagnostics_table",
            "setup_table",
            "priors_table",
            "software",
        )
    ]
    support = [numbers("provenance", kind="support")]

    outputs = [Product(path, "output", tuple(cluster_models)) for path in members_catalogs(config)]
    if cluster_models:
        outputs += [
            Product(f"results/{cluster}/reference_overlap.json", "output", tuple(cluster_models))
            for cluster in _cluster_names(config)
        ]
        outputs.append(Product("results/clusters_summary.csv", "output", tuple(cluster_models)))
    outputs += [
        Product("results/provenance.json", "output"),
        Product("arxiv.tar.gz", "output"),
    ]
    return [*figures, *number_files, *support, *outputs]


def product_paths(products: Iterable[Product], kind: Kind) -> list[str]:
    """The paths of the ``products`` of ``kind``, in table order."""
    if kind not in KINDS:
        raise ValueError(f"unknown product kind {kind!r}; the kinds are {list(KINDS)}")
    return [product.path for product in products if product.kind == kind]


def _cluster_names(config: Mapping[str, Any]) -> Sequence[str]:
    return [cluster["name"] for cluster in config["clusters"]]

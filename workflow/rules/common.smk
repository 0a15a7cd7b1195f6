# Shared by every stage: config validation, wildcard constraints and the input
# functions that turn the config into file lists. No science here.
from snakemake.utils import validate

from clustermix.config import (
    check_config,
    cluster_by_name,
    cluster_source,
    paper_cluster,
)
from clustermix.errors import ConfigError
from clustermix.paper.products import paper_products, product_paths
from clustermix.provenance.origin import code_version
from clustermix.models import CLUSTER_MODEL_NAMES
from clustermix.models.registry import (
    EXAMPLE_MODEL_NAMES,
    cluster_model_names,
    cmd_model,
    component_models,
    enabled_example_models,
    galactocentric_model,
    model_check_files,
    model_part_file,
    model_source_files,
    model_spec,
    option_overrides,
    sampling_settings,
)

validate(config, schema="../schemas/config.schema.yaml")
try:
    check_config(config)
except ConfigError as err:
    raise WorkflowError(f"invalid config: {err}") from None

CLUSTERS = [cluster["name"] for cluster in config["clusters"]]
# The cluster the paper is about; its figures and numbers go into src/tex/.
PAPER_CLUSTER = paper_cluster(config)
# The table of the paper's products (src/clustermix/paper/products.py), computed once from
# the config: every figure (src/tex/figures/*.pdf) and number file (src/tex/output/*.tex)
# ms.tex includes, the files ms.tex reads that are not results of their own (the PDF's
# provenance macros: build_paper and the arXiv tarball take them along, the provenance
# manifest does not list them), and the other final outputs that `all` builds besides the
# fits and ms.pdf (membership catalogues, reference overlaps, the cross-cluster summary, the
# provenance manifest, the arXiv tarball). The rules read these lists, never add to them;
# tests/test_paper_products.py checks the table against ms.tex.
PAPER_PRODUCTS = paper_products(config)
PAPER_FIGURES = product_paths(PAPER_PRODUCTS, "figure")
PAPER_NUMBERS = product_paths(PAPER_PRODUCTS, "numbers")
PAPER_SUPPORT = product_paths(PAPER_PRODUCTS, "support")
FINAL_OUTPUTS = product_paths(PAPER_PRODUCTS, "output")
# The commit the workflow runs from (without the dirty flag, which the scripts record):
# a param of the rules that print it, so a new commit rewrites only those.
CODE_COMMIT = code_version().removesuffix("-dirty")
# The paper cluster's models (its figures, numbers and validation); every cluster is
# fitted with its own (clusters[].models: CLUSTER_FITS, cluster_models()).
CLUSTER_MODELS = cluster_model_names(config, PAPER_CLUSTER)
# Every (cluster, model) fit, clusters in config order, each cluster's models in model order.
CLUSTER_FITS = [
    (cluster, model)
    for cluster in CLUSTERS
    for model in cluster_model_names(config, cluster)
]
EXAMPLE_MODELS = enabled_example_models(config)


wildcard_constraints:
    # "examples" is not a cluster: results/examples/ holds the line-with-outliers fit.
    cluster="(?!examples/)[a-z0-9][a-z0-9_]*",
    model="|".join(CLUSTER_MODEL_NAMES),
    example="|".join(EXAMPLE_MODEL_NAMES),


def cluster_config(wildcards):
    """The config entry of the cluster named by the {cluster} wildcard."""
    return cluster_by_name(config, wildcards.cluster)


def raw_catalog(wildcards):
    """The Gaia catalogue that enters the workflow, by the cluster's source."""
    source = cluster_source(config, wildcards.cluster)
    if source == "simulated":
        return f"resources/{wildcards.cluster}/gaia_dr3_simulated.fits"
    if source == "archive":
        return f"resources/{wildcards.cluster}/gaia_dr3.fits"
    return cluster_config(wildcards).get("path") or config["data"]["path"]


def fit_sampling(wildcards):
    """Sampling settings of the model named by {model} or {example}: `sampling`,
    overridden by `models.<name>`."""
    return sampling_settings(config, _model_name(wildcards))


def fit_options(wildcards):
    """The model options that `models.<name>` sets (the module's defaults fill the rest)."""
    return option_overrides(config, _model_name(wildcards))


def fit_model_name(wildcards):
    """The model a fit rule's job runs: {model} for a cluster, {example} for an example."""
    return _model_name(wildcards)


def fit_label(wildcards):
    """The label recorded with a fit: the cluster's name, or "examples"."""
    return wildcards.get("cluster") or "examples"


def fit_hint(wildcards):
    """The cluster's `hint` (none for an example, which fits its own data)."""
    if wildcards.get("cluster") is None:
        return None
    return cluster_config(wildcards).get("hint")


def fit_cpus(wildcards):
    """One core per chain: what a cluster scheduler gives a fit (the SLURM executor's
    --cpus-per-task). Locally a fit declares one thread instead (the rule's `threads`):
    much of its time goes to one core (choosing K, the mode search, the whitening),
    its chains sample in threads that the operating system shares among the cores, and on
    a laptop another fit, or the rules after one, run beside it (bench/README.md,
    "Fits side by side")."""
    return fit_sampling(wildcards)["chains"]


def fit_resource(key):
    """An input function for resource `key` (mem_mb, or runtime in minutes) of the model's
    fit, for cluster schedulers: its spec's (clustermix.models.<name>.SPEC.resources, with
    20,000 stars and 4 x 2,000 iterations; override with --set-resources
    fit_model:mem_mb=...). The wall time grows with each attempt, so that a retry
    (--retries) of a fit that ran out of time on a cluster gets more."""

    def resources(wildcards):
        return model_spec(_model_name(wildcards)).resources

    if key == "runtime":
        return lambda wildcards, attempt: resources(wildcards).runtime_min * attempt
    return lambda wildcards: resources(wildcards).mem_mb


def model_code(wildcards):
    """The model's module and the shared mixture code: editing either refits."""
    return model_source_files(_model_name(wildcards))


def model_checks(wildcards):
    """The model's posterior predictive check code: editing it reruns the check only."""
    return model_check_files(_model_name(wildcards))


def truth_file(wildcards):
    """The simulator's truth (only for a simulated cluster), for unpack()."""
    if cluster_source(config, wildcards.cluster) == "simulated":
        return {"truth": f"resources/{wildcards.cluster}/truth.json"}
    return {}


def reference_files(wildcards):
    """The user's reference member files of the cluster (clusters[].reference_members)."""
    return [
        entry if isinstance(entry, str) else entry["path"]
        for entry in cluster_config(wildcards).get("reference_members", [])
    ]


def reference_catalogues(wildcards):
    """The VizieR catalogues fetched for the cluster (clusters from the archive only)."""
    if cluster_source(config, wildcards.cluster) == "archive":
        return list(config["reference"]["catalogues"])
    return []


def reference_catalogue_files(kind):
    """An input function: the cluster's cached VizieR lists ({kind} "fits") or their
    provenance sidecars ({kind} "provenance.json")."""

    def files(wildcards):
        return [
            f"resources/{wildcards.cluster}/reference/{catalogue}.{kind}"
            for catalogue in reference_catalogues(wildcards)
        ]

    return files


def fit_files(pattern):
    """`pattern` (with {cluster} and {model}) for every fit of CLUSTER_FITS, in order."""
    return [
        pattern.format(cluster=cluster, model=model) for cluster, model in CLUSTER_FITS
    ]


def cluster_models(wildcards):
    """The models fitted to the cluster named by {cluster} (clusters[].models), in model
    order."""
    return cluster_model_names(config, wildcards.cluster)


def cluster_fit_files(pattern):
    """An input function: `pattern` (with {cluster} and {model}) for each model of the
    cluster named by {cluster}, in model order."""

    def files(wildcards):
        return expand(
            pattern, cluster=wildcards.cluster, model=cluster_models(wildcards)
        )

    return files


def model_memberships(wildcards):
    """The per-model membership files of a cluster, in cluster_models() order."""
    return cluster_fit_files("results/{cluster}/membership/{model}.fits")(wildcards)


def _model_name(wildcards):
    return wildcards.get("model") or wildcards.get("example")


def model_outputs():
    """Traces, summaries and diagnostics of each cluster's models and its membership table,
    and every enabled example's."""
    outputs = [
        path
        for pattern in (
            "results/{cluster}/traces/{model}.nc",
            "results/{cluster}/summary/{model}.json",
            "results/{cluster}/diagnostics/{model}.json",
            "results/{cluster}/ppc/{model}.json",
        )
        for path in fit_files(pattern)
    ]
    if CLUSTER_FITS:
        outputs += expand("results/{cluster}/membership.fits", cluster=CLUSTERS)
    outputs += expand(
        "results/examples/{example}/{name}",
        example=EXAMPLE_MODELS,
        name=["trace.nc", "summary.json", "diagnostics.json", "ppc.json"],
    )
    return outputs


def all_outputs():
    """Every final output of the workflow (the target of `all`): the paper and every fit."""
    return (
        expand(
            [
                "results/{cluster}/catalog.fits",
                "results/{cluster}/masks.fits",
            ],
            cluster=CLUSTERS,
        )
        + model_outputs()
        + ["ms.pdf"]
        + FINAL_OUTPUTS
    )


# The fits the paper reports: every cluster model of the paper cluster and the examples.
PAPER_FIT_NAMES = CLUSTER_MODELS + EXAMPLE_MODELS


def paper_fit_files(name):
    """`name` (summary.json or diagnostics.json) of every fit the paper reports."""
    return [
        f"results/{PAPER_CLUSTER}/{name.split('.')[0]}/{model}.json"
        for model in CLUSTER_MODELS
    ] + [f"results/examples/{example}/{name}" for example in EXAMPLE_MODELS]


def rule_scripts():
    """Rule name -> its script, relative to the working directory (for the manifest)."""
    return {
        job_rule.name: os.path.relpath(
            os.path.join(os.path.dirname(job_rule.snakefile), job_rule.script)
        )
        for job_rule in workflow.rules
        if job_rule.script
    }

# Checks stage: a posterior predictive check of every fit against the data it was fitted
# to (replicated data sets for a random subsample of posterior draws, the same stars with
# their own uncertainties) -> results/{cluster}/ppc/{model}.json and
# results/examples/{example}/ppc.json; for the paper, the observed-against-replicated
# histograms -> src/tex/figures/ppc.pdf and the p-values -> src/tex/output/ppc.tex.
# A check reads only the trace, the catalogue and masks, the fit's memberships (and, for
# simulated data, the truth) and the model code: it is redone only when its fit changes.
# Besides the histograms, two local checks (src/clustermix/checks/ppc_local.py): the counts in
# the cluster's window per annulus of radius, and the summed membership probabilities per
# G bin against the replicated (and true) numbers of members.

# How many posterior draws are replicated, the most histogram bins per quantity, the
# annuli and G bins of the local checks (equal star counts), and the seed (that of the
# sampler) that picks the draws and draws the replicates.
PPC_SETTINGS = {
    "n_draws": 200,
    "max_bins": 40,
    "n_annuli": 5,
    "n_magnitude_bins": 5,
    "seed": config["sampling"]["seed"],
}
PPC_PAPER_FILES = expand(
    "results/{cluster}/ppc/{model}.json", cluster=PAPER_CLUSTER, model=CLUSTER_MODELS
) + expand("results/examples/{example}/ppc.json", example=EXAMPLE_MODELS)


rule ppc_fit:
    input:
        unpack(truth_file),
        trace="results/{cluster}/traces/{model}.nc",
        catalog="results/{cluster}/catalog.fits",
        masks="results/{cluster}/masks.fits",
        membership="results/{cluster}/membership/{model}.fits",
        code=model_code,
        checks=model_checks,
    output:
        ppc="results/{cluster}/ppc/{model}.json",
    log:
        "logs/{cluster}/ppc_fit/{model}.log",
    benchmark:
        "benchmarks/{cluster}/ppc_fit/{model}.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        n_draws=PPC_SETTINGS["n_draws"],
        max_bins=PPC_SETTINGS["max_bins"],
        n_annuli=PPC_SETTINGS["n_annuli"],
        n_magnitude_bins=PPC_SETTINGS["n_magnitude_bins"],
        seed=PPC_SETTINGS["seed"],
    script:
        "../../scripts/ppc_fit.py"


# An example's check: the same rule with the example's paths (no catalogue, masks or
# membership, so no local checks).
use rule ppc_fit as ppc_example with:
    input:
        trace="results/examples/{example}/trace.nc",
        code=model_code,
        checks=model_checks,
    output:
        ppc="results/examples/{example}/ppc.json",
    log:
        "logs/examples/ppc_example/{example}.log",
    benchmark:
        "benchmarks/examples/ppc_example/{example}.tsv"


rule fig_ppc:
    input:
        ppc=PPC_PAPER_FILES,
    output:
        figure=report(
            "src/tex/figures/ppc.pdf",
            caption="../report/ppc.rst",
            category="Checks",
            subcategory="Posterior predictive checks",
        ),
    log:
        "logs/paper/fig_ppc.log",
    benchmark:
        "benchmarks/paper/fig_ppc.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    script:
        "../../scripts/fig_ppc.py"


rule num_ppc:
    input:
        ppc=PPC_PAPER_FILES,
    output:
        macros="src/tex/output/ppc.tex",
    log:
        "logs/paper/num_ppc.log",
    benchmark:
        "benchmarks/paper/num_ppc.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../../scripts/num_ppc.py"

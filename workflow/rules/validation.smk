# Validation stage (simulated data only): membership probabilities against the true
# members (ROC, precision-recall, expected counts) and every cluster parameter against its
# true value (pulls, interval coverage). The number files are always made, so that the
# paper compiles for any data source: without a truth they hold \ValidationAvailable{false}
# and an empty table, and the figures are not part of the paper.

# True when the paper cluster's data come with a truth and some cluster model is fitted.
VALIDATION_HAS_TRUTH = cluster_source(config, PAPER_CLUSTER) == "simulated" and bool(
    CLUSTER_MODELS
)
VALIDATION_MEMBERSHIP = f"results/{PAPER_CLUSTER}/membership.fits"
VALIDATION_SUMMARIES = expand(
    "results/{cluster}/summary/{model}.json",
    cluster=PAPER_CLUSTER,
    model=CLUSTER_MODELS,
)


# The calibration over many simulated fields (bench/calibration.py, too long to rerun here)
# is read from its committed record, whatever the data source.
rule fig_calibration:
    input:
        record="bench/calibration_summary.json",
    output:
        figure=report(
            "src/tex/figures/calibration.pdf",
            caption="../report/calibration.rst",
            category="Validation",
            subcategory="Calibration",
        ),
        macros="src/tex/output/calibration.tex",
    log:
        "logs/paper/fig_calibration.log",
    benchmark:
        "benchmarks/paper/fig_calibration.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../../scripts/fig_calibration.py"


rule fig_membership_roc:
    input:
        membership=VALIDATION_MEMBERSHIP,
    output:
        figure=report(
            "src/tex/figures/membership_roc.pdf",
            caption="../report/membership_roc.rst",
            category="Validation",
            subcategory="Membership",
        ),
    log:
        "logs/paper/fig_membership_roc.log",
    benchmark:
        "benchmarks/paper/fig_membership_roc.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        models=CLUSTER_MODELS,
    script:
        "../../scripts/fig_membership_roc.py"


rule fig_recovery:
    input:
        summaries=VALIDATION_SUMMARIES,
    output:
        figure=report(
            "src/tex/figures/recovery.pdf",
            caption="../report/recovery.rst",
            category="Validation",
            subcategory="Parameter recovery",
        ),
    log:
        "logs/paper/fig_recovery.log",
    benchmark:
        "benchmarks/paper/fig_recovery.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=CLUSTER_MODELS,
    script:
        "../../scripts/fig_recovery.py"


rule num_validation:
    input:
        # Without a truth nothing is read: the number files need no model fit.
        membership=VALIDATION_MEMBERSHIP if VALIDATION_HAS_TRUTH else [],
        summaries=VALIDATION_SUMMARIES if VALIDATION_HAS_TRUTH else [],
    output:
        macros="src/tex/output/validation.tex",
        table="src/tex/output/validation_table.tex",
    log:
        "logs/paper/num_validation.log",
    benchmark:
        "benchmarks/paper/num_validation.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        models=CLUSTER_MODELS,
        has_truth=VALIDATION_HAS_TRUTH,
    script:
        "../../scripts/num_validation.py"

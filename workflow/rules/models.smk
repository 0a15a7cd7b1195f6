# Model stage: every enabled model fitted to every cluster's cleaned catalogue -> trace
# and per-model membership -> posterior summary and diagnostics; all models' memberships
# -> one membership table per cluster. The line-with-outliers example fits its own data,
# under results/examples/{example}/.


rule fit_model:
    input:
        catalog="results/{cluster}/catalog.fits",
        masks="results/{cluster}/masks.fits",
        code=model_code,
    output:
        trace="results/{cluster}/traces/{model}.nc",
        membership="results/{cluster}/membership/{model}.fits",
    log:
        "logs/{cluster}/fit_model/{model}.log",
    benchmark:
        "benchmarks/{cluster}/fit_model/{model}.tsv"
    # the fits first, with the data rules before them (data.smk)
    priority: 1
    conda:
        "../../environment.yml"
    threads: 1
    resources:
        cpus_per_task=fit_cpus,
        mem_mb=fit_resource("mem_mb"),
        runtime=fit_resource("runtime"),
    params:
        model=fit_model_name,
        label=fit_label,
        options=fit_options,
        sampling=fit_sampling,
        hint=fit_hint,
    script:
        "../../scripts/fit_model.py"


rule summarize_fit:
    input:
        unpack(truth_file),
        trace="results/{cluster}/traces/{model}.nc",
        catalog="results/{cluster}/catalog.fits",
        masks="results/{cluster}/masks.fits",
    output:
        summary="results/{cluster}/summary/{model}.json",
        diagnostics="results/{cluster}/diagnostics/{model}.json",
    log:
        "logs/{cluster}/summarize_fit/{model}.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=15,
    script:
        "../../scripts/summarize_fit.py"


rule membership_table:
    input:
        unpack(truth_file),
        catalog="results/{cluster}/catalog.fits",
        memberships=model_memberships,
    output:
        table="results/{cluster}/membership.fits",
    log:
        "logs/{cluster}/membership_table.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        models=cluster_models,
    script:
        "../../scripts/membership_table.py"


# The examples are fits like the others, to their own data: the same rules with their
# own paths (no catalogue, masks or membership; their script reads what it is given).
use rule fit_model as fit_example with:
    input:
        code=model_code,
    output:
        trace="results/examples/{example}/trace.nc",
    log:
        "logs/examples/fit_example/{example}.log",
    benchmark:
        "benchmarks/examples/fit_example/{example}.tsv"


use rule summarize_fit as summarize_example with:
    input:
        trace="results/examples/{example}/trace.nc",
    output:
        summary="results/examples/{example}/summary.json",
        diagnostics="results/examples/{example}/diagnostics.json",
    log:
        "logs/examples/summarize_example/{example}.log",

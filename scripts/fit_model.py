"""Rules fit_model and fit_example: sample one model; write its trace (and membership)."""

from clustermix.fit.progress import PROGRESS_INTERVAL_S
from clustermix.fit.run import run_fit
from clustermix.scripting import logged

with logged(snakemake) as log:
    run_fit(
        snakemake.params.model,
        snakemake.params.options,
        snakemake.params.sampling,
        trace_path=snakemake.output.trace,
        catalog_path=getattr(snakemake.input, "catalog", None),
        masks_path=getattr(snakemake.input, "masks", None),
        membership_path=getattr(snakemake.output, "membership", None),
        # every chain in parallel (at most one per CPU): the rule's one thread is for
        # Snakemake's scheduling (workflow/rules/common.smk, fit_cpus)
        cores=None,
        label=snakemake.params.label,
        hint=getattr(snakemake.params, "hint", None),
        # from the config, not a rule parameter: how often a fit says how far it is must
        # not make Snakemake refit
        progress_interval=snakemake.config.get("progress", {}).get(
            "interval_s", PROGRESS_INTERVAL_S
        ),
    )

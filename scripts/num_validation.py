"""Rule num_validation: the validation macros and the parameter-recovery table body."""

from clustermix.checks.validation import write_validation_numbers
from clustermix.scripting import logged

with logged(snakemake) as log:
    macros = write_validation_numbers(
        models=snakemake.params.models,
        membership_path=snakemake.input.get("membership") or None,
        summary_paths=list(snakemake.input.summaries),
        macros_path=snakemake.output.macros,
        table_path=snakemake.output.table,
        has_truth=snakemake.params.has_truth,
        made_by=f"rule {snakemake.rule}",
    )
    log.info("%d macros; truth available: %s", len(macros), snakemake.params.has_truth)

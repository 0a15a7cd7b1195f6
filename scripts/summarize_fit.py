"""Rules summarize_fit and summarize_example: posterior summary and diagnostics of a trace."""

from clustermix.fit.run import run_summary
from clustermix.scripting import logged

with logged(snakemake) as log:
    run_summary(
        snakemake.input.trace,
        summary_path=snakemake.output.summary,
        diagnostics_path=snakemake.output.diagnostics,
        catalog_path=getattr(snakemake.input, "catalog", None),
        masks_path=getattr(snakemake.input, "masks", None),
        truth_path=getattr(snakemake.input, "truth", None),
    )

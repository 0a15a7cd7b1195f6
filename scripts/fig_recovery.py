"""Rule fig_recovery: pulls of every cluster quantity of every model against the truth."""

from clustermix.checks.validation import read_summaries, recovery_table
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.plotting.validation import plot_recovery
from clustermix.scripting import logged

with logged(snakemake) as log:
    paths = dict(zip(snakemake.params.models, snakemake.input.summaries, strict=True))
    rows = recovery_table(read_summaries(paths))
    log.info("%d quantities with a true value", len(rows))
    fig = plot_recovery(rows)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

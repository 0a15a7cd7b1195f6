"""Rule fig_pgm: the probabilistic graphical model of one model, from its docstring."""

from clustermix.plotting.pgm import pgm_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake) as log:
    log.info("drawing the PGM of %s", snakemake.params.model)
    fig = pgm_figure(snakemake.params.model)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

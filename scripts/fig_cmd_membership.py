"""Rule fig_cmd_membership: the colour-magnitude diagram coloured by membership probability."""

from astropy.table import Table

from clustermix.plotting.cmd import cmd_membership_from_tables
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake) as log:
    log.info("colouring by the memberships of model %s", snakemake.params.model)
    fig = cmd_membership_from_tables(
        Table.read(snakemake.input.catalog),
        Table.read(snakemake.input.membership),
        snakemake.params.model,
        p_min=snakemake.params.p_min,
    )
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

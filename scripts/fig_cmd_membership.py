"""Rule fig_cmd_membership: the colour-magnitude diagram coloured by membership probability,
reference members marked, and the fitted sequence where the model has one."""

import xarray as xr
from astropy.table import Table

from clustermix.catalogues.reference_members import read_reference_members
from clustermix.plotting.cmd import cmd_membership_from_tables
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake) as log:
    references = read_reference_members(snakemake.input.references)
    log.info(
        "colouring by the memberships of model %s; marking %s",
        snakemake.params.model,
        [item.info.key for item in references] or "no reference list",
    )
    fig = cmd_membership_from_tables(
        Table.read(snakemake.input.catalog),
        Table.read(snakemake.input.membership),
        snakemake.params.model,
        p_min=snakemake.params.p_min,
        references=references,
        posterior=xr.open_dataset(snakemake.input.trace, group="posterior"),
    )
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

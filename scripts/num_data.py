"""Rule num_data: macros for the data the paper quotes (counts, cuts, masks, truth)."""

from clustermix.paper.data_numbers import data_macros_from_files
from clustermix.paper.macros import write_macros
from clustermix.scripting import logged

with logged(snakemake):
    macros = data_macros_from_files(
        catalog_summary=snakemake.input.catalog_summary,
        input_check=snakemake.input.input_check,
        catalog=snakemake.input.catalog,
        masks=snakemake.input.masks,
        truth=getattr(snakemake.input, "truth", None),
        **snakemake.params.settings,
    )
    write_macros(macros, snakemake.output.macros, made_by=snakemake.rule)

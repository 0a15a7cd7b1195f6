"""Rule num_paper_meta: the paper cluster's name and centre, and the sampler settings."""

from clustermix.paper.macros import paper_meta_macros, write_macros
from clustermix.scripting import logged

with logged(snakemake):
    macros = paper_meta_macros(snakemake.params.cluster, snakemake.params.sampling)
    write_macros(macros, snakemake.output.macros, made_by=f"rule {snakemake.rule}")

"""Rule num_reference_overlap: the paper cluster's overlap with the reference lists as macros."""

from clustermix.catalogues.reference_overlap import write_overlap_macros
from clustermix.scripting import logged

with logged(snakemake) as log:
    macros = write_overlap_macros(
        snakemake.input.get("overlap") or None,
        snakemake.output.macros,
        made_by=f"rule {snakemake.rule}",
    )
    log.info("%d macros; reference lists: %s", len(macros), macros["ReferenceAvailable"])

"""Rule num_literature: the literature table's rows and macros of the published values."""

from clustermix.io import atomic_path
from clustermix.paper.literature import literature_macros, literature_table_rows, load_literature
from clustermix.paper.macros import write_macros
from clustermix.scripting import logged

with logged(snakemake) as log:
    entries = load_literature(snakemake.input.literature, snakemake.params.cluster)
    log.info("%d literature entries for %s", len(entries), snakemake.params.cluster)
    with atomic_path(snakemake.output.table) as tmp:
        tmp.write_text(literature_table_rows(entries))
    write_macros(literature_macros(entries), snakemake.output.macros, made_by=snakemake.rule)

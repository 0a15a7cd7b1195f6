"""Rule num_clusters: \\ClusterCount and the clusters table's rows for the paper."""

from clustermix.paper.clusters_table import read_summary_csv, write_clusters_table
from clustermix.scripting import logged

with logged(snakemake) as log:
    csv_path = snakemake.input.get("csv")
    rows = read_summary_csv(csv_path) if csv_path else []
    macros = write_clusters_table(
        rows,
        snakemake.params.n_clusters,
        snakemake.output.table,
        made_by=f"rule {snakemake.rule}",
    )
    log.info("%s clusters; table written to %s", macros["ClusterCount"], snakemake.output.table)

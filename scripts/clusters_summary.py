"""Rule clusters_summary: every cluster's fits in one CSV (results/clusters_summary.csv)."""

from clustermix.paper.clusters_table import read_fit, summary_rows, write_summary_csv
from clustermix.scripting import logged

with logged(snakemake) as log:
    clusters = snakemake.params.clusters
    # (cluster, model) of each fit, in the order of the input files
    pairs = snakemake.params.fits
    inputs = snakemake.input
    files = zip(pairs, inputs.summaries, inputs.diagnostics, inputs.memberships, strict=True)
    fits = [
        read_fit(
            cluster,
            model,
            summary_path=summary,
            diagnostics_path=diagnostics,
            membership_path=membership,
        )
        for (cluster, model), summary, diagnostics, membership in files
    ]
    rows = summary_rows(fits, clusters, snakemake.params.thresholds)
    write_summary_csv(rows, snakemake.output.csv)
    for row in rows:
        if row["adopted"]:
            log.info(
                "%s: adopted %s (converged: %s)", row["cluster"], row["model"], row["converged"]
            )
    log.info("%d rows written to %s", len(rows), snakemake.output.csv)

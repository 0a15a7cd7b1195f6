"""Rule membership_table: every model's membership probabilities in one table per cluster."""

from clustermix.fit.membership import run_membership_table
from clustermix.scripting import logged

with logged(snakemake) as log:
    run_membership_table(
        snakemake.input.catalog,
        dict(zip(snakemake.params.models, snakemake.input.memberships, strict=True)),
        table_path=snakemake.output.table,
        truth_path=getattr(snakemake.input, "truth", None),
    )

"""Rule simulate_field: draw a Gaia DR3-like field around the cluster, with its truth."""

from clustermix.data.simulate import simulate_field
from clustermix.io import write_json_atomic, write_table_atomic
from clustermix.scripting import logged

with logged(snakemake) as log:
    catalog, truth = simulate_field(
        ra_deg=snakemake.params.ra_deg,
        dec_deg=snakemake.params.dec_deg,
        radius_arcmin=snakemake.params.radius_arcmin,
        **snakemake.params.simulation,
    )
    log.info("simulated %d stars (%d members)", len(catalog), truth["n_members"])
    write_table_atomic(catalog, snakemake.output.catalog)
    write_json_atomic(truth, snakemake.output.truth)

"""Rule sky_masks: cluster-region and control-field masks by separation from the centre."""

from clustermix.data.catalog import read_catalog
from clustermix.data.masks import sky_masks
from clustermix.io import write_table_atomic
from clustermix.scripting import logged

with logged(snakemake):
    masks = sky_masks(
        read_catalog(snakemake.input.catalog),
        ra_deg=snakemake.params.ra_deg,
        dec_deg=snakemake.params.dec_deg,
        cluster_radius_arcmin=snakemake.params.cluster_radius_arcmin,
        control_min_arcmin=snakemake.params.control_min_arcmin,
        source=snakemake.input.catalog,
    )
    write_table_atomic(masks, snakemake.output.masks)

"""Rule fig_sky_masks: the field on the sky with the cluster-region and control-field masks."""

from astropy.table import Table

from clustermix.data.catalog import read_catalog
from clustermix.plotting.sky import sky_masks_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake):
    catalog = read_catalog(snakemake.input.catalog)
    masks = Table.read(snakemake.input.masks)
    fig = sky_masks_figure(
        catalog["ra"],
        catalog["dec"],
        catalog["phot_g_mean_mag"],
        masks["in_cluster_region"],
        masks["in_control_field"],
        **snakemake.params.geometry,
    )
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

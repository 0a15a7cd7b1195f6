"""Rule query_gaia: cone search on the Gaia DR3 archive, with a provenance sidecar."""

from clustermix.data.query import query_gaia_cone
from clustermix.scripting import logged

with logged(snakemake):
    query_gaia_cone(
        ra_deg=snakemake.params.ra_deg,
        dec_deg=snakemake.params.dec_deg,
        radius_arcmin=snakemake.params.radius_arcmin,
        archive=snakemake.params.archive,
        catalog_path=snakemake.output.catalog,
        provenance_path=snakemake.output.provenance,
        download_dir=snakemake.params.download_dir,
    )

"""Rule query_reference_members: one cluster's members in a VizieR catalogue, with provenance."""

from clustermix.data.vizier_members import fetch_reference_members
from clustermix.scripting import logged

with logged(snakemake):
    fetch_reference_members(
        catalogue=snakemake.wildcards.catalogue,
        cluster_name=snakemake.params.cluster_name,
        settings=snakemake.params.settings,
        members_path=snakemake.output.members,
        provenance_path=snakemake.output.provenance,
        download_dir=snakemake.params.download_dir,
    )

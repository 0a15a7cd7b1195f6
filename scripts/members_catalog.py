"""Rule members_catalog: one cluster's membership catalogue as FITS, VOTable and ECSV."""

from clustermix.catalogues.members import run_members_catalog
from clustermix.scripting import logged

with logged(snakemake) as log:
    models = snakemake.params.models
    run_members_catalog(
        snakemake.input.catalog,
        snakemake.input.masks,
        membership_paths=dict(zip(models, snakemake.input.memberships, strict=True)),
        diagnostics_paths=dict(zip(models, snakemake.input.diagnostics, strict=True)),
        thresholds=snakemake.params.thresholds,
        cluster=snakemake.wildcards.cluster,
        label=snakemake.params.label,
        fits_path=snakemake.output.fits,
        votable_path=snakemake.output.votable,
        ecsv_path=snakemake.output.ecsv,
    )

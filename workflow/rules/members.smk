# Membership catalogues: per cluster, the cleaned catalogue's astrometry and photometry,
# the sky-region flags and each of its models' membership probability and sd, the adopted
# model's first -> results/{cluster}/members.fits, members.vot (VOTable with UCDs, for
# TOPCAT and SAMP) and members.ecsv. `snakemake members` builds them all without the
# paper (no TeX needed); `all` builds them too.

from clustermix.paper.products import members_catalogs

# Also final outputs of `all` (PAPER_PRODUCTS in rules/common.smk).
MEMBERS_CATALOGS = members_catalogs(config)


rule members:
    input:
        MEMBERS_CATALOGS,


rule members_catalog:
    input:
        catalog="results/{cluster}/catalog.fits",
        masks="results/{cluster}/masks.fits",
        memberships=model_memberships,
        # the adopted model is the most informative one that passes `checks`
        diagnostics=cluster_fit_files("results/{cluster}/diagnostics/{model}.json"),
    output:
        fits="results/{cluster}/members.fits",
        votable="results/{cluster}/members.vot",
        ecsv="results/{cluster}/members.ecsv",
    log:
        "logs/{cluster}/members_catalog.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        models=cluster_models,
        thresholds=config["checks"],
        label=lambda wildcards: cluster_config(wildcards).get("label"),
    script:
        "../../scripts/members_catalog.py"

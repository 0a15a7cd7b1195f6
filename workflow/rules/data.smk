# Data stage: a Gaia DR3 field (simulated, archive query or the user's file)
# -> checked (before anything downstream runs) -> cleaned catalogue with the parallax zero point -> sky masks.
# These rules and the fits have priority 1: they are the workflow's longest chain, and most
# other jobs wait for them (bench/README.md, "Compiled with JAX").


rule simulate_field:
    output:
        catalog="resources/{cluster}/gaia_dr3_simulated.fits",
        truth="resources/{cluster}/truth.json",
    log:
        "logs/{cluster}/simulate_field.log",
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        ra_deg=lambda w: cluster_config(w)["ra_deg"],
        dec_deg=lambda w: cluster_config(w)["dec_deg"],
        radius_arcmin=lambda w: cluster_config(w)["radius_arcmin"],
        simulation=lambda w: cluster_config(w)["simulation"],
    script:
        "../../scripts/simulate_field.py"


rule query_gaia:
    output:
        catalog="resources/{cluster}/gaia_dr3.fits",
        provenance="resources/{cluster}/gaia_dr3.provenance.json",
    log:
        "logs/{cluster}/query_gaia.log",
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        ra_deg=lambda w: cluster_config(w)["ra_deg"],
        dec_deg=lambda w: cluster_config(w)["dec_deg"],
        radius_arcmin=lambda w: cluster_config(w)["radius_arcmin"],
        archive=config["data"]["archive"],
        download_dir=lambda w: f"resources/{w.cluster}/downloads",
    script:
        "../../scripts/query_gaia.py"


rule check_catalog:
    input:
        raw=raw_catalog,
    output:
        report="results/{cluster}/input_check.json",
    log:
        "logs/{cluster}/check_catalog.log",
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../../scripts/check_catalog.py"


rule clean_catalog:
    input:
        raw=raw_catalog,
        check="results/{cluster}/input_check.json",
    output:
        catalog="results/{cluster}/catalog.fits",
        summary="results/{cluster}/catalog_summary.json",
    log:
        "logs/{cluster}/clean_catalog.log",
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        cuts=config["cuts"],
    script:
        "../../scripts/clean_catalog.py"


rule sky_masks:
    input:
        catalog="results/{cluster}/catalog.fits",
    output:
        masks="results/{cluster}/masks.fits",
    log:
        "logs/{cluster}/sky_masks.log",
    priority: 1
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        ra_deg=lambda w: cluster_config(w)["ra_deg"],
        dec_deg=lambda w: cluster_config(w)["dec_deg"],
        cluster_radius_arcmin=config["masks"]["cluster_radius_arcmin"],
        control_min_arcmin=config["masks"]["control_min_arcmin"],
    script:
        "../../scripts/sky_masks.py"

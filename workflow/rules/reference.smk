# Reference members: per cluster, the member lists our memberships are compared with, star
# by star -> results/{cluster}/reference_members.ecsv (the simulator's truth for simulated
# data; Hunt & Reffert 2023 and Cantat-Gaudin et al. 2020 from VizieR for archive data,
# cached under resources/{cluster}/reference/ with a provenance sidecar; the user's files
# of clusters[].reference_members for any source), then the overlap with the adopted
# model's memberships -> results/{cluster}/reference_overlap.json, and the paper cluster's
# overlap as macros -> src/tex/output/reference_overlap.tex.

from clustermix.data.vizier_members import CATALOGUES, reference_name


rule query_reference_members:
    output:
        members="resources/{cluster}/reference/{catalogue}.fits",
        provenance="resources/{cluster}/reference/{catalogue}.provenance.json",
    log:
        "logs/{cluster}/query_reference_members/{catalogue}.log",
    wildcard_constraints:
        catalogue="|".join(CATALOGUES),
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        cluster_name=lambda wildcards: reference_name(cluster_config(wildcards)),
        settings=config["reference"],
        download_dir=lambda wildcards: f"resources/{wildcards.cluster}/downloads",
    script:
        "../../scripts/query_reference_members.py"


rule reference_members:
    input:
        unpack(truth_file),
        vizier_members=reference_catalogue_files("fits"),
        vizier_provenance=reference_catalogue_files("provenance.json"),
        files=reference_files,
    output:
        references="results/{cluster}/reference_members.ecsv",
    log:
        "logs/{cluster}/reference_members.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        catalogues=reference_catalogues,
        files=lambda wildcards: cluster_config(wildcards).get("reference_members", []),
        cluster_index=lambda wildcards: CLUSTERS.index(wildcards.cluster),
    script:
        "../../scripts/reference_members.py"


rule reference_overlap:
    input:
        members="results/{cluster}/members.fits",
        references="results/{cluster}/reference_members.ecsv",
    output:
        overlap="results/{cluster}/reference_overlap.json",
    log:
        "logs/{cluster}/reference_overlap.log",
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    script:
        "../../scripts/reference_overlap.py"


rule num_reference_overlap:
    input:
        # Without a cluster model there are no memberships to compare: no input, and the
        # macros say there is no comparison.
        overlap=(
            f"results/{PAPER_CLUSTER}/reference_overlap.json" if CLUSTER_MODELS else []
        ),
    output:
        macros="src/tex/output/reference_overlap.tex",
    log:
        "logs/paper/num_reference_overlap.log",
    benchmark:
        "benchmarks/paper/num_reference_overlap.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=500,
        runtime=5,
    script:
        "../../scripts/num_reference_overlap.py"

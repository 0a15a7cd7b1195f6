# Many clusters: the summary table across every configured cluster. Every cluster's fits
# (summary, diagnostics and membership of each of its models) ->
# results/clusters_summary.csv, one row per cluster and model with each cluster's adopted
# model flagged; for the paper, \ClusterCount and the adopted rows ->
# src/tex/output/clusters_table.tex (ms.tex shows the table only when more than one
# cluster is configured).


rule clusters_summary:
    input:
        # one file of each kind per (cluster, model) of CLUSTER_FITS, in that order: the
        # script pairs them with params.fits (and checks each file's own cluster and model)
        summaries=fit_files("results/{cluster}/summary/{model}.json"),
        diagnostics=fit_files("results/{cluster}/diagnostics/{model}.json"),
        memberships=fit_files("results/{cluster}/membership/{model}.fits"),
    output:
        csv="results/clusters_summary.csv",
    log:
        "logs/clusters_summary.log",
    benchmark:
        "benchmarks/clusters_summary.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        clusters=[
            {key: cluster.get(key) for key in ("name", "label", "ra_deg", "dec_deg")}
            for cluster in config["clusters"]
        ],
        fits=[list(fit) for fit in CLUSTER_FITS],
        thresholds=config["checks"],
    script:
        "../../scripts/clusters_summary.py"


rule num_clusters:
    input:
        # Without cluster models there is no summary: the table is empty (and not shown).
        csv="results/clusters_summary.csv" if CLUSTER_FITS else [],
    output:
        table="src/tex/output/clusters_table.tex",
    log:
        "logs/paper/num_clusters.log",
    benchmark:
        "benchmarks/paper/num_clusters.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        n_clusters=len(CLUSTERS),
    script:
        "../../scripts/num_clusters.py"

# Paper stage, figures and data numbers: the paper cluster's field, CMD and model comparison,
# the straight-line example -> src/tex/figures/*.pdf; the literature table and the data's
# counts and cuts -> src/tex/output/*.tex. One script per output, named after the rule.


# The paper cluster's config entry, and its simulator truth (simulated data only).
PAPER_CLUSTER_CONFIG = cluster_by_name(config, PAPER_CLUSTER)
PAPER_TRUTH = (
    {"truth": f"resources/{PAPER_CLUSTER}/truth.json"}
    if cluster_source(config, PAPER_CLUSTER) == "simulated"
    else {}
)
# The model whose memberships colour the CMD: the enabled model of lowest cmd_rank in its
# spec (phase_space, then pm_2d), else the first enabled cluster model.
CMD_MODEL = cmd_model(CLUSTER_MODELS)


rule fig_sky_masks:
    input:
        catalog=f"results/{PAPER_CLUSTER}/catalog.fits",
        masks=f"results/{PAPER_CLUSTER}/masks.fits",
    output:
        figure=report(
            "src/tex/figures/sky_masks.pdf",
            caption="../report/sky_masks.rst",
            category="Data",
            subcategory="Sky regions",
        ),
    log:
        "logs/paper/fig_sky_masks.log",
    benchmark:
        "benchmarks/paper/fig_sky_masks.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        geometry={
            "centre_ra_deg": PAPER_CLUSTER_CONFIG["ra_deg"],
            "centre_dec_deg": PAPER_CLUSTER_CONFIG["dec_deg"],
            "cone_radius_arcmin": PAPER_CLUSTER_CONFIG["radius_arcmin"],
            "cluster_radius_arcmin": config["masks"]["cluster_radius_arcmin"],
            "control_min_arcmin": config["masks"]["control_min_arcmin"],
        },
    script:
        "../../scripts/fig_sky_masks.py"


if CLUSTER_MODELS:

    rule fig_cmd_membership:
        input:
            catalog=f"results/{PAPER_CLUSTER}/catalog.fits",
            membership=f"results/{PAPER_CLUSTER}/membership.fits",
            references=f"results/{PAPER_CLUSTER}/reference_members.ecsv",
            trace=f"results/{PAPER_CLUSTER}/traces/{CMD_MODEL}.nc",
        output:
            figure=report(
                "src/tex/figures/cmd_membership.pdf",
                caption="../report/cmd_membership.rst",
                category=CMD_MODEL,
                subcategory="Membership",
            ),
        log:
            "logs/paper/fig_cmd_membership.log",
        benchmark:
            "benchmarks/paper/fig_cmd_membership.tsv"
        conda:
            "../../environment.yml"
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            model=CMD_MODEL,
            p_min=0.1,
        script:
            "../../scripts/fig_cmd_membership.py"

    rule fig_pm_membership:
        input:
            catalog=f"results/{PAPER_CLUSTER}/catalog.fits",
            membership=f"results/{PAPER_CLUSTER}/membership.fits",
            references=f"results/{PAPER_CLUSTER}/reference_members.ecsv",
        output:
            figure=report(
                "src/tex/figures/pm_membership.pdf",
                caption="../report/pm_membership.rst",
                category=CMD_MODEL,
                subcategory="Membership",
            ),
        log:
            "logs/paper/fig_pm_membership.log",
        benchmark:
            "benchmarks/paper/fig_pm_membership.tsv"
        conda:
            "../../environment.yml"
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            model=CMD_MODEL,
            p_min=0.1,
        script:
            "../../scripts/fig_pm_membership.py"

    rule fig_model_comparison:
        input:
            summaries=expand(
                "results/{cluster}/summary/{model}.json",
                cluster=PAPER_CLUSTER,
                model=CLUSTER_MODELS,
            ),
            literature="config/literature.yaml",
        output:
            figure=report(
                "src/tex/figures/model_comparison.pdf",
                caption="../report/model_comparison.rst",
                category="Model comparison",
                subcategory="Shared quantities",
            ),
        log:
            "logs/paper/fig_model_comparison.log",
        benchmark:
            "benchmarks/paper/fig_model_comparison.tsv"
        conda:
            "../../environment.yml"
        resources:
            mem_mb=1000,
            runtime=5,
        params:
            models=CLUSTER_MODELS,
            cluster=PAPER_CLUSTER,
        script:
            "../../scripts/fig_model_comparison.py"


if "line_outliers" in EXAMPLE_MODELS:

    rule fig_line_outliers:
        input:
            trace="results/examples/line_outliers/trace.nc",
        output:
            figure=report(
                "src/tex/figures/line_outliers.pdf",
                caption="../report/line_outliers.rst",
                category="line_outliers",
                subcategory="Fit to the data",
            ),
        log:
            "logs/paper/fig_line_outliers.log",
        benchmark:
            "benchmarks/paper/fig_line_outliers.tsv"
        conda:
            "../../environment.yml"
        resources:
            mem_mb=2000,
            runtime=10,
        params:
            options=option_overrides(config, "line_outliers"),
        script:
            "../../scripts/fig_line_outliers.py"


rule num_literature:
    input:
        literature="config/literature.yaml",
    output:
        table="src/tex/output/literature_table.tex",
        macros="src/tex/output/literature.tex",
    log:
        "logs/paper/num_literature.log",
    benchmark:
        "benchmarks/paper/num_literature.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        cluster=PAPER_CLUSTER,
    script:
        "../../scripts/num_literature.py"


rule num_data:
    input:
        **PAPER_TRUTH,
        catalog_summary=f"results/{PAPER_CLUSTER}/catalog_summary.json",
        input_check=f"results/{PAPER_CLUSTER}/input_check.json",
        catalog=f"results/{PAPER_CLUSTER}/catalog.fits",
        masks=f"results/{PAPER_CLUSTER}/masks.fits",
    output:
        macros="src/tex/output/data_numbers.tex",
    log:
        "logs/paper/num_data.log",
    benchmark:
        "benchmarks/paper/num_data.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        settings={
            "source": cluster_source(config, PAPER_CLUSTER),
            "cone_radius_arcmin": PAPER_CLUSTER_CONFIG["radius_arcmin"],
            "cluster_radius_arcmin": config["masks"]["cluster_radius_arcmin"],
            "control_min_arcmin": config["masks"]["control_min_arcmin"],
        },
    script:
        "../../scripts/num_data.py"

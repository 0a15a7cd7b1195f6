# Paper stage, the model figures: each model's probabilistic graphical model and corner
# plot, the 1D/2D models' fitted components over the data, and the cluster's Galactocentric
# position and velocity (figure and macros) from the phase-space fit. One script per
# output kind, named after the rule; inputs are the paper cluster's fits.

# Every enabled model, the straight-line example first: one PGM and one corner plot each.
MODEL_FIGURE_NAMES = EXAMPLE_MODELS + CLUSTER_MODELS
# A corner plot reads its model's trace and, for a cluster model, the catalogue and masks
# it was fitted to (to rebuild its quantities) and the simulator's truth (PAPER_TRUTH,
# from rules/figures.smk; empty for real data).
CORNER_INPUTS = {
    **{name: {"trace": f"results/examples/{name}/trace.nc"} for name in EXAMPLE_MODELS},
    **{
        name: {
            **PAPER_TRUTH,
            "trace": f"results/{PAPER_CLUSTER}/traces/{name}.nc",
            "catalog": f"results/{PAPER_CLUSTER}/catalog.fits",
            "masks": f"results/{PAPER_CLUSTER}/masks.fits",
        }
        for name in CLUSTER_MODELS
    },
}
# The models whose components are drawn over the data, in panel order.
COMPONENT_MODELS = component_models(CLUSTER_MODELS)
# The Galactocentric figure and numbers come from the fit of the model that measures the
# cluster's 3D position and velocity (phase_space); without it the number file still
# exists (its values say n/a), so that the paper compiles.
GALACTOCENTRIC_MODEL = galactocentric_model(CLUSTER_MODELS)
GALACTOCENTRIC_AVAILABLE = GALACTOCENTRIC_MODEL is not None
GALACTOCENTRIC_INPUTS = (
    {"draws": f"results/{PAPER_CLUSTER}/galactocentric.nc"}
    if GALACTOCENTRIC_AVAILABLE
    else {}
)


rule fig_pgm:
    input:
        # the model's module (its docstring is what the diagram draws) and the diagram
        module=lambda wildcards: [
            *model_source_files(wildcards.model_name)[:1],
            model_part_file(wildcards.model_name, "diagram"),
        ],
    output:
        figure=report(
            "src/tex/figures/pgm_{model_name}.pdf",
            caption="../report/pgm.rst",
            category="{model_name}",
            subcategory="Graphical model",
        ),
    log:
        "logs/paper/fig_pgm/{model_name}.log",
    benchmark:
        "benchmarks/paper/fig_pgm/{model_name}.tsv"
    wildcard_constraints:
        model_name="|".join(MODEL_FIGURE_NAMES),
    conda:
        "../../environment.yml"
    resources:
        mem_mb=500,
        runtime=5,
    params:
        model=lambda wildcards: wildcards.model_name,
    script:
        "../../scripts/fig_pgm.py"


rule fig_corner:
    input:
        unpack(lambda wildcards: CORNER_INPUTS[wildcards.model_name]),
    output:
        figure=report(
            "src/tex/figures/corner_{model_name}.pdf",
            caption="../report/corner.rst",
            category="{model_name}",
            subcategory="Posterior",
        ),
    log:
        "logs/paper/fig_corner/{model_name}.log",
    benchmark:
        "benchmarks/paper/fig_corner/{model_name}.tsv"
    wildcard_constraints:
        model_name="|".join(MODEL_FIGURE_NAMES),
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=15,
    params:
        model=lambda wildcards: wildcards.model_name,
    script:
        "../../scripts/fig_corner.py"


rule fig_components:
    input:
        **{
            f"trace_{name}": f"results/{PAPER_CLUSTER}/traces/{name}.nc"
            for name in COMPONENT_MODELS
        },
        catalog=f"results/{PAPER_CLUSTER}/catalog.fits",
        masks=f"results/{PAPER_CLUSTER}/masks.fits",
        # each model's densities module: editing one redraws the figure
        densities=[model_part_file(name, "densities") for name in COMPONENT_MODELS],
    output:
        figure=report(
            "src/tex/figures/components.pdf",
            caption="../report/components.rst",
            category="Model comparison",
            subcategory="Fitted components",
        ),
    log:
        "logs/paper/fig_components.log",
    benchmark:
        "benchmarks/paper/fig_components.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=6000,
        runtime=20,
    params:
        models=COMPONENT_MODELS,
    script:
        "../../scripts/fig_components.py"


# The draws are written once, for the figure and the numbers.
if GALACTOCENTRIC_AVAILABLE:

    rule galactocentric_draws:
        input:
            **PAPER_TRUTH,
            trace=f"results/{PAPER_CLUSTER}/traces/{GALACTOCENTRIC_MODEL}.nc",
            catalog=f"results/{PAPER_CLUSTER}/catalog.fits",
            masks=f"results/{PAPER_CLUSTER}/masks.fits",
        output:
            draws=f"results/{PAPER_CLUSTER}/galactocentric.nc",
        log:
            "logs/paper/galactocentric_draws.log",
        benchmark:
            "benchmarks/paper/galactocentric_draws.tsv"
        conda:
            "../../environment.yml"
        resources:
            mem_mb=4000,
            runtime=10,
        script:
            "../../scripts/galactocentric_draws.py"


rule fig_galactocentric:
    input:
        **GALACTOCENTRIC_INPUTS,
    output:
        figure=report(
            "src/tex/figures/galactocentric.pdf",
            caption="../report/galactocentric.rst",
            category=GALACTOCENTRIC_MODEL or "galactocentric",
            subcategory="Galactocentric position and velocity",
        ),
    log:
        "logs/paper/fig_galactocentric.log",
    benchmark:
        "benchmarks/paper/fig_galactocentric.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=10,
    script:
        "../../scripts/fig_galactocentric.py"


rule num_galactocentric:
    input:
        **GALACTOCENTRIC_INPUTS,
    output:
        macros="src/tex/output/galactocentric.tex",
    log:
        "logs/paper/num_galactocentric.log",
    benchmark:
        "benchmarks/paper/num_galactocentric.tsv"
    conda:
        "../../environment.yml"
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        available=GALACTOCENTRIC_AVAILABLE,
    script:
        "../../scripts/num_galactocentric.py"

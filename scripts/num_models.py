"""Rule num_models: which models this run fitted, as the paper's switches."""

from clustermix.models import MODEL_NAMES
from clustermix.paper.macros import model_switch_macros, write_macros
from clustermix.scripting import logged

with logged(snakemake):
    macros = model_switch_macros(
        MODEL_NAMES,
        snakemake.params.fitted,
        components_figure=bool(snakemake.params.component_models),
        cmd_model_prose=snakemake.params.cmd_model_prose,
    )
    write_macros(macros, snakemake.output.macros, made_by=f"rule {snakemake.rule}")

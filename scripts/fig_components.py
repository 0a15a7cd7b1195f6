"""Rule fig_components: the data's proper motions and parallaxes with the fitted cluster
and field components of the 1D and 2D models."""

from clustermix.plotting.components import components_figure, components_panels
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake) as log:
    traces = {model: snakemake.input[f"trace_{model}"] for model in snakemake.params.models}
    panels = components_panels(traces, snakemake.input.catalog, snakemake.input.masks)
    for name, panel in panels.items():
        log.info("%s: %s", name, panel["components"])
    fig = components_figure(**panels)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

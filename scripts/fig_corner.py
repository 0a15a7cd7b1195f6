"""Rule fig_corner: corner plot of one model's cluster quantities, with the truth if known."""

from clustermix.fit.fitted import FittedModel, fit_true_values
from clustermix.plotting.corner import corner_draws, corner_figure
from clustermix.plotting.style import MODEL_COLOURS, save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake) as log:
    fitted = FittedModel.open(
        snakemake.input.trace, snakemake.input.get("catalog"), snakemake.input.get("masks")
    )
    truth = fit_true_values(fitted, snakemake.input.get("truth"))
    draws = corner_draws(fitted.module, fitted.idata.posterior, fitted.data, fitted.options)
    log.info("%s: quantities %s, truth %s", fitted.name, list(draws), truth)
    fig = corner_figure(draws, truth, MODEL_COLOURS[fitted.name])
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

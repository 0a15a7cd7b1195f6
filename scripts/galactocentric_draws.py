"""Rule galactocentric_draws: the cluster's Galactocentric position and velocity, draw by
draw, from the fit of the model that measures them, with the truth if known."""

from clustermix.galactocentric import load_galactocentric, save_galactocentric
from clustermix.scripting import logged

with logged(snakemake) as log:
    draws, truth = load_galactocentric(
        snakemake.input.trace,
        snakemake.input.catalog,
        snakemake.input.masks,
        snakemake.input.get("truth"),
    )
    save_galactocentric(draws, truth, snakemake.output.draws)
    log.info("%d quantities; truth known: %s", len(draws), truth is not None)

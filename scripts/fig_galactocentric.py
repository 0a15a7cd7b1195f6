"""Rule fig_galactocentric: the cluster's Galactocentric position and velocity from the
phase-space fit, with the truth if known."""

from clustermix.galactocentric import load_galactocentric, sun_phase_space
from clustermix.plotting.galactocentric import galactocentric_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake):
    draws, truth = load_galactocentric(
        snakemake.input.trace,
        snakemake.input.catalog,
        snakemake.input.masks,
        snakemake.input.get("truth"),
    )
    fig = galactocentric_figure(draws, sun_phase_space(), truth)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

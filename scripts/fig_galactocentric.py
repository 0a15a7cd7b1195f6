"""Rule fig_galactocentric: the cluster's Galactocentric position and velocity from the
phase-space fit's draws (rule galactocentric_draws), with the truth if known."""

from clustermix.galactocentric import read_galactocentric, sun_phase_space
from clustermix.plotting.galactocentric import galactocentric_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake):
    draws, truth = read_galactocentric(snakemake.input.draws)
    fig = galactocentric_figure(draws, sun_phase_space(), truth)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

"""Rule num_galactocentric: macros of the cluster's Galactocentric position and velocity
(the phase-space fit's draws, rule galactocentric_draws), the frame's parameters and, for
simulated data, the truth."""

from clustermix.galactocentric import frame_parameters, galactocentric_macros, read_galactocentric
from clustermix.paper.macros import write_macros
from clustermix.scripting import logged

with logged(snakemake) as log:
    draws, truth = None, None
    if snakemake.params.available:
        draws, truth = read_galactocentric(snakemake.input.draws)
    macros = galactocentric_macros(draws, frame_parameters(), truth)
    write_macros(macros, snakemake.output.macros, made_by=f"rule {snakemake.rule}")
    log.info("%d macros; phase_space fit: %s", len(macros), snakemake.params.available)

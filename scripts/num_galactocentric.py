"""Rule num_galactocentric: macros of the cluster's Galactocentric position and velocity
(phase-space fit), the frame's parameters and, for simulated data, the truth."""

from clustermix.galactocentric import frame_parameters, galactocentric_macros, load_galactocentric
from clustermix.paper import write_macros
from clustermix.scripting import logged

with logged(snakemake) as log:
    draws, truth = None, None
    if snakemake.params.available:
        draws, truth = load_galactocentric(
            snakemake.input.trace,
            snakemake.input.catalog,
            snakemake.input.masks,
            snakemake.input.get("truth"),
        )
    macros = galactocentric_macros(draws, frame_parameters(), truth)
    write_macros(macros, snakemake.output.macros, made_by=f"rule {snakemake.rule}")
    log.info("%d macros; phase_space fit: %s", len(macros), snakemake.params.available)

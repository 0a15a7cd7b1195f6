"""Rule fig_calibration: the calibration figure and numbers from the benchmark's record."""

from clustermix.checks.calibration import calibration_macros, read_calibration
from clustermix.paper.macros import write_macros
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.plotting.validation import plot_calibration
from clustermix.scripting import logged

with logged(snakemake) as log:
    record = read_calibration(snakemake.input.record)
    log.info("%d seeds, %d coverage rows", len(record["seeds"]), len(record["coverage"]))
    save_figure(plot_calibration(record), snakemake.output.figure, snakemake_provenance(snakemake))
    write_macros(
        calibration_macros(record), snakemake.output.macros, made_by=f"rule {snakemake.rule}"
    )

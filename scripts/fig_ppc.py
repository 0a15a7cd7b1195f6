"""Rule fig_ppc: observed against replicated histograms of every paper fit."""

import json
from pathlib import Path

from clustermix.plotting.ppc import ppc_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake):
    results = [json.loads(Path(path).read_text()) for path in snakemake.input.ppc]
    fig = ppc_figure(results)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

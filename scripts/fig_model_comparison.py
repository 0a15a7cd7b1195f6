"""Rule fig_model_comparison: every cluster model's estimates, the truth and the literature."""

import json
from pathlib import Path

from clustermix.paper.literature import load_literature
from clustermix.plotting.comparison import model_comparison_figure
from clustermix.plotting.style import save_figure, snakemake_provenance
from clustermix.scripting import logged

with logged(snakemake):
    summaries = {
        model: json.loads(Path(path).read_text())
        for model, path in zip(snakemake.params.models, snakemake.input.summaries, strict=True)
    }
    literature = load_literature(snakemake.input.literature, snakemake.params.cluster)
    fig = model_comparison_figure(summaries, literature)
    save_figure(fig, snakemake.output.figure, snakemake_provenance(snakemake))

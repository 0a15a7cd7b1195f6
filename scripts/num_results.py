"""Rule num_results: every model's posterior summary as LaTeX macros."""

import json

from clustermix.paper.macros import summary_macros, write_macros
from clustermix.scripting import logged

with logged(snakemake):
    macros = {}
    for model, path in zip(snakemake.params.models, snakemake.input.summaries, strict=True):
        macros |= summary_macros(model, json.loads(open(path).read()))
    write_macros(macros, snakemake.output.macros, made_by=f"rule {snakemake.rule}")

"""Rule num_diagnostics: the table of convergence diagnostics of every fit."""

import json

from clustermix.io import atomic_path
from clustermix.paper import diagnostics_row, latex_table_rows
from clustermix.scripting import logged

with logged(snakemake):
    rows = [
        diagnostics_row(model, json.loads(open(path).read()))
        for model, path in zip(snakemake.params.models, snakemake.input.diagnostics, strict=True)
    ]
    with atomic_path(snakemake.output.table) as tmp:
        tmp.write_text(latex_table_rows(rows))

"""Rule num_diagnostics: the tables of convergence diagnostics, of the set-up (field K,
field model, mode search) and of the priors of every fit."""

import json

from clustermix.io import atomic_path
from clustermix.paper.macros import diagnostics_row, latex_table_rows, prior_table_rows, setup_row
from clustermix.scripting import logged

with logged(snakemake):
    fits = [
        (model, json.loads(open(path).read()))
        for model, path in zip(snakemake.params.models, snakemake.input.diagnostics, strict=True)
    ]
    with atomic_path(snakemake.output.table) as tmp:
        tmp.write_text(latex_table_rows(diagnostics_row(*fit) for fit in fits))
    with atomic_path(snakemake.output.setup) as tmp:
        tmp.write_text(latex_table_rows(setup_row(*fit) for fit in fits))
    with atomic_path(snakemake.output.priors) as tmp:
        tmp.write_text(latex_table_rows(row for fit in fits for row in prior_table_rows(*fit)))

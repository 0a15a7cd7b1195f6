"""Rule convergence_gate: stop the paper when a fit did not converge (unless a draft)."""

import json

from clustermix.io import write_json_atomic
from clustermix.paper.gate import run_gate
from clustermix.paper.macros import gate_macros, write_macros
from clustermix.scripting import logged

with logged(snakemake) as log:
    diagnostics = {
        model: json.loads(open(path).read())
        for model, path in zip(snakemake.params.models, snakemake.input.diagnostics, strict=True)
    }
    gate = run_gate(diagnostics, snakemake.params.thresholds, draft=snakemake.params.draft)
    for failure in gate["failures"]:
        log.warning("draft paper: %s", failure["message"])
    write_json_atomic(gate, snakemake.output.gate)
    write_macros(gate_macros(gate), snakemake.output.macros, made_by=f"rule {snakemake.rule}")

"""Rule num_ppc: the posterior predictive p-values and band fractions as LaTeX macros."""

from clustermix.checks.ppc import write_ppc_numbers
from clustermix.plotting.style import MODEL_LABELS
from clustermix.scripting import logged

with logged(snakemake) as log:
    macros = write_ppc_numbers(
        list(snakemake.input.ppc),
        snakemake.output.macros,
        labels=MODEL_LABELS,
        made_by=f"rule {snakemake.rule}",
    )
    log.info("%d macros: %s", len(macros), macros["PpcSummary"])

"""Rules ppc_fit and ppc_example: the posterior predictive check of one fit."""

from clustermix.ppc import run_ppc
from clustermix.scripting import logged

with logged(snakemake) as log:
    result = run_ppc(
        snakemake.input.trace,
        snakemake.output.ppc,
        seed=snakemake.params.seed,
        n_draws=snakemake.params.n_draws,
        max_bins=snakemake.params.max_bins,
        catalog_path=getattr(snakemake.input, "catalog", None),
        masks_path=getattr(snakemake.input, "masks", None),
    )
    for name, check in result["quantities"].items():
        log.info("%s: p = %.3f, band fraction %.2f", name, check["p_value"], check["band_fraction"])

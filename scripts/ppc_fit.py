"""Rules ppc_fit and ppc_example: the posterior predictive check of one fit."""

from clustermix.checks.ppc import run_ppc
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
        membership_path=getattr(snakemake.input, "membership", None),
        truth_path=getattr(snakemake.input, "truth", None),
        n_annuli=getattr(snakemake.params, "n_annuli", None),
        n_magnitude_bins=getattr(snakemake.params, "n_magnitude_bins", None),
    )
    for name, check in result["quantities"].items():
        log.info("%s: p = %.3f, band fraction %.2f", name, check["p_value"], check["band_fraction"])
    for key in ("radial_window", "membership_by_magnitude"):
        check = result[key]
        log.info("%s: %s", key, check.get("reason") or f"p = {check.get('p_value', '-')}")

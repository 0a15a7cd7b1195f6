"""Rule clean_catalog: quality cuts, the parallax zero point and the radial-velocity
corrections on the checked catalogue. For each column the file lacks, the log says what
was done instead (and the summary's ``missing_columns``)."""

from clustermix.data.catalog import read_catalog
from clustermix.data.clean import clean_catalog
from clustermix.io import write_json_atomic, write_table_atomic
from clustermix.models.registry import cluster_model_names
from clustermix.scripting import logged

with logged(snakemake) as log:
    raw_path = snakemake.input.raw
    # The cluster's models from the config, not params (see scripts/check_catalog.py): the
    # cleaned catalogue does not depend on them.
    catalog, summary = clean_catalog(
        read_catalog(raw_path),
        source=raw_path,
        models=cluster_model_names(snakemake.config, snakemake.wildcards.cluster),
        **snakemake.params.cuts,
    )
    log.info("kept %d of %d stars", summary["n_kept"], summary["n_input"])
    if summary["rv_correction"]:
        log.info(
            "radial velocities: %d of %d offset (G_RVS >= 11); G_RVS estimated from G_RP and "
            "BP-RP for %d (no grvs_mag), unknown for %d (kept as published)",
            summary["n_rv_offset"],
            summary["n_rv"],
            summary["n_rv_grvs_estimated"],
            summary["n_rv_without_grvs"],
        )
    write_table_atomic(catalog, snakemake.output.catalog)
    write_json_atomic(summary, snakemake.output.summary)

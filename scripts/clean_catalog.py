"""Rule clean_catalog: quality cuts and the parallax zero point on the checked catalogue."""

from clustermix.data.catalog import read_catalog
from clustermix.data.clean import clean_catalog
from clustermix.io import write_json_atomic, write_table_atomic
from clustermix.scripting import logged

with logged(snakemake) as log:
    raw_path = snakemake.input.raw
    catalog, summary = clean_catalog(
        read_catalog(raw_path), source=raw_path, **snakemake.params.cuts
    )
    log.info("kept %d of %d stars", summary["n_kept"], summary["n_input"])
    write_table_atomic(catalog, snakemake.output.catalog)
    write_json_atomic(summary, snakemake.output.summary)

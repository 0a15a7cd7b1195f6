"""Rule check_catalog: refuse an unusable input catalogue before anything downstream runs.

A separate rule, so that a bad new input fails here and never reaches clean_catalog,
whose earlier output therefore stays as it was.
"""

from clustermix.data.catalog import read_catalog, validate_catalog
from clustermix.io import sha256_file, write_json_atomic
from clustermix.scripting import logged

with logged(snakemake) as log:
    raw_path = snakemake.input.raw
    raw = read_catalog(raw_path)
    validate_catalog(raw, raw_path)
    log.info("%s: %d rows pass the input checks", raw_path, len(raw))
    write_json_atomic(
        {"path": str(raw_path), "sha256": sha256_file(raw_path), "n_rows": len(raw)},
        snakemake.output.report,
    )

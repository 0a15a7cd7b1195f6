"""Rule check_catalog: refuse an unusable input catalogue before anything downstream runs.

A separate rule, so that a bad new input fails here and never reaches clean_catalog,
whose earlier output therefore stays as it was. Every column the run needs and the file
lacks is named in one message; the optional ones it lacks are listed in the log (and
clean_catalog's log says what it does instead of each).
"""

from clustermix.data.catalog import column_naming, read_catalog, validate_catalog
from clustermix.data.columns import GAIA_COLUMN_NAMES
from clustermix.io import sha256_file, write_json_atomic
from clustermix.models.registry import cluster_model_names
from clustermix.scripting import logged

with logged(snakemake) as log:
    raw_path = snakemake.input.raw
    raw = read_catalog(raw_path)
    # What the run needs (the cluster's models) is read from the config, not given as
    # params: a param would rerun this rule, and with it the cleaning and every fit,
    # whenever a model is switched on or off. (A model switched on later that needs a
    # column the file lacks stops its own fit, before sampling, naming the column.)
    validate_catalog(
        raw,
        raw_path,
        models=cluster_model_names(snakemake.config, snakemake.wildcards.cluster),
        zero_point=snakemake.config["cuts"]["zero_point"],
    )
    missing = [name for name in GAIA_COLUMN_NAMES if name not in raw.colnames]
    log.info("%s: %d rows pass the input checks", raw_path, len(raw))
    if missing:
        log.info("%s: optional columns missing: %s", raw_path, ", ".join(missing))
    write_json_atomic(
        {
            "path": str(raw_path),
            "sha256": sha256_file(raw_path),
            "n_rows": len(raw),
            "column_naming": column_naming(raw),
            "missing_columns": missing,
        },
        snakemake.output.report,
    )

"""The Gaia DR3 columns clustermix reads, with their dtypes and units.

One table of truth for the archive query (which columns to ask for), the simulator
(which columns to write) and the input check (which columns must be there and finite).
Names, dtypes and units follow the gaiadr3.gaia_source table of the Gaia archive.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GaiaColumn:
    """One catalogue column.

    ``required``: it must be present (an optional column missing from a file is read as
    NaN); ``finite``: every kept row must have a finite value
    (a model needs it); ``positive``: an uncertainty, must be > 0; ``correlation``: must
    lie in [-1, 1].
    """

    name: str
    dtype: str
    unit: str | None
    required: bool = True
    finite: bool = False
    positive: bool = False
    correlation: bool = False


GAIA_COLUMNS: tuple[GaiaColumn, ...] = (
    GaiaColumn("source_id", "int64", None, finite=True),
    GaiaColumn("ra", "float64", "deg", finite=True),
    GaiaColumn("dec", "float64", "deg", finite=True),
    GaiaColumn("ra_error", "float32", "mas", positive=True),
    GaiaColumn("dec_error", "float32", "mas", positive=True),
    GaiaColumn("parallax", "float64", "mas", finite=True),
    GaiaColumn("parallax_error", "float32", "mas", finite=True, positive=True),
    GaiaColumn("pmra", "float64", "mas / yr", finite=True),
    GaiaColumn("pmra_error", "float32", "mas / yr", finite=True, positive=True),
    GaiaColumn("pmdec", "float64", "mas / yr", finite=True),
    GaiaColumn("pmdec_error", "float32", "mas / yr", finite=True, positive=True),
    GaiaColumn("ra_dec_corr", "float32", None, correlation=True),
    GaiaColumn("ra_parallax_corr", "float32", None, correlation=True),
    GaiaColumn("ra_pmra_corr", "float32", None, correlation=True),
    GaiaColumn("ra_pmdec_corr", "float32", None, correlation=True),
    GaiaColumn("dec_parallax_corr", "float32", None, correlation=True),
    GaiaColumn("dec_pmra_corr", "float32", None, correlation=True),
    GaiaColumn("dec_pmdec_corr", "float32", None, correlation=True),
    GaiaColumn("parallax_pmra_corr", "float32", None, finite=True, correlation=True),
    GaiaColumn("parallax_pmdec_corr", "float32", None, finite=True, correlation=True),
    GaiaColumn("pmra_pmdec_corr", "float32", None, finite=True, correlation=True),
    GaiaColumn("ruwe", "float32", None, finite=True, positive=True),
    GaiaColumn("visibility_periods_used", "int16", None),
    GaiaColumn("astrometric_params_solved", "int16", None, finite=True),
    GaiaColumn("nu_eff_used_in_astrometry", "float32", "1 / um"),
    GaiaColumn("pseudocolour", "float32", "1 / um"),
    GaiaColumn("ecl_lat", "float64", "deg"),
    GaiaColumn("phot_g_mean_mag", "float32", "mag", finite=True),
    GaiaColumn("phot_bp_mean_mag", "float32", "mag"),
    GaiaColumn("phot_rp_mean_mag", "float32", "mag"),
    GaiaColumn("bp_rp", "float32", "mag"),
    GaiaColumn("radial_velocity", "float32", "km / s"),
    GaiaColumn("radial_velocity_error", "float32", "km / s", positive=True),
    GaiaColumn("grvs_mag", "float32", "mag", required=False),
)

GAIA_COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in GAIA_COLUMNS)
COLUMNS_BY_NAME: dict[str, GaiaColumn] = {column.name: column for column in GAIA_COLUMNS}

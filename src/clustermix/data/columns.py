"""The Gaia DR3 columns clustermix reads, with their dtypes, units and who needs them.

One table of truth for the archive query (which columns to ask for), the simulator
(which columns to write), the input check (which columns must be there and finite) and
the reading of VizieR's copy of Gaia DR3 (:data:`VIZIER_NAMES`). Names, dtypes and units
follow the gaiadr3.gaia_source table of the Gaia archive.

A user's catalogue needs only the columns that something enabled in the run uses
(:func:`required_columns`): ``source_id`` (the key), ``ra`` and ``dec`` (the sky masks),
``phot_g_mean_mag`` (the magnitude limit), and what the enabled models and the parallax zero
point read. Every other column is optional: the cleaning step says, one log line per
missing column, what it did instead (:mod:`clustermix.data.clean`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_SPECS

#: What besides the models may need a column (:attr:`GaiaColumn.needed_by`). :data:`KEY`,
#: :data:`MASKS` and :data:`G_CUT` are part of every run; :data:`ZERO_POINT` when
#: ``cuts.zero_point`` is true. The cluster models (``models.<name>.enabled``) name the
#: columns they read in their spec (:attr:`~clustermix.models.spec.ModelSpec.catalogue_columns`).
KEY = "key"
MASKS = "masks"
G_CUT = "g_cut"
ZERO_POINT = "zero_point"
ALWAYS_NEEDED: frozenset[str] = frozenset({KEY, MASKS, G_CUT})
#: The cluster models, which read the catalogue.
CATALOG_MODELS: tuple[str, ...] = CLUSTER_MODEL_NAMES


@dataclass(frozen=True)
class GaiaColumn:
    """One catalogue column.

    ``needed_by``: what reads it besides the cluster models (:data:`KEY`, :data:`MASKS`,
    :data:`G_CUT`, :data:`ZERO_POINT`; a model names its columns in its spec); a user's file
    must have it when one of these, or such a model, is enabled (:func:`required_columns`),
    and may lack it otherwise (it is then read
    as NaN, or filled in, as :mod:`clustermix.data.clean` says). ``required``: the Gaia
    archive serves it, so an archive query result without it is refused
    (:mod:`clustermix.data.query`); ``finite``: every value present must be finite (a model
    or a cut needs it); ``positive``: an uncertainty, must be > 0; ``correlation``: must lie
    in [-1, 1].
    """

    name: str
    dtype: str
    unit: str | None
    required: bool = True
    finite: bool = False
    positive: bool = False
    correlation: bool = False
    needed_by: tuple[str, ...] = ()


GAIA_COLUMNS: tuple[GaiaColumn, ...] = (
    GaiaColumn("source_id", "int64", None, finite=True, needed_by=(KEY,)),
    GaiaColumn("ra", "float64", "deg", finite=True, needed_by=(MASKS,)),
    GaiaColumn("dec", "float64", "deg", finite=True, needed_by=(MASKS,)),
    GaiaColumn("ra_error", "float32", "mas", positive=True),
    GaiaColumn("dec_error", "float32", "mas", positive=True),
    GaiaColumn("parallax", "float64", "mas", finite=True, needed_by=(ZERO_POINT,)),
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
    GaiaColumn(
        "parallax_pmra_corr",
        "float32",
        None,
        finite=True,
        correlation=True,
    ),
    GaiaColumn(
        "parallax_pmdec_corr",
        "float32",
        None,
        finite=True,
        correlation=True,
    ),
    GaiaColumn("pmra_pmdec_corr", "float32", None, finite=True, correlation=True),
    GaiaColumn("ruwe", "float32", None, finite=True, positive=True),
    GaiaColumn("visibility_periods_used", "int16", None),
    GaiaColumn("astrometric_params_solved", "int16", None, finite=True),
    GaiaColumn("nu_eff_used_in_astrometry", "float32", "1 / um"),
    GaiaColumn("pseudocolour", "float32", "1 / um"),
    GaiaColumn("ecl_lat", "float64", "deg"),
    GaiaColumn(
        "phot_g_mean_mag",
        "float32",
        "mag",
        finite=True,
        needed_by=(G_CUT, ZERO_POINT),
    ),
    GaiaColumn("phot_bp_mean_mag", "float32", "mag"),
    GaiaColumn("phot_rp_mean_mag", "float32", "mag"),
    GaiaColumn("bp_rp", "float32", "mag"),
    GaiaColumn("radial_velocity", "float32", "km / s"),
    GaiaColumn("radial_velocity_error", "float32", "km / s", positive=True),
    GaiaColumn("grvs_mag", "float32", "mag", required=False),
)

GAIA_COLUMN_NAMES: tuple[str, ...] = tuple(column.name for column in GAIA_COLUMNS)
COLUMNS_BY_NAME: dict[str, GaiaColumn] = {column.name: column for column in GAIA_COLUMNS}


def required_columns(models: Iterable[str], *, zero_point: bool = True) -> tuple[str, ...]:
    """The columns a user's catalogue must have, in table order.

    Parameters
    ----------
    models
        The enabled models (``models.<name>.enabled``); names that read no catalogue
        (``line_outliers``) are ignored.
    zero_point
        ``cuts.zero_point``: the parallax zero point is subtracted (it needs ``parallax``
        and ``phot_g_mean_mag``; its colour and ecliptic latitude have fall-backs).
    """
    enabled = _enabled(models, zero_point)
    return tuple(column.name for column in GAIA_COLUMNS if enabled.intersection(_uses(column)))


def needed_by(name: str, models: Iterable[str], *, zero_point: bool = True) -> tuple[str, ...]:
    """What, among the enabled things of :func:`required_columns`, needs column ``name``:
    the models first (in model order), then the rest."""
    enabled = _enabled(models, zero_point)
    return tuple(use for use in _uses(COLUMNS_BY_NAME[name]) if use in enabled)


def _uses(column: GaiaColumn) -> tuple[str, ...]:
    """Everything that needs ``column``: the cluster models whose spec names it, then its
    :attr:`GaiaColumn.needed_by`."""
    models = tuple(
        name for name in CATALOG_MODELS if column.name in MODEL_SPECS[name].catalogue_columns
    )
    return models + column.needed_by


def _enabled(models: Iterable[str], zero_point: bool) -> frozenset[str]:
    """Everything of :attr:`GaiaColumn.needed_by` that a run with ``models`` and
    ``zero_point`` does."""
    return ALWAYS_NEEDED | frozenset(models) | ({ZERO_POINT} if zero_point else frozenset())


#: VizieR's labels for the same columns in its copy of Gaia DR3, I/355/gaiadr3 (Gaia
#: Collaboration 2022), mapped to the archive's names. ``RA_ICRS``, ``DE_ICRS`` (and their
#: uncertainties) are the labels of VizieR's tables and services; ``RAdeg``, ``DEdeg``
#: those of the catalogue's ReadMe and FTP files: either is Gaia's ``ra``, ``dec`` at epoch
#: J2016.0. VizieR's ``RAJ2000``, ``DEJ2000`` (positions it propagated to J2000.0) are not
#: mapped. Units are Gaia's (``e_RA_ICRS`` in mas, ``pmRA`` is pmra*cos(dec) in mas/yr,
#: ``nueff`` and ``pscol`` in 1/um). Names are matched case-insensitively, so ``pmRA`` and
#: ``RUWE`` are the archive's ``pmra`` and ``ruwe`` already; they are listed for completeness.
VIZIER_NAMES: dict[str, str] = {
    "Source": "source_id",
    "RA_ICRS": "ra",
    "DE_ICRS": "dec",
    "RAdeg": "ra",
    "DEdeg": "dec",
    "e_RA_ICRS": "ra_error",
    "e_DE_ICRS": "dec_error",
    "e_RAdeg": "ra_error",
    "e_DEdeg": "dec_error",
    "Plx": "parallax",
    "e_Plx": "parallax_error",
    "pmRA": "pmra",
    "e_pmRA": "pmra_error",
    "pmDE": "pmdec",
    "e_pmDE": "pmdec_error",
    "RADEcor": "ra_dec_corr",
    "RAPlxcor": "ra_parallax_corr",
    "RApmRAcor": "ra_pmra_corr",
    "RApmDEcor": "ra_pmdec_corr",
    "DEPlxcor": "dec_parallax_corr",
    "DEpmRAcor": "dec_pmra_corr",
    "DEpmDEcor": "dec_pmdec_corr",
    "PlxpmRAcor": "parallax_pmra_corr",
    "PlxpmDEcor": "parallax_pmdec_corr",
    "pmRApmDEcor": "pmra_pmdec_corr",
    "RUWE": "ruwe",
    "Nper": "visibility_periods_used",
    "Solved": "astrometric_params_solved",
    "nueff": "nu_eff_used_in_astrometry",
    "pscol": "pseudocolour",
    "ELAT": "ecl_lat",
    "Gmag": "phot_g_mean_mag",
    "BPmag": "phot_bp_mean_mag",
    "RPmag": "phot_rp_mean_mag",
    "BP-RP": "bp_rp",
    "RV": "radial_velocity",
    "e_RV": "radial_velocity_error",
    "GRVSmag": "grvs_mag",
}

#: VizieR columns with a name like one of ours but another meaning: named in the message
#: when the column they resemble is missing.
VIZIER_NOT_MAPPED: dict[str, str] = {
    "RAJ2000": "ra",
    "DEJ2000": "dec",
    "_RAJ2000": "ra",
    "_DEJ2000": "dec",
}

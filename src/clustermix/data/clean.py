"""Quality cuts, the Gaia DR3 parallax zero point (Lindegren et al. 2021) and the radial
velocity corrections (Katz et al. 2023; Babusiaux et al. 2023).

:func:`clean_catalog` keeps the well-behaved astrometric solutions of a validated
catalogue and corrects their parallaxes with the ``gaiadr3-zeropoint`` recipe, falling back
to the global mean offset (flagged) where the recipe is not valid, and their radial
velocities and RV uncertainties as :mod:`clustermix.data.rv_correction` says. The raw
values are kept beside the corrected ones.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Column, Table
from zero_point import zpt

from clustermix.data.catalog import TWO_PARAMETER_SOLUTION
from clustermix.data.columns import GAIA_COLUMNS
from clustermix.data.rv_correction import radial_velocity_corrections
from clustermix.errors import InputDataError

#: Global mean parallax zero point of Gaia DR3 (mas; Lindegren et al. 2021), used where the
#: recipe is not valid. Corrected parallax = raw parallax - zero point.
ZERO_POINT_GLOBAL_MAS = -0.017

FIVE_PARAMETER_SOLUTION = 31
SIX_PARAMETER_SOLUTION = 95

#: Open validity ranges of the zero-point recipe: G (mag), nu_eff for 5-parameter and
#: pseudocolour for 6-parameter solutions (1/um).
ZPT_G_RANGE_MAG = (6.0, 21.0)
ZPT_NU_EFF_RANGE = (1.1, 1.9)
ZPT_PSEUDOCOLOUR_RANGE = (1.24, 1.72)

_ADDED_COLUMNS = (
    "parallax_raw",
    "parallax_zero_point",
    "zero_point_extrapolated",
    "radial_velocity_raw",
    "radial_velocity_error_raw",
    "radial_velocity_offset",
)


def clean_catalog(
    table: Table,
    *,
    source: str | Path,
    ruwe_max: float,
    params_solved: Iterable[int],
    g_max_mag: float,
    zero_point: bool,
    rv_correction: bool,
) -> tuple[Table, dict[str, Any]]:
    """Apply the quality cuts, the parallax zero point and the RV corrections to a validated
    catalogue.

    Parameters
    ----------
    table
        A catalogue that passed :func:`~clustermix.data.catalog.validate_catalog`.
    source
        The file it came from, named in error messages and the summary.
    ruwe_max
        Keep ``ruwe < ruwe_max``.
    params_solved
        Keep ``astrometric_params_solved`` in these values (31: 5-, 95: 6-parameter).
    g_max_mag
        Keep ``phot_g_mean_mag < g_max_mag`` (mag).
    zero_point
        Correct parallaxes with the Gaia DR3 zero point; if False the correction is 0.
    rv_correction
        Correct radial velocities for the faint-star offset and scale their uncertainties
        (:func:`~clustermix.data.rv_correction.radial_velocity_corrections`); if False both
        are kept as published.

    Returns
    -------
    catalog, summary
        The kept stars with every Gaia column (spec dtypes and units) plus
        ``parallax_raw`` (mas, as published), ``parallax_zero_point`` (mas),
        ``parallax`` (mas, ``parallax_raw - parallax_zero_point``) and the boolean
        ``zero_point_extrapolated``; ``radial_velocity_raw`` and
        ``radial_velocity_error_raw`` (km/s, as published), ``radial_velocity_offset``
        (km/s, added) and the corrected ``radial_velocity`` and ``radial_velocity_error``;
        and a JSON-ready summary (counts, cut values, the zero-point median/mean in mas and
        the RV correction's counts).

    Raises
    ------
    InputDataError
        A Gaia column is missing, the table was already cleaned, no star passes the
        cuts (the message gives how many stars each cut removes), or a kept star lacks a
        value a model needs.
    """
    params = sorted({int(value) for value in params_solved})
    _check_columns(table, source)
    _check_not_cleaned(table, source)
    passes = quality_cuts(table, ruwe_max=ruwe_max, params_solved=params, g_max_mag=g_max_mag)
    removed = {name: int((~passed).sum()) for name, passed in passes.items()}
    keep = np.logical_and.reduce(list(passes.values()))
    if not keep.any():
        labels = {
            "ruwe": f"ruwe < {ruwe_max}",
            "params_solved": f"astrometric_params_solved in {params}",
            "g_mag": f"phot_g_mean_mag < {g_max_mag}",
        }
        raise InputDataError(_empty_message(source, len(table), removed, labels))
    kept = model_columns(table[keep])
    _check_kept_rows_finite(kept, source)
    if zero_point:
        zpt_mas, extrapolated, n_warnings = parallax_zero_point(kept)
    else:
        zpt_mas, extrapolated, n_warnings = np.zeros(len(kept)), np.zeros(len(kept), bool), 0
    catalog, rv_summary = with_rv_correction(
        with_zero_point(kept, zpt_mas, extrapolated), rv_correction
    )
    summary = {
        "source": str(source),
        "n_input": len(table),
        "n_kept": len(catalog),
        "n_removed": len(table) - len(catalog),
        **{f"n_removed_{name}": count for name, count in removed.items()},
        "ruwe_max": float(ruwe_max),
        "params_solved": params,
        "g_max_mag": float(g_max_mag),
        "zero_point": bool(zero_point),
        "zero_point_median_mas": float(np.median(zpt_mas)),
        "zero_point_mean_mas": float(np.mean(zpt_mas)),
        "zero_point_global_mas": ZERO_POINT_GLOBAL_MAS,
        "n_zero_point_extrapolated": int(extrapolated.sum()),
        "n_zero_point_warnings": n_warnings,
        **rv_summary,
    }
    return catalog, summary


def quality_cuts(
    table: Table, *, ruwe_max: float, params_solved: Iterable[int], g_max_mag: float
) -> dict[str, np.ndarray]:
    """Per cut, the boolean mask of stars that pass it (NaN fails every cut).

    Keys: ``ruwe`` (``ruwe < ruwe_max``), ``params_solved``
    (``astrometric_params_solved`` in ``params_solved``) and ``g_mag``
    (``phot_g_mean_mag < g_max_mag``, mag).
    """
    return {
        "ruwe": _below(table, "ruwe", ruwe_max),
        "params_solved": np.isin(_values(table, "astrometric_params_solved"), list(params_solved)),
        "g_mag": _below(table, "phot_g_mean_mag", g_max_mag),
    }


def parallax_zero_point(table: Table) -> tuple[np.ndarray, np.ndarray, int]:
    """Gaia DR3 parallax zero point (mas) per star, with the extrapolation flags.

    The ``gaiadr3-zeropoint`` recipe where it is valid (:func:`zero_point_valid`); elsewhere
    :data:`ZERO_POINT_GLOBAL_MAS`, flagged True. The package's range warnings are
    suppressed and counted.

    Returns
    -------
    zero_point_mas, extrapolated, n_warnings
    """
    solved = _values(table, "astrometric_params_solved")
    zero_point_mas = np.full(len(table), ZERO_POINT_GLOBAL_MAS)
    recipe = np.isin(solved, (FIVE_PARAMETER_SOLUTION, SIX_PARAMETER_SOLUTION))
    n_warnings = 0
    if recipe.any():
        zero_point_mas[recipe], n_warnings = _recipe_zero_point(table[recipe])
    extrapolated = ~zero_point_valid(table) | ~np.isfinite(zero_point_mas)
    zero_point_mas[extrapolated] = ZERO_POINT_GLOBAL_MAS
    return zero_point_mas, extrapolated, n_warnings


def zero_point_valid(table: Table) -> np.ndarray:
    """Whether the zero-point recipe is valid for each star.

    Valid: a 5-parameter solution with 1.1 < nu_eff < 1.9 or a 6-parameter one with
    1.24 < pseudocolour < 1.72 (1/um), 6 < G < 21 mag and a finite ecliptic latitude.
    """
    solved = _values(table, "astrometric_params_solved")
    g_mag = _values(table, "phot_g_mean_mag")
    nu_eff = _values(table, "nu_eff_used_in_astrometry")
    pseudocolour = _values(table, "pseudocolour")
    colour_ok = ((solved == FIVE_PARAMETER_SOLUTION) & _inside(nu_eff, ZPT_NU_EFF_RANGE)) | (
        (solved == SIX_PARAMETER_SOLUTION) & _inside(pseudocolour, ZPT_PSEUDOCOLOUR_RANGE)
    )
    return colour_ok & _inside(g_mag, ZPT_G_RANGE_MAG) & np.isfinite(_values(table, "ecl_lat"))


def model_columns(table: Table) -> Table:
    """The Gaia columns of ``table`` in spec order, spec dtypes and units; others dropped.
    An optional column the table lacks is all NaN."""
    return Table(
        [
            Column(
                np.asarray(np.ma.getdata(table[spec.name])).astype(spec.dtype)
                if spec.name in table.colnames
                else np.full(len(table), np.nan, dtype=spec.dtype),
                name=spec.name,
                unit=spec.unit,
            )
            for spec in GAIA_COLUMNS
        ]
    )


def with_rv_correction(table: Table, correct: bool) -> tuple[Table, dict[str, Any]]:
    """A copy of ``table`` with radial velocities and their uncertainties corrected (or, if
    not ``correct``, kept as published), the published values kept; and the summary's
    counts (``rv_correction``, ``n_rv``, ``n_rv_offset``, ``n_rv_grvs_estimated``,
    ``n_rv_without_grvs``, ``rv_offset_median_kms``).
    """
    catalog = table.copy()
    rv = _values(catalog, "radial_velocity")
    error = _values(catalog, "radial_velocity_error")
    grvs = _values(catalog, "grvs_mag")
    fixed = radial_velocity_corrections(
        rv, grvs, _values(catalog, "phot_rp_mean_mag"), _values(catalog, "bp_rp")
    )
    offset = fixed.offset_kms if correct else np.where(np.isfinite(rv), 0.0, np.nan)
    factor = fixed.error_factor if correct else np.where(np.isfinite(rv), 1.0, np.nan)
    index = catalog.colnames.index("radial_velocity_error") + 1
    catalog.add_columns(
        [
            Column(rv, name="radial_velocity_raw", unit="km / s"),
            Column(error, name="radial_velocity_error_raw", unit="km / s"),
            Column(offset, name="radial_velocity_offset", unit="km / s"),
        ],
        indexes=[index] * 3,
    )
    catalog["radial_velocity_raw"].description = "radial velocity as published (km/s)"
    catalog["radial_velocity_error_raw"].description = "its uncertainty as published (km/s)"
    catalog[
        "radial_velocity_offset"
    ].description = "added to the published RV (Katz et al. 2023; 0 below G_RVS = 11 mag)"
    catalog["radial_velocity"] = Column(
        (rv + offset).astype(np.float32), unit="km / s", description="corrected radial velocity"
    )
    catalog["radial_velocity_error"] = Column(
        (error * factor).astype(np.float32),
        unit="km / s",
        description="radial velocity uncertainty scaled as Babusiaux et al. (2023) say",
    )
    with_rv = np.isfinite(rv)
    summary = {
        "rv_correction": bool(correct),
        "n_rv": fixed.n_with_rv,
        "n_rv_offset": fixed.n_offset if correct else 0,
        "n_rv_grvs_estimated": fixed.n_grvs_estimated if correct else 0,
        "n_rv_without_grvs": fixed.n_without_grvs if correct else 0,
        "rv_offset_median_kms": float(np.median(offset[with_rv])) if with_rv.any() else 0.0,
    }
    return catalog, summary


def with_zero_point(table: Table, zero_point_mas: np.ndarray, extrapolated: np.ndarray) -> Table:
    """A copy of ``table`` with ``parallax`` corrected and the raw value kept.

    Adds ``parallax_raw`` (mas), ``parallax_zero_point`` (mas) and
    ``zero_point_extrapolated`` right after ``parallax``, which becomes
    ``parallax_raw - parallax_zero_point`` (mas).
    """
    catalog = table.copy()
    raw = np.asarray(catalog["parallax"], dtype=np.float64)
    index = catalog.colnames.index("parallax")
    catalog.rename_column("parallax", "parallax_raw")
    catalog["parallax_raw"].description = "parallax as published (mas)"
    new_columns = [
        Column(
            raw - zero_point_mas,
            name="parallax",
            unit="mas",
            description="parallax corrected for the zero point: parallax_raw - parallax_zero_point",
        ),
        Column(
            np.asarray(zero_point_mas, dtype=np.float64),
            name="parallax_zero_point",
            unit="mas",
            description="Gaia DR3 parallax zero point (Lindegren et al. 2021)",
        ),
        Column(
            np.asarray(extrapolated, dtype=bool),
            name="zero_point_extrapolated",
            description=f"outside the recipe's validity range: {ZERO_POINT_GLOBAL_MAS} mas used",
        ),
    ]
    catalog.add_columns(new_columns, indexes=[index, index + 1, index + 1])
    return catalog


def _recipe_zero_point(table: Table) -> tuple[np.ndarray, int]:
    """The package's zero point (mas) for 5/6-parameter stars, and its warning count."""
    _load_zero_point_tables()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = zpt.get_zpt(
            _values(table, "phot_g_mean_mag"),
            _values(table, "nu_eff_used_in_astrometry"),
            _values(table, "pseudocolour"),
            _values(table, "ecl_lat"),
            _values(table, "astrometric_params_solved"),
        )
    return np.asarray(values, dtype=np.float64), len(caught)


@functools.cache
def _load_zero_point_tables() -> None:
    """Load the recipe's coefficient tables once per process."""
    zpt.load_tables()


def _values(table: Table, name: str) -> np.ndarray:
    """Column ``name`` as a float64 array (masked entries as NaN)."""
    column = table[name]
    values = np.asarray(np.ma.getdata(column)).astype(np.float64)
    values[np.ma.getmaskarray(column)] = np.nan
    return values


def _below(table: Table, name: str, limit: float) -> np.ndarray:
    """``column < limit`` in the column's own precision (NaN and masked fail).

    A float32 RUWE printed as 1.4 is 1.39999998 in float64; compared as float32 it equals
    the limit 1.4 and fails ``ruwe < 1.4``, as a reader of the catalogue expects.
    """
    column = table[name]
    values = np.asarray(np.ma.getdata(column))
    dtype = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
    return (values.astype(dtype) < dtype.type(limit)) & ~np.ma.getmaskarray(column)


def _inside(values: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    """``low < values < high`` elementwise (False for NaN)."""
    low, high = bounds
    return (values > low) & (values < high)


def _check_columns(table: Table, source: str | Path) -> None:
    """Refuse a catalogue without a required Gaia column (it skipped validate_catalog)."""
    missing = [
        spec.name for spec in GAIA_COLUMNS if spec.required and spec.name not in table.colnames
    ]
    if missing:
        raise InputDataError(
            f"{source}: the catalogue lacks the column(s) {', '.join(missing)}; "
            "check it with validate_catalog first"
        )


def _check_not_cleaned(table: Table, source: str | Path) -> None:
    """Refuse a catalogue that already carries the zero-point or RV-correction columns."""
    present = [name for name in _ADDED_COLUMNS if name in table.colnames]
    if present:
        raise InputDataError(
            f"{source}: the catalogue already has {', '.join(present)}: it looks cleaned "
            "already, and the parallax zero point and RV corrections would be applied twice"
        )


def _check_kept_rows_finite(table: Table, source: str | Path) -> None:
    """Raise if a kept star lacks a finite value in a column a model needs."""
    problems = []
    for spec in GAIA_COLUMNS:
        if spec.finite:
            n_bad = int((~np.isfinite(_values(table, spec.name))).sum())
            if n_bad:
                problems.append(f"'{spec.name}' ({n_bad} rows)")
    if not problems:
        return
    hint = ""
    if np.any(_values(table, "astrometric_params_solved") == TWO_PARAMETER_SOLUTION):
        hint = (
            "; 2-parameter solutions (astrometric_params_solved = 3) have no parallax or "
            "proper motion: remove 3 from cuts.params_solved"
        )
    raise InputDataError(
        f"{source}: after the quality cuts, kept stars have NaN or infinite values in "
        f"{', '.join(problems)}{hint}"
    )


def _empty_message(
    source: str | Path, n_input: int, removed: dict[str, int], labels: dict[str, str]
) -> str:
    """Why no star survives: how many of the input stars each cut removes on its own."""
    counts = ", ".join(f"{labels[name]} removes {count}" for name, count in removed.items())
    return (
        f"{source}: no star passes the quality cuts (0 of {n_input} kept); on its own, "
        f"{counts} (a star can fail several cuts); check the file or loosen the cuts "
        "(cuts.ruwe_max, cuts.params_solved, cuts.g_max_mag)"
    )

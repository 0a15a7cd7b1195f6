"""Quality cuts, the Gaia DR3 parallax zero point (Lindegren et al. 2021) and the radial
velocity corrections (Katz et al. 2023; Babusiaux et al. 2023).

:func:`clean_catalog` keeps the well-behaved astrometric solutions of a validated
catalogue and corrects their parallaxes with the ``gaiadr3-zeropoint`` recipe, falling back
to the global mean offset (flagged) where the recipe is not valid, and their radial
velocities and RV uncertainties as :mod:`clustermix.data.rv_correction` says. The raw
values are kept beside the corrected ones.

A catalogue may lack every column the run does not need
(:func:`~clustermix.data.columns.required_columns`). For each missing one,
:func:`clean_catalog` logs one line saying what it does instead, and lists the same in the
summary's ``missing_columns``:

- ``ruwe``: the RUWE cut is not made (``ruwe_cut_applied: false``);
- ``astrometric_params_solved``: inferred (:func:`~clustermix.data.catalog.solution_types`);
  the cut on it applies to the inferred types, stars of unknown type pass it;
- ``ecl_lat``: computed from ``ra``, ``dec`` (:func:`ecliptic_latitude_deg`);
- ``nu_eff_used_in_astrometry``, ``pseudocolour``: the zero point takes the effective
  wavenumber from BP-RP (:func:`nu_eff_from_bp_rp`), or, without a colour, the global
  offset (flagged, with a warning);
- ``bp_rp``: ``phot_bp_mean_mag - phot_rp_mean_mag`` where the file has both;
- ``radial_velocity``, ``radial_velocity_error``: no radial velocities (NaN), and the
  phase-space model uses the astrometry alone;
- any other: left empty (NaN, or masked for integers).
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import ICRS, BarycentricTrueEcliptic, SkyCoord
from astropy.table import Column, MaskedColumn, Table
from zero_point import zpt

from clustermix.data.catalog import (
    TWO_PARAMETER_SOLUTION,
    close_name,
    solution_types,
)
from clustermix.data.columns import CATALOG_MODELS, GAIA_COLUMNS, required_columns
from clustermix.data.rv_correction import radial_velocity_corrections
from clustermix.errors import InputDataError

log = logging.getLogger(__name__)

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

#: Lindegren et al. (2021, A&A 649, A2, eq. 3): nu_eff = a - (b / pi) atan(c (BP-RP))
#: (1/um, colour in mag), clipped to :data:`NU_EFF_CLIP`.
NU_EFF_COEFFICIENTS = (1.76, 1.61, 0.531)
NU_EFF_CLIP = (1.24, 1.72)

_RV_COLUMNS = ("radial_velocity", "radial_velocity_error")
_ADDED_COLUMNS = (
    "parallax_raw",
    "parallax_zero_point",
    "zero_point_extrapolated",
    "radial_velocity_raw",
    "radial_velocity_error_raw",
    "radial_velocity_offset",
)


@dataclass(frozen=True)
class MissingColumn:
    """A column the input catalogue lacks, what the cleaning did instead, and whether that
    deserves a warning (a fall-back that loses accuracy) rather than a note."""

    column: str
    action: str
    warning: bool = False


def clean_catalog(
    table: Table,
    *,
    source: str | Path,
    ruwe_max: float,
    params_solved: Iterable[int],
    g_max_mag: float,
    zero_point: bool,
    rv_correction: bool,
    models: Iterable[str] = CATALOG_MODELS,
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
    models
        The enabled cluster models: the columns they need must be present
        (:func:`~clustermix.data.columns.required_columns`; default: every model).

    Returns
    -------
    catalog, summary
        The kept stars with every Gaia column (spec dtypes and units; a column the input
        lacks is filled in or left empty, see the module docstring) plus
        ``parallax_raw`` (mas, as published), ``parallax_zero_point`` (mas),
        ``parallax`` (mas, ``parallax_raw - parallax_zero_point``) and the boolean
        ``zero_point_extrapolated``; ``radial_velocity_raw`` and
        ``radial_velocity_error_raw`` (km/s, as published), ``radial_velocity_offset``
        (km/s, added) and the corrected ``radial_velocity`` and ``radial_velocity_error``;
        and a JSON-ready summary (counts, cut values, the zero-point median/mean in mas,
        the RV correction's counts, and what the input lacked: ``missing_columns``, a
        list of ``{"column", "action"}``, ``ruwe_cut_applied``, ``params_solved_inferred``,
        ``n_params_solved_unknown`` (kept stars), ``ecl_lat_computed``,
        ``n_zero_point_colour_relation`` (kept stars whose zero point took nu_eff from
        BP-RP)).

    Raises
    ------
    InputDataError
        A column the run needs is missing (as
        :func:`~clustermix.data.catalog.validate_catalog` checks first, in more detail),
        the table was already cleaned, no star passes the cuts (the message gives how many
        stars each cut removes), or a kept star lacks a value a model needs.
    """
    params = sorted({int(value) for value in params_solved})
    _check_columns(table, source, required_columns(models, zero_point=zero_point))
    _check_not_cleaned(table, source)
    present = frozenset(table.colnames)
    solved, inferred = solution_types(table)
    passes = quality_cuts(table, ruwe_max=ruwe_max, params_solved=params, g_max_mag=g_max_mag)
    removed = {name: int((~passed).sum()) for name, passed in passes.items()}
    keep = np.logical_and.reduce(list(passes.values()))
    if not keep.any():
        labels = {
            "ruwe": f"ruwe < {ruwe_max}",
            "params_solved": f"astrometric_params_solved in {params}",
            "g_mag": f"phot_g_mean_mag < {g_max_mag}",
        }
        if "ruwe" not in present:
            labels["ruwe"] = "the RUWE cut (not made: no ruwe column)"
        raise InputDataError(_empty_message(source, len(table), removed, labels))
    kept = with_missing_columns(model_columns(table[keep]), present, solved[keep])
    _check_kept_rows_finite(kept, source, present)
    inputs, from_colour = zero_point_inputs(kept, present)
    if zero_point:
        zpt_mas, extrapolated, n_warnings = parallax_zero_point(inputs)
    else:
        zpt_mas, extrapolated, n_warnings = np.zeros(len(kept)), np.zeros(len(kept), bool), 0
    by_colour = from_colour & ~extrapolated if zero_point else np.zeros(len(kept), bool)
    six = inputs["astrometric_params_solved"] == SIX_PARAMETER_SOLUTION
    colour_counts = {
        "nu_eff_used_in_astrometry": int((by_colour & ~six).sum()),
        "pseudocolour": int((by_colour & six).sum()),
    }
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
        "ruwe_cut_applied": "ruwe" in present,
        "params_solved_inferred": inferred,
        "n_params_solved_unknown": int((~np.isfinite(solved[keep])).sum()),
        "ecl_lat_computed": "ecl_lat" not in present,
        "n_zero_point_colour_relation": int(by_colour.sum()),
    }
    missing = missing_column_actions(table, summary, solved=solved, colour_counts=colour_counts)
    for item in missing:
        log.log(
            logging.WARNING if item.warning else logging.INFO,
            "%s: no column '%s': %s",
            source,
            item.column,
            item.action,
        )
    summary["missing_columns"] = [{"column": m.column, "action": m.action} for m in missing]
    return catalog, summary


def quality_cuts(
    table: Table, *, ruwe_max: float, params_solved: Iterable[int], g_max_mag: float
) -> dict[str, np.ndarray]:
    """Per cut, the boolean mask of stars that pass it (NaN fails every cut).

    Keys: ``ruwe`` (``ruwe < ruwe_max``; every star passes if the table has no ``ruwe``),
    ``params_solved`` (``astrometric_params_solved`` in ``params_solved``; without the
    column, the inferred type of :func:`~clustermix.data.catalog.solution_types`, and a
    star of unknown type passes) and ``g_mag`` (``phot_g_mean_mag < g_max_mag``, mag).
    """
    solved, inferred = solution_types(table)
    params_ok = np.isin(solved, list(params_solved))
    if inferred:
        params_ok |= ~np.isfinite(solved)
    ruwe_ok = (
        _below(table, "ruwe", ruwe_max)
        if "ruwe" in table.colnames
        else np.ones(len(table), dtype=bool)
    )
    return {
        "ruwe": ruwe_ok,
        "params_solved": params_ok,
        "g_mag": _below(table, "phot_g_mean_mag", g_max_mag),
    }


def nu_eff_from_bp_rp(bp_rp_mag: np.ndarray) -> np.ndarray:
    """The effective wavenumber nu_eff (1/um) of a star of colour BP-RP (mag).

    nu_eff = 1.76 - (1.61 / pi) arctan(0.531 (BP-RP)), clipped to [1.24, 1.72]: the relation
    by which ``nu_eff_used_in_astrometry`` of the 5-parameter solutions of Gaia EDR3 (and
    so DR3) was computed (Lindegren et al. 2021, A&A 649, A2, eq. 3; the simulator's
    :func:`clustermix.data.stars.nu_eff_from_colour` is the same relation). There the
    colour is Gaia DR2's G_BP - G_RP (a source got a 5-parameter solution when DR2 had a
    reliable colour); a catalogue's DR3 BP-RP stands in for it here, which is close but not
    identical, so a zero point from this relation approximates the published recipe's. The
    clip gives 1.72 for every star bluer than BP-RP = 0.15 mag and 1.24 for every star
    redder than about 3.0 mag; NaN stays NaN.
    """
    a, b, c = NU_EFF_COEFFICIENTS
    colour = np.asarray(bp_rp_mag, dtype=np.float64)
    return np.clip(a - (b / np.pi) * np.arctan(c * colour), *NU_EFF_CLIP)


def ecliptic_latitude_deg(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Ecliptic latitude (deg) of ICRS positions ``ra_deg``, ``dec_deg`` (deg), for a
    catalogue without ``ecl_lat``.

    With astropy's :class:`~astropy.coordinates.BarycentricTrueEcliptic` (equinox J2000):
    barycentric, because Gaia's positions are (a geocentric frame such as
    ``GeocentricTrueEcliptic`` would add the annual aberration, up to 20 arcsec, for a
    source with no distance), and the frame the simulator and the test tables use, so that
    a computed ``ecl_lat`` equals theirs to rounding. The ecliptic latitude does not
    depend on the nutation (it moves the equator, not the ecliptic): the true and mean
    ecliptic frames give the same latitude. The archive's own ``ecl_lat`` may differ by its
    conventions for the obliquity and the frame bias, a few hundredths of an arcsec (about
    1e-5 deg); the zero point, which varies with sin(ecl_lat) over degrees, changes by far
    less than 1 micro-arcsecond.
    """
    coords = SkyCoord(
        ra=np.asarray(ra_deg, dtype=np.float64) * u.deg,
        dec=np.asarray(dec_deg, dtype=np.float64) * u.deg,
        frame=ICRS(),
    )
    return np.asarray(coords.transform_to(BarycentricTrueEcliptic()).lat.deg, dtype=np.float64)


def zero_point_inputs(catalog: Table, present: Iterable[str]) -> tuple[Table, np.ndarray]:
    """The zero-point recipe's inputs for each star of ``catalog``, and which stars took their
    colour from BP-RP.

    ``catalog`` has every Gaia column (:func:`with_missing_columns`); ``present`` are the
    columns the input catalogue had. Published values are used as they are. A 5-parameter
    star whose file has no ``nu_eff_used_in_astrometry`` gets nu_eff from BP-RP
    (:func:`nu_eff_from_bp_rp`), as its published value was made; a 6-parameter star whose
    file has no ``pseudocolour`` gets the same value as its pseudocolour (the astrometric
    estimate of nu_eff); a star of unknown type (no ``astrometric_params_solved``, and
    neither colour) is treated as 5-parameter with nu_eff from BP-RP. Without BP-RP the
    colour is NaN: the recipe is then not valid and :func:`parallax_zero_point` uses the
    global offset.

    Returns
    -------
    inputs, from_colour
        A table of ``phot_g_mean_mag`` (mag), ``nu_eff_used_in_astrometry``,
        ``pseudocolour`` (1/um), ``ecl_lat`` (deg) and ``astrometric_params_solved``, as
        :func:`parallax_zero_point` reads them; and the boolean mask of the stars whose
        colour came from BP-RP.
    """
    present = frozenset(present)
    solved = _values(catalog, "astrometric_params_solved")
    colour_nu_eff = nu_eff_from_bp_rp(_values(catalog, "bp_rp"))
    unknown = ~np.isfinite(solved)
    five = unknown | (
        (solved == FIVE_PARAMETER_SOLUTION) & ("nu_eff_used_in_astrometry" not in present)
    )
    six = (solved == SIX_PARAMETER_SOLUTION) & ("pseudocolour" not in present)
    inputs = Table(
        {
            "phot_g_mean_mag": _values(catalog, "phot_g_mean_mag"),
            "nu_eff_used_in_astrometry": np.where(
                five, colour_nu_eff, _values(catalog, "nu_eff_used_in_astrometry")
            ),
            "pseudocolour": np.where(six, colour_nu_eff, _values(catalog, "pseudocolour")),
            "ecl_lat": _values(catalog, "ecl_lat"),
            "astrometric_params_solved": np.where(unknown, FIVE_PARAMETER_SOLUTION, solved),
        }
    )
    return inputs, five | six


def parallax_zero_point(table: Table) -> tuple[np.ndarray, np.ndarray, int]:
    """Gaia DR3 parallax zero point (mas) per star, with the extrapolation flags.

    The ``gaiadr3-zeropoint`` recipe where it is valid (:func:`zero_point_valid`); elsewhere
    :data:`ZERO_POINT_GLOBAL_MAS`, flagged True. The package's range warnings are
    suppressed and counted. ``table`` holds the recipe's five inputs (the catalogue's
    columns, or :func:`zero_point_inputs`).

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
    A column the table lacks is all NaN (floats) or all masked (integers)."""
    columns = []
    n = len(table)
    for spec in GAIA_COLUMNS:
        if spec.name in table.colnames:
            data = np.asarray(np.ma.getdata(table[spec.name])).astype(spec.dtype)
            columns.append(Column(data, name=spec.name, unit=spec.unit))
        elif np.dtype(spec.dtype).kind == "f":
            columns.append(
                Column(np.full(n, np.nan, dtype=spec.dtype), name=spec.name, unit=spec.unit)
            )
        else:
            columns.append(
                MaskedColumn(
                    np.zeros(n, dtype=spec.dtype),
                    mask=np.ones(n, dtype=bool),
                    name=spec.name,
                    unit=spec.unit,
                )
            )
    return Table(columns)


def with_missing_columns(
    table: Table, present: Iterable[str], solved: np.ndarray | None = None
) -> Table:
    """``table`` (from :func:`model_columns`) with what can be filled in for the columns the
    input lacked (``present``: the input's columns).

    ``ecl_lat``: :func:`ecliptic_latitude_deg` of ``ra``, ``dec``; ``bp_rp``:
    ``phot_bp_mean_mag - phot_rp_mean_mag`` (mag) where the input has both;
    ``astrometric_params_solved``: ``solved`` (the types of
    :func:`~clustermix.data.catalog.solution_types` for these rows), masked where unknown;
    ``radial_velocity`` and ``radial_velocity_error``: both NaN when either is missing (an
    RV without its uncertainty is of no use). Each filled column says so in its
    description.
    """
    present = frozenset(present)
    catalog = table.copy()
    if "ecl_lat" not in present:
        catalog["ecl_lat"] = Column(
            ecliptic_latitude_deg(_values(catalog, "ra"), _values(catalog, "dec")),
            unit="deg",
            description="not in the input: computed from ra, dec (BarycentricTrueEcliptic)",
        )
    if "bp_rp" not in present and {"phot_bp_mean_mag", "phot_rp_mean_mag"} <= present:
        colour = _values(catalog, "phot_bp_mean_mag") - _values(catalog, "phot_rp_mean_mag")
        catalog["bp_rp"] = Column(
            colour.astype(np.float32),
            unit="mag",
            description="not in the input: phot_bp_mean_mag - phot_rp_mean_mag",
        )
    if "astrometric_params_solved" not in present and solved is not None:
        known = np.isfinite(solved)
        catalog["astrometric_params_solved"] = MaskedColumn(
            np.where(known, solved, 0).astype(np.int16),
            mask=~known,
            description=(
                "not in the input: inferred (3: no parallax or proper motion; 31: "
                "nu_eff_used_in_astrometry given; 95: pseudocolour given; masked: unknown)"
            ),
        )
    rv_columns = {"radial_velocity", "radial_velocity_error"}
    if not rv_columns <= present:
        for name in sorted(rv_columns):
            catalog[name] = Column(
                np.full(len(catalog), np.nan, dtype=np.float32),
                unit="km / s",
                description="not usable: the input lacks radial_velocity or its error",
            )
    return catalog


def missing_column_actions(
    table: Table,
    summary: Mapping[str, Any],
    *,
    solved: np.ndarray,
    colour_counts: Mapping[str, int],
) -> list[MissingColumn]:
    """What the cleaning did for each Gaia column ``table`` (the input) lacks, in table order.

    ``summary`` is :func:`clean_catalog`'s (cut values, counts); ``solved`` the input stars'
    solution types (:func:`~clustermix.data.catalog.solution_types`); ``colour_counts``
    the kept stars whose zero point took nu_eff from BP-RP in place of
    ``nu_eff_used_in_astrometry`` and of ``pseudocolour``. A column the file seems to have
    under a near-miss name (:func:`~clustermix.data.catalog.close_name`) is named, so that
    a user who meant it can rename it.
    """
    present = frozenset(table.colnames)
    colour = "bp_rp" in present or {"phot_bp_mean_mag", "phot_rp_mean_mag"} <= present
    actions = []
    for spec in GAIA_COLUMNS:
        if spec.name in present:
            continue
        action, warning = _missing_action(
            spec.name, present, colour, summary, solved, colour_counts.get(spec.name, 0)
        )
        close = close_name(spec.name, table.colnames)
        if close is not None:
            action += f" (the file has '{close}': rename it '{spec.name}' if it is the same)"
        actions.append(MissingColumn(spec.name, action, warning))
    return actions


def _missing_action(
    name: str,
    present: frozenset[str],
    colour: bool,
    summary: Mapping[str, Any],
    solved: np.ndarray,
    n_colour: int,
) -> tuple[str, bool]:
    """The action text of :func:`missing_column_actions` for column ``name``, and whether it
    is a warning (``n_colour``: kept stars whose zero point used BP-RP in its place)."""
    zero_point = bool(summary["zero_point"])
    no_colour = (
        f"; the catalogue has no BP-RP either, so these stars get the global offset "
        f"{ZERO_POINT_GLOBAL_MAS} mas (flagged zero_point_extrapolated; cuts.zero_point: false "
        "applies none)"
    )
    if name == "ruwe":
        return f"the RUWE cut (ruwe < {summary['ruwe_max']:g}) is not made", False
    if name == "astrometric_params_solved":
        counts = [int((solved == value).sum()) for value in (3, 31, 95)]
        unknown = int((~np.isfinite(solved)).sum())
        return (
            f"inferred for the {len(solved)} input stars: {counts[0]} 2-parameter (no parallax "
            f"or proper motion), {counts[1]} 5-parameter (nu_eff_used_in_astrometry given), "
            f"{counts[2]} 6-parameter (pseudocolour given), {unknown} unknown; "
            "cuts.params_solved applies to the inferred types, and stars of unknown type pass",
            False,
        )
    if name in ("nu_eff_used_in_astrometry", "pseudocolour"):
        if not zero_point:
            return "not needed (cuts.zero_point is false)", False
        if name == "pseudocolour" and not (solved == SIX_PARAMETER_SOLUTION).any():
            return "not needed: no star is known to have a 6-parameter solution", False
        who = (
            "5-parameter stars and stars of unknown type"
            if name == "nu_eff_used_in_astrometry"
            else "6-parameter stars (as their pseudocolour)"
        )
        text = (
            f"the parallax zero point of {who} takes nu_eff from BP-RP, nu_eff = 1.76 - "
            "(1.61/pi) arctan(0.531 (BP-RP)) (Lindegren et al. 2021)"
        )
        if not colour:
            return text + no_colour, True
        return f"{text}: {n_colour} kept stars", False
    if name == "ecl_lat":
        use = " for the parallax zero point" if zero_point else ""
        return f"computed from ra, dec with astropy (BarycentricTrueEcliptic){use}", False
    if name == "bp_rp":
        if colour:
            return "computed as phot_bp_mean_mag - phot_rp_mean_mag", False
        return (
            "no colour: the colour-magnitude figure shows no stars, and G_RVS is not "
            "estimated for the RV correction",
            False,
        )
    if (
        name == "phot_rp_mean_mag"
        and summary["rv_correction"]
        and summary["n_rv"]
        and "grvs_mag" not in present
    ):
        return (
            "G_RVS is not estimated from G_RP: radial velocities keep their published value "
            "where grvs_mag is missing",
            False,
        )
    if name in _RV_COLUMNS:
        other = _RV_COLUMNS[1 - _RV_COLUMNS.index(name)]
        what = (
            "no radial velocities"
            if "radial_velocity" not in present
            else "radial velocities without their uncertainties cannot be used"
        )
        return (
            f"{what}: {name} and {other} are left empty (NaN) and phase_space uses the "
            "astrometry alone",
            False,
        )
    if name == "grvs_mag":
        if not summary["rv_correction"] or not summary["n_rv"]:
            return "not needed (no radial velocity to correct)", False
        return (
            f"G_RVS estimated from G_RP and BP-RP (Sartoretti et al. 2023) for "
            f"{summary['n_rv_grvs_estimated']} of the {summary['n_rv']} radial velocities, "
            f"unknown for {summary['n_rv_without_grvs']} (kept as published)",
            False,
        )
    return "not used by this run: left empty", False


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


def _check_columns(table: Table, source: str | Path, required: Iterable[str]) -> None:
    """Refuse a catalogue without a ``required`` column (it skipped validate_catalog)."""
    missing = [name for name in required if name not in table.colnames]
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


def _check_kept_rows_finite(table: Table, source: str | Path, present: Iterable[str]) -> None:
    """Raise if a kept star lacks a finite value in a column a model needs (among the
    columns the input had, ``present``)."""
    present = frozenset(present)
    problems = []
    for spec in GAIA_COLUMNS:
        if spec.finite and spec.name in present:
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

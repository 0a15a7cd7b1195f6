"""The numbers the paper quotes about the data: counts, cuts, masks, zero point, truth.

:func:`data_macros` turns the data stage's outputs into LaTeX macros named
``\\Data<Name>`` (:func:`clustermix.paper.macros.macro_name` with the prefix ``data``). Values
are for math mode (``$\\DataNStarsInput$`` or plain text: counts read the same); text
values (file name, source) are escaped. Truth macros (``\\DataTrue...``, ``\\DataSimSeed``)
are always defined so that the paper compiles whatever the data source; without a
simulation they expand to a dash, and ``\\DataIsSimulated`` (1 or 0) tells which.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from clustermix.data.rv_correction import OFFSET_MIN_GRVS_MAG
from clustermix.errors import InputDataError
from clustermix.io import PathLike
from clustermix.paper.macros import escape_text, format_count, format_number, macro_name

#: What a truth macro expands to when the data are not simulated (text and math mode).
NOT_SIMULATED = r"\textrm{--}"
#: Truth keys quoted as cluster parameters: (truth key, macro name parts, how to format).
TRUE_PARAMETERS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("parallax", ("parallax", "mas"), "plain"),
    ("distance", ("distance", "pc"), "count"),
    ("pmra", ("pmra", "masyr"), "plain"),
    ("pmdec", ("pmdec", "masyr"), "plain"),
    ("rv", ("rv", "kms"), "plain"),
    ("sigma_v", ("sigma_v", "kms"), "plain"),
    ("plummer_radius_arcmin", ("plummer_radius", "arcmin"), "plain"),
)
#: Truth macros that count or are fractions (defined as dashes without a simulation).
TRUE_COUNTS: tuple[str, ...] = (
    "n_members_input",
    "n_field_input",
    "f_cluster_input",
    "n_members",
    "f_cluster",
    "n_members_cluster_region",
)


def plain_number(value: float, significant: int = 6) -> str:
    """``value`` in its shortest form up to ``significant`` figures (``19.0`` -> ``19``)."""
    text = f"{float(value):.{significant}g}"
    return text.lstrip("-") if float(text) == 0.0 else text


def list_in_words(values: Iterable[Any]) -> str:
    """``31 and 95``; ``3, 31 and 95``."""
    items = [str(value) for value in values]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def data_macros(
    *,
    catalog_summary: Mapping[str, Any],
    input_check: Mapping[str, Any],
    catalog: Table,
    masks: Table,
    cone_radius_arcmin: float,
    cluster_radius_arcmin: float,
    control_min_arcmin: float,
    source: str,
    truth: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The data macros, ``{name: replacement text}``.

    Parameters
    ----------
    catalog_summary
        ``results/{cluster}/catalog_summary.json`` (counts, cut values, zero point in mas).
    input_check
        ``results/{cluster}/input_check.json`` (``path``, ``sha256``, ``n_rows``).
    catalog
        The cleaned catalogue (``source_id``, ``radial_velocity`` in km/s).
    masks
        ``results/{cluster}/masks.fits`` (``source_id``, ``in_cluster_region``,
        ``in_control_field``), in catalogue order.
    cone_radius_arcmin, cluster_radius_arcmin, control_min_arcmin
        The catalogue's cone and the mask radii (arcmin).
    source
        ``data.source``: ``simulated``, ``archive`` or ``file``.
    truth
        The simulator's ``truth.json`` (simulated data only).
    """
    n_input = int(input_check["n_rows"])
    if int(catalog_summary["n_input"]) != n_input:
        raise InputDataError(
            f"catalog_summary.json counts {catalog_summary['n_input']} input stars but "
            f"input_check.json {n_input}: the two files are from different inputs"
        )
    catalog_ids = np.asarray(catalog["source_id"], np.int64)
    if len(masks) != len(catalog) or not np.array_equal(
        np.asarray(masks["source_id"], np.int64), catalog_ids
    ):
        raise InputDataError("masks.fits does not match catalog.fits row for row")
    in_cluster = np.asarray(masks["in_cluster_region"], bool)
    in_control = np.asarray(masks["in_control_field"], bool)
    has_rv = np.isfinite(np.ma.filled(np.ma.asarray(catalog["radial_velocity"], float), np.nan))
    values: dict[tuple[str, ...], str] = {
        ("source",): escape_text(source),
        ("is_simulated",): "1" if truth is not None else "0",
        ("input_file",): escape_text(os.path.basename(str(input_check["path"]))),
        ("input_checksum",): str(input_check["sha256"])[:12],
        ("n_stars_input",): format_count(n_input),
        ("n_stars_kept",): format_count(catalog_summary["n_kept"]),
        ("n_stars_removed",): format_count(catalog_summary["n_removed"]),
        ("n_removed_ruwe",): format_count(catalog_summary["n_removed_ruwe"]),
        ("n_removed_params_solved",): format_count(catalog_summary["n_removed_params_solved"]),
        ("n_removed_g_mag",): format_count(catalog_summary["n_removed_g_mag"]),
        ("ruwe_max",): plain_number(catalog_summary["ruwe_max"]),
        ("g_max_mag",): plain_number(catalog_summary["g_max_mag"]),
        ("params_solved",): list_in_words(catalog_summary["params_solved"]),
        ("zero_point_median_mas",): format_number(catalog_summary["zero_point_median_mas"], 3),
        ("zero_point_mean_mas",): format_number(catalog_summary["zero_point_mean_mas"], 3),
        ("zero_point_global_mas",): format_number(catalog_summary["zero_point_global_mas"], 3),
        ("n_zero_point_extrapolated",): format_count(catalog_summary["n_zero_point_extrapolated"]),
        ("cone_radius_arcmin",): plain_number(cone_radius_arcmin),
        ("cluster_radius_arcmin",): plain_number(cluster_radius_arcmin),
        ("control_min_arcmin",): plain_number(control_min_arcmin),
        ("n_cluster_region",): format_count(in_cluster.sum()),
        ("n_control_field",): format_count(in_control.sum()),
        ("n_between_regions",): format_count((~in_cluster & ~in_control).sum()),
        ("n_rv",): format_count(has_rv.sum()),
        ("n_rv_cluster_region",): format_count((has_rv & in_cluster).sum()),
        ("rv_correction_text",): rv_correction_text(catalog_summary),
        ("cuts_text",): cuts_text(catalog_summary),
        ("input_columns_text",): input_columns_text(catalog_summary),
    }
    values.update(_truth_values(truth, catalog_ids, in_cluster))
    return {macro_name("data", *parts): text for parts, text in values.items()}


def rv_correction_text(catalog_summary: Mapping[str, Any]) -> str:
    """The paper's sentence on the radial-velocity corrections, from the cleaning summary
    (counts; median offset in km/s)."""
    if not catalog_summary["rv_correction"]:
        return "Radial velocities and their uncertainties are used as published."
    estimated = int(catalog_summary["n_rv_grvs_estimated"])
    grvs = (
        f", $G_\\mathrm{{RVS}}$ estimated from $G_\\mathrm{{RP}}$ and colour for "
        f"{format_count(estimated)} of them \\citep{{Sartoretti2023}}"
        if estimated
        else ""
    )
    return (
        f"The radial velocities of the {format_count(catalog_summary['n_rv_offset'])} stars "
        f"with $G_\\mathrm{{RVS}} \\geq {plain_number(OFFSET_MIN_GRVS_MAG)}$ are corrected "
        f"for the offset of \\citet{{Katz2023}} (median "
        f"${format_number(catalog_summary['rv_offset_median_kms'], 2)}$~km\\,s$^{{-1}}$ over "
        f"all {format_count(catalog_summary['n_rv'])} RVs){grvs}, and every RV uncertainty is "
        f"scaled as \\citet{{Babusiaux2023}} recommend."
    )


def cuts_text(catalog_summary: Mapping[str, Any]) -> str:
    """The paper's sentence on the quality cuts, from the cleaning summary: the cuts made,
    the stars kept and what each cut removed; a RUWE cut the catalogue had no column for is
    said not to be made (``ruwe_cut_applied``), and solution types inferred
    (``params_solved_inferred``) are said to be. A summary without these keys (made before
    they existed) reads as a complete catalogue's."""
    ruwe = bool(catalog_summary.get("ruwe_cut_applied", True))
    inferred = bool(catalog_summary.get("params_solved_inferred", False))
    cuts = [
        f"an astrometric solution of type (\\code{{astrometric_params_solved}}"
        f"{', inferred from the other columns' if inferred else ''}) "
        f"{list_in_words(catalog_summary['params_solved'])}",
        f"$G < {plain_number(catalog_summary['g_max_mag'])}$",
    ]
    removed = [
        f"{format_count(catalog_summary['n_removed_params_solved'])} the solution type",
        f"{format_count(catalog_summary['n_removed_g_mag'])} the magnitude limit",
    ]
    if ruwe:
        cuts.insert(0, f"$\\mathrm{{RUWE}} < {plain_number(catalog_summary['ruwe_max'])}$")
        removed.insert(0, f"{format_count(catalog_summary['n_removed_ruwe'])} fail the RUWE cut")
    else:
        removed[0] = removed[0].replace(" the solution", " fail the solution", 1)
    sentence = (
        f"We keep stars with {', '.join(cuts[:-1])} and {cuts[-1]}: "
        f"{format_count(catalog_summary['n_kept'])} stars remain ({', '.join(removed[:-1])} "
        f"and {removed[-1]}; a star may fail several)."
    )
    if not ruwe:
        sentence += " The input catalogue has no RUWE, so no RUWE cut is made."
    return sentence


def input_columns_text(catalog_summary: Mapping[str, Any]) -> str:
    """The paper's sentences on what the input catalogue lacked and what was done instead
    (empty for a complete catalogue): the zero point's colour from BP-RP, the ecliptic
    latitudes computed, no radial velocities. Other missing columns change no number in the
    paper and are only listed in the log and the summary."""
    missing = {item["column"] for item in catalog_summary.get("missing_columns", [])}
    sentences = []
    n_colour = int(catalog_summary.get("n_zero_point_colour_relation", 0))
    if n_colour:
        sentences.append(
            f"The catalogue gives no effective wavenumber for {format_count(n_colour)} stars "
            "(\\code{nu_eff_used_in_astrometry}, \\code{pseudocolour}): their zero point "
            "uses the one computed from $G_\\mathrm{BP} - G_\\mathrm{RP}$ as for the "
            "five-parameter solutions of Gaia (E)DR3 \\citep{Lindegren2021astrometry}."
        )
    if "ecl_lat" in missing and catalog_summary.get("zero_point", True):
        sentences.append("Ecliptic latitudes are computed from the positions.")
    if {"radial_velocity", "radial_velocity_error"} & missing:
        sentences.append(
            "The catalogue has no usable radial velocities, so the phase-space model uses "
            "the astrometry alone."
        )
    return " ".join(sentences)


def _truth_values(
    truth: Mapping[str, Any] | None, catalog_ids: np.ndarray, in_cluster: np.ndarray
) -> dict[tuple[str, ...], str]:
    """The simulation's seed, member counts and fractions and cluster parameters."""
    names = [("sim_seed",)]
    names += [("true", *parts) for _, parts, _ in TRUE_PARAMETERS]
    names += [("true", name) for name in TRUE_COUNTS]
    if truth is None:
        return dict.fromkeys(names, NOT_SIMULATED)
    members = np.isin(catalog_ids, np.asarray(truth["member_source_ids"], np.int64))
    n_kept = len(catalog_ids)
    values = {
        ("sim_seed",): str(int(truth["seed"])),
        ("true", "n_members_input"): format_count(truth["n_members"]),
        ("true", "n_field_input"): format_count(truth["n_field"]),
        ("true", "f_cluster_input"): format_number(truth["f_cluster"], 3),
        ("true", "n_members"): format_count(members.sum()),
        ("true", "f_cluster"): format_number(members.sum() / max(n_kept, 1), 3),
        ("true", "n_members_cluster_region"): format_count((members & in_cluster).sum()),
    }
    for key, parts, style in TRUE_PARAMETERS:
        value = float(truth[key])
        values[("true", *parts)] = (
            format_count(round(value)) if style == "count" else plain_number(value, 4)
        )
    return values


def data_macros_from_files(
    *,
    catalog_summary: PathLike,
    input_check: PathLike,
    catalog: PathLike,
    masks: PathLike,
    truth: PathLike | None = None,
    **settings: Any,
) -> dict[str, str]:
    """:func:`data_macros` reading its inputs from the data stage's files; ``settings``
    are the radii (arcmin) and ``source``."""
    return data_macros(
        catalog_summary=_read_json(catalog_summary),
        input_check=_read_json(input_check),
        catalog=Table.read(catalog),
        masks=Table.read(masks),
        truth=_read_json(truth) if truth is not None else None,
        **settings,
    )


def _read_json(path: PathLike) -> Any:
    return json.loads(Path(path).read_text())

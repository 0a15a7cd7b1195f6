"""One cluster's membership catalogue: ``results/{cluster}/members.{fits,vot,ecsv}``.

A catalogue to open in TOPCAT (or send over SAMP) or read with astropy: one row per star
of the cleaned catalogue (``results/{cluster}/catalog.fits``, in its order), joined on
``source_id`` with the sky masks (``masks.fits``) and every model's memberships
(``membership/{model}.fits``). Its columns, in this order:

ids and position
    ``source_id``; ``ra``, ``dec`` (deg, ICRS, epoch J2016.0);
astrometry
    ``parallax`` (mas, as the models used it: zero-point corrected when the catalogue
    has ``parallax_zero_point``), ``parallax_error`` (mas), ``pmra``, ``pmra_error``,
    ``pmdec``, ``pmdec_error`` (mas / yr; ``pmra`` is mu_alpha* = mu_alpha cos dec),
    ``ruwe``;
photometry
    ``phot_g_mean_mag``, ``bp_rp`` (mag);
sky regions
    ``separation_arcmin`` (arcmin from the configured centre), ``in_cluster_region``,
    ``in_control_field`` (booleans);
memberships
    ``p_<model>``: the posterior mean membership probability of the model (the mean over
    posterior draws of w_c L_c / (w_c L_c + w_f L_f)), and ``p_<model>_sd``: its standard
    deviation over the draws. The adopted model's pair comes first (see
    :func:`adopted_fit`), then the others in
    :data:`~clustermix.paper.clusters_table.ADOPTION_ORDER`.
    A model fitted to part of the field only (``pmra_1d`` and ``parallax_1d`` fit the
    cluster region) leaves NaN for the stars it did not use.

Every column has a unit (none for ids, flags, RUWE and probabilities), an IVOA UCD
(column ``meta["ucd"]``; in the VOTable the FIELD's ``ucd``, in the FITS file the
``TUCDn`` keywords that TOPCAT reads) and a description (VOTable ``DESCRIPTION``, FITS
``TCOMMn``). The table's metadata name the cluster, the adopted model and whether it
passes the convergence checks, the models, the centre and the two region radii; in the
VOTable they are ``PARAM`` elements.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
from astropy.io import fits
from astropy.io.votable import from_table
from astropy.io.votable.tree import Param, VOTableFile
from astropy.table import Column, Table

from clustermix.data.columns import COLUMNS_BY_NAME
from clustermix.errors import InputDataError
from clustermix.io import PathLike, atomic_path, write_table_atomic
from clustermix.paper.clusters_table import ADOPTION_ORDER, adopted_model
from clustermix.paper.gate import fit_failures

log = logging.getLogger(__name__)


#: The columns a model's membership file (``membership/{model}.fits``) must have.
MEMBERSHIP_COLUMNS: tuple[str, ...] = ("source_id", "p_cluster", "p_cluster_sd")
#: UCD of the adopted model's probability, and of every other model's.
ADOPTED_PROBABILITY_UCD = "stat.probability;meta.main"
PROBABILITY_UCD = "stat.probability"
PROBABILITY_SD_UCD = "stat.stdev;stat.probability"


@dataclass(frozen=True)
class MemberColumn:
    """A column the catalogue takes from the cleaned catalogue or the sky masks.

    ``unit``: the unit the catalogue writes (a source column in another, convertible
    unit is converted; one without unit is taken to be in it); ``ucd``: its IVOA UCD.
    """

    name: str
    unit: str | None
    ucd: str
    description: str


def _gaia(name: str, ucd: str, description: str) -> MemberColumn:
    """A Gaia DR3 column, with the unit of :data:`~clustermix.data.columns.GAIA_COLUMNS`."""
    return MemberColumn(name, COLUMNS_BY_NAME[name].unit, ucd, description)


#: The cleaned catalogue's columns in the members catalogue (ids, position, astrometry,
#: photometry), in order. The description of ``parallax`` is set by :func:`members_table`.
CATALOG_COLUMNS: tuple[MemberColumn, ...] = (
    _gaia("source_id", "meta.id;meta.main", "Gaia DR3 source identifier"),
    _gaia("ra", "pos.eq.ra;meta.main", "right ascension (ICRS, epoch J2016.0)"),
    _gaia("dec", "pos.eq.dec;meta.main", "declination (ICRS, epoch J2016.0)"),
    _gaia("parallax", "pos.parallax.trig", "parallax"),
    _gaia("parallax_error", "stat.error;pos.parallax.trig", "standard uncertainty of parallax"),
    _gaia(
        "pmra",
        "pos.pm;pos.eq.ra",
        "proper motion in right ascension, mu_alpha* = mu_alpha cos(dec)",
    ),
    _gaia("pmra_error", "stat.error;pos.pm;pos.eq.ra", "standard uncertainty of pmra"),
    _gaia("pmdec", "pos.pm;pos.eq.dec", "proper motion in declination"),
    _gaia("pmdec_error", "stat.error;pos.pm;pos.eq.dec", "standard uncertainty of pmdec"),
    _gaia(
        "ruwe",
        "stat.fit.goodness",
        "renormalised unit weight error of the astrometric solution",
    ),
    _gaia("phot_g_mean_mag", "phot.mag;em.opt", "Gaia G-band mean magnitude (Vega)"),
    _gaia(
        "bp_rp",
        "phot.color;em.opt.B;em.opt.R",
        "BP - RP colour (Vega); NaN without BP and RP photometry",
    ),
)
#: The sky masks' columns (region flags), in order; the flags' descriptions name the
#: radii (from the masks file's ``R_CLUST``, ``R_CTRL``) when it records them.
MASK_COLUMNS: tuple[MemberColumn, ...] = (
    MemberColumn(
        "separation_arcmin", "arcmin", "pos.angDistance", "angular distance from the cluster centre"
    ),
    MemberColumn("in_cluster_region", None, "meta.code", "in the cluster region"),
    MemberColumn("in_control_field", None, "meta.code", "in the control field (nearly pure field)"),
)
#: The masks file's header keys copied into the catalogue's metadata:
#: key -> (PARAM name, unit, UCD, description).
_MASK_META: dict[str, tuple[str, str, str, str]] = {
    "RA_DEG": ("ra_centre", "deg", "pos.eq.ra", "right ascension of the configured centre"),
    "DEC_DEG": ("dec_centre", "deg", "pos.eq.dec", "declination of the configured centre"),
    "R_CLUST": (
        "cluster_radius",
        "arcmin",
        "phys.angSize",
        "the cluster region: separation_arcmin below this",
    ),
    "R_CTRL": (
        "control_min_radius",
        "arcmin",
        "phys.angSize",
        "the control field: separation_arcmin above this",
    ),
}


@dataclass(frozen=True)
class AdoptedFit:
    """The model whose memberships a cluster's catalogue puts first, and whether that fit
    passes the convergence checks."""

    model: str
    converged: bool


# --- the adopted model -------------------------------------------------------------------


def read_diagnostics(path: PathLike, model: str) -> dict[str, Any]:
    """One fit's ``diagnostics/{model}.json``, checked for what the convergence gate reads.

    Raises :class:`InputDataError`, naming the file, when it is missing, not JSON, of
    another model, or lacks ``divergences`` or ``cluster.per_variable``.
    """
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    try:
        diagnostics = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputDataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(diagnostics, dict):
        raise InputDataError(f"{path}: expected a JSON object")
    if diagnostics.get("model", model) != model:
        raise InputDataError(f"{path}: holds model '{diagnostics['model']}', expected '{model}'")
    if "divergences" not in diagnostics:
        raise InputDataError(f"{path}: key 'divergences' is missing")
    if not isinstance(diagnostics.get("cluster"), dict) or not isinstance(
        diagnostics["cluster"].get("per_variable"), dict
    ):
        raise InputDataError(f"{path}: key 'cluster.per_variable' is missing")
    return diagnostics


def adopted_fit(
    diagnostics_by_model: Mapping[str, Mapping[str, Any]], thresholds: Mapping[str, float]
) -> AdoptedFit:
    """The adopted model of one cluster, as ``results/clusters_summary.csv`` flags it: the
    first of :data:`~clustermix.paper.clusters_table.ADOPTION_ORDER` among the fits whose
    diagnostics pass ``thresholds`` (the config's ``checks``), else the first of them at all."""
    rows = [
        {"model": model, "converged": not fit_failures(model, diagnostics, thresholds)}
        for model, diagnostics in diagnostics_by_model.items()
    ]
    model = adopted_model(rows)
    converged = next(row["converged"] for row in rows if row["model"] == model)
    return AdoptedFit(model=model, converged=bool(converged))


def probability_order(models: Sequence[str], adopted: str) -> list[str]:
    """``models`` in the order of their probability columns: ``adopted`` first, then
    :data:`~clustermix.paper.clusters_table.ADOPTION_ORDER`, then any other in the given order."""
    if adopted not in models:
        raise ValueError(f"the adopted model '{adopted}' is not one of {list(models)}")

    def rank(model: str) -> int:
        if model == adopted:
            return -1
        return ADOPTION_ORDER.index(model) if model in ADOPTION_ORDER else len(ADOPTION_ORDER)

    return sorted(models, key=rank)  # stable: ties keep the given order


# --- the join ----------------------------------------------------------------------------


def _ids(table: Table, where: str) -> np.ndarray:
    """``table``'s ``source_id`` as int64, checked for presence and duplicates."""
    if "source_id" not in table.colnames:
        raise InputDataError(f"{where}: column 'source_id' is missing")
    ids = np.asarray(table["source_id"], dtype=np.int64)
    unique, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise InputDataError(
            f"{where}: column 'source_id' repeats {int((counts > 1).sum())} value(s), "
            f"e.g. {int(unique[counts > 1][0])}"
        )
    return ids


def _rows_of(ids: np.ndarray, reference_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``ids``, its row in ``reference_ids`` and whether it was found there."""
    if len(reference_ids) == 0:
        return np.zeros(len(ids), dtype=np.intp), np.zeros(len(ids), dtype=bool)
    order = np.argsort(reference_ids, kind="stable")
    position = np.searchsorted(reference_ids, ids, sorter=order).clip(0, len(reference_ids) - 1)
    rows = order[position]
    return rows, reference_ids[rows] == ids


def _filled(column: Column, what: str) -> np.ndarray:
    """A column's values as a native-endian array (FITS tables read big-endian), with
    empty (masked) floats as NaN; ``what`` names the column in the error for empty
    values of another type."""
    mask = np.ma.getmaskarray(column)
    if mask.any() and np.asarray(column).dtype.kind != "f":
        raise InputDataError(f"{what} has {int(mask.sum())} empty value(s)")
    values = np.asarray(np.ma.filled(column, np.nan) if mask.any() else column)
    return values.astype(values.dtype.newbyteorder("="), copy=False)


def _column_values(table: Table, spec: MemberColumn, where: str, rows: np.ndarray) -> np.ndarray:
    """The values of ``spec``'s column of ``table`` at ``rows``, in ``spec.unit``."""
    if spec.name not in table.colnames:
        raise InputDataError(f"{where}: column '{spec.name}' is missing")
    column = table[spec.name]
    values = _filled(column, f"{where}: column '{spec.name}'")
    if spec.unit is None or column.unit is None or column.unit == u.Unit(spec.unit):
        return values[rows]
    try:
        scale = column.unit.to(spec.unit)
    except u.UnitConversionError:
        raise InputDataError(
            f"{where}: column '{spec.name}' is in '{column.unit}', expected '{spec.unit}'"
        ) from None
    return (values * scale).astype(values.dtype)[rows]


def _membership_columns(
    membership: Table, model: str, where: str, catalog_ids: np.ndarray, catalog_where: str
) -> tuple[np.ndarray, np.ndarray]:
    """One model's ``p_cluster`` and ``p_cluster_sd`` on the catalogue's rows (NaN where the
    model was not fitted to the star)."""
    missing = [name for name in MEMBERSHIP_COLUMNS if name not in membership.colnames]
    if missing:
        raise InputDataError(f"{where}: column(s) {missing} missing (membership of '{model}')")
    ids = _ids(membership, where)
    rows, found = _rows_of(ids, catalog_ids)
    if not found.all():
        raise InputDataError(
            f"{where}: column 'source_id' has {int((~found).sum())} star(s) that "
            f"{catalog_where} does not, e.g. {int(ids[~found][0])}: the fit of '{model}' "
            "used another catalogue; rerun it"
        )
    p = np.asarray(membership["p_cluster"], dtype=float)
    sd = np.asarray(membership["p_cluster_sd"], dtype=float)
    bad_p = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad_p.any():
        raise InputDataError(
            f"{where}: column 'p_cluster' has {int(bad_p.sum())} value(s) outside [0, 1] or NaN"
        )
    bad_sd = ~np.isfinite(sd) | (sd < 0)
    if bad_sd.any():
        raise InputDataError(
            f"{where}: column 'p_cluster_sd' has {int(bad_sd.sum())} negative or NaN value(s)"
        )
    p_on_catalog = np.full(len(catalog_ids), np.nan)
    sd_on_catalog = np.full(len(catalog_ids), np.nan)
    p_on_catalog[rows] = p
    sd_on_catalog[rows] = sd
    return p_on_catalog, sd_on_catalog


def _parallax_description(catalog: Table) -> str:
    if "parallax_zero_point" in catalog.colnames:
        return (
            "parallax as the models used it: the published value minus the Gaia DR3 "
            "zero point of Lindegren et al. (2021)"
        )
    return "parallax as the models used it: as published in Gaia DR3 (no zero-point correction)"


def members_table(
    catalog: Table,
    masks: Table,
    memberships: Mapping[str, Table],
    *,
    cluster: str,
    adopted: AdoptedFit,
    label: str | None = None,
    sources: Mapping[str, PathLike] | None = None,
) -> Table:
    """The membership catalogue of one cluster (see the module docstring for its columns).

    Parameters
    ----------
    catalog
        The cleaned catalogue: ``source_id``, ``ra``, ``dec`` (deg), ``parallax``,
        ``parallax_error`` (mas), ``pmra``, ``pmra_error``, ``pmdec``, ``pmdec_error``
        (mas / yr), ``ruwe``, ``phot_g_mean_mag``, ``bp_rp`` (mag). A column without unit
        is taken to be in these units; one in another unit is converted.
    masks
        The sky masks: ``source_id``, ``separation_arcmin`` (arcmin),
        ``in_cluster_region``, ``in_control_field``; any row order, every catalogue star.
    memberships
        Model name -> its membership table (``source_id``, ``p_cluster``,
        ``p_cluster_sd``), one row per star the model was fitted to.
    cluster, label
        The cluster's name (slug) and its label (the name when None).
    adopted
        The adopted model (one of ``memberships``) and whether it passes the checks.
    sources
        The files the tables came from, for error messages: keys ``catalog``, ``masks``
        and each model.

    Raises
    ------
    InputDataError
        A table lacks a column; a ``source_id`` repeats; the masks miss a catalogue star;
        a membership holds a star the catalogue does not; a probability is outside
        [0, 1] or NaN; a column's unit cannot be converted. The message names the file
        and the column.
    """
    sources = dict(sources or {})
    catalog_where = str(sources.get("catalog", "the cleaned catalogue"))
    masks_where = str(sources.get("masks", "the sky masks"))
    catalog_ids = _ids(catalog, catalog_where)
    all_rows = np.arange(len(catalog_ids))
    table = Table()
    for spec in CATALOG_COLUMNS:
        values = _column_values(catalog, spec, catalog_where, all_rows)
        description = _parallax_description(catalog) if spec.name == "parallax" else None
        _add(table, spec, values, description)

    mask_rows, found = _rows_of(catalog_ids, _ids(masks, masks_where))
    if not found.all():
        raise InputDataError(
            f"{masks_where}: column 'source_id' lacks {int((~found).sum())} star(s) of "
            f"{catalog_where}, e.g. {int(catalog_ids[~found][0])}; rerun the sky_masks rule"
        )
    radii = {key: masks.meta[key] for key in ("R_CLUST", "R_CTRL") if key in masks.meta}
    for spec in MASK_COLUMNS:
        values = _column_values(masks, spec, masks_where, mask_rows)
        if spec.unit is None:
            values = values.astype(bool)
        _add(table, spec, values, _mask_description(spec, radii))

    if adopted.model not in memberships:
        raise ValueError(f"the adopted model '{adopted.model}' has no membership table")
    models = probability_order(list(memberships), adopted.model)
    for model in models:
        where = str(sources.get(model, f"the membership of model '{model}'"))
        p, sd = _membership_columns(memberships[model], model, where, catalog_ids, catalog_where)
        is_adopted = model == adopted.model
        table[f"p_{model}"] = Column(
            p,
            description=(
                f"membership probability from model {model}"
                f"{' (the adopted model)' if is_adopted else ''}: posterior mean; "
                "NaN where the model was not fitted to the star"
            ),
            meta={"ucd": ADOPTED_PROBABILITY_UCD if is_adopted else PROBABILITY_UCD},
        )
        table[f"p_{model}_sd"] = Column(
            sd,
            description=f"standard deviation of p_{model} over the posterior draws",
            meta={"ucd": PROBABILITY_SD_UCD},
        )
        log.info(
            "%s: %d of %d stars, %.1f expected members",
            model,
            int(np.isfinite(p).sum()),
            len(p),
            float(np.nansum(p)),
        )
    table.meta.update(_table_meta(cluster, label, adopted, models, masks.meta))
    return table


def _add(
    table: Table, spec: MemberColumn, values: np.ndarray, description: str | None = None
) -> None:
    table[spec.name] = Column(
        values,
        unit=spec.unit,
        description=description or spec.description,
        meta={"ucd": spec.ucd},
    )


def _mask_description(spec: MemberColumn, radii: Mapping[str, Any]) -> str:
    if spec.name == "in_cluster_region" and "R_CLUST" in radii:
        return f"in the cluster region: separation_arcmin < {radii['R_CLUST']:g} arcmin"
    if spec.name == "in_control_field" and "R_CTRL" in radii:
        return (
            f"in the control field: separation_arcmin > {radii['R_CTRL']:g} arcmin "
            "(nearly pure field)"
        )
    return spec.description


def _table_meta(
    cluster: str,
    label: str | None,
    adopted: AdoptedFit,
    models: Sequence[str],
    masks_meta: Mapping[str, Any],
) -> dict[str, Any]:
    """The catalogue's metadata; keys of at most 8 characters, so FITS keeps them as they
    are, plus ``description`` (the VOTable's and ECSV's table description)."""
    name = label or cluster
    why = (
        "the most informative fit that passes the convergence checks"
        if adopted.converged
        else "the most informative fit; no fit passes the convergence checks"
    )
    meta: dict[str, Any] = {
        "CLUSTER": cluster,
        "LABEL": name,
        "ADOPTED": adopted.model,
        "ADOPT_OK": adopted.converged,
        "MODELS": ",".join(models),
    }
    meta.update({key: masks_meta[key] for key in _MASK_META if key in masks_meta})
    meta["description"] = (
        f"Membership catalogue of {name} ({cluster}) from Gaia DR3: every star of the "
        "cleaned catalogue with its astrometry, photometry and sky-region flags, and per "
        "model p_<model>, the posterior mean membership probability, and p_<model>_sd, its "
        f"standard deviation over the posterior draws. The adopted model is {adopted.model} "
        f"({why}); its p comes first."
    )
    return meta


# --- the three files ---------------------------------------------------------------------


def members_votable(table: Table) -> VOTableFile:
    """``table`` as a VOTable: each FIELD with its unit, UCD and description, the table's
    description, and its metadata as PARAMs (``cluster``, ``label``, ``adopted_model``,
    ``adopted_converged``, ``models``, and the centre and radii when known)."""
    votable = from_table(table)
    resource_table = votable.get_first_table()
    meta = table.meta
    resource_table.name = f"{meta['CLUSTER']}_members"
    text_params = (
        ("cluster", "CLUSTER", "meta.id", "the cluster's name in the workflow"),
        ("label", "LABEL", "meta.id", "the cluster's label"),
        ("adopted_model", "ADOPTED", "meta.code", "the model whose p comes first"),
        ("models", "MODELS", "meta.code", "the models, in the order of their p columns"),
    )
    for name, key, ucd, description in text_params:
        param = Param(
            votable, name=name, datatype="char", arraysize="*", value=str(meta[key]), ucd=ucd
        )
        param.description = description
        resource_table.params.append(param)
    param = Param(
        votable,
        name="adopted_converged",
        datatype="boolean",
        value=bool(meta["ADOPT_OK"]),
        ucd="meta.code.status",
    )
    param.description = "whether the adopted fit passes the convergence checks"
    resource_table.params.append(param)
    for key, (name, unit, ucd, description) in _MASK_META.items():
        if key in meta:
            param = Param(
                votable, name=name, datatype="double", value=float(meta[key]), unit=unit, ucd=ucd
            )
            param.description = description
            resource_table.params.append(param)
    return votable


def write_members_fits(table: Table, path: PathLike) -> None:
    """Write ``table`` atomically as a FITS binary table (extension ``MEMBERS``): units in
    ``TUNITn``; each column's UCD and description in the ``TUCDn`` and ``TCOMMn`` keywords
    (which TOPCAT reads) and in astropy's serialized column metadata (which
    ``Table.read`` restores); the table's metadata as header keywords, its description
    as COMMENT cards."""
    meta = dict(table.meta)
    description = meta.pop("description", "")
    fits_table = Table(table, copy=False)
    fits_table.meta = {**meta, "comments": [description]} if description else meta
    with atomic_path(path) as tmp:
        fits_table.write(tmp, format="fits", overwrite=True)
        with fits.open(tmp, mode="update") as hdus:
            header = hdus[1].header
            header["EXTNAME"] = "MEMBERS"
            for index, name in enumerate(table.colnames, start=1):
                column = table[name]
                anchor = f"TUNIT{index}" if f"TUNIT{index}" in header else f"TFORM{index}"
                header.set(f"TUCD{index}", column.meta["ucd"], f"UCD of {name}", after=anchor)
                header.set(f"TCOMM{index}", column.description, after=f"TUCD{index}")


def write_members_catalogs(
    table: Table, *, fits_path: PathLike, votable_path: PathLike, ecsv_path: PathLike
) -> None:
    """Write ``table`` as FITS (:func:`write_members_fits`), VOTable
    (:func:`members_votable`, TABLEDATA) and ECSV, each atomically."""
    write_members_fits(table, fits_path)
    votable = members_votable(table)
    with atomic_path(votable_path) as tmp:
        votable.to_xml(str(tmp))
    write_table_atomic(table, ecsv_path, format="ascii.ecsv")


def _read_table(path: PathLike) -> Table:
    path = Path(path)
    if not path.is_file():
        raise InputDataError(f"{path}: file not found")
    try:
        return Table.read(path)
    except (OSError, ValueError) as err:
        raise InputDataError(f"{path}: not a readable table ({err})") from None


def run_members_catalog(
    catalog_path: PathLike,
    masks_path: PathLike,
    *,
    membership_paths: Mapping[str, PathLike],
    diagnostics_paths: Mapping[str, PathLike],
    thresholds: Mapping[str, float],
    cluster: str,
    label: str | None,
    fits_path: PathLike,
    votable_path: PathLike,
    ecsv_path: PathLike,
) -> Table:
    """What rule members_catalog runs: read the cleaned catalogue, the masks, every model's
    membership and diagnostics (model name -> file), choose the adopted model with
    ``thresholds`` (the config's ``checks``) and write the three catalogues. Returns the
    table written."""
    if set(membership_paths) != set(diagnostics_paths):
        raise ValueError("memberships and diagnostics must be given for the same models")
    diagnostics = {
        model: read_diagnostics(path, model) for model, path in diagnostics_paths.items()
    }
    adopted = adopted_fit(diagnostics, thresholds)
    table = members_table(
        _read_table(catalog_path),
        _read_table(masks_path),
        {model: _read_table(path) for model, path in membership_paths.items()},
        cluster=cluster,
        label=label,
        adopted=adopted,
        sources={"catalog": catalog_path, "masks": masks_path, **membership_paths},
    )
    write_members_catalogs(
        table, fits_path=fits_path, votable_path=votable_path, ecsv_path=ecsv_path
    )
    log.info(
        "%s: %d stars, adopted %s (converged: %s), written to %s, %s and %s",
        cluster,
        len(table),
        adopted.model,
        adopted.converged,
        fits_path,
        votable_path,
        ecsv_path,
    )
    return table

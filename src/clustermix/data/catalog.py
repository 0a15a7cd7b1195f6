"""Read an input catalogue and check it against the Gaia DR3 column specification.

:func:`read_catalog` turns any of the supported files into one normal form (lower-case
Gaia archive names, also from VizieR's names for Gaia DR3, spec dtypes, NaN for missing
floats, spec units); :func:`validate_catalog` then lists every problem a model would trip
over, in one message that names the file, the column and the number of rows: every
missing column the run needs (:func:`~clustermix.data.columns.required_columns`) at once,
and the values of every column present. Both raise
:class:`~clustermix.errors.InputDataError`.
"""

from __future__ import annotations

import logging
import re
import warnings
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Column, MaskedColumn, Table
from astropy.utils.exceptions import AstropyWarning

from clustermix.data.columns import (
    CATALOG_MODELS,
    COLUMNS_BY_NAME,
    G_CUT,
    GAIA_COLUMNS,
    KEY,
    MASKS,
    VIZIER_NAMES,
    VIZIER_NOT_MAPPED,
    ZERO_POINT,
    GaiaColumn,
    needed_by,
    required_columns,
)
from clustermix.errors import InputDataError

log = logging.getLogger(__name__)

#: File-name endings and the astropy reader used for each (checked in this order).
FORMATS_BY_SUFFIX: tuple[tuple[str, str], ...] = (
    (".fits.gz", "fits"),
    (".fit.gz", "fits"),
    (".fits", "fits"),
    (".fit", "fits"),
    (".ecsv", "ascii.ecsv"),
    (".csv", "ascii.csv"),
    (".vot", "votable"),
    (".xml", "votable"),
)

#: Columns the Gaia archive leaves empty (NULL) for 2-parameter solutions
#: (``astrometric_params_solved == 3``): such rows are exempt from the finite and
#: positive checks on them; the quality cuts remove them (their RUWE is NULL).
FIVE_PARAMETER_ONLY: frozenset[str] = frozenset(
    {
        "parallax",
        "parallax_error",
        "pmra",
        "pmra_error",
        "pmdec",
        "pmdec_error",
        "ra_parallax_corr",
        "ra_pmra_corr",
        "ra_pmdec_corr",
        "dec_parallax_corr",
        "dec_pmra_corr",
        "dec_pmdec_corr",
        "parallax_pmra_corr",
        "parallax_pmdec_corr",
        "pmra_pmdec_corr",
        "ruwe",
        "nu_eff_used_in_astrometry",
        "pseudocolour",
    }
)

TWO_PARAMETER_SOLUTION = 3
FIVE_PARAMETER_SOLUTION = 31
SIX_PARAMETER_SOLUTION = 95

#: VizieR labels that only VizieR's copy of Gaia DR3 uses for its astrometry: a file with
#: one of them is read with :data:`~clustermix.data.columns.VIZIER_NAMES`. (Labels such as
#: ``Source``, ``RV`` or ``Gmag`` alone may be a user's own columns: they are not enough.)
VIZIER_SIGNATURE: frozenset[str] = frozenset(
    {"ra_icrs", "de_icrs", "radeg", "dedeg", "plx", "e_plx", "pmde", "e_pmra", "e_pmde"}
)

#: How a missing required column's uses are named in the message.
_USE_WORDS = {
    KEY: "the key of every star",
    MASKS: "the sky masks",
    G_CUT: "the magnitude limit cuts.g_max_mag",
    ZERO_POINT: "the parallax zero point (cuts.zero_point)",
}

_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, zlib.error)
_NUMERIC_KINDS = "iuf"
#: Unit strings that mean "no unit" (VizieR's and the CDS format's ``---``).
_NO_UNIT = frozenset({"---", "--", "-"})
_INTEGER_KINDS = "iu"


# --------------------------------------------------------------------------- reading


def read_catalog(path: str | Path) -> Table:
    """Read a catalogue file into a table in clustermix's normal form.

    The format follows the suffix: ``.fits``/``.fits.gz`` (FITS), ``.ecsv``, ``.vot``/``.xml``
    (VOTable) or ``.csv``. Column names are lower-cased; VizieR's names for Gaia DR3
    (I/355/gaiadr3: ``Plx``, ``pmRA``, ``RUWE``, ``BP-RP`` ...) become the Gaia archive's
    (:func:`gaia_names`; :func:`column_naming` tells which naming the file had); masked
    floats become NaN; numeric Gaia columns are cast to their archive dtype; a
    Gaia column without a unit gets the expected one and one in a convertible unit (e.g.
    ``arcsec`` for an uncertainty in mas) is converted. Other columns are kept as read.

    Raises
    ------
    InputDataError
        The file is missing, its suffix is unknown, it cannot be read (corrupt or
        truncated), two columns differ only in case, the file gives one quantity under
        both VizieR's and the archive's name, or a Gaia column has a unit that cannot be
        converted to the expected one.
    """
    path = Path(path)
    fmt = catalog_format(path)
    if not path.is_file():
        raise InputDataError(f"{path}: catalogue file not found")
    raw = _read_table(path, fmt)
    return _normalise_table(raw, path)


def column_naming(table: Table) -> str:
    """``"vizier"`` if :func:`read_catalog` renamed VizieR's columns of ``table``, else
    ``"gaia"``."""
    return "vizier" if table.meta.get("vizier_renamed") else "gaia"


def catalog_format(path: str | Path) -> str:
    """The astropy format name for ``path``, from its suffix (case-insensitive)."""
    name = Path(path).name.lower()
    for ending, fmt in FORMATS_BY_SUFFIX:
        if name.endswith(ending):
            return fmt
    known = ", ".join(ending for ending, _ in FORMATS_BY_SUFFIX)
    raise InputDataError(f"{path}: unknown catalogue format; the file name must end in {known}")


def _read_table(path: Path, fmt: str) -> Table:
    """Read ``path`` with astropy, turning any reader failure into an InputDataError."""
    try:
        with warnings.catch_warnings():
            # Unit and VOTable-standard warnings are noise here: units are checked below.
            warnings.simplefilter("ignore", AstropyWarning)
            table = Table.read(path, format=fmt)
    except _READ_ERRORS as err:
        raise InputDataError(
            f"{path}: cannot read the file as {fmt} (corrupt, truncated or not a "
            f"{fmt} file): {type(err).__name__}: {err}"
        ) from err
    return table


def _normalise_table(table: Table, path: Path) -> Table:
    """Lower-case names, VizieR's names to the archive's, and put every column in normal
    form (dtype, NaN, unit)."""
    lowered = [name.lower() for name in table.colnames]
    clashes = sorted({name for name in lowered if lowered.count(name) > 1})
    if clashes:
        raise InputDataError(
            f"{path}: columns differ only in upper/lower case: {', '.join(clashes)}; "
            "keep one of each"
        )
    lowered, renamed = gaia_names(table.colnames, path)
    columns = []
    for name, lower in zip(table.colnames, lowered, strict=True):
        column = _plain_column(table[name], lower)
        spec = COLUMNS_BY_NAME.get(lower)
        if spec is not None and column.dtype.kind in _NUMERIC_KINDS:
            column = _to_spec_unit(column, spec, path)
            # An all-empty CSV column reads as masked integers: NaN once cast to float.
            column = _plain_column(_to_spec_dtype(column, spec), lower)
        columns.append(column)
    normal = Table(columns, meta=table.meta)
    if renamed:
        normal.meta["vizier_renamed"] = dict(renamed)
    return normal


def gaia_names(names: Sequence[str], source: str | Path) -> tuple[list[str], dict[str, str]]:
    """The archive's (lower-case) names for a file's column ``names``, and the VizieR columns
    renamed (``{VizieR label: archive name}``).

    VizieR's names for Gaia DR3 (:data:`~clustermix.data.columns.VIZIER_NAMES`, matched
    case-insensitively) are used when the file has one of VizieR's own astrometric labels
    (:data:`VIZIER_SIGNATURE`: ``Plx``, ``RA_ICRS`` ...); then one log line lists the
    renamed columns. Other names are lower-cased.

    Raises
    ------
    InputDataError
        Two columns are the same quantity in the two namings (e.g. ``Plx`` and
        ``parallax``); the message names both.
    """
    lowered = [name.lower() for name in names]
    if not VIZIER_SIGNATURE.intersection(lowered):
        return lowered, {}
    vizier = {label.lower(): gaia for label, gaia in VIZIER_NAMES.items()}
    given: dict[str, list[str]] = {}
    for name, lower in zip(names, lowered, strict=True):
        target = vizier.get(lower, lower)
        if target in COLUMNS_BY_NAME:
            given.setdefault(target, []).append(name)
    mixed = {target: found for target, found in given.items() if len(found) > 1}
    if mixed:
        pairs = "; ".join(
            f"{' and '.join(repr(name) for name in found)} are both '{target}'"
            for target, found in mixed.items()
        )
        raise InputDataError(
            f"{source}: the file gives the same quantity under two names (VizieR's and the "
            f"Gaia archive's): {pairs}; keep one column of each (drop or rename the other)"
        )
    renamed = {
        name: vizier[lower]
        for name, lower in zip(names, lowered, strict=True)
        if lower in vizier and vizier[lower] != lower
    }
    if renamed:
        log.info(
            "%s: VizieR's names for Gaia DR3 (I/355/gaiadr3) recognised; %d columns read as "
            "the archive's: %s",
            source,
            len(renamed),
            ", ".join(f"{name} -> {target}" for name, target in renamed.items()),
        )
    return [renamed.get(name, lower) for name, lower in zip(names, lowered, strict=True)], renamed


def _plain_column(column: Column, name: str) -> Column:
    """A copy of ``column`` named ``name``: masked floats as NaN, native byte order.

    A masked non-float column keeps its mask (integers have no NaN); one with nothing
    masked becomes a plain :class:`Column`.
    """
    data = _data(column).copy()
    mask = np.ma.getmaskarray(column)
    if data.dtype.kind in _NUMERIC_KINDS:
        data = data.astype(data.dtype.newbyteorder("="))
    if mask.any() and data.dtype.kind == "f":
        data = np.where(mask, np.nan, data)
    elif mask.any():
        return MaskedColumn(data, mask=mask, name=name, unit=column.unit)
    return Column(data, name=name, unit=column.unit, description=column.description)


def _to_spec_unit(column: Column, spec: GaiaColumn, path: Path) -> Column:
    """Give ``column`` the unit of ``spec``: assign it if missing, convert if different.

    ``---`` (how VizieR and the CDS format write "no unit") counts as missing."""
    expected = expected_unit(spec)
    unit = column.unit
    if unit is None or unit == expected or str(unit).strip() in _NO_UNIT:
        column.unit = spec.unit
        return column
    if not _convertible(unit, expected):
        raise InputDataError(
            f"{path}: column '{spec.name}' has unit '{unit}', which cannot be converted "
            f"to the expected '{expected}'"
        )
    values = (_data(column).astype(float) * unit).to_value(expected)
    converted = column.copy()
    converted.unit = None
    converted[:] = values.astype(column.dtype)
    converted.unit = spec.unit
    return converted


def _convertible(unit: u.UnitBase, expected: u.UnitBase) -> bool:
    """Whether ``unit`` converts to ``expected`` (an unrecognised unit never does)."""
    if isinstance(unit, u.UnrecognizedUnit):
        return False
    return unit.is_equivalent(expected)


def expected_unit(spec: GaiaColumn) -> u.UnitBase:
    """The spec's unit as an astropy unit (dimensionless for unit-less columns)."""
    return u.dimensionless_unscaled if spec.unit is None else u.Unit(spec.unit)


def _to_spec_dtype(column: Column, spec: GaiaColumn) -> Column:
    """Cast a numeric column to the spec dtype when no value changes meaning.

    Floats always cast to the spec's float dtype (CSV readers give float64). A column
    is cast to an integer spec only when every value is a whole number within the
    dtype's range (else it is left for :func:`validate_catalog` to report); a masked
    integer column keeps its mask.
    """
    target = np.dtype(spec.dtype)
    if target.kind == "f":
        return _cast(column, target)
    data = _data(column)
    if data.dtype.kind == "f" and not (
        np.all(np.isfinite(data)) and np.all(data == np.round(data))
    ):
        return column
    limits = np.iinfo(target)
    shown = data[~np.ma.getmaskarray(column)]
    if shown.size and (shown.min() < limits.min or shown.max() > limits.max):
        return column
    return _cast(column, target)


def _cast(column: Column, target: np.dtype) -> Column:
    """``column`` with its data cast to ``target``, keeping name, unit and any mask."""
    cast = column.astype(target)
    cast.unit = column.unit
    return cast


# --------------------------------------------------------------------------- validation


def validate_catalog(
    table: Table,
    source: str | Path,
    *,
    models: Iterable[str] = CATALOG_MODELS,
    zero_point: bool = True,
) -> None:
    """Check ``table`` against :data:`GAIA_COLUMNS`; raise one message listing every problem.

    Checked: no rows; every column the run needs that is missing
    (:func:`~clustermix.data.columns.required_columns` of ``models`` and ``zero_point``),
    each with what needs it and, for a true near-miss, the file's column it may be (e.g.
    ``pm_ra`` for ``pmra``); in the columns present: non-numeric columns, a non-integer
    ``source_id``, fractional values in integer columns; units not the expected ones; NaN,
    masked or infinite values in ``finite`` columns; zero or negative values in
    ``positive`` columns (NaN ignored there); correlations outside [-1, 1]; duplicate
    ``source_id``. Rows of 2-parameter solutions (given, or inferred where the file has no
    ``astrometric_params_solved``: :func:`solution_types`) are exempt from the checks on the
    columns the archive leaves empty for them (:data:`FIVE_PARAMETER_ONLY`). Optional
    columns may be missing: :func:`~clustermix.data.clean.clean_catalog` says what it does
    instead.

    Parameters
    ----------
    table
        The catalogue, as returned by :func:`read_catalog`.
    source
        The file it came from, named in the message.
    models
        The enabled cluster models (default: all of them).
    zero_point
        ``cuts.zero_point``.

    Raises
    ------
    InputDataError
        ``"<file>: the input catalogue has N problems:"`` followed by one line per problem.
    """
    models = tuple(models)
    problems = _missing_column_problems(table, models, zero_point)
    if len(table) == 0:
        problems.insert(0, "the table has no rows (0 stars)")
    else:
        two_parameter = _two_parameter_rows(table)
        for spec in GAIA_COLUMNS:
            if spec.name in table.colnames:
                problems += column_problems(table[spec.name], spec, two_parameter)
        problems += _duplicate_problems(table)
    if problems:
        raise InputDataError(_problem_message(source, problems))


def _problem_message(source: str | Path, problems: list[str]) -> str:
    """The one message of :func:`validate_catalog`: file, count, then one line each."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return f"{source}: the input catalogue has {len(problems)} {noun}:\n{lines}"


def _missing_column_problems(table: Table, models: tuple[str, ...], zero_point: bool) -> list[str]:
    """One line per missing required column: what needs it, and a near-miss name if any."""
    problems = []
    for name in required_columns(models, zero_point=zero_point):
        if name in table.colnames:
            continue
        if name == "source_id":
            why = (
                "it identifies every star (Gaia DR3's source_id, 'Source' in VizieR) and keys "
                "the masks and the membership tables"
            )
        else:
            uses = needed_by(name, models, zero_point=zero_point)
            why = "needed by " + ", ".join(_USE_WORDS.get(use, f"models.{use}") for use in uses)
        problems.append(f"required column '{name}' is missing ({why}){missing_hint(name, table)}")
    return problems


def missing_hint(name: str, table: Table) -> str:
    """``"; the file has 'X': did you mean 'name'?"`` for a true near-miss of the missing
    column ``name`` among the file's other columns (:func:`close_name`), or a note on
    VizieR's J2000 positions; else ``""``."""
    close = close_name(name, table.colnames)
    if close is not None:
        return f"; the file has '{close}': did you mean '{name}'?"
    lowered = {column.lower(): column for column in table.colnames}
    for label, target in VIZIER_NOT_MAPPED.items():
        if target == name and label.lower() in lowered:
            return (
                f"; the file has VizieR's '{lowered[label.lower()]}', a position moved to "
                "epoch J2000.0: give Gaia's epoch J2016.0 position ('RA_ICRS', 'DE_ICRS' "
                "in VizieR) instead"
            )
    return ""


def close_name(name: str, columns: Iterable[str]) -> str | None:
    """The file's column that is a true near-miss of the Gaia column ``name``, or None.

    A near-miss is a column not named as a Gaia column that, compared without case
    and without ``_``, ``-``, ``.`` or spaces, equals ``name`` or differs from it by a few
    typing slips (insertions, deletions, substitutions or swaps of neighbours): none for
    names of up to 3 letters, then one per 4 letters (``Parallax``, ``pm_ra``,
    ``parallax_err`` and ``paralax`` are offered for ``parallax``, ``pmra``,
    ``parallax_error``; ``astrometric_excess_noise`` is not offered for
    ``astrometric_params_solved``, nor ``rv`` for ``ra``). Of several, the closest, then
    the first in the file.
    """
    target = _squash(name)
    allowed = 0 if len(target) <= 3 else len(target) // 4
    best: tuple[int, str] | None = None
    for column in columns:
        if column in COLUMNS_BY_NAME:
            continue
        distance = _edit_distance(_squash(column), target)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, column)
    return None if best is None else best[1]


def _squash(name: str) -> str:
    """``name`` lower-cased without separators (``_``, ``-``, ``.``, spaces)."""
    return re.sub(r"[\s_.\-]+", "", name.lower())


def _edit_distance(left: str, right: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    two neighbouring characters, each 1."""
    previous2: list[int] = []
    previous = list(range(len(right) + 1))
    for i, a in enumerate(left, start=1):
        current = [i] + [0] * len(right)
        for j, b in enumerate(right, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == right[j - 2] and left[i - 2] == b:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def solution_types(table: Table) -> tuple[np.ndarray, bool]:
    """Each star's ``astrometric_params_solved`` as floats (NaN: unknown), and whether it was
    inferred.

    From the column where the file has one (NaN for masked or non-numeric values). Without
    it, inferred from what Gaia DR3 publishes for each type: 3 (2-parameter) where
    ``parallax``, ``pmra`` and ``pmdec`` are all empty, 31 (5-parameter) where
    ``nu_eff_used_in_astrometry`` is given, 95 (6-parameter) where ``pseudocolour`` is
    given, unknown (NaN) otherwise (e.g. a file with neither colour column).
    """
    n = len(table)
    if "astrometric_params_solved" in table.colnames:
        return _float_values(table, "astrometric_params_solved"), False
    solved = np.full(n, np.nan)
    solved[np.isfinite(_float_values(table, "pseudocolour"))] = SIX_PARAMETER_SOLUTION
    solved[np.isfinite(_float_values(table, "nu_eff_used_in_astrometry"))] = FIVE_PARAMETER_SOLUTION
    astrometry = [name for name in ("parallax", "pmra", "pmdec") if name in table.colnames]
    if astrometry:
        empty = np.logical_and.reduce(
            [~np.isfinite(_float_values(table, name)) for name in astrometry]
        )
        solved[empty] = TWO_PARAMETER_SOLUTION
    return solved, True


def _float_values(table: Table, name: str) -> np.ndarray:
    """Column ``name`` as float64, NaN where masked; all NaN if missing or not numeric."""
    if name not in table.colnames or table[name].dtype.kind not in _NUMERIC_KINDS:
        return np.full(len(table), np.nan)
    column = table[name]
    values = _data(column).astype(np.float64)
    values[np.ma.getmaskarray(column)] = np.nan
    return values


def _two_parameter_rows(table: Table) -> np.ndarray:
    """Boolean mask of the rows with a 2-parameter astrometric solution (given or inferred)."""
    return solution_types(table)[0] == TWO_PARAMETER_SOLUTION


def column_problems(
    column: Column, spec: GaiaColumn, two_parameter: np.ndarray | None = None
) -> list[str]:
    """Every problem of one column against its spec, one line each (empty list if fine).

    ``two_parameter`` marks rows exempt from the value checks on 5-parameter-only columns.
    """
    dtype_problem = _dtype_problem(column, spec)
    if dtype_problem:
        return [dtype_problem]
    problems = [_unit_problem(column, spec)]
    data = _data(column).astype(float)
    missing = np.ma.getmaskarray(column) | np.isnan(data)
    checked = np.ones(len(column), dtype=bool)
    if two_parameter is not None and spec.name in FIVE_PARAMETER_ONLY:
        checked = ~two_parameter
    if spec.finite:
        problems += _finite_problems(spec.name, data[checked], missing[checked])
    if spec.positive:
        problems.append(_positive_problem(spec.name, data[checked & ~missing]))
    if spec.correlation:
        problems.append(_correlation_problem(spec.name, data[~missing]))
    if np.dtype(spec.dtype).kind in _INTEGER_KINDS:
        problems.append(_fraction_problem(spec.name, data[~missing]))
    return [problem for problem in problems if problem]


def _dtype_problem(column: Column, spec: GaiaColumn) -> str | None:
    """A line if the column is not numeric (or ``source_id`` is not an integer)."""
    kind = column.dtype.kind
    if spec.name == "source_id" and kind not in _INTEGER_KINDS:
        return (
            f"'source_id' must hold integers (64-bit Gaia identifiers), found dtype {column.dtype}"
        )
    if kind in _NUMERIC_KINDS:
        return None
    bad = [value for value in _as_text(column) if not _is_number(value)]
    example = f"; e.g. {bad[0]!r}" if bad else ""
    return (
        f"'{spec.name}' must be numeric but has dtype {column.dtype} "
        f"({len(bad)} of {len(column)} rows not a number{example})"
    )


def _as_text(column: Column) -> Iterable[str]:
    """The column's values as strings (masked entries skipped)."""
    mask = np.ma.getmaskarray(column)
    return (str(value) for value, masked in zip(_data(column), mask, strict=True) if not masked)


def _is_number(text: str) -> bool:
    """Whether ``text`` parses as a float."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _unit_problem(column: Column, spec: GaiaColumn) -> str | None:
    """A line if the column has a unit other than the expected one (None is accepted)."""
    if column.unit is None or column.unit == expected_unit(spec):
        return None
    expected = spec.unit or "dimensionless"
    return f"'{spec.name}' has unit '{column.unit}', expected '{expected}'"


def _finite_problems(name: str, data: np.ndarray, missing: np.ndarray) -> list[str]:
    """Lines for NaN/masked and for infinite values in a column that must be finite."""
    problems = []
    n_missing = int(missing.sum())
    n_infinite = int(np.isinf(data[~missing]).sum())
    if n_missing:
        problems.append(
            f"'{name}': {_rows_are(n_missing)} NaN or empty (a model needs every value)"
        )
    if n_infinite:
        problems.append(f"'{name}': {_rows_are(n_infinite)} infinite")
    return problems


def _positive_problem(name: str, data: np.ndarray) -> str | None:
    """A line if an uncertainty-like column has zero or negative values."""
    n_negative = int((data < 0).sum())
    n_zero = int((data == 0).sum())
    if not n_negative + n_zero:
        return None
    return (
        f"'{name}': {_rows_are(n_negative + n_zero)} not positive ({n_negative} negative, "
        f"{n_zero} zero); it must be > 0"
    )


def _correlation_problem(name: str, data: np.ndarray) -> str | None:
    """A line if a correlation coefficient lies outside [-1, 1]."""
    outside = data[np.abs(data) > 1.0]
    if not outside.size:
        return None
    return f"'{name}': {_rows_are(outside.size)} outside [-1, 1] (e.g. {outside[0]:g})"


def _fraction_problem(name: str, data: np.ndarray) -> str | None:
    """A line if an integer column holds finite non-whole values."""
    finite = data[np.isfinite(data)]
    n_fractional = int((finite != np.round(finite)).sum())
    if not n_fractional:
        return None
    return f"'{name}': {_rows_are(n_fractional)} not whole numbers (an integer column)"


def _duplicate_problems(table: Table) -> list[str]:
    """A line if some ``source_id`` values appear on more than one row."""
    if "source_id" not in table.colnames or table["source_id"].dtype.kind not in _INTEGER_KINDS:
        return []
    values, counts = np.unique(_data(table["source_id"]), return_counts=True)
    repeated = counts > 1
    if not repeated.any():
        return []
    n_values = int(repeated.sum())
    return [
        f"'source_id': {n_values} duplicate value{'s' if n_values > 1 else ''} on "
        f"{_rows(int(counts[repeated].sum()))} (e.g. {values[repeated][0]})"
    ]


def _data(column: Column) -> np.ndarray:
    """The values of a (possibly masked) column as a plain ndarray, without unit or mask."""
    return np.asarray(np.ma.getdata(column))


def _rows(count: int) -> str:
    """``"1 row"`` or ``"N rows"``."""
    return f"{count} row" if count == 1 else f"{count} rows"


def _rows_are(count: int) -> str:
    """``"1 row is"`` or ``"N rows are"``."""
    return f"{_rows(count)} {'is' if count == 1 else 'are'}"

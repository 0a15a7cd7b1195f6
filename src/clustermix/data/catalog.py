"""Read an input catalogue and check it against the Gaia DR3 column specification.

:func:`read_catalog` turns any of the supported files into one normal form (lower-case
names, spec dtypes, NaN for missing floats, spec units); :func:`validate_catalog` then
lists every problem a model would trip over, in one message that names the file, the
column and the number of rows. Both raise :class:`~clustermix.errors.InputDataError`.
"""

from __future__ import annotations

import difflib
import warnings
import zlib
from collections.abc import Iterable
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Column, MaskedColumn, Table
from astropy.utils.exceptions import AstropyWarning

from clustermix.data.columns import COLUMNS_BY_NAME, GAIA_COLUMNS, GaiaColumn
from clustermix.errors import InputDataError

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

_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, zlib.error)
_NUMERIC_KINDS = "iuf"
_INTEGER_KINDS = "iu"


# --------------------------------------------------------------------------- reading


def read_catalog(path: str | Path) -> Table:
    """Read a catalogue file into a table in clustermix's normal form.

    The format follows the suffix: ``.fits``/``.fits.gz`` (FITS), ``.ecsv``, ``.vot``/``.xml``
    (VOTable) or ``.csv`` (Gaia archive column names). Column names are lower-cased;
    masked floats become NaN; numeric Gaia columns are cast to their archive dtype; a
    Gaia column without a unit gets the expected one and one in a convertible unit (e.g.
    ``arcsec`` for an uncertainty in mas) is converted. Other columns are kept as read.

    Raises
    ------
    InputDataError
        The file is missing, its suffix is unknown, it cannot be read (corrupt or
        truncated), two columns differ only in case, or a Gaia column has a unit that
        cannot be converted to the expected one.
    """
    path = Path(path)
    fmt = catalog_format(path)
    if not path.is_file():
        raise InputDataError(f"{path}: catalogue file not found")
    raw = _read_table(path, fmt)
    return _normalise_table(raw, path)


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
    """Lower-case names and put every column in normal form (dtype, NaN, unit)."""
    lowered = [name.lower() for name in table.colnames]
    clashes = sorted({name for name in lowered if lowered.count(name) > 1})
    if clashes:
        raise InputDataError(
            f"{path}: columns differ only in upper/lower case: {', '.join(clashes)}; "
            "keep one of each"
        )
    columns = []
    for name, lower in zip(table.colnames, lowered, strict=True):
        column = _plain_column(table[name], lower)
        spec = COLUMNS_BY_NAME.get(lower)
        if spec is not None and column.dtype.kind in _NUMERIC_KINDS:
            column = _to_spec_unit(column, spec, path)
            # An all-empty CSV column reads as masked integers: NaN once cast to float.
            column = _plain_column(_to_spec_dtype(column, spec), lower)
        columns.append(column)
    return Table(columns, meta=table.meta)


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
    """Give ``column`` the unit of ``spec``: assign it if missing, convert if different."""
    expected = expected_unit(spec)
    unit = column.unit
    if unit is None or unit == expected:
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


def validate_catalog(table: Table, source: str | Path) -> None:
    """Check ``table`` against :data:`GAIA_COLUMNS`; raise one message listing every problem.

    Checked: no rows; required columns missing (with the closest column name present,
    e.g. ``pm_ra`` for ``pmra``); non-numeric columns, a non-integer ``source_id``,
    fractional values in integer columns; units not the expected ones; NaN, masked or
    infinite values in ``finite`` columns; zero or negative values in ``positive``
    columns (NaN ignored there); correlations outside [-1, 1]; duplicate ``source_id``.
    Rows of 2-parameter solutions are exempt from the checks on the columns the archive
    leaves empty for them (:data:`FIVE_PARAMETER_ONLY`).

    Parameters
    ----------
    table
        The catalogue, as returned by :func:`read_catalog`.
    source
        The file it came from, named in the message.

    Raises
    ------
    InputDataError
        ``"<file>: the input catalogue has N problems:"`` followed by one line per problem.
    """
    problems = _missing_column_problems(table)
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


def _missing_column_problems(table: Table) -> list[str]:
    """One line per missing required column, suggesting a close unknown name if any."""
    unknown = [name for name in table.colnames if name not in COLUMNS_BY_NAME]
    problems = []
    for spec in GAIA_COLUMNS:
        if not spec.required or spec.name in table.colnames:
            continue
        close = difflib.get_close_matches(spec.name, unknown, n=1, cutoff=0.6)
        hint = f" (the file has '{close[0]}': did you mean '{spec.name}'?)" if close else ""
        problems.append(f"required column '{spec.name}' is missing{hint}")
    return problems


def _two_parameter_rows(table: Table) -> np.ndarray:
    """Boolean mask of the rows with a 2-parameter astrometric solution."""
    if "astrometric_params_solved" not in table.colnames:
        return np.zeros(len(table), dtype=bool)
    solved = table["astrometric_params_solved"]
    if solved.dtype.kind not in _NUMERIC_KINDS:
        return np.zeros(len(table), dtype=bool)
    return _data(solved) == TWO_PARAMETER_SOLUTION


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

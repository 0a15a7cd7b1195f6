"""ADQL for the Gaia DR3 cone search, built only from validated numbers and names.

No text from the configuration is pasted into a query: the cone is made of floats that
are checked (finite, in range) and printed with a fixed number of decimals, the table
name must match a strict ``schema.table`` identifier pattern and the column names come
from :data:`~clustermix.data.columns.GAIA_COLUMN_NAMES`.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence

from clustermix.data.columns import GAIA_COLUMN_NAMES
from clustermix.errors import ConfigError

DEFAULT_TABLE = "gaiadr3.gaia_source"
#: ``schema.table``, each an ADQL regular identifier (the config schema uses the same pattern).
TABLE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*")
COLUMN_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RADIUS_MAX_ARCMIN = 120.0
G_MAX_RANGE_MAG = (5.0, 23.0)
#: Decimals printed: 1e-9 deg (3.6 microarcsec) for angles, 1e-4 mag for magnitudes.
DEG_DECIMALS = 9
MAG_DECIMALS = 4


def check_number(
    value: object,
    name: str,
    *,
    low: float,
    high: float,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the given range.

    ``low_open``/``high_open`` exclude the bounds. Raises :class:`ConfigError` naming
    ``name`` otherwise (booleans and strings are refused, not converted).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{name}: expected a finite number, got {number!r}")
    below = number <= low if low_open else number < low
    above = number >= high if high_open else number > high
    if below or above:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ConfigError(f"{name}: {number!r} is outside {left}{low!r}, {high!r}{right}")
    return number


def check_table_name(table: object) -> str:
    """Return ``table`` if it is a plain ``schema.table`` identifier, else raise ConfigError."""
    if not isinstance(table, str) or TABLE_PATTERN.fullmatch(table) is None:
        raise ConfigError(
            f"data.archive.table: {table!r} is not a 'schema.table' name "
            "(letters, digits and underscores only)"
        )
    return table


def build_cone_adql(
    *,
    ra_deg: float,
    dec_deg: float,
    radius_arcmin: float,
    g_max_mag: float,
    table: str = DEFAULT_TABLE,
    columns: Sequence[str] = GAIA_COLUMN_NAMES,
) -> str:
    """ADQL for the stars of ``table`` in a cone, brighter than ``g_max_mag``.

    Parameters
    ----------
    ra_deg, dec_deg
        Cone centre (deg, ICRS): 0 <= ra < 360, -90 <= dec <= 90.
    radius_arcmin
        Cone radius (arcmin), 0 < radius <= 120; the query uses degrees.
    g_max_mag
        Faint limit on ``phot_g_mean_mag`` (mag), in [5, 23].
    table
        ``schema.table`` of the archive, e.g. ``gaiadr3.gaia_source``.
    columns
        Column names to select (default: every column of ``GAIA_COLUMNS``).
    """
    ra = check_number(ra_deg, "ra_deg", low=0.0, high=360.0, high_open=True)
    dec = check_number(dec_deg, "dec_deg", low=-90.0, high=90.0)
    radius = check_number(
        radius_arcmin, "radius_arcmin", low=0.0, high=RADIUS_MAX_ARCMIN, low_open=True
    )
    g_max = check_number(
        g_max_mag, "data.archive.g_max_mag", low=G_MAX_RANGE_MAG[0], high=G_MAX_RANGE_MAG[1]
    )
    table = check_table_name(table)
    names = _checked_columns(columns)
    ra_text = _fixed(round(ra, DEG_DECIMALS) % 360.0, DEG_DECIMALS)
    circle = (
        f"CIRCLE('ICRS', {ra_text}, {_fixed(dec, DEG_DECIMALS)}, "
        f"{_fixed(radius / 60.0, DEG_DECIMALS)})"
    )
    return (
        f"SELECT {', '.join(names)} FROM {table} "
        f"WHERE 1=CONTAINS(POINT('ICRS', ra, dec), {circle}) "
        f"AND phot_g_mean_mag < {_fixed(g_max, MAG_DECIMALS)}"
    )


def _checked_columns(columns: Sequence[str]) -> list[str]:
    """The column names, each checked against the identifier pattern, without repeats."""
    names = list(columns)
    if not names:
        raise ConfigError("columns: at least one column must be selected")
    for name in names:
        if not isinstance(name, str) or COLUMN_PATTERN.fullmatch(name) is None:
            raise ConfigError(f"columns: {name!r} is not a plain column name")
    if len(set(names)) != len(names):
        raise ConfigError("columns: a column is selected twice")
    return names


def _fixed(value: float, decimals: int) -> str:
    """``value`` with exactly ``decimals`` decimals, never in exponent form, never ``-0``."""
    text = f"{value:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0.0 else text

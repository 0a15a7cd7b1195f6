"""Every quantity the library reports or draws: its unit, its symbol and its labels, once.

A quantity's name is the one used everywhere (summary JSON, macros, figures, the
cross-cluster table): ``pmra``, ``parallax``, ``sigma_v`` ... Its unit is a plain string
("mas/yr", "mas", "pc", "km/s", "deg", "arcmin", "kpc", "" for a number); its symbol is
LaTeX math (``$\\varpi$``), which both matplotlib's mathtext and LaTeX render.
:func:`axis_label` is a figure axis's "symbol (unit)"; the units' renderings are
:data:`UNIT_TEX` (LaTeX text, the paper's tables) and :data:`UNIT_MATHTEXT` (matplotlib).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    """One quantity: ``name``, ``unit`` (a key of :data:`UNIT_TEX`) and ``symbol`` (LaTeX
    math, with its dollar signs)."""

    name: str
    unit: str
    symbol: str


def _table(*rows: tuple[str, str, str]) -> dict[str, Quantity]:
    return {name: Quantity(name, unit, symbol) for name, unit, symbol in rows}


#: The cluster quantities a fit's summary may hold, in the order of every table and figure.
SUMMARY_QUANTITIES: dict[str, Quantity] = _table(
    ("pmra", "mas/yr", r"$\mu_{\alpha*}$"),
    ("pmdec", "mas/yr", r"$\mu_\delta$"),
    ("parallax", "mas", r"$\varpi$"),
    ("distance", "pc", r"$d$"),
    ("x", "pc", r"$x$"),
    ("y", "pc", r"$y$"),
    ("z", "pc", r"$z$"),
    ("v_x", "km/s", r"$v_x$"),
    ("v_y", "km/s", r"$v_y$"),
    ("v_z", "km/s", r"$v_z$"),
    ("rv", "km/s", r"$v_r$"),
    ("sigma_v", "km/s", r"$\sigma_v$"),
    ("f_cluster", "", r"$f_\mathrm{cl}$"),
    # the straight-line example
    ("m", "", r"$m$"),
    ("b", "", r"$b$"),
    ("w_inlier", "", r"$w_\mathrm{in}$"),
)
#: Model parameters that figures show besides the summary quantities.
PARAMETERS: dict[str, Quantity] = _table(
    ("sigma_pmra_cl", "mas/yr", r"$s_\mathrm{cl}$"),
    ("sigma_cl", "mas/yr", r"$s_\mathrm{cl}$"),
    ("length_scale_field", "kpc", r"$L$"),
)
#: The Galactocentric cylindrical quantities (the Cartesian ones are the summary's x ... v_z).
GALACTOCENTRIC_CYLINDRICAL: dict[str, Quantity] = _table(
    ("R", "pc", r"$R$"),
    ("phi", "deg", r"$\phi$"),
    ("v_R", "km/s", r"$v_R$"),
    ("v_phi", "km/s", r"$v_\phi$"),
)
#: The observables the posterior predictive checks compare.
OBSERVABLES: dict[str, Quantity] = _table(
    ("y", "", "$y$"),
    ("pmra", "mas/yr", r"$\mu_{\alpha*}$"),
    ("pmdec", "mas/yr", r"$\mu_\delta$"),
    ("parallax", "mas", r"$\varpi$"),
    ("radius", "arcmin", "$R$"),
)
#: Every quantity that is not an observable, by name.
QUANTITIES: dict[str, Quantity] = {**SUMMARY_QUANTITIES, **PARAMETERS, **GALACTOCENTRIC_CYLINDRICAL}

#: The unit of each summary quantity (the summary JSON's ``unit``).
SUMMARY_UNITS: dict[str, str] = {name: q.unit for name, q in SUMMARY_QUANTITIES.items()}

#: Units as LaTeX text (tables and sentences of the paper).
UNIT_TEX: dict[str, str] = {
    "mas/yr": r"mas\,yr$^{-1}$",
    "mas": "mas",
    "pc": "pc",
    "kpc": "kpc",
    "km/s": r"km\,s$^{-1}$",
    "deg": "deg",
    "arcmin": "arcmin",
    "": "",
}
#: Units as matplotlib text (figure axes).
UNIT_MATHTEXT: dict[str, str] = {
    "mas/yr": r"mas yr$^{-1}$",
    "mas": "mas",
    "pc": "pc",
    "kpc": "kpc",
    "km/s": r"km s$^{-1}$",
    "deg": "deg",
    "arcmin": "arcmin",
    "": "",
}
#: The suffix a unit gives a column name (``parallax_mas``, ``rv_kms``; none for "").
UNIT_SUFFIX: dict[str, str] = {
    "mas/yr": "masyr",
    "mas": "mas",
    "pc": "pc",
    "kpc": "kpc",
    "km/s": "kms",
    "deg": "deg",
    "arcmin": "arcmin",
    "": "",
}


def symbol(name: str) -> str:
    """The symbol of quantity ``name`` (LaTeX math); the name itself if unknown."""
    return QUANTITIES[name].symbol if name in QUANTITIES else name


def axis_label(name: str) -> str:
    """A figure axis's label: ``$\\varpi$ (mas)``; a quantity without a unit is its symbol."""
    quantity = QUANTITIES[name]
    unit = UNIT_MATHTEXT[quantity.unit]
    return f"{quantity.symbol} ({unit})" if unit else quantity.symbol


def column_name(name: str) -> str:
    """A table column of quantity ``name``, its unit in the name: ``parallax_mas``."""
    suffix = UNIT_SUFFIX[QUANTITIES[name].unit]
    return f"{name}_{suffix}" if suffix else name

"""The probabilistic graphical model of ``line_outliers``, as the paper draws it (daft).

Drawn from the model's docstring (``model.py``), with the conventions of
:mod:`clustermix.plotting.pgm`.
"""

from __future__ import annotations

import daft

from clustermix.plotting.pgm import STAR_PLATE, add_edges, add_plate, add_variable, new_pgm


def diagram() -> daft.PGM:
    """The straight line with outliers: slope m, intercept b, outlier width s_out, weights
    w = (w_in, w_out); per point i its class c_i, true ordinate y^_i (on the line at x_i or
    drawn from N(0, s_out^2)) and observed y_i with known uncertainty sigma_i."""
    d = new_pgm("line_outliers", (-0.57, 3.92), (-0.62, 3.51))
    add_variable(d, "m", r"$m$", 0.0, 3.0)
    add_variable(d, "b", r"$b$", 1.0, 3.0)
    add_variable(d, "s_out", r"$s_\mathrm{out}$", 2.0, 3.0)
    add_variable(d, "w", r"$\boldsymbol{w}$", 3.2, 3.0)
    add_variable(d, "x", r"$x_i$", 0.3, 1.6, kind="fixed", label_side="left")
    add_variable(d, "c", r"$c_i$", 3.2, 1.6)
    add_variable(d, "y_true", r"$\hat{y}_i$", 1.75, 1.35)
    add_variable(d, "y", r"$y_i$", 1.75, 0.1, kind="observed")
    add_variable(d, "sigma", r"$\sigma_i$", 2.85, 0.1, kind="fixed")
    add_edges(d, ["w"], "c")
    add_edges(d, ["m", "b", "s_out", "c", "x"], "y_true")
    add_edges(d, ["y_true", "sigma"], "y")
    add_plate(d, -0.45, -0.5, 4.25, 2.7, STAR_PLATE, corner="left")
    return d

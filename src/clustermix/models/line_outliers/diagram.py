"""The probabilistic graphical model of ``line_outliers``, as the paper draws it: data only, which
:func:`clustermix.plotting.pgm.pgm_figure` draws with daft (its conventions are there).

The straight line with outliers: slope m, intercept b, outlier width s_out, weights
w = (w_in, w_out); per point i its class c_i, true ordinate y^_i (on the line at x_i or
drawn from N(0, s_out^2)) and observed y_i with known uncertainty sigma_i.
"""

from __future__ import annotations

from clustermix.models.spec import STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.57, 3.92),
    y_range=(-0.62, 3.51),
    nodes=(
        Node("m", r"$m$", 0.0, 3.0),
        Node("b", r"$b$", 1.0, 3.0),
        Node("s_out", r"$s_\mathrm{out}$", 2.0, 3.0),
        Node("w", r"$\boldsymbol{w}$", 3.2, 3.0),
        Node("x", r"$x_i$", 0.3, 1.6, kind="fixed", label_side="left"),
        Node("c", r"$c_i$", 3.2, 1.6),
        Node("y_true", r"$\hat{y}_i$", 1.75, 1.35),
        Node("y", r"$y_i$", 1.75, 0.1, kind="observed"),
        Node("sigma", r"$\sigma_i$", 2.85, 0.1, kind="fixed"),
    ),
    edges=(
        (("w",), "c"),
        (("m", "b", "s_out", "c", "x"), "y_true"),
        (("y_true", "sigma"), "y"),
    ),
    plates=(Plate(-0.45, -0.5, 4.25, 2.7, STAR_PLATE, corner="left"),),
)

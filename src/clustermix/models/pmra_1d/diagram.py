"""The probabilistic graphical model of ``pmra_1d``, as the paper draws it: data only, which
:func:`clustermix.plotting.pgm.pgm_figure` draws with daft (its conventions are there).

pmRA alone (the default field model, learned on the control field): fraction f, cluster
mean mu_cl and width s_cl; the field's K components in each G bin b, weights w_b, means
mu_bk and widths s_bk, fixed before the fit; per star its magnitude G_i (which picks its
bin), class c_i (cluster or field component k), true pmra x^_i and observed pmra x_i with
known error e_i.
"""

from __future__ import annotations

from clustermix.models.spec import COMPONENT_PLATE, STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.51, 7.82),
    y_range=(-1.47, 3.62),
    nodes=(
        Node("f", r"$f$", 0.0, 3.0),
        Node("mu_cl", r"$\mu_\mathrm{cl}$", 2.2, 3.0),
        Node("s_cl", r"$s_\mathrm{cl}$", 3.2, 3.0),
        Node("w", r"$\boldsymbol{w}_b$", 4.9, 3.0, kind="fixed"),
        Node("mu_k", r"$\mu_{bk}$", 6.05, 3.0, kind="fixed"),
        Node("s_k", r"$s_{bk}$", 7.2, 3.0, kind="fixed"),
        Node("g", r"$G_i$", 1.0, 0.45, kind="observed"),
        Node("c", r"$c_i$", 1.0, 1.65),
        Node("x_true", r"$\hat{x}_i$", 2.7, 0.45),
        Node("x", r"$x_i$", 2.7, -0.75, kind="observed"),
        Node("e", r"$e_i$", 3.8, -0.75, kind="fixed"),
    ),
    edges=(
        (("f", "w", "g"), "c"),
        (("mu_cl", "s_cl", "c", "g", "mu_k", "s_k"), "x_true"),
        (("x_true", "e"), "x"),
    ),
    plates=(
        Plate(4.4, 1.0, 3.3, 2.5, COMPONENT_PLATE),
        Plate(0.45, -1.35, 3.85, 3.55, STAR_PLATE, corner="left"),
    ),
)

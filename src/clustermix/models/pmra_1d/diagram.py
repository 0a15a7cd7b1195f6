"""The probabilistic graphical model of ``pmra_1d``, as the paper draws it: data only, which
:func:`clustermix.plotting.pgm.pgm_figure` draws with daft (its conventions are there).

pmRA alone: fraction f, field weights w, cluster mean mu_cl and width s_cl, and K
Gaussian field components with means mu_k and widths s_k = s_cl + exp(t_k); per star
its class c_i (cluster or field component k), true pmra x^_i and observed pmra x_i
with known error e_i.
"""

from __future__ import annotations

from clustermix.models.spec import COMPONENT_PLATE, STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.51, 6.52),
    y_range=(-1.47, 3.62),
    nodes=(
        Node("f", r"$f$", 0.0, 3.0),
        Node("w", r"$\boldsymbol{w}$", 1.0, 3.0),
        Node("mu_cl", r"$\mu_\mathrm{cl}$", 2.2, 3.0),
        Node("s_cl", r"$s_\mathrm{cl}$", 3.2, 3.0),
        Node("mu_k", r"$\mu_k$", 4.9, 3.0),
        Node("t_k", r"$t_k$", 5.9, 3.0),
        Node("s_k", r"$s_k$", 5.9, 1.8, kind="deterministic"),
        Node("c", r"$c_i$", 1.0, 1.65),
        Node("x_true", r"$\hat{x}_i$", 2.7, 0.45),
        Node("x", r"$x_i$", 2.7, -0.75, kind="observed"),
        Node("e", r"$e_i$", 3.8, -0.75, kind="fixed"),
    ),
    edges=(
        (("f", "w"), "c"),
        (("s_cl", "t_k"), "s_k"),
        (("mu_cl", "s_cl", "c", "mu_k", "s_k"), "x_true"),
        (("x_true", "e"), "x"),
    ),
    plates=(
        Plate(4.4, 1.0, 2.0, 2.5, COMPONENT_PLATE),
        Plate(0.45, -1.35, 3.85, 3.55, STAR_PLATE, corner="left"),
    ),
)

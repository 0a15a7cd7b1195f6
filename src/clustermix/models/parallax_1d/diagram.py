"""The probabilistic graphical model of ``parallax_1d``, as the paper draws it: data only, which
:func:`clustermix.plotting.pgm.pgm_figure` draws with daft (its conventions are there).

Parallax alone (the default binned field): fraction f, cluster parallax plx_cl and
its intrinsic width s (fixed at zero by default), the field's bump log-weights a_b in
each G bin b; per star of the cluster region its
magnitude G_i, class c_i, true parallax and observed parallax with known error e_i;
per star of the control field (pure field) the same without a class.
"""

from __future__ import annotations

from clustermix.models.spec import CONTROL_PLATE, STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.57, 6.77),
    y_range=(-1.47, 3.51),
    nodes=(
        Node("f", r"$f$", 0.0, 3.0),
        Node("plx_cl", r"$\varpi_\mathrm{cl}$", 1.2, 3.0),
        Node("s", r"$s$", 2.1, 3.0, kind="fixed", label_side="above"),
        Node("w", r"$\boldsymbol{a}_b$", 3.9, 3.0),
        Node("c", r"$c_i$", 0.9, 1.65),
        Node("g", r"$G_i$", 0.4, 0.45, kind="observed"),
        Node("plx_true", r"$\hat{\varpi}_i$", 2.0, 0.45),
        Node("plx", r"$\varpi_i$", 2.0, -0.75, kind="observed"),
        Node("e", r"$e_i$", 3.1, -0.75, kind="fixed"),
        Node("g_c", r"$G_j$", 5.9, 1.65, kind="observed"),
        Node("plx_true_c", r"$\hat{\varpi}_j$", 4.9, 0.45),
        Node("plx_c", r"$\varpi_j$", 4.9, -0.75, kind="observed"),
        Node("e_c", r"$e_j$", 5.9, -0.75, kind="fixed"),
    ),
    edges=(
        (("f",), "c"),
        (("plx_cl", "s", "c", "w", "g"), "plx_true"),
        (("plx_true", "e"), "plx"),
        (("w", "g_c"), "plx_true_c"),
        (("plx_true_c", "e_c"), "plx_c"),
    ),
    plates=(
        Plate(-0.45, -1.35, 4.0, 3.55, STAR_PLATE, corner="left"),
        Plate(4.2, -1.35, 2.45, 3.55, CONTROL_PLATE, corner="right"),
    ),
)

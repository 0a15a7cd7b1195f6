"""The probabilistic graphical model of ``parallax_1d``, as the paper draws it (daft).

Drawn from the model's docstring (``model.py``), with the conventions of
:mod:`clustermix.plotting.pgm`.
"""

from __future__ import annotations

import daft

from clustermix.plotting.pgm import (
    CONTROL_PLATE,
    STAR_PLATE,
    add_edges,
    add_plate,
    add_variable,
    new_pgm,
)


def diagram() -> daft.PGM:
    """Parallax alone (the default binned field): fraction f, cluster parallax plx_cl and
    its intrinsic width s (fixed at zero by default), the field's bump log-weights a_b in
    each G bin b; per star of the cluster region its
    magnitude G_i, class c_i, true parallax and observed parallax with known error e_i;
    per star of the control field (pure field) the same without a class."""
    d = new_pgm("parallax_1d", (-0.57, 6.77), (-1.47, 3.51))
    add_variable(d, "f", r"$f$", 0.0, 3.0)
    add_variable(d, "plx_cl", r"$\varpi_\mathrm{cl}$", 1.2, 3.0)
    add_variable(d, "s", r"$s$", 2.1, 3.0, kind="fixed", label_side="above")
    add_variable(d, "w", r"$\boldsymbol{a}_b$", 3.9, 3.0)
    add_variable(d, "c", r"$c_i$", 0.9, 1.65)
    add_variable(d, "g", r"$G_i$", 0.4, 0.45, kind="observed")
    add_variable(d, "plx_true", r"$\hat{\varpi}_i$", 2.0, 0.45)
    add_variable(d, "plx", r"$\varpi_i$", 2.0, -0.75, kind="observed")
    add_variable(d, "e", r"$e_i$", 3.1, -0.75, kind="fixed")
    add_variable(d, "g_c", r"$G_j$", 5.9, 1.65, kind="observed")
    add_variable(d, "plx_true_c", r"$\hat{\varpi}_j$", 4.9, 0.45)
    add_variable(d, "plx_c", r"$\varpi_j$", 4.9, -0.75, kind="observed")
    add_variable(d, "e_c", r"$e_j$", 5.9, -0.75, kind="fixed")
    add_edges(d, ["f"], "c")
    add_edges(d, ["plx_cl", "s", "c", "w", "g"], "plx_true")
    add_edges(d, ["plx_true", "e"], "plx")
    add_edges(d, ["w", "g_c"], "plx_true_c")
    add_edges(d, ["plx_true_c", "e_c"], "plx_c")
    add_plate(d, -0.45, -1.35, 4.0, 3.55, STAR_PLATE, corner="left")
    add_plate(d, 4.2, -1.35, 2.45, 3.55, CONTROL_PLATE, corner="right")
    return d

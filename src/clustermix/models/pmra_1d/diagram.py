"""The probabilistic graphical model of ``pmra_1d``, as the paper draws it (daft).

Drawn from the model's docstring (``model.py``), with the conventions of
:mod:`clustermix.plotting.pgm`.
"""

from __future__ import annotations

import daft

from clustermix.plotting.pgm import (
    COMPONENT_PLATE,
    STAR_PLATE,
    add_edges,
    add_plate,
    add_variable,
    new_pgm,
)


def diagram() -> daft.PGM:
    """pmRA alone: fraction f, field weights w, cluster mean mu_cl and width s_cl, and K
    Gaussian field components with means mu_k and widths s_k = s_cl + exp(t_k); per star
    its class c_i (cluster or field component k), true pmra x^_i and observed pmra x_i
    with known error e_i."""
    d = new_pgm("pmra_1d", (-0.51, 6.52), (-1.47, 3.62))
    add_variable(d, "f", r"$f$", 0.0, 3.0)
    add_variable(d, "w", r"$\boldsymbol{w}$", 1.0, 3.0)
    add_variable(d, "mu_cl", r"$\mu_\mathrm{cl}$", 2.2, 3.0)
    add_variable(d, "s_cl", r"$s_\mathrm{cl}$", 3.2, 3.0)
    add_variable(d, "mu_k", r"$\mu_k$", 4.9, 3.0)
    add_variable(d, "t_k", r"$t_k$", 5.9, 3.0)
    add_variable(d, "s_k", r"$s_k$", 5.9, 1.8, kind="deterministic")
    add_variable(d, "c", r"$c_i$", 1.0, 1.65)
    add_variable(d, "x_true", r"$\hat{x}_i$", 2.7, 0.45)
    add_variable(d, "x", r"$x_i$", 2.7, -0.75, kind="observed")
    add_variable(d, "e", r"$e_i$", 3.8, -0.75, kind="fixed")
    add_edges(d, ["f", "w"], "c")
    add_edges(d, ["s_cl", "t_k"], "s_k")
    add_edges(d, ["mu_cl", "s_cl", "c", "mu_k", "s_k"], "x_true")
    add_edges(d, ["x_true", "e"], "x")
    add_plate(d, 4.4, 1.0, 2.0, 2.5, COMPONENT_PLATE)
    add_plate(d, 0.45, -1.35, 3.85, 3.55, STAR_PLATE, corner="left")
    return d

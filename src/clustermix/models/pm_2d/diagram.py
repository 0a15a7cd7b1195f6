"""The probabilistic graphical model of ``pm_2d``, as the paper draws it (daft).

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
    """Both proper motions (the default field model, learned on the control field):
    fraction f, cluster mean vector mu_cl and isotropic dispersion s_cl; the field's K
    components in each G bin b, weights w_b, means mu_bk and covariances Sigma_bk, fixed
    before the fit; per star its magnitude G_i (which picks its bin), class c_i, true
    proper motion and observed proper motion with known 2x2 covariance C_i."""
    d = new_pgm("pm_2d", (-0.51, 7.82), (-1.47, 3.62))
    add_variable(d, "f", r"$f$", 0.0, 3.0)
    add_variable(d, "mu_cl", r"$\boldsymbol{\mu}_\mathrm{cl}$", 2.2, 3.0)
    add_variable(d, "s_cl", r"$s_\mathrm{cl}$", 3.2, 3.0)
    add_variable(d, "w", r"$\boldsymbol{w}_b$", 4.9, 3.0, kind="fixed")
    add_variable(d, "mu_k", r"$\boldsymbol{\mu}_{bk}$", 6.05, 3.0, kind="fixed")
    add_variable(d, "sigma_k", r"$\Sigma_{bk}$", 7.2, 3.0, kind="fixed")
    add_variable(d, "g", r"$G_i$", 1.0, 0.45, kind="observed")
    add_variable(d, "c", r"$c_i$", 1.0, 1.65)
    add_variable(d, "pm_true", r"$\hat{\boldsymbol{\mu}}_i$", 2.7, 0.45)
    add_variable(d, "pm", r"$\boldsymbol{\mu}_i$", 2.7, -0.75, kind="observed")
    add_variable(d, "cov", r"$C_i$", 3.8, -0.75, kind="fixed")
    add_edges(d, ["f", "w", "g"], "c")
    add_edges(d, ["mu_cl", "s_cl", "c", "g", "mu_k", "sigma_k"], "pm_true")
    add_edges(d, ["pm_true", "cov"], "pm")
    add_plate(d, 4.4, 1.0, 3.3, 2.5, COMPONENT_PLATE)
    add_plate(d, 0.45, -1.35, 3.85, 3.55, STAR_PLATE, corner="left")
    return d

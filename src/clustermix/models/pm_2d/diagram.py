"""The probabilistic graphical model of ``pm_2d``, as the paper draws it: data only, which
:func:`clustermix.plotting.pgm.pgm_figure` draws with daft (its conventions are there).

Both proper motions (the default field model, learned on the control field):
fraction f, cluster mean vector mu_cl and isotropic dispersion s_cl; the field's K
components in each G bin b, weights w_b, means mu_bk and covariances Sigma_bk, fixed
before the fit; per star its magnitude G_i (which picks its bin), class c_i, true
proper motion and observed proper motion with known 2x2 covariance C_i.
"""

from __future__ import annotations

from clustermix.models.spec import COMPONENT_PLATE, STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.51, 7.82),
    y_range=(-1.47, 3.62),
    nodes=(
        Node("f", r"$f$", 0.0, 3.0),
        Node("mu_cl", r"$\boldsymbol{\mu}_\mathrm{cl}$", 2.2, 3.0),
        Node("s_cl", r"$s_\mathrm{cl}$", 3.2, 3.0),
        Node("w", r"$\boldsymbol{w}_b$", 4.9, 3.0, kind="fixed"),
        Node("mu_k", r"$\boldsymbol{\mu}_{bk}$", 6.05, 3.0, kind="fixed"),
        Node("sigma_k", r"$\Sigma_{bk}$", 7.2, 3.0, kind="fixed"),
        Node("g", r"$G_i$", 1.0, 0.45, kind="observed"),
        Node("c", r"$c_i$", 1.0, 1.65),
        Node("pm_true", r"$\hat{\boldsymbol{\mu}}_i$", 2.7, 0.45),
        Node("pm", r"$\boldsymbol{\mu}_i$", 2.7, -0.75, kind="observed"),
        Node("cov", r"$C_i$", 3.8, -0.75, kind="fixed"),
    ),
    edges=(
        (("f", "w", "g"), "c"),
        (("mu_cl", "s_cl", "c", "g", "mu_k", "sigma_k"), "pm_true"),
        (("pm_true", "cov"), "pm"),
    ),
    plates=(
        Plate(4.4, 1.0, 3.3, 2.5, COMPONENT_PLATE),
        Plate(0.45, -1.35, 3.85, 3.55, STAR_PLATE, corner="left"),
    ),
)

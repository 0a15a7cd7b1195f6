"""The probabilistic graphical model of ``phase_space``, as the paper draws it: data only, which
:func:`clustermix.plotting.pgm.pgm_figure` draws with daft (its conventions are there).

Sky position, parallax, proper motions and radial velocities: fraction f, cluster
centre (xi_cl, eta_cl), Plummer radius a, parallax plx_cl, centre proper motion mu_cl
and radial velocity v_r,cl (which give the mean 3D velocity v), dispersion sigma_v;
field weights w, K astrometric components (mean m_k, covariance Sigma_k) and the field's
RV mean and width (the astrometric ones per G bin b, learned on the control field
before the fit, drawn fixed); per star its magnitude G_i (which picks its bin), its
class c_i, sky position (xi_i, eta_i), true and
observed astrometry y_i = (parallax, pmra, pmdec) with known covariance C_i and, where
measured, true and observed radial velocity with known error e_vr,i; the factors s on
the quoted uncertainties, and the members' binary fraction q and binaries' extra RV
spread s_bin.
"""

from __future__ import annotations

from clustermix.models.spec import COMPONENT_PLATE, STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.21, 11.12),
    y_range=(-2.0, 5.42),
    nodes=(
        Node("a", r"$a$", 0.3, 4.7),
        Node("centre", r"$\xi_\mathrm{cl}, \eta_\mathrm{cl}$", 1.6, 4.7, aspect=1.55),
        Node("plx_cl", r"$\varpi_\mathrm{cl}$", 2.9, 4.7),
        Node("pm_cl", r"$\boldsymbol{\mu}_\mathrm{cl}$", 3.9, 4.7),
        Node("rv_cl", r"$v_{r,\mathrm{cl}}$", 4.9, 4.7),
        Node("v", r"$\boldsymbol{v}$", 3.9, 3.5, kind="deterministic"),
        Node("sigma_v", r"$\sigma_v$", 5.6, 3.5),
        Node("f", r"$f$", 7.4, 4.7),
        Node("w", r"$\boldsymbol{w}_b$", 8.4, 4.7, kind="fixed"),
        Node("m_k", r"$\boldsymbol{m}_{bk}$", 10.2, 4.7, kind="fixed"),
        Node("sigma_k", r"$\Sigma_{bk}$", 10.2, 3.5, kind="fixed"),
        Node("rv_field", r"$\mu_{v_r}, s_{v_r}$", 10.4, 1.9, aspect=1.55),
        Node("binaries", r"$q, s_\mathrm{bin}$", 6.6, 3.5, aspect=1.55),
        Node("scales", r"$\boldsymbol{s}$", 5.9, -1.5),
        Node("pos", r"$\xi_i, \eta_i$", 1.0, 2.2, kind="observed", aspect=1.35),
        Node("c", r"$c_i$", 8.4, 2.0),
        Node("y_true", r"$\hat{\boldsymbol{y}}_i$", 3.9, 0.95),
        Node("rv_true", r"$\hat{v}_{r,i}$", 7.2, 0.95),
        Node("y", r"$\boldsymbol{y}_i$", 3.9, -0.3, kind="observed"),
        Node("cov", r"$C_i$", 4.9, -0.3, kind="fixed"),
        Node("rv", r"$v_{r,i}$", 7.2, -0.3, kind="observed"),
        Node("rv_err", r"$e_{v_r,i}$", 8.2, -0.3, kind="fixed"),
        Node("g", r"$G_i$", 5.9, 0.95, kind="observed"),
    ),
    edges=(
        (("centre", "plx_cl", "pm_cl", "rv_cl"), "v"),
        (("f", "w", "g"), "c"),
        (("a", "centre", "c"), "pos"),
        (("a", "plx_cl", "v", "sigma_v", "pos", "c", "g", "m_k", "sigma_k"), "y_true"),
        (("v", "sigma_v", "pos", "c", "rv_field", "binaries"), "rv_true"),
        (("y_true", "cov", "scales"), "y"),
        (("rv_true", "rv_err", "scales"), "rv"),
    ),
    plates=(
        Plate(9.55, 2.8, 1.3, 2.5, COMPONENT_PLATE),
        Plate(0.3, -0.9, 8.75, 3.75, STAR_PLATE, corner="left"),
    ),
)

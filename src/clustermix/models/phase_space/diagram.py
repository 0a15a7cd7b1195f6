"""The probabilistic graphical model of ``phase_space``, as the paper draws it (daft).

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
    """Sky position, parallax, proper motions and radial velocities: fraction f, cluster
    centre (xi_cl, eta_cl), Plummer radius a, parallax plx_cl, centre proper motion mu_cl
    and radial velocity v_r,cl (which give the mean 3D velocity v), dispersion sigma_v;
    field weights w, K astrometric components (mean m_k, covariance Sigma_k) and the field's
    RV mean and width (the astrometric ones per G bin b, learned on the control field
    before the fit, drawn fixed); per star its magnitude G_i (which picks its bin), its
    class c_i, sky position (xi_i, eta_i), true and
    observed astrometry y_i = (parallax, pmra, pmdec) with known covariance C_i and, where
    measured, true and observed radial velocity with known error e_vr,i; the factors s on
    the quoted uncertainties, and the members' binary fraction q and binaries' extra RV
    spread s_bin."""
    d = new_pgm("phase_space", (-0.21, 11.12), (-2.0, 5.42))
    top, middle = 4.7, 3.5
    # cluster parameters
    add_variable(d, "a", r"$a$", 0.3, top)
    add_variable(d, "centre", r"$\xi_\mathrm{cl}, \eta_\mathrm{cl}$", 1.6, top, aspect=1.55)
    add_variable(d, "plx_cl", r"$\varpi_\mathrm{cl}$", 2.9, top)
    add_variable(d, "pm_cl", r"$\boldsymbol{\mu}_\mathrm{cl}$", 3.9, top)
    add_variable(d, "rv_cl", r"$v_{r,\mathrm{cl}}$", 4.9, top)
    add_variable(d, "v", r"$\boldsymbol{v}$", 3.9, middle, kind="deterministic")
    add_variable(d, "sigma_v", r"$\sigma_v$", 5.6, middle)
    # mixture and field parameters
    add_variable(d, "f", r"$f$", 7.4, top)
    add_variable(d, "w", r"$\boldsymbol{w}_b$", 8.4, top, kind="fixed")
    add_variable(d, "m_k", r"$\boldsymbol{m}_{bk}$", 10.2, top, kind="fixed")
    add_variable(d, "sigma_k", r"$\Sigma_{bk}$", 10.2, middle, kind="fixed")
    add_variable(d, "rv_field", r"$\mu_{v_r}, s_{v_r}$", 10.4, 1.9, aspect=1.55)
    add_variable(d, "binaries", r"$q, s_\mathrm{bin}$", 6.6, middle, aspect=1.55)
    add_variable(d, "scales", r"$\boldsymbol{s}$", 5.9, -1.5)
    # stars
    add_variable(d, "pos", r"$\xi_i, \eta_i$", 1.0, 2.2, kind="observed", aspect=1.35)
    add_variable(d, "c", r"$c_i$", 8.4, 2.0)
    add_variable(d, "y_true", r"$\hat{\boldsymbol{y}}_i$", 3.9, 0.95)
    add_variable(d, "rv_true", r"$\hat{v}_{r,i}$", 7.2, 0.95)
    add_variable(d, "y", r"$\boldsymbol{y}_i$", 3.9, -0.3, kind="observed")
    add_variable(d, "cov", r"$C_i$", 4.9, -0.3, kind="fixed")
    add_variable(d, "rv", r"$v_{r,i}$", 7.2, -0.3, kind="observed")
    add_variable(d, "rv_err", r"$e_{v_r,i}$", 8.2, -0.3, kind="fixed")
    add_variable(d, "g", r"$G_i$", 5.9, 0.95, kind="observed")
    add_edges(d, ["centre", "plx_cl", "pm_cl", "rv_cl"], "v")
    add_edges(d, ["f", "w", "g"], "c")
    add_edges(d, ["a", "centre", "c"], "pos")
    add_edges(d, ["a", "plx_cl", "v", "sigma_v", "pos", "c", "g", "m_k", "sigma_k"], "y_true")
    add_edges(d, ["v", "sigma_v", "pos", "c", "rv_field", "binaries"], "rv_true")
    add_edges(d, ["y_true", "cov", "scales"], "y")
    add_edges(d, ["rv_true", "rv_err", "scales"], "rv")
    add_plate(d, 9.55, 2.8, 1.3, 2.5, COMPONENT_PLATE)
    add_plate(d, 0.3, -0.9, 8.75, 3.75, STAR_PLATE, corner="left")
    return d

"""Probabilistic graphical models (PGMs) of the mixture models, one diagram per model.

Each diagram is written from its model's docstring (:mod:`clustermix.models`): population
parameters at the top, one plate over the stars (index i = 1..N) holding each star's
class, its latent true values and its observed values, and, where the
field is a Gaussian mixture, a plate over the field components (k = 1..K). Each star's
class c_i says which component drew it (the cluster, or field component k). Conventions:

- open circle: a parameter with a prior (sampled);
- double circle: a deterministic function of its parents;
- shaded circle: an observed value;
- small black dot: a fixed, known value (a star's measurement uncertainty).

The per-star classes and true values are drawn although the models marginalise them
analytically (Gaussian convolutions) or by quadrature: the diagram shows the generative
story, the likelihood integrates over those nodes.

The diagrams are drawn by the ``daft`` PGM package (PyPI ``daft-pgm``): each
``*_diagram`` function returns an unrendered :class:`daft.PGM` and :func:`pgm_figure`
renders it under the figure style (math font, sizes), as a matplotlib figure that
:func:`clustermix.plotting.style.save_figure` saves with the workflow's provenance.
Deterministic nodes use daft's "alternate" node with its "inner" style (a second,
inner outline) and a transparent face, which this daft version needs for the inner
outline to show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import daft
import matplotlib.pyplot as plt

from clustermix.plotting.style import COLUMN_WIDTH_IN, PAGE_WIDTH_IN, use_style

#: Node kinds and how they are drawn (see the module docstring).
NODE_KINDS: tuple[str, ...] = ("latent", "observed", "fixed", "deterministic")
#: Size (inches) of one unit of a diagram's coordinates, unless the diagram is too wide.
GRID_UNIT_IN = 0.52
#: Diameter of a node, in diagram units.
NODE_DIAMETER = 0.78
CM_PER_IN = 2.54
OBSERVED_FILL = "0.82"
LINE_WIDTH = 0.8
LABEL_SIZE = 9.0
PLATE_LABEL_SIZE = 7.5
#: Arrow heads (cm): length and full width.
ARROW_HEAD = {"head_length": 0.12, "head_width": 0.09}
STAR_PLATE = r"$i = 1, \ldots, N$"
COMPONENT_PLATE = r"$k = 1, \ldots, K$"
CONTROL_PLATE = r"$j = 1, \ldots, N_\mathrm{c}$"
#: Models whose diagram spans the page; the others fit in one column.
PAGE_WIDTH_DIAGRAMS: frozenset[str] = frozenset({"phase_space"})

# Offset (points) of a fixed node's label from its dot, and its horizontal alignment, by
# side. daft draws a fixed node's label on its baseline and raises it by 6 points each time
# it renders the node, so a PGM is rendered once (each ``*_diagram`` call builds a new one).
_FIXED_LABELS: dict[str, tuple[tuple[float, float], str]] = {
    "right": ((4.0, -3.0), "left"),
    "left": ((-4.0, -3.0), "right"),
    "above": ((0.0, 4.0), "center"),
    "below": ((0.0, -11.0), "center"),
}
_DAFT_FIXED_RAISE = 6.0


def new_pgm(model: str, x_range: tuple[float, float], y_range: tuple[float, float]) -> daft.PGM:
    """An empty :class:`daft.PGM` whose drawing covers ``x_range`` by ``y_range`` (diagram
    units, every node, label and plate included).

    A page-width diagram (:data:`PAGE_WIDTH_DIAGRAMS`) fills the page width; any other is
    :data:`GRID_UNIT_IN` per unit, less if that would be wider than a column.
    """
    width = x_range[1] - x_range[0]
    height = y_range[1] - y_range[0]
    if model in PAGE_WIDTH_DIAGRAMS:
        unit_in = PAGE_WIDTH_IN / width
    else:
        unit_in = min(GRID_UNIT_IN, COLUMN_WIDTH_IN / width)
    unit_cm = unit_in * CM_PER_IN
    return daft.PGM(
        shape=(width, height),
        origin=(x_range[0], y_range[0]),
        grid_unit=unit_cm,
        node_unit=NODE_DIAMETER * unit_cm,
        line_width=LINE_WIDTH,
        observed_style="shaded",
        alternate_style="inner",
    )


def add_variable(
    pgm: daft.PGM,
    name: str,
    label: str,
    x: float,
    y: float,
    kind: str = "latent",
    aspect: float = 1.0,
    label_side: str = "right",
) -> None:
    """Add a node drawn as ``kind`` (one of :data:`NODE_KINDS`). ``aspect``: width over
    height (> 1 for long labels). A fixed node's ``label`` sits beside its dot, on the
    side given by ``label_side`` ("right", "left", "above" or "below")."""
    if kind not in NODE_KINDS:
        raise ValueError(f"unknown node kind {kind!r}; use one of {NODE_KINDS}")
    if name in pgm._nodes:
        raise ValueError(f"node {name!r} already exists")
    options: dict = {"aspect": aspect, "fontsize": LABEL_SIZE}
    if kind == "observed":
        options.update(observed=True, plot_params={"fc": OBSERVED_FILL})
    elif kind == "deterministic":
        options.update(alternate=True, plot_params={"fc": "none"})
    elif kind == "fixed":
        if label_side not in _FIXED_LABELS:
            raise ValueError(f"label_side must be one of {sorted(_FIXED_LABELS)}")
        (dx, dy), ha = _FIXED_LABELS[label_side]
        options.update(fixed=True, offset=(dx, dy - _DAFT_FIXED_RAISE), label_params={"ha": ha})
    pgm.add_node(name, label, x, y, **options)


def add_edges(pgm: daft.PGM, parents: Sequence[str], child: str) -> None:
    """Add a directed edge from each of ``parents`` to ``child`` (all must exist)."""
    for parent in parents:
        for node in (parent, child):
            if node not in pgm._nodes:
                raise ValueError(f"edge {parent!r} -> {child!r}: no node {node!r}")
        pgm.add_edge(parent, child, plot_params=dict(ARROW_HEAD))


def add_plate(
    pgm: daft.PGM,
    x: float,
    y: float,
    width: float,
    height: float,
    label: str,
    corner: str = "right",
) -> None:
    """Add a plate with lower-left corner (``x``, ``y``), labelled in its bottom ``corner``
    ("left" or "right")."""
    if corner not in ("left", "right"):
        raise ValueError(f"plate label corner must be 'left' or 'right', got {corner!r}")
    pgm.add_plate(
        [x, y, width, height],
        label=label,
        label_offset=(3, 3),
        position=f"bottom {corner}",
        fontsize=PLATE_LABEL_SIZE,
    )


# ---------------------------------------------------------------------------- the models


def line_outliers_diagram() -> daft.PGM:
    """The straight line with outliers: slope m, intercept b, outlier width s_out, weights
    w = (w_in, w_out); per point i its class c_i, true ordinate y^_i (on the line at x_i or
    drawn from N(0, s_out^2)) and observed y_i with known uncertainty sigma_i."""
    d = new_pgm("line_outliers", (-0.57, 3.92), (-0.62, 3.51))
    add_variable(d, "m", r"$m$", 0.0, 3.0)
    add_variable(d, "b", r"$b$", 1.0, 3.0)
    add_variable(d, "s_out", r"$s_\mathrm{out}$", 2.0, 3.0)
    add_variable(d, "w", r"$\boldsymbol{w}$", 3.2, 3.0)
    add_variable(d, "x", r"$x_i$", 0.3, 1.6, kind="fixed", label_side="left")
    add_variable(d, "c", r"$c_i$", 3.2, 1.6)
    add_variable(d, "y_true", r"$\hat{y}_i$", 1.75, 1.35)
    add_variable(d, "y", r"$y_i$", 1.75, 0.1, kind="observed")
    add_variable(d, "sigma", r"$\sigma_i$", 2.85, 0.1, kind="fixed")
    add_edges(d, ["w"], "c")
    add_edges(d, ["m", "b", "s_out", "c", "x"], "y_true")
    add_edges(d, ["y_true", "sigma"], "y")
    add_plate(d, -0.45, -0.5, 4.25, 2.7, STAR_PLATE, corner="left")
    return d


def pmra_1d_diagram() -> daft.PGM:
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


def parallax_1d_diagram() -> daft.PGM:
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


def pm_2d_diagram() -> daft.PGM:
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


def phase_space_diagram() -> daft.PGM:
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


#: The diagram of each model, by model name.
DIAGRAMS: dict[str, Callable[[], daft.PGM]] = {
    "line_outliers": line_outliers_diagram,
    "pmra_1d": pmra_1d_diagram,
    "parallax_1d": parallax_1d_diagram,
    "pm_2d": pm_2d_diagram,
    "phase_space": phase_space_diagram,
}


def pgm_figure(model: str) -> plt.Figure:
    """The PGM of ``model`` (one of :data:`DIAGRAMS`) rendered by daft, as a figure at most
    one column wide (the page width for :data:`PAGE_WIDTH_DIAGRAMS`)."""
    if model not in DIAGRAMS:
        raise ValueError(f"no PGM for model {model!r}; known models are {sorted(DIAGRAMS)}")
    use_style()
    pgm = DIAGRAMS[model]()
    pgm.render()
    return pgm.figure

"""Probabilistic graphical models (PGMs) of the mixture models, one diagram per model.

The drawing conventions of every model's diagram, and the function that renders one; each
diagram is in its model's package (``clustermix.models.<name>.diagram``), written from the
model's docstring: population
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
model's ``diagram()`` returns an unrendered :class:`daft.PGM` and :func:`pgm_figure`
renders it under the figure style (math font, sizes), as a matplotlib figure that
:func:`clustermix.plotting.style.save_figure` saves with the workflow's provenance.
Deterministic nodes use daft's "alternate" node with its "inner" style (a second,
inner outline) and a transparent face, which this daft version needs for the inner
outline to show.
"""

from __future__ import annotations

from collections.abc import Sequence

import daft
import matplotlib.pyplot as plt

from clustermix.models import MODEL_NAMES
from clustermix.models.registry import get_model_part, model_spec
from clustermix.models.spec import Diagram
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

# Offset (points) of a fixed node's label from its dot, and its horizontal alignment, by
# side. daft draws a fixed node's label on its baseline and raises it by 6 points each time
# it renders the node, so a PGM is rendered once (each :func:`model_diagram` call builds a new one).
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

    A page-width diagram (the model's ``presentation.page_width_diagram``) fills the page
    width; any other is
    :data:`GRID_UNIT_IN` per unit, less if that would be wider than a column.
    """
    width = x_range[1] - x_range[0]
    height = y_range[1] - y_range[0]
    if model_spec(model).presentation.page_width_diagram:
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


def model_diagram(model: str) -> daft.PGM:
    """The unrendered PGM of ``model``, drawn from the :class:`~clustermix.models.spec.Diagram`
    its package's ``diagram`` module holds."""
    if model not in MODEL_NAMES:
        raise ValueError(f"no PGM for model {model!r}; known models are {list(MODEL_NAMES)}")
    diagram: Diagram = get_model_part(model, "diagram").DIAGRAM
    pgm = new_pgm(model, diagram.x_range, diagram.y_range)
    for node in diagram.nodes:
        add_variable(
            pgm,
            node.key,
            node.label,
            node.x,
            node.y,
            kind=node.kind,
            aspect=node.aspect,
            label_side=node.label_side,
        )
    for parents, child in diagram.edges:
        add_edges(pgm, parents, child)
    for plate in diagram.plates:
        add_plate(pgm, plate.x, plate.y, plate.width, plate.height, plate.label, plate.corner)
    return pgm


def pgm_figure(model: str) -> plt.Figure:
    """The PGM of ``model`` rendered by daft, as a figure at most one column wide (the page
    width for a model whose presentation says so)."""
    use_style()
    pgm = model_diagram(model)
    pgm.render()
    return pgm.figure

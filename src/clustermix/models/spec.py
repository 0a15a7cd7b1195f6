r"""What the workflow, the figures and the paper know of a model, in one typed object.

Every model is a package ``clustermix.models.<name>``; its ``__init__.py`` defines
``SPEC = ModelSpec(...)`` and nothing heavier, so reading it loads neither PyMC nor
matplotlib. The science is in the package's other modules, which the library finds by
name through :mod:`clustermix.models.registry`:

``model.py`` (PyMC; :func:`~clustermix.models.registry.get_model`)
    The interface of :mod:`clustermix.models`: ``NAME``, ``DEFAULT_OPTIONS``,
    ``prepare_data``, ``build_model``, ``summary_quantities``, ``true_values``; for the
    posterior predictive checks ``observed_quantities`` and ``replicate``.
``predictive.py`` (NumPy)
    What the posterior predictive checks compare: ``QUANTITIES``, ``OBS_QUANTITIES``,
    ``observed_quantities``, and the local check's windows (``WINDOW_GROUPS``,
    ``REPLICATES_POSITIONS``, ``cluster_spread_draws``).
``diagram.py`` (data; :func:`~clustermix.models.registry.get_model_part`)
    ``DIAGRAM``, a :class:`Diagram`: the probabilistic graphical model the paper shows,
    which :mod:`clustermix.plotting.pgm` draws.
``densities.py`` (NumPy; optional)
    The fitted components' densities, for the components figure; a model without one has
    no panel there.

Adding a model is adding one such package: the registry discovers it, the config and the
workflow's rules accept its name, and its fits, figures and table rows follow from this
object (README, "Adding a model"); the paper's prose describes the models it knows, each
inside ``\ifmodel{<Name>} ... \fi``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Presentation:
    """How a model looks in every figure and the paper's prose.

    ``label``: its name in legends and axis labels; ``prose``: in the paper's sentences
    ("the two-dimensional proper-motion model"); ``colour``: a hex colour (one per model,
    the same in every figure); ``marker`` and ``linestyle``: matplotlib's, for the
    validation figures; ``corner_quantities``: the posterior quantities its corner plot
    shows, in panel order; ``page_width_diagram``: its graphical model fills the page
    width (a column otherwise); ``component_panel``: its place in the components figure
    (its fitted components over the data, from its ``densities`` module; None: not shown).
    """

    label: str
    prose: str
    colour: str
    marker: str
    linestyle: str | tuple[float, tuple[float, ...]]
    corner_quantities: tuple[str, ...]
    page_width_diagram: bool = False
    component_panel: int | None = None


@dataclass(frozen=True)
class Resources:
    """One fit's memory (MB) and wall time (minutes) for a cluster scheduler, with 20,000
    stars and 4 x 2,000 iterations."""

    mem_mb: int
    runtime_min: int


@dataclass(frozen=True)
class ModelSpec:
    """One model, as everything outside its package sees it.

    ``name``: the name in the config (``models.<name>``) and every output path; ``order``:
    its place in tables and figures (ascending); ``kind``: ``"cluster"`` (fitted to each
    cluster's catalogue) or ``"example"`` (fitted to its own data under
    ``results/examples/``); ``adoption_rank``: among cluster models, which one's values a
    cluster adopts (lowest rank among those that pass the checks; the model that uses the
    most information ranks first); ``catalogue_columns``: the Gaia columns it reads, which
    a user's catalogue must then have; ``galactocentric``: it measures the cluster's 3D
    position and velocity (the Galactocentric figure and numbers come from it);
    ``cmd_rank``: whether, and how early, its memberships colour the colour-magnitude and
    proper-motion membership figures (lowest rank among the enabled models; None: never
    unless no ranked model is enabled).
    """

    name: str
    order: int
    kind: Literal["cluster", "example"]
    presentation: Presentation
    resources: Resources
    adoption_rank: int | None = None
    catalogue_columns: frozenset[str] = field(default_factory=frozenset)
    galactocentric: bool = False
    cmd_rank: int | None = None


#: The labels of the diagrams' plates: over the stars, the field components, the control
#: field's stars.
STAR_PLATE = r"$i = 1, \ldots, N$"
COMPONENT_PLATE = r"$k = 1, \ldots, K$"
CONTROL_PLATE = r"$j = 1, \ldots, N_\mathrm{c}$"


@dataclass(frozen=True)
class Node:
    """A node of a graphical model at (``x``, ``y``) (diagram units): ``key`` names it for
    the edges, ``label`` is LaTeX math; ``kind`` one of "latent" (a parameter with a prior),
    "observed", "fixed" (a known value, drawn as a dot with ``label`` on its
    ``label_side``) or "deterministic"; ``aspect``: width over height."""

    key: str
    label: str
    x: float
    y: float
    kind: str = "latent"
    aspect: float = 1.0
    label_side: str = "right"


@dataclass(frozen=True)
class Plate:
    """A plate with lower-left corner (``x``, ``y``) (diagram units), labelled ``label`` in
    its bottom ``corner`` ("left" or "right")."""

    x: float
    y: float
    width: float
    height: float
    label: str
    corner: str = "right"


@dataclass(frozen=True)
class Diagram:
    """A model's graphical model as data: the drawing covers ``x_range`` by ``y_range``
    (every node, label and plate included); ``edges``: (parents, child) by node key."""

    x_range: tuple[float, float]
    y_range: tuple[float, float]
    nodes: tuple[Node, ...]
    edges: tuple[tuple[tuple[str, ...], str], ...]
    plates: tuple[Plate, ...]

"""The mixture models, one package each, sharing :mod:`clustermix.models.mixture`.

Every model is a package ``clustermix.models.<name>`` whose ``__init__`` defines its
:class:`~clustermix.models.spec.ModelSpec` (``SPEC``: presentation, resources, the
catalogue columns it reads; see :mod:`clustermix.models.spec`); packages are discovered
here, so :data:`MODEL_NAMES` is whatever packages define a spec. Each package's PyMC module
``<name>/model.py`` exposes the same small interface, which the inference, membership and
summary code relies on:

``NAME: str``
    The model name used in every output path (``results/{cluster}/traces/{NAME}.nc``).
``DEFAULT_OPTIONS: dict``
    Model options (which stars: ``stars`` = ``"all"``, ``"cluster_region"`` or
    ``"control_field"`` ...; number of field components; prior widths). Config values
    under ``models.<NAME>`` override these.
``prepare_data(catalog, options, source) -> dict[str, numpy.ndarray]``
    Select the stars the model uses from the cleaned catalogue (joined with the mask
    columns ``in_cluster_region``, ``in_control_field``, ``separation_arcmin``) and return
    the arrays the model needs, always including ``source_id``. Raises
    :class:`~clustermix.errors.InputDataError` naming ``source``, the column and the row
    count for an empty selection, non-finite values or too few stars for the number of
    components -- before any sampling.
``build_model(data, options) -> pymc.Model``
    Coordinates ``star`` (the source ids) and, where used, ``component`` / ``axis``. The
    data likelihood is one observed variable named ``"obs"`` (e.g. a ``pm.CustomDist``
    whose logp is the per-star mixture log-likelihood, so that
    ``pm.compute_log_likelihood`` works). The model also defines
    ``pm.Deterministic("p_cluster", ..., dims="star")``: for one parameter draw, each
    star's w_c L_c / (w_c L_c + w_f L_f), from
    :func:`~clustermix.models.mixture.cluster_fraction_per_star`. It is not stored while
    sampling; it is recomputed from the posterior afterwards and averaged over draws to
    give the membership probability.
``component_log_likelihoods(model) -> dict``
    Optional helper for tests: per-star log-densities of each component as tensors.
``summary_quantities(posterior, data, options) -> dict[str, xarray.DataArray]``
    Posterior draws (dims ``chain``, ``draw``) of the cluster quantities this model
    measures, under the standard names with units in :data:`SUMMARY_UNITS`
    (:mod:`clustermix.quantities`).
``true_values(truth, data) -> dict[str, float]``
    The same names from the simulator's ``truth.json`` (for the stars in ``data``, e.g.
    ``f_cluster`` is the true member fraction among the selected stars).
"""

import importlib
import pkgutil

from clustermix.errors import ConfigError
from clustermix.models.spec import ModelSpec
from clustermix.quantities import SUMMARY_UNITS

__all__ = ["CLUSTER_MODEL_NAMES", "MODEL_NAMES", "MODEL_SPECS", "SUMMARY_UNITS"]


def _discover() -> dict[str, ModelSpec]:
    """Every model package below this one (a subpackage whose ``__init__`` defines
    ``SPEC``), by name, in the specs' ``order``. Importing a package loads only its spec."""
    found: list[ModelSpec] = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg:
            continue
        spec = getattr(importlib.import_module(f"{__name__}.{info.name}"), "SPEC", None)
        if isinstance(spec, ModelSpec):
            if spec.name != info.name:
                raise ConfigError(
                    f"clustermix.models.{info.name}: its SPEC is named {spec.name!r}; a model's "
                    "package and its name must agree (the name is the config key and the path)"
                )
            found.append(spec)
    return {spec.name: spec for spec in sorted(found, key=lambda spec: (spec.order, spec.name))}


#: Every model's :class:`~clustermix.models.spec.ModelSpec`, by name, in display order.
MODEL_SPECS: dict[str, ModelSpec] = _discover()
MODEL_NAMES: tuple[str, ...] = tuple(MODEL_SPECS)
CLUSTER_MODEL_NAMES: tuple[str, ...] = tuple(
    name for name, spec in MODEL_SPECS.items() if spec.kind == "cluster"
)

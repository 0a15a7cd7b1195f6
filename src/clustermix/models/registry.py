"""Find a model module by name and turn the config into its options and sampling settings.

Model modules are imported lazily, only when a fit asks for one, so that a missing or
broken model cannot break anything else (the workflow's DAG, another model's fit).
Nothing here imports PyMC.

Config layout (see workflow/schemas/config.schema.yaml)::

    sampling:            # defaults for every model
      backend: nutpie    # nutpie | pymc | numpyro
      chains: 4
      ...
    models:
      pm_2d:
        enabled: true    # default true
        draws: 2000      # any sampling key overrides `sampling` for this model
        n_field_components: 3   # everything else is a model option
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from clustermix.errors import ConfigError
from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_NAMES, MODEL_SPECS
from clustermix.models.spec import ModelSpec

#: Sampling settings and their defaults (the schema's defaults are the same; a test checks).
SAMPLING_DEFAULTS: dict[str, Any] = {
    "backend": "nutpie",
    "chains": 4,
    "draws": 1000,
    # whitened at the mode, 200 warm-up steps adapt as well as nutpie's default 400 do
    # without whitening; 120 do not (bench/README.md, "Whitened at the mode")
    "tune": 200,
    "target_accept": 0.9,
    # nutpie, started at the mode: sample in coordinates whitened by the posterior's
    # curvature there (clustermix.fit.whitening; bench/README.md, "Whitened at the mode")
    "whiten": True,
    # nutpie: what compiles the log density and its gradient; JAX takes seconds where numba
    # takes minutes on a cold cache (bench/README.md, "Compiled with JAX")
    "compiler": "jax",
    "seed": 12345,
    "store_log_likelihood": False,
    # draw until the cluster quantities meet the convergence gate's thresholds
    # (clustermix.fit.stopping), ``draws`` being the cap; None: every chain draws ``draws``
    "target": {"ess": 400, "rhat_max": 1.01, "check_every": 100, "judge": "cluster"},
}
SAMPLING_KEYS: frozenset[str] = frozenset(SAMPLING_DEFAULTS)
#: Keys of ``models.<name>`` that are neither sampling settings nor model options.
CONTROL_KEYS: frozenset[str] = frozenset({"enabled"})
#: Models fitted to their own example data, not to a cluster (results/examples/<name>/).
EXAMPLE_MODEL_NAMES: tuple[str, ...] = tuple(
    name for name in MODEL_NAMES if name not in CLUSTER_MODEL_NAMES
)

_MODELS_DIR = Path(__file__).resolve().parent
_SPEC_FILE = _MODELS_DIR / "spec.py"
#: Modules every cluster fit runs besides its model (choosing K, finding the mode): editing
#: them refits too.
FIT_MODULES: tuple[str, ...] = ("field_choice", "modes")
#: Modules of a model's package that serve its checks and figures, not its fit: the
#: posterior predictive check (``predictive``, ``replicate``), the components figure
#: (``densities``) and the graphical model (``diagram``). Editing one reruns what reads it,
#: not the fit (:func:`model_source_files` does not follow them; :func:`model_check_files`).
CHECK_PARTS: frozenset[str] = frozenset({"predictive", "replicate", "densities", "diagram"})
#: Shared modules that serve only the checks and figures, likewise.
CHECK_MODULES: frozenset[str] = frozenset({"replication", "draws", "densities"})


def model_spec(name: str) -> ModelSpec:
    """The :class:`~clustermix.models.spec.ModelSpec` of model ``name`` (no PyMC import)."""
    if name not in MODEL_SPECS:
        raise ConfigError(f"models: unknown model '{name}'; known models are {list(MODEL_NAMES)}")
    return MODEL_SPECS[name]


def adoption_order(names: Sequence[str] = CLUSTER_MODEL_NAMES) -> tuple[str, ...]:
    """The cluster models of ``names`` that a cluster may adopt, the preferred first
    (:attr:`ModelSpec.adoption_rank`)."""
    ranked = [name for name in names if model_spec(name).adoption_rank is not None]
    return tuple(sorted(ranked, key=lambda name: model_spec(name).adoption_rank))


def cmd_model(names: Sequence[str]) -> str | None:
    """The model of ``names`` (the enabled cluster models) whose memberships colour the
    colour-magnitude and proper-motion membership figures: the lowest
    :attr:`ModelSpec.cmd_rank`, else the first of ``names``; None if there is none."""
    ranked = [name for name in names if model_spec(name).cmd_rank is not None]
    if ranked:
        return min(ranked, key=lambda name: model_spec(name).cmd_rank)
    return names[0] if names else None


def component_models(names: Sequence[str]) -> list[str]:
    """The models of ``names`` drawn in the components figure, in panel order."""
    shown = [name for name in names if model_spec(name).presentation.component_panel is not None]
    return sorted(shown, key=lambda name: model_spec(name).presentation.component_panel)


def galactocentric_model(names: Sequence[str]) -> str | None:
    """The first model of ``names`` that measures the cluster's 3D position and velocity
    (the Galactocentric figure and numbers come from it); None if none does."""
    return next((name for name in names if model_spec(name).galactocentric), None)


def get_model(name: str) -> ModuleType:
    """Import and return the PyMC module of model ``name`` (``clustermix.models.<name>.model``;
    ``name`` one of :data:`MODEL_NAMES`)."""
    model_spec(name)  # an unknown name is a ConfigError naming the models
    return importlib.import_module(f"clustermix.models.{name}.model")


def get_model_part(name: str, part: str) -> ModuleType:
    """Import and return one module of model ``name``'s package, e.g. its NumPy-only
    ``densities`` or ``replicate`` (``clustermix.models.<name>.<part>``), without loading the
    PyMC module unless the part itself does."""
    model_spec(name)  # an unknown name is a ConfigError naming the models
    return importlib.import_module(f"clustermix.models.{name}.{part}")


def model_part_file(name: str, part: str) -> str:
    """The source file of one module of model ``name``'s package (``<name>/<part>.py``),
    relative to the working directory as :func:`model_source_files`' are."""
    model_spec(name)
    return _workdir_relative(_MODELS_DIR / name / f"{part}.py")


def model_source_files(name: str) -> list[str]:
    """The source files whose edits should refit model ``name`` (for a Snakemake rule's
    input): its module (``<name>/model.py``, first) and every ``clustermix.models`` module it
    imports, directly or through another (the mixture machinery, quadrature, kinematics ...).

    Paths are relative to the working directory when the library lies below it (the
    workflow's own ``src/``), so that Snakemake's records survive moving or cloning the
    project; absolute otherwise (an installed package).
    """
    model_spec(name)  # an unknown name is a ConfigError naming the models
    found: list[Path] = []
    pending = [
        _MODELS_DIR / name / "model.py",
        *(_MODELS_DIR / f"{module}.py" for module in FIT_MODULES if name in CLUSTER_MODEL_NAMES),
    ]
    while pending:
        path = pending.pop(0)
        if path in found or not _fit_input(path):
            continue
        found.append(path)
        pending.extend(_imported_model_files(path))
    return [_workdir_relative(path) for path in found]


def model_check_files(name: str) -> list[str]:
    """The source files of model ``name``'s posterior predictive check (its package's
    ``predictive`` and ``replicate`` modules, where it has them, and what they import from
    the shared check modules), relative as :func:`model_source_files`' are: editing one
    reruns the check, not the fit."""
    model_spec(name)
    found: list[Path] = []
    pending = [_MODELS_DIR / name / f"{part}.py" for part in ("predictive", "replicate")]
    pending += [_MODELS_DIR / f"{module}.py" for module in ("replication", "draws")]
    while pending:
        path = pending.pop(0)
        if path in found or not path.is_file() or not _serves_checks(path):
            continue
        found.append(path)
        pending.extend(_imported_model_files(path))
    return [_workdir_relative(path) for path in found]


def _serves_checks(path: Path) -> bool:
    """Whether the file at ``path`` serves only checks and figures (:data:`CHECK_PARTS`,
    :data:`CHECK_MODULES`)."""
    if path.parent == _MODELS_DIR:
        return path.stem in CHECK_MODULES
    return path.stem in CHECK_PARTS


def _fit_input(path: Path) -> bool:
    """Whether editing the file at ``path`` changes a fit: not for the check modules, nor
    for a package's ``__init__`` (a model's spec, the registry's discovery) or the spec
    class, which say how a model is presented and run, not what it computes."""
    return not (_serves_checks(path) or path.name == "__init__.py" or path == _SPEC_FILE)


def _workdir_relative(path: Path) -> str:
    """``path`` relative to the working directory if it lies below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _imported_model_files(path: Path) -> list[Path]:
    """The files under clustermix/models that the file at ``path`` imports (absolute
    ``clustermix.models...`` imports and relative ones)."""
    files: list[Path] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            dotted = (node.module or "").split(".") if node.module else []
        elif (node.module or "").startswith("clustermix.models"):
            base = _MODELS_DIR
            dotted = node.module.split(".")[2:]
        else:
            continue
        for alias in node.names:
            for parts in (dotted, [*dotted, alias.name]):
                files += _module_files(base.joinpath(*parts)) if parts else []
    return files


def _module_files(stem: Path) -> list[Path]:
    """The file of the module at ``stem`` (``stem.py``, or a package's ``__init__.py``)."""
    if stem.with_suffix(".py").is_file():
        return [stem.with_suffix(".py")]
    if (stem / "__init__.py").is_file():
        return [stem / "__init__.py"]
    return []


def enabled_models(config: Mapping[str, Any], names: tuple[str, ...] = MODEL_NAMES) -> list[str]:
    """The models of ``names`` that ``config`` enables (a model without an entry is enabled)."""
    models = config.get("models") or {}
    return [name for name in names if (models.get(name) or {}).get("enabled", True)]


def enabled_cluster_models(config: Mapping[str, Any]) -> list[str]:
    """The enabled models that are fitted to each cluster's catalogue."""
    return enabled_models(config, CLUSTER_MODEL_NAMES)


def cluster_model_names(config: Mapping[str, Any], cluster_name: str) -> list[str]:
    """The models fitted to cluster ``cluster_name``: the enabled cluster models that its
    ``clusters[].models`` lists (all of them if it lists none), in the order of
    :data:`CLUSTER_MODEL_NAMES`. Raises :class:`ConfigError` if no cluster has that name."""
    from clustermix.config import cluster_by_name  # clustermix.config imports this module

    listed = cluster_by_name(dict(config), cluster_name).get("models") or CLUSTER_MODEL_NAMES
    return [name for name in enabled_cluster_models(config) if name in listed]


def enabled_example_models(config: Mapping[str, Any]) -> list[str]:
    """The enabled models that are fitted to their own example data."""
    return enabled_models(config, EXAMPLE_MODEL_NAMES)


def sampling_settings(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """Sampling settings for model ``name``: defaults < ``sampling`` < ``models.<name>``."""
    entry = _model_entry(config, name)
    settings = {**SAMPLING_DEFAULTS, **(config.get("sampling") or {})}
    settings.update({key: value for key, value in entry.items() if key in SAMPLING_KEYS})
    return settings


def option_overrides(config: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The model options that ``models.<name>`` sets (everything but sampling keys and
    ``enabled``); the model's ``DEFAULT_OPTIONS`` fill in the rest at fit time."""
    entry = _model_entry(config, name)
    return {
        key: value
        for key, value in entry.items()
        if key not in SAMPLING_KEYS and key not in CONTROL_KEYS
    }


def model_options(module: ModuleType, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The module's ``DEFAULT_OPTIONS`` updated with ``overrides`` (nested dicts merged).

    An override key the module does not know is a :class:`ConfigError` naming
    ``models.<name>.<key>``, so that a typo is not silently ignored.
    """
    return _merge(dict(module.DEFAULT_OPTIONS), overrides, f"models.{module.NAME}")


def _model_entry(config: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    model_spec(name)  # an unknown name is a ConfigError naming the models
    return (config.get("models") or {}).get(name) or {}


def _merge(defaults: dict[str, Any], overrides: Mapping[str, Any], key: str) -> dict[str, Any]:
    merged = dict(defaults)
    for name, value in overrides.items():
        if name not in defaults:
            raise ConfigError(
                f"{key}.{name}: unknown option; the options are {sorted(defaults)} "
                f"(sampling keys: {sorted(SAMPLING_KEYS)})"
            )
        if isinstance(defaults[name], Mapping) and isinstance(value, Mapping):
            merged[name] = _merge(dict(defaults[name]), value, f"{key}.{name}")
        else:
            merged[name] = value
    return merged

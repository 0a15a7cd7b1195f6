"""Checks on the configuration that a JSON schema cannot express.

The schema (workflow/schemas/config.schema.yaml) checks types, ranges and names; this
module checks relations between keys and that referenced files exist. Every message
names the offending config key.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path
from typing import Any

from clustermix.errors import ConfigError
from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_NAMES
from clustermix.models.registry import enabled_cluster_models, enabled_models, sampling_settings


def check_config(config: dict[str, Any], workdir: str | Path = ".") -> None:
    """Raise :class:`ConfigError` for the first inconsistency found in ``config``."""
    names = [cluster["name"] for cluster in config["clusters"]]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"clusters: duplicate cluster name(s) {duplicates}")

    unknown = sorted(set(config.get("models") or {}) - set(MODEL_NAMES))
    if unknown:
        raise ConfigError(
            f"models.{unknown[0]}: unknown model; the models are {list(MODEL_NAMES)} "
            "(the packages under clustermix/models that define a SPEC)"
        )

    _check_cluster_models(config)
    _check_sampling_targets(config)
    _check_compilers(config)

    paper_cluster = config.get("paper", {}).get("cluster")
    if paper_cluster is not None and paper_cluster not in names:
        raise ConfigError(f"paper.cluster '{paper_cluster}' is not one of clusters: {names}")

    masks = config["masks"]
    inner, outer = masks["cluster_radius_arcmin"], masks["control_min_arcmin"]
    if outer <= inner:
        raise ConfigError(
            f"masks.control_min_arcmin ({outer}) must be larger than "
            f"masks.cluster_radius_arcmin ({inner})"
        )
    for index, cluster in enumerate(config["clusters"]):
        radius = cluster["radius_arcmin"]
        if outer >= radius:
            raise ConfigError(
                f"masks.control_min_arcmin ({outer}) must be smaller than "
                f"clusters[{index}].radius_arcmin ({radius}) of '{cluster['name']}', "
                "or the control field is empty"
            )

    for index, cluster in enumerate(config["clusters"]):
        if cluster_source(config, cluster) != "file":
            continue
        path = cluster.get("path") or config["data"].get("path")
        key = f"clusters[{index}].path" if cluster.get("path") else "data.path"
        if not path:
            raise ConfigError(
                f"clusters[{index}].path (or data.path) is required: the catalogue of "
                f"'{cluster['name']}' comes from a file (source 'file')"
            )
        if not (Path(workdir) / path).is_file():
            raise ConfigError(f"{key}: catalogue file '{path}' not found")
    _check_reference_files(config, workdir)


def cluster_source(config: dict[str, Any], cluster: dict[str, Any] | str) -> str:
    """Where a cluster's catalogue comes from: ``simulated``, ``archive`` or ``file``.

    The cluster's own ``source`` if it sets one, else ``data.source``. ``cluster`` is its
    ``clusters`` entry or its name.
    """
    entry = cluster_by_name(config, cluster) if isinstance(cluster, str) else cluster
    return entry.get("source") or config["data"]["source"]


def _sampling_key(config: dict[str, Any], name: str, setting: str) -> str:
    """The key that chose model ``name``'s sampling ``setting``: ``models.<name>.<setting>``
    if that entry sets it, else ``sampling.<setting>``."""
    entry = (config.get("models") or {}).get(name) or {}
    return f"models.{name}.{setting}" if setting in entry else f"sampling.{setting}"


def _check_sampling_targets(config: dict[str, Any]) -> None:
    """A fit that samples to a target (``sampling.target``) uses the nutpie backend, the
    only one that can be stopped at a checkpoint (:mod:`clustermix.fit.stopping`)."""
    for name in enabled_models(config):
        settings = sampling_settings(config, name)
        if settings.get("target") and settings["backend"] != "nutpie":
            raise ConfigError(
                f"{_sampling_key(config, name, 'backend')}: '{settings['backend']}' cannot "
                f"stop at a sampling target (sampling.target, the default); model {name} "
                f"needs backend 'nutpie', or target: null under sampling or models.{name} to "
                "draw a fixed number"
            )


def _check_compilers(config: dict[str, Any]) -> None:
    """A fit that nutpie samples with JAX (``sampling.compiler: jax``, the default) finds
    JAX installed (a pinned dependency; a hand-made environment may lack it)."""
    if find_spec("jax") is not None:
        return
    for name in enabled_models(config):
        settings = sampling_settings(config, name)
        if settings["backend"] == "nutpie" and settings["compiler"] == "jax":
            raise ConfigError(
                f"{_sampling_key(config, name, 'compiler')}: 'jax' needs JAX, which is not "
                f"installed (model {name}); install requirements.lock, or use compiler: numba"
            )


def _check_cluster_models(config: dict[str, Any]) -> None:
    """Every name of ``clusters[].models`` is a cluster model, and at least one of a
    cluster's listed models is enabled (the cluster would be fitted with none)."""
    enabled = enabled_cluster_models(config)
    for index, cluster in enumerate(config["clusters"]):
        listed = cluster.get("models")
        if listed is None:
            continue
        key = f"clusters[{index}].models"
        unknown = [name for name in listed if name not in CLUSTER_MODEL_NAMES]
        if unknown:
            raise ConfigError(
                f"{key}: unknown cluster model(s) {unknown} for '{cluster['name']}'; the "
                f"cluster models are {list(CLUSTER_MODEL_NAMES)}"
            )
        if not any(name in enabled for name in listed):
            raise ConfigError(
                f"{key}: none of {list(listed)} is enabled (models.<name>.enabled), so "
                f"'{cluster['name']}' would be fitted with no model; the enabled cluster "
                f"models are {enabled}"
            )


def _check_reference_files(config: dict[str, Any], workdir: str | Path) -> None:
    """Every file of ``clusters[].reference_members`` exists."""
    for index, cluster in enumerate(config["clusters"]):
        for number, entry in enumerate(cluster.get("reference_members") or []):
            path = entry if isinstance(entry, str) else entry.get("path")
            if not (Path(workdir) / path).is_file():
                raise ConfigError(
                    f"clusters[{index}].reference_members[{number}]: reference member file "
                    f"'{path}' not found"
                )


def cluster_by_name(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The ``clusters`` entry called ``name``."""
    for cluster in config["clusters"]:
        if cluster["name"] == name:
            return cluster
    raise ConfigError(f"clusters: no cluster named '{name}'")


def paper_cluster(config: dict[str, Any]) -> str:
    """The name of the cluster the paper is about: ``paper.cluster``, or the first cluster."""
    return config.get("paper", {}).get("cluster") or config["clusters"][0]["name"]

"""A finished fit read back from its files, for the figures that need more than its summary.

:meth:`FittedModel.open` reads a trace, finds its model and options in the trace's own
attributes and rebuilds the model's data from the catalogue it was fitted to (checked
against the checksum the trace recorded), so that any quantity of the model can be
recomputed from the posterior. Every rule that reads a fit back (summary, posterior
predictive checks, figures) goes through it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.data.masks import read_catalog_with_masks
from clustermix.errors import InputDataError
from clustermix.fit.sampling import load_trace, trace_attrs
from clustermix.io import PathLike, sha256_file
from clustermix.models import CLUSTER_MODEL_NAMES
from clustermix.models.registry import get_model

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm
    import xarray as xr


@dataclass
class FittedModel:
    """One fit: the model ``module``, the trace ``idata``, the ``options`` it was fitted
    with (module defaults included) and the model's ``data`` arrays (``prepare_data``).
    :meth:`open` is the way back into a fit from its files."""

    module: ModuleType
    idata: az.InferenceData
    options: dict[str, Any]
    data: dict[str, np.ndarray]

    @classmethod
    def open(
        cls,
        trace_path: PathLike,
        catalog_path: PathLike | None = None,
        masks_path: PathLike | None = None,
    ) -> FittedModel:
        """Read the trace at ``trace_path``, find its model and options in the trace's
        attributes and rebuild the model's data.

        ``catalog_path``/``masks_path``: the cleaned catalogue and sky masks the model was
        fitted to (None for a model with its own example data). Raises
        :class:`~clustermix.errors.InputDataError` if the trace was fitted to another
        version of the catalogue.
        """
        idata = load_trace(trace_path)
        attrs = trace_attrs(idata)
        module = get_model(attrs["model"])
        recorded = attrs.get("data_sha256", "")
        if catalog_path is not None and recorded not in ("", sha256_file(catalog_path)):
            raise InputDataError(
                f"{trace_path}: fitted to another version of {catalog_path} (data_sha256 "
                "differs); rerun the fit"
            )
        options = dict(attrs["options"])
        data = load_model_data(module, options, catalog_path, masks_path)
        return cls(module, idata, options, data)

    @property
    def attrs(self) -> dict[str, Any]:
        """The trace's attributes (model, options, sampling, checksums, provenance)."""
        return trace_attrs(self.idata)

    @property
    def name(self) -> str:
        """The model's name."""
        return str(self.module.NAME)

    def build_model(self) -> pm.Model:
        """The ``pm.Model`` the trace was sampled from (for its Deterministics)."""
        return self.module.build_model(self.data, self.options)

    def posterior_with(self, deterministics: Sequence[str]) -> xr.Dataset:
        """The posterior with those of ``deterministics`` that the trace does not store
        recomputed (:func:`with_deterministics`); the model is built only if one is
        missing."""
        posterior = self.idata.posterior
        if all(name in posterior for name in deterministics):
            return posterior
        return with_deterministics(posterior, deterministics, self.build_model())


def with_deterministics(posterior: xr.Dataset, names: Sequence[str], model: pm.Model) -> xr.Dataset:
    """``posterior`` with the Deterministics among ``names`` that it lacks (traces do not
    store them) recomputed draw by draw from its free parameters with
    ``pymc.compute_deterministics`` on ``model`` (the model the trace was sampled from);
    names that neither holds are left out."""
    missing = [name for name in names if name not in posterior and name in model.named_vars]
    if not missing:
        return posterior
    import pymc as pm

    free = [rv.name for rv in model.free_RVs]
    computed = pm.compute_deterministics(
        posterior[free], var_names=missing, model=model, progressbar=False
    )
    return posterior.assign({name: computed[name] for name in missing})


def load_model_data(
    module: Any,
    options: Mapping[str, Any],
    catalog_path: PathLike | None,
    masks_path: PathLike | None,
) -> dict[str, np.ndarray]:
    """The model's arrays: its ``prepare_data`` on the joined catalogue (or on None for a
    model without catalogue input, such as the line example)."""
    if catalog_path is None:
        return module.prepare_data(None, dict(options), f"{module.NAME} example data")
    if masks_path is None:
        raise ValueError("a catalogue needs its masks file")
    catalog = read_catalog_with_masks(catalog_path, masks_path)
    return module.prepare_data(catalog, dict(options), str(catalog_path))


def fit_true_values(
    fitted: FittedModel, truth_path: PathLike | None = None
) -> dict[str, float] | None:
    """The model's true values from the simulator's ``truth_path`` (truth.json), or, for
    an example model with its own simulated data, from the module alone; None when no
    truth is known (real data)."""
    has_own_data = fitted.name not in CLUSTER_MODEL_NAMES
    if truth_path is None and not has_own_data:
        return None
    truth = json.loads(Path(truth_path).read_text()) if truth_path is not None else None
    return fitted.module.true_values(truth, fitted.data)

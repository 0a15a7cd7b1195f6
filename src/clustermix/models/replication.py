"""Posterior predictive replicates from a PyMC model's own ``obs`` random function.

The models whose ``obs`` variable draws the quantities their check compares
(``line_outliers``, ``pmra_1d``, ``parallax_1d``, ``pm_2d``) replicate through
:func:`replicate_with_pymc`, each naming its own quantities; ``phase_space`` draws its full
generative model in NumPy instead (:mod:`clustermix.models.phase_space.replicate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pymc as pm
import xarray as xr

from clustermix.models.draws import draw_values


def replicate_with_pymc(
    model: pm.Model,
    posterior: xr.Dataset,
    rng: np.random.Generator,
    quantities: Sequence[str],
) -> dict[str, np.ndarray]:
    """One replicated data set per draw of ``posterior``, ``{quantity: (n_draw, n_star)}``,
    from ``model``'s ``obs`` random function by :func:`pymc.sample_posterior_predictive`.

    ``model`` is built on the stars to replicate (their per-star uncertainties are part of
    the ``obs`` distribution, so each replicated star keeps its own); deterministic
    parameters are recomputed from the free ones. ``quantities`` names ``obs``'s columns in
    order (one name for a 1D ``obs``). Every free variable of the model must be in
    ``posterior`` (:func:`model_posterior` checks), and PyMC sees the draws with the
    model's own dims and coordinates: a variable whose coordinates differ from the
    model's would be drawn afresh from its prior instead of taken from the posterior.
    ``rng`` is the only source of randomness.
    """
    draws = pm.sample_posterior_predictive(
        model_posterior(model, posterior),
        model=model,
        var_names=["obs"],
        random_seed=rng,
        progressbar=False,
        return_inferencedata=True,
    )
    obs = draws.posterior_predictive["obs"].values
    obs = obs.reshape(-1, *obs.shape[2:])
    if obs.ndim == 2:
        return {quantities[0]: obs}
    return {name: obs[..., index] for index, name in enumerate(quantities)}


def model_posterior(model: Any, posterior: xr.Dataset) -> xr.Dataset:
    """The free variables of ``model`` (a ``pymc.Model``) from ``posterior``, as one chain
    with the model's dims and coordinates. Raises ``ValueError`` if one is missing."""
    free = [rv.name for rv in model.free_RVs]
    missing = [name for name in free if name not in posterior]
    if missing:
        raise ValueError(f"the posterior lacks the model's free variables {missing}")
    data_vars = {}
    used: set[str] = set()
    for name in free:
        values = draw_values(posterior, name)
        dims = tuple(model.named_vars_to_dims.get(name) or ())
        if len(dims) != values.ndim - 1:
            dims = tuple(f"{name}_dim_{axis}" for axis in range(values.ndim - 1))
        used.update(dims)
        data_vars[name] = (("chain", "draw", *dims), values[None])
    coords = {
        dim: np.asarray(model.coords[dim]) for dim in used if model.coords.get(dim) is not None
    }
    n_draws = next(iter(data_vars.values()))[1].shape[1] if data_vars else 0
    return xr.Dataset(data_vars, coords={"chain": [0], "draw": np.arange(n_draws), **coords})


#: A model's ``replicate(data, options, posterior, rng)`` (see :func:`replicator`).
Replicate = Callable[
    [Mapping[str, np.ndarray], Mapping[str, Any], xr.Dataset, np.random.Generator],
    dict[str, np.ndarray],
]


def replicator(
    build_model: Callable[[dict[str, np.ndarray], dict[str, Any]], pm.Model],
    quantities: Sequence[str],
) -> Replicate:
    """A model's ``replicate(data, options, posterior, rng)``: one replicated data set per
    draw of ``posterior``, ``{quantity: (n_draw, n_star)}`` in ``quantities``' units, from
    ``obs``'s random function with the model rebuilt by ``build_model`` on ``data`` (each star
    keeps its own uncertainties); ``rng`` is the only source of randomness."""

    def replicate(
        data: Mapping[str, np.ndarray],
        options: Mapping[str, Any],
        posterior: xr.Dataset,
        rng: np.random.Generator,
    ) -> dict[str, np.ndarray]:
        model = build_model(dict(data), dict(options))
        return replicate_with_pymc(model, posterior, rng, quantities)

    replicate.__doc__ = replicator.__doc__
    return replicate

"""NUTS in coordinates whitened by the posterior's curvature at the mode.

A fit started at a mode found beforehand (:mod:`clustermix.models.modes`) knows the
posterior's local shape before its first draw: the Hessian of the log posterior there, in
the sampler's unconstrained parameters. With a large field the posterior is close to the
Gaussian of that curvature, whose widths span three orders of magnitude (an sd of about
0.001–0.004 for a cluster's mean proper motion, order 1 for a field's log weight) and whose
parameters are correlated (the cluster's fraction with its dispersion, a mean with the
field's). nutpie's warm-up learns a diagonal mass matrix from unit scales: on
``phase_space`` its first 50 iterations take some 50 leapfrog steps each, and a diagonal
metric leaves the correlations to the step size.

:func:`whitening_at` computes the Hessian H at the mode x₀ from central differences of the
gradient (two gradients per parameter) and a square root S of the covariance (−H)⁻¹;
:func:`whitened_model` builds a PyMC model in z with x = x₀ + S z, whose log density is the
original's plus a constant (the map is linear), so its draws are the same posterior's. The
original free variables are Deterministics of z, named as before, so the trace holds them
exactly as an unwhitened fit's does. :func:`clustermix.fit.sampling.sample` starts each
chain within one posterior sd of the mode along every eigen-direction (uniform in [-1, 1]
in z, seeded), so that R-hat can see chains that have not mixed. Where the curvature is
not negative (a saddle, a flat direction) the eigen-direction keeps unit variance, as
without whitening; the sampler's own adaptation works on top either way, so a poor
curvature estimate only costs warm-up, never correctness.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.models.compiled import logp_dlogp as compiled_logp_dlogp

if TYPE_CHECKING:
    import pymc as pm
    from pymc.blocking import RaveledVars

log = logging.getLogger(__name__)

#: Name of the whitened vector in the whitened model (not stored in a trace).
WHITENED_NAME = "whitened__"
#: Relative step of the finite differences of the gradient that estimate the curvature.
CURVATURE_STEP = 1e-4
#: Bounds on the variances along the curvature's eigen-directions (unconstrained space).
VARIANCE_BOUNDS = (1e-10, 1e6)


@dataclass(frozen=True)
class Whitening:
    """The affine map x = ``centre`` + ``root`` @ z from whitened to unconstrained values.

    ``centre``: the raveled unconstrained mode; ``root``: a square root of the covariance
    there, ``root @ root.T = (−H)⁻¹``; ``flat_directions``: eigen-directions of the
    curvature left at unit variance (not curved downwards); ``layout``: each value
    variable's name, shape, size and dtype in the raveled vector (PyMC's
    ``RaveledVars.point_map_info``)."""

    centre: np.ndarray
    root: np.ndarray
    flat_directions: int
    layout: tuple[tuple[str, tuple[int, ...], int, Any], ...]
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        """What a trace's attributes say of the whitening: the parameters, the range of the
        posterior sd along the curvature's eigen-directions, the flat directions, and the
        seconds it took."""
        sd = np.linalg.svd(self.root, compute_uv=False)
        return {
            "parameters": int(self.centre.size),
            "sd_min": float(sd.min()),
            "sd_max": float(sd.max()),
            "flat_directions": int(self.flat_directions),
            "seconds": round(float(self.seconds), 3),
        }


def curvature_matrix(
    gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray, step: float = CURVATURE_STEP
) -> np.ndarray:
    """The symmetrised Hessian of log p at ``point`` (raveled unconstrained values) from
    central differences of ``gradient`` (d log p / dx): two gradients per parameter."""
    point = np.asarray(point, dtype=float)
    columns = []
    for index in range(point.size):
        shift = step * max(1.0, abs(point[index]))
        up, down = point.copy(), point.copy()
        up[index] += shift
        down[index] -= shift
        columns.append((gradient(up) - gradient(down)) / (2 * shift))
    hessian = np.column_stack(columns)
    return 0.5 * (hessian + hessian.T)


def covariance_root(hessian: np.ndarray) -> tuple[np.ndarray, int]:
    """A square root S of the covariance (−H)⁻¹ (S Sᵀ = (−H)⁻¹) along the eigen-directions
    of −H, and how many directions were left at unit variance because −H is not positive
    there (or not finite). Variances are clipped to :data:`VARIANCE_BOUNDS`."""
    precision = -np.asarray(hessian, dtype=float)
    if not np.all(np.isfinite(precision)):
        return np.eye(precision.shape[0]), precision.shape[0]
    eigenvalues, vectors = np.linalg.eigh(precision)
    curved = eigenvalues > 0
    variances = np.ones_like(eigenvalues)
    variances[curved] = 1.0 / eigenvalues[curved]
    variances = np.clip(variances, *VARIANCE_BOUNDS)
    return vectors * np.sqrt(variances), int((~curved).sum())


def raveled_start(model: pm.Model, initvals: Mapping[str, Any]) -> RaveledVars:
    """``initvals`` (free variables by name, constrained, as the mode search gives them) as
    the raveled unconstrained point of ``model.continuous_value_vars``, in their order: the
    input of the model's compiled gradient (:func:`clustermix.models.compiled.logp_dlogp`).
    ``.data`` is the vector, ``.point_map_info`` its layout."""
    from pymc.blocking import DictToArrayBijection
    from pymc.initial_point import make_initial_point_fn

    point = make_initial_point_fn(model=model, overrides=dict(initvals), jitter_rvs=set())(0)
    return DictToArrayBijection.map(
        {var.name: point[var.name] for var in model.continuous_value_vars}
    )


def whitening_at(
    model: pm.Model, initvals: Mapping[str, Any], compile_mode: str | None = None
) -> Whitening:
    """The whitening at ``initvals`` (a mode of ``model``), from the Hessian there of the
    log posterior compiled with PyTensor's ``compile_mode`` (None: C); its ``seconds``
    include compiling the gradient unless the mode search compiled it."""
    started = time.perf_counter()
    # the mode search's, if it ran on this model with this compile mode
    logp_dlogp = compiled_logp_dlogp(model, compile_mode)
    start = raveled_start(model, initvals)
    centre = np.asarray(start.data, dtype=float)

    def gradient(values: np.ndarray) -> np.ndarray:
        return np.asarray(logp_dlogp(values)[1], dtype=float)

    root, flat = covariance_root(curvature_matrix(gradient, centre))
    layout = tuple(tuple(entry) for entry in start.point_map_info)
    whitening = Whitening(centre, root, flat, layout, time.perf_counter() - started)
    log.info("NUTS in coordinates whitened at the mode: %s", whitening.record())
    return whitening


def whitened_model(model: pm.Model, whitening: Whitening) -> pm.Model:
    """A model of z (:data:`WHITENED_NAME`, flat prior) whose log density is ``model``'s at
    x = centre + root @ z (the Jacobian of the constraining transforms included), with each
    of ``model``'s free variables a Deterministic of z under its own name and dims."""
    import pymc as pm
    import pytensor.tensor as pt
    from pytensor.graph.replace import graph_replace

    log_posterior = model.logp(jacobian=True)
    constrained = model.replace_rvs_by_values(model.free_RVs)
    with pm.Model(coords=model.coords) as whitened:
        z = pm.Flat(WHITENED_NAME, shape=(whitening.centre.size,))
        x = pt.as_tensor(whitening.centre) + pt.dot(pt.as_tensor(whitening.root), z)
        values = {value.name: value for value in model.continuous_value_vars}
        replacements = {}
        offset = 0
        for name, shape, size, dtype in whitening.layout:
            replacements[values[name]] = x[offset : offset + size].reshape(shape).astype(dtype)
            offset += size
        pm.Potential("log_posterior", graph_replace(log_posterior, replacements, strict=False))
        for rv, graph in zip(model.free_RVs, constrained, strict=True):
            pm.Deterministic(
                rv.name,
                graph_replace(graph, replacements, strict=False),
                dims=model.named_vars_to_dims.get(rv.name),
            )
    return whitened

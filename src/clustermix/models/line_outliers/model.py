"""Model 0: a straight line with outliers, the seed tutorial's warm-up and our acceptance test.

The data are the tutorial's simulated points, regenerated from its seed. Each point i has
an abscissa x_i, an ordinate y_i and a known Gaussian uncertainty sigma_i. Inliers follow
the line, outliers a zero-centred Gaussian of unknown width s_out; marginalising the true
ordinates analytically gives, per point,

    p(y_i | theta) = w_in N(y_i | m x_i + b, sigma_i^2) + w_out N(y_i | 0, sigma_i^2 + s_out^2)

with the tutorial's priors: m ~ U(0, 10), b ~ N(0, 25), ln s_out ~ U(-3, 4) (so
s_out = exp(ln s_out), a 1/s_out prior on 0.05 < s_out < 55; the tutorial's Deterministic
called ``s_out`` is the variance exp(2 ln s_out)), and (w_in, w_out) ~ Dirichlet(1, 1).

Two implementations of the same likelihood (option ``likelihood``):

- ``"marginal"`` (the default): one custom distribution whose log-density is the sum above;
- ``"seed_mixture"``: the tutorial's second implementation, ``pm.Mixture`` of two
  ``pm.Normal`` components, with each component's log-density per point kept as the
  Deterministics ``logp1`` (inlier) and ``logp2`` (outlier).

Membership. Our probability that point i is an inlier is the posterior mean of
w_in L_in / (w_in L_in + w_out L_out) (``p_cluster``; :func:`weighted_membership`). The
tutorial computes the posterior mean of L_in / (L_in + L_out) from ``logp1`` and ``logp2``
(:func:`seed_membership`): the weights are left out, which amounts to w_in = w_out = 1/2
and, with w_in ~ 0.73 here, understates every ambiguous point's inlier probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from clustermix.errors import ConfigError
from clustermix.models import replication
from clustermix.models.line_outliers import predictive
from clustermix.models.mixture import cluster_fraction_per_star, normal_logpdf

NAME = "line_outliers"
#: The posterior predictive check's quantities, its fitted ``obs`` columns and their
#: observed values (:mod:`.predictive`).
QUANTITIES = predictive.QUANTITIES
OBS_QUANTITIES = predictive.OBS_QUANTITIES
observed_quantities = predictive.observed_quantities
DEFAULT_OPTIONS: dict[str, Any] = {"likelihood": "marginal"}  # or "seed_mixture"
LIKELIHOODS = ("marginal", "seed_mixture")

#: How the tutorial simulates its data (numpy default_rng seed, sizes, true line).
TUTORIAL_SEED = 42
TUTORIAL_N_POINTS = 32
TUTORIAL_N_OUTLIERS = 8
TUTORIAL_TRUTH: dict[str, float] = {"m": 3.17, "b": -11.9}

#: The posterior summary the tutorial prints (ArviZ ``az.summary``: mean, sd, ess_bulk) for
#: 2 chains x 1000 draws; the acceptance target of :mod:`tests.test_model_line_outliers`.
TUTORIAL_SUMMARY: dict[str, dict[str, float]] = {
    "m": {"mean": 3.137, "sd": 0.074, "ess_bulk": 1378.0},
    "b": {"mean": -11.979, "sd": 0.449, "ess_bulk": 1356.0},
    "w_inlier": {"mean": 0.734, "sd": 0.085, "ess_bulk": 1762.0},
}

COMPONENTS = ("inlier", "outlier")


def tutorial_data() -> dict[str, np.ndarray]:
    """The tutorial's simulated points, drawn in its exact call order from its seed.

    Returns ``x``, ``true_y`` (the noiseless ordinates: on the line, or the outlier draw),
    ``y``, ``y_err`` (N = 32 points, dimensionless), ``outlier_indices``
    (the 8 indices drawn with replacement, as the tutorial draws them; a repeated index
    is one outlier) and ``is_outlier`` (N booleans, the true labels).
    """
    rng = np.random.default_rng(seed=TUTORIAL_SEED)
    n = TUTORIAL_N_POINTS
    x = np.sort(rng.uniform(0, 10, n))
    true_y = TUTORIAL_TRUTH["m"] * x + TUTORIAL_TRUTH["b"]
    outlier_indices = rng.choice(n, size=TUTORIAL_N_OUTLIERS)
    true_y[outlier_indices] = rng.normal(0, 15, size=TUTORIAL_N_OUTLIERS)
    y_err = rng.uniform(0.5, 3, n)
    y = rng.normal(true_y, y_err)
    is_outlier = np.zeros(n, dtype=bool)
    is_outlier[outlier_indices] = True
    return {
        "x": x,
        "true_y": true_y,
        "y": y,
        "y_err": y_err,
        "outlier_indices": outlier_indices,
        "is_outlier": is_outlier,
    }


def prepare_data(catalog: Any, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """The tutorial's points; ``catalog`` (may be None), ``options`` and ``source`` are unused.

    Returns per-point arrays ``source_id`` (the point index), ``x``, ``y``, ``y_err`` and
    ``is_outlier`` (true labels).
    """
    data = tutorial_data()
    return {
        "source_id": np.arange(TUTORIAL_N_POINTS, dtype=np.int64),
        "x": data["x"],
        "y": data["y"],
        "y_err": data["y_err"],
        "is_outlier": data["is_outlier"],
    }


def component_log_terms(y, x, y_err, m, b, ln_s_out, w):
    """Per point, log(w_in N(y | m x + b, y_err^2)) and log(w_out N(y | 0, y_err^2 + s_out^2)).

    ``w`` holds (w_in, w_out) along its last axis; works on NumPy arrays and PyTensor tensors.
    """
    log_inlier = pt.log(w[..., 0]) + normal_logpdf(y, m * x + b, y_err**2)
    log_outlier = pt.log(w[..., 1]) + normal_logpdf(y, 0.0, y_err**2 + pt.exp(2.0 * ln_s_out))
    return log_inlier, log_outlier


def _obs_logp(value, m, b, ln_s_out, w, x, y_err):
    """The per-point mixture log-likelihood (the ``obs`` term)."""
    log_inlier, log_outlier = component_log_terms(value, x, y_err, m, b, ln_s_out, w)
    return pt.logaddexp(log_inlier, log_outlier)


def _obs_random(m, b, ln_s_out, w, x, y_err, rng=None, size=None):
    """Draw ordinates from the mixture (for posterior predictive checks)."""
    mean = m * x + b
    sd_out = np.sqrt(y_err**2 + np.exp(2.0 * ln_s_out))
    w_inlier = w[..., 0]
    if size is None:
        size = np.broadcast_shapes(mean.shape, sd_out.shape, w_inlier.shape)
    inlier = rng.random(size) < w_inlier
    return np.where(inlier, rng.normal(mean, y_err, size), rng.normal(0.0, sd_out, size))


def initial_values(data: dict[str, np.ndarray], options: dict[str, Any] | None = None) -> dict:
    """The tutorial's starting values (m = 3, b = -13, s_out = 10), keyed by variable name.

    For ``pm.sample(initvals=...)``; kept out of the model so that PyMC's model transforms
    (``pm.compute_log_likelihood``, nutpie's model freezing) accept it.
    """
    return {"m": np.float64(3.0), "b": np.float64(-13.0), "ln_s_out": np.log(10.0)}


def build_model(data: dict[str, np.ndarray], options: dict[str, Any] | None = None) -> pm.Model:
    """The tutorial's line + outlier mixture, with the tutorial's priors.

    Free parameters: ``m``, ``b``, ``ln_s_out`` (ln of the outlier width) and ``w``
    (dims ``component`` = inlier, outlier). ``p_cluster`` is the per-point inlier
    fraction w_in L_in / (w_in L_in + w_out L_out). ``options["likelihood"]`` chooses the
    implementation (module docstring); ``"seed_mixture"`` adds ``logp1`` and ``logp2``.
    """
    likelihood = {**DEFAULT_OPTIONS, **(options or {})}["likelihood"]
    if likelihood not in LIKELIHOODS:
        raise ConfigError(
            f"models.{NAME}.likelihood: {likelihood!r} is not one of {list(LIKELIHOODS)}"
        )
    coords = {"star": data["source_id"], "component": list(COMPONENTS)}
    with pm.Model(coords=coords) as model:
        x = pm.Data("x", data["x"], dims="star")
        y_err = pm.Data("y_err", data["y_err"], dims="star")
        y = pm.Data("y", data["y"], dims="star")
        m = pm.Uniform("m", 0.0, 10.0)
        b = pm.Normal("b", 0.0, 25.0)
        ln_s_out = pm.Uniform("ln_s_out", -3.0, 4.0)
        w = pm.Dirichlet("w", a=np.ones(2), dims="component")
        if likelihood == "seed_mixture":
            _seed_mixture(y, x, y_err, m, b, ln_s_out, w)
        else:
            pm.CustomDist(
                "obs",
                m,
                b,
                ln_s_out,
                w,
                x,
                y_err,
                logp=_obs_logp,
                random=_obs_random,
                signature="(),(),(),(k),(),()->()",
                observed=y,
                dims="star",
            )
        log_inlier, log_outlier = component_log_terms(y, x, y_err, m, b, ln_s_out, w)
        pm.Deterministic(
            "p_cluster", cluster_fraction_per_star(log_inlier, log_outlier), dims="star"
        )
    return model


def _seed_mixture(y, x, y_err, m, b, ln_s_out, w) -> None:
    """The tutorial's ``pm.Mixture`` likelihood ``obs`` with the component log-densities
    per point as Deterministics ``logp1`` (inlier) and ``logp2`` (outlier)."""
    inlier = pm.Normal.dist(m * x + b, y_err)
    outlier = pm.Normal.dist(0.0, pt.sqrt(y_err**2 + pt.exp(2.0 * ln_s_out)))
    pm.Deterministic("logp1", pm.logp(inlier, y), dims="star")
    pm.Deterministic("logp2", pm.logp(outlier, y), dims="star")
    pm.Mixture("obs", w=w, comp_dists=[inlier, outlier], observed=y, dims="star")


def seed_membership(logp1: np.ndarray, logp2: np.ndarray) -> np.ndarray:
    """The tutorial's inlier probability per point: the mean over draws (first axis) of
    L_in / (L_in + L_out) from the component log-densities (weights left out)."""
    return np.exp(logp1 - np.logaddexp(logp1, logp2)).mean(axis=0)


def weighted_membership(logp1: np.ndarray, logp2: np.ndarray, w_inlier: np.ndarray) -> np.ndarray:
    """Our inlier probability per point: the mean over draws (first axis) of
    w_in L_in / (w_in L_in + (1 - w_in) L_out); ``w_inlier`` has one value per draw."""
    log_in = np.log(w_inlier)[:, None] + logp1
    log_out = np.log1p(-w_inlier)[:, None] + logp2
    return np.exp(log_in - np.logaddexp(log_in, log_out)).mean(axis=0)


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any] | None = None
) -> dict[str, xr.DataArray]:
    """Posterior draws of the slope ``m``, intercept ``b`` and inlier weight ``w_inlier``."""
    return {
        "m": posterior["m"].rename("m"),
        "b": posterior["b"].rename("b"),
        "w_inlier": posterior["w"].sel(component="inlier", drop=True).rename("w_inlier"),
    }


def true_values(truth: Any, data: dict[str, np.ndarray]) -> dict[str, float]:
    """The tutorial's true line and inlier fraction (``truth`` is unused: no simulator)."""
    is_outlier = tutorial_data()["is_outlier"]
    return {**TUTORIAL_TRUTH, "w_inlier": float(1.0 - is_outlier.mean())}


# ---------------------------------------------------------------------------- predictive check


#: The posterior predictive check's replicates, from ``obs``'s random function
#: (:func:`~clustermix.models.replication.replicator`).
replicate = replication.replicator(build_model, QUANTITIES)

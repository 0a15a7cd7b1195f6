"""NUTS in coordinates whitened at the mode (clustermix.fit.whitening): the same posterior,
fewer leapfrog steps."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from pymc.blocking import DictToArrayBijection, RaveledVars
from scipy import optimize

from clustermix.fit.sampling import sample, trace_attrs
from clustermix.fit.whitening import (
    WHITENED_NAME,
    covariance_root,
    curvature_matrix,
    raveled_start,
    whitened_model,
    whitening_at,
)
from clustermix.models.compiled import logp_dlogp
from tests import toy_model as toy

SEED = 11


@pytest.fixture(scope="module")
def toy_fit() -> tuple[pm.Model, dict[str, float]]:
    """The toy mixture (bounded, positive and unit-interval parameters) and its mode."""
    catalog, _ = toy.simulate()
    data = toy.prepare_data(catalog, toy.DEFAULT_OPTIONS, "toy catalogue")
    model = toy.build_model(data, toy.DEFAULT_OPTIONS)
    function = logp_dlogp(model)
    start = raveled_start(
        model, {"mu_cl": -2.9, "s_cl": 0.15, "mu_f": -1.0, "ds": 3.0, "f_cluster": 0.3}
    )

    def cost(x: np.ndarray) -> tuple[float, np.ndarray]:
        logp, gradient = function(x)
        return -float(logp), -np.asarray(gradient, dtype=float)

    result = optimize.minimize(cost, start.data, jac=True, method="L-BFGS-B")
    point = DictToArrayBijection.rmap(RaveledVars(result.x, start.point_map_info))
    constrained = model.compile_fn(
        model.replace_rvs_by_values(model.free_RVs), inputs=model.value_vars
    )(point)
    mode = {rv.name: float(v) for rv, v in zip(model.free_RVs, constrained, strict=True)}
    return model, mode


def test_curvature_and_root_of_a_gaussian() -> None:
    """On a correlated Gaussian log density the finite-difference Hessian is the negative
    precision to rounding, and S Sᵀ is the covariance; a direction that is not curved
    downwards keeps unit variance and is counted."""
    # sd 0.001 and 1 (a cluster's mean motion and a field weight), correlation 0.9
    sd, correlation = np.array([1e-3, 1.0]), 0.9
    covariance = np.outer(sd, sd) * np.array([[1.0, correlation], [correlation, 1.0]])
    precision = np.linalg.inv(covariance)
    hessian = curvature_matrix(lambda x: -precision @ x, np.array([0.3, -2.0]))
    np.testing.assert_allclose(hessian, -precision, rtol=1e-6)
    root, flat = covariance_root(hessian)
    np.testing.assert_allclose(root @ root.T, covariance, rtol=1e-8, atol=1e-14)
    assert flat == 0
    root, flat = covariance_root(np.diag([-4.0, 2.0]))
    assert flat == 1
    np.testing.assert_allclose(np.sort(np.diag(root @ root.T)), [0.25, 1.0])


def test_whitened_model_is_the_same_posterior(toy_fit: tuple[pm.Model, dict]) -> None:
    """The whitened model's log density at z equals the original's at x = centre + S z
    plus one constant (the map is linear), at random points ±3 posterior sd around the
    mode, and its Deterministics are the original free variables at x."""
    model, mode = toy_fit
    whitening = whitening_at(model, mode)
    whitened = whitened_model(model, whitening)
    assert [rv.name for rv in whitened.free_RVs] == [WHITENED_NAME]
    logp_z = whitened.compile_logp()
    logp_x = model.compile_logp()
    values_of = whitened.compile_fn(
        whitened.replace_rvs_by_values([whitened[rv.name] for rv in model.free_RVs]),
        inputs=whitened.value_vars,
    )
    constrained = model.compile_fn(
        model.replace_rvs_by_values(model.free_RVs), inputs=model.value_vars
    )
    rng = np.random.default_rng(SEED)
    differences = []
    for _ in range(5):
        z = rng.uniform(-3, 3, whitening.centre.size)
        x = whitening.centre + whitening.root @ z
        point = DictToArrayBijection.rmap(RaveledVars(x, whitening.layout))
        differences.append(logp_z({WHITENED_NAME: z}) - logp_x(point))
        np.testing.assert_allclose(values_of({WHITENED_NAME: z}), constrained(point), rtol=1e-12)
    np.testing.assert_allclose(differences, differences[0], atol=1e-8)
    # x is the unconstrained mode at z = 0
    np.testing.assert_allclose(whitening.centre, raveled_start(model, mode).data)


def test_whitened_nutpie_samples_the_same_posterior_with_fewer_steps(
    toy_fit: tuple[pm.Model, dict],
) -> None:
    """Started at the mode, whitened nutpie draws the same with the same seed, and
    whitened and plain nutpie agree on every free parameter's
    posterior mean within 4 combined Monte Carlo standard errors (from each trace's ESS)
    and on its sd within 15% (the sd's relative Monte Carlo error with ESS ≥ 400 is about
    1/sqrt(2 ESS) ≤ 4% per fit); the whitened warm-up takes fewer leapfrog steps."""
    import arviz as az

    model, mode = toy_fit
    settings = dict(
        backend="nutpie",
        chains=2,
        tune=300,
        draws=600,
        seed=SEED,
        cores=2,
        initvals=mode,
        jitter=False,
        progress_interval=None,
    )
    plain = sample(model, **settings)
    whitened = sample(model, whiten=True, store_log_likelihood=True, **settings)
    again = sample(model, whiten=True, **settings)
    assert set(whitened.posterior.data_vars) == set(plain.posterior.data_vars)
    assert "log_likelihood" in whitened.groups()  # of the original model's observed stars
    for name in mode:  # same seed, same draws
        np.testing.assert_array_equal(whitened.posterior[name], again.posterior[name])
    assert trace_attrs(whitened)["whitening"]["parameters"] == len(mode)
    for name in mode:
        a, b = az.summary(plain, var_names=[name]), az.summary(whitened, var_names=[name])
        assert min(a["ess_bulk"].iloc[0], b["ess_bulk"].iloc[0]) >= 400
        mcse = np.hypot(a["mcse_mean"].iloc[0], b["mcse_mean"].iloc[0])
        assert abs(a["mean"].iloc[0] - b["mean"].iloc[0]) <= 4 * mcse, name
        assert b["sd"].iloc[0] / a["sd"].iloc[0] == pytest.approx(1.0, abs=0.15), name
    steps = {
        label: int(trace.warmup_sample_stats["n_steps"].sum())
        for label, trace in (("plain", plain), ("whitened", whitened))
    }
    assert steps["whitened"] < steps["plain"], steps

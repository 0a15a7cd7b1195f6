"""The straight line with outliers: the library's acceptance test against the seed tutorial."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy import stats

from clustermix.errors import ConfigError
from clustermix.models import SUMMARY_UNITS
from clustermix.models.line_outliers import model as line_outliers

from .test_mixture import auc, obs_logp_per_star, sample_free

TRUTH = line_outliers.TUTORIAL_TRUTH
TUTORIAL = line_outliers.TUTORIAL_SUMMARY
#: The tutorial prints 3 decimals: a rounding error uniform in +-0.0005, sd 0.0005 / sqrt(3).
ROUNDING_SD = 0.0005 / np.sqrt(3.0)
#: Tolerance in combined Monte Carlo standard errors. If both runs sample the same
#: posterior, (ours - tutorial) / combined_mcse is ~ N(0, 1): |z| > 4 has probability
#: 6e-5 per quantity (2e-4 for the 6 checks), so a failure means a different posterior.
K_MCSE = 4.0


def fit_line(likelihood: str) -> tuple[dict, pm.Model, az.InferenceData]:
    options = {**line_outliers.DEFAULT_OPTIONS, "likelihood": likelihood}
    data = line_outliers.prepare_data(None, options, "tutorial")
    model = line_outliers.build_model(data, options)
    # twice the tutorial's draws, so that our Monte Carlo error is the smaller one
    idata = sample_free(
        model, seed=42, draws=2000, tune=1000, initvals=line_outliers.initial_values(data)
    )
    return data, model, idata


@pytest.fixture(scope="module")
def fit() -> tuple[dict, pm.Model, az.InferenceData]:
    return fit_line("marginal")


@pytest.fixture(scope="module")
def seed_fit() -> tuple[dict, pm.Model, az.InferenceData]:
    """The tutorial's second implementation: pm.Mixture with logp1/logp2 Deterministics."""
    return fit_line("seed_mixture")


def test_tutorial_data_follow_the_tutorial_recipe() -> None:
    data = line_outliers.tutorial_data()
    again = line_outliers.tutorial_data()
    for key, value in data.items():
        np.testing.assert_array_equal(value, again[key])
    x, y, y_err = data["x"], data["y"], data["y_err"]
    assert x.shape == y.shape == y_err.shape == (32,)
    assert np.all(np.diff(x) >= 0) and x.min() >= 0 and x.max() <= 10
    assert y_err.min() >= 0.5 and y_err.max() <= 3
    # the labels are the drawn indices; with this seed none is repeated (8 distinct outliers)
    assert data["is_outlier"].sum() == np.unique(data["outlier_indices"]).size == 8
    line = TRUTH["m"] * x + TRUTH["b"]
    np.testing.assert_array_equal(data["true_y"][~data["is_outlier"]], line[~data["is_outlier"]])
    # inliers scatter as N(line, y_err): for 24 points P(any |z| > 4) ~ 24 * 6e-5
    assert np.all(np.abs(y - line)[~data["is_outlier"]] / y_err[~data["is_outlier"]] < 4)


def test_prepare_data_ignores_the_catalogue() -> None:
    data = line_outliers.prepare_data(None, {}, "unused")
    np.testing.assert_array_equal(data["source_id"], np.arange(32))
    np.testing.assert_array_equal(data["y"], line_outliers.tutorial_data()["y"])


@pytest.mark.parametrize(
    "point",
    [
        {"m": 3.17, "b": -11.9, "ln_s_out": 2.3, "w": [0.75, 0.25]},
        {"m": 1.0, "b": 5.0, "ln_s_out": -2.5, "w": [0.1, 0.9]},
        {"m": 9.5, "b": -40.0, "ln_s_out": 3.9, "w": [0.99, 0.01]},
    ],
)
def test_obs_logp_matches_scipy(point: dict) -> None:
    data = line_outliers.prepare_data(None, {}, "tutorial")
    model = line_outliers.build_model(data)
    x, y, y_err = data["x"], data["y"], data["y_err"]
    w_in, w_out = point["w"]
    s_out = np.exp(point["ln_s_out"])
    log_in = np.log(w_in) + stats.norm.logpdf(y, point["m"] * x + point["b"], y_err)
    log_out = np.log(w_out) + stats.norm.logpdf(y, 0.0, np.hypot(y_err, s_out))
    expected = np.logaddexp(log_in, log_out)
    np.testing.assert_allclose(obs_logp_per_star(model, point), expected, rtol=1e-10)


@pytest.mark.parametrize("which", ["fit", "seed_fit"])
def test_posterior_matches_the_tutorial_summary(which: str, request) -> None:
    data, _, idata = request.getfixturevalue(which)
    draws = xr.Dataset(line_outliers.summary_quantities(idata.posterior, data))
    assert set(draws) <= set(SUMMARY_UNITS)
    assert float(az.rhat(draws).to_array().max()) < 1.01
    ess = az.ess(draws)
    mcse = az.mcse(draws)
    for name, reference in TUTORIAL.items():
        mean, sd = float(draws[name].mean()), float(draws[name].std())
        # MCSE of the tutorial's mean: sd / sqrt(ess_bulk), as az.summary computes it
        tutorial_mcse = reference["sd"] / np.sqrt(reference["ess_bulk"])
        tolerance = K_MCSE * np.sqrt(float(mcse[name]) ** 2 + tutorial_mcse**2 + ROUNDING_SD**2)
        assert abs(mean - reference["mean"]) < tolerance, (name, mean, reference, tolerance)
        # MC error of a standard deviation from n effective draws: sd / sqrt(2 n)
        # (Gaussian approximation), for both runs, plus the rounding of the printed value
        sd_error = np.sqrt(
            reference["sd"] ** 2 / (2 * reference["ess_bulk"])
            + sd**2 / (2 * float(ess[name]))
            + ROUNDING_SD**2
        )
        assert abs(sd - reference["sd"]) < K_MCSE * sd_error, (name, sd, reference, sd_error)


def test_membership_singles_out_the_outliers(fit) -> None:
    data, model, idata = fit
    p_inlier = (
        pm.compute_deterministics(
            idata.posterior, var_names=["p_cluster"], model=model, progressbar=False
        )["p_cluster"]
        .mean(("chain", "draw"))
        .to_numpy()
    )
    truth = line_outliers.tutorial_data()
    is_outlier, y_err = truth["is_outlier"], truth["y_err"]
    line = TRUTH["m"] * truth["x"] + TRUTH["b"]
    # One of the 8 simulated outliers (index 15) drew an ordinate 0.2 y_err from the line:
    # no model can tell it from an inlier. The other 7 lie more than 3 y_err away (truth).
    displaced = is_outlier & (np.abs(truth["true_y"] - line) > 3 * y_err)
    hidden = is_outlier & ~displaced
    assert displaced.sum() == 7 and np.flatnonzero(hidden).tolist() == [15]
    # every displaced outlier is less likely an inlier than every true inlier
    keep = displaced | ~is_outlier
    assert auc(-p_inlier[keep], displaced[keep]) == 1.0
    # the hidden one is (rightly) called an inlier
    assert p_inlier[hidden][0] > 0.5
    # Points more than 5 y_err from the line: the inlier density is <= phi(5) / 0.5 = 3e-6,
    # the outlier one (s_out ~ 10, |y| < 20) >= phi(2) / 10.3 = 5e-3, w_in / w_out ~ 3:
    # p_inlier ~ 2e-3, so 0.05 leaves a factor 25 of margin.
    far = np.abs(data["y"] - line) / y_err > 5
    assert far.sum() >= 5
    assert np.all(p_inlier[far] < 0.05)


def p_cluster_draws(model: pm.Model, idata: az.InferenceData) -> np.ndarray:
    """The per-point p_cluster Deterministic, (draws, points)."""
    p = pm.compute_deterministics(
        idata.posterior, var_names=["p_cluster"], model=model, progressbar=False
    )["p_cluster"]
    return p.stack(sample=("chain", "draw")).transpose("sample", "star").to_numpy()


def test_seed_mixture_memberships_match_ours_and_the_seed_formula_leaves_out_the_weights(
    fit, seed_fit
) -> None:
    _, model, idata = fit
    _, seed_model, seed_idata = seed_fit
    components = pm.compute_deterministics(
        seed_idata.posterior, var_names=["logp1", "logp2"], model=seed_model, progressbar=False
    ).stack(sample=("chain", "draw"))
    logp1 = components["logp1"].transpose("sample", "star").to_numpy()
    logp2 = components["logp2"].transpose("sample", "star").to_numpy()
    post = seed_idata.posterior.stack(sample=("chain", "draw"))
    w_in = post["w"].sel(component="inlier").to_numpy()
    # the Deterministics are the components' log-densities: ours rebuilt from them is the
    # seed model's own p_cluster draw by draw
    weighted = line_outliers.weighted_membership(logp1, logp2, w_in)
    np.testing.assert_allclose(weighted, p_cluster_draws(seed_model, seed_idata).mean(0))
    # and it matches the marginal implementation's memberships within Monte Carlo error:
    # two independent runs, each mean with sd <= sd_draws / sqrt(ESS); ESS >= 1000 here
    ours = p_cluster_draws(model, idata)
    spread = np.hypot(ours.std(0), np.exp(logp1 - np.logaddexp(logp1, logp2)).std(0))
    tolerance = K_MCSE * np.maximum(spread, 1e-3) / np.sqrt(1000.0)
    assert np.all(np.abs(weighted - ours.mean(0)) < tolerance)
    # the seed's expression: no weights, i.e. w_in = w_out = 1/2
    seed = line_outliers.seed_membership(logp1, logp2)
    np.testing.assert_allclose(
        seed, line_outliers.weighted_membership(logp1, logp2, np.full_like(w_in, 0.5))
    )
    # with w_in ~ 0.73 > 1/2 it understates every inlier probability that is not 0 or 1
    ambiguous = (weighted > 0.02) & (weighted < 0.98)
    assert ambiguous.sum() >= 3
    assert np.all(seed[ambiguous] < weighted[ambiguous])


def test_unknown_likelihood_is_an_error() -> None:
    data = line_outliers.prepare_data(None, {}, "tutorial")
    with pytest.raises(ConfigError, match="likelihood"):
        line_outliers.build_model(data, {"likelihood": "mixture"})


def test_log_likelihood_and_predictive_draws(fit) -> None:
    _, model, idata = fit
    thinned = idata.sel(draw=slice(0, None, 100))
    log_lik = pm.compute_log_likelihood(
        thinned, model=model, extend_inferencedata=False, progressbar=False
    )
    assert log_lik["obs"].dims == ("chain", "draw", "star")
    predictive = pm.sample_posterior_predictive(
        thinned, model=model, random_seed=1, progressbar=False
    ).posterior_predictive["obs"]
    assert predictive.shape == (2, 20, 32)
    assert np.isfinite(predictive).all()


def test_true_values_are_the_tutorial_line() -> None:
    data = line_outliers.prepare_data(None, {}, "tutorial")
    truth = line_outliers.true_values(None, data)
    assert truth == {"m": 3.17, "b": -11.9, "w_inlier": 0.75}

"""Model 3 (2D proper motions with covariances): likelihood against SciPy, recovery, bad input."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytest
from astropy.table import Table
from scipy import stats
from scipy.special import logsumexp

from clustermix.errors import InputDataError
from clustermix.models import SUMMARY_UNITS
from clustermix.models.pm_2d import model as pm_2d

from .test_mixture import (
    assert_mixture_at,
    auc,
    binned_field_log_density,
    equal_tailed_interval,
    obs_logp_per_star,
    ordered_or_free,
    sample_free,
    transformed_point,
)

SOURCE = "synthetic.fits"
#: The module's options with K fixed (a fit resolves "auto" from the control field first),
#: the field fitted jointly with the cluster (these tables have no control field) and the
#: cluster-size floor off, so that small test fields may take any fraction.
OPTIONS = {
    **pm_2d.DEFAULT_OPTIONS,
    "n_field_components": 2,
    "cluster_min_members": 1,
    "field_model": "joint",
}
ID_BASE = 2_076_000_000_000_000_000
#: NGC 6819-like cluster: mean proper motion (mas/yr), intrinsic dispersion (1 km/s at
#: 2.7 kpc, mas/yr) and member fraction
TRUE_CLUSTER = {"pmra_cl": -2.91, "pmdec_cl": -3.86, "sigma_cl": 0.08, "f_cluster": 0.25}
#: A broad, off-centre two-component field with correlated axes (mas/yr)
TRUE_FIELD = {
    "w": np.array([0.6, 0.4]),
    "mean": np.array([[-1.0, -5.5], [-4.0, -7.0]]),
    "sd": np.array([[2.0, 2.5], [5.0, 6.0]]),
    "rho": np.array([0.3, -0.2]),
}


def component_covariances(sd: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """(K, 2, 2) covariance matrices from per-axis sds (K, 2) and correlations (K,)."""
    cov = np.einsum("ki,kj->kij", sd, sd)
    cov[:, 0, 1] *= rho
    cov[:, 1, 0] *= rho
    return cov


def star_covariances(data: dict) -> np.ndarray:
    """(n, 2, 2) measurement covariances of the stars."""
    sd = np.column_stack([data["pmra_error"], data["pmdec_error"]])
    return component_covariances(sd, data["pmra_pmdec_corr"])


def simulate(seed: int, n: int = 400) -> tuple[Table, np.ndarray]:
    """Stars drawn from the model's own generative process; returns the table and labels."""
    rng = np.random.default_rng(seed)
    member = rng.random(n) < TRUE_CLUSTER["f_cluster"]
    component = rng.choice(2, size=n, p=TRUE_FIELD["w"])
    field_cov = component_covariances(TRUE_FIELD["sd"], TRUE_FIELD["rho"])
    true_pm = np.empty((n, 2))
    centre = [TRUE_CLUSTER["pmra_cl"], TRUE_CLUSTER["pmdec_cl"]]
    true_pm[member] = rng.normal(centre, TRUE_CLUSTER["sigma_cl"], (member.sum(), 2))
    for k in range(2):
        chosen = ~member & (component == k)
        true_pm[chosen] = rng.multivariate_normal(TRUE_FIELD["mean"][k], field_cov[k], chosen.sum())
    errors = {
        "pmra_error": rng.uniform(0.05, 0.5, n),
        "pmdec_error": rng.uniform(0.05, 0.5, n),
        "pmra_pmdec_corr": rng.uniform(-0.5, 0.5, n),
    }
    # the measurement: true value + correlated Gaussian noise (Cholesky factor per star)
    noise = np.einsum(
        "nij,nj->ni", np.linalg.cholesky(star_covariances(errors)), rng.normal(size=(n, 2))
    )
    observed = true_pm + noise
    table = Table(
        {
            "source_id": ID_BASE + np.arange(n, dtype=np.int64),
            "pmra": observed[:, 0],
            "pmdec": observed[:, 1],
            **errors,
            "in_cluster_region": rng.random(n) < 0.5,
            "in_control_field": np.zeros(n, dtype=bool),
        }
    )
    return table, member


def log_terms_scipy(data: dict, cluster: dict, field: dict) -> tuple[np.ndarray, np.ndarray]:
    """log(f L_cluster) and log((1 - f) L_field) per star with scipy's multivariate_normal."""
    values = np.column_stack([data["pmra"], data["pmdec"]])
    cov_i = star_covariances(data)
    centre = [cluster["pmra_cl"], cluster["pmdec_cl"]]
    cov_field = component_covariances(field["sd"], field["rho"])
    f = cluster["f_cluster"]
    log_cl, log_field = np.empty(len(values)), np.empty(len(values))
    for i, x in enumerate(values):
        cov_cl = cov_i[i] + cluster["sigma_cl"] ** 2 * np.eye(2)
        log_cl[i] = np.log(f) + stats.multivariate_normal.logpdf(x, centre, cov_cl)
        terms = [
            np.log(w) + stats.multivariate_normal.logpdf(x, mean, cov_i[i] + cov)
            for w, mean, cov in zip(field["w"], field["mean"], cov_field, strict=True)
        ]
        log_field[i] = np.log1p(-f) + logsumexp(terms)
    return log_cl, log_field


@pytest.fixture(scope="module")
def fit():
    table, member = simulate(seed=6819)
    options = OPTIONS
    data = pm_2d.prepare_data(table, options, SOURCE)
    model = pm_2d.build_model(data, options)
    idata = sample_free(
        model, seed=1, draws=500, tune=500, initvals=pm_2d.initial_values(data, options)
    )
    return data, member, model, idata


@pytest.mark.parametrize(
    ("k", "order", "seed"), [(2, "width", 0), (2, "pmra", 1), (3, "width", 2), (1, "pmra", 3)]
)
def test_obs_logp_and_p_cluster_match_scipy(k: int, order: str, seed: int) -> None:
    table, _ = simulate(seed=10 + seed, n=150)
    options = {**OPTIONS, "n_field_components": k, "order_field_by": order}
    data = pm_2d.prepare_data(table, options, SOURCE)
    model = pm_2d.build_model(data, options)
    rng = np.random.default_rng(seed)
    pmra_means = np.sort(rng.normal(-4, 3, k))
    log_excess = np.sort(rng.normal(1.0, 0.5, k))
    weights = rng.dirichlet(np.ones(k))
    point = {
        "pmra_cl": rng.normal(-3, 1),
        "pmdec_cl": rng.normal(-4, 1),
        "sigma_cl": rng.uniform(0.01, 1.0),
        "f_cluster": rng.uniform(0.05, 0.95),
        **ordered_or_free("pmra_field", pmra_means, order == "pmra"),
        "pmdec_field": rng.normal(-5, 2, k),
        **ordered_or_free("log_excess_sigma_field", log_excess, order == "width"),
        "log_axis_ratio_field": rng.normal(0.0, 0.5, k),
        "rho_field_beta": rng.uniform(0.05, 0.95, k),
        **({"w_field": weights} if k > 1 else {}),
    }
    # the same parameters written out in the model's definitions, independently
    half = 0.5 * point["log_axis_ratio_field"]
    field = {
        "w": weights,
        "mean": np.column_stack([pmra_means, point["pmdec_field"]]),
        "sd": point["sigma_cl"] + np.exp(np.column_stack([log_excess + half, log_excess - half])),
        "rho": 2 * point["rho_field_beta"] - 1,
    }
    log_cl, log_field = log_terms_scipy(data, point, field)
    assert_mixture_at(model, point, log_cl, log_field, rtol=(1e-10, 1e-9))


def test_recovers_the_simulated_cluster(fit) -> None:
    data, member, _, idata = fit
    posterior = idata.posterior
    # short chains (2 x 500): R-hat below 1.05 for every free parameter, no divergence
    assert float(az.rhat(posterior).to_array().max()) < 1.05
    assert int(idata.sample_stats["diverging"].sum()) == 0
    truth = {**TRUE_CLUSTER, "f_cluster": float(member.mean())}
    for name, value in truth.items():
        low, high = equal_tailed_interval(posterior[name], 0.95)
        assert low < value < high, (name, value, low, high)
    summary = pm_2d.summary_quantities(posterior, data)
    assert set(summary) == {"pmra", "pmdec", "f_cluster"} <= set(SUMMARY_UNITS)
    assert all(draws.dims == ("chain", "draw") for draws in summary.values())


def test_membership_separates_members_from_field(fit) -> None:
    data, member, model, idata = fit
    p_cluster = (
        pm.compute_deterministics(
            idata.posterior, var_names=["p_cluster"], model=model, progressbar=False
        )["p_cluster"]
        .mean(("chain", "draw"))
        .to_numpy()
    )
    log_cl, log_field = log_terms_scipy(data, TRUE_CLUSTER, TRUE_FIELD)
    oracle = auc(log_cl - log_field, member)
    ours = auc(p_cluster, member)
    # The AUC's sampling sd with ~100 members / ~300 field stars at AUC ~ 0.99 is ~0.005
    # (Hanley & McNeil 1982): ours may fall at most ~2 sd below that of the true parameters.
    assert ours >= 0.95
    assert ours > oracle - 0.01, (ours, oracle)


def test_log_likelihood_and_predictive_draws(fit) -> None:
    data, _, model, idata = fit
    thinned = idata.sel(draw=slice(0, None, 50))
    log_lik = pm.compute_log_likelihood(
        thinned, model=model, extend_inferencedata=False, progressbar=False
    )
    assert log_lik["obs"].dims == ("chain", "draw", "star")
    predictive = pm.sample_posterior_predictive(
        thinned, model=model, random_seed=1, progressbar=False
    ).posterior_predictive["obs"]
    assert predictive.dims == ("chain", "draw", "star", "axis")
    assert predictive.shape == (2, 10, data["pmra"].size, 2)
    # predictive spread per axis ~ the data's: ~4000 draws per axis, sd error ~ 2-3 %
    observed_sd = [data["pmra"].std(), data["pmdec"].std()]
    np.testing.assert_allclose(
        predictive.std(("chain", "draw", "star")).to_numpy(), observed_sd, rtol=0.15
    )


def test_true_values_from_simulator_truth() -> None:
    table, _ = simulate(seed=3, n=100)
    data = pm_2d.prepare_data(table, OPTIONS, SOURCE)
    members = [int(i) for i in data["source_id"][:20]]
    truth = {"pmra": -2.91, "pmdec": -3.86, "parallax": 0.36, "member_source_ids": members}
    assert pm_2d.true_values(truth, data) == {"pmra": -2.91, "pmdec": -3.86, "f_cluster": 0.2}


def test_bad_input_is_refused_before_sampling() -> None:
    table, _ = simulate(seed=4, n=100)
    options = OPTIONS
    empty = table.copy()
    empty["in_cluster_region"] = False
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*in_cluster_region.*100 rows"):
        pm_2d.prepare_data(empty, {**options, "stars": "cluster_region"}, SOURCE)
    all_nan = table.copy()
    all_nan["pmra"] = np.nan
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*'pmra'.*100 of the 100"):
        pm_2d.prepare_data(all_nan, options, SOURCE)
    bad_corr = table.copy()
    bad_corr["pmra_pmdec_corr"][:2] = 1.0
    with pytest.raises(InputDataError, match=r"'pmra_pmdec_corr'.*2 of the 100"):
        pm_2d.prepare_data(bad_corr, options, SOURCE)
    missing = table.copy()
    missing.remove_column("pmdec_error")
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*'pmdec_error' is missing"):
        pm_2d.prepare_data(missing, options, SOURCE)
    few = table[:35]  # K = 3 field components need 10 * (3 + 1) = 40 stars
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*35.*'pmra'.*40"):
        pm_2d.prepare_data(few, {**options, "n_field_components": 3}, SOURCE)


@pytest.mark.parametrize("order", ["width", "pmra"])
def test_default_and_data_driven_starts_are_valid(order: str) -> None:
    table, _ = simulate(seed=6, n=300)
    options = {**OPTIONS, "order_field_by": order}
    data = pm_2d.prepare_data(table, options, SOURCE)
    model = pm_2d.build_model(data, options)
    logp = model.compile_logp()
    assert np.isfinite(logp(model.initial_point()))
    start = pm_2d.initial_values(data, options)
    assert set(start) == {rv.name for rv in model.free_RVs}
    assert np.isfinite(logp(transformed_point(model, start)))
    # the EM start puts the cluster within 0.1 mas/yr of the truth (members known to ~0.02)
    assert abs(start["pmra_cl"] - TRUE_CLUSTER["pmra_cl"]) < 0.1


# ------------------------------------------------------- the field learned on the control field


def simulate_magnitude_dependent_field(seed: int, n: int = 3000) -> tuple[Table, np.ndarray]:
    """A field whose proper motions change with G, as a real one's do: bright stars (G < 18)
    are nearby and kinematically hot (sd 5 mas/yr), faint ones distant and cold (sd 1.2
    mas/yr) with a mean 1 mas/yr from the cluster's; proper-motion errors grow with G.
    Half of the stars are in the control field, where there are no members; the cluster
    (TRUE_CLUSTER's motion, 10% of the other half) has the field's magnitude distribution.
    Returns the table and the true member labels."""
    rng = np.random.default_rng(seed)
    g_mag = rng.uniform(14.0, 20.5, n)
    control = np.arange(n) < n // 2
    member = ~control & (rng.random(n) < 0.10)
    faint = g_mag > 18.0
    centre = np.array([TRUE_CLUSTER["pmra_cl"], TRUE_CLUSTER["pmdec_cl"]])
    true_pm = np.where(
        faint[:, None],
        rng.normal(centre + np.array([0.7, -0.7]), 1.2, (n, 2)),
        rng.normal(centre + np.array([1.0, -2.0]), 5.0, (n, 2)),
    )
    true_pm[member] = rng.normal(centre, TRUE_CLUSTER["sigma_cl"], (member.sum(), 2))
    error = 0.02 * 10 ** (0.2 * (g_mag - 15.0))
    observed = true_pm + error[:, None] * rng.normal(size=(n, 2))
    table = Table(
        {
            "source_id": ID_BASE + np.arange(n, dtype=np.int64),
            "pmra": observed[:, 0],
            "pmdec": observed[:, 1],
            "pmra_error": error,
            "pmdec_error": error,
            "pmra_pmdec_corr": np.zeros(n),
            "phot_g_mean_mag": g_mag,
            "in_cluster_region": ~control,
            "in_control_field": control,
        }
    )
    return table, member


CONTROL_OPTIONS = {**OPTIONS, "field_model": "control_field", "field_magnitude_bins": 2}


def test_control_field_model_holds_each_bins_deconvolved_mixture() -> None:
    """Each star's field is the error-deconvolved mixture of the control stars of its G bin,
    and the likelihood is the mixture with those (scipy, star by star)."""
    from clustermix.models.field_choice import control_field_mixture

    table, _ = simulate_magnitude_dependent_field(seed=3, n=1200)
    data = pm_2d.prepare_data(table, CONTROL_OPTIONS, SOURCE)
    control = np.asarray(table["in_control_field"])
    stars = {name: np.asarray(table[name])[control] for name in pm_2d.COLUMNS}
    mixture = control_field_mixture(
        *pm_2d.field_observables(stars), np.asarray(table["phot_g_mean_mag"])[control], 2, 2
    )
    assert mixture["g_edges"].size == 1
    bins = np.searchsorted(mixture["g_edges"], np.asarray(table["phot_g_mean_mag"]))
    np.testing.assert_allclose(data["field_weights"], mixture["weights"][bins])
    np.testing.assert_allclose(data["field_means"], mixture["means"][bins])
    # the bins learn different fields: the faint one is colder
    widths = np.sqrt(np.einsum("bkii->bk", mixture["covariances"]))
    assert (mixture["weights"] * widths).sum(axis=1)[1] < (mixture["weights"] * widths).sum(axis=1)[
        0
    ]
    model = pm_2d.build_model(data, CONTROL_OPTIONS)
    assert {rv.name for rv in model.free_RVs} == {"pmra_cl", "pmdec_cl", "sigma_cl", "f_cluster"}
    cluster = {"pmra_cl": -2.9, "pmdec_cl": -3.9, "sigma_cl": 0.1, "f_cluster": 0.07}
    logp = obs_logp_per_star(model, cluster)
    values = np.column_stack([data["pmra"], data["pmdec"]])
    cov_i = star_covariances(data)
    log_cluster = [
        stats.multivariate_normal.logpdf(
            x, [-2.9, -3.9], cov + cluster["sigma_cl"] ** 2 * np.eye(2)
        )
        for x, cov in zip(values, cov_i, strict=True)
    ]
    expected = np.logaddexp(
        np.log(cluster["f_cluster"]) + np.array(log_cluster),
        np.log1p(-cluster["f_cluster"]) + binned_field_log_density(values, cov_i, mixture, bins),
    )
    np.testing.assert_allclose(logp, expected, rtol=1e-6)


def test_control_field_model_needs_the_masks() -> None:
    table, _ = simulate_magnitude_dependent_field(seed=4, n=600)
    table.remove_column("in_control_field")
    with pytest.raises(InputDataError, match=r"in_control_field.*field_model: joint"):
        pm_2d.prepare_data(table, CONTROL_OPTIONS, SOURCE)


def test_control_field_model_is_unbiased_where_the_field_changes_with_magnitude() -> None:
    """The faint field is cold and near the cluster's motion: learned per G bin on the
    control field it covers the true fraction and motion (95% intervals, 2 chains x 500
    draws; Monte Carlo error of an interval end ~ 0.05 sd)."""
    table, member = simulate_magnitude_dependent_field(seed=6819)
    data = pm_2d.prepare_data(table, CONTROL_OPTIONS, SOURCE)
    model = pm_2d.build_model(data, CONTROL_OPTIONS)
    idata = sample_free(
        model, seed=2, draws=500, tune=500, initvals=pm_2d.initial_values(data, CONTROL_OPTIONS)
    )
    assert float(az.rhat(idata)["f_cluster"]) < 1.01
    truths = {
        "f_cluster": member.mean(),
        "pmra_cl": TRUE_CLUSTER["pmra_cl"],
        "pmdec_cl": TRUE_CLUSTER["pmdec_cl"],
    }
    for name, truth in truths.items():
        low, high = equal_tailed_interval(idata.posterior[name].values, 0.95)
        assert low <= truth <= high, (name, low, high, truth)
    # draws from the model (posterior predictive) carry each star's own field
    with model:
        draws = pm.sample_posterior_predictive(
            idata.sel(draw=slice(0, 20)), random_seed=1, progressbar=False
        )
    assert draws.posterior_predictive["obs"].shape[-2:] == (len(data["pmra"]), 2)

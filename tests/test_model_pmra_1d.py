"""Model 1 (pmRA alone): likelihood against SciPy, recovery of simulated truth, bad input."""

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
from clustermix.models.mixture import choose_n_components
from clustermix.models.pmra_1d import model as pmra_1d

from .test_mixture import (
    assert_mixture_at,
    auc,
    equal_tailed_interval,
    ordered_or_free,
    sample_free,
    transformed_point,
)

SOURCE = "synthetic.fits"
#: The module's options with K fixed (a fit resolves "auto" from the control field first),
#: the field fitted jointly with the cluster (these tables have no control field) and the
#: cluster-size floor off, so that small test fields may take any fraction.
OPTIONS = {
    **pmra_1d.DEFAULT_OPTIONS,
    "stars": "all",
    "n_field_components": 2,
    "cluster_min_members": 1,
    "field_model": "joint",
}
ID_BASE = 2_076_000_000_000_000_000
#: NGC 6819-like cluster (mas/yr): mean pmRA, intrinsic width (1 km/s at 2.7 kpc), fraction
TRUE_CLUSTER = {"pmra_cl": -2.91, "sigma_pmra_cl": 0.08, "f_cluster": 0.25}
#: A broad, off-centre two-component field (mas/yr)
TRUE_FIELD = {"w": np.array([0.6, 0.4]), "mean": np.array([-1.0, -5.0]), "sd": [1.5, 4.0]}


def simulate(seed: int, n: int = 500, field: dict | None = None) -> tuple[Table, np.ndarray]:
    """Stars drawn from the model's own generative process; returns the table and labels."""
    field = field or TRUE_FIELD
    rng = np.random.default_rng(seed)
    member = rng.random(n) < TRUE_CLUSTER["f_cluster"]
    component = rng.choice(len(field["w"]), size=n, p=field["w"])
    true_pmra = np.where(
        member,
        rng.normal(TRUE_CLUSTER["pmra_cl"], TRUE_CLUSTER["sigma_pmra_cl"], n),
        rng.normal(np.asarray(field["mean"])[component], np.asarray(field["sd"])[component]),
    )
    error = rng.uniform(0.05, 0.5, n)
    table = Table(
        {
            "source_id": ID_BASE + np.arange(n, dtype=np.int64),
            "pmra": rng.normal(true_pmra, error),
            "pmra_error": error,
            "in_cluster_region": rng.random(n) < 0.5,
            "in_control_field": np.zeros(n, dtype=bool),
        }
    )
    return table, member


def oracle_p_cluster(data: dict) -> np.ndarray:
    """Membership probabilities at the true parameters (NumPy/SciPy): the best one can do."""
    x, err = data["pmra"], data["pmra_error"]
    f = TRUE_CLUSTER["f_cluster"]
    log_cl = np.log(f) + stats.norm.logpdf(
        x, TRUE_CLUSTER["pmra_cl"], np.hypot(TRUE_CLUSTER["sigma_pmra_cl"], err)
    )
    sd = np.hypot(np.asarray(TRUE_FIELD["sd"]), err[:, None])
    log_field = np.log1p(-f) + logsumexp(
        np.log(TRUE_FIELD["w"]) + stats.norm.logpdf(x[:, None], TRUE_FIELD["mean"], sd), axis=1
    )
    return np.exp(log_cl - np.logaddexp(log_cl, log_field))


@pytest.fixture(scope="module")
def fit():
    # 800 stars: with fewer, the two-component field of ~600 stars mixes slowly in 2 x 500
    table, member = simulate(seed=6819, n=800)
    options = OPTIONS
    data = pmra_1d.prepare_data(table, options, SOURCE)
    model = pmra_1d.build_model(data, options)
    idata = sample_free(
        model, seed=1, draws=500, tune=500, initvals=pmra_1d.initial_values(data, options)
    )
    return data, member, model, idata


@pytest.mark.parametrize(
    ("k", "order", "seed"), [(2, "width", 0), (2, "pmra", 1), (3, "width", 2), (1, "pmra", 3)]
)
def test_obs_logp_and_p_cluster_match_scipy(k: int, order: str, seed: int) -> None:
    table, _ = simulate(seed=10 + seed, n=200)
    options = {**OPTIONS, "n_field_components": k, "order_field_by": order}
    data = pmra_1d.prepare_data(table, options, SOURCE)
    model = pmra_1d.build_model(data, options)
    rng = np.random.default_rng(seed)
    means = np.sort(rng.normal(-4, 3, k))
    log_excess = np.sort(rng.normal(1.0, 0.5, k))
    weights = rng.dirichlet(np.ones(k))
    point = {
        "pmra_cl": rng.normal(-3, 1),
        "sigma_pmra_cl": rng.uniform(0.01, 1.0),
        "f_cluster": rng.uniform(0.05, 0.95),
        **ordered_or_free("pmra_field", means, order == "pmra"),
        **ordered_or_free("log_excess_sigma_pmra_field", log_excess, order == "width"),
        **({"w_field": weights} if k > 1 else {}),
    }
    x, err = data["pmra"], data["pmra_error"]
    f = point["f_cluster"]
    sds = point["sigma_pmra_cl"] + np.exp(log_excess)
    log_cl = np.log(f) + stats.norm.logpdf(
        x, point["pmra_cl"], np.sqrt(point["sigma_pmra_cl"] ** 2 + err**2)
    )
    log_field = np.log1p(-f) + logsumexp(
        np.log(weights) + stats.norm.logpdf(x[:, None], means, np.sqrt(sds**2 + err[:, None] ** 2)),
        axis=1,
    )
    assert_mixture_at(model, point, log_cl, log_field, rtol=(1e-10, 1e-9))


def test_recovers_the_simulated_cluster(fit) -> None:
    data, member, _, idata = fit
    posterior = idata.posterior
    # short chains (2 x 500): R-hat below 1.05 for every free parameter
    rhat = az.rhat(posterior)
    assert float(rhat.to_array().max()) < 1.05
    assert int(idata.sample_stats["diverging"].sum()) == 0
    truth = {**TRUE_CLUSTER, "f_cluster": float(member.mean())}
    for name, value in truth.items():
        low, high = equal_tailed_interval(posterior[name], 0.95)
        assert low < value < high, (name, value, low, high)
    summary = pmra_1d.summary_quantities(posterior, data)
    assert set(summary) == {"pmra", "f_cluster"} <= set(SUMMARY_UNITS)
    assert summary["pmra"].dims == ("chain", "draw")


def test_membership_is_as_good_as_with_the_true_parameters(fit) -> None:
    data, member, model, idata = fit
    p_cluster = (
        pm.compute_deterministics(
            idata.posterior, var_names=["p_cluster"], model=model, progressbar=False
        )["p_cluster"]
        .mean(("chain", "draw"))
        .to_numpy()
    )
    ours, oracle = auc(p_cluster, member), auc(oracle_p_cluster(data), member)
    # In 1D the cluster sits inside the field's core, so even the true parameters give an
    # AUC below 1. The AUC's sampling sd with ~200 members / ~600 field stars is ~0.01
    # (Hanley & McNeil 1982 for AUC ~ 0.9): ours may fall at most 2 sd below the oracle's.
    assert ours > oracle - 0.02, (ours, oracle)
    assert ours > 0.85


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
    assert predictive.shape == (2, 10, data["pmra"].size)
    # the predictive spread matches the data's: sd of ~5000 draws, relative error ~ 2%
    np.testing.assert_allclose(float(predictive.std()), data["pmra"].std(), rtol=0.15)


def test_true_values_from_simulator_truth() -> None:
    table, _ = simulate(seed=3, n=100)
    data = pmra_1d.prepare_data(table, OPTIONS, SOURCE)
    members = [int(i) for i in data["source_id"][:25]] + [1]
    truth = {"pmra": -2.91, "pmdec": -3.86, "member_source_ids": members}
    assert pmra_1d.true_values(truth, data) == {"pmra": -2.91, "f_cluster": 0.25}


def test_bad_input_is_refused_before_sampling() -> None:
    table, _ = simulate(seed=4, n=100)
    options = OPTIONS
    empty = table.copy()
    empty["in_cluster_region"] = False
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*in_cluster_region.*100 rows"):
        pmra_1d.prepare_data(empty, {**options, "stars": "cluster_region"}, SOURCE)
    all_nan = table.copy()
    all_nan["pmra"] = np.nan
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*'pmra'.*100 of the 100"):
        pmra_1d.prepare_data(all_nan, options, SOURCE)
    negative = table.copy()
    negative["pmra_error"][:3] = -0.1
    with pytest.raises(InputDataError, match=r"'pmra_error'.*3 of the 100"):
        pmra_1d.prepare_data(negative, options, SOURCE)
    few = table[:35]  # K = 3 field components need 10 * (3 + 1) = 40 stars
    with pytest.raises(InputDataError, match=r"synthetic\.fits.*35.*'pmra'.*40"):
        pmra_1d.prepare_data(few, {**options, "n_field_components": 3}, SOURCE)
    with pytest.raises(InputDataError, match="n_field_components"):
        pmra_1d.prepare_data(table, {**options, "n_field_components": 0}, SOURCE)
    with pytest.raises(InputDataError, match="order_field_by"):
        pmra_1d.prepare_data(table, {**options, "order_field_by": "colour"}, SOURCE)


def test_loo_prefers_two_field_components_for_a_two_component_field() -> None:
    # two well-separated field clumps: one Gaussian cannot describe them
    field = {"w": np.array([0.5, 0.5]), "mean": [-8.0, 4.0], "sd": [1.0, 1.5]}
    table, _ = simulate(seed=5, n=300, field=field)
    result = choose_n_components(
        pmra_1d,
        table,
        OPTIONS,
        ks=(1, 2),
        sample_kwargs={"draws": 300, "tune": 300, "chains": 2, "cores": 2, "random_seed": 2},
        source=SOURCE,
    )
    assert result["best"] == 2 and result["n_field_components"] == 2
    assert result["table"][1]["elpd_diff"] > 2 * result["table"][1]["dse"]


@pytest.mark.parametrize("order", ["width", "pmra"])
def test_default_and_data_driven_starts_are_valid(order: str) -> None:
    table, _ = simulate(seed=6, n=300)
    options = {**OPTIONS, "order_field_by": order}
    data = pmra_1d.prepare_data(table, options, SOURCE)
    model = pmra_1d.build_model(data, options)
    logp = model.compile_logp()
    assert np.isfinite(logp(model.initial_point()))
    start = pmra_1d.initial_values(data, options)
    assert set(start) == {rv.name for rv in model.free_RVs}
    assert np.isfinite(logp(transformed_point(model, start)))
    # a start, not an estimate (in 1D the members sit on the field's core): within 0.3
    # mas/yr, a fifth of the core's 1.5 mas/yr width, it is inside the cluster's basin
    assert abs(start["pmra_cl"] - TRUE_CLUSTER["pmra_cl"]) < 0.3


# ---------------------------------------------------------------- the control-field field model


def simulate_magnitude_dependent_field(seed: int, n: int = 3000) -> tuple[Table, np.ndarray]:
    """A field whose pmra changes with G, as a real one's does: bright stars (G < 18) are
    nearby and kinematically hot (sd 5 mas/yr), faint ones distant and cold (sd 1.2 mas/yr)
    with a mean 0.7 mas/yr from the cluster's; errors grow with G. Half of the stars are in
    the control field, where there are no members; the cluster (TRUE_CLUSTER's motion, 15%
    of the cluster region) has the field's magnitude distribution. Returns the table and
    the true member labels (pm_2d's test field, in one dimension)."""
    rng = np.random.default_rng(seed)
    g_mag = rng.uniform(14.0, 20.5, n)
    control = np.arange(n) < n // 2
    member = ~control & (rng.random(n) < 0.15)
    centre = TRUE_CLUSTER["pmra_cl"]
    true_pmra = np.where(
        g_mag > 18.0, rng.normal(centre + 0.7, 1.2, n), rng.normal(centre + 1.0, 5.0, n)
    )
    true_pmra[member] = rng.normal(centre, TRUE_CLUSTER["sigma_pmra_cl"], member.sum())
    error = 0.02 * 10 ** (0.2 * (g_mag - 15.0))
    table = Table(
        {
            "source_id": ID_BASE + np.arange(n, dtype=np.int64),
            "pmra": true_pmra + error * rng.normal(size=n),
            "pmra_error": error,
            "phot_g_mean_mag": g_mag,
            "in_cluster_region": ~control,
            "in_control_field": control,
        }
    )
    return table, member


CONTROL_OPTIONS = {
    **OPTIONS,
    "stars": "cluster_region",
    "field_model": "control_field",
    "field_magnitude_bins": 2,
}


def test_control_field_model_holds_each_bins_deconvolved_mixture() -> None:
    """Each star's field is the error-deconvolved mixture of the control stars of its G bin;
    its fixed log density and the likelihood match SciPy star by star."""
    from clustermix.models.field_choice import control_field_mixture

    table, _ = simulate_magnitude_dependent_field(seed=3, n=1200)
    data = pmra_1d.prepare_data(table, CONTROL_OPTIONS, SOURCE)
    region = np.asarray(table["in_cluster_region"])
    control = np.asarray(table["in_control_field"])
    stars = {name: np.asarray(table[name])[control] for name in pmra_1d.COLUMNS}
    g_mag = np.asarray(table["phot_g_mean_mag"])
    mixture = control_field_mixture(*pmra_1d.field_observables(stars), g_mag[control], 2, 2)
    bins = np.searchsorted(mixture["g_edges"], g_mag[region])
    np.testing.assert_allclose(data["field_weights"], mixture["weights"][bins])
    np.testing.assert_allclose(data["field_means"], mixture["means"][bins][..., 0])
    np.testing.assert_allclose(data["field_sigmas"] ** 2, mixture["covariances"][bins][..., 0, 0])
    # the bins learn different fields: the faint one is colder
    widths = (mixture["weights"] * np.sqrt(mixture["covariances"][..., 0, 0])).sum(axis=1)
    assert widths[1] < widths[0]
    # the fixed field's log density, star by star with SciPy
    x, e = data["pmra"], data["pmra_error"]
    expected_field = np.array(
        [
            logsumexp(
                stats.norm.logpdf(
                    x[i], data["field_means"][i], np.hypot(data["field_sigmas"][i], e[i])
                ),
                b=data["field_weights"][i],
            )
            for i in range(len(x))
        ]
    )
    np.testing.assert_allclose(data["field_logpdf"], expected_field, rtol=1e-10)
    model = pmra_1d.build_model(data, CONTROL_OPTIONS)
    assert {rv.name for rv in model.free_RVs} == {"pmra_cl", "sigma_pmra_cl", "f_cluster"}
    cluster = {"pmra_cl": -2.9, "sigma_pmra_cl": 0.1, "f_cluster": 0.12}
    log_cluster = np.log(0.12) + stats.norm.logpdf(x, -2.9, np.hypot(0.1, e))
    log_field = np.log1p(-0.12) + expected_field
    assert_mixture_at(model, cluster, log_cluster, log_field, rtol=(1e-8, 1e-8))
    # the start holds the cluster's variables only
    assert set(pmra_1d.initial_values(data, CONTROL_OPTIONS)) == {
        "pmra_cl",
        "sigma_pmra_cl",
        "f_cluster",
    }


def test_control_field_model_needs_the_masks() -> None:
    table, _ = simulate_magnitude_dependent_field(seed=4, n=600)
    table.remove_column("in_control_field")
    options = {**CONTROL_OPTIONS, "stars": "all"}
    with pytest.raises(InputDataError, match=r"in_control_field.*field_model: joint"):
        pmra_1d.prepare_data(table, options, SOURCE)
    with pytest.raises(InputDataError, match="field_model"):
        pmra_1d.prepare_data(table, {**OPTIONS, "field_model": "binned"}, SOURCE)


def test_control_field_model_is_unbiased_where_the_field_changes_with_magnitude() -> None:
    """The faint field is cold and near the cluster's motion: learned per G bin on the
    control field it covers the true fraction and motion (95% intervals, 2 chains x 500
    draws; Monte Carlo error of an interval end ~ 0.05 sd), and posterior predictive draws
    carry each star's own field."""
    table, member = simulate_magnitude_dependent_field(seed=6819)
    data = pmra_1d.prepare_data(table, CONTROL_OPTIONS, SOURCE)
    model = pmra_1d.build_model(data, CONTROL_OPTIONS)
    idata = sample_free(
        model, seed=2, draws=500, tune=500, initvals=pmra_1d.initial_values(data, CONTROL_OPTIONS)
    )
    assert float(az.rhat(idata)["f_cluster"]) < 1.01
    region = np.asarray(table["in_cluster_region"])
    truths = {"f_cluster": member[region].mean(), "pmra_cl": TRUE_CLUSTER["pmra_cl"]}
    for name, truth in truths.items():
        low, high = equal_tailed_interval(idata.posterior[name].values, 0.95)
        assert low <= truth <= high, (name, low, high, truth)
    with model:
        draws = pm.sample_posterior_predictive(
            idata.sel(draw=slice(0, 20)), random_seed=1, progressbar=False
        )
    replicated = draws.posterior_predictive["obs"].values
    assert replicated.shape == (2, 21, len(data["pmra"]))
    # replicated stars of each G bin are as hot or cold as the observed ones (their own
    # bin's field); the sd of ~15000 draws is known to ~1%, the observed one to ~3%
    g_mag = np.asarray(table["phot_g_mean_mag"])
    faint = g_mag[region] > np.median(g_mag[~region])  # the two bins' edge
    for stars in (faint, ~faint):
        np.testing.assert_allclose(
            replicated[..., stars].std(), data["pmra"][stars].std(), rtol=0.15
        )

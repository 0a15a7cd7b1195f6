"""The control field's uncertainty propagated by bootstrap fields and importance weights.

The NumPy core (:func:`combine_fields`) is tested on a toy 1D mixture whose posterior is
known on a grid: the cluster (mean 0, sd 0.3) and the errors (0.2) are fixed, f is the only
parameter (uniform prior), and the field is a K = 1 deconvolved Gaussian learned by
:func:`~clustermix.models.field_choice.control_field_mixture` on control stars. There the
exact field-marginalised count moments are sums over the grid, so the method's answer is
checked against them within its Monte Carlo error. The glue (bootstrap catalogues,
swapping a PyMC model's field arrays) is tested on pm_2d and a small simulated field.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy.special import expit, logsumexp

from clustermix.fit.field_uncertainty import (
    bootstrap_catalog,
    bootstrap_fields,
    combine_fields,
    field_arrays,
    field_uncertainty,
)
from clustermix.models.field_choice import control_field_mixture
from clustermix.models.fixed_field import fixed_field_logpdf_2d

ERROR = 0.2  # every toy star's measurement error
CLUSTER_SD = 0.3
FIELD_MEAN, FIELD_SD = 0.5, 1.5
GRID = np.linspace(0.005, 0.4, 300)  # f
TINY, HUGE = 100, 3000  # control stars


def _toy_target(seed: int = 3, n_members: int = 60, n_field: int = 540) -> np.ndarray:
    rng = np.random.default_rng(seed)
    members = rng.normal(0.0, np.hypot(CLUSTER_SD, ERROR), n_members)
    field = rng.normal(FIELD_MEAN, np.hypot(FIELD_SD, ERROR), n_field)
    return np.concatenate([members, field])


def _control_field(values: np.ndarray) -> tuple[float, float]:
    """The field's (mean, intrinsic sd) learned as the models learn it (K = 1, one G bin)."""
    n = len(values)
    mixture = control_field_mixture(
        values[:, None], np.full((n, 1, 1), ERROR**2), np.linspace(10, 18, n), 1, 1
    )
    return float(mixture["means"][0, 0, 0]), float(np.sqrt(mixture["covariances"][0, 0, 0, 0]))


def _log_terms(x: np.ndarray, field: tuple[float, float], f: np.ndarray):
    """log(f L_c) and log((1 - f) L_f), shape (len(f), n)."""
    mean, sd = field

    def log_normal(mu, var):
        return -0.5 * (np.log(2 * np.pi * var) + (x - mu) ** 2 / var)

    log_c = np.log(f)[:, None] + log_normal(0.0, CLUSTER_SD**2 + ERROR**2)
    log_f = np.log1p(-f)[:, None] + log_normal(mean, sd**2 + ERROR**2)
    return log_c, log_f


def _at_draws(x, field, f):
    """(log density (S,), memberships (S, n)) at the draws ``f`` under ``field``."""
    log_c, log_f = _log_terms(x, field, f)
    return np.logaddexp(log_c, log_f).sum(axis=1), expit(log_c - log_f)


def _grid_posterior(x, field):
    """Normalised posterior of f on GRID, and sum_i p_i, sum_i p_i (1 - p_i) there."""
    log_density, p = _at_draws(x, field, GRID)
    weights = np.exp(log_density - logsumexp(log_density))
    return weights, p.sum(axis=1), (p * (1 - p)).sum(axis=1)


def _posterior_draws(x, field, n_draws, seed):
    weights, _, _ = _grid_posterior(x, field)
    rng = np.random.default_rng(seed)
    return GRID[np.minimum(np.searchsorted(np.cumsum(weights), rng.random(n_draws)), GRID.size - 1)]


def _toy(n_control: int, n_boot: int = 20, seed: int = 5, n_draws: int = 1000):
    """The toy run: (result of combine_fields, exact pooled count mean and sd, fixed sd)."""
    rng = np.random.default_rng(seed)
    x = _toy_target()
    control = rng.normal(FIELD_MEAN, np.hypot(FIELD_SD, ERROR), n_control)
    field_0 = _control_field(control)
    fields = [_control_field(control[rng.integers(0, n_control, n_control)]) for _ in range(n_boot)]
    f = _posterior_draws(x, field_0, n_draws, seed)
    result = combine_fields(_at_draws(x, field_0, f), (_at_draws(x, b, f) for b in fields), seed)
    # exact: count | f, F ~ Poisson-binomial (mean sum p, var sum p (1 - p))
    means, variances = [], []
    for field in fields:
        weights, sum_p, sum_pq = _grid_posterior(x, field)
        mean = np.sum(weights * sum_p)
        means.append(mean)
        variances.append(np.sum(weights * (sum_pq + (sum_p - mean) ** 2)))
    exact_mean = float(np.mean(means))
    exact_sd = float(np.sqrt(np.mean(variances) + np.var(means)))
    weights, sum_p, sum_pq = _grid_posterior(x, field_0)
    fixed_sd = float(np.sqrt(np.sum(weights * (sum_pq + (sum_p - np.sum(weights * sum_p)) ** 2))))
    return result, exact_mean, exact_sd, fixed_sd


def test_identical_fields_give_the_fixed_field_distribution() -> None:
    """B fields equal to the fit's: equal weights, the same counts and memberships."""
    x = _toy_target()
    field = (FIELD_MEAN, FIELD_SD)
    f = _posterior_draws(x, field, 500, 1)
    fixed = _at_draws(x, field, f)
    result = combine_fields(fixed, [fixed] * 3, seed=9)
    for row in result.counts:
        np.testing.assert_array_equal(row, result.fixed_counts)
    assert np.all(result.khat == -np.inf)
    np.testing.assert_allclose(np.exp(result.log_weights), 1 / 500, rtol=1e-12)
    mean, sd = result.count_moments()
    assert mean == pytest.approx(result.fixed_counts.mean(), rel=1e-12)
    assert sd == pytest.approx(result.fixed_counts.std(), rel=1e-9)
    np.testing.assert_allclose(result.membership, fixed[1].mean(axis=0), rtol=1e-12)
    # the Bernoulli draws are member_count_draws's: uniforms drawn draw by draw
    rng = np.random.default_rng(9)
    expected = [np.count_nonzero(rng.random(p.shape) < p) for p in fixed[1]]
    np.testing.assert_array_equal(result.fixed_counts, expected)


@pytest.fixture(scope="module")
def toys() -> dict[int, tuple]:
    """The toy run with a tiny and a huge control field (20 bootstrap fields, 1000 draws)."""
    return {n: _toy(n) for n in (TINY, HUGE)}


@pytest.mark.parametrize("n_control", [TINY, HUGE])
def test_pooled_count_matches_the_exact_field_marginal(toys, n_control: int) -> None:
    """The weighted counts' mean and sd agree with the grid's exact mixture over the same
    bootstrap fields. Monte Carlo error: every field reweights the same S draws with the
    same uniforms, so the pooled estimate is worth about one field's effective sample size
    (ESS, ~S), not B of them: the mean's error is about sd / sqrt(ESS) and the sd's relative
    error about 1 / sqrt(2 ESS) (Bernoulli noise included, the count being drawn); 4 sigma
    allowed."""
    result, exact_mean, exact_sd, _ = toys[n_control]
    ess = float(np.mean(result.ess))
    assert result.diagnostics()["khat_max"] < 0.7
    mean, sd = result.count_moments()
    assert abs(mean - exact_mean) < 4 * exact_sd / np.sqrt(ess)
    assert abs(sd / exact_sd - 1) < 4 / np.sqrt(2 * ess)


def test_spread_grows_with_a_tiny_control_field_and_vanishes_with_a_huge_one(toys) -> None:
    """The exact (grid) ratio of the field-marginal to the fixed-field count sd is above
    1.2 with 100 control stars and below 1.05 with 3000 (1.30 and 1.01 here; 1.22-1.42
    and 1.01-1.02 over toy seeds 5-7); the method's ratio follows it within 4 sigma of its
    Monte Carlo error (relative 1 / sqrt(2 ESS)), and the reweighted mean count moves more
    across the tiny control field's bootstraps (by 1 / sqrt(30) of the control stars
    alone; 3x allowed for the 20 fields' sampling error)."""
    ratios = {}
    for n_control, (result, _, exact_sd, fixed_sd) in toys.items():
        ess = float(np.mean(result.ess))
        ratio = result.count_moments()[1] / np.std(result.fixed_counts)
        assert abs(ratio / (exact_sd / fixed_sd) - 1) < 4 / np.sqrt(2 * ess)
        ratios[n_control] = exact_sd / fixed_sd
    assert ratios[TINY] > 1.2
    assert ratios[HUGE] < 1.05
    spread = {n: toys[n][0].diagnostics()["count_mean_sd_across_fields"] for n in toys}
    assert spread[TINY] > 3 * spread[HUGE]


# ------------------------------------------------------------------ the glue, on pm_2d


@pytest.fixture(scope="module")
def small_fit():
    """pm_2d (K = 1, 2 G bins) on a small simulated field, and a made-up posterior
    (2 chains x 25 draws) about its starting point."""
    from pathlib import Path

    import yaml

    from clustermix.data.prepared import prepared_field
    from clustermix.models.registry import get_model, model_options

    repo = Path(__file__).resolve().parents[1]
    cluster = yaml.safe_load((repo / "config" / "config.yaml").read_text())["clusters"][0]
    simulation = {key: cluster[key] for key in ("ra_deg", "dec_deg", "radius_arcmin")}
    simulation.update(cluster["simulation"], seed=11, n_members=100, n_field=900, g_max_mag=19.0)
    catalog = prepared_field(simulation)[0]
    module = get_model("pm_2d")
    options = model_options(module, {"n_field_components": 1, "field_magnitude_bins": 2})
    data = module.prepare_data(catalog, options, "sim")
    model = module.build_model(data, options)
    start = module.initial_values(data, options)
    rng = np.random.default_rng(2)
    shape = (2, 25)
    posterior = xr.Dataset(
        {
            "pmra_cl": (("chain", "draw"), start["pmra_cl"] + rng.normal(0, 0.02, shape)),
            "pmdec_cl": (("chain", "draw"), start["pmdec_cl"] + rng.normal(0, 0.02, shape)),
            "sigma_cl": (("chain", "draw"), rng.uniform(0.05, 0.15, shape)),
            "f_cluster": (("chain", "draw"), rng.uniform(0.08, 0.12, shape)),
        }
    )
    return module, options, catalog, data, model, posterior


def test_bootstrap_catalog_resamples_only_the_control_field(small_fit) -> None:
    _, _, catalog, _, _, _ = small_fit
    control = np.asarray(catalog["in_control_field"], bool)
    resampled = bootstrap_catalog(catalog, np.random.default_rng(0))
    n = len(catalog)
    assert len(resampled) == n + control.sum()
    assert not np.asarray(resampled["in_control_field"][:n]).any()
    assert np.asarray(resampled["in_control_field"][n:]).all()
    ids = np.asarray(resampled["source_id"])
    assert np.unique(ids).size == ids.size
    np.testing.assert_array_equal(ids[:n], catalog["source_id"])
    # the appended rows are control stars (their proper motions), drawn with replacement
    assert np.isin(resampled["pmra"][n:], catalog["pmra"][control]).all()
    assert np.unique(np.asarray(resampled["pmra"][n:])).size < control.sum()


def test_pm_2d_fields_swap_and_identical_fields_reproduce_member_count_draws(small_fit) -> None:
    from clustermix.fit.membership import member_count_draws

    module, options, catalog, data, model, posterior = small_fit
    same = [field_arrays(data)] * 2
    result = field_uncertainty(
        module, options, catalog, data, model, posterior, n_boot=2, seed=4, fields=same
    )
    expected = member_count_draws(model, posterior, 4).ravel()
    np.testing.assert_array_equal(result.fixed_counts, expected)
    np.testing.assert_array_equal(result.counts, [expected, expected])
    np.testing.assert_allclose(result.membership, result.fixed_membership, rtol=1e-12)
    recentred = field_uncertainty(
        module,
        options,
        catalog,
        data,
        model,
        posterior,
        n_boot=2,
        seed=4,
        fields=same,
        recentre=True,
    )
    np.testing.assert_array_equal(recentred.counts, [expected, expected])
    fields = bootstrap_fields(module, options, catalog, data, 2, seed=4, source="sim")
    assert set(fields[0]) == {
        "field_weights",
        "field_means",
        "field_sigmas",
        "field_rho",
        "field_logpdf",
    }
    assert fields[0]["field_means"].shape == data["field_means"].shape
    assert not np.allclose(fields[0]["field_sigmas"], data["field_sigmas"])
    # the field's density at each star, computed once, is swapped with the field it is of
    star_cov = np.column_stack(
        module.star_covariances(data["pmra_error"], data["pmdec_error"], data["pmra_pmdec_corr"])
    )
    np.testing.assert_allclose(
        fields[0]["field_logpdf"],
        fixed_field_logpdf_2d(
            np.column_stack([data["pmra"], data["pmdec"]]),
            star_cov,
            *(fields[0][name] for name in ("field_weights", "field_means", "field_sigmas")),
            fields[0]["field_rho"],
        ),
    )
    assert not np.allclose(fields[0]["field_logpdf"], data["field_logpdf"])
    again = bootstrap_fields(module, options, catalog, data, 1, seed=4, source="sim")
    np.testing.assert_array_equal(again[0]["field_sigmas"], fields[0]["field_sigmas"])
    moved = field_uncertainty(
        module, options, catalog, data, model, posterior, n_boot=2, seed=4, fields=fields
    )
    assert not np.array_equal(moved.sum_p, result.sum_p)
    assert np.all(np.isfinite(moved.log_weights))
    # the fit's own model keeps its field
    np.testing.assert_array_equal(model["field_sigmas"].get_value(), data["field_sigmas"])

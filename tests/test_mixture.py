"""The shared mixture machinery, checked against SciPy; plus helpers the model tests share.

The helpers (``transformed_point``, ``obs_logp_per_star``, ``deterministic_at``,
``ordered_or_free``, ``auc``, ``equal_tailed_interval``, ``sample_free``) are imported by
the ``test_model_*`` modules.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from astropy.table import Table
from scipy import stats
from scipy.special import logsumexp

from clustermix.errors import InputDataError
from clustermix.models.mixture import (
    check_field_options,
    checked_columns,
    cluster_field_start,
    component_locations_start,
    convolved_gmm_logpdf_1d,
    convolved_gmm_logpdf_2d,
    gaussian_mixture_em,
    histogram_peak,
    ordered_locations,
    select_stars,
    selected_source_ids,
    true_member_fraction,
)

# ---------------------------------------------------------------------------------------
# Helpers shared by the model tests
# ---------------------------------------------------------------------------------------


def transformed_point(model: pm.Model, point: dict[str, Any]) -> dict[str, np.ndarray]:
    """``point`` (free variables by name, constrained values) in the model's sampling space."""
    out = {}
    for rv in model.free_RVs:
        value = np.asarray(point[rv.name], dtype=np.float64)
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.forward(pt.as_tensor(value), *rv.owner.inputs).eval()
        out[model.rvs_to_values[rv].name] = value
    return out


def obs_logp_per_star(model: pm.Model, point: dict[str, Any]) -> np.ndarray:
    """The per-star log-likelihood of ``"obs"`` alone (no prior, no Jacobian) at ``point``."""
    logp = model.compile_logp(vars=[model["obs"]], jacobian=False, sum=False)
    return np.asarray(logp(transformed_point(model, point))[0])


def deterministic_at(model: pm.Model, name: str, point: dict[str, Any]) -> np.ndarray:
    """The value of Deterministic ``name`` at ``point`` (constrained values by name)."""
    (output,) = model.replace_rvs_by_values([model[name]])
    function = model.compile_fn(output, inputs=model.value_vars, on_unused_input="ignore")
    return np.asarray(function(transformed_point(model, point)))


def assert_mixture_at(
    model: pm.Model,
    point: dict[str, Any],
    log_cluster: np.ndarray,
    log_field: np.ndarray,
    rtol: tuple[float, float],
) -> None:
    """The model's per-star ``obs`` log-likelihood at ``point`` is logaddexp of the
    independently computed weighted ``log_cluster`` and ``log_field`` terms, and its
    ``p_cluster`` their ratio, to relative tolerances ``rtol`` (likelihood, membership);
    memberships far below any float (1e-300) count as equal."""
    total = np.logaddexp(log_cluster, log_field)
    np.testing.assert_allclose(obs_logp_per_star(model, point), total, rtol=rtol[0])
    np.testing.assert_allclose(
        deterministic_at(model, "p_cluster", point),
        np.exp(log_cluster - total),
        rtol=rtol[1],
        atol=1e-300,
    )


def ordered_or_free(name: str, values: np.ndarray, ordered: bool) -> dict[str, np.ndarray]:
    """The free variables behind ``values`` (increasing if ``ordered``): first + gaps."""
    if not ordered:
        return {name: values}
    point = {f"{name}_first": values[0]}
    if values.size > 1:
        point[f"{name}_gap"] = np.diff(values)
    return point


def auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties 1/2.

    The Mann-Whitney U statistic from the (tie-averaged) ranks of all scores.
    """
    scores = np.asarray(scores, dtype=np.float64)
    positives = np.asarray(positives, dtype=bool)
    ranks = stats.rankdata(scores)
    n_pos, n_neg = positives.sum(), (~positives).sum()
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def equal_tailed_interval(draws, prob: float = 0.95) -> tuple[float, float]:
    """The central ``prob`` interval of the posterior draws (all chains pooled)."""
    values = np.asarray(draws).ravel()
    return tuple(np.quantile(values, [(1 - prob) / 2, (1 + prob) / 2]))


def sample_free(
    model: pm.Model,
    *,
    seed: int,
    draws: int,
    tune: int,
    chains: int = 2,
    initvals: dict[str, Any] | None = None,
):
    """NUTS on the free variables only (Deterministics such as p_cluster are not stored)."""
    return pm.sample(
        model=model,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=2,
        random_seed=seed,
        target_accept=0.9,
        initvals=initvals,
        var_names=[rv.name for rv in model.free_RVs],
        progressbar=False,
        compute_convergence_checks=False,
    )


# ---------------------------------------------------------------------------------------
# Tests of the mixture machinery
# ---------------------------------------------------------------------------------------


def test_convolved_gmm_logpdf_1d_matches_scipy() -> None:
    rng = np.random.default_rng(1)
    x, err = rng.normal(0, 3, 50), rng.uniform(0.05, 0.5, 50)
    means, sigmas, weights = np.array([-2.0, 0.5, 4.0]), np.array([1.0, 3.0, 0.4]), [0.2, 0.5, 0.3]
    expected = logsumexp(
        np.log(weights)
        + stats.norm.logpdf(x[:, None], means, np.sqrt(sigmas**2 + err[:, None] ** 2)),
        axis=1,
    )
    ours = convolved_gmm_logpdf_1d(x, err, means, sigmas, np.log(weights)).eval()
    np.testing.assert_allclose(ours, expected, rtol=1e-12)


def test_convolved_gmm_logpdf_2d_matches_scipy_multivariate_normal() -> None:
    rng = np.random.default_rng(2)
    n = 40
    xy = rng.normal(0, 4, (n, 2))
    e_a, e_d, corr = rng.uniform(0.05, 0.5, n), rng.uniform(0.05, 0.5, n), rng.uniform(-0.5, 0.5, n)
    means = np.array([[-1.0, -5.0], [-4.0, -7.0], [2.0, 1.0]])
    sigmas = np.array([[2.0, 2.5], [5.0, 6.0], [0.5, 1.0]])
    rho = np.array([0.3, -0.2, 0.8])
    weights = np.array([0.5, 0.3, 0.2])
    expected = np.empty(n)
    for i in range(n):
        star_cov = np.array([[e_a[i] ** 2, corr[i] * e_a[i] * e_d[i]], [0, e_d[i] ** 2]])
        star_cov[1, 0] = star_cov[0, 1]
        terms = []
        for k in range(3):
            cov_k = np.diag(sigmas[k] ** 2)
            cov_k[0, 1] = cov_k[1, 0] = rho[k] * sigmas[k, 0] * sigmas[k, 1]
            terms.append(
                np.log(weights[k])
                + stats.multivariate_normal.logpdf(xy[i], means[k], cov_k + star_cov)
            )
        expected[i] = logsumexp(terms)
    args = (xy[:, 0], xy[:, 1], e_a**2, e_d**2, corr * e_a * e_d)
    ours = convolved_gmm_logpdf_2d(*args, means, sigmas, rho, np.log(weights)).eval()
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    # component parameters with a leading length-1 axis (as a CustomDist logp gets them)
    batched = convolved_gmm_logpdf_2d(
        *args, means[None], sigmas[None], rho[None], np.log(weights)[None]
    ).eval()
    np.testing.assert_allclose(batched, expected, rtol=1e-12)


def test_histogram_peak_finds_the_clump() -> None:
    rng = np.random.default_rng(3)
    field = rng.normal([0.0, -5.0], 4.0, (2000, 2))
    clump = rng.normal([-2.9, -3.9], 0.1, (300, 2))
    values = np.vstack([field, clump])
    errors = rng.uniform(0.05, 0.5, values.shape)
    # the peak is a bin centre: within one bin width (0.25) of the clump centre
    np.testing.assert_allclose(histogram_peak(values, errors, 0.25), [-2.9, -3.9], atol=0.25)
    peak_1d = histogram_peak(values[:, 0], errors[:, 0], 0.2)
    assert peak_1d.shape == (1,)
    assert abs(peak_1d[0] + 2.9) < 0.2


def test_ordered_locations_increase_and_the_default_start_is_valid() -> None:
    with pm.Model(coords={"component": np.arange(3)}) as model:
        means = ordered_locations("mu", 0.0, 10.0, 10.0, 3)
    start = model.initial_point()
    assert np.isfinite(model.compile_logp()(start))
    draws = pm.draw(means, draws=200, random_seed=4)
    assert np.all(np.diff(draws, axis=1) > 0)
    assert model.named_vars_to_dims["mu"] == ("component",)
    with pm.Model(coords={"component": [0]}):
        single = ordered_locations("mu", 1.0, 2.0, 2.0, 1)
    assert pm.draw(single, random_seed=4).shape == (1,)


def _table(n: int = 40) -> Table:
    rng = np.random.default_rng(5)
    return Table(
        {
            "source_id": np.arange(n, dtype=np.int64) + 2_076_000_000_000_000_001,
            "pmra": rng.normal(size=n),
            "pmra_error": rng.uniform(0.1, 0.3, n),
            "in_cluster_region": np.arange(n) < 15,
            "in_control_field": np.zeros(n, dtype=bool),
        }
    )


def test_star_selection_and_column_checks() -> None:
    table = _table()
    mask = select_stars(table, "cluster_region", "cat.fits")
    assert mask.sum() == 15
    arrays = checked_columns(table, ("pmra", "pmra_error"), ("pmra_error",), mask, "cat.fits", 10)
    np.testing.assert_array_equal(arrays["pmra"], np.asarray(table["pmra"])[:15])
    ids = selected_source_ids(table, mask, "cat.fits")
    assert ids.dtype == np.int64 and ids[0] == 2_076_000_000_000_000_001  # no float rounding

    with pytest.raises(InputDataError, match=r"cat.fits.*in_control_field.*40 rows"):
        select_stars(table, "control_field", "cat.fits")
    with pytest.raises(InputDataError, match="'in_cluster_region' is missing"):
        select_stars(Table({"pmra": [1.0]}), "cluster_region", "cat.fits")
    with pytest.raises(InputDataError, match="unknown star selection"):
        select_stars(table, "everything", "cat.fits")
    with pytest.raises(InputDataError, match=r"'pmra_error'.*<= 0 on 1 of the 40"):
        bad = table.copy()
        bad["pmra_error"][3] = 0.0
        checked_columns(bad, ("pmra", "pmra_error"), ("pmra_error",), np.ones(40, bool), "c", 10)
    with pytest.raises(InputDataError, match=r"'pmra'.*NaN or infinite on 2 of the 15"):
        bad = table.copy()
        bad["pmra"][[0, 1]] = [np.nan, np.inf]
        checked_columns(bad, ("pmra",), (), mask, "c", 10)
    with pytest.raises(InputDataError, match=r"only 15 selected rows.*'pmra'.*30"):
        checked_columns(table, ("pmra",), (), mask, "c", 30)
    with pytest.raises(InputDataError, match="'source_id' has 1 duplicate"):
        dup = table.copy()
        dup["source_id"][1] = dup["source_id"][0]
        selected_source_ids(dup, mask, "c")


def test_true_member_fraction() -> None:
    ids = np.array([10, 11, 12, 13], dtype=np.int64)
    assert true_member_fraction([11, 13, 99], ids) == 0.5


def test_em_recovers_a_two_component_mixture() -> None:
    rng = np.random.default_rng(6)
    n = 4000
    first = rng.random(n) < 0.3
    values = np.where(
        first[:, None], rng.normal([0, 0], 0.5, (n, 2)), rng.normal([3, 1], 2, (n, 2))
    )
    weights, means, covs = gaussian_mixture_em(
        values, means=[[0.5, 0.5], [2, 2]], covariances=[np.eye(2)] * 2, weights=[0.5, 0.5]
    )
    # maximum-likelihood estimates from 4000 points: errors of a few % (a few sigma_hat/sqrt(n))
    np.testing.assert_allclose(weights, [0.3, 0.7], atol=0.03)
    np.testing.assert_allclose(means, [[0, 0], [3, 1]], atol=0.15)
    np.testing.assert_allclose(np.sqrt(covs[:, [0, 1], [0, 1]]), [[0.5] * 2, [2] * 2], rtol=0.1)


def test_cluster_field_start_finds_the_narrow_cluster() -> None:
    rng = np.random.default_rng(7)
    field = np.vstack([rng.normal([-1, -5.5], 2, (1500, 2)), rng.normal([-4, -7], 5, (1000, 2))])
    cluster = rng.normal([-2.91, -3.86], 0.1, (500, 2))
    values = np.vstack([field, cluster])
    start = cluster_field_start(values, np.full(values.shape, 0.1), 2)
    # 500 members of width 0.1: the mean is known to ~0.005; the EM start within 0.05
    np.testing.assert_allclose(start["cluster_mean"], [-2.91, -3.86], atol=0.05)
    assert abs(start["f_cluster"] - 1 / 6) < 0.03
    assert np.all(np.diff(start["field_means"][:, 0]) > 0)  # sorted by the first axis
    assert start["field_covariances"].shape == (2, 2, 2)
    np.testing.assert_allclose(start["field_weights"].sum(), 1.0)


def test_component_locations_start_and_field_option_checks() -> None:
    ordered = component_locations_start("mu", np.array([-3.0, -2.99, 4.0]), True, 0.05)
    assert ordered["mu_first"] == -3.0
    np.testing.assert_allclose(ordered["mu_gap"], [0.05, 6.99])
    free = component_locations_start("mu", np.array([1.0, 0.0]), False, 0.05)
    np.testing.assert_array_equal(free["mu"], [1.0, 0.0])
    options = {"n_field_components": 2, "order_field_by": "width"}
    assert check_field_options(options, "c", ("width", "pmra")) == 2
    for bad in (0, 1.5, True):
        with pytest.raises(InputDataError, match="n_field_components"):
            check_field_options({**options, "n_field_components": bad}, "c", ("width",))
    with pytest.raises(InputDataError, match="order_field_by"):
        check_field_options({**options, "order_field_by": "mean"}, "c", ("width", "pmra"))


def binned_field_log_density(
    values: np.ndarray, covariances: np.ndarray, mixture: dict, bins: np.ndarray
) -> np.ndarray:
    """ln sum_k w_bk N(x_i | m_bk, C_i + V_bk) per star with SciPy, star i in G bin b = bins[i]
    of a control-field mixture (``weights``, ``means``, ``covariances`` per bin)."""
    out = np.empty(len(values))
    for i, x in enumerate(values):
        b = bins[i]
        terms = [
            np.log(w) + stats.multivariate_normal.logpdf(x, mean, covariances[i] + cov)
            for w, mean, cov in zip(
                mixture["weights"][b], mixture["means"][b], mixture["covariances"][b], strict=True
            )
        ]
        out[i] = logsumexp(terms)
    return out

"""Membership probabilities recomputed from the posterior, and the membership table."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from clustermix.errors import InputDataError
from clustermix.fit import membership
from clustermix.fit.membership import (
    combine_memberships,
    member_count_draws,
    membership_probabilities,
    membership_statistics,
    model_membership_table,
)

from . import toy_model as toy


@pytest.fixture(scope="module")
def toy_posterior() -> tuple[dict[str, np.ndarray], object, xr.Dataset]:
    """Toy data, model and a made-up posterior (3 chains x 40 draws) around the truth."""
    catalog, _ = toy.simulate(n_members=60, n_field=140, seed=7)
    data = toy.prepare_data(catalog, toy.DEFAULT_OPTIONS, "toy")
    model = toy.build_model(data, toy.DEFAULT_OPTIONS)
    rng = np.random.default_rng(1)
    shape = (3, 40)
    draws = {
        "mu_cl": rng.normal(-2.9, 0.05, shape),
        "s_cl": rng.uniform(0.05, 0.3, shape),
        "mu_f": rng.normal(-1.0, 0.3, shape),
        "ds": rng.uniform(2.0, 4.0, shape),
        "f_cluster": rng.uniform(0.2, 0.4, shape),
    }
    posterior = xr.Dataset({name: (("chain", "draw"), value) for name, value in draws.items()})
    return data, model, posterior


@pytest.mark.parametrize("compiler", ["jax", "c"])
def test_membership_is_the_mean_over_draws_of_the_sigmoid(
    toy_posterior, compiler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled with JAX (where it is installed) or with C: the same probabilities."""
    data, model, posterior = toy_posterior
    if compiler == "c":
        monkeypatch.setattr(membership, "per_draw_compile_mode", lambda: None)
    else:
        pytest.importorskip("jax")
        assert membership.per_draw_compile_mode() == "JAX"
    per_draw = toy.numpy_p_cluster(posterior, data)  # (chain, draw, star), SciPy only
    mean, spread = membership_statistics(model, posterior)
    np.testing.assert_allclose(mean, per_draw.mean(axis=(0, 1)), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(spread, per_draw.std(axis=(0, 1)), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(membership_probabilities(model, posterior), mean)
    assert mean.shape == (len(data["source_id"]),)
    assert ((mean >= 0) & (mean <= 1)).all()


def test_membership_needs_every_free_variable(toy_posterior) -> None:
    _, model, posterior = toy_posterior
    with pytest.raises(ValueError, match="f_cluster"):
        membership_probabilities(model, posterior.drop_vars("f_cluster"))


def test_dim_order_does_not_matter(toy_posterior) -> None:
    _, model, posterior = toy_posterior
    swapped = posterior.transpose("draw", "chain")
    np.testing.assert_allclose(
        membership_probabilities(model, swapped), membership_probabilities(model, posterior)
    )


def test_model_membership_table() -> None:
    table = model_membership_table(np.array([5, 3]), np.array([0.9, 0.1]), np.zeros(2), "pm_2d")
    assert table.colnames == ["source_id", "p_cluster", "p_cluster_sd"]
    assert table["source_id"].dtype == np.int64
    assert table.meta["MODEL"] == "pm_2d"


def test_combine_memberships() -> None:
    catalogue_ids = np.array([30, 10, 20, 40], np.int64)
    per_model = {
        "pmra_1d": model_membership_table(
            np.array([40, 10, 30, 20]), np.array([0.4, 0.1, 0.3, 0.2]), np.zeros(4), "pmra_1d"
        ),
        "pm_2d": model_membership_table(np.array([20]), np.array([0.9]), np.zeros(1), "pm_2d"),
    }
    table = combine_memberships(catalogue_ids, per_model, member_source_ids=[20, 40, 99])
    assert table.colnames == ["source_id", "p_pmra_1d", "p_pm_2d", "true_member"]
    np.testing.assert_array_equal(table["source_id"], catalogue_ids)
    np.testing.assert_allclose(table["p_pmra_1d"], [0.3, 0.1, 0.2, 0.4])
    np.testing.assert_allclose(table["p_pm_2d"], [np.nan, np.nan, 0.9, np.nan])
    np.testing.assert_array_equal(table["true_member"], [False, False, True, True])
    assert table["true_member"].dtype == bool
    assert "true_member" not in combine_memberships(catalogue_ids, per_model).colnames


def test_combine_memberships_rejects_unknown_stars() -> None:
    bad = {"pm_2d": model_membership_table(np.array([7]), np.array([0.5]), np.zeros(1), "pm_2d")}
    with pytest.raises(InputDataError, match="pm_2d"):
        combine_memberships(np.array([1, 2, 3]), bad)


def test_member_count_draws_follow_the_memberships_of_each_draw(toy_posterior) -> None:
    """The realised member count, draw by draw: its mean is the mean over draws of sum(p),
    its variance that of sum(p) over draws plus the Bernoulli part mean(sum p (1 - p)).
    Tolerances: 4 Monte Carlo standard errors over the 120 draws (the count's sd / sqrt(120)
    for the mean; sqrt(2 / 119) of the variance for the variance, Gaussian approximation)."""
    data, model, posterior = toy_posterior
    per_draw = toy.numpy_p_cluster(posterior, data)
    counts = member_count_draws(model, posterior, seed=3)
    assert counts.shape == (3, 40)
    assert counts.dtype == np.int64
    expected_mean = per_draw.sum(axis=-1).mean()
    expected_var = per_draw.sum(axis=-1).var() + (per_draw * (1 - per_draw)).sum(axis=-1).mean()
    n = counts.size
    assert abs(counts.mean() - expected_mean) < 4 * np.sqrt(expected_var / n)
    assert abs(counts.var() / expected_var - 1) < 4 * np.sqrt(2 / (n - 1))
    np.testing.assert_array_equal(member_count_draws(model, posterior, seed=3), counts)
    assert not np.array_equal(member_count_draws(model, posterior, seed=4), counts)

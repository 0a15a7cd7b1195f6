"""Sampling to a target (sampling.target): stop at the first checkpoint the draws reach."""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import pytest
import xarray as xr

from clustermix.errors import ConfigError
from clustermix.fit import sampling
from clustermix.fit.sampling import sample, trace_attrs
from clustermix.fit.stopping import SamplingTarget
from tests import toy_model as toy

pytest.importorskip("nutpie")

#: Warm-up and the cap of draws per chain; the toy posterior reaches an ESS of 200 in a
#: few hundred draws per chain, far below the cap.
SETTINGS = {"chains": 2, "tune": 300, "draws": 2000, "target_accept": 0.9}
TARGET = {"ess": 200, "rhat_max": 1.01, "check_every": 50}
SEED = 7


@pytest.fixture(scope="module")
def toy_model() -> pm.Model:
    catalog, _ = toy.simulate()
    data = toy.prepare_data(catalog, toy.DEFAULT_OPTIONS, "toy catalogue")
    return toy.build_model(data, toy.DEFAULT_OPTIONS)


def toy_quantities(posterior: xr.Dataset) -> dict[str, xr.DataArray]:
    """The toy's cluster quantities (its mean pmra and cluster fraction)."""
    return toy.summary_quantities(posterior, {}, toy.DEFAULT_OPTIONS)


def run(
    model: pm.Model, target: dict[str, Any] | None = TARGET, cores: int = 2
) -> az.InferenceData:
    return sample(
        model,
        backend="nutpie",
        seed=SEED,
        cores=cores,
        progress_interval=None,
        target=target,
        target_quantities=toy_quantities,
        **SETTINGS,
    )


def test_sampling_stops_at_the_first_checkpoint_that_meets_the_target(
    toy_model: pm.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trace ends at a checkpoint before the cap, where every cluster quantity (the
    default ``judge``) meets the target, and no earlier checkpoint did; looking at the
    sampler every poll or only after it ended gives the same trace (same seed, same
    draws)."""
    import nutpie

    started_with = []
    original = nutpie.sample

    def recording_sample(*args: Any, **kwargs: Any) -> Any:
        started_with.append(kwargs["cores"])
        return original(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", recording_sample)
    monkeypatch.setattr(sampling, "TARGET_LOOK_S", 0.0)
    often = run(toy_model, cores=1)
    monkeypatch.setattr(sampling, "TARGET_LOOK_S", 1e9)  # judged only once the chains end
    at_the_end = run(toy_model)
    kept = often.posterior.sizes["draw"]
    assert kept < SETTINGS["draws"] and kept % TARGET["check_every"] == 0
    for name in toy_free(toy_model):
        np.testing.assert_array_equal(often.posterior[name], at_the_end.posterior[name])
    assert often.sample_stats.sizes["draw"] == kept
    assert often.warmup_posterior.sizes["draw"] == SETTINGS["tune"]
    attrs = trace_attrs(often)
    assert attrs["draws"] == kept
    # every chain ran at once, whatever the cores given: none drew far past the checkpoint
    # while another waited for a core; the steps of the draws cut off count in the cost
    assert started_with[0] == SETTINGS["chains"]
    kept_steps = int(
        often.sample_stats["n_steps"].sum() + often.warmup_sample_stats["n_steps"].sum()
    )
    assert attrs["gradient_evaluations"] >= kept_steps
    record = attrs["sampling_target"]
    assert record["stopped"] == f"target met after {kept} draws per chain"
    assert [r["draws"] for r in record["rounds"]] == list(
        range(TARGET["check_every"], kept + 1, TARGET["check_every"])
    )
    assert trace_attrs(at_the_end)["sampling_target"] == record
    assert record["judge"] == "cluster" and record["judged"] == ["f_cluster", "pmra"]
    # the kept draws meet the target, as ArviZ computes it on the returned trace
    posterior = xr.Dataset(toy_quantities(often.posterior))
    assert float(az.rhat(posterior).to_array().max()) <= TARGET["rhat_max"]
    for method in ("bulk", "tail"):
        assert float(az.ess(posterior, method=method).to_array().min()) >= TARGET["ess"]
    for earlier in record["rounds"][:-1]:
        assert (
            earlier["r_hat_max"] > TARGET["rhat_max"]
            or min(earlier["ess_bulk_min"], earlier["ess_tail_min"]) < TARGET["ess"]
        )


def test_a_target_out_of_reach_draws_the_cap(toy_model: pm.Model) -> None:
    idata = run(toy_model, {**TARGET, "ess": 1e9, "check_every": 500, "judge": "free"})
    assert idata.posterior.sizes["draw"] == SETTINGS["draws"]
    record = trace_attrs(idata)["sampling_target"]
    assert record["stopped"] == f"target not met by the cap of {SETTINGS['draws']} draws per chain"
    assert [r["draws"] for r in record["rounds"]] == [500, 1000, 1500, 2000]
    assert record["judged"] == sorted(toy_free(toy_model))


def test_judging_every_free_parameter_is_at_least_as_strict(toy_model: pm.Model) -> None:
    """``judge: free`` judges the cluster quantities' parameters and every nuisance one, so
    it never stops before ``judge: cluster`` on the same draws (same seed), and its kept
    draws meet the target on every free parameter."""
    cluster = run(toy_model)
    free = run(toy_model, {**TARGET, "judge": "free"})
    kept = free.posterior.sizes["draw"]
    assert kept >= cluster.posterior.sizes["draw"]
    np.testing.assert_array_equal(
        free.posterior["mu_cl"].isel(draw=slice(0, cluster.posterior.sizes["draw"])),
        cluster.posterior["mu_cl"],
    )
    posterior = free.posterior[toy_free(toy_model)]
    assert float(az.rhat(posterior).to_array().max()) <= TARGET["rhat_max"]
    for method in ("bulk", "tail"):
        assert float(az.ess(posterior, method=method).to_array().min()) >= TARGET["ess"]


def test_only_nutpie_stops_at_a_target_and_bad_settings_name_their_key(toy_model: pm.Model) -> None:
    with pytest.raises(ConfigError, match=r"sampling\.target: only the nutpie backend"):
        sample(toy_model, backend="pymc", seed=1, target=TARGET, **SETTINGS)
    for bad, key in (
        ({"ess": 0}, r"sampling\.target\.ess"),
        ({"rhat_max": 1.0}, r"sampling\.target\.rhat_max"),
        ({"check_every": 5}, r"sampling\.target\.check_every"),
        ({"ess_bulk": 400}, r"sampling\.target: unknown keys \['ess_bulk'\]"),
        ({"ess": "many"}, r"sampling\.target"),
        ({"judge": "all"}, r"sampling\.target\.judge must be one of \['cluster', 'free'\]"),
    ):
        with pytest.raises(ConfigError, match=key):
            SamplingTarget.from_config(bad, quantities=toy_quantities)
    # judging the cluster quantities needs the function that computes them
    with pytest.raises(ValueError, match="target_quantities"):
        sample(toy_model, backend="nutpie", seed=1, target=TARGET, **SETTINGS)


def test_checkpoints_are_judged_once_each_and_end_at_the_cap() -> None:
    target = SamplingTarget.from_config({"check_every": 100, "judge": "free"})
    assert target.checkpoints(draws_done=50, cap=250) == []
    assert target.checkpoints(draws_done=250, cap=250) == [100, 200, 250]
    target.rounds.append({"draws": 200})
    assert target.checkpoints(draws_done=250, cap=250) == [250]


def toy_free(model: pm.Model) -> list[str]:
    return [rv.name for rv in model.free_RVs]


def test_a_fit_judges_its_cluster_quantities_without_systematic_floors() -> None:
    """What a workflow fit's target judges (:func:`clustermix.fit.run.statistical_quantities`)
    is the model's ``summary_quantities`` with the floors at zero: a seeded systematic draw,
    independent from draw to draw, would make a quantity look better mixed than its chains
    (the summary with the floor differs from the sampled draws; the judged one does not)."""
    from clustermix.fit.run import statistical_quantities
    from clustermix.models.registry import get_model, model_options

    pmra_1d = get_model("pmra_1d")
    options = model_options(pmra_1d, {"pm_systematic_masyr": 0.05})
    rng = np.random.default_rng(3)
    posterior = xr.Dataset(
        {
            "pmra_cl": (("chain", "draw"), rng.normal(-2.9, 0.01, (2, 50))),
            "f_cluster": (("chain", "draw"), rng.uniform(0.1, 0.2, (2, 50))),
        }
    )
    judged = statistical_quantities(pmra_1d, {}, options)(posterior)
    np.testing.assert_array_equal(judged["pmra"], posterior["pmra_cl"])
    np.testing.assert_array_equal(judged["f_cluster"], posterior["f_cluster"])
    with_floor = pmra_1d.summary_quantities(posterior, {}, options)["pmra"]
    assert float(np.abs(with_floor - posterior["pmra_cl"]).max()) > 0.01

"""Sampling to a target (sampling.target): stop at the first checkpoint the draws reach."""

from __future__ import annotations

from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import pytest

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


def run(model: pm.Model, target: dict[str, Any] | None = TARGET) -> az.InferenceData:
    return sample(
        model,
        backend="nutpie",
        seed=SEED,
        cores=2,
        progress_interval=None,
        target=target,
        **SETTINGS,
    )


def test_sampling_stops_at_the_first_checkpoint_that_meets_the_target(
    toy_model: pm.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trace ends at a checkpoint before the cap, where every free parameter meets the
    target, and no earlier checkpoint did; looking at the sampler every poll or only after
    it ended gives the same trace (same seed, same draws)."""
    monkeypatch.setattr(sampling, "TARGET_LOOK_S", 0.0)
    often = run(toy_model)
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
    record = attrs["sampling_target"]
    assert record["stopped"] == f"target met after {kept} draws per chain"
    assert [r["draws"] for r in record["rounds"]] == list(
        range(TARGET["check_every"], kept + 1, TARGET["check_every"])
    )
    assert trace_attrs(at_the_end)["sampling_target"] == record
    # the kept draws meet the target, as ArviZ computes it on the returned trace
    posterior = often.posterior[toy_free(toy_model)]
    assert float(az.rhat(posterior).to_array().max()) <= TARGET["rhat_max"]
    for method in ("bulk", "tail"):
        assert float(az.ess(posterior, method=method).to_array().min()) >= TARGET["ess"]
    for earlier in record["rounds"][:-1]:
        assert (
            earlier["r_hat_max"] > TARGET["rhat_max"]
            or min(earlier["ess_bulk_min"], earlier["ess_tail_min"]) < TARGET["ess"]
        )


def test_a_target_out_of_reach_draws_the_cap(toy_model: pm.Model) -> None:
    idata = run(toy_model, {**TARGET, "ess": 1e9, "check_every": 500})
    assert idata.posterior.sizes["draw"] == SETTINGS["draws"]
    record = trace_attrs(idata)["sampling_target"]
    assert record["stopped"] == f"target not met by the cap of {SETTINGS['draws']} draws per chain"
    assert [r["draws"] for r in record["rounds"]] == [500, 1000, 1500, 2000]


def test_only_nutpie_stops_at_a_target_and_bad_settings_name_their_key(toy_model: pm.Model) -> None:
    with pytest.raises(ConfigError, match=r"sampling\.target: only the nutpie backend"):
        sample(toy_model, backend="pymc", seed=1, target=TARGET, **SETTINGS)
    for bad, key in (
        ({"ess": 0}, r"sampling\.target\.ess"),
        ({"rhat_max": 1.0}, r"sampling\.target\.rhat_max"),
        ({"check_every": 5}, r"sampling\.target\.check_every"),
        ({"ess_bulk": 400}, r"sampling\.target: unknown keys \['ess_bulk'\]"),
        ({"ess": "many"}, r"sampling\.target"),
    ):
        with pytest.raises(ConfigError, match=key):
            SamplingTarget.from_config(bad)


def test_checkpoints_are_judged_once_each_and_end_at_the_cap() -> None:
    target = SamplingTarget.from_config({"check_every": 100})
    assert target.checkpoints(draws_done=50, cap=250) == []
    assert target.checkpoints(draws_done=250, cap=250) == [100, 200, 250]
    target.rounds.append({"draws": 200})
    assert target.checkpoints(draws_done=250, cap=250) == [250]


def toy_free(model: pm.Model) -> list[str]:
    return [rv.name for rv in model.free_RVs]

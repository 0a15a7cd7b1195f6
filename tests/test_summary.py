"""Posterior summaries and convergence diagnostics."""

from __future__ import annotations

import json

import arviz as az
import numpy as np
import pytest
import xarray as xr

from clustermix.fit.diagnostics import fit_diagnostics
from clustermix.fit.sampling import stamp_trace
from clustermix.fit.summary import PERCENTILES, json_safe, summarize
from clustermix.models import SUMMARY_UNITS


def draws(values: np.ndarray, name: str) -> xr.DataArray:
    return xr.DataArray(values, dims=("chain", "draw"), name=name)


def fake_trace(offsets: tuple[float, ...], n_draw: int = 1000, seed: int = 0) -> az.InferenceData:
    """Chains of independent N(offset, 1) draws (well mixed when the offsets are equal),
    with NUTS-like sampler statistics."""
    rng = np.random.default_rng(seed)
    n_chain = len(offsets)
    shift = np.asarray(offsets)[:, None]
    idata = az.from_dict(
        posterior={
            "mu": rng.normal(0.0, 1.0, (n_chain, n_draw)) + shift,
            "sigma": rng.lognormal(0.0, 0.1, (n_chain, n_draw, 3)),
        },
        sample_stats={
            "energy": rng.normal(100.0, 2.0, (n_chain, n_draw)),
            "diverging": np.zeros((n_chain, n_draw), bool),
            "n_steps": np.full((n_chain, n_draw), 7),
        },
    )
    stamp_trace(idata, sampler="pymc", sampler_version="x", wall_time_s=1.5, model="fake")
    return idata


def test_summary_keys_and_quantiles() -> None:
    rng = np.random.default_rng(42)
    pmra = rng.normal(-2.9, 0.02, (4, 500))
    fraction = rng.beta(3, 7, (4, 500))
    quantities = {"pmra": draws(pmra, "pmra"), "f_cluster": draws(fraction, "f_cluster")}
    summary = summarize(quantities, SUMMARY_UNITS)
    assert set(summary) == {"quantities"}
    stats = summary["quantities"]["pmra"]
    assert set(stats) == {"mean", "sd", "q2.5", "q16", "q50", "q84", "q97.5", "unit"}
    assert stats["unit"] == "mas/yr" and summary["quantities"]["f_cluster"]["unit"] == ""
    assert stats["mean"] == pytest.approx(pmra.mean())
    assert stats["sd"] == pytest.approx(pmra.std())
    for key, percent in PERCENTILES.items():
        assert stats[key] == pytest.approx(np.percentile(pmra.ravel(), percent), rel=1e-12)
    assert stats["q2.5"] < stats["q16"] < stats["q50"] < stats["q84"] < stats["q97.5"]


def test_summary_with_truth() -> None:
    rng = np.random.default_rng(1)
    quantities = {"pmra": draws(rng.normal(0.0, 1.0, (2, 2000)), "pmra")}
    summary = summarize(quantities, SUMMARY_UNITS, truth={"pmra": 1.5, "parallax": 0.36})
    assert summary["truth"] == {"pmra": 1.5}  # only quantities this model measures
    assert summary["truth_in_68"] == {"pmra": False}
    assert summary["truth_in_95"] == {"pmra": True}
    json.dumps(summary)  # plain JSON types


def test_summary_splits_statistical_and_systematic_errors() -> None:
    """pm_2d's reported proper motions add the 0.02 mas/yr floor draw by draw; the summary
    keeps the whole sd and splits it: the statistical sd is that of the draws without the
    floor, the systematic one sqrt(sd^2 - stat^2), which for 2000 draws is the floor to
    within its sampling error (sqrt(1/2n) relative, ~1.6%: 6% is allowed). The paper gets
    both as macros."""
    from clustermix.models.pm_2d import model as pm_2d
    from clustermix.models.systematics import PM_FLOOR_MASYR, without_systematics
    from clustermix.paper.macros import summary_macros

    rng = np.random.default_rng(3)
    posterior = xr.Dataset(
        {
            "pmra_cl": (("chain", "draw"), rng.normal(-2.9, 0.004, (2, 1000))),
            "pmdec_cl": (("chain", "draw"), rng.normal(-3.9, 0.004, (2, 1000))),
            "f_cluster": (("chain", "draw"), rng.beta(30, 70, (2, 1000))),
        }
    )
    options = pm_2d.DEFAULT_OPTIONS
    total = pm_2d.summary_quantities(posterior, {}, options)
    statistical = pm_2d.summary_quantities(posterior, {}, without_systematics(options))
    summary = summarize(total, SUMMARY_UNITS, None, statistical)["quantities"]
    for name in ("pmra", "pmdec"):
        stats = summary[name]
        assert stats["sd_statistical"] == pytest.approx(float(posterior[f"{name}_cl"].std()))
        assert stats["sd_systematic"] == pytest.approx(PM_FLOOR_MASYR, rel=0.06)
        assert stats["sd"] ** 2 == pytest.approx(
            stats["sd_statistical"] ** 2 + stats["sd_systematic"] ** 2
        )
    assert summary["f_cluster"]["sd_systematic"] == 0.0
    macros = summary_macros("pm_2d", {"quantities": summary})
    assert macros["PmTwoDPmraSys"] == "0.020" and macros["PmTwoDPmraStat"] == "0.004"


def test_error_budget_gives_each_floor_its_part() -> None:
    """parallax_1d's distance = 1000 / (plx_stat + plx_floor draw). With the floor alone the
    summary's parallax part is the floor (0.011 mas, to the sampling error of 2000 draws,
    sqrt(1/2n) ~ 1.6% relative: 6% allowed), and the distance's part is what the floor adds
    to it; a model without a proper-motion floor has no pm part. The macros carry each."""
    from clustermix.models.parallax_1d import model as parallax_1d
    from clustermix.models.systematics import (
        PARALLAX_FLOOR_MAS,
        with_one_floor,
        without_systematics,
    )
    from clustermix.paper.macros import summary_macros

    rng = np.random.default_rng(5)
    posterior = xr.Dataset(
        {
            "parallax_cl": (("chain", "draw"), rng.normal(0.36, 0.004, (2, 1000))),
            "f_cluster": (("chain", "draw"), rng.beta(30, 70, (2, 1000))),
        }
    )
    options = parallax_1d.DEFAULT_OPTIONS
    total = parallax_1d.summary_quantities(posterior, {}, options)
    statistical = parallax_1d.summary_quantities(posterior, {}, without_systematics(options))
    alone = parallax_1d.summary_quantities(
        posterior, {}, with_one_floor(options, "parallax_systematic_mas")
    )
    summary = summarize(total, SUMMARY_UNITS, None, statistical, {"parallax": alone})
    stats = summary["quantities"]
    assert stats["parallax"]["sd_systematic_parallax"] == pytest.approx(
        PARALLAX_FLOOR_MAS, rel=0.06
    )
    # one floor: its part is the whole systematic error
    for name in ("parallax", "distance"):
        assert stats[name]["sd_systematic_parallax"] == pytest.approx(stats[name]["sd_systematic"])
    assert stats["f_cluster"]["sd_systematic_parallax"] == 0.0
    assert "sd_systematic_pm" not in stats["parallax"]
    macros = summary_macros("parallax_1d", {"quantities": stats})
    assert macros["ParallaxOneDParallaxSysParallax"] == macros["ParallaxOneDParallaxSys"]
    assert "ParallaxOneDParallaxSysPm" not in macros


def test_two_floors_split_the_systematic_error() -> None:
    """Two independent floors b and c on a statistical spread a: each part is its floor,
    and the parts add in quadrature to the total (2000 draws: 6% relative allowed)."""
    rng = np.random.default_rng(8)
    shape = (2, 1000)
    stat = rng.normal(0.0, 0.01, shape)
    floor_b, floor_c = rng.normal(0.0, 0.02, shape), rng.normal(0.0, 0.03, shape)
    total = {"pmra": draws(stat + floor_b + floor_c, "pmra")}
    one_floor = {
        "parallax": {"pmra": draws(stat + floor_b, "pmra")},
        "pm": {"pmra": draws(stat + floor_c, "pmra")},
    }
    stats = summarize(total, SUMMARY_UNITS, None, {"pmra": draws(stat, "pmra")}, one_floor)
    pmra = stats["quantities"]["pmra"]
    assert pmra["sd_systematic_parallax"] == pytest.approx(0.02, rel=0.06)
    assert pmra["sd_systematic_pm"] == pytest.approx(0.03, rel=0.06)
    assert pmra["sd"] ** 2 == pytest.approx(
        pmra["sd_statistical"] ** 2
        + pmra["sd_systematic_parallax"] ** 2
        + pmra["sd_systematic_pm"] ** 2,
        rel=0.1,
    )


def test_summary_rejects_vectors_and_unknown_units() -> None:
    vector = xr.DataArray(np.zeros((2, 10, 3)), dims=("chain", "draw", "axis"), name="v")
    with pytest.raises(ValueError, match="axis"):
        summarize({"pmra": vector}, SUMMARY_UNITS)
    with pytest.raises(ValueError, match="SUMMARY_UNITS"):
        summarize({"speed": draws(np.zeros((2, 10)), "speed")}, SUMMARY_UNITS)


def test_json_safe() -> None:
    value = {"a": float("nan"), "b": [np.float32(1.5), np.inf], "c": np.int64(3), "d": "x"}
    assert json_safe(value) == {"a": None, "b": [1.5, None], "c": 3, "d": "x"}


def test_diagnostics_of_a_good_trace() -> None:
    idata = fake_trace((0.0, 0.0, 0.0, 0.0))
    result = fit_diagnostics(idata, ["mu"])
    assert result["cluster"]["r_hat_max"] < 1.01
    assert result["cluster"]["ess_bulk_min"] > 2000
    assert result["cluster"]["ess_tail_min"] > 2000
    assert set(result["cluster"]["per_variable"]) == {"mu"}
    assert set(result["all_parameters"]["per_variable"]) == {"mu", "sigma"}
    assert result["divergences"] == 0
    assert len(result["e_bfmi"]) == 4 and result["e_bfmi_min"] > 1.0  # white-noise energy
    assert result["sampler"] == "pymc" and result["wall_time_s"] == 1.5
    assert result["warnings"] == []
    json.dumps(json_safe(result))


def test_diagnostics_flag_chains_that_disagree() -> None:
    idata = fake_trace((0.0, 3.0))
    idata.sample_stats["diverging"][0, :5] = True
    mu = idata.posterior["mu"]
    result = fit_diagnostics(idata, {"pmra": mu})
    assert result["cluster"]["r_hat_max"] > 1.1
    assert result["all_parameters"]["r_hat_max"] > 1.1
    assert set(result["cluster"]["per_variable"]) == {"pmra"}
    assert result["divergences"] == 5
    assert any("R-hat" in warning for warning in result["warnings"])
    assert any("divergent" in warning for warning in result["warnings"])


def test_diagnostics_record_the_set_up_and_the_paper_table_shows_it() -> None:
    """The field's K and its BIC table, the field model and the mode search, from the
    trace's attributes, reach the diagnostics and a row of the paper's set-up table."""
    from clustermix.paper.macros import setup_row

    idata = fake_trace((0.0, 0.0))
    stamp_trace(
        idata,
        options={
            "n_field_components": 3,
            "field_model": "control_field",
            "error_inflation": True,
            "rv_binaries": False,
        },
        field_components={
            "n_field_components": 3,
            "criterion": "BIC",
            "n_stars": 3565,
            "table": [{"k": k, "delta_bic": d} for k, d in ((1, 9593.5), (2, 930.6), (3, 0.0))],
        },
        mode_search={
            "modes": [{"is_cluster": True}, {"is_cluster": False}],
            "chosen": "hint",
            "seconds": 9.3,
        },
    )
    setup = json.loads(json.dumps(json_safe(fit_diagnostics(idata, ["mu"]))))["setup"]
    assert setup["n_field_components"] == 3 and setup["field_model"] == "control_field"
    assert setup["modes"] == 2 and setup["cluster_modes"] == 1 and setup["chosen"] == "hint"
    assert setup["k_stars"] == 3565
    row = setup_row("pm_2d", {"setup": setup})
    assert row == [
        "pm\\_2d",
        "control field",
        "3",
        "9594, 931, 0",
        "3{,}565",
        "1/2",
        "hint",
        "9",
        "fitted",
    ]
    with_binaries = {**setup, "error_inflation": False, "rv_binaries": True}
    assert setup_row("phase_space", {"setup": with_binaries})[-1] == "quoted + binaries"
    # a fit without a field choice or a mode search (the line example): dashes
    assert (
        setup_row("line_outliers", {"setup": fit_diagnostics(fake_trace((0.0,)), ["mu"])["setup"]})[
            1:
        ]
        == ["--"] * 8
    )

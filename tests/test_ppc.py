"""Posterior predictive checks: binning and p-values, replicated data from known
parameters (calibrated) and from a wrong posterior (rejected), per-star uncertainties,
the JSON and macro files, and the figure."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import arviz as az
import numpy as np
import pytest
import xarray as xr
from scipy import stats

from clustermix.checks.ppc import (
    binned_counts,
    format_p_value,
    histogram_check,
    model_quantities,
    posterior_predictive_check,
    ppc_macros,
    replicate,
    run_ppc,
    write_ppc_numbers,
)
from clustermix.errors import InputDataError
from clustermix.fit.sampling import save_trace, stamp_trace
from clustermix.models import MODEL_NAMES
from clustermix.models.kinematics import ARCMIN_PER_RAD, KMS_PER_MASYR_KPC
from clustermix.models.line_outliers import model as line_outliers
from clustermix.models.phase_space.replicate import sample_cluster_in_disc, sample_cone_uniform
from clustermix.models.registry import get_model
from clustermix.plotting.ppc import ppc_figure
from clustermix.plotting.style import save_figure

MACRO_LINE = re.compile(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}")
N_DRAWS = 200


def constant_posterior(values: dict[str, float | list], n_draws: int = N_DRAWS) -> xr.Dataset:
    """A posterior whose every draw is ``values`` (one chain): the parameters known."""
    data_vars = {}
    for name, value in values.items():
        array = np.asarray(value, float)
        dims = ("chain", "draw", *(f"{name}_dim_{i}" for i in range(array.ndim)))
        data_vars[name] = (dims, np.broadcast_to(array, (1, n_draws, *array.shape)).copy())
    return xr.Dataset(data_vars, coords={"chain": [0], "draw": np.arange(n_draws)})


# ----------------------------------------------------------------------------- pmra_1d

#: pmra_1d's options with K fixed (a fit resolves the default "auto" first) and the field
#: fitted jointly with the cluster (the posteriors here hold the field's parameters).
PMRA_OPTIONS = {"n_field_components": 2, "field_model": "joint"}

PMRA_TRUTH = {
    "pmra_cl": -2.9,
    "sigma_pmra_cl": 0.1,
    "f_cluster": 0.2,
    "w_field": [0.7, 0.3],
    "pmra_field": [-2.0, -1.0],
    "sigma_pmra_field": [2.0, 6.0],
}


def pmra_free_values(truth: dict) -> dict:
    """The pmra_1d model's free variables (fields ordered by width) for ``truth``."""
    log_excess = np.log(np.asarray(truth["sigma_pmra_field"]) - truth["sigma_pmra_cl"])
    return {
        "pmra_cl": truth["pmra_cl"],
        "sigma_pmra_cl": truth["sigma_pmra_cl"],
        "f_cluster": truth["f_cluster"],
        "w_field": truth["w_field"],
        "pmra_field": truth["pmra_field"],
        "log_excess_sigma_pmra_field_first": log_excess[0],
        "log_excess_sigma_pmra_field_gap": np.diff(log_excess),
    }


def pmra_data(seed: int, n: int = 1500) -> dict[str, np.ndarray]:
    """Stars drawn from the pmra_1d model with PMRA_TRUTH (written out here, independently
    of the model's random function). Each star has its own error (mas/yr), the same for
    every ``seed``: only the values are redrawn."""
    error = np.random.default_rng(0).uniform(0.05, 1.0, n)
    rng = np.random.default_rng([seed, 1])
    member = rng.random(n) < PMRA_TRUTH["f_cluster"]
    component = rng.choice(2, size=n, p=PMRA_TRUTH["w_field"])
    mean = np.where(member, PMRA_TRUTH["pmra_cl"], np.take(PMRA_TRUTH["pmra_field"], component))
    width = np.where(
        member, PMRA_TRUTH["sigma_pmra_cl"], np.take(PMRA_TRUTH["sigma_pmra_field"], component)
    )
    pmra = rng.normal(mean, np.sqrt(width**2 + error**2))
    return {"source_id": np.arange(n, dtype=np.int64), "pmra": pmra, "pmra_error": error}


def test_pmra_1d_known_parameters_give_calibrated_p_values() -> None:
    posterior = constant_posterior(pmra_free_values(PMRA_TRUTH))
    result = posterior_predictive_check("pmra_1d", pmra_data(1), PMRA_OPTIONS, posterior, seed=1001)
    check = result["quantities"]["pmra"]
    assert 0.01 < check["p_value"] < 0.99, check["p_value"]
    assert check["band_fraction"] > 0.8
    assert result["n_draws"] == N_DRAWS
    # over 20 data sets (the stars' errors fixed, so one set of replicates serves all)
    replicated = replicate(
        "pmra_1d", pmra_data(0), PMRA_OPTIONS, posterior, np.random.default_rng(2)
    )
    p_values = np.array(
        [
            histogram_check(pmra_data(seed)["pmra"], replicated["pmra"])["p_value"]
            for seed in range(20)
        ]
    )
    assert np.sum((p_values <= 0.01) | (p_values >= 0.99)) <= 2, p_values
    assert stats.kstest(p_values, "uniform").pvalue > 0.01, p_values


def test_pmra_1d_wrong_cluster_mean_is_rejected() -> None:
    data = pmra_data(1)
    spread = np.sqrt(PMRA_TRUTH["sigma_pmra_cl"] ** 2 + np.median(data["pmra_error"]) ** 2)
    wrong = {**PMRA_TRUTH, "pmra_cl": PMRA_TRUTH["pmra_cl"] + 10.0 * spread}
    result = posterior_predictive_check(
        "pmra_1d", data, PMRA_OPTIONS, constant_posterior(pmra_free_values(wrong)), seed=1
    )
    assert result["quantities"]["pmra"]["p_value"] < 0.01


def test_replicated_stars_keep_their_own_errors() -> None:
    n = 200
    error = np.where(np.arange(n) % 2 == 0, 0.05, 3.0)
    data = {"source_id": np.arange(n, dtype=np.int64), "pmra": np.zeros(n), "pmra_error": error}
    members = {**PMRA_TRUTH, "f_cluster": 1.0 - 1e-9}
    posterior = constant_posterior(pmra_free_values(members), n_draws=400)
    replicated = replicate("pmra_1d", data, PMRA_OPTIONS, posterior, np.random.default_rng(5))[
        "pmra"
    ]
    assert replicated.shape == (400, n)
    spread = replicated.std(axis=0)
    expected = np.sqrt(PMRA_TRUTH["sigma_pmra_cl"] ** 2 + error**2)
    np.testing.assert_allclose(np.median(spread[::2]), expected[0], rtol=0.1)
    np.testing.assert_allclose(np.median(spread[1::2]), expected[1], rtol=0.1)
    np.testing.assert_allclose(spread / expected, 1.0, atol=0.25)


def test_replicates_condition_on_every_posterior_value() -> None:
    # The posterior's dims need not be the model's: no parameter may be drawn from its
    # prior instead (all 20 draws are the same parameters, so the replicates agree).
    data = pmra_data(1)
    posterior = constant_posterior(pmra_free_values(PMRA_TRUTH), n_draws=20)
    replicated = replicate("pmra_1d", data, PMRA_OPTIONS, posterior, np.random.default_rng(0))[
        "pmra"
    ]
    spread = np.percentile(replicated, [16, 84], axis=1)
    assert np.all(np.abs(spread - np.median(spread, axis=1, keepdims=True)) < 0.5), spread
    incomplete = posterior.drop_vars("pmra_field")
    with pytest.raises(ValueError, match="pmra_field"):
        replicate("pmra_1d", data, PMRA_OPTIONS, incomplete, np.random.default_rng(0))


def other_model_case(model: str, n: int = 300) -> tuple[dict, dict, xr.Dataset]:
    """Data, options and a 30-draw posterior at the model's starting point, for pm_2d or
    parallax_1d (mas and mas/yr)."""
    rng = np.random.default_rng(1)
    data = {
        "source_id": np.arange(n, dtype=np.int64),
        "pmra": rng.normal(-3.0, 2.0, n),
        "pmdec": rng.normal(-4.0, 2.0, n),
        "pmra_error": np.full(n, 0.1),
        "pmdec_error": np.full(n, 0.2),
        "pmra_pmdec_corr": np.full(n, 0.3),
        "parallax": rng.normal(0.4, 0.2, n),
        "parallax_error": np.full(n, 0.05),
    }
    if model == "parallax_1d":  # the binned field's control stars and bins
        data["control_parallax"] = rng.normal(0.4, 0.3, 2 * n)
        data["control_parallax_error"] = np.full(2 * n, 0.05)
        data["field_bin_centres"] = np.linspace(0.05, 1.95, 20)
    module = get_model(model)
    options = {**module.DEFAULT_OPTIONS}
    if "n_field_components" in options:
        options["n_field_components"] = 2  # a fit resolves "auto" from the control field
    start = module.initial_values(data, options)
    return data, options, constant_posterior(start, n_draws=30)


@pytest.mark.parametrize("model", ["pm_2d", "parallax_1d"])
def test_replicates_of_the_other_models_have_the_data_shape(model: str) -> None:
    n = 300
    data, options, posterior = other_model_case(model, n)
    replicated = replicate(model, data, options, posterior, np.random.default_rng(2))
    assert list(replicated) == list(model_quantities(model))
    for values in replicated.values():
        assert values.shape == (30, n) and np.all(np.isfinite(values))
        assert np.std(values[:, 0]) > 0


# ------------------------------------------------------------------------- phase_space

CONE = (295.327, 40.190, 20.0)  # deg, deg, arcmin
PHASE_TRUTH = {
    "xi_cl": 0.5,
    "eta_cl": -0.3,
    "plummer_radius_arcmin": 4.5,
    "parallax_cl": 0.36,
    "pmra_cl": -2.91,
    "pmdec_cl": -3.86,
    "rv_cl": 2.45,
    "sigma_v": 1.0,
    "f_cluster": 0.2,
    "w_field": [0.6, 0.4],
    "parallax_field": [0.4, 0.6],
    "pm_field": [[-2.5, -5.0], [-1.0, -3.0]],
    "sd_field_parallax": [0.3, 0.5],
    "sd_field_pmra": [1.5, 5.0],
    "sd_field_pmdec": [2.0, 6.0],
    "cpc_field_beta": [[0.5, 0.55, 0.6], [0.45, 0.5, 0.4]],
}


def phase_stars(n: int, seed: int) -> dict[str, np.ndarray]:
    """Per-star uncertainties and correlations (Gaia-like, mas and mas/yr) and the cone."""
    rng = np.random.default_rng([seed, 0])
    scale = rng.uniform(0.03, 0.3, n)
    return {
        "source_id": np.arange(n, dtype=np.int64),
        "parallax_error": scale,
        "pmra_error": 1.1 * scale,
        "pmdec_error": 1.2 * scale,
        "parallax_pmra_corr": rng.uniform(-0.3, 0.3, n),
        "parallax_pmdec_corr": rng.uniform(-0.3, 0.3, n),
        "pmra_pmdec_corr": rng.uniform(-0.3, 0.3, n),
        "cone_ra_deg": np.asarray(CONE[0]),
        "cone_dec_deg": np.asarray(CONE[1]),
        "cone_radius_arcmin": np.asarray(CONE[2]),
    }


def phase_data(seed: int, n: int = 1500) -> dict[str, np.ndarray]:
    """A data set drawn from the phase-space model with PHASE_TRUTH."""
    data = phase_stars(n, seed)
    # independent streams: the stars' errors must not decide who is a member
    draw_rng, angle_rng = (np.random.default_rng([seed, stream]) for stream in (1, 2))
    one = replicate("phase_space", data, {}, constant_posterior(PHASE_TRUTH, 1), draw_rng)
    angle = angle_rng.uniform(0, 2 * np.pi, n)
    return {
        **data,
        "parallax": one["parallax"][0],
        "pmra": one["pmra"][0],
        "pmdec": one["pmdec"][0],
        # only the radius enters the check: any position angle will do
        "xi": one["radius"][0] * np.cos(angle),
        "eta": one["radius"][0] * np.sin(angle),
    }


def test_phase_space_known_parameters_give_calibrated_p_values() -> None:
    # 10 data sets x 4 quantities: p-values uniform on (0, 1), about 1 of 40 beyond 1%
    posterior = constant_posterior(PHASE_TRUTH)
    p_values = []
    for seed in range(10):
        result = posterior_predictive_check(
            "phase_space", phase_data(seed, n=1000), {}, posterior, seed=seed + 1000
        )
        assert list(result["quantities"]) == list(model_quantities("phase_space"))
        p_values.append([check["p_value"] for check in result["quantities"].values()])
    p_values = np.array(p_values)
    assert np.sum((p_values <= 0.01) | (p_values >= 0.99)) <= 3, p_values
    assert stats.kstest(p_values.ravel(), "uniform").pvalue > 0.01, p_values


def test_phase_space_wrong_cluster_motion_is_rejected() -> None:
    data = phase_data(11)
    s_pm = PHASE_TRUTH["sigma_v"] * PHASE_TRUTH["parallax_cl"] / KMS_PER_MASYR_KPC
    spread = np.sqrt(s_pm**2 + np.median(data["pmra_error"]) ** 2)
    wrong = {**PHASE_TRUTH, "pmra_cl": PHASE_TRUTH["pmra_cl"] + 10.0 * spread}
    result = posterior_predictive_check("phase_space", data, {}, constant_posterior(wrong), seed=11)
    assert result["quantities"]["pmra"]["p_value"] < 0.01
    # the sky profile did not change: its check still passes
    assert result["quantities"]["radius"]["p_value"] > 0.01


def test_phase_space_replicates_keep_each_stars_covariance() -> None:
    n = 300
    data = phase_stars(n, 3)
    data["parallax_error"] = np.where(np.arange(n) % 2 == 0, 0.02, 0.5)
    members = {**PHASE_TRUTH, "f_cluster": 1.0, "sigma_v": 0.0}
    posterior = constant_posterior(members, n_draws=400)
    replicated = replicate("phase_space", data, {}, posterior, np.random.default_rng(4))
    spread = replicated["parallax"].std(axis=0)
    depth = PHASE_TRUTH["parallax_cl"] * PHASE_TRUTH["plummer_radius_arcmin"] / ARCMIN_PER_RAD
    expected = np.sqrt(data["parallax_error"] ** 2 + depth**2)
    np.testing.assert_allclose(spread / expected, 1.0, atol=0.25)
    # the pmra-pmdec correlation of each star survives
    pm_errors = np.column_stack([data["pmra_error"], data["pmdec_error"]])
    residual_a = replicated["pmra"] - replicated["pmra"].mean(axis=0)
    residual_d = replicated["pmdec"] - replicated["pmdec"].mean(axis=0)
    covariance = (residual_a * residual_d).mean(axis=0)
    np.testing.assert_allclose(
        covariance, data["pmra_pmdec_corr"] * pm_errors.prod(axis=1), atol=0.012
    )


def contract_case(model: str) -> tuple[dict, dict, xr.Dataset]:
    """Small data, options and a posterior for ``model``: the fixtures of this file."""
    if model == "line_outliers":
        line = {"m": 3.137, "b": -11.979, "ln_s_out": 2.6, "w": [0.734, 0.266]}
        return line_outliers.prepare_data(None, {}, "test"), {}, constant_posterior(line, 10)
    if model == "pmra_1d":
        return (
            pmra_data(1, n=300),
            PMRA_OPTIONS,
            constant_posterior(pmra_free_values(PMRA_TRUTH), 10),
        )
    if model == "phase_space":
        return phase_data(0, n=300), {}, constant_posterior(PHASE_TRUTH, 10)
    return other_model_case(model)


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_provides_its_observed_and_replicated_quantities(model: str) -> None:
    # the contract of clustermix.checks.ppc with the models: each model's own module compares and
    # replicates its quantities, one replicate per draw with the observed data's shape
    module = get_model(model)
    assert callable(module.observed_quantities) and callable(module.replicate)
    data, options, posterior = contract_case(model)
    observed = module.observed_quantities(data)
    replicated = module.replicate(data, options, posterior, np.random.default_rng(3))
    assert list(observed) == list(replicated) == list(model_quantities(model))
    n_draws = posterior.sizes["chain"] * posterior.sizes["draw"]
    for name, values in observed.items():
        assert values.ndim == 1
        assert replicated[name].shape == (n_draws, values.size)
        assert np.all(np.isfinite(replicated[name]))


def test_the_models_numpy_parts_load_no_pymc() -> None:
    # the paper numbers and local checks read each model's predictive module, and the
    # phase-space replicates are NumPy: none of them may pull PyMC in
    modules = [f"clustermix.models.{name}.predictive" for name in MODEL_NAMES]
    modules.append("clustermix.models.phase_space.replicate")
    code = "; ".join(f"import {module}" for module in modules)
    code += "; import sys; assert 'pymc' not in sys.modules, 'pymc loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plummer_positions_follow_the_truncated_profile() -> None:
    rng = np.random.default_rng(8)
    scale, disc = 4.5, ARCMIN_PER_RAD * np.tan(20.0 / ARCMIN_PER_RAD)
    xi, eta = sample_cluster_in_disc(
        np.zeros(2), np.zeros(2), np.full(2, scale), 20.0, (2, 5000), rng
    )
    radius = np.hypot(xi, eta).ravel()
    assert radius.max() <= disc

    def cdf(r: np.ndarray) -> np.ndarray:
        return (r**2 / (r**2 + scale**2)) / (disc**2 / (disc**2 + scale**2))

    assert stats.kstest(radius, cdf).pvalue > 0.01


def test_field_positions_are_uniform_on_the_sky() -> None:
    xi, eta = sample_cone_uniform(20.0, (20000,), np.random.default_rng(9))
    theta = np.arctan(np.hypot(xi, eta) / ARCMIN_PER_RAD)  # angular distance, rad
    cone = 20.0 / ARCMIN_PER_RAD
    cdf = (1.0 - np.cos(theta)) / (1.0 - np.cos(cone))  # uniform on the spherical cap
    assert stats.kstest(cdf, "uniform").pvalue > 0.01


# ---------------------------------------------------------------------------- statistics


def test_binned_counts_have_tails_and_a_closed_last_bin() -> None:
    edges = np.array([0.0, 1.0, 2.0])
    counts = binned_counts(np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, 3.0]]), edges)
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1]])


def test_histogram_check_rejects_a_shift_and_accepts_the_truth() -> None:
    rng = np.random.default_rng(0)
    observed = rng.normal(0.0, 1.0, 2000)
    same = histogram_check(observed, rng.normal(0.0, 1.0, (N_DRAWS, 2000)))
    shifted = histogram_check(observed, rng.normal(0.3, 1.0, (N_DRAWS, 2000)))
    assert 0.01 < same["p_value"] < 0.99
    assert shifted["p_value"] < 0.01
    assert len(same["edges"]) == same["n_bins"] + 1 == len(same["observed"]) + 1
    # every star counted, inside or in the tails
    total = sum(same["observed"]) + same["below"]["observed"] + same["above"]["observed"]
    assert total == 2000


def test_p_value_format() -> None:
    assert format_p_value(0.0, 200) == r"\ensuremath{<}0.005"
    assert format_p_value(0.42, 200) == "0.42"
    assert format_p_value(0.045, 200) == "0.045"


# ------------------------------------------------------------------- files: JSON, macros


def line_trace(path: Path, y: np.ndarray) -> None:
    """A trace of the line example: posterior near the tutorial's answer, observed ``y``."""
    rng = np.random.default_rng(3)
    shape = (2, 150)
    w_inlier = rng.normal(0.734, 0.085, shape).clip(0.4, 0.95)
    idata = az.from_dict(
        posterior={
            "m": rng.normal(3.137, 0.074, shape),
            "b": rng.normal(-11.979, 0.449, shape),
            "ln_s_out": rng.normal(2.6, 0.2, shape),
            "w": np.stack([w_inlier, 1.0 - w_inlier], axis=-1),
        },
        observed_data={"obs": y},
        dims={"w": ["component"], "obs": ["star"]},
        coords={"component": ["inlier", "outlier"], "star": np.arange(y.size)},
    )
    stamp_trace(idata, model="line_outliers", cluster="examples", n_stars=y.size, options={})
    save_trace(idata, path)


def read_macros(path: Path) -> dict[str, str]:
    macros = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("%"):
            match = MACRO_LINE.fullmatch(line)
            assert match, line
            macros[match[1]] = match[2]
    return macros


def test_run_ppc_writes_json_and_macros(tmp_path: Path) -> None:
    y = line_outliers.tutorial_data()["y"]
    line_trace(tmp_path / "trace.nc", y)
    result = run_ppc(tmp_path / "trace.nc", tmp_path / "ppc.json", seed=12345, n_draws=100)
    stored = json.loads((tmp_path / "ppc.json").read_text())
    assert stored == json.loads(json.dumps(result))
    check = stored["quantities"]["y"]
    assert stored["model"] == "line_outliers" and stored["n_draws"] == 100
    assert 0.0 <= check["p_value"] <= 1.0 and 0.0 <= check["band_fraction"] <= 1.0
    # the local checks (tests/test_ppc_local.py) need a cluster model: skipped, with reasons
    for key in ("radial_window", "membership_by_magnitude"):
        assert stored[key]["status"] == "skipped" and "line_outliers" in stored[key]["reason"]
    # the same seed gives the same file
    run_ppc(tmp_path / "trace.nc", tmp_path / "again.json", seed=12345, n_draws=100)
    assert (tmp_path / "again.json").read_text() == (tmp_path / "ppc.json").read_text()

    other = {**stored, "model": "pm_2d", "quantities": {"pmra": check, "pmdec": check}}
    (tmp_path / "pm_2d.json").write_text(json.dumps(other))
    macros = write_ppc_numbers(
        [tmp_path / "pm_2d.json", tmp_path / "ppc.json"], tmp_path / "ppc.tex", made_by="test"
    )
    assert read_macros(tmp_path / "ppc.tex") == macros
    for name in ("PpcLineOutliersYPvalue", "PpcPmTwoDPmdecBandFraction", "PpcSummary"):
        assert name in macros
    summary = macros["PpcSummary"]
    assert summary[0].isupper() and summary.endswith(".")
    assert summary.count("$") % 2 == 0 and summary.count("{") == summary.count("}")
    assert "3 model--quantity pairs" in summary
    assert macros["PpcLocalSummary"] == "No fit could be checked locally."
    assert macros["PpcPvalueMin"] in summary and macros["PpcBandPercent"] + r"\%" in summary


def test_run_ppc_refuses_other_data(tmp_path: Path) -> None:
    line_trace(tmp_path / "trace.nc", line_outliers.tutorial_data()["y"] + 1.0)
    with pytest.raises(InputDataError, match="observed data"):
        run_ppc(tmp_path / "trace.nc", tmp_path / "ppc.json", seed=1, n_draws=10)


def test_ppc_macros_need_results() -> None:
    with pytest.raises(ValueError, match="no posterior predictive"):
        ppc_macros([])


def test_ppc_figure(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    checks = {
        name: histogram_check(rng.normal(0, 1, 500), rng.normal(0, 1, (50, 500)))
        for name in ("parallax", "pmra", "pmdec", "radius")
    }
    results = [
        {"model": "phase_space", "n_draws": 50, "quantities": checks},
        {"model": "line_outliers", "n_draws": 50, "quantities": {"y": checks["pmra"]}},
    ]
    fig = ppc_figure(results)
    assert sum(ax.get_visible() for ax in fig.axes) == 5
    save_figure(fig, tmp_path / "ppc.pdf", {"rule": "test"})
    assert (tmp_path / "ppc.pdf").read_bytes().startswith(b"%PDF")

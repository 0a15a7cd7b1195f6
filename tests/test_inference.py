"""Sampling, traces and provenance, on the toy model (tests/toy_model.py)."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import arviz as az
import numpy as np
import pytest
import yaml

from clustermix.data.masks import read_catalog_with_masks
from clustermix.errors import ConfigError, InputDataError
from clustermix.fit import fitted, run
from clustermix.fit.membership import run_membership_table
from clustermix.fit.progress import PROGRESS_INTERVAL_S, FitProgress, format_duration
from clustermix.fit.sampling import (
    gradient_evaluations,
    load_trace,
    sample,
    save_trace,
    stamp_trace,
    start_variances,
    trace_attrs,
)
from clustermix.io import sha256_file, write_table_atomic
from clustermix.models import MODEL_NAMES
from clustermix.models import registry as reg
from clustermix.provenance.origin import code_version, config_hash, package_versions

from . import toy_model as toy
from .conftest import REPO

SETTINGS: dict[str, Any] = {"draws": 300, "tune": 300, "chains": 2, "target_accept": 0.9}
SEED = 11
#: A progress line of a toy fit with SETTINGS (labelled "toy").
PROGRESS_LINE = re.compile(
    r"fit toy: draws (\d+)/600, (\d+)/600 \(300 warm-up \+ 300 per chain\); "
    r"divergences \d+ \(\d+ in warm-up\); \d+ s elapsed, "
)


def progress_lines(caplog: pytest.LogCaptureFixture) -> list[re.Match[str]]:
    """The toy fit's progress lines among the captured log records."""
    found = (PROGRESS_LINE.match(record.getMessage()) for record in caplog.records)
    return [match for match in found if match]


@pytest.fixture(scope="module")
def toy_fit() -> dict[str, Any]:
    """The toy catalogue, its data and model, and one PyMC trace of it."""
    catalog, truth = toy.simulate()
    data = toy.prepare_data(catalog, toy.DEFAULT_OPTIONS, "toy catalogue")
    model = toy.build_model(data, toy.DEFAULT_OPTIONS)
    idata = sample(model, backend="pymc", seed=SEED, cores=2, progress_interval=None, **SETTINGS)
    return {"catalog": catalog, "truth": truth, "data": data, "model": model, "idata": idata}


def posterior_arrays(idata: az.InferenceData) -> dict[str, np.ndarray]:
    return {name: idata.posterior[name].values for name in idata.posterior.data_vars}


def test_pymc_trace_content(toy_fit: dict[str, Any]) -> None:
    idata = toy_fit["idata"]
    assert sorted(idata.posterior.data_vars) == sorted(toy.FREE_RVS)  # p_cluster not stored
    assert idata.posterior.sizes == {"chain": 2, "draw": 300}
    assert "obs" in idata.observed_data
    assert "log_likelihood" not in idata.groups()
    attrs = trace_attrs(idata)
    assert attrs["sampler"] == "pymc"
    assert attrs["seed"] == SEED
    assert attrs["wall_time_s"] > 0
    steps = int(idata.sample_stats["n_steps"].sum() + idata.warmup_sample_stats["n_steps"].sum())
    assert attrs["gradient_evaluations"] == steps
    assert gradient_evaluations(idata)["gradient_evaluations"] == steps
    assert 0 < attrs["gradient_evaluations_warmup"] < steps


def test_pymc_same_seed_same_trace(
    toy_fit: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Same seed, same draws, with progress lines (here) or without (the fixture)."""
    caplog.set_level(logging.INFO, logger="clustermix.fit.sampling")
    again = sample(
        toy_fit["model"],
        backend="pymc",
        seed=SEED,
        cores=2,
        progress_interval=0.01,
        label="toy",
        **SETTINGS,
    )
    first, second = posterior_arrays(toy_fit["idata"]), posterior_arrays(again)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    lines = progress_lines(caplog)
    assert lines, [record.getMessage() for record in caplog.records]
    assert any(int(m[1]) + int(m[2]) < 1200 for m in lines)  # logged while sampling
    other = sample(toy_fit["model"], backend="pymc", seed=SEED + 1, cores=2, **SETTINGS)
    assert not np.array_equal(first["mu_cl"], other.posterior["mu_cl"].values)


@pytest.mark.parametrize("compiler", ["jax", "numba"])
def test_nutpie_backend_is_deterministic_and_agrees_with_pymc(
    toy_fit: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
    compiler: str,
) -> None:
    """With either compiler: same seed, same draws, with progress lines (the first run) or
    without; looking at the running sampler warns about nothing; the trace names the
    compiler."""
    pytest.importorskip("nutpie")
    caplog.set_level(logging.INFO, logger="clustermix.fit.sampling")
    model = toy_fit["model"]
    runs = [
        sample(
            model,
            backend="nutpie",
            seed=SEED,
            cores=2,
            store_log_likelihood=True,
            progress_interval=interval,
            label="toy",
            compiler=compiler,
            **SETTINGS,
        )
        for interval in (0.005, None)
    ]
    lines = progress_lines(caplog)
    assert lines, [record.getMessage() for record in caplog.records]
    assert any(int(m[1]) + int(m[2]) < 1200 for m in lines)  # logged while sampling
    assert not [str(w.message) for w in recwarn if "than draws" in str(w.message)]
    idata = runs[0]
    assert sorted(idata.posterior.data_vars) == sorted(toy.FREE_RVS)  # no x_log__ copies
    assert {"observed_data", "constant_data", "log_likelihood"} <= set(idata.groups())
    assert idata.log_likelihood["obs"].dtype == np.float32
    attrs = trace_attrs(idata)
    assert attrs["sampler"] == "nutpie" and attrs["compile_time_s"] > 0
    assert attrs["compiler"] == compiler
    assert attrs["gradient_evaluations"] > attrs["gradient_evaluations_warmup"] > 0
    first, second = posterior_arrays(runs[0]), posterior_arrays(runs[1])
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    reference = toy_fit["idata"]
    for name in toy.FREE_RVS:
        error = np.hypot(
            float(az.mcse(idata, var_names=[name])[name]),
            float(az.mcse(reference, var_names=[name])[name]),
        )
        difference = float(idata.posterior[name].mean() - reference.posterior[name].mean())
        assert abs(difference) < 4.0 * error, (name, difference, error)


def test_start_variances_are_the_inverse_curvatures() -> None:
    """On a Gaussian log density the central differences are exact: variances 1e-4, 1,
    2500 (sd 0.01, 1, 50, as a cluster's proper motion, a log-width and a field's
    dispersion); an upward-curved direction gets PyMC's default of 1."""
    sd = np.array([0.01, 1.0, 50.0])
    centre = np.array([-2.9, 0.3, 10.0])

    def gradient(x: np.ndarray) -> np.ndarray:
        return -(x - centre) / sd**2

    np.testing.assert_allclose(start_variances(gradient, centre + 0.1 * sd), sd**2, rtol=1e-6)

    def saddle(x: np.ndarray) -> np.ndarray:
        return np.array([-x[0], x[1]])

    np.testing.assert_allclose(start_variances(saddle, np.zeros(2)), [1.0, 1.0], rtol=1e-6)


def test_the_mode_search_and_the_sampler_share_one_compiled_log_density() -> None:
    """Compiled once per model and compile mode (the graph rewrites of phase_space take
    about 10 s); JAX's function is the same log density; a fit that nutpie samples with JAX
    searches its mode with JAX, every other with C."""
    import pymc as pm

    from clustermix.models.compiled import JAX_MODE, compile_mode_for, logp_dlogp
    from clustermix.models.modes import PosteriorOptimiser

    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0, shape=2)
    with pm.Model() as other:
        pm.Normal("x", 0.0, 1.0, shape=2)
    function = logp_dlogp(model)
    assert PosteriorOptimiser(model)._logp_dlogp is function is logp_dlogp(model)
    assert logp_dlogp(other) is not function
    logp, gradient = function(np.array([0.5, -1.0]))
    np.testing.assert_allclose(logp, -np.log(2 * np.pi) - 0.625)
    np.testing.assert_allclose(gradient, [-0.5, 1.0])
    with_jax = logp_dlogp(model, JAX_MODE)
    assert with_jax is not function
    assert PosteriorOptimiser(model, JAX_MODE)._logp_dlogp is with_jax
    jax_logp, jax_gradient = with_jax(np.array([0.5, -1.0]))
    np.testing.assert_allclose(jax_logp, logp, rtol=1e-12)
    np.testing.assert_allclose(jax_gradient, gradient, rtol=1e-12)
    assert compile_mode_for({"backend": "nutpie", "compiler": "jax"}) == JAX_MODE
    for sampling in (
        {"backend": "nutpie", "compiler": "numba"},
        {"backend": "pymc", "compiler": "jax"},
        {"backend": "numpyro", "compiler": "jax"},
    ):
        assert compile_mode_for(sampling) is None


def test_a_fit_started_at_a_mode_adapts_from_its_curvature() -> None:
    """Started exactly at a mode (no jitter), PyMC's NUTS takes its first mass matrix from
    the curvature there: on a posterior with widths from 0.01 to 10 the warm-up needs
    fewer than a quarter of the gradient evaluations of unit variances (measured: 2,020
    against 29,006), the draws agree within Monte Carlo error, and the same seed gives the
    same draws."""
    import pymc as pm

    widths = np.array([0.01, 0.1, 10.0])
    with pm.Model() as model:
        pm.Normal("x", mu=np.array([1.0, -2.0, 30.0]), sigma=widths, shape=3)
    start = {"x": np.array([1.0, -2.0, 30.0])}
    settings = {"draws": 200, "tune": 200, "chains": 2, "target_accept": 0.9}

    def fit(**extra: Any) -> az.InferenceData:
        return sample(model, seed=SEED, cores=1, progress_interval=None, **settings, **extra)

    scaled = fit(initvals=start, jitter=False)
    again = fit(initvals=start, jitter=False)
    unit = fit(initvals=start, jitter=True)  # PyMC's own start: unit variances
    np.testing.assert_array_equal(scaled.posterior["x"].values, again.posterior["x"].values)
    first_chain, second_chain = scaled.posterior["x"].values  # one start, two chains
    assert not np.array_equal(first_chain, second_chain)
    warmup = {
        name: trace_attrs(idata)["gradient_evaluations_warmup"]
        for name, idata in (("scaled", scaled), ("unit", unit))
    }
    assert warmup["scaled"] < 0.25 * warmup["unit"], warmup
    draws = scaled.posterior["x"].values.reshape(-1, 3)
    mcse = np.asarray(az.mcse(scaled, var_names=["x"])["x"])
    np.testing.assert_array_less(np.abs(draws.mean(axis=0) - start["x"]), 4 * mcse)
    np.testing.assert_allclose(draws.std(axis=0), widths, rtol=0.25)


def test_progress_line_and_its_interval() -> None:
    """Draws per chain, divergences, elapsed and expected time; one line per interval. The
    time to go follows the rate of drawing since the first draw, not the compile before it."""
    now = [100.0]
    logger = logging.getLogger("test_progress")
    progress = FitProgress(
        "ngc6819/pm_2d",
        chains=2,
        tune=10,
        draws=10,
        interval=15,
        logger=logger,
        clock=lambda: now[0],
    )
    assert not progress.due()
    assert "time to go not known yet" in progress.line()
    now[0] += 60.0  # the sampler compiles its model: no draws for a minute
    progress.record_draw(0, 0, tuning=True, diverging=False)
    assert "time to go not known yet" in progress.line()
    for index in range(1, 12):
        progress.record_draw(0, index, tuning=index < 10, diverging=index in (3, 11))
    for index in range(4):
        progress.record_draw(1, index, tuning=True, diverging=False)
    now[0] += 15.0  # 15 draws after the first in 15 s: 24 to go take 24 s
    assert progress.due()
    assert progress.line() == (
        "fit ngc6819/pm_2d: draws 12/20, 4/20 (10 warm-up + 10 per chain); "
        "divergences 1 (1 in warm-up); 1 min 15 s elapsed, ~24 s to go"
    )
    progress.log_line()
    assert not progress.due() and progress.lines == 1
    assert not FitProgress("x", chains=1, tune=1, draws=1, interval=None).enabled
    assert not FitProgress("x", chains=1, tune=1, draws=1, interval=0).due()
    assert [format_duration(s) for s in (0.4, 45, 59.6, 91, 185, 7440)] == [
        "0 s",
        "45 s",
        "1 min 00 s",
        "1 min 31 s",
        "3 min 05 s",
        "2 h 04 min",
    ]


def test_progress_from_a_padded_nutpie_trace() -> None:
    """nutpie's inspect() pads the shorter chains: their n_steps are 0 there."""
    import xarray as xr

    def stats(n_steps: list[list[int]], diverging: list[list[bool]]) -> xr.Dataset:
        return xr.Dataset(
            {
                "n_steps": (("chain", "draw"), np.array(n_steps, np.uint64)),
                "diverging": (("chain", "draw"), np.array(diverging)),
            }
        )

    idata = az.InferenceData(
        warmup_sample_stats=stats([[3, 7, 1], [5, 0, 0]], [[False, True, True], [False] * 3]),
        sample_stats=stats([[7], [0]], [[True], [False]]),
    )
    progress = FitProgress("toy", chains=2, tune=3, draws=2, interval=1)
    progress.read_nutpie(idata)
    assert progress.done == [4, 1]
    assert progress.warmup_divergences == [2, 0] and progress.divergences == [1, 0]


def test_unknown_or_missing_backend(toy_fit: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"sampling\.backend"):
        sample(toy_fit["model"], backend="stan", seed=1)
    try:
        import jax  # noqa: F401
        import numpyro  # noqa: F401
    except ImportError:
        with pytest.raises(ConfigError, match="numpyro"):
            sample(toy_fit["model"], backend="numpyro", seed=1, draws=10, tune=10, chains=1)


def test_trace_round_trip_keeps_attributes(toy_fit: dict[str, Any], tmp_path: Path) -> None:
    idata = toy_fit["idata"].copy()
    stamp_trace(
        idata,
        data_sha256="ab" * 32,
        config_hash=config_hash({"a": 1}),
        options={"stars": "all", "nested": {"k": 3}},
        package_versions=package_versions(),
        enabled=True,
        far_stars={"compressed": 12, "p_max": 1e-6},
        whitening={"parameters": 5, "sd_min": 0.01},
    )
    path = tmp_path / "traces" / "toy.nc"
    save_trace(idata, path)
    loaded = load_trace(path)
    assert trace_attrs(loaded) == {**trace_attrs(idata), "enabled": 1}
    assert trace_attrs(loaded)["options"]["nested"] == {"k": 3}
    assert trace_attrs(loaded)["far_stars"]["compressed"] == 12  # decoded, not JSON text
    assert trace_attrs(loaded)["whitening"]["parameters"] == 5
    for name, values in posterior_arrays(idata).items():
        np.testing.assert_array_equal(loaded.posterior[name].values, values)
    assert set(loaded.groups()) == set(idata.groups())
    assert sorted(p.name for p in path.parent.iterdir()) == ["toy.nc"]


def test_failed_write_keeps_the_earlier_trace(
    toy_fit: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "toy.nc"
    save_trace(toy_fit["idata"], path)
    before = sha256_file(path)

    def broken_write(self: az.InferenceData, filename: str, **kwargs: Any) -> None:
        Path(filename).write_bytes(b"half a trace")
        raise OSError("disk full")

    monkeypatch.setattr(az.InferenceData, "to_netcdf", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save_trace(toy_fit["idata"], path)
    assert sha256_file(path) == before
    assert [p.name for p in tmp_path.iterdir()] == ["toy.nc"]
    with pytest.raises(OSError):
        save_trace(toy_fit["idata"], tmp_path / "new.nc")
    assert not (tmp_path / "new.nc").exists()


def test_run_fit_and_summary_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The fit and summary jobs, end to end on files, with the toy model as 'pmra_1d'."""
    monkeypatch.setattr(run, "get_model", lambda name: toy)
    monkeypatch.setattr(fitted, "get_model", lambda name: toy)
    caplog.set_level(logging.INFO, logger="clustermix.fit.sampling")
    catalog, truth = toy.simulate(n_members=100, n_field=200, seed=3)
    masks = catalog["source_id", "in_cluster_region"]
    masks.reverse()  # the join must not rely on row order
    catalog.remove_column("in_cluster_region")
    paths = {name: tmp_path / f"{name}" for name in ("catalog.fits", "masks.fits", "truth.json")}
    write_table_atomic(catalog, paths["catalog.fits"])
    write_table_atomic(masks, paths["masks.fits"])
    paths["truth.json"].write_text(json.dumps(truth))
    sampling = {**reg.SAMPLING_DEFAULTS, **SETTINGS, "draws": 200, "tune": 200, "seed": 5}
    trace, membership = tmp_path / "traces" / "toy.nc", tmp_path / "membership" / "toy.fits"
    run.run_fit(
        "toy",
        {"stars": "cluster_region"},
        sampling,
        trace_path=trace,
        catalog_path=paths["catalog.fits"],
        masks_path=paths["masks.fits"],
        membership_path=membership,
        cores=2,
        label="testcluster",
        progress_interval=0.005,
    )
    progress = [
        r.getMessage() for r in caplog.records if "fit testcluster/toy: draws" in r.getMessage()
    ]
    assert progress, [record.getMessage() for record in caplog.records]
    attrs = trace_attrs(load_trace(trace))
    assert attrs["data_sha256"] == sha256_file(paths["catalog.fits"])
    assert attrs["masks_sha256"] == sha256_file(paths["masks.fits"])
    assert attrs["options"]["stars"] == "cluster_region"
    assert attrs["sampling"] == sampling
    expected_hash = config_hash(
        {"model": "toy", "options": attrs["options"], "sampling": attrs["sampling"]}
    )
    assert attrs["config_hash"] == expected_hash
    assert attrs["cluster"] == "testcluster" and attrs["n_stars"] == 300
    assert attrs["code_version"] == code_version()
    assert "pymc" in attrs["package_versions"]

    summary_path, diagnostics_path = tmp_path / "summary.json", tmp_path / "diagnostics.json"
    run.run_summary(
        trace,
        summary_path=summary_path,
        diagnostics_path=diagnostics_path,
        catalog_path=paths["catalog.fits"],
        masks_path=paths["masks.fits"],
        truth_path=paths["truth.json"],
    )
    summary = json.loads(summary_path.read_text())
    assert set(summary["quantities"]) == {"pmra", "f_cluster"}
    assert summary["truth"] == {"pmra": -2.9, "f_cluster": pytest.approx(1 / 3)}
    assert summary["truth_in_95"] == {"pmra": True, "f_cluster": True}
    diagnostics = json.loads(diagnostics_path.read_text())
    assert diagnostics["cluster"]["r_hat_max"] < 1.05
    assert diagnostics["sampler"] == sampling["backend"] and diagnostics["model"] == "toy"

    table_path = tmp_path / "membership.fits"
    run_membership_table(
        paths["catalog.fits"], {"toy": membership}, table_path=table_path, truth_path=None
    )
    from astropy.table import Table

    table = Table.read(table_path)
    assert table.colnames == ["source_id", "p_toy"]
    members = np.isin(table["source_id"], truth["member_source_ids"])
    assert table["p_toy"][members].mean() > 0.6 > 0.2 > table["p_toy"][~members].mean()


def test_run_summary_rejects_a_trace_of_other_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toy_fit: dict[str, Any]
) -> None:
    monkeypatch.setattr(run, "get_model", lambda name: toy)
    monkeypatch.setattr(fitted, "get_model", lambda name: toy)
    idata = toy_fit["idata"].copy()
    stamp_trace(idata, model="toy", data_sha256="0" * 64, options=toy.DEFAULT_OPTIONS)
    save_trace(idata, tmp_path / "t.nc")
    write_table_atomic(toy_fit["catalog"], tmp_path / "catalog.fits")
    with pytest.raises(InputDataError, match="data_sha256"):
        run.run_summary(
            tmp_path / "t.nc",
            summary_path=tmp_path / "s.json",
            diagnostics_path=tmp_path / "d.json",
            catalog_path=tmp_path / "catalog.fits",
            masks_path=tmp_path / "catalog.fits",
        )


def test_masks_must_cover_the_catalogue(tmp_path: Path) -> None:
    catalog, _ = toy.simulate(n_members=5, n_field=5)
    write_table_atomic(catalog, tmp_path / "catalog.fits")
    write_table_atomic(catalog[:8]["source_id", "in_cluster_region"], tmp_path / "masks.fits")
    with pytest.raises(InputDataError, match="source_id"):
        read_catalog_with_masks(tmp_path / "catalog.fits", tmp_path / "masks.fits")


# --- registry and provenance -------------------------------------------------------------


def test_get_model_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown model 'pmra'"):
        reg.get_model("pmra")
    assert reg.get_model("line_outliers").NAME == "line_outliers"
    assert {p.split("models/", 1)[1] for p in reg.model_source_files("pm_2d")} == {
        "pm_2d/model.py",
        "mixture.py",
        "field_choice.py",  # every cluster fit chooses K and finds its mode with these
        "modes.py",
        "kinematics.py",  # modes converts proper-motion widths to km/s with its constant
        "systematics.py",  # the proper-motion floor of the reported values
        "compiled.py",  # the log density the mode search and NUTS share
        "fixed_field.py",  # the fixed field's density at each star, computed once
        "gaussian3d.py",  # fixed_field's 3D Gaussian (phase_space's), in the same module
    }
    assert set(reg.EXAMPLE_MODEL_NAMES) | {"pmra_1d"} <= set(MODEL_NAMES)


def test_model_options_merge_and_reject_typos() -> None:
    options = reg.model_options(toy, {"cluster_prior": {"sd_masyr": 0.5}})
    assert options["cluster_prior"] == {"mean_masyr": -3.0, "sd_masyr": 0.5}
    assert toy.DEFAULT_OPTIONS["cluster_prior"]["sd_masyr"] == 1.0  # defaults untouched
    with pytest.raises(ConfigError, match=r"models\.toy\.cluster_prior\.sd"):
        reg.model_options(toy, {"cluster_prior": {"sd": 0.5}})
    with pytest.raises(ConfigError, match=r"models\.toy\.n_comp"):
        reg.model_options(toy, {"n_comp": 2})


def test_sampling_settings_and_enabled_models() -> None:
    config = {
        "sampling": {"draws": 500, "backend": "nutpie"},
        "models": {
            "pm_2d": {"draws": 50, "enabled": True, "n_field_components": 3, "target": {"ess": 9}},
            "phase_space": {"enabled": False},
        },
    }
    settings = reg.sampling_settings(config, "pm_2d")
    assert settings == {
        **reg.SAMPLING_DEFAULTS,
        "draws": 50,
        "backend": "nutpie",
        "target": {"ess": 9},
    }
    assert reg.sampling_settings(config, "pmra_1d") == {
        **reg.SAMPLING_DEFAULTS,
        "draws": 500,
        "backend": "nutpie",
    }
    assert reg.option_overrides(config, "pm_2d") == {"n_field_components": 3}
    assert reg.enabled_cluster_models(config) == ["pmra_1d", "parallax_1d", "pm_2d"]
    assert reg.enabled_example_models(config) == ["line_outliers"]
    assert reg.enabled_models({}) == list(MODEL_NAMES)


def test_a_cluster_is_fitted_with_the_enabled_models_of_its_list() -> None:
    """``clusters[].models`` picks some models, in model order (not the list's), of the
    enabled ones; a cluster without a list takes every enabled cluster model."""
    config = {
        "clusters": [
            {"name": "all"},
            {"name": "some", "models": ["phase_space", "pm_2d", "pmra_1d"]},
        ],
        "models": {"phase_space": {"enabled": False}},
    }
    enabled = reg.enabled_cluster_models(config)
    assert reg.cluster_model_names(config, "all") == enabled
    assert reg.cluster_model_names(config, "some") == ["pmra_1d", "pm_2d"]
    with pytest.raises(ConfigError, match="no cluster named 'other'"):
        reg.cluster_model_names(config, "other")


def test_schema_defaults_match_the_library() -> None:
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    sampling = schema["properties"]["sampling"]["properties"]
    defaults = {key: value["default"] for key, value in sampling.items() if "default" in value}
    assert defaults == reg.SAMPLING_DEFAULTS
    assert set(sampling) == set(reg.SAMPLING_KEYS) == set(defaults)
    overrides = schema["properties"]["models"]["additionalProperties"]["properties"]
    assert set(overrides) == set(reg.SAMPLING_KEYS) | reg.CONTROL_KEYS
    # the schema leaves the model names to check_config, which takes them from the registry
    assert "propertyNames" not in schema["properties"]["models"]
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    assert config["sampling"] == reg.SAMPLING_DEFAULTS
    progress = schema["properties"]["progress"]["properties"]["interval_s"]["default"]
    assert progress == config["progress"]["interval_s"] == PROGRESS_INTERVAL_S


def test_provenance_strings(tmp_path: Path) -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": np.float64(1.5)}) == config_hash({"a": 1.5})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    version = code_version()
    assert version.startswith("git:") or version.startswith("clustermix ")
    assert code_version(tmp_path).startswith("clustermix ")  # not a checkout
    versions = package_versions()
    assert {"python", "pymc", "arviz", "numpy"} <= set(versions)


def test_model_source_files_follow_the_model_imports() -> None:
    """Editing any models module a fit imports (even indirectly) must refit it."""
    from clustermix.models.registry import model_source_files

    names = {path.split("models/", 1)[1] for path in model_source_files("phase_space")}
    assert {"phase_space/model.py", "mixture.py", "kinematics.py", "gaussian3d.py"} <= names
    parallax = {path.split("models/", 1)[1] for path in model_source_files("parallax_1d")}
    assert "quadrature.py" in parallax and "phase_space/model.py" not in parallax
    # the posterior predictive check's code and the model's spec do not change the fit
    checks = {path.split("models/", 1)[1] for path in reg.model_check_files("phase_space")}
    assert {"phase_space/predictive.py", "phase_space/replicate.py", "replication.py"} <= checks
    assert not checks & names
    assert "phase_space/__init__.py" not in names and "spec.py" not in names

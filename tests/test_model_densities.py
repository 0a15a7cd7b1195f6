"""The models' NumPy ``densities`` modules (the components figure's science): proper
densities weighted as in the likelihood, no PyMC, and the figure's dispatch to them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from scipy import integrate

from clustermix.fit.fitted import FittedModel
from clustermix.models import MODEL_NAMES
from clustermix.models.registry import get_model, get_model_part

#: Draws of the synthetic posteriors (one chain).
N_DRAWS = 5
N_STARS = 30


def _models_with_densities() -> list[str]:
    return [
        name
        for name in MODEL_NAMES
        if importlib.util.find_spec(f"clustermix.models.{name}.densities") is not None
    ]


def _posterior(values: dict[str, Any], rng: np.random.Generator, jitter: float) -> xr.Dataset:
    """A (chain=1, draw=N_DRAWS) posterior whose draws scatter by ``jitter`` (relative)
    around ``values``; dims after the first two are named ``<name>_dim_<i>``."""
    variables = {}
    for name, value in values.items():
        value = np.asarray(value, float)
        draws = value * (1.0 + jitter * rng.uniform(-1, 1, (1, N_DRAWS, *value.shape)))
        dims = ("chain", "draw", *(f"{name}_dim_{i}" for i in range(value.ndim)))
        variables[name] = (dims, draws)
    return xr.Dataset(variables)


def _pmra_case(rng: np.random.Generator) -> tuple[xr.Dataset, dict, tuple, float]:
    # three field components: their per-element median weights need not sum to 1
    posterior = _posterior(
        {
            "f_cluster": 0.2,
            "pmra_cl": -2.9,
            "sigma_pmra_cl": 0.1,
            "w_field": [0.5, 0.3, 0.2],
            "pmra_field": [-3.0, -1.0, 2.0],
            "sigma_pmra_field": [1.5, 3.0, 6.0],
        },
        rng,
        0.05,
    )
    data = {"pmra": rng.normal(-3, 3, N_STARS), "pmra_error": rng.uniform(0.05, 0.5, N_STARS)}
    grid = (np.linspace(-80.0, 80.0, 16001),)  # step 0.01 mas/yr
    return posterior, data, grid, 0.2


def _pmra_fixed_field_case(rng: np.random.Generator) -> tuple[xr.Dataset, dict, tuple, float]:
    posterior = _posterior({"f_cluster": 0.2, "pmra_cl": -2.9, "sigma_pmra_cl": 0.1}, rng, 0.05)
    data = {"pmra": rng.normal(-3, 3, N_STARS), "pmra_error": rng.uniform(0.05, 0.5, N_STARS)}
    g_bin = rng.integers(0, 2, N_STARS)  # two G bins, each its own two-component field
    data.update(
        field_weights=np.array([[0.7, 0.3], [0.4, 0.6]])[g_bin],
        field_means=np.array([[-3.0, 0.0], [-2.0, 1.0]])[g_bin],
        field_sigmas=np.array([[1.0, 4.0], [2.0, 6.0]])[g_bin],
    )
    grid = (np.linspace(-80.0, 80.0, 16001),)  # step 0.01 mas/yr
    return posterior, data, grid, 0.2


def _pm_data(rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "pmra": rng.normal(-3, 3, N_STARS),
        "pmdec": rng.normal(-4, 3, N_STARS),
        "pmra_error": rng.uniform(0.1, 0.5, N_STARS),
        "pmdec_error": rng.uniform(0.1, 0.5, N_STARS),
        "pmra_pmdec_corr": rng.uniform(-0.5, 0.5, N_STARS),
    }


def _pm_grid() -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-40.0, 40.0, 201)  # step 0.4 mas/yr
    return tuple(np.meshgrid(axis, axis))


def _pm_joint_case(rng: np.random.Generator) -> tuple[xr.Dataset, dict, tuple, float]:
    posterior = _posterior(
        {
            "f_cluster": 0.3,
            "pmra_cl": -2.9,
            "pmdec_cl": -3.9,
            "sigma_cl": 0.5,
            "w_field": [0.6, 0.4],
            "pmra_field": [-3.0, -1.0],
            "pmdec_field": [-5.0, -3.0],
            "sigma_field": [[1.5, 2.0], [5.0, 6.0]],
            "rho_field": [0.3, -0.2],
        },
        rng,
        0.05,
    )
    return posterior, _pm_data(rng), _pm_grid(), 0.3


def _pm_fixed_field_case(rng: np.random.Generator) -> tuple[xr.Dataset, dict, tuple, float]:
    posterior = _posterior(
        {"f_cluster": 0.3, "pmra_cl": -2.9, "pmdec_cl": -3.9, "sigma_cl": 0.5}, rng, 0.05
    )
    data = _pm_data(rng)
    g_bin = rng.integers(0, 2, N_STARS)  # two G bins, each its own two-component field
    weights = np.array([[0.7, 0.3], [0.4, 0.6]])
    means = np.array([[[-3.0, -4.0], [0.0, -2.0]], [[-2.0, -5.0], [1.0, 0.0]]])
    sigmas = np.array([[[1.0, 1.5], [4.0, 5.0]], [[2.0, 1.0], [6.0, 5.0]]])
    rho = np.array([[0.1, -0.3], [0.2, 0.0]])
    data.update(
        field_weights=weights[g_bin],
        field_means=means[g_bin],
        field_sigmas=sigmas[g_bin],
        field_rho=rho[g_bin],
    )
    return posterior, data, _pm_grid(), 0.3


def _parallax_edsd_case(rng: np.random.Generator) -> tuple[xr.Dataset, dict, tuple, float]:
    posterior = _posterior(
        {"f_cluster": 0.3, "parallax_cl": 0.36, "ln_length_scale_field": np.log(1.35)},
        rng,
        0.05,
    )
    data = {
        "parallax": rng.normal(0.4, 0.3, N_STARS),
        "parallax_error": rng.uniform(0.05, 0.3, N_STARS),
    }
    grid = (np.linspace(-1.0, 20.0, 1051),)  # step 0.02 mas
    return posterior, data, grid, 0.3


def _parallax_binned_case(rng: np.random.Generator) -> tuple[xr.Dataset, dict, tuple, float]:
    posterior = _posterior(
        {
            "f_cluster": 0.25,
            "parallax_cl": 0.5,
            "parallax_width_cl": 0.02,
            "field_log_weights": rng.normal(0.0, 1.0, (2, 19)),  # 2 G bins, 20 bumps
        },
        rng,
        0.05,
    )
    data = {
        "parallax": rng.normal(0.5, 0.4, N_STARS),
        "parallax_error": rng.uniform(0.05, 0.3, N_STARS),
        "field_bin_centres": 0.1 * (np.arange(20) + 0.5),  # mas, bumps of sd 0.06 mas
        "g_bin": rng.integers(0, 2, N_STARS),
    }
    grid = (np.linspace(-4.0, 6.0, 2001),)  # step 0.005 mas
    return posterior, data, grid, 0.25


CASES: dict[str, list[Callable[[np.random.Generator], tuple]]] = {
    "pmra_1d": [_pmra_case, _pmra_fixed_field_case],
    "pm_2d": [_pm_joint_case, _pm_fixed_field_case],
    "parallax_1d": [_parallax_edsd_case, _parallax_binned_case],
}


def _integral(density: np.ndarray, grid: tuple[np.ndarray, ...]) -> float:
    """Trapezoidal integral of ``density`` over a 1D grid, or over a 2D meshgrid."""
    if len(grid) == 1:
        return float(integrate.trapezoid(density, grid[0]))
    xx, yy = grid
    return float(integrate.trapezoid(integrate.trapezoid(density, xx[0], axis=1), yy[:, 0]))


def test_every_densities_module_is_covered() -> None:
    assert set(_models_with_densities()) == set(CASES)


@pytest.mark.parametrize(
    "name, case",
    [(name, case) for name, cases in CASES.items() for case in cases],
    ids=lambda value: getattr(value, "__name__", value).strip("_"),
)
def test_component_densities_integrate_to_the_mixture_weights(name: str, case) -> None:
    """On a wide grid the cluster integrates to f and the field components to 1 - f.

    Tolerance 1e-4, from the grids. Every density is a mixture of Gaussians (the EDSD
    field's: centred on its tabulated true parallaxes) of sd s, sampled with a step
    h <= 0.85 s (1D: h <= 0.4 s), on which the trapezoidal rule errs by about
    2 exp(-2 pi^2 s^2 / h^2) < 1e-11 (Poisson summation); the grids reach >= 5 sd past
    every Gaussian's mean (tail mass < 1e-6). Only the EDSD field reaches beyond its grid:
    a fraction ~ (1 / (w_max L))^3 / 6 = 8.5e-6 of its stars lie at true parallaxes above
    w_max = 20 mas (L = 1.35 kpc); its table in ln r (1e-3 L to 40 L) leaves out < 1e-9.
    """
    densities = get_model_part(name, "densities")
    posterior, data, grid, f = case(np.random.default_rng(7))
    f_median = posterior["f_cluster"].median().item()
    assert f_median == pytest.approx(f, rel=0.1)
    curves = densities.component_densities(posterior, data, *grid)
    field = sum(curve for key, curve in curves.items() if key.startswith("field"))
    assert _integral(curves["cluster"], grid) == pytest.approx(f_median, abs=1e-4)
    assert _integral(field, grid) == pytest.approx(1.0 - f_median, abs=1e-4)
    assert _integral(curves["total"], grid) == pytest.approx(1.0, abs=1e-4)
    assert all(np.all(curve >= 0) for curve in curves.values())


@pytest.mark.parametrize("name", _models_with_densities())
def test_densities_modules_load_no_pymc(name: str) -> None:
    code = (
        f"import sys, clustermix.models.{name}.densities as d; "
        "assert d.PANEL in ('pmra', 'pm', 'parallax'); "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('pymc', 'pytensor')]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pmra_1d_fixed_field_is_drawn_as_the_bins_mixture() -> None:
    """The control-field field is one mixture of every (G bin, component) pair, each
    weighted by its weight times its bin's share of the stars."""
    data = {
        "field_weights": np.array([[0.7, 0.3]] * 3 + [[0.4, 0.6]]),
        "field_means": np.array([[-3.0, 0.0]] * 3 + [[-2.0, 1.0]]),
        "field_sigmas": np.array([[1.0, 4.0]] * 3 + [[2.0, 6.0]]),
    }
    field = get_model_part("pmra_1d", "densities").average_field(data)
    order = np.argsort(field["mu"])
    np.testing.assert_allclose(field["mu"][order], [-3.0, -2.0, 0.0, 1.0])
    np.testing.assert_allclose(field["w"][order], [0.525, 0.1, 0.225, 0.15])
    np.testing.assert_allclose(field["sigma"][order], [1.0, 2.0, 4.0, 6.0])


def test_pm_2d_measurement_covariances_match_the_model() -> None:
    data = _pm_data(np.random.default_rng(3))
    expected = get_model("pm_2d").star_covariances(
        data["pmra_error"], data["pmdec_error"], data["pmra_pmdec_corr"]
    )
    np.testing.assert_allclose(
        get_model_part("pm_2d", "densities").measurement_covariances(data),
        np.column_stack(expected),
    )


def test_components_panels_dispatch_on_the_densities_modules(monkeypatch, tmp_path) -> None:
    """Each model's panel is the kind its module names, with its arrays and components."""
    from clustermix.fit import fitted
    from clustermix.plotting.components import components_figure, components_panels

    rng = np.random.default_rng(5)
    fits = {}
    for name, cases in CASES.items():
        posterior, data, _, _ = cases[0](rng)
        idata = SimpleNamespace(posterior=posterior)
        fits[f"{name}.nc"] = FittedModel(get_model(name), idata, {}, data)
    monkeypatch.setattr(fitted.FittedModel, "open", classmethod(lambda cls, path, *_: fits[path]))
    panels = components_panels({name: f"{name}.nc" for name in CASES}, "c.fits", "m.fits")
    assert set(panels) == {"pmra", "pm", "parallax"}
    assert panels["pm"]["covariances"].shape == (N_STARS, 3)
    assert panels["parallax"]["components"].length_scale_kpc == pytest.approx(1.35, rel=0.1)
    fig = components_figure(**panels)
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="no components panel"):
        components_panels({"phase_space": "p.nc"}, "c.fits", "m.fits")

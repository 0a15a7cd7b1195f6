"""The model figures and the Galactocentric numbers: PGMs, corner plots, fitted components,
the Galactocentric transform (against astropy draw by draw) and its macro file."""

from __future__ import annotations

import re
from pathlib import Path

import astropy.units as u
import daft
import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
import pytest
import xarray as xr
from astropy.coordinates import ICRS, SkyCoord
from scipy import integrate

from clustermix.data.galaxy import galactocentric_frame
from clustermix.fit.fitted import with_deterministics
from clustermix.galactocentric import (
    NOT_AVAILABLE,
    QUANTITIES,
    cylindrical,
    frame_parameters,
    galactocentric_macros,
    sun_phase_space,
)
from clustermix.models import MODEL_NAMES
from clustermix.models.densities import (
    Components1D,
    Components2D,
    bivariate_densities,
    edsd_parallax_density,
    gaussian_mixture_densities,
    posterior_medians,
)
from clustermix.models.line_outliers import model as line_outliers
from clustermix.models.parallax_1d.densities import ParallaxComponents, parallax_densities
from clustermix.models.phase_space import model as phase_space
from clustermix.models.pm_2d import model as pm_2d
from clustermix.models.pmra_1d import model as pmra_1d
from clustermix.models.pmra_1d.densities import DETERMINISTICS as PMRA_DETERMINISTICS
from clustermix.models.pmra_1d.densities import fitted_components as pmra_components
from clustermix.paper.macros import macro_name, write_macros
from clustermix.plotting.components import components_figure
from clustermix.plotting.corner import CORNER_QUANTITIES, corner_draws, corner_figure
from clustermix.plotting.galactocentric import galactocentric_figure
from clustermix.plotting.pgm import (
    add_edges,
    add_plate,
    add_variable,
    model_diagram,
    new_pgm,
    pgm_figure,
)
from clustermix.plotting.style import COLUMN_WIDTH_IN, PAGE_WIDTH_IN, save_figure

MACRO_LINE = re.compile(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}")
MEASUREMENT = re.compile(r"-?\d+(\.\d+)? \\pm \d+(\.\d+)?")
NGC6819 = {"ra": 295.327, "dec": 40.190, "distance": 2778.0, "pmra": -2.91, "pmdec": -3.86}


def chain_draw(values: np.ndarray, name: str) -> xr.DataArray:
    """``values`` (chain, draw, ...) as a DataArray with posterior-like coordinates."""
    values = np.asarray(values)
    dims = ["chain", "draw", *(f"{name}_dim_{i}" for i in range(values.ndim - 2))]
    coords = {"chain": np.arange(values.shape[0]), "draw": np.arange(values.shape[1])}
    return xr.DataArray(values, dims=dims, coords=coords, name=name)


def read_macros(path: Path) -> dict[str, str]:
    """{name: value} of a macro file; every non-comment line must be one definition."""
    macros: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("%"):
            continue
        match = MACRO_LINE.fullmatch(line)
        assert match, f"not a \\newcommand line: {line!r}"
        assert match[1] not in macros, f"\\{match[1]} defined twice"
        macros[match[1]] = match[2]
    return macros


# ------------------------------------------------------------------------------- PGMs


def pgm_nodes(pgm: daft.PGM) -> list[daft.Node]:
    """The nodes of a daft PGM (daft 0.1.4 keeps them in ``_nodes`` and has no accessor)."""
    return list(pgm._nodes.values())


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_pgm_for_every_model(model: str, tmp_path: Path, monkeypatch) -> None:
    diagram = model_diagram(model)
    assert isinstance(diagram, daft.PGM)
    nodes = pgm_nodes(diagram)
    assert any(node.observed for node in nodes)
    assert any(node.fixed for node in nodes)
    assert any(not (node.observed or node.fixed or node.alternate) for node in nodes)
    assert any("i = 1" in plate.label for plate in diagram._plates)

    rendered: list[daft.PGM] = []
    render = daft.PGM.render

    def spy(self: daft.PGM, *args, **kwargs):
        rendered.append(self)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(daft.PGM, "render", spy)
    fig = pgm_figure(model)
    assert len(rendered) == 1
    assert rendered[0].figure is fig  # drawn by daft
    width = fig.get_size_inches()[0]
    assert width <= (PAGE_WIDTH_IN if model == "phase_space" else COLUMN_WIDTH_IN) + 1e-9

    # readable: every label at least 7 pt, inside the figure, and no two labels overlap
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    inside = fig.bbox.padded(0.5)
    boxes = []
    for text in ax.texts:
        assert text.get_fontsize() >= 7
        box = text.get_window_extent(renderer)
        assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1), text
        boxes.append(box)
    for index, box in enumerate(boxes):
        assert not any(box.overlaps(other) for other in boxes[index + 1 :])
    for patch in ax.patches:
        box = patch.get_window_extent(renderer)
        assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1), patch

    save_figure(fig, tmp_path / f"pgm_{model}.pdf", {"rule": "test"})
    assert (tmp_path / f"pgm_{model}.pdf").stat().st_size > 1000


def test_pgm_rejects_unknown_names() -> None:
    diagram = new_pgm("pmra_1d", (0.0, 2.0), (0.0, 1.0))
    add_variable(diagram, "a", "$a$", 0.5, 0.5)
    with pytest.raises(ValueError, match="no node 'b'"):
        add_edges(diagram, ["a"], "b")
    with pytest.raises(ValueError, match="already exists"):
        add_variable(diagram, "a", "$a$", 1.5, 0.5)
    with pytest.raises(ValueError, match="kind"):
        add_variable(diagram, "c", "$c$", 1, 0, kind="hidden")
    with pytest.raises(ValueError, match="corner"):
        add_plate(diagram, 0, 0, 1, 1, "$i$", corner="top")
    with pytest.raises(ValueError, match="no PGM"):
        pgm_figure("no_such_model")


# ---------------------------------------------------------------------- Galactocentric


def icrs_draws(n_chain: int = 2, n_draw: int = 3, seed: int = 3) -> dict[str, xr.DataArray]:
    """ICRS Cartesian position (pc) and velocity (km/s) draws around NGC 6819."""
    rng = np.random.default_rng(seed)
    centre = SkyCoord(
        ra=NGC6819["ra"] * u.deg,
        dec=NGC6819["dec"] * u.deg,
        distance=NGC6819["distance"] * u.pc,
        pm_ra_cosdec=NGC6819["pmra"] * u.mas / u.yr,
        pm_dec=NGC6819["pmdec"] * u.mas / u.yr,
        radial_velocity=2.45 * u.km / u.s,
    )
    position = centre.cartesian.xyz.to_value(u.pc)
    velocity = centre.velocity.d_xyz.to_value(u.km / u.s)
    shape = (n_chain, n_draw)
    draws = {}
    for index, axis in enumerate("xyz"):
        draws[axis] = chain_draw(position[index] + rng.normal(0, 50, shape), axis)
        draws[f"v_{axis}"] = chain_draw(velocity[index] + rng.normal(0, 2, shape), f"v_{axis}")
    return draws


def test_galactocentric_vectorised_equals_astropy_draw_by_draw() -> None:
    draws = icrs_draws()
    galcen = phase_space.galactocentric_quantities(draws)
    frame = galactocentric_frame()
    for chain in range(2):
        for draw in range(3):
            one = {key: float(draws[key][chain, draw]) for key in draws}
            coord = SkyCoord(
                x=one["x"] * u.pc,
                y=one["y"] * u.pc,
                z=one["z"] * u.pc,
                v_x=one["v_x"] * u.km / u.s,
                v_y=one["v_y"] * u.km / u.s,
                v_z=one["v_z"] * u.km / u.s,
                representation_type="cartesian",
                differential_type="cartesian",
                frame=ICRS(),
            ).transform_to(frame)
            expected = {
                "x": coord.x.to_value(u.pc),
                "y": coord.y.to_value(u.pc),
                "z": coord.z.to_value(u.pc),
                "v_x": coord.v_x.to_value(u.km / u.s),
                "v_y": coord.v_y.to_value(u.km / u.s),
                "v_z": coord.v_z.to_value(u.km / u.s),
            }
            for key, value in expected.items():
                assert float(galcen[key][chain, draw]) == pytest.approx(value, abs=1e-6)
    assert galcen["x"].dims == ("chain", "draw")


def test_cylindrical_velocities_of_the_sun() -> None:
    sun = sun_phase_space()
    frame = frame_parameters()
    assert sun["x"] == pytest.approx(-frame["galcen_distance_pc"], rel=1e-5)
    assert sun["z"] == pytest.approx(frame["z_sun_pc"], rel=1e-6)
    assert [sun[k] for k in ("v_x", "v_y", "v_z")] == pytest.approx(frame["galcen_v_sun_kms"])
    cyl = cylindrical(sun["x"], sun["y"], sun["v_x"], sun["v_y"])
    assert cyl["R"] == pytest.approx(-sun["x"])
    assert cyl["phi"] == pytest.approx(180.0)
    assert cyl["v_phi"] == pytest.approx(245.6)  # along Galactic rotation
    assert cyl["v_R"] == pytest.approx(-12.9)  # towards the centre


def galactocentric_test_draws() -> dict[str, xr.DataArray]:
    galcen = phase_space.galactocentric_quantities(icrs_draws(2, 50))
    extra = cylindrical(galcen["x"], galcen["y"], galcen["v_x"], galcen["v_y"])
    return {**galcen, **extra}


def test_galactocentric_macro_file_parses(tmp_path: Path) -> None:
    draws = galactocentric_test_draws()
    truth = {key: float(np.asarray(value).mean()) for key, value in draws.items()}
    path = tmp_path / "galactocentric.tex"
    write_macros(galactocentric_macros(draws, frame_parameters(), truth), path, made_by="test")
    macros = read_macros(path)
    for quantity in QUANTITIES:
        name = macro_name("galactocentric", quantity)
        assert MEASUREMENT.fullmatch(macros[name]), macros[name]
        assert re.fullmatch(r"-?\d+(\.\d+)?", macros[name + "Truth"])
    assert macros["GalactocentricAvailable"] == "true"
    assert macros["GalactocentricRSun"] == "8122"
    assert macros["GalactocentricZSun"] == "20.8"
    assert macros["GalactocentricVSunY"] == "245.6"
    assert macros["GalactocentricFrameVersion"] == "v4.0"
    assert {"GalactocentricVR", "GalactocentricVPhi", "GalactocentricR"} <= set(macros)


def test_galactocentric_macros_without_fit_or_truth(tmp_path: Path) -> None:
    path = tmp_path / "galactocentric.tex"
    write_macros(galactocentric_macros(None, frame_parameters(), None), path)
    macros = read_macros(path)
    assert macros["GalactocentricAvailable"] == "false"
    assert macros["GalactocentricTruthAvailable"] == "false"
    assert macros["GalactocentricVPhi"] == NOT_AVAILABLE
    assert macros["GalactocentricXTruth"] == NOT_AVAILABLE


def test_galactocentric_figure(tmp_path: Path) -> None:
    draws = galactocentric_test_draws()
    truth = {key: float(np.asarray(value)[0, 0]) for key, value in draws.items()}
    fig = galactocentric_figure(draws, sun_phase_space(), truth)
    assert len(fig.axes) == 6
    save_figure(fig, tmp_path / "galactocentric.pdf", {"rule": "test"})


# ----------------------------------------------------------------------- corner plots


def line_posterior(n_chain: int = 2, n_draw: int = 200, seed: int = 5) -> xr.Dataset:
    """A synthetic line_outliers posterior near the tutorial's answer."""
    rng = np.random.default_rng(seed)
    shape = (n_chain, n_draw)
    w_in = np.clip(rng.normal(0.73, 0.08, shape), 0.05, 0.95)
    w = xr.DataArray(
        np.stack([w_in, 1 - w_in], axis=-1),
        dims=("chain", "draw", "component"),
        coords={"component": ["inlier", "outlier"]},
    )
    return xr.Dataset(
        {
            "m": chain_draw(rng.normal(3.14, 0.07, shape), "m"),
            "b": chain_draw(rng.normal(-12.0, 0.45, shape), "b"),
            "ln_s_out": chain_draw(rng.normal(2.3, 0.27, shape), "ln_s_out"),
            "w": w,
        }
    )


def test_corner_plot_of_line_example_with_truth(tmp_path: Path) -> None:
    data = line_outliers.prepare_data(None, {}, "test")
    draws = corner_draws(line_outliers, line_posterior(), data, {})
    assert list(draws) == list(CORNER_QUANTITIES["line_outliers"])
    fig = corner_figure(draws, line_outliers.true_values(None, data))
    assert fig.get_size_inches()[0] == pytest.approx(COLUMN_WIDTH_IN)
    save_figure(fig, tmp_path / "corner.pdf", {"rule": "test"})
    assert (tmp_path / "corner.pdf").stat().st_size > 1000


def test_corner_draws_add_sampled_parameters() -> None:
    rng = np.random.default_rng(1)
    shape = (2, 100)
    posterior = xr.Dataset(
        {
            name: chain_draw(rng.normal(mean, 0.05, shape), name)
            for name, mean in (
                ("pmra_cl", -2.9),
                ("pmdec_cl", -3.9),
                ("sigma_cl", 0.3),
                ("f_cluster", 0.2),
            )
        }
    )
    draws = corner_draws(pm_2d, posterior, {}, {})
    assert list(draws) == ["pmra", "pmdec", "sigma_cl", "f_cluster"]
    fig = corner_figure(draws, {"pmra": -2.9, "pmdec": -3.9, "f_cluster": None})
    assert sum(ax.get_visible() for ax in fig.axes) == 10
    plt.close(fig)


# ------------------------------------------------------------------------ components


def test_mixture_densities_integrate_to_one() -> None:
    grid = np.linspace(-60, 60, 24001)
    components = Components1D(
        f=0.2,
        mu_cl=-2.9,
        sigma_cl=0.1,
        w=np.array([0.7, 0.3]),
        mu=np.array([-3.0, -1.0]),
        sigma=np.array([1.5, 6.0]),
    )
    curves = gaussian_mixture_densities(grid, components, np.array([0.05, 0.3, 1.0]))
    assert integrate.trapezoid(curves["total"], grid) == pytest.approx(1.0, abs=1e-6)
    assert integrate.trapezoid(curves["cluster"], grid) == pytest.approx(0.2, abs=1e-6)
    xx, yy = np.meshgrid(np.linspace(-60, 60, 801), np.linspace(-60, 60, 801))
    components_2d = Components2D(
        f=0.3,
        mu_cl=np.array([-2.9, -3.9]),
        sigma_cl=0.3,
        w=np.array([0.6, 0.4]),
        mu=np.array([[-3.0, -5.0], [-1.0, -3.0]]),
        sigma=np.array([[1.5, 2.0], [6.0, 7.0]]),
        rho=np.array([0.3, -0.2]),
    )
    covariances = np.array([[0.01, 0.02, 0.005], [0.3, 0.2, -0.1]])
    total = bivariate_densities(xx, yy, components_2d, covariances)["total"]
    step = (120 / 800) ** 2
    assert total.sum() * step == pytest.approx(1.0, abs=1e-3)


def test_edsd_parallax_density_against_quadrature() -> None:
    length, error = 1.35, 0.1

    def integrand(r: float, x: float) -> float:
        prior = r**2 * np.exp(-r / length) / (2 * length**3)
        return prior * np.exp(-0.5 * ((x - 1 / r) / error) ** 2) / (np.sqrt(2 * np.pi) * error)

    x = np.array([-0.1, 0.2, 0.5, 1.2])
    density = edsd_parallax_density(x, length, np.array([error]))
    for value, expected_x in zip(density, x, strict=True):
        expected, _ = integrate.quad(integrand, 1e-3, 80, args=(expected_x,), limit=400)
        assert value == pytest.approx(expected, rel=2e-3)
    grid = np.linspace(-1.0, 12.0, 5001)
    parallax = ParallaxComponents(f=0.3, parallax_cl=0.36, width_cl=0.0, length_scale_kpc=length)
    curves = parallax_densities(grid, parallax, np.array([0.05, 0.1]))
    assert integrate.trapezoid(curves["total"], grid) == pytest.approx(1.0, abs=2e-3)


@pytest.fixture(scope="module")
def pmra_fit() -> tuple[pm.Model, xr.Dataset, xr.Dataset]:
    """A small pmra_1d model and draws of its free variables (from the prior)."""
    rng = np.random.default_rng(11)
    n = 120
    member = rng.random(n) < 0.3
    pmra = np.where(member, rng.normal(-2.9, 0.2, n), rng.normal(-3.0, 4.0, n))
    data = {
        "source_id": np.arange(n, dtype=np.int64),
        "pmra": pmra,
        "pmra_error": rng.uniform(0.05, 0.4, n),
    }
    model = pmra_1d.build_model(data, {"n_field_components": 2})
    prior = pm.sample_prior_predictive(draws=40, model=model, random_seed=3).prior
    free = [rv.name for rv in model.free_RVs]
    return model, prior[free], prior


def test_posterior_medians_recompute_deterministics(pmra_fit) -> None:
    model, posterior, prior = pmra_fit
    assert "sigma_pmra_field" not in posterior
    completed = with_deterministics(posterior, PMRA_DETERMINISTICS, model)
    medians = posterior_medians(completed, ["f_cluster", "sigma_pmra_field"])
    expected = prior["sigma_pmra_field"].median(dim=("chain", "draw")).values
    np.testing.assert_allclose(medians["sigma_pmra_field"], expected, rtol=1e-10)
    components = pmra_components(completed)
    assert components.w.sum() == pytest.approx(1.0)
    assert components.sigma.shape == components.mu.shape == (2,)


def test_components_figure(pmra_fit, tmp_path: Path) -> None:
    model, posterior, _ = pmra_fit
    rng = np.random.default_rng(2)
    n = 500
    pmra_values = rng.normal(-3.0, 3.0, n)
    pmdec_values = rng.normal(-4.0, 3.0, n)
    errors = rng.uniform(0.05, 0.5, n)
    pm_components = Components2D(
        f=0.2,
        mu_cl=np.array([-2.9, -3.9]),
        sigma_cl=0.2,
        w=np.array([0.5, 0.5]),
        mu=np.array([[-3.0, -4.0], [-2.0, -3.0]]),
        sigma=np.array([[1.5, 2.0], [5.0, 6.0]]),
        rho=np.array([0.2, 0.0]),
    )
    fig = components_figure(
        pmra={
            "pmra": pmra_values,
            "pmra_error": errors,
            "components": pmra_components(
                with_deterministics(posterior, PMRA_DETERMINISTICS, model)
            ),
        },
        pm={
            "pmra": pmra_values,
            "pmdec": pmdec_values,
            "covariances": np.column_stack([errors**2, errors**2, 0.1 * errors**2]),
            "components": pm_components,
        },
        parallax={
            "parallax": rng.normal(0.4, 0.3, n),
            "parallax_error": errors,
            "components": ParallaxComponents(0.3, 0.36, 0.0, 1.35),
        },
    )
    assert len(fig.axes) == 3
    save_figure(fig, tmp_path / "components.pdf", {"rule": "test"})
    with pytest.raises(ValueError, match="at least one"):
        components_figure()

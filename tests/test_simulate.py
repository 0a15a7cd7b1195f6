"""The Gaia DR3 field simulator: reproduces its own truth, looks like Gaia, is deterministic.

Tolerances are Monte-Carlo errors derived in the comments; every test uses a fixed seed, so a
pass or fail is reproducible. Most tests share one reduced simulation (3000 stars); one runs
the default size to time it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
import yaml
from astropy.coordinates import (
    ICRS,
    CartesianDifferential,
    CartesianRepresentation,
    SkyCoord,
)
from scipy import stats
from zero_point import zpt

from clustermix.data import gaia_errors as ge
from clustermix.data.columns import GAIA_COLUMNS
from clustermix.data.galaxy import galactocentric_frame
from clustermix.data.rv_correction import radial_velocity_corrections
from clustermix.data.simulate import (
    SimulatedField,
    project_velocity,
    simulate_field,
    simulate_field_with_latent,
)
from clustermix.errors import ConfigError
from clustermix.io import sha256_file, write_table_atomic

REPO = Path(__file__).resolve().parents[1]
CENTRE = {"ra_deg": 295.327, "dec_deg": 40.190, "radius_arcmin": 20.0}
SMALL = {
    "seed": 11,
    "n_members": 600,
    "n_field": 2400,
    "parallax_mas": 0.36,
    "pmra_masyr": -2.91,
    "pmdec_masyr": -3.86,
    "rv_kms": 2.45,
    "sigma_v_kms": 1.0,
    "plummer_radius_arcmin": 4.5,
    "g_max_mag": 20.5,
}
#: Allowed deviation, in Monte-Carlo standard errors (two-sided p ~ 6e-5 for a Gaussian).
N_SIGMA = 4.0


@pytest.fixture(scope="module")
def sim() -> SimulatedField:
    """A reduced field (3000 stars)."""
    return simulate_field_with_latent(**CENTRE, **SMALL)


@pytest.fixture(scope="module")
def default_run() -> tuple[SimulatedField, float]:
    """The configured default field (18,500 stars) and its run time (s)."""
    cluster = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["clusters"][0]
    start = time.perf_counter()
    result = simulate_field_with_latent(
        ra_deg=cluster["ra_deg"],
        dec_deg=cluster["dec_deg"],
        radius_arcmin=cluster["radius_arcmin"],
        **cluster["simulation"],
    )
    return result, time.perf_counter() - start


def _array(table, name: str) -> np.ndarray:
    return np.asarray(table[name], dtype=np.float64)


def _members(sim: SimulatedField) -> np.ndarray:
    return np.asarray(sim.latent["is_member"], dtype=bool)


def _separation_arcmin(table) -> np.ndarray:
    centre = SkyCoord(CENTRE["ra_deg"] * u.deg, CENTRE["dec_deg"] * u.deg)
    return (
        SkyCoord(_array(table, "ra") * u.deg, _array(table, "dec") * u.deg)
        .separation(centre)
        .arcmin
    )


# ------------------------------------------------------------------------ catalogue format


def test_columns_dtypes_and_units_follow_the_spec(sim: SimulatedField) -> None:
    catalog = sim.catalog
    assert catalog.colnames == [spec.name for spec in GAIA_COLUMNS]
    for spec in GAIA_COLUMNS:
        column = catalog[spec.name]
        assert column.dtype == np.dtype(spec.dtype), spec.name
        expected = None if spec.unit is None else u.Unit(spec.unit)
        assert column.unit == expected, spec.name
        if spec.finite:
            assert np.all(np.isfinite(column)), spec.name
        if spec.positive:
            values = _array(catalog, spec.name)
            assert np.all(values[np.isfinite(values)] > 0), spec.name
    ids = np.asarray(catalog["source_id"])
    assert len(np.unique(ids)) == len(ids)
    assert np.all(np.diff(ids) > 0), "rows are sorted by source_id"


def test_nulls_where_the_archive_has_them(sim: SimulatedField) -> None:
    catalog = sim.catalog
    solved = np.asarray(catalog["astrometric_params_solved"])
    assert set(np.unique(solved)) == {31, 95}
    nu_eff, pseudo = _array(catalog, "nu_eff_used_in_astrometry"), _array(catalog, "pseudocolour")
    assert np.all(np.isfinite(nu_eff) == (solved == 31))
    assert np.all(np.isfinite(pseudo) == (solved == 95))
    g = _array(catalog, "phot_g_mean_mag")
    no_colour = ~np.isfinite(_array(catalog, "bp_rp"))
    # A few per cent, mostly faint; and a star without a colour has a 6-parameter solution.
    assert 0 < no_colour.mean() < 0.05
    assert np.median(g[no_colour]) > 19.5
    assert np.all(solved[no_colour] == 95)
    assert np.all(no_colour == ~np.isfinite(_array(catalog, "phot_bp_mean_mag")))


def test_quality_columns_are_plausible(sim: SimulatedField) -> None:
    catalog = sim.catalog
    ruwe = _array(catalog, "ruwe")
    # ~3.6 % expected above 1.4: binomial SE for 3000 stars is 0.34 %, so 1-8 % is > 6 SE.
    assert 0.01 < np.mean(ruwe > 1.4) < 0.08
    assert 0.95 < np.median(ruwe) < 1.05
    periods = np.asarray(catalog["visibility_periods_used"])
    assert periods.min() >= 10 and periods.max() <= 30
    ecl = SkyCoord(
        _array(catalog, "ra") * u.deg, _array(catalog, "dec") * u.deg
    ).barycentrictrueecliptic
    np.testing.assert_allclose(_array(catalog, "ecl_lat"), ecl.lat.deg, atol=1e-9)


# ----------------------------------------------------------------------------- the truth


def test_truth_counts_ids_and_json(sim: SimulatedField) -> None:
    truth = sim.truth
    assert truth["n_members"] == SMALL["n_members"]
    assert truth["n_field"] == SMALL["n_field"]
    assert truth["n_stars"] == len(sim.catalog) == SMALL["n_members"] + SMALL["n_field"]
    assert truth["f_cluster"] == pytest.approx(SMALL["n_members"] / truth["n_stars"])
    ids = set(np.asarray(sim.catalog["source_id"]).tolist())
    assert len(set(truth["member_source_ids"])) == SMALL["n_members"]
    assert set(truth["member_source_ids"]) <= ids
    assert truth["distance"] == pytest.approx(1000.0 / SMALL["parallax_mas"])
    for key in ("seed", "ra_deg", "dec_deg", "radius_arcmin", "sigma_v", "plummer_radius_arcmin"):
        assert key in truth
    for key in ("x", "y", "z", "v_x", "v_y", "v_z"):
        assert key in truth and key in truth["galactocentric"]
    assert set(truth["units"]) >= {"parallax", "distance", "pmra", "pmdec", "rv", "x", "v_x"}
    assert "populations" in truth["field_model"]
    json.loads(json.dumps(truth))  # plain JSON values only


def test_members_recover_the_cluster_parallax_and_proper_motion(sim: SimulatedField) -> None:
    catalog, truth, members = sim.catalog, sim.truth, _members(sim)
    member = catalog[members]
    # Zero point from the public recipe on the catalogue's own columns (all members are in
    # its validity range here), exactly what the workflow subtracts.
    zpt.load_tables()
    zero_point = zpt.get_zpt(
        _array(member, "phot_g_mean_mag"),
        _array(member, "nu_eff_used_in_astrometry"),
        _array(member, "pseudocolour"),
        _array(member, "ecl_lat"),
        np.asarray(member["astrometric_params_solved"]),
    )
    assert np.mean(zero_point) == pytest.approx(truth["parallax_zero_point_mean"], abs=1e-6)
    n = len(member)
    # mean(parallax - zpt) = mean(true parallax) + mean(noise); SE^2 = sum(sigma_i^2) / n^2
    # + var(true parallax) / n (the cluster's depth, ~1e-3 mas, from the latent table).
    plx = _array(member, "parallax") - zero_point
    true_plx = _array(sim.latent[members], "parallax_true")
    se = np.sqrt(np.sum(_array(member, "parallax_error") ** 2) / n**2 + np.var(true_plx) / n)
    assert abs(plx.mean() - truth["parallax"]) < N_SIGMA * se
    # Proper motions: true values scatter with sigma_v / (4.74 d) and perspective; SE as above.
    for name in ("pmra", "pmdec"):
        true_pm = _array(sim.latent[members], f"{name}_true")
        se = np.sqrt(np.sum(_array(member, f"{name}_error") ** 2) / n**2 + np.var(true_pm) / n)
        assert abs(_array(member, name).mean() - truth[name]) < N_SIGMA * se, name
    # The truth's centre proper motion is the configured one (the 3D velocity round-trips).
    assert truth["pmra"] == pytest.approx(SMALL["pmra_masyr"], abs=1e-9)
    assert truth["pmdec"] == pytest.approx(SMALL["pmdec_masyr"], abs=1e-9)
    assert truth["rv"] == pytest.approx(SMALL["rv_kms"], abs=1e-9)


def test_member_radial_velocities_recover_the_cluster_rv(
    default_run: tuple[SimulatedField, float],
) -> None:
    sim = default_run[0]
    member = sim.catalog[_members(sim)]
    # as published, then corrected as the cleaning step does (Katz; Babusiaux)
    published = _array(member, "radial_velocity")
    fixed = radial_velocity_corrections(
        published,
        _array(member, "grvs_mag"),
        _array(member, "phot_rp_mean_mag"),
        _array(member, "bp_rp"),
    )
    rv = published + fixed.offset_kms
    has = np.isfinite(rv)
    assert has.sum() >= 10
    # SE^2 = sum(err_i^2 + sigma_v^2) / n^2.
    sigma_v = sim.truth["sigma_v"]
    error = _array(member, "radial_velocity_error") * fixed.error_factor
    se = np.sqrt(np.sum(error[has] ** 2 + sigma_v**2) / has.sum() ** 2)
    assert abs(rv[has].mean() - sim.truth["rv"]) < N_SIGMA * se


def test_truth_position_and_velocity_agree_with_astropy(sim: SimulatedField) -> None:
    truth = sim.truth
    centre = SkyCoord(
        ra=truth["ra_deg"] * u.deg,
        dec=truth["dec_deg"] * u.deg,
        distance=truth["distance"] * u.pc,
        pm_ra_cosdec=truth["pmra"] * u.mas / u.yr,
        pm_dec=truth["pmdec"] * u.mas / u.yr,
        radial_velocity=truth["rv"] * u.km / u.s,
    )
    np.testing.assert_allclose(
        [truth[k] for k in "xyz"], centre.cartesian.xyz.to_value(u.pc), rtol=1e-10
    )
    np.testing.assert_allclose(
        [truth[f"v_{k}"] for k in "xyz"], centre.velocity.d_xyz.to_value(u.km / u.s), atol=1e-9
    )
    galcen = centre.transform_to(galactocentric_frame())
    gc = truth["galactocentric"]
    np.testing.assert_allclose([gc[k] for k in "xyz"], galcen.cartesian.xyz.to_value(u.pc))
    np.testing.assert_allclose(
        [gc[f"v_{k}"] for k in "xyz"], galcen.velocity.d_xyz.to_value(u.km / u.s), atol=1e-8
    )


# ---------------------------------------------------------------------------- kinematics


def test_member_perspective_projection_matches_astropy(sim: SimulatedField) -> None:
    latent = sim.latent[_members(sim)][:50]
    ra, dec, dist = (_array(latent, k) for k in ("ra_true", "dec_true", "distance_pc"))
    velocity = np.stack([_array(latent, f"v_{k}") for k in "xyz"], axis=1)
    position = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, distance=dist * u.pc).cartesian
    moving = SkyCoord(
        position.with_differentials(CartesianDifferential(*velocity.T, unit=u.km / u.s)),
        frame=ICRS(),
    )
    np.testing.assert_allclose(
        _array(latent, "pmra_true"), moving.pm_ra_cosdec.to_value(u.mas / u.yr), atol=1e-9
    )
    np.testing.assert_allclose(
        _array(latent, "pmdec_true"), moving.pm_dec.to_value(u.mas / u.yr), atol=1e-9
    )
    np.testing.assert_allclose(
        _array(latent, "rv_true"), moving.radial_velocity.to_value(u.km / u.s), atol=1e-9
    )
    # The same velocity seen at two ends of the cone: perspective changes the proper motion.
    mean_v = np.array([sim.truth[f"v_{k}"] for k in "xyz"])
    pm_east = project_velocity(np.array(295.6), np.array(40.19), np.array(2777.8), mean_v)
    pm_west = project_velocity(np.array(295.0), np.array(40.19), np.array(2777.8), mean_v)
    assert abs(pm_east[0] - pm_west[0]) > 1e-3


def test_project_velocity_matches_astropy_anywhere() -> None:
    rng = np.random.default_rng(3)
    n = 200
    ra, dec = rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    dist, vel = rng.uniform(10, 20000, n), rng.normal(0, 100, (n, 3))
    rep = CartesianRepresentation(
        *(SkyCoord(ra=ra * u.deg, dec=dec * u.deg, distance=dist * u.pc).cartesian.xyz),
        differentials=CartesianDifferential(*vel.T, unit=u.km / u.s),
    )
    moving = SkyCoord(rep, frame=ICRS())
    pmra, pmdec, rv = project_velocity(ra, dec, dist, vel)
    np.testing.assert_allclose(pmra, moving.pm_ra_cosdec.to_value(u.mas / u.yr), rtol=1e-10)
    np.testing.assert_allclose(pmdec, moving.pm_dec.to_value(u.mas / u.yr), rtol=1e-10)
    np.testing.assert_allclose(rv, moving.radial_velocity.to_value(u.km / u.s), atol=1e-9)


def test_field_is_not_a_single_gaussian(default_run: tuple[SimulatedField, float]) -> None:
    sim = default_run[0]
    field = sim.catalog[~_members(sim)]
    n = len(field)
    for name in ("parallax", "pmra", "pmdec"):
        x = _array(field, name)
        # A Kolmogorov-Smirnov test against the best-fitting Gaussian rejects it outright.
        assert stats.kstest(x, "norm", args=(x.mean(), x.std())).pvalue < 1e-6, name
    # Parallaxes: skewed towards nearby stars. Quantile skewness (q95 + q5 - 2 q50) /
    # (q95 - q5) is 0 for a Gaussian, with SE ~ 1.2 / sqrt(n) ~ 0.01 for n = 16500.
    q5, q50, q95 = np.percentile(_array(field, "parallax"), [5, 50, 95])
    assert (q95 + q5 - 2 * q50) / (q95 - q5) > 5 * 1.2 / np.sqrt(n)
    # Proper motions: heavy tails from the thick disc and halo. Beyond 4 robust sigma
    # (IQR / 1.349) a Gaussian has 6e-5 of its stars; demand 1 % (binomial SE ~ 0.1 %).
    for name in ("pmra", "pmdec"):
        x = _array(field, name)
        q25, q50, q75 = np.percentile(x, [25, 50, 75])
        assert np.mean(np.abs(x - q50) > 4 * (q75 - q25) / 1.349) > 0.01, name
    populations = set(np.asarray(sim.latent["population"]).tolist())
    assert populations == {"cluster", "thin_disc", "thick_disc", "halo"}


# ------------------------------------------------------------------------------- geometry


def test_all_stars_inside_the_cone_with_the_right_profiles(sim: SimulatedField) -> None:
    sep = _separation_arcmin(sim.catalog)
    radius, a = CENTRE["radius_arcmin"], SMALL["plummer_radius_arcmin"]
    assert sep.max() <= radius
    members = _members(sim)

    def plummer_cdf(r: np.ndarray) -> np.ndarray:
        return (r**2 / (r**2 + a**2)) / (radius**2 / (radius**2 + a**2))

    # KS p-values: a correct sampler fails at p < 1e-3 one time in a thousand.
    assert stats.kstest(sep[members], plummer_cdf).pvalue > 1e-3
    assert stats.kstest((sep[~members] / radius) ** 2, "uniform").pvalue > 1e-3


def test_source_ids_carry_the_healpix_index(sim: SimulatedField) -> None:
    # Order 0: the twelve base pixels at their centres.
    ra = np.array([45, 135, 225, 315, 0, 90, 180, 270, 45, 135, 225, 315], dtype=float)
    dec = np.repeat([41.8, 0.0, -41.8], 4)
    np.testing.assert_array_equal(ge.healpix_nested(ra, dec, 0), np.arange(12))
    # Nested scheme: the parent of an order-12 pixel at order k is the index >> 2 (12 - k).
    rng = np.random.default_rng(5)
    ra, dec = rng.uniform(0, 360, 500), np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    fine = ge.healpix_nested(ra, dec, 12)
    for order in (0, 3, 7):
        np.testing.assert_array_equal(fine >> (2 * (12 - order)), ge.healpix_nested(ra, dec, order))
    ids = np.asarray(sim.catalog["source_id"])
    np.testing.assert_array_equal(
        ids >> 35, ge.healpix_nested(_array(sim.catalog, "ra"), _array(sim.catalog, "dec"), 12)
    )


# ------------------------------------------------------------------------- uncertainties


def test_median_error_relation_is_the_published_one() -> None:
    # Lindegren et al. (2021) values quoted in NOTES.md.
    g = np.array([14.0, 17.0, 20.0, 21.0])
    np.testing.assert_allclose(ge.median_parallax_error(g), [0.0225, 0.07, 0.5, 1.3], rtol=0.05)
    np.testing.assert_allclose(ge.median_pm_error(g)[1:], [0.07, 0.5, 1.4], rtol=1e-9)
    assert np.all(np.diff(ge.median_parallax_error(np.linspace(12, 21.5, 50))) > 0)


def test_catalogue_errors_follow_the_relation(sim: SimulatedField) -> None:
    catalog = sim.catalog
    g = _array(catalog, "phot_g_mean_mag")
    ratio = _array(catalog, "parallax_error") / ge.median_parallax_error(g)
    pm_ratio = _array(catalog, "pmra_error") / ge.median_pm_error(g)
    for lo, hi in ((14.0, 16.0), (16.5, 17.5), (19.5, 20.5)):
        sel = (g >= lo) & (g < hi)
        assert sel.sum() >= 100
        # Star-to-star log scatter ~0.12, so the SE of the median ratio is ~1.25 * 0.12 /
        # sqrt(n) <= 0.015 for n >= 100; 6 % allows 4 SE.
        assert np.median(ratio[sel]) == pytest.approx(1.0, abs=0.06), (lo, hi)
        assert np.median(pm_ratio[sel]) == pytest.approx(1.0, abs=0.06), (lo, hi)
    bright = (g > 16.8) & (g < 17.2)
    assert np.median(_array(catalog, "parallax_error")[bright]) == pytest.approx(0.07, rel=0.1)


def test_correlations_are_valid_and_real(sim: SimulatedField) -> None:
    catalog, latent = sim.catalog, sim.latent
    n = len(catalog)
    corr = np.repeat(np.eye(5)[None], n, axis=0)
    for name, (i, j) in ge.CORRELATION_COLUMNS.items():
        rho = _array(catalog, name)
        assert np.all(np.abs(rho) <= 1.0), name
        corr[:, i, j] = corr[:, j, i] = rho
    assert np.all(np.linalg.eigvalsh(corr)[:, 0] > 0), "every matrix positive definite"
    assert np.percentile(np.abs(_array(catalog, "pmra_pmdec_corr")), 90) < 0.5

    # Standardised noise of (parallax, pmra, pmdec) from the latent true values.
    z = np.stack(
        [
            (
                _array(catalog, "parallax")
                - _array(latent, "parallax_true")
                - _array(latent, "parallax_zero_point")
            )
            / _array(catalog, "parallax_error"),
            (_array(catalog, "pmra") - _array(latent, "pmra_true")) / _array(catalog, "pmra_error"),
            (_array(catalog, "pmdec") - _array(latent, "pmdec_true"))
            / _array(catalog, "pmdec_error"),
        ],
        axis=1,
    )
    # Mahalanobis distances with the catalogue's own 3x3 correlation: chi2(3), mean 3, SD
    # sqrt(6); SE of the mean sqrt(6 / n).
    block = corr[:, 2:, 2:]
    d2 = np.einsum("ni,nij,nj->n", z, np.linalg.inv(block), z)
    assert abs(d2.mean() - 3.0) < N_SIGMA * np.sqrt(6.0 / n)
    # Per star E[z_a z_b] = rho_ab. Regressing z_a z_b on rho gives slope 1 (0 if the
    # correlations were decorative); Var(z_a z_b) = 1 + rho^2, so the slope's SE is
    # sqrt(mean(1 + rho^2) / (n var(rho))) ~ 0.1 here.
    for name, (i, j) in (
        ("pmra_pmdec_corr", (1, 2)),
        ("parallax_pmra_corr", (0, 1)),
        ("parallax_pmdec_corr", (0, 2)),
    ):
        rho = _array(catalog, name)
        product = z[:, i] * z[:, j]
        slope = np.sum((rho - rho.mean()) * product) / np.sum((rho - rho.mean()) ** 2)
        se = np.sqrt(np.mean(1.0 + rho**2) / (n * np.var(rho)))
        assert abs(slope - 1.0) < N_SIGMA * se, name
        assert abs(product.mean() - rho.mean()) < N_SIGMA * np.sqrt(np.mean(1 + rho**2) / n)


def test_radial_velocities_only_for_bright_stars(default_run: tuple[SimulatedField, float]) -> None:
    catalog = default_run[0].catalog
    rv, rv_err = _array(catalog, "radial_velocity"), _array(catalog, "radial_velocity_error")
    g, bp_rp = _array(catalog, "phot_g_mean_mag"), _array(catalog, "bp_rp")
    has = np.isfinite(rv)
    assert np.all(np.isfinite(rv_err) == has)
    assert g[has].max() < 16.5, "G_RVS <= ~14 means G below ~16"
    assert not has[g > 17.0].any()
    # Cool stars with G < 13 (G_RVS < 12): 92 % completeness; binomial SE < 0.05 for the
    # >= 30 such stars, so 0.75 is > 3 SE below.
    cool_bright = (g < 13.0) & (bp_rp > 0.5)
    assert cool_bright.sum() >= 30
    assert np.mean(has[cool_bright]) > 0.75
    assert 1.0 < np.median(rv_err[has]) < 6.0


def test_radial_velocity_availability_and_errors() -> None:
    rng = np.random.default_rng(2)
    n = 20000
    # Binomial SE of a completeness over 20000 draws is 0.002.
    cool = ge.rv_availability(rng, np.full(n, 12.0), np.full(n, 1.2))
    assert cool.mean() == pytest.approx(ge.RVS_COMPLETENESS, abs=0.01)
    assert not ge.rv_availability(rng, np.full(n, 13.5), np.full(n, 0.3)).any()
    assert not ge.rv_availability(rng, np.full(n, 16.0), np.full(n, 1.2)).any()
    errors = ge.rv_uncertainty(rng, np.array([12.0, 14.0]).repeat(n), np.full(2 * n, 1.2))
    assert 1.0 < np.median(errors[:n]) < 2.0
    assert 5.0 < np.median(errors[n:]) < 7.0


# ----------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes_other_seed_other_table(tmp_path: Path, sim: SimulatedField) -> None:
    catalog, truth = simulate_field(**CENTRE, **SMALL)
    assert truth == sim.truth
    for name in catalog.colnames:
        np.testing.assert_array_equal(catalog[name], sim.catalog[name], err_msg=name)
    write_table_atomic(catalog, tmp_path / "a.fits")
    write_table_atomic(sim.catalog, tmp_path / "b.fits")
    assert sha256_file(tmp_path / "a.fits") == sha256_file(tmp_path / "b.fits")

    other, other_truth = simulate_field(**CENTRE, **{**SMALL, "seed": SMALL["seed"] + 1})
    assert not np.array_equal(other["parallax"], catalog["parallax"])
    assert other_truth["member_source_ids"] != truth["member_source_ids"]


def test_invalid_parameters_raise_config_errors() -> None:
    with pytest.raises(ConfigError, match="n_members"):
        simulate_field(**CENTRE, **{**SMALL, "n_members": 0})
    with pytest.raises(ConfigError, match="parallax_mas"):
        simulate_field(**CENTRE, **{**SMALL, "parallax_mas": -0.1})


def test_default_size_runs_in_seconds(default_run: tuple[SimulatedField, float]) -> None:
    sim, elapsed = default_run
    simulation = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["clusters"][0][
        "simulation"
    ]
    assert len(sim.catalog) == simulation["n_members"] + simulation["n_field"]
    assert sim.truth["n_members"] == simulation["n_members"]
    assert _array(sim.catalog, "phot_g_mean_mag").max() <= simulation["g_max_mag"]
    assert elapsed < 10.0, f"default-size simulation took {elapsed:.1f} s"

"""Model 4 (sky + parallax + proper motions + RVs): geometry and projection against astropy,
the likelihood against SciPy, recovery of a synthetic cluster, and input checks."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from astropy.coordinates import ICRS, CartesianDifferential, CartesianRepresentation, SkyCoord
from astropy.table import Table
from astropy.wcs import WCS
from scipy import integrate, special, stats

from clustermix.data.simulate import sample_king_cone
from clustermix.errors import ConfigError, InputDataError
from clustermix.models.gaussian3d import (
    covariance_from_partial_correlations,
    trivariate_normal_logpdf,
)
from clustermix.models.kinematics import (
    observables_to_velocity,
    sky_basis,
    sky_to_position,
    tangent_plane,
    tangent_plane_to_sky,
    velocity_to_observables,
)
from clustermix.models.phase_space import model as phase_space
from clustermix.models.phase_space import starts

CONE = (295.327, 40.19, 20.0)  # deg, deg, arcmin: an NGC 6819-like field
OPTIONS = {
    "cone_ra_deg": CONE[0],
    "cone_dec_deg": CONE[1],
    "cone_radius_arcmin": CONE[2],
    "parallax_systematic_mas": 0.0,
    "n_field_components": 2,  # a fit resolves the default "auto" from the control field
    "field_model": "joint",  # these fields have no control field (masks)
    "cluster_min_members": 1,  # small test fields may take any cluster fraction
}
TRUE = {
    "parallax": 0.36,
    "pmra": -2.91,
    "pmdec": -3.86,
    "rv": 2.45,
    "sigma_v": 1.0,
    "plummer_radius_arcmin": 3.0,
    "centre_offset_arcmin": (0.5, -0.4),
}


def tan_wcs(ra0: float, dec0: float) -> WCS:
    """A gnomonic WCS whose pixel coordinates are (xi, eta) in arcmin (xi towards east)."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [ra0, dec0]
    wcs.wcs.crpix = [1.0, 1.0]
    wcs.wcs.cdelt = [1.0 / 60.0, 1.0 / 60.0]
    return wcs


def random_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions (deg) uniform on the sphere inside the cone, by astropy offsets."""
    cos_sep = 1.0 - rng.random(n) * (1.0 - np.cos(np.radians(CONE[2] / 60.0)))
    centre = SkyCoord(ra=CONE[0] * u.deg, dec=CONE[1] * u.deg)
    sky = centre.directional_offset_by(
        rng.uniform(0.0, 360.0, n) * u.deg, np.degrees(np.arccos(cos_sep)) * u.deg
    )
    return sky.ra.deg, sky.dec.deg


def moving_stars(ra, dec, distance_pc, velocity_kms) -> SkyCoord:
    """Stars at (ra, dec, distance) with ICRS Cartesian velocities (3, n), by astropy."""
    sky = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, distance=distance_pc * u.pc, frame=ICRS())
    cartesian = sky.cartesian.with_differentials(CartesianDifferential(velocity_kms * u.km / u.s))
    return SkyCoord(ICRS(cartesian))


# ------------------------------------------------------------- geometry and projections


def test_projection_matches_astropy():
    rng = np.random.default_rng(1)
    ra, dec = random_sky(rng, 25)
    velocity = np.array([-19.8, -47.7, -37.2])
    parallax = 0.36
    stars = moving_stars(ra, dec, np.full(ra.size, 1000.0 / parallax), np.tile(velocity, (25, 1)).T)
    pmra, pmdec, rv = velocity_to_observables(velocity, *sky_basis(ra, dec), parallax)
    np.testing.assert_allclose(pmra, stars.pm_ra_cosdec.to_value(u.mas / u.yr), atol=1e-10)
    np.testing.assert_allclose(pmdec, stars.pm_dec.to_value(u.mas / u.yr), atol=1e-10)
    np.testing.assert_allclose(rv, stars.radial_velocity.to_value(u.km / u.s), atol=1e-10)
    # and back: observables -> velocity and position
    back = observables_to_velocity(ra, dec, np.full(ra.size, parallax), pmra, pmdec, rv)
    np.testing.assert_allclose(back, np.tile(velocity, (25, 1)), atol=1e-9)
    position = sky_to_position(ra, dec, np.full(ra.size, parallax))
    np.testing.assert_allclose(position, stars.cartesian.xyz.to_value(u.pc).T, rtol=1e-12)
    # the perspective effect is real across a 20 arcmin cone (~0.01 mas/yr at 2.8 kpc)
    assert np.ptp(pmra) > 0.005


def test_projection_in_pytensor_matches_numpy():
    import pytensor
    import pytensor.tensor as pt

    rng = np.random.default_rng(2)
    ra, dec = random_sky(rng, 5)
    v = pt.dvector("v")
    plx = pt.dscalar("plx")
    function = pytensor.function(
        [v, plx], list(velocity_to_observables(v, *sky_basis(ra, dec), plx))
    )
    velocity = np.array([10.0, -20.0, 5.0])
    expected = velocity_to_observables(velocity, *sky_basis(ra, dec), 0.5)
    for got, array in zip(function(velocity, 0.5), expected, strict=True):
        np.testing.assert_allclose(got, array, atol=1e-12)


def test_tangent_plane_matches_a_gnomonic_wcs():
    rng = np.random.default_rng(3)
    ra, dec = random_sky(rng, 50)
    xi, eta = tangent_plane(ra, dec, CONE[0], CONE[1])
    x_wcs, y_wcs = tan_wcs(CONE[0], CONE[1]).all_world2pix(ra, dec, 0)
    np.testing.assert_allclose(xi, x_wcs, atol=1e-7)  # arcmin; WCS works in float64 deg
    np.testing.assert_allclose(eta, y_wcs, atol=1e-7)
    ra_back, dec_back = tangent_plane_to_sky(xi, eta, CONE[0], CONE[1])
    np.testing.assert_allclose(ra_back, ra, atol=1e-10)
    np.testing.assert_allclose(dec_back, dec, atol=1e-10)


@pytest.mark.parametrize("offset", [(0.0, 0.0), (1.3, -2.1), (6.0, 4.0)])
@pytest.mark.parametrize("scale", [0.8, 4.5, 30.0])
def test_plummer_mass_in_the_cone_matches_2d_quadrature(offset, scale):
    radius = 20.0

    def density(eta, xi):
        r2 = (xi - offset[0]) ** 2 + (eta - offset[1]) ** 2
        return (1.0 + r2 / scale**2) ** -2 / (np.pi * scale**2)

    expected, _ = integrate.dblquad(
        density,
        -radius,
        radius,
        lambda xi: -np.sqrt(radius**2 - xi**2),
        lambda xi: np.sqrt(radius**2 - xi**2),
        epsabs=1e-11,
        epsrel=1e-11,
    )
    got = phase_space.cluster_mass_in_cone(offset[0], offset[1], scale, radius, xp=np)
    assert got == pytest.approx(expected, abs=1e-8)
    if offset == (0.0, 0.0):
        assert got == pytest.approx(radius**2 / (radius**2 + scale**2), abs=1e-12)


@pytest.mark.parametrize("offset", [(0.0, 0.0), (6.0, 4.0)])
@pytest.mark.parametrize("gamma", [2.5, 4.0, 6.5])
def test_eff_density_is_normalised_in_the_cone(offset, gamma):
    """The EFF profile truncated to the cone integrates to 1 over the disc for any slope and
    an offset centre (Gauss-Legendre in radius x trapezoid in angle, converged to 1e-8);
    gamma = 4 is the Plummer profile."""
    radius, scale = 20.0, 3.0
    xi, eta = pt.dvector("xi"), pt.dvector("eta")
    log_density = pytensor.function(
        [xi, eta], phase_space.cluster_sky_log_density(xi, eta, *offset, scale, radius, gamma=gamma)
    )
    nodes, weights = np.polynomial.legendre.leggauss(400)
    r = 0.5 * radius * (nodes + 1.0)
    theta = 2.0 * np.pi * np.arange(512) / 512
    rr, tt = np.meshgrid(r, theta)
    values = np.exp(log_density((rr * np.cos(tt)).ravel(), (rr * np.sin(tt)).ravel()))
    ring = values.reshape(rr.shape).mean(axis=0) * 2.0 * np.pi * r
    total = 0.5 * radius * np.sum(weights * ring)
    assert total == pytest.approx(1.0, abs=1e-6)
    r2 = np.array([0.0, 4.0, 50.0])
    plummer = (1.0 + r2 / scale**2) ** -2 / (np.pi * scale**2)
    # (a NumPy float: PyTensor would make the Python float 3.0 a float32 constant)
    got = phase_space.cluster_sky_log_density(
        np.sqrt(r2), 0.0 * r2, 0.0, 0.0, np.float64(scale), 1e6, gamma=4.0
    )
    np.testing.assert_allclose(np.exp(got.eval()), plummer, rtol=1e-9)


def test_eff_positions_follow_the_profile():
    """Replicated member positions (PPC) for gamma = 2.6 about a centred cluster: their radii
    follow M(R) / M(R_cone), M(R) = 1 - (1 + R^2 / a^2)^(1 - gamma / 2) (KS test, 20,000
    radii, fixed seed: p > 0.001); with the Plummer slope they are more concentrated."""
    from clustermix.models.phase_space.replicate import sample_cluster_in_disc

    radius, scale, gamma = 20.0, 2.0, 2.6
    rng = np.random.default_rng(4)
    shape = (4, 5000)
    ones = np.ones(4)
    xi, eta = sample_cluster_in_disc(
        0 * ones, 0 * ones, scale * ones, radius, shape, rng, gamma * ones
    )
    r = np.hypot(xi, eta).ravel()
    edge = phase_space.ARCMIN_PER_RAD * np.tan(radius / phase_space.ARCMIN_PER_RAD)

    def mass(rr, g):
        return 1.0 - (1.0 + rr**2 / scale**2) ** (1.0 - 0.5 * g)

    assert r.max() <= edge
    assert stats.kstest(r, lambda rr: mass(rr, gamma) / mass(edge, gamma)).pvalue > 0.001
    xi4, eta4 = sample_cluster_in_disc(0 * ones, 0 * ones, scale * ones, radius, shape, rng)
    assert np.median(np.hypot(xi4, eta4)) < np.median(r)


def test_unknown_profile_is_an_error():
    catalog, _ = simulate(n_members=20, n_field=30, seed=8)
    data = phase_space.prepare_data(catalog, OPTIONS, "synthetic")
    with pytest.raises(ConfigError, match="profile"):
        phase_space.build_model(data, {**OPTIONS, "profile": "gauss"})
    with pytest.raises(ConfigError, match="eff_gamma_prior_range"):
        phase_space.build_model(
            data, {**OPTIONS, "profile": "eff", "eff_gamma_prior_range": [1, 3]}
        )
    model = phase_space.build_model(data, {**OPTIONS, "profile": "eff"})
    assert "eff_gamma" in model.named_vars


def test_field_sky_density_integrates_to_one_over_the_cone():
    radius = CONE[2]
    edge = phase_space.ARCMIN_PER_RAD * np.tan(radius / phase_space.ARCMIN_PER_RAD)

    def ring(rho):
        return 2.0 * np.pi * rho * np.exp(phase_space.field_sky_log_density(rho, 0.0, radius))

    total, _ = integrate.quad(ring, 0.0, edge, epsabs=0.0, epsrel=1e-12)
    assert total == pytest.approx(1.0, abs=1e-10)


def test_trivariate_logpdf_matches_scipy():
    rng = np.random.default_rng(4)
    n = 30
    sd = rng.uniform(0.02, 2.0, (n, 3))
    z = rng.uniform(-0.9, 0.9, (n, 3))
    entries = covariance_from_partial_correlations(sd, z[:, 0], z[:, 1], z[:, 2])
    residual = rng.normal(0.0, 1.0, (n, 3)) * sd
    got = trivariate_normal_logpdf(*residual.T, *entries).eval()
    for i in range(n):
        cov = np.empty((3, 3))
        for value, (a, b) in zip(entries, phase_space.ENTRIES, strict=True):
            cov[a, b] = cov[b, a] = value[i]
        assert got[i] == pytest.approx(
            stats.multivariate_normal(np.zeros(3), cov).logpdf(residual[i]), abs=1e-10
        )


def test_partial_correlations_give_an_lkj_prior():
    eta, n = 2.0, 20000
    rng = np.random.default_rng(5)
    z01, z02 = 2.0 * rng.beta(eta + 0.5, eta + 0.5, (2, n)) - 1.0
    z12 = 2.0 * rng.beta(eta, eta, n) - 1.0
    entries = covariance_from_partial_correlations(np.ones((n, 3)), z01, z02, z12)
    mine = np.column_stack([entries[1], entries[2], entries[4]])
    lkj = pm.draw(pm.LKJCorr.dist(n=3, eta=eta), n, random_seed=6)
    # same marginals as PyMC's LKJ(2) draws (KS test at the 1% level, fixed seeds)
    for j in range(3):
        assert stats.ks_2samp(mine[:, j], lkj[:, j]).pvalue > 0.01


# ---------------------------------------------------------------------------- synthetic


def simulate(
    seed: int = 2024,
    n_members: int = 180,
    n_field: int = 270,
    king: tuple[float, float] | None = None,
):
    """A catalogue drawn from the model's generative process, with astropy projections.

    Members: a Plummer profile (a = 3 arcmin) about a centre offset by (0.5, -0.4) arcmin in
    the tangent plane (a gnomonic WCS), or with ``king`` = (r_c, r_t) (arcmin) a King (1962)
    profile (radii from the simulator's :func:`clustermix.data.simulate.sample_king_cone`),
    cut at the cone, at 2778 pc, moving with the
    velocity of (pmra, pmdec, rv) = (-2.91, -3.86, 2.45) at the centre plus a 1 km/s
    isotropic dispersion, projected at each member's position by astropy. Field: uniform on
    the sphere in the cone; (parallax, pmra, pmdec) from a two-component Gaussian mixture;
    RVs ~ N(-20, 35^2). Errors log-uniform 0.02-0.5 mas (pm errors 0.9-1.4 times that),
    correlations uniform in (-0.4, 0.4); 30% of the stars have RVs with 1-4 km/s errors.
    """
    rng = np.random.default_rng(seed)
    ra0, dec0, radius = CONE
    wcs = tan_wcs(ra0, dec0)
    edge = 60.0 * np.degrees(np.tan(np.radians(radius / 60.0)))
    a, (x0, y0) = TRUE["plummer_radius_arcmin"], TRUE["centre_offset_arcmin"]
    xi, eta = np.empty(0), np.empty(0)
    while xi.size < n_members:
        if king is None:
            q = rng.random(4 * n_members) * 0.999
            r = a * np.sqrt(q / (1.0 - q))
        else:
            r = sample_king_cone(rng, 4 * n_members, *king, king[1])[0]
        angle = rng.uniform(0.0, 2.0 * np.pi, r.size)
        x, y = x0 + r * np.cos(angle), y0 + r * np.sin(angle)
        keep = np.hypot(x, y) < edge
        xi, eta = np.r_[xi, x[keep]], np.r_[eta, y[keep]]
    ra_m, dec_m = wcs.all_pix2world(xi[:n_members], eta[:n_members], 0)
    ra_c, dec_c = (float(v[0]) for v in wcs.all_pix2world([x0], [y0], 0))
    distance = 1000.0 / TRUE["parallax"]
    centre = SkyCoord(
        ra=ra_c * u.deg,
        dec=dec_c * u.deg,
        distance=distance * u.pc,
        pm_ra_cosdec=TRUE["pmra"] * u.mas / u.yr,
        pm_dec=TRUE["pmdec"] * u.mas / u.yr,
        radial_velocity=TRUE["rv"] * u.km / u.s,
        frame=ICRS(),
    )
    v_cl = centre.velocity.d_xyz.to_value(u.km / u.s)
    velocity = v_cl[:, None] + rng.normal(0.0, TRUE["sigma_v"], (3, n_members))
    members = moving_stars(ra_m, dec_m, np.full(n_members, distance), velocity)
    true_members = np.column_stack(
        [
            np.full(n_members, TRUE["parallax"]),
            members.pm_ra_cosdec.to_value(u.mas / u.yr),
            members.pm_dec.to_value(u.mas / u.yr),
        ]
    )
    ra_f, dec_f = random_sky(rng, n_field)
    means = np.array([[0.35, -2.0, -5.0], [0.9, -4.0, -6.5]])
    sds = np.array([[0.25, 2.5, 3.0], [0.5, 5.0, 5.0]])
    corrs = np.array(
        [
            [[1, 0.1, 0.0], [0.1, 1, 0.3], [0.0, 0.3, 1]],
            [[1, -0.2, 0.1], [-0.2, 1, 0.2], [0.1, 0.2, 1]],
        ]
    )
    component = (rng.random(n_field) > 0.6).astype(int)
    true_field = np.array(
        [rng.multivariate_normal(means[k], np.outer(sds[k], sds[k]) * corrs[k]) for k in component]
    )
    n = n_members + n_field
    true = np.vstack([true_members, true_field])
    plx_err = np.exp(rng.uniform(np.log(0.02), np.log(0.5), n))
    errors = np.column_stack(
        [plx_err, plx_err * rng.uniform(0.9, 1.4, n), plx_err * rng.uniform(0.9, 1.4, n)]
    )
    corr = rng.uniform(-0.4, 0.4, (n, 3))
    observed = np.empty((n, 3))
    for i in range(n):
        matrix = np.array(
            [[1, corr[i, 0], corr[i, 1]], [corr[i, 0], 1, corr[i, 2]], [corr[i, 1], corr[i, 2], 1]]
        )
        observed[i] = rng.multivariate_normal(true[i], np.outer(errors[i], errors[i]) * matrix)
    rv_true = np.r_[members.radial_velocity.to_value(u.km / u.s), rng.normal(-20.0, 35.0, n_field)]
    rv_error = rng.uniform(1.0, 4.0, n)
    has_rv = rng.random(n) < 0.3
    rv = np.where(has_rv, rng.normal(rv_true, rv_error), np.nan)
    source_id = rng.permutation(np.arange(10**6, 10**6 + n, dtype=np.int64))
    catalog = Table(
        {
            "source_id": source_id,
            "ra": np.r_[ra_m, ra_f],
            "dec": np.r_[dec_m, dec_f],
            **{name: observed[:, j] for j, name in enumerate(("parallax", "pmra", "pmdec"))},
            **{
                name: errors[:, j]
                for j, name in enumerate(("parallax_error", "pmra_error", "pmdec_error"))
            },
            **{name: corr[:, j] for j, name in enumerate(phase_space.CORRELATIONS)},
            "radial_velocity": rv,
            "radial_velocity_error": np.where(has_rv, rv_error, np.nan),
        }
    )
    position = centre.cartesian.xyz.to_value(u.pc)
    truth = {
        "parallax": TRUE["parallax"],
        "distance": distance,
        "pmra": TRUE["pmra"],
        "pmdec": TRUE["pmdec"],
        "rv": TRUE["rv"],
        "sigma_v": TRUE["sigma_v"],
        **dict(zip(("x", "y", "z"), position, strict=True)),
        **dict(zip(("v_x", "v_y", "v_z"), v_cl, strict=True)),
        "ra_cl": ra_c,
        "dec_cl": dec_c,
        "member_source_ids": source_id[:n_members].tolist(),
    }
    return catalog, truth


def constrained_point(model: pm.Model, values: dict[str, object]) -> dict[str, np.ndarray]:
    """A point in the model's value-variable (transformed) space from constrained values."""
    point = {}
    for rv in model.free_RVs:
        value = np.asarray(values[rv.name], dtype=float)
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.forward(value, *rv.owner.inputs).eval()
        point[model.rvs_to_values[rv].name] = np.asarray(value, dtype=float)
    return point


def reference_log_likelihood(data, params) -> np.ndarray:
    """Per-star log-likelihood with SciPy and astropy only (no model code but the data).

    The quoted uncertainties are scaled by 1 + ``error_excess_<name>`` of the star's G range
    (``data["error_range"]``), for members and for the (jointly fitted) field; members' RVs
    are a mixture of singles and binaries (``rv_binary_fraction``, extra spread
    ``rv_binary_sd``)."""
    n = data["source_id"].size
    scale_plx, scale_pm, scale_rv = (
        1.0 + np.asarray(params[f"error_excess_{name}"])[data["error_range"]]
        for name in ("parallax", "pm", "rv")
    )
    q_binary, sd_binary = params["rv_binary_fraction"], params["rv_binary_sd"]
    # cluster centre and velocity by astropy (the WCS gives the centre's position)
    ra_c, dec_c = (
        float(v[0])
        for v in tan_wcs(CONE[0], CONE[1]).all_pix2world([params["xi_cl"]], [params["eta_cl"]], 0)
    )
    distance = 1000.0 / params["parallax_cl"]
    v_cl = SkyCoord(
        ra=ra_c * u.deg,
        dec=dec_c * u.deg,
        distance=distance * u.pc,
        pm_ra_cosdec=params["pmra_cl"] * u.mas / u.yr,
        pm_dec=params["pmdec_cl"] * u.mas / u.yr,
        radial_velocity=params["rv_cl"] * u.km / u.s,
    ).velocity.d_xyz.to_value(u.km / u.s)
    stars = moving_stars(data["ra"], data["dec"], np.full(n, distance), np.tile(v_cl, (n, 1)).T)
    mean_cl = np.column_stack(
        [
            np.full(n, params["parallax_cl"]),
            stars.pm_ra_cosdec.to_value(u.mas / u.yr),
            stars.pm_dec.to_value(u.mas / u.yr),
        ]
    )
    # a fitted zero-point offset moves the members' observed parallaxes, not the distance
    mean_cl[:, 0] += params.get("parallax_zero_point_offset", 0.0)
    rv_cl = stars.radial_velocity.to_value(u.km / u.s)
    # sky densities: Plummer normalised by 2D quadrature over the cone's disc
    xi, eta = tan_wcs(CONE[0], CONE[1]).all_world2pix(data["ra"], data["dec"], 0)
    a = params["plummer_radius_arcmin"]
    edge = 60.0 * np.degrees(np.tan(np.radians(CONE[2] / 60.0)))

    def plummer(y, x):
        r2 = (x - params["xi_cl"]) ** 2 + (y - params["eta_cl"]) ** 2
        return (1.0 + r2 / a**2) ** -2 / (np.pi * a**2)

    mass, _ = integrate.dblquad(
        plummer, -edge, edge, lambda x: -np.sqrt(edge**2 - x**2), lambda x: np.sqrt(edge**2 - x**2)
    )
    sky_cl = plummer(eta, xi) / mass
    omega_arcmin2 = (
        2.0 * np.pi * (1.0 - np.cos(np.radians(CONE[2] / 60.0))) * (180.0 * 60.0 / np.pi) ** 2
    )
    rho2 = np.radians((xi**2 + eta**2) ** 0.5 / 60.0) ** 2
    sky_f = (1.0 + rho2) ** -1.5 / omega_arcmin2
    astrometry = np.column_stack([data["parallax"], data["pmra"], data["pmdec"]])
    f = params["f_cluster"]
    weights = np.atleast_1d(params["w_field"])
    mu_field = np.column_stack([params["parallax_field"], params["pm_field"]])
    sd_pmra = params["sd_field_pmra_first"] + np.r_[0.0, np.cumsum(params["sd_field_pmra_gap"])]
    sd_field = np.column_stack([params["sd_field_parallax"], sd_pmra, params["sd_field_pmdec"]])
    z = 2.0 * np.asarray(params["cpc_field_beta"]) - 1.0
    s_pm = params["sigma_v"] * params["parallax_cl"] / 4.740470463533348
    s_plx = params["parallax_cl"] * np.radians(a / 60.0)
    out = np.empty(n)
    for i in range(n):
        s = np.array([data["parallax_error"][i], data["pmra_error"][i], data["pmdec_error"][i]])
        s *= np.array([scale_plx[i], scale_pm[i], scale_pm[i]])
        r01, r02, r12 = (data[name][i] for name in phase_space.CORRELATIONS)
        c_obs = np.outer(s, s) * np.array([[1, r01, r02], [r01, 1, r12], [r02, r12, 1]])
        log_c = (
            np.log(f)
            + np.log(sky_cl[i])
            + stats.multivariate_normal(
                mean_cl[i], c_obs + np.diag([s_plx**2, s_pm**2, s_pm**2])
            ).logpdf(astrometry[i])
        )
        field_terms = []
        for k in range(weights.size):
            sd = sd_field[k]
            r12_k = z[k, 0] * z[k, 1] + z[k, 2] * np.sqrt((1 - z[k, 0] ** 2) * (1 - z[k, 1] ** 2))
            corr_k = np.array([[1, z[k, 0], z[k, 1]], [z[k, 0], 1, r12_k], [z[k, 1], r12_k, 1]])
            cov_k = np.outer(sd, sd) * corr_k
            field_terms.append(
                np.log(weights[k])
                + stats.multivariate_normal(mu_field[k], cov_k + c_obs).logpdf(astrometry[i])
            )
        log_f = np.log1p(-f) + np.log(sky_f[i]) + special.logsumexp(field_terms)
        if data["has_rv"][i]:
            e = data["radial_velocity_error"][i] * scale_rv[i]
            single = np.hypot(e, params["sigma_v"])
            log_c += np.log(
                (1.0 - q_binary) * stats.norm.pdf(data["radial_velocity"][i], rv_cl[i], single)
                + q_binary
                * stats.norm.pdf(data["radial_velocity"][i], rv_cl[i], np.hypot(single, sd_binary))
            )
            log_f += stats.norm.logpdf(
                data["radial_velocity"][i],
                params["rv_field_mean"],
                np.hypot(e, params["rv_field_sd"]),
            )
        out[i] = np.logaddexp(log_c, log_f)
    return out


PARAMETER_POINTS = [
    {
        "xi_cl": 0.5,
        "eta_cl": -0.4,
        "plummer_radius_arcmin": 3.0,
        "parallax_cl": 0.36,
        "pmra_cl": -2.91,
        "pmdec_cl": -3.86,
        "rv_cl": 2.45,
        "sigma_v": 1.0,
        "f_cluster": 0.4,
        "w_field": np.array([0.6, 0.4]),
        "parallax_field": np.array([0.35, 0.9]),
        "pm_field": np.array([[-2.0, -5.0], [-4.0, -6.5]]),
        "sd_field_parallax": np.array([0.25, 0.5]),
        "sd_field_pmra_first": 2.5,
        "sd_field_pmra_gap": np.array([2.5]),
        "sd_field_pmdec": np.array([3.0, 5.0]),
        "cpc_field_beta": np.array([[0.55, 0.5, 0.65], [0.4, 0.55, 0.6]]),
        "rv_field_mean": -20.0,
        "rv_field_sd": 35.0,
        "error_excess_parallax": np.array([0.1]),
        "error_excess_pm": np.array([0.3]),
        "error_excess_rv": np.array([0.2]),
        "rv_binary_fraction": 0.25,
        "rv_binary_sd": 9.0,
    },
    {
        "xi_cl": -3.0,
        "eta_cl": 2.0,
        "plummer_radius_arcmin": 9.0,
        "parallax_cl": 0.6,
        "pmra_cl": 1.5,
        "pmdec_cl": -7.0,
        "rv_cl": -30.0,
        "sigma_v": 4.0,
        "f_cluster": 0.1,
        "w_field": np.array([0.2, 0.8]),
        "parallax_field": np.array([1.6, 0.1]),
        "pm_field": np.array([[0.0, 0.0], [-6.0, 2.0]]),
        "sd_field_parallax": np.array([1.0, 0.3]),
        "sd_field_pmra_first": 1.0,
        "sd_field_pmra_gap": np.array([7.0]),
        "sd_field_pmdec": np.array([1.0, 2.0]),
        "cpc_field_beta": np.array([[0.1, 0.9, 0.3], [0.7, 0.2, 0.5]]),
        "rv_field_mean": 10.0,
        "rv_field_sd": 5.0,
        "error_excess_parallax": np.array([0.02]),
        "error_excess_pm": np.array([0.5]),
        "error_excess_rv": np.array([1.0]),
        "rv_binary_fraction": 0.6,
        "rv_binary_sd": 3.0,
    },
]


@pytest.mark.parametrize("params", PARAMETER_POINTS)
def test_obs_logp_matches_independent_numpy(params):
    catalog, _ = simulate(n_members=20, n_field=30, seed=8)
    data = phase_space.prepare_data(catalog, OPTIONS, "synthetic")
    model = phase_space.build_model(data, OPTIONS)
    obs_logp = model.compile_fn(
        model.logp(vars=[model["obs"]], sum=False)[0], inputs=model.value_vars
    )
    got = obs_logp(constrained_point(model, params))
    # everything is closed form but the Plummer mass (dblquad, ~1e-10) and the WCS
    # projection (float64 deg): 1e-7 in ln L is far below anything that matters
    np.testing.assert_allclose(got, reference_log_likelihood(data, params), rtol=0, atol=1e-7)


def test_error_inflation_by_magnitude_range_matches_numpy():
    """With ``error_inflation_g_edges`` each G range has its own factors on the quoted
    uncertainties; the likelihood matches the reference star by star, and the ranges are
    those of the G column."""
    catalog, _ = simulate(n_members=20, n_field=30, seed=8)
    catalog["phot_g_mean_mag"] = np.random.default_rng(8).uniform(12.0, 20.0, len(catalog))
    options = {**OPTIONS, "error_inflation_g_edges": [15.0, 17.5]}
    data = phase_space.prepare_data(catalog, options, "synthetic")
    g_mag = np.asarray(catalog["phot_g_mean_mag"])
    np.testing.assert_array_equal(
        data["error_range"], (g_mag >= 15.0).astype(int) + (g_mag >= 17.5)
    )
    model = phase_space.build_model(data, options)
    params = {
        **PARAMETER_POINTS[0],
        "error_excess_parallax": np.array([0.4, 0.1, 0.0]),
        "error_excess_pm": np.array([0.05, 0.6, 0.2]),
        "error_excess_rv": np.array([0.3, 0.8, 0.1]),
    }
    obs_logp = model.compile_fn(
        model.logp(vars=[model["obs"]], sum=False)[0], inputs=model.value_vars
    )
    got = obs_logp(constrained_point(model, params))
    np.testing.assert_allclose(got, reference_log_likelihood(data, params), rtol=0, atol=1e-7)


def test_no_inflation_and_no_binaries_leave_the_quoted_errors():
    """``error_inflation: false`` and ``rv_binaries: false``: no factors, no binary
    component; the likelihood is the reference's with factors 1 and no binaries."""
    catalog, _ = simulate(n_members=20, n_field=30, seed=8)
    options = {**OPTIONS, "error_inflation": False, "rv_binaries": False}
    data = phase_space.prepare_data(catalog, options, "synthetic")
    model = phase_space.build_model(data, options)
    free = {rv.name for rv in model.free_RVs}
    assert not {name for name in free if name.startswith(("error_excess", "rv_binary"))}
    params = {
        **PARAMETER_POINTS[1],
        **{f"error_excess_{name}": np.zeros(1) for name in ("parallax", "pm", "rv")},
        "rv_binary_fraction": 0.0,
    }
    obs_logp = model.compile_fn(
        model.logp(vars=[model["obs"]], sum=False)[0], inputs=model.value_vars
    )
    got = obs_logp(constrained_point(model, params))
    np.testing.assert_allclose(got, reference_log_likelihood(data, params), rtol=0, atol=1e-7)


def test_error_ranges_need_g_and_increasing_edges():
    catalog, _ = simulate(n_members=20, n_field=30, seed=8)
    with pytest.raises(InputDataError, match="phot_g_mean_mag"):
        phase_space.prepare_data(catalog, {**OPTIONS, "error_inflation_g_edges": [16.0]}, "c.fits")
    catalog["phot_g_mean_mag"] = np.full(len(catalog), 15.0)
    with pytest.raises(ConfigError, match="error_inflation_g_edges"):
        phase_space.prepare_data(
            catalog, {**OPTIONS, "error_inflation_g_edges": [17.0, 16.0]}, "c.fits"
        )


# ----------------------------------------------------------------------------- recovery


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties averaged."""
    ranks = stats.rankdata(score)
    n_pos, n_neg = label.sum(), (~label).sum()
    return float((ranks[label].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def sample_fit(catalog: Table, draws: int, seed: int, options: dict | None = None):
    """(data, model, trace) of a fit of ``catalog`` with ``options`` (:data:`OPTIONS`):
    PyMC's NUTS, two chains of ``draws`` after as many tuning steps, from the model's
    starting values."""
    options = OPTIONS if options is None else options
    data = phase_space.prepare_data(catalog, options, "synthetic")
    model = phase_space.build_model(data, options)
    idata = pm.sample(
        draws=draws,
        tune=draws,
        chains=2,
        cores=2,
        random_seed=seed,
        initvals=phase_space.initial_values(data, options),
        var_names=[rv.name for rv in model.free_RVs],
        model=model,
        progressbar=False,
        compute_convergence_checks=False,
    )
    return data, model, idata


@pytest.fixture(scope="module")
def fitted():
    catalog, truth = simulate()
    data, model, idata = sample_fit(catalog, draws=400, seed=11)
    return data, truth, model, idata


def test_recovers_the_cluster_in_6d(fitted):
    """Every cluster quantity, the centre and the Plummer radius within z_family posterior
    sd of the truth. Checked one by one at 95%, some of the ~16 quantities miss in up to
    half of all seeds (the test then hung on the seed and on the rounding of the log
    density, which steers the chains); z_family is two-sided 0.01 / (number checked) per
    quantity (Bonferroni), so a calibrated posterior fails in at most 1% of seeds."""
    data, truth, _, idata = fitted
    quantities = phase_space.summary_quantities(idata.posterior, data, OPTIONS)
    true = phase_space.true_values(truth, data)
    assert set(quantities) == set(true)
    ra, dec = phase_space.centre_draws(idata.posterior, data)
    checked = {name: (draws.values, true[name]) for name, draws in quantities.items()}
    checked["ra_cl"] = (ra.values, truth["ra_cl"])
    checked["dec_cl"] = (dec.values, truth["dec_cl"])
    checked["plummer_radius_arcmin"] = (
        idata.posterior["plummer_radius_arcmin"].values,
        TRUE["plummer_radius_arcmin"],
    )
    z_family = stats.norm.isf(0.01 / len(checked) / 2)
    assert 3.3 < z_family < 3.5
    for name, (draws, value) in checked.items():
        z = (np.mean(draws) - value) / np.std(draws)
        assert abs(z) <= z_family, (name, value, np.mean(draws), np.std(draws))
    import arviz as az

    assert float(az.rhat(idata).to_array().max()) < 1.05


def test_membership_separates_members(fitted):
    data, truth, model, idata = fitted
    p_draws = pm.compute_deterministics(
        idata.posterior, var_names=["p_cluster"], model=model, progressbar=False
    )["p_cluster"]
    membership = p_draws.mean(("chain", "draw")).values
    label = np.isin(data["source_id"], truth["member_source_ids"])
    assert roc_auc(membership, label) >= 0.95


def test_the_starting_rv_is_the_densest_not_the_median():
    """Five members at 0 km/s among seven field stars spread over -60 to -20 km/s: the
    median is a field star's RV, the densest RV is the members' (within the 0.1 km/s grid
    and their 1 km/s spread divided by sqrt(5))."""
    members = np.array([-0.8, -0.3, 0.1, 0.4, 0.9])
    field = np.array([-60.0, -52.0, -45.0, -38.0, -31.0, -25.0, -20.0])
    rv = np.r_[members, field]
    errors = np.full(rv.size, 1.0)
    assert np.median(rv) < -15.0
    assert starts.densest_rv(rv, errors) == pytest.approx(members.mean(), abs=0.5)


def degrade(
    catalog: Table, truth: dict, seed: int, error_factor: float, binary_fraction: float
) -> Table:
    """The catalogue with noise ``error_factor`` times its quoted uncertainties (extra noise
    of covariance (s^2 - 1) C_i for the astrometry, (s^2 - 1) e_rv^2 for the RVs; the quoted
    columns unchanged) and a fraction ``binary_fraction`` of the members with RVs made
    unresolved binaries: orbital RV K sin(2 pi phase), K log-normal (median 7 km/s, width
    0.5), as :mod:`clustermix.data.simulate` draws them."""
    rng = np.random.default_rng(seed)
    out = catalog.copy()
    extra = np.sqrt(error_factor**2 - 1.0)
    errors = np.column_stack([np.asarray(out[name], float) for name in phase_space.ERRORS])
    r01, r02, r12 = (np.asarray(out[name], float) for name in phase_space.CORRELATIONS)
    for i in range(len(out)):
        corr = np.array([[1, r01[i], r02[i]], [r01[i], 1, r12[i]], [r02[i], r12[i], 1]])
        cov = extra**2 * np.outer(errors[i], errors[i]) * corr
        noise = rng.multivariate_normal(np.zeros(3), cov)
        for j, name in enumerate(phase_space.ASTROMETRY):
            out[name][i] += noise[j]
    rv = np.asarray(out["radial_velocity"], float)
    rv_error = np.nan_to_num(np.asarray(out["radial_velocity_error"], float))
    rv = rv + extra * rv_error * rng.standard_normal(rv.size)
    member = np.isin(np.asarray(out["source_id"]), truth["member_source_ids"])
    binary = member & np.isfinite(rv) & (rng.random(rv.size) < binary_fraction)
    amplitude = 7.0 * np.exp(0.5 * rng.standard_normal(rv.size))
    out["radial_velocity"] = np.where(
        binary, rv + amplitude * np.sin(2.0 * np.pi * rng.random(rv.size)), rv
    )
    return out


def test_fitted_error_factors_and_binaries_keep_sigma_v_honest():
    """Uncertainties underestimated by 30% and 40% binaries among the members with RVs
    (17 of 53 here): with the quoted errors and no binary component the most probable
    sigma_v is too hot by more than two posterior sd of the fit below; with the fitted
    factors and the binary component the 95% intervals of sigma_v, the RV and the parallax
    hold the truth, and the factors' intervals hold the true excess 0.3."""
    from clustermix.models.modes import PosteriorOptimiser

    catalog, truth = simulate(seed=31)
    catalog = degrade(catalog, truth, seed=5, error_factor=1.3, binary_fraction=0.4)
    quoted = {**OPTIONS, "error_inflation": False, "rv_binaries": False}
    data = phase_space.prepare_data(catalog, quoted, "synthetic")
    model = phase_space.build_model(data, quoted)
    most_probable, _ = PosteriorOptimiser(model).maximise(phase_space.initial_values(data, quoted))

    data, _, idata = sample_fit(catalog, draws=300, seed=3)
    quantities = phase_space.summary_quantities(idata.posterior, data, OPTIONS)
    true = phase_space.true_values(truth, data)
    for name in ("sigma_v", "rv", "parallax"):
        low, high = np.percentile(quantities[name].values, [2.5, 97.5])
        assert low <= true[name] <= high, (name, true[name], low, high)
    for name in ("parallax", "pm", "rv"):
        low, high = np.percentile(idata.posterior[f"error_excess_{name}"].values, [2.5, 97.5])
        assert low <= 0.3 <= high, (name, low, high)
    sd = float(quantities["sigma_v"].std())
    assert float(most_probable["sigma_v"]) > true["sigma_v"] + 2.0 * sd


def test_galactocentric_quantities_of_the_sun():
    # The solar system barycentre at rest in ICRS has, in astropy's "v4.0" Galactocentric
    # frame, x = -sqrt(8122^2 - 20.8^2) pc, y = 0, z = 20.8 pc, and the Sun's velocity
    # (12.9, 245.6, 7.78) km/s: the published frame parameters, not the code's output.
    zeros = xr.DataArray(np.zeros((1, 3)), dims=("chain", "draw"))
    out = phase_space.galactocentric_quantities(
        {key: zeros for key in ("x", "y", "z", "v_x", "v_y", "v_z")}
    )
    np.testing.assert_allclose(out["x"], -np.sqrt(8122.0**2 - 20.8**2), rtol=1e-9)
    np.testing.assert_allclose(out["y"], 0.0, atol=1e-6)
    np.testing.assert_allclose(out["z"], 20.8, rtol=1e-9)
    np.testing.assert_allclose(out["v_x"], 12.9, atol=1e-9)
    np.testing.assert_allclose(out["v_y"], 245.6, atol=1e-9)
    np.testing.assert_allclose(out["v_z"], 7.78, atol=1e-9)
    assert out["x"].dims == ("chain", "draw")
    assert out["x"].attrs["frame"]["galcen_distance_pc"] == 8122.0


def test_the_proper_motion_floor_reaches_the_galactocentric_velocity_draws():
    """A posterior with no statistical spread at all: the Galactocentric velocity draws
    spread only by the systematic floors. The proper-motion floor sigma (mas/yr, each
    component) moves the velocity by K d sigma (km/s) along east and along north, so the
    trace of the velocity covariance is 2 (K d sigma)^2 in any rotated frame; with 4000
    draws the sample variance is good to sqrt(2 / 4000) ~ 2%, and 8% is the tolerance. With
    no floors the draws do not spread; the parallax floor moves the position, not only the
    velocity."""
    from clustermix.galactocentric import galactocentric_draws

    shape = (4, 1000)
    constant = {
        "xi_cl": 0.0,
        "eta_cl": 0.0,
        "parallax_cl": TRUE["parallax"],
        "pmra_cl": TRUE["pmra"],
        "pmdec_cl": TRUE["pmdec"],
        "rv_cl": TRUE["rv"],
        "sigma_v": 1.0,
        "f_cluster": 0.1,
    }
    posterior = xr.Dataset(
        {name: (("chain", "draw"), np.full(shape, value)) for name, value in constant.items()}
    )
    data = {"cone_ra_deg": np.asarray(CONE[0]), "cone_dec_deg": np.asarray(CONE[1])}
    velocity = ("v_x", "v_y", "v_z")

    def velocity_variance(options):
        draws = galactocentric_draws(posterior, data, options)
        return float(np.trace(np.cov([draws[key].values.ravel() for key in velocity])))

    floor = 0.02
    no_floors = {"parallax_systematic_mas": 0.0, "pm_systematic_masyr": 0.0}
    assert velocity_variance(no_floors) < 1e-16
    d_kpc = 1.0 / TRUE["parallax"]
    expected = 2.0 * (4.740470463533348 * d_kpc * floor) ** 2
    got = velocity_variance({**no_floors, "pm_systematic_masyr": floor})
    assert got == pytest.approx(expected, rel=0.08)
    # the defaults carry both floors: the velocity spreads at least as much
    assert phase_space.DEFAULT_OPTIONS["pm_systematic_masyr"] == floor
    assert velocity_variance({}) >= 0.9 * expected


def test_galactocentric_quantities_match_the_simulator_truth():
    from clustermix.data.simulate import simulate_field

    _, truth = simulate_field(
        CONE[0],
        CONE[1],
        CONE[2],
        seed=1,
        n_members=30,
        n_field=30,
        parallax_mas=0.36,
        pmra_masyr=-2.91,
        pmdec_masyr=-3.86,
        rv_kms=2.45,
        sigma_v_kms=1.0,
        plummer_radius_arcmin=4.5,
        g_max_mag=20.5,
    )
    draws = {key: np.array([[truth[key]]]) for key in ("x", "y", "z", "v_x", "v_y", "v_z")}
    out = phase_space.galactocentric_quantities(draws)
    expected = phase_space.true_galactocentric(truth)
    for key, value in expected.items():
        assert float(out[key].squeeze()) == pytest.approx(value, rel=1e-9, abs=1e-9)


def test_summary_quantities_are_consistent():
    rng = np.random.default_rng(9)
    shape = (2, 500)
    names = {
        "xi_cl": rng.normal(0.3, 0.1, shape),
        "eta_cl": rng.normal(-0.2, 0.1, shape),
        "parallax_cl": rng.normal(0.36, 0.002, shape),
        "pmra_cl": rng.normal(-2.91, 0.01, shape),
        "pmdec_cl": rng.normal(-3.86, 0.01, shape),
        "rv_cl": rng.normal(2.45, 0.3, shape),
        "sigma_v": rng.uniform(0.9, 1.1, shape),
        "f_cluster": rng.uniform(0.1, 0.2, shape),
    }
    posterior = xr.Dataset({key: (("chain", "draw"), value) for key, value in names.items()})
    data = {
        key: np.asarray(value) for key, value in zip(phase_space.GEOMETRY_KEYS, CONE, strict=True)
    }
    out = phase_space.summary_quantities(posterior, data, {"parallax_systematic_mas": 0.0})
    ra, dec = tangent_plane_to_sky(names["xi_cl"], names["eta_cl"], CONE[0], CONE[1])
    # back from Cartesian to the observables at the centre, by astropy
    position = np.stack([out[axis].values.ravel() for axis in "xyz"])
    velocity = np.stack([out[f"v_{axis}"].values.ravel() for axis in "xyz"])
    centre = SkyCoord(
        ICRS(
            CartesianRepresentation(position * u.pc).with_differentials(
                CartesianDifferential(velocity * u.km / u.s)
            )
        )
    )
    ra, dec = ra.ravel(), dec.ravel()
    np.testing.assert_allclose(centre.ra.deg, ra, atol=1e-9)
    np.testing.assert_allclose(centre.dec.deg, dec, atol=1e-9)
    for got, name in (
        (centre.distance.to_value(u.pc), "distance"),
        (centre.pm_ra_cosdec.to_value(u.mas / u.yr), "pmra"),
        (centre.pm_dec.to_value(u.mas / u.yr), "pmdec"),
        (centre.radial_velocity.to_value(u.km / u.s), "rv"),
    ):
        np.testing.assert_allclose(got, out[name].values.ravel(), rtol=1e-10, atol=1e-9)
    with_floor = phase_space.summary_quantities(posterior, data, {})
    expected_sd = np.hypot(0.002, phase_space.DEFAULT_OPTIONS["parallax_systematic_mas"])
    # relative standard error of an sd from 1000 Gaussian draws: 1/sqrt(2000) = 2.2%
    assert float(with_floor["parallax"].std()) == pytest.approx(expected_sd, rel=0.1)


# -------------------------------------------------------------------------- bad inputs


def test_cone_centre_is_solved_from_the_separation_column():
    catalog, _ = simulate(n_members=40, n_field=60)
    sky = SkyCoord(ra=catalog["ra"] * u.deg, dec=catalog["dec"] * u.deg)
    catalog["separation_arcmin"] = sky.separation(
        SkyCoord(ra=CONE[0] * u.deg, dec=CONE[1] * u.deg)
    ).arcmin
    ra, dec, radius = phase_space.cone_geometry(catalog, {}, "cat.fits")
    assert ra == pytest.approx(CONE[0], abs=1e-8)
    assert dec == pytest.approx(CONE[1], abs=1e-8)
    assert radius == pytest.approx(float(np.max(catalog["separation_arcmin"])), rel=1e-9)


def test_empty_catalogue_is_an_error():
    catalog, _ = simulate(n_members=40, n_field=60)
    with pytest.raises(InputDataError, match=r"cat\.fits: empty selection"):
        phase_space.prepare_data(catalog[:0], OPTIONS, "cat.fits")


def test_no_star_inside_the_cone_is_an_error():
    catalog, _ = simulate(n_members=40, n_field=60)
    options = {**OPTIONS, "cone_ra_deg": CONE[0] + 10.0}
    with pytest.raises(InputDataError, match=r"no star lies inside the cone.*'ra', 'dec'"):
        phase_space.prepare_data(catalog, options, "cat.fits")


def test_all_nan_parallax_names_the_column():
    catalog, _ = simulate(n_members=40, n_field=60)
    catalog["parallax"] = np.nan
    with pytest.raises(InputDataError, match=r"cat\.fits: column 'parallax' .* 100 of the 100"):
        phase_space.prepare_data(catalog, OPTIONS, "cat.fits")


def test_too_few_stars_is_an_error():
    catalog, _ = simulate(n_members=10, n_field=10)
    with pytest.raises(InputDataError, match=r"only 20 selected rows"):
        phase_space.prepare_data(catalog, OPTIONS, "cat.fits")


def test_impossible_correlations_are_an_error():
    catalog, _ = simulate(n_members=40, n_field=60)
    catalog["parallax_pmra_corr"][0] = 0.9
    catalog["parallax_pmdec_corr"][0] = 0.9
    catalog["pmra_pmdec_corr"][0] = -0.9
    with pytest.raises(InputDataError, match="positive-definite"):
        phase_space.prepare_data(catalog, OPTIONS, "cat.fits")


def test_only_the_whole_cone_can_be_fitted():
    catalog, _ = simulate(n_members=40, n_field=60)
    with pytest.raises(ConfigError, match=r"models\.phase_space\.stars"):
        phase_space.prepare_data(catalog, {**OPTIONS, "stars": "cluster_region"}, "cat.fits")


def test_prior_predictive_draws_astrometry():
    catalog, _ = simulate(n_members=20, n_field=40)
    data = phase_space.prepare_data(catalog, OPTIONS, "synthetic")
    model = phase_space.build_model(data, OPTIONS)
    draws = pm.sample_prior_predictive(draws=3, model=model, random_seed=1).prior_predictive
    assert draws["obs"].shape == (1, 3, 60, 3)
    assert np.isfinite(draws["obs"].values).all()


def test_log_likelihood_is_per_star():
    catalog, _ = simulate(n_members=20, n_field=40)
    data = phase_space.prepare_data(catalog, OPTIONS, "synthetic")
    model = phase_space.build_model(data, OPTIONS)
    point = phase_space.initial_values(data, OPTIONS)
    posterior = xr.Dataset(
        {
            name: (("chain", "draw", *model.named_vars_to_dims.get(name, ())), value[None, None])
            for name, value in ((rv.name, np.asarray(point[rv.name])) for rv in model.free_RVs)
        },
        coords={"chain": [0], "draw": [0], **{k: np.asarray(v) for k, v in model.coords.items()}},
    )
    import arviz as az

    idata = az.InferenceData(posterior=posterior)
    log_lik = pm.compute_log_likelihood(
        idata, model=model, extend_inferencedata=False, progressbar=False
    )
    assert log_lik["obs"].shape == (1, 1, 60)
    assert np.isfinite(log_lik["obs"].values).all()


def test_missing_radial_velocities_are_marginalised():
    catalog, _ = simulate(n_members=40, n_field=60)
    catalog.remove_columns(["radial_velocity", "radial_velocity_error"])
    data = phase_space.prepare_data(catalog, OPTIONS, "cat.fits")
    assert not data["has_rv"].any()
    model = phase_space.build_model(data, OPTIONS)
    assert "rv_field_mean" not in model.named_vars
    assert np.isfinite(model.compile_logp()(model.initial_point()))


# ------------------------------------------------------- the field learned on the control field


def test_control_field_model_uses_each_bins_deconvolved_field():
    """With ``field_model: control_field`` each star's field astrometry is the
    error-deconvolved mixture of the control field's stars in its G bin, held fixed; the
    field's log-likelihood term (sky x RV x mixture) matches SciPy star by star, and only
    the cluster and the field's RVs are free."""
    from clustermix.models.field_choice import control_field_mixture

    from .test_mixture import binned_field_log_density

    catalog, _ = simulate(seed=21, n_members=150, n_field=900)
    rng = np.random.default_rng(21)
    catalog["phot_g_mean_mag"] = rng.uniform(12.0, 20.0, len(catalog))
    separation = SkyCoord(catalog["ra"], catalog["dec"], unit="deg").separation(
        SkyCoord(CONE[0], CONE[1], unit="deg")
    )
    catalog["in_control_field"] = separation.arcmin > 12.0
    options = {**OPTIONS, "field_model": "control_field", "field_magnitude_bins": 2}
    data = phase_space.prepare_data(catalog, options, "synthetic")
    model = phase_space.build_model(data, options)
    free = {rv.name for rv in model.free_RVs}
    assert "w_field" not in free and "parallax_field" not in free
    assert {"parallax_cl", "f_cluster", "rv_field_mean"} <= free

    control = np.asarray(catalog["in_control_field"])
    stars = {name: np.asarray(catalog[name])[control] for name in phase_space.COLUMNS}
    g_mag = np.asarray(catalog["phot_g_mean_mag"])
    mixture = control_field_mixture(*phase_space.field_observables(stars), g_mag[control], 2, 2)
    assert mixture["g_edges"].size == 1

    params = {**PARAMETER_POINTS[0], "f_cluster": 0.2, "rv_field_mean": -15.0, "rv_field_sd": 30.0}
    point = constrained_point(model, params)
    obs = model.compile_fn(model.logp(vars=[model["obs"]], sum=False)[0], inputs=model.value_vars)
    p_cluster = model.compile_fn(
        model.replace_rvs_by_values([model["p_cluster"]])[0],
        inputs=model.value_vars,
        on_unused_input="ignore",
    )
    log_field = obs(point) + np.log1p(-p_cluster(point))  # log((1 - f) L_field) per star

    values, covariances = phase_space.field_observables(data)
    in_cone = np.isin(np.asarray(catalog["source_id"]), data["source_id"])
    bins = np.searchsorted(mixture["g_edges"], g_mag[in_cone])
    expected = binned_field_log_density(values, covariances, mixture, bins)
    expected += np.log1p(-params["f_cluster"]) + phase_space.field_sky_log_density(
        data["xi"], data["eta"], CONE[2]
    )
    has_rv = data["has_rv"]
    # the field keeps the quoted astrometric errors (its widths were learned with them);
    # its RVs, a free Gaussian, take the inflated RV errors
    scale_rv = 1.0 + params["error_excess_rv"][0]
    expected[has_rv] += stats.norm.logpdf(
        data["radial_velocity"][has_rv],
        params["rv_field_mean"],
        np.hypot(scale_rv * data["radial_velocity_error"][has_rv], params["rv_field_sd"]),
    )
    np.testing.assert_allclose(log_field, expected, rtol=0, atol=1e-6)


def test_galactocentric_draws_are_saved_once_and_read_back(tmp_path) -> None:
    """The draws the figure and the numbers share (rule galactocentric_draws) survive the
    file unchanged, with their units and the truth; a file without them is refused."""
    from clustermix.galactocentric import (
        QUANTITIES,
        UNITS,
        read_galactocentric,
        save_galactocentric,
    )

    rng = np.random.default_rng(3)
    frame = {"astropy_parameter_set": "v4.0", "galcen_v_sun_kms": [12.9, 245.6, 7.78]}
    draws = {
        name: xr.DataArray(rng.normal(size=(2, 30)), dims=("chain", "draw"), attrs={"frame": frame})
        for name in QUANTITIES
    }
    truth = {name: float(index) for index, name in enumerate(QUANTITIES)}
    path = tmp_path / "galactocentric.nc"
    save_galactocentric(draws, truth, path)
    read, read_truth = read_galactocentric(path)
    assert read_truth == truth
    for name in QUANTITIES:
        np.testing.assert_array_equal(read[name].values, draws[name].values)
        assert read[name].attrs["unit"] == UNITS[name]
    save_galactocentric(draws, None, path)
    assert read_galactocentric(path)[1] is None
    xr.Dataset({"x": draws["x"].drop_attrs()}).to_netcdf(tmp_path / "other.nc")
    with pytest.raises(InputDataError, match=r"other\.nc"):
        read_galactocentric(tmp_path / "other.nc")

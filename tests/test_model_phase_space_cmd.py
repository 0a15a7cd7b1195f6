"""The phase-space model's colour-magnitude term (``cmd_term``): the field's conditional
colour density, the cluster's ridge term against SciPy, stars without a colour, and the
faint stars' memberships on a simulated field."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from scipy import integrate, stats

from clustermix.data.stars import colour_error
from clustermix.errors import InputDataError
from clustermix.models.phase_space import cmd
from clustermix.models.phase_space import model as phase_space

from .test_model_phase_space import (
    CONE,
    OPTIONS,
    PARAMETER_POINTS,
    constrained_point,
    reference_log_likelihood,
    simulate,
)

CMD_OPTIONS = {**OPTIONS, "cmd_term": True}
CMD_POINT = {
    "cmd_width": 0.04,
    "cmd_binary_fraction": 0.3,
    "cmd_outlier_fraction": 0.07,
}


def with_colours(catalog, seed: int = 3):
    """The catalogue with G uniform in 12-20.5 mag, BP - RP for members on a ridge
    0.8 + 0.1 (G - 16) (+ the colour error) and for field stars N(1.1, 0.35^2), no colour
    for one star in ten, and the control field beyond 12 arcmin."""
    rng = np.random.default_rng(seed)
    n = len(catalog)
    g_mag = rng.uniform(12.0, 20.5, n)
    member = np.arange(n) < n // 3  # simulate() puts the members first
    colour = np.where(member, 0.8 + 0.1 * (g_mag - 16.0), rng.normal(1.1, 0.35, n))
    colour = colour + colour_error(g_mag) * rng.standard_normal(n)
    colour[rng.random(n) < 0.1] = np.nan
    catalog["phot_g_mean_mag"] = g_mag
    catalog["bp_rp"] = colour
    separation = SkyCoord(catalog["ra"], catalog["dec"], unit="deg").separation(
        SkyCoord(CONE[0], CONE[1], unit="deg")
    )
    catalog["in_control_field"] = separation.arcmin > 12.0
    return catalog


@pytest.fixture(scope="module")
def coloured():
    catalog = with_colours(simulate(n_members=40, n_field=80, seed=8)[0])
    data = phase_space.prepare_data(catalog, CMD_OPTIONS, "synthetic")
    return catalog, data, phase_space.build_model(data, CMD_OPTIONS)


# ------------------------------------------------------------------------------- NumPy


def test_field_colour_density_integrates_to_one_at_every_magnitude():
    """p(c | G, field) is a density in c at fixed G: its integral over c is 1 (to the
    quadrature's 1e-6) for a bright, a middle and a faint G, the faint one broadened by its
    larger colour error."""
    rng = np.random.default_rng(1)
    control_g = rng.uniform(12.0, 20.5, 2000)
    control_c = rng.normal(0.7 + 0.05 * (control_g - 12.0), 0.3)
    control_error = colour_error(control_g)
    for g in (12.5, 16.0, 20.4):
        colours = np.linspace(-3.0, 5.0, 4001)
        log_density = cmd.field_colour_log_density(
            np.full(colours.size, g),
            colours,
            np.full(colours.size, colour_error(g)),
            control_g,
            control_c,
            control_error,
        )
        assert integrate.trapezoid(np.exp(log_density), colours) == pytest.approx(1.0, abs=1e-6)


def test_field_colour_density_matches_the_kernel_sum_and_leaves_one_out():
    rng = np.random.default_rng(2)
    control_g, control_c = rng.uniform(14.0, 20.0, 50), rng.normal(1.0, 0.3, 50)
    control_error = colour_error(control_g)
    g, c, error = np.array([15.0, 19.5]), np.array([0.9, 1.4]), colour_error(np.array([15, 19.5]))
    h_g, h_c = 0.4, 0.08
    got = cmd.field_colour_log_density(
        g,
        c,
        error,
        control_g,
        control_c,
        control_error,
        g_bandwidth_mag=h_g,
        colour_bandwidth_mag=h_c,
        exclude=np.array([3, -1]),
    )
    for i in range(2):
        keep = np.arange(50) != (3 if i == 0 else -1)
        weight = stats.norm.pdf(g[i], control_g[keep], h_g)
        sd = np.sqrt(h_c**2 + np.maximum(error[i] ** 2 - control_error[keep] ** 2, 0.0))
        expected = np.log((weight * stats.norm.pdf(c[i], control_c[keep], sd)).sum() / weight.sum())
        assert got[i] == pytest.approx(expected, rel=1e-12)


def test_ridge_colour_interpolates_its_nodes_and_is_linear_in_them():
    """Nodes span the stars' G, at most the spacing apart where evenly spread stars put them
    (halfway between even spacing and equal counts), closer where stars crowd; the ridge
    passes through its node colours, is linear in them, and is constant beyond the nodes."""
    g_stars = np.random.default_rng(5).uniform(12.3, 20.5, 5000)
    g_stars[:2] = 12.3, 20.5
    nodes = cmd.node_magnitudes(g_stars, 1.0)
    assert nodes[0] == 12.3 and nodes[-1] == 20.5 and nodes.size == 10
    assert np.diff(nodes).max() <= 1.0
    crowded = cmd.node_magnitudes(np.r_[12.3, np.full(99, 20.0), 20.5], 1.0)
    assert np.median(crowded) > np.median(np.linspace(12.3, 20.5, crowded.size))
    colours = np.random.default_rng(3).normal(1.0, 0.3, (2, nodes.size))
    np.testing.assert_allclose(cmd.ridge_colour(nodes, colours, nodes), colours, atol=1e-12)
    g = np.linspace(11.0, 21.0, 57)
    np.testing.assert_allclose(
        cmd.ridge_colour(g, colours, nodes), colours @ cmd.ridge_basis(g, nodes).T, atol=1e-12
    )
    np.testing.assert_allclose(cmd.ridge_colour(21.0, colours, nodes), colours[:, -1])


def test_cluster_colour_density_is_a_density_in_colour():
    """(1 - f_o)[(1 - f_b) N(ridge) + f_b N(binary ridge)] + f_o p_field integrates to 1
    over c when p_field does."""
    colours = np.linspace(-2.0, 4.0, 6001)
    field = stats.norm.logpdf(colours, 1.0, 0.4)
    log_density = cmd.cluster_colour_log_density(colours, 0.9, 1.2, 0.05**2, 0.3, 0.1, field)
    assert integrate.trapezoid(np.exp(log_density), colours) == pytest.approx(1.0, abs=1e-6)


def test_the_binary_band_is_a_convolved_uniform_density():
    """``cmd_binaries: band``: colours uniform between the single and equal-mass sequences,
    convolved with the colour's spread: SciPy's quadrature of N(c | x, s^2) over the band
    agrees to 1e-8 (relative) in the band and in its tails (20 sd away), whichever
    sequence is the redder, and a band of zero width is the normal density."""
    for low, high, sd in ((1.0, 1.4, 0.03), (1.4, 1.0, 0.1)):
        for colour in (0.9, 1.2, 1.6, min(low, high) - 20 * sd, max(low, high) + 20 * sd):
            expected, _ = integrate.quad(
                lambda x, c=colour, s=sd: stats.norm.pdf(c, x, s),
                min(low, high),
                max(low, high),
                epsabs=0,
                epsrel=1e-12,
                points=[colour],
            )
            got = cmd.log_band_density(np.array(colour), low, high, sd**2)
            assert got == pytest.approx(np.log(expected / abs(high - low)), rel=1e-8)
    narrow = cmd.log_band_density(np.array(1.1), 1.0, 1.0, 0.05**2)
    assert narrow == pytest.approx(stats.norm.logpdf(1.1, 1.0, 0.05), rel=1e-12)


# ------------------------------------------------------------------------------- model


def reference_colour_terms(data, params, band: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """ln p(c | G, cluster) and ln p(c | G, field) per star with SciPy, 0 without a colour;
    the ridge is SciPy's natural cubic spline through the node colours, constant beyond the
    first and last node; ``band``: the binaries' colours uniform between the sequences
    (SciPy's quadrature)."""
    from scipy.interpolate import CubicSpline

    nodes = data["cmd_node_mags"]
    natural = CubicSpline(nodes, params["cmd_ridge_colour"], bc_type="natural")

    def spline(g_mag):
        return natural(np.clip(g_mag, nodes[0], nodes[-1]))

    g, c = data["g_mag"], data["bp_rp"]
    sd = np.hypot(params["cmd_width"], colour_error(g))
    f_b, f_o = params["cmd_binary_fraction"], params["cmd_outlier_fraction"]
    field = np.exp(data["cmd_field_log_density"])
    single, equal_mass = spline(g), spline(g + 2.5 * np.log10(2.0))
    binary = stats.norm.pdf(c, equal_mass, sd)
    if band:
        # a band of no width (the faintest star: both ends at the last node) is a normal
        binary = np.array(
            [
                integrate.quad(lambda x, i=i: stats.norm.pdf(c[i], x, sd[i]), *sorted(ends))[0]
                / abs(ends[1] - ends[0])
                if abs(ends[1] - ends[0]) > 1e-6
                else stats.norm.pdf(c[i], ends[0], sd[i])
                for i, ends in enumerate(zip(single, equal_mass, strict=True))
            ]
        )
    ridge = (1 - f_b) * stats.norm.pdf(c, single, sd) + f_b * binary
    log_cluster = np.log((1 - f_o) * ridge + f_o * field)
    has = data["has_colour"]
    return np.where(has, log_cluster, 0.0), np.where(has, np.log(field), 0.0)


@pytest.mark.parametrize("point", [*range(len(PARAMETER_POINTS)), "band"])
def test_obs_logp_with_the_colour_term_matches_scipy(coloured, point):
    """The per-star log-likelihood with ``cmd_term`` is the astrometric reference's mixture
    with each population's colour term added before the sum (1e-7 as in
    test_model_phase_space: only the Plummer mass is a quadrature); ``band``: with
    ``cmd_binaries: band`` (the first parameter point)."""
    catalog, data, model = coloured
    band = point == "band"
    if band:
        point = 0
        options = {**CMD_OPTIONS, "cmd_binaries": "band"}
        data = phase_space.prepare_data(catalog, options, "synthetic")
        model = phase_space.build_model(data, options)
    nodes = data["cmd_node_mags"]
    params = {
        **PARAMETER_POINTS[point],
        **CMD_POINT,
        "cmd_ridge_colour": 0.8 + 0.1 * (nodes - 16.0) + 0.05 * np.sin(nodes),
    }
    got = model.compile_fn(model.logp(vars=[model["obs"]], sum=False)[0], inputs=model.value_vars)(
        constrained_point(model, params)
    )
    log_cluster, log_field = reference_colour_terms(data, params, band=band)
    f = params["f_cluster"]
    # the reference mixture, with its weights shifted by each population's colour term
    shifted = {**params, "f_cluster": 0.5}
    astrometric = reference_log_likelihood(data, shifted)
    # log L = log(f L_c e^a + (1 - f) L_f e^b); the reference gives log(0.5 L_c + 0.5 L_f)
    # and its membership gives L_c / (L_c + L_f), so both terms follow from it
    p_c = reference_membership(data, shifted)
    log_lc = astrometric + np.log(2.0 * p_c)
    log_lf = astrometric + np.log(2.0 * (1.0 - p_c))
    expected = np.logaddexp(np.log(f) + log_lc + log_cluster, np.log1p(-f) + log_lf + log_field)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)


def reference_membership(data, params) -> np.ndarray:
    """L_c / (L_c + L_f) of the astrometric reference at f = 0.5, from two evaluations:
    at f -> 1 - eps the log-likelihood is ln(L_c) + ln(1 - eps) to 1e-12."""
    eps = 1e-13
    log_lc = reference_log_likelihood(data, {**params, "f_cluster": 1.0 - eps})
    log_lf = reference_log_likelihood(data, {**params, "f_cluster": eps})
    return 1.0 / (1.0 + np.exp(log_lf - log_lc))


def test_stars_without_colour_keep_their_astrometric_membership(coloured):
    """A star without BP - RP adds nothing to the difference of the member and field terms:
    its p_cluster with the colour term equals that without it (same astrometric
    parameters), while stars with a colour move."""
    catalog, data, model = coloured
    plain_data = phase_space.prepare_data(catalog, OPTIONS, "synthetic")
    plain = phase_space.build_model(plain_data, OPTIONS)
    nodes = data["cmd_node_mags"]
    params = {**PARAMETER_POINTS[0], **CMD_POINT, "cmd_ridge_colour": 0.8 + 0.1 * (nodes - 16.0)}

    def membership(m):
        return m.compile_fn(
            m.replace_rvs_by_values([m["p_cluster"]])[0],
            inputs=m.value_vars,
            on_unused_input="ignore",
        )(constrained_point(m, params))

    with_term, without = membership(model), membership(plain)
    has = data["has_colour"]
    assert (~has).sum() >= 5 and has.sum() >= 50
    np.testing.assert_allclose(with_term[~has], without[~has], rtol=1e-12, atol=1e-15)
    assert np.abs(with_term[has] - without[has]).max() > 0.1


def test_the_turnoff_is_the_bluest_point_of_the_likely_members_sequence():
    """Members with a main sequence 0.7 + 0.15 (G - 16) mag below a turnoff at G = 16 and
    subgiants and giants redder above it, among field stars of other proper motions: the
    estimate lies within the spread of G of its running-median window (5% of the likely
    members) of 16; the term then covers the stars at or below it only."""
    catalog = simulate(n_members=300, n_field=300, seed=12)[0]
    rng = np.random.default_rng(12)
    member = np.arange(len(catalog)) < 300
    g_mag = np.where(member, rng.uniform(13.0, 20.5, len(catalog)), rng.uniform(12, 20.5, 600))
    sequence = np.where(g_mag > 16.0, 0.7 + 0.15 * (g_mag - 16.0), 0.7 + 0.3 * (16.0 - g_mag))
    catalog["phot_g_mean_mag"] = g_mag
    catalog["bp_rp"] = np.where(member, sequence, rng.normal(1.0, 0.3, 600))
    catalog["bp_rp"] += 0.02 * rng.standard_normal(len(catalog))
    separation = SkyCoord(catalog["ra"], catalog["dec"], unit="deg").separation(
        SkyCoord(CONE[0], CONE[1], unit="deg")
    )
    catalog["separation_arcmin"] = separation.arcmin
    catalog["in_control_field"] = separation.arcmin > 12.0
    data = phase_space.prepare_data(catalog, CMD_OPTIONS, "synthetic")
    # 5% of ~100 likely members in G 13-20.5 mag: a window of ~0.4 mag
    assert float(data["cmd_g_min_mag"]) == pytest.approx(16.0, abs=0.4)
    np.testing.assert_array_equal(
        data["has_colour"], np.isfinite(data["bp_rp"]) & (data["g_mag"] >= data["cmd_g_min_mag"])
    )
    fixed = phase_space.prepare_data(catalog, {**CMD_OPTIONS, "cmd_g_min_mag": 14.0}, "s")
    assert (
        float(fixed["cmd_g_min_mag"]) == 14.0
        and fixed["has_colour"].sum() > data["has_colour"].sum()
    )


def test_the_colour_term_needs_the_control_field_and_colours(coloured):
    catalog = coloured[0].copy()
    catalog.remove_column("in_control_field")
    with pytest.raises(InputDataError, match="in_control_field"):
        phase_space.prepare_data(catalog, CMD_OPTIONS, "c.fits")
    catalog = coloured[0].copy()
    catalog["bp_rp"] = np.nan
    with pytest.raises(InputDataError, match="bp_rp"):
        phase_space.prepare_data(catalog, CMD_OPTIONS, "c.fits")


def test_the_ridge_starts_at_the_likely_members_running_median(coloured):
    """The starting node colours follow the members' ridge 0.8 + 0.1 (G - 16) within the
    running median's scatter where members are (G 12-20.5), and the start has a finite
    log density."""
    _, data, model = coloured
    start = phase_space.initial_values(data, CMD_OPTIONS)
    nodes = data["cmd_node_mags"]
    inside = nodes <= 20.5
    offset = start["cmd_ridge_colour"][inside] - (0.8 + 0.1 * (nodes[inside] - 16.0))
    assert np.median(np.abs(offset)) < 0.15
    point = constrained_point(model, {**start})
    assert np.isfinite(model.compile_logp()(point))


# ------------------------------------------------------------------------------ figure


def test_the_cmd_figure_draws_the_fitted_ridge_and_binary_sequence():
    """The figure's ridge lines are the posterior median of :func:`cmd.ridge_colour` over
    the draws (here draws scattered symmetrically about one ridge, so the median is that
    ridge), the binary line that ridge 0.753 mag brighter (at G it has the ridge's colour at
    G + 0.753 mag); a posterior without the term draws none."""
    import matplotlib.pyplot as plt
    import xarray as xr

    from clustermix.plotting.cmd import cmd_membership_figure, ridge_lines

    nodes = np.linspace(12.0, 20.5, 10)
    centre = 0.8 + 0.1 * (nodes - 16.0)
    offsets = np.array([-0.02, 0.0, 0.02])  # one chain, three draws
    posterior = xr.Dataset(
        {"cmd_ridge_colour": (("chain", "draw", "cmd_node"), (centre + offsets[:, None])[None])},
        coords={"chain": [0], "draw": [0, 1, 2], "cmd_node": nodes},
    )
    ridge = ridge_lines(posterior)
    np.testing.assert_allclose(ridge.single_bp_rp, cmd.ridge_colour(ridge.g_mag, centre, nodes))
    binary = cmd.ridge_colour(ridge.binary_g_mag + cmd.BINARY_OFFSET_MAG, centre, nodes)
    np.testing.assert_allclose(ridge.binary_bp_rp, binary, atol=1e-12)
    assert ridge.g_mag[0] == nodes[0] and ridge.g_mag[-1] == pytest.approx(20.5)
    assert ridge_lines(posterior.drop_vars("cmd_ridge_colour")) is None

    rng = np.random.default_rng(4)
    g_mag = rng.uniform(12.0, 20.5, 300)
    fig = cmd_membership_figure(
        g_mag, rng.normal(1.0, 0.3, 300), rng.random(300), model_label="phase space", ridge=ridge
    )
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels == ["fitted sequence", "equal-mass binaries"]
    plt.close(fig)


# ------------------------------------------------------------------------- memberships


def delong_difference(score_a, score_b, label) -> tuple[float, float]:
    """AUC(a) - AUC(b) on the same stars and its standard error by DeLong et al. (1988):
    the covariance of the two AUCs from each star's placement values."""

    def placements(score):
        positive, negative = score[label], score[~label]
        greater = (positive[:, None] > negative).astype(float)
        kernel = greater + 0.5 * (positive[:, None] == negative)
        return kernel.mean(axis=1), kernel.mean(axis=0), kernel.mean()

    v10_a, v01_a, auc_a = placements(np.asarray(score_a))
    v10_b, v01_b, auc_b = placements(np.asarray(score_b))
    variance = np.var(v10_a - v10_b, ddof=1) / v10_a.size + np.var(v01_a - v01_b, ddof=1) / (
        v01_a.size
    )
    return float(auc_a - auc_b), float(np.sqrt(variance))


def mode_memberships(catalog, options) -> tuple[np.ndarray, np.ndarray]:
    """(source_id, p_cluster) at the posterior mode found from the model's own start (the
    mode search's optimiser; the fit's memberships average p_cluster over draws about it)."""
    from clustermix.models.modes import PosteriorOptimiser

    data = phase_space.prepare_data(catalog, options, "simulated")
    model = phase_space.build_model(data, options)
    values, _ = PosteriorOptimiser(model).maximise(phase_space.initial_values(data, options))
    p_cluster = model.compile_fn(
        inputs=model.free_RVs, outs=model["p_cluster"], on_unused_input="ignore", point_fn=False
    )
    return data["source_id"], np.asarray(p_cluster(*(values[rv.name] for rv in model.free_RVs)))


def test_the_colour_term_improves_faint_memberships_on_a_simulated_field():
    """On a small simulated NGC 6819 field (the default's cluster and field at 1/20 of its
    size, to G = 20.5 mag), the memberships of stars fainter than G = 18 separate members
    from field stars better with the colour-magnitude term than without: the AUC rises by
    more than twice its paired (DeLong) standard error. The memberships are those of the
    posterior mode (a fit averages them over draws about it)."""
    import yaml

    from clustermix.data.prepared import prepared_field

    from .conftest import REPO

    cluster = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["clusters"][0]
    simulation = {key: cluster[key] for key in ("ra_deg", "dec_deg", "radius_arcmin")}
    simulation.update(cluster["simulation"], seed=7, n_members=100, n_field=825)
    catalog, truth = prepared_field(simulation, g_max_mag=simulation["g_max_mag"])
    options = {"n_field_components": 2, "cluster_min_members": 20}
    source_id, p_plain = mode_memberships(catalog, options)
    _, p_cmd = mode_memberships(catalog, {**options, "cmd_term": True})
    catalog_ids = np.asarray(catalog["source_id"])
    order = np.argsort(catalog_ids)
    rows = order[np.searchsorted(catalog_ids[order], source_id)]
    assert np.array_equal(catalog_ids[rows], source_id)
    faint = np.asarray(catalog["phot_g_mean_mag"], float)[rows] > 18.0
    member = np.isin(source_id, truth["member_source_ids"])[faint]
    gain, error = delong_difference(p_cmd[faint], p_plain[faint], member)
    assert gain > 2.0 * error, (gain, error)


def test_the_paper_set_up_table_says_which_error_model_options_were_on():
    from clustermix.fit.diagnostics import fit_setup
    from clustermix.paper.macros import error_model_text

    options = {"error_inflation": True, "rv_binaries": True}
    assert error_model_text(fit_setup({"options": options})) == "fitted + binaries"
    on = fit_setup({"options": {**options, "cmd_term": True}})
    assert on["cmd_term"] is True
    assert error_model_text(on) == "fitted + binaries + colours"
    every = fit_setup(
        {"options": {**options, "zero_point_offset_prior_sd_mas": 0.015, "profile": "king"}}
    )
    assert error_model_text(every) == "fitted + binaries + zero point + King"
    plummer = fit_setup({"options": {**options, "profile": "plummer"}})
    assert error_model_text(plummer) == "fitted + binaries"

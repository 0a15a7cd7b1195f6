"""The fitted parallax zero-point offset (``zero_point_offset_prior_sd_mas``, issue 12
item 2) of parallax_1d and phase_space: each model's per-star log-likelihood against
NumPy/SciPy, the posterior's widening by the prior's sd in quadrature, and the summaries,
which count the zero point once."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from clustermix.errors import ConfigError
from clustermix.fit.summary import summarize
from clustermix.models import SUMMARY_UNITS
from clustermix.models.parallax_1d import model as parallax_1d
from clustermix.models.phase_space import model as phase_space
from clustermix.models.systematics import (
    PARALLAX_FLOOR_MAS,
    ZERO_POINT_SUGGESTED_SD_MAS,
    ZERO_POINT_VARIABLE,
    remaining_parallax_floor,
    with_one_floor,
    without_systematics,
)

from . import test_model_parallax_1d as p1d
from . import test_model_phase_space as ps

SD = ZERO_POINT_SUGGESTED_SD_MAS  # 0.015 mas


def test_phase_space_log_likelihood_with_the_offset_matches_numpy():
    """With the offset on, the members' expected parallax is plx_cl + d while their motions
    are projected with plx_cl (the true parallax): the ``obs`` term matches the independent
    SciPy/astropy reference star by star; off (the default), there is no free offset."""
    catalog, _ = ps.simulate(n_members=20, n_field=30, seed=8)
    options = {**ps.OPTIONS, "zero_point_offset_prior_sd_mas": SD}
    data = phase_space.prepare_data(catalog, options, "synthetic")
    model = phase_space.build_model(data, options)
    assert ZERO_POINT_VARIABLE in model.named_vars
    assert ZERO_POINT_VARIABLE not in phase_space.build_model(data, ps.OPTIONS).named_vars
    assert phase_space.initial_values(data, options)[ZERO_POINT_VARIABLE] == 0.0
    obs_logp = model.compile_fn(
        model.logp(vars=[model["obs"]], sum=False)[0], inputs=model.value_vars
    )
    for offset in (0.03, -0.2):
        params = {**ps.PARAMETER_POINTS[0], ZERO_POINT_VARIABLE: offset}
        got = obs_logp(ps.constrained_point(model, params))
        expected = ps.reference_log_likelihood(data, params)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-7)
        # and it is not the likelihood without the offset
        assert np.abs(got - ps.reference_log_likelihood(data, ps.PARAMETER_POINTS[0])).max() > 1e-3


def test_parallax_1d_log_likelihood_with_the_offset_matches_numpy():
    """Binned field: members N(x | plx_cl + d, e^2), the field (a density of observed
    parallaxes learned from the same catalogue) unchanged; the EDSD field refuses the
    offset."""
    catalog, _ = p1d.simulate_with_control(n_region=60, n_control=480, seed=4)
    options = {**p1d.SMALL_BINNED, "zero_point_offset_prior_sd_mas": SD}
    plx_cl, f, offset = 0.36, 0.3, 0.04
    data, obs_logp, point, log_field = p1d.binned_obs_logp(
        catalog, options, plx_cl, f, {ZERO_POINT_VARIABLE: offset}
    )
    x, e = data["parallax"], data["parallax_error"]
    expected = np.logaddexp(
        np.log(f) + stats.norm.logpdf(x, plx_cl + offset, e), np.log1p(-f) + log_field
    )
    np.testing.assert_allclose(obs_logp(point), expected, rtol=0, atol=1e-9)
    assert parallax_1d.initial_values(data, options)[ZERO_POINT_VARIABLE] == 0.0
    edsd = {**options, "field_model": "edsd"}
    with pytest.raises(ConfigError, match="zero_point_offset_prior_sd_mas"):
        parallax_1d.build_model(parallax_1d.prepare_data(catalog, edsd, "synthetic"), edsd)
    with pytest.raises(ConfigError, match="zero_point_offset_prior_sd_mas"):
        parallax_1d.build_model(data, {**options, "zero_point_offset_prior_sd_mas": -0.01})


def synthetic_posterior(statistical_sd: float, offset_sd: float, n: int = 20000) -> xr.Dataset:
    """Draws as a fit with the offset gives them: plx_cl + d ~ N(0.36, stat^2) from the
    data and d ~ N(0, s^2) from its prior, independent."""
    rng = np.random.default_rng(3)
    observed = rng.normal(0.36, statistical_sd, (2, n // 2))
    offset = rng.normal(0.0, offset_sd, (2, n // 2))
    return xr.Dataset(
        {
            "parallax_cl": (("chain", "draw"), observed - offset),
            ZERO_POINT_VARIABLE: (("chain", "draw"), offset),
            "f_cluster": (("chain", "draw"), np.full((2, n // 2), 0.3)),
        }
    )


def test_the_summary_counts_the_zero_point_once():
    """With the offset fitted (s = 0.015 mas > the 0.011 mas floor) the reported parallax
    adds no floor: its sd is sqrt(stat^2 + s^2), not sqrt(stat^2 + s^2 + 0.011^2); the
    budget's statistical part is stat alone and the parallax floor's part s; with a floor
    larger than s only the difference in quadrature is added. 20,000 draws: an sd to 0.5%
    (1.5% is the tolerance)."""
    assert remaining_parallax_floor(PARALLAX_FLOOR_MAS, SD) == 0.0
    assert remaining_parallax_floor(0.02, SD) == pytest.approx(np.sqrt(0.02**2 - SD**2))
    assert remaining_parallax_floor(PARALLAX_FLOOR_MAS, 0.0) == PARALLAX_FLOOR_MAS
    stat = 0.004
    posterior = synthetic_posterior(stat, SD)
    options = {"zero_point_offset_prior_sd_mas": SD}
    data: dict = {}
    quantities = parallax_1d.summary_quantities(posterior, data, options)
    statistical = parallax_1d.summary_quantities(posterior, data, without_systematics(options))
    floor = parallax_1d.summary_quantities(
        posterior, data, with_one_floor(options, "parallax_systematic_mas")
    )
    stats_ = summarize(quantities, SUMMARY_UNITS, None, statistical, {"parallax": floor})
    parallax = stats_["quantities"]["parallax"]
    assert parallax["sd"] == pytest.approx(np.hypot(stat, SD), rel=0.015)
    assert parallax["sd_statistical"] == pytest.approx(stat, rel=0.015)
    assert parallax["sd_systematic"] == pytest.approx(SD, rel=0.015)
    assert parallax["sd_systematic_parallax"] == pytest.approx(SD, rel=0.015)
    larger = {**options, "parallax_systematic_mas": 0.02}
    total = float(parallax_1d.summary_quantities(posterior, data, larger)["parallax"].std())
    assert total == pytest.approx(np.hypot(stat, 0.02), rel=0.015)
    # phase_space reads the same rule (its distance inherits it)
    like = posterior["parallax_cl"]
    full = posterior.assign(
        xi_cl=xr.zeros_like(like),
        eta_cl=xr.zeros_like(like),
        pmra_cl=xr.full_like(like, -2.91),
        pmdec_cl=xr.full_like(like, -3.86),
        rv_cl=xr.full_like(like, 2.45),
        sigma_v=xr.full_like(like, 1.0),
    )
    cone = {key: np.asarray(v) for key, v in zip(phase_space.GEOMETRY_KEYS, ps.CONE, strict=True)}
    out = phase_space.summary_quantities(full, cone, {**options, "pm_systematic_masyr": 0.0})
    assert float(out["parallax"].std()) == pytest.approx(np.hypot(stat, SD), rel=0.015)
    out = phase_space.summary_quantities(full, cone, without_systematics(options))
    assert float(out["parallax"].std()) == pytest.approx(stat, rel=0.015)


DRAWS = 2000


@pytest.mark.long
def test_the_offset_widens_the_parallax_posterior_by_its_prior_sd():
    """parallax_1d on a small field (300 stars in the cluster region, 600 in the control
    annulus), fitted without and with the offset (s = 0.015 mas): the offset's posterior is
    its prior (sd within 15%), and the cluster parallax's posterior variance grows by s^2,
    to within four Monte Carlo standard errors (each variance's: the sd of the squared
    deviations over the square root of their effective sample size). Two fits, about three
    minutes: ``pytest -m long``. Measured: growth 2.14e-4 +- 0.08e-4 against s^2 = 2.25e-4."""
    import arviz as az

    catalog, _ = p1d.simulate_with_control(n_control=600)
    base = {"parallax_systematic_mas": 0.0, "field_bins": 12}
    off, _ = p1d.sample_binned(catalog, base, seed=7, draws=DRAWS)
    on, _ = p1d.sample_binned(
        catalog, {**base, "zero_point_offset_prior_sd_mas": SD}, seed=7, draws=DRAWS
    )
    variances, errors = [], []
    for idata in (off, on):
        draws = idata.posterior["parallax_cl"]
        squares = (draws - draws.mean()) ** 2
        ess = float(az.ess(squares.values))
        variances.append(float(draws.var()))
        errors.append(float(squares.std()) / np.sqrt(ess))
    growth = variances[1] - variances[0]
    tolerance = 4.0 * np.hypot(*errors)
    print(
        f"parallax sd without {np.sqrt(variances[0]):.4f}, with {np.sqrt(variances[1]):.4f} "
        f"mas; growth {growth:.2e} +- {np.hypot(*errors):.1e} vs s^2 {SD**2:.2e}"
    )
    assert growth == pytest.approx(SD**2, abs=tolerance)
    assert float(on.posterior[ZERO_POINT_VARIABLE].std()) == pytest.approx(SD, rel=0.15)

"""The simulator's options that break the models' assumptions (all off by default).

Every option draws from its own spawned random stream, so a run with an option differs from
the run without it (same seed) only in what the option is about; several tests compare the
two row by row. Tolerances are Monte-Carlo errors derived in the comments; seeds are fixed.
"""

from __future__ import annotations

import copy
import json

import astropy.units as u
import numpy as np
import pytest
import yaml
from astropy.coordinates import SkyCoord
from scipy import stats
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from clustermix.data.rv_correction import rv_error_factor, rv_offset_kms
from clustermix.data.simulate import (
    KMS_PER_MASYR_KPC,
    SimulatedField,
    eff_cumulative,
    king_cumulative,
    motion_to_velocity,
    project_velocity,
    simulate_field,
    simulate_field_with_latent,
)
from clustermix.errors import ConfigError

from .conftest import REPO

#: A small, near (M67-like) field: enough member RVs (~70) to see binaries, fast (~0.1 s).
BASE = {
    "ra_deg": 132.846,
    "dec_deg": 11.814,
    "radius_arcmin": 25.0,
    "seed": 7,
    "n_members": 400,
    "n_field": 800,
    "parallax_mas": 1.135,
    "pmra_masyr": -10.97,
    "pmdec_masyr": -2.94,
    "rv_kms": 33.6,
    "sigma_v_kms": 0.8,
    "plummer_radius_arcmin": 7.0,
    "g_max_mag": 19.0,
}
#: The options at their defaults, spelled out.
DEFAULTS = {
    "extra_clusters": [],
    "comoving_clumps": [],
    "profile": "plummer",
    "king_tidal_radius_arcmin": None,
    "eff_gamma": None,
    "binary_fraction": 0.0,
    "error_underestimate": 1.0,
    "preselection": None,
    "rv_g_max_mag": None,
}
SECOND = {
    "n_members": 150,
    "parallax_mas": 0.5,
    "pmra_masyr": -3.0,
    "pmdec_masyr": 1.0,
    "rv_kms": -20.0,
    "sigma_v_kms": 1.0,
    "plummer_radius_arcmin": 3.0,
    "offset_arcmin": [10.0, -8.0],
}
CLUMP = {
    "n_stars": 6,
    "pmra_masyr": 4.0,
    "pmdec_masyr": -7.0,
    "parallax_mas": 0.8,
    "sigma_pm_masyr": 0.02,
}
#: Allowed deviation in Monte-Carlo standard errors (two-sided p ~ 6e-5 for a Gaussian).
N_SIGMA = 4.0


def run(**options) -> SimulatedField:
    return simulate_field_with_latent(**{**BASE, **options})


@pytest.fixture(scope="module")
def base() -> SimulatedField:
    return run()


@pytest.fixture(scope="module")
def crowded() -> SimulatedField:
    """A second cluster and a comoving clump in the cone."""
    return run(extra_clusters=[SECOND], comoving_clumps=[CLUMP])


def _array(table, name: str) -> np.ndarray:
    return np.asarray(table[name], dtype=np.float64)


def _rows(sim: SimulatedField, ids) -> np.ndarray:
    return np.isin(np.asarray(sim.catalog["source_id"]), np.asarray(list(ids), dtype=np.int64))


def _separation_arcmin(latent, ra_deg: float, dec_deg: float) -> np.ndarray:
    stars = SkyCoord(_array(latent, "ra_true") * u.deg, _array(latent, "dec_true") * u.deg)
    return stars.separation(SkyCoord(ra_deg * u.deg, dec_deg * u.deg)).arcmin


def _members(sim: SimulatedField) -> np.ndarray:
    return np.asarray(sim.latent["is_member"], dtype=bool)


def _assert_same_rows(a, b) -> None:
    assert a.colnames == b.colnames
    for name in a.colnames:
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(b[name]), err_msg=name)


# ---------------------------------------------------------------------------- defaults


def test_more_spawned_streams_keep_the_first_three() -> None:
    # The options' streams are extra children of the same SeedSequence: the first three
    # children (members, field, observation) do not depend on how many are spawned.
    three = np.random.SeedSequence(6819).spawn(3)
    eight = np.random.SeedSequence(6819).spawn(8)
    for a, b in zip(three, eight[:3], strict=True):
        np.testing.assert_array_equal(
            np.random.default_rng(a).random(5), np.random.default_rng(b).random(5)
        )


def test_defaults_spelled_out_change_nothing(base: SimulatedField) -> None:
    explicit = run(**DEFAULTS)
    _assert_same_rows(explicit.catalog, base.catalog)
    assert explicit.truth == base.truth
    options = {"extra_clusters", "comoving_clumps", "profile", "binaries", "preselection"}
    assert not options & set(base.truth), "no option entries in the truth by default"
    assert np.all(np.asarray(base.latent["group"]) == -1)
    assert not np.asarray(base.latent["binary"]).any()
    assert np.all(_array(base.latent, "rv_orbit") == 0.0)
    catalog, truth = simulate_field(**BASE, **DEFAULTS)
    _assert_same_rows(catalog, base.catalog)
    assert truth == base.truth


def test_default_output_is_that_of_the_simulator_before_the_options() -> None:
    # Pinned from the simulator as it was before the options existed (same seed, same
    # inputs): source_ids are exact integers, the sums agree to rounding on any platform.
    # A deliberate change to the simulator's default output must update these numbers.
    sim = run()
    ids = np.asarray(sim.catalog["source_id"])
    assert len(ids) == 1200
    assert ids[:2].tolist() == [598884850521740347, 598885025618461032]
    assert int(ids[-1]) == 605002106766841569
    assert sim.truth["member_source_ids"][:2] == [598900589520215812, 598902788210916514]
    sums = {
        "parallax": 1236.323543163619,
        "pmra": -7222.651819998193,
        "pmdec": -6650.813756125793,
        "phot_g_mean_mag": 20138.579531669617,
        # as DR3 publishes them since the simulator applies Katz et al.'s offset (session 6)
        "radial_velocity": 4816.856551833451,
    }
    for name, value in sums.items():
        assert np.nansum(_array(sim.catalog, name)) == pytest.approx(value, rel=1e-9), name
    # corrected, they are the RVs of before: the change is the offset and nothing else
    # (to the float32 rounding of each stored value, ~1e-7 relative)
    grvs = _array(sim.catalog, "grvs_mag")
    corrected = np.nansum(_array(sim.catalog, "radial_velocity") + rv_offset_kms(grvs))
    assert corrected == pytest.approx(4777.951749518514, rel=1e-6)
    # and so are their uncertainties, once scaled by Babusiaux et al.'s factor (sum pinned
    # from the simulator before it published underestimated ones)
    errors = np.nansum(_array(sim.catalog, "radial_velocity_error") * rv_error_factor(grvs))
    assert errors == pytest.approx(614.7845538854599, rel=1e-6)


def test_motion_to_velocity_inverts_project_velocity() -> None:
    rng = np.random.default_rng(1)
    ra, dec = rng.uniform(0, 360, 100), np.degrees(np.arcsin(rng.uniform(-1, 1, 100)))
    dist, vel = rng.uniform(10, 20000, 100), rng.normal(0, 100, (100, 3))
    back = motion_to_velocity(ra, dec, dist, *project_velocity(ra, dec, dist, vel))
    np.testing.assert_allclose(back, vel, atol=1e-9)


# ---------------------------------------------------------------- clusters and clumps


def test_second_cluster_has_its_own_motion_and_is_no_member(
    base: SimulatedField, crowded: SimulatedField
) -> None:
    truth = crowded.truth
    (second,) = truth["extra_clusters"]
    ids = set(second["member_source_ids"])
    assert len(ids) == second["n_members"] == SECOND["n_members"]
    assert not ids & set(truth["member_source_ids"])
    assert truth["n_members"] == BASE["n_members"]
    assert truth["n_field"] == BASE["n_field"] + SECOND["n_members"] + CLUMP["n_stars"]
    rows = _rows(crowded, ids)
    assert not _members(crowded)[rows].any()
    assert set(np.asarray(crowded.latent["population"])[rows]) == {"extra_cluster"}
    stars, latent = crowded.catalog[rows], crowded.latent[rows]

    # Its centre is the offset one: separation hypot(east, north), position angle
    # atan2(east, north); its stars crowd around it and all lie in the cone.
    cone = SkyCoord(BASE["ra_deg"] * u.deg, BASE["dec_deg"] * u.deg)
    centre = SkyCoord(second["ra_deg"] * u.deg, second["dec_deg"] * u.deg)
    east, north = SECOND["offset_arcmin"]
    assert cone.separation(centre).arcmin == pytest.approx(np.hypot(east, north), abs=1e-6)
    assert cone.position_angle(centre).deg == pytest.approx(
        np.degrees(np.arctan2(east, north)) % 360, abs=1e-6
    )
    assert _separation_arcmin(latent, BASE["ra_deg"], BASE["dec_deg"]).max() <= 25.0
    # Plummer: half the stars within a = 3' (fewer where the cone cuts it); 1.5 a allows it.
    own = _separation_arcmin(latent, second["ra_deg"], second["dec_deg"])
    assert np.median(own) < 1.5 * SECOND["plummer_radius_arcmin"]

    # Medians of parallax (zero point removed) and proper motions: SE of a median is
    # 1.25 sd / sqrt(n), sd the sample's robust width (intrinsic spread plus errors).
    n = len(stars)
    values = {
        "parallax": _array(stars, "parallax") - _array(latent, "parallax_zero_point"),
        "pmra": _array(stars, "pmra"),
        "pmdec": _array(stars, "pmdec"),
    }
    for name, x in values.items():
        sd = 1.4826 * np.median(np.abs(x - np.median(x)))
        assert abs(np.median(x) - second[name]) < N_SIGMA * 1.2533 * sd / np.sqrt(n), name

    # The cluster and field of the run without it are untouched, row for row.
    kept = _rows(crowded, np.asarray(base.catalog["source_id"]))
    assert kept.sum() == len(base.catalog)
    _assert_same_rows(crowded.catalog[kept], base.catalog)


def test_clump_stars_share_a_proper_motion(crowded: SimulatedField) -> None:
    (clump,) = crowded.truth["comoving_clumps"]
    ids = clump["source_ids"]
    assert len(ids) == CLUMP["n_stars"]
    assert not set(ids) & set(crowded.truth["member_source_ids"])
    rows = _rows(crowded, ids)
    stars, latent = crowded.catalog[rows], crowded.latent[rows]
    assert set(np.asarray(latent["population"])) == {"clump"}
    # Each star within 5 sigma of the clump's motion, sigma^2 = sigma_pm^2 + error^2
    # (chance of a false failure ~ 6e-7 per star and component).
    for name in ("pmra", "pmdec"):
        sigma = np.hypot(CLUMP["sigma_pm_masyr"], _array(stars, f"{name}_error"))
        assert np.all(np.abs(_array(stars, name) - CLUMP[f"{name}_masyr"]) < 5 * sigma), name
        true = _array(latent, f"{name}_true") - CLUMP[f"{name}_masyr"]
        assert np.all(np.abs(true) < 5 * CLUMP["sigma_pm_masyr"]), name
    np.testing.assert_allclose(_array(latent, "parallax_true"), CLUMP["parallax_mas"])
    # Spread over the cone, not a cluster: all six within 0.4 of the radius has p = 0.16^6.
    sep = _separation_arcmin(latent, BASE["ra_deg"], BASE["dec_deg"])
    assert sep.max() <= 25.0 and sep.max() > 0.4 * 25.0


# ------------------------------------------------------------------------------ profiles


def test_king_and_eff_profiles_differ_from_plummer(base: SimulatedField) -> None:
    radius, a = BASE["radius_arcmin"], BASE["plummer_radius_arcmin"]
    king = run(profile="king", king_tidal_radius_arcmin=12.0)
    eff = run(profile="eff", eff_gamma=2.0)

    def separations(sim: SimulatedField) -> np.ndarray:
        latent = sim.latent[_members(sim)]
        return _separation_arcmin(latent, BASE["ra_deg"], BASE["dec_deg"])

    def plummer_cdf(r: np.ndarray) -> np.ndarray:
        return (r**2 / (r**2 + a**2)) / (radius**2 / (radius**2 + a**2))

    def king_cdf(r: np.ndarray) -> np.ndarray:
        return king_cumulative(r, a, 12.0) / king_cumulative(12.0, a, 12.0)

    def eff_cdf(r: np.ndarray) -> np.ndarray:
        return eff_cumulative(r, a, 2.0) / eff_cumulative(radius, a, 2.0)

    plummer, king_sep, eff_sep = separations(base), separations(king), separations(eff)
    assert king_sep.max() <= 12.0, "nothing beyond the tidal radius"
    # KS: a correct sampler fails at p < 1e-3 one time in a thousand; a wrong profile with
    # 400 stars and these shapes (CDFs apart by > 0.2) gives p ~ 1e-15 or less.
    assert stats.kstest(king_sep, king_cdf).pvalue > 1e-3
    assert stats.kstest(eff_sep, eff_cdf).pvalue > 1e-3
    assert stats.kstest(plummer, plummer_cdf).pvalue > 1e-3
    for other in (king_sep, eff_sep):
        assert stats.kstest(other, plummer_cdf).pvalue < 1e-6
        assert stats.ks_2samp(other, plummer).pvalue < 1e-4
    # EFF with gamma = 4 is Plummer.
    r = np.linspace(0, radius, 50)
    np.testing.assert_allclose(
        eff_cumulative(r, a, 4.0) / eff_cumulative(radius, a, 4.0), plummer_cdf(r), atol=1e-12
    )
    assert king.truth["profile"] == {
        "name": "king",
        "core_radius_arcmin": a,
        "tidal_radius_arcmin": 12.0,
    }


def test_wide_cone_of_40_arcmin() -> None:
    sim = run(radius_arcmin=40.0, n_field=2000)
    sep = _separation_arcmin(sim.latent, BASE["ra_deg"], BASE["dec_deg"])
    assert sep.max() <= 40.0
    members = _members(sim)
    # Field stars are uniform in area: (r / R)^2 ~ U(0, 1).
    assert stats.kstest((sep[~members] / 40.0) ** 2, "uniform").pvalue > 1e-3
    assert sim.truth["n_members"] == BASE["n_members"]


# ------------------------------------------------------------------------------ binaries


def test_binaries_widen_the_rv_spread_and_brighten(base: SimulatedField) -> None:
    sim = run(binary_fraction=0.5)
    binary = np.asarray(sim.latent["binary"], dtype=bool)
    members = _members(sim)
    assert not binary[~members].any()
    # Binomial: 400 members, SE of the fraction 0.025.
    assert abs(binary[members].mean() - 0.5) < N_SIGMA * 0.025
    assert set(sim.truth["binaries"]["source_ids"]) == set(
        np.asarray(sim.latent["source_id"])[binary].tolist()
    )
    # Same stars as without binaries (own stream): singles are unchanged, binaries brighter
    # by 2.5 log10(1 + q^4) in (0, 0.753] mag (float32 rounding ~2e-6 mag).
    assert np.array_equal(sim.catalog["source_id"], base.catalog["source_id"])
    dg = _array(base.catalog, "phot_g_mean_mag") - _array(sim.catalog, "phot_g_mean_mag")
    assert np.all(dg[~binary] == 0.0)
    assert np.all((dg[binary] > 1e-4) & (dg[binary] <= 2.5 * np.log10(2.0) + 1e-5))

    # Observed member RVs against the cluster's: chi^2 / n with sigma^2 = sigma_v^2 + err^2
    # is 1 +- sqrt(2 / n) for single stars; the orbits (rms ~6.4 km/s for half the stars)
    # make it several times larger.
    def chi2(run_: SimulatedField) -> tuple[float, int]:
        member = run_.catalog[_members(run_)]
        rv, err = _array(member, "radial_velocity"), _array(member, "radial_velocity_error")
        has = np.isfinite(rv)
        z2 = (rv[has] - BASE["rv_kms"]) ** 2 / (BASE["sigma_v_kms"] ** 2 + err[has] ** 2)
        return float(z2.mean()), int(has.sum())

    single, n_single = chi2(base)
    widened, n_binary = chi2(sim)
    assert n_single >= 30 and n_binary >= n_single
    assert abs(single - 1.0) < N_SIGMA * np.sqrt(2.0 / n_single)
    assert widened > 1.0 + 2 * N_SIGMA * np.sqrt(2.0 / n_binary)
    orbit = _array(sim.latent, "rv_orbit")
    assert np.all(orbit[~binary] == 0.0) and np.std(orbit[binary]) > 3.0
    # The observed RVs are the true ones plus the orbits plus noise of the stated errors.
    rv, err = _array(sim.catalog, "radial_velocity"), _array(sim.catalog, "radial_velocity_error")
    has = np.isfinite(rv)
    z = (rv[has] - _array(sim.latent, "rv_true")[has] - orbit[has]) / err[has]
    assert abs(np.mean(z**2) - 1.0) < N_SIGMA * np.sqrt(2.0 / has.sum())


# ---------------------------------------------------------------------- catalogue quality


def test_error_underestimate_scales_the_noise_not_the_errors(base: SimulatedField) -> None:
    factor = 1.5
    sim = run(error_underestimate=factor)
    assert sim.truth["error_underestimate"] == factor
    assert np.array_equal(sim.catalog["source_id"], base.catalog["source_id"])
    for name in ("parallax_error", "pmra_error", "pmdec_error", "radial_velocity_error"):
        np.testing.assert_array_equal(sim.catalog[name], base.catalog[name], err_msg=name)

    def residuals(run_: SimulatedField, name: str) -> np.ndarray:
        catalog, latent = run_.catalog, run_.latent
        true = _array(latent, f"{name}_true")
        if name == "parallax":
            true = true + _array(latent, "parallax_zero_point")
        z = (_array(catalog, name) - true) / _array(catalog, f"{name}_error")
        return z[np.isfinite(z)]

    for name in ("parallax", "pmra", "pmdec"):
        z, z_base = residuals(sim, name), residuals(base, name)
        # SD of n Gaussian draws: SE = sd / sqrt(2 n) (0.03 here for n = 1200).
        assert abs(np.std(z) - factor) < N_SIGMA * factor / np.sqrt(2 * len(z)), name
        assert abs(np.std(z_base) - 1.0) < N_SIGMA / np.sqrt(2 * len(z_base)), name
        np.testing.assert_allclose(z, factor * z_base, rtol=1e-6, atol=1e-9, err_msg=name)
    # RVs (the stars that have one): the same factor.
    has = np.isfinite(_array(sim.catalog, "radial_velocity"))
    z_rv = (
        _array(sim.catalog, "radial_velocity")[has] - _array(sim.latent, "rv_true")[has]
    ) / _array(sim.catalog, "radial_velocity_error")[has]
    assert abs(np.std(z_rv) - factor) < N_SIGMA * factor / np.sqrt(2 * has.sum())


def test_preselection_keeps_only_precise_positive_parallaxes() -> None:
    # A distant cluster to G = 20.5, where many parallaxes are poor.
    far = {"parallax_mas": 0.36, "g_max_mag": 20.5, "plummer_radius_arcmin": 4.5}
    full = run(**far)
    sim = run(**far, preselection="parallax_over_error")
    parallax, error = _array(sim.catalog, "parallax"), _array(sim.catalog, "parallax_error")
    assert np.all(parallax > 0)
    assert np.all(error / parallax < 0.5)
    assert len(sim.catalog) < len(full.catalog)
    # Exactly the rows of the uncut catalogue that pass, nothing else changed.
    plx_full, err_full = _array(full.catalog, "parallax"), _array(full.catalog, "parallax_error")
    passing = (plx_full > 0) & (err_full / np.where(plx_full > 0, plx_full, 1.0) < 0.5)
    _assert_same_rows(sim.catalog, full.catalog[passing])
    # Counts and member ids after the cut; the inputs before it.
    truth = sim.truth
    ids = set(np.asarray(sim.catalog["source_id"]).tolist())
    assert set(truth["member_source_ids"]) <= ids
    assert truth["n_members"] == len(truth["member_source_ids"]) == _members(sim).sum()
    assert truth["n_members"] < BASE["n_members"]
    assert truth["n_stars"] == len(sim.catalog) == truth["n_members"] + truth["n_field"]
    assert truth["preselection"]["n_members_input"] == BASE["n_members"]
    assert truth["preselection"]["n_field_input"] == BASE["n_field"]


def test_rv_limit_leaves_no_faint_radial_velocity(base: SimulatedField) -> None:
    limit = 13.5
    sim = run(rv_g_max_mag=limit)
    g = _array(sim.catalog, "phot_g_mean_mag")
    rv, rv_err = (
        _array(sim.catalog, "radial_velocity"),
        _array(sim.catalog, "radial_velocity_error"),
    )
    has = np.isfinite(rv)
    assert np.all(np.isfinite(rv_err) == has)
    assert has.sum() >= 10 and g[has].max() <= limit
    # Brighter stars keep exactly the RVs of the run without the limit; fainter ones lose them.
    before = _array(base.catalog, "radial_velocity")
    np.testing.assert_array_equal(rv[g <= limit], before[g <= limit])
    assert np.isfinite(before[g > limit]).any()


# ------------------------------------------------------------------------- configuration


def test_all_options_together_give_a_json_truth() -> None:
    sim = run(
        extra_clusters=[SECOND, {**SECOND, "offset_arcmin": [-15.0, 5.0], "n_members": 20}],
        comoving_clumps=[CLUMP, {**CLUMP, "rv_kms": 12.0}],
        profile="eff",
        eff_gamma=3.0,
        binary_fraction=0.3,
        error_underestimate=1.2,
        preselection="parallax_over_error",
        rv_g_max_mag=14.0,
    )
    truth = json.loads(json.dumps(sim.truth))
    assert [c["n_members_input"] for c in truth["extra_clusters"]] == [150, 20]
    assert truth["comoving_clumps"][1]["rv"] == 12.0
    groups = [set(c["member_source_ids"]) for c in truth["extra_clusters"]]
    groups += [set(c["source_ids"]) for c in truth["comoving_clumps"]]
    groups.append(set(truth["member_source_ids"]))
    assert sum(len(g) for g in groups) == len(set().union(*groups)), "disjoint groups"
    ids = np.asarray(sim.catalog["source_id"])
    assert len(np.unique(ids)) == len(ids)
    # Clump RVs scatter by the velocity of sigma_pm at the clump's distance.
    rows = _rows(sim, truth["comoving_clumps"][1]["source_ids"])
    sigma_rv = CLUMP["sigma_pm_masyr"] * KMS_PER_MASYR_KPC / CLUMP["parallax_mas"]
    assert np.all(np.abs(_array(sim.latent[rows], "rv_true") - 12.0) < 5 * sigma_rv)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"profile": "gauss"}, "profile"),
        ({"profile": "king"}, "king_tidal_radius_arcmin"),
        ({"profile": "king", "king_tidal_radius_arcmin": 5.0}, "king_tidal_radius_arcmin"),
        ({"eff_gamma": 3.0}, "eff_gamma"),
        ({"binary_fraction": 1.5}, "binary_fraction"),
        ({"error_underestimate": 0.0}, "error_underestimate"),
        ({"preselection": "ruwe"}, "preselection"),
        ({"extra_clusters": [{**SECOND, "offset_arcmin": [30.0, 0.0]}]}, "offset_arcmin"),
        ({"extra_clusters": [{k: v for k, v in SECOND.items() if k != "rv_kms"}]}, "rv_kms"),
        ({"comoving_clumps": [{**CLUMP, "colour": 1.0}]}, "colour"),
        ({"comoving_clumps": [{**CLUMP, "n_stars": 2.5}]}, "n_stars"),
    ],
)
def test_invalid_options_raise_config_errors(options: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        run(**options)


def test_schema_takes_the_options_without_adding_them() -> None:
    schema = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    plain = copy.deepcopy(config)
    validate(plain, schema)
    # No schema defaults for the options: a config without them keeps the same params, so
    # existing results are not rerun for a changed `simulation` parameter.
    assert not set(DEFAULTS) & set(plain["clusters"][0]["simulation"])
    options = {
        "extra_clusters": [SECOND],
        "comoving_clumps": [{**CLUMP, "rv_kms": 5.0}],
        "profile": "king",
        "king_tidal_radius_arcmin": 30.0,
        "binary_fraction": 0.3,
        "error_underestimate": 1.2,
        "preselection": "parallax_over_error",
        "rv_g_max_mag": 14.0,
    }
    config["clusters"][0]["simulation"].update(options)
    validate(config, schema)
    for key, value in (("profile", "gauss"), ("preselection", "ruwe"), ("binary_fraction", 2)):
        bad = copy.deepcopy(config)
        bad["clusters"][0]["simulation"][key] = value
        with pytest.raises(WorkflowError, match=key):
            validate(bad, schema)
    bad = copy.deepcopy(config)
    bad["clusters"][0]["simulation"]["extra_clusters"][0]["colour"] = 1.0
    with pytest.raises(WorkflowError):
        validate(bad, schema)


def test_the_centres_proper_motion_is_the_members_mean_for_an_m67_like_cluster() -> None:
    """ "The cluster's proper motion" is the centre's (the truth, and phase_space's); the
    proper-motion-only models fit the members' mean. For a cluster as near and as extended
    as M67 (880 pc, 7' Plummer radius in a 25' cone, RV 34 km/s) the two differ only at
    second order in the extent (about 5e-5 mas/yr): with a negligible internal dispersion
    the members' mean true pm equals the truth's to 1e-3 mas/yr: 4.5 times the scatter of
    the mean over 20,000 members of the first-order perspective terms (0.031 mas/yr per
    star)."""
    from clustermix.data.simulate import simulate_field_with_latent

    sim = simulate_field_with_latent(
        132.846,
        11.814,
        25.0,
        seed=2682,
        n_members=20000,
        n_field=10,
        parallax_mas=1.135,
        pmra_masyr=-10.97,
        pmdec_masyr=-2.94,
        rv_kms=33.6,
        sigma_v_kms=0.001,
        plummer_radius_arcmin=7.0,
        g_max_mag=19.0,
    )
    members = np.asarray(sim.latent["is_member"], bool)
    for axis in ("pmra", "pmdec"):
        mean = float(np.mean(np.asarray(sim.latent[f"{axis}_true"])[members]))
        assert abs(mean - sim.truth[axis]) < 1e-3, axis

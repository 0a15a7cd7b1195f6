"""Local posterior predictive checks (clustermix.checks.ppc_local): the counts in the cluster's
window against radius, and the summed memberships per G bin, on known parameters (pass)
and on a "cluster" that is really the field's core (flagged); the JSON, macros and figure.

Monte Carlo error. The checks replicate N_DRAWS = 200 posterior draws, so a p-value is
resolved to 1/200 = 0.005 and its Monte Carlo sd is sqrt(p (1 - p) / 200), at most 0.035:
"passes" is p > 0.01 and "flagged" p < 0.01, applied where the misfit is several Poisson
sd (stated in each test). Data and replicates use fixed seeds, so each test is
deterministic; the thresholds are set so that a fresh seed would rarely fail them.
"""

from __future__ import annotations

import json
from pathlib import Path

import arviz as az
import numpy as np
import pytest
from astropy.table import Table
from scipy import stats

from clustermix.checks.ppc import (
    posterior_predictive_check,
    replicate,
    run_ppc,
    write_ppc_numbers,
)
from clustermix.checks.ppc_local import (
    MAGNITUDE_KEY,
    RADIAL_KEY,
    LocalInputs,
    cluster_window,
    in_window,
    local_macros,
    membership_by_magnitude,
)
from clustermix.fit.sampling import save_trace, stamp_trace
from clustermix.io import sha256_file
from clustermix.models.phase_space.replicate import sample_cone_uniform
from clustermix.plotting.ppc import ppc_figure
from clustermix.plotting.style import save_figure

from .test_ppc import (
    CONE,
    PHASE_TRUTH,
    PMRA_OPTIONS,
    PMRA_TRUTH,
    constant_posterior,
    phase_stars,
    pmra_free_values,
    read_macros,
)

N_DRAWS = 200


# ------------------------------------------------------------------ helpers


def phase_field(seed: int, f_cluster: float, *, n: int = 1500, spread: bool = False) -> dict:
    """A phase-space data set from PHASE_TRUTH with ``f_cluster``. ``spread``: every star's
    radius redrawn uniformly over the cone, so the cold "cluster" population is spread like
    the field, a kinematic core of the field with no concentration on the sky."""
    data = phase_stars(n, seed)
    truth = {**PHASE_TRUTH, "f_cluster": f_cluster}
    one = replicate(
        "phase_space", data, {}, constant_posterior(truth, 1), np.random.default_rng([seed, 1])
    )
    radius = one["radius"][0]
    if spread:
        xi, eta = sample_cone_uniform(CONE[2], (n,), np.random.default_rng([seed, 3]))
        radius = np.hypot(xi, eta)
    angle = np.random.default_rng([seed, 2]).uniform(0.0, 2.0 * np.pi, n)
    return {
        **data,
        "parallax": one["parallax"][0],
        "pmra": one["pmra"][0],
        "pmdec": one["pmdec"][0],
        "xi": radius * np.cos(angle),
        "eta": radius * np.sin(angle),
    }


def pmra_membership(pmra: np.ndarray, error: np.ndarray, truth: dict) -> np.ndarray:
    """The pmra_1d model's membership probability of each star at the parameters ``truth``
    (the model's p_cluster, written out in NumPy)."""
    cluster = truth["f_cluster"] * stats.norm.pdf(
        pmra, truth["pmra_cl"], np.hypot(truth["sigma_pmra_cl"], error)
    )
    field = (1.0 - truth["f_cluster"]) * sum(
        w * stats.norm.pdf(pmra, mean, np.hypot(sigma, error))
        for w, mean, sigma in zip(
            truth["w_field"], truth["pmra_field"], truth["sigma_pmra_field"], strict=True
        )
    )
    return cluster / (cluster + field)


def pmra_field(seed: int, n: int = 2000, member_fraction=None) -> dict[str, np.ndarray]:
    """Stars from the pmra_1d model with PMRA_TRUTH, G uniform in 13-20.5 mag and errors
    growing with G as Gaia's (0.03 to 1.2 mas/yr). ``member_fraction(G)``: the probability
    of membership at G (default PMRA_TRUTH's f at every G)."""
    rng = np.random.default_rng([seed, 4])
    g_mag = rng.uniform(13.0, 20.5, n)
    error = 0.03 + 1.2 * ((g_mag - 13.0) / 7.5) ** 3
    fraction = PMRA_TRUTH["f_cluster"] if member_fraction is None else member_fraction(g_mag)
    member = rng.random(n) < fraction
    component = rng.choice(2, size=n, p=PMRA_TRUTH["w_field"])
    mean = np.where(member, PMRA_TRUTH["pmra_cl"], np.take(PMRA_TRUTH["pmra_field"], component))
    width = np.where(
        member, PMRA_TRUTH["sigma_pmra_cl"], np.take(PMRA_TRUTH["sigma_pmra_field"], component)
    )
    return {
        "source_id": np.arange(n, dtype=np.int64),
        "pmra": rng.normal(mean, np.hypot(width, error)),
        "pmra_error": error,
        "phot_g_mean_mag": g_mag,
        "member": member,
    }


#: pmra_1d parameters of a "cluster" on the field's core: a wide Gaussian near the field's
#: main component, holding about half of the stars, on one broad field component.
CORE_PMRA = {
    "pmra_cl": -2.2,
    "sigma_pmra_cl": 0.8,
    "f_cluster": 0.45,
    "w_field": [1.0],
    "pmra_field": [-1.5],
    "sigma_pmra_field": [5.0],
}


# ------------------------------------------------------------------ the window


def test_window_is_the_median_cluster_with_sd_from_spread_and_median_error() -> None:
    data = phase_field(0, 0.2, n=300)
    window = cluster_window("phase_space", constant_posterior(PHASE_TRUTH, 20), data)
    plx = window["observables"]["parallax"]
    pmra = window["observables"]["pmra"]
    s_pm = PHASE_TRUTH["sigma_v"] * PHASE_TRUTH["parallax_cl"] / 4.74047
    assert plx["centre"] == pytest.approx(PHASE_TRUTH["parallax_cl"])
    assert pmra["intrinsic_sd"] == pytest.approx(s_pm, rel=1e-4)
    assert pmra["sd"] == pytest.approx(np.hypot(s_pm, np.median(data["pmra_error"])))
    assert window["groups"] == [["parallax"], ["pmra", "pmdec"]]
    # 2 sd in parallax, and an ellipse of 2 sd in proper motion
    sd = {name: window["observables"][name]["sd"] for name in ("parallax", "pmra", "pmdec")}
    centre = {name: window["observables"][name]["centre"] for name in sd}
    probe = {
        "parallax": centre["parallax"] + np.array([1.9, 2.1, 0.0, 0.0]) * sd["parallax"],
        "pmra": centre["pmra"] + np.array([0.0, 0.0, 1.5, 1.5]) * sd["pmra"],
        "pmdec": centre["pmdec"] + np.array([0.0, 0.0, 1.3, 1.4]) * sd["pmdec"],
    }
    np.testing.assert_array_equal(in_window(probe, window), [True, False, True, False])


# ------------------------------------------------------------------ radius


def test_radial_window_passes_the_truth_and_flags_a_cluster_spread_like_the_field() -> None:
    # 3% of 1500 stars are cold "members": concentrated (the truth) or spread over the cone
    # like the field (the field's core, fitted as a concentrated cluster). The model
    # predicts about 31 window stars in the inner annulus and 3-7 in each other one; the
    # spread data have about 10 there, a 4-sigma deficit (Poisson sd 5.6).
    posterior = constant_posterior({**PHASE_TRUTH, "f_cluster": 0.03})
    real = posterior_predictive_check("phase_space", phase_field(0, 0.03), {}, posterior, seed=5)
    core = posterior_predictive_check(
        "phase_space", phase_field(0, 0.03, spread=True), {}, posterior, seed=5
    )
    assert real[RADIAL_KEY]["status"] == "done" and real[RADIAL_KEY]["spatial_model"]
    assert real[RADIAL_KEY]["p_value"] > 0.01
    assert core[RADIAL_KEY]["p_value"] < 0.01
    inner = core[RADIAL_KEY]
    assert inner["observed"][0] < inner["replicated_q2.5"][0] and inner["p_values"][0] < 0.01
    # the global histograms do not see it: the same astrometry, and 45 of 1500 radii moved
    assert core["quantities"]["radius"]["p_value"] > 0.01
    assert all(check["p_value"] > 0.01 for check in core["quantities"].values())
    # five annuli of about equal star count (300 each, binomial sd 15)
    assert len(inner["edges"]) == 6 and inner["edges"][0] == 0.0
    assert all(abs(n - 300) < 75 for n in real[RADIAL_KEY]["n_stars"])


def test_models_without_positions_use_the_catalogue_separation() -> None:
    # pmra_1d cannot place its members: it predicts the same window fraction at every
    # radius. A concentrated cluster (members within 1.5 arcmin of 5) then fails, with an
    # inner excess (about 190 window stars in the inner annulus against 75 predicted, 13
    # Poisson sd); members spread like the field pass. Without separations the check is
    # skipped.
    data = {key: value for key, value in pmra_field(1, n=1500).items() if key != "member"}
    member = pmra_field(1, n=1500)["member"]
    rng = np.random.default_rng(6)
    uniform = 5.0 * np.sqrt(rng.random(member.size))
    concentrated = np.where(member, 1.5 * np.sqrt(rng.random(member.size)), uniform)
    posterior = constant_posterior(pmra_free_values(PMRA_TRUTH))
    results = {}
    for name, separation in (("concentrated", concentrated), ("spread", uniform)):
        results[name] = posterior_predictive_check(
            "pmra_1d",
            data,
            PMRA_OPTIONS,
            posterior,
            seed=7,
            local=LocalInputs(separation_arcmin=separation),
        )[RADIAL_KEY]
    assert not results["spread"]["spatial_model"]
    assert results["spread"]["p_value"] > 0.01
    assert results["concentrated"]["p_value"] < 0.01
    assert results["concentrated"]["ratio"][0] > 1.5
    skipped = posterior_predictive_check("pmra_1d", data, PMRA_OPTIONS, posterior, seed=7)
    assert skipped[RADIAL_KEY]["status"] == "skipped"
    assert "separation_arcmin" in skipped[RADIAL_KEY]["reason"]
    assert skipped[MAGNITUDE_KEY]["status"] == "skipped"


# ------------------------------------------------------------------ magnitude


def test_sum_p_per_bin_is_the_member_count_when_memberships_are_certain() -> None:
    rng = np.random.default_rng(3)
    g_mag = rng.uniform(12.0, 20.0, 1000)
    g_mag[:5] = np.nan  # no photometry: left out
    member = rng.random(1000) < 0.3
    check = membership_by_magnitude(
        g_mag,
        member.astype(float),
        np.full(N_DRAWS, 0.3),
        np.random.default_rng(0),
        true_member=member,
        n_bins=5,
    )
    assert check["n_no_magnitude"] == 5 and sum(check["n_stars"]) == 995
    np.testing.assert_array_equal(check["sum_p"], check["truth"]["n_members"])
    np.testing.assert_array_equal(check["truth"]["ratio"], 1.0)
    assert check["truth"]["n_flagged"] == 0
    assert check["truth"]["expected_sd"] == [0.0] * 5
    # bins of equal star count: 199 each
    assert check["n_stars"] == [199] * 5
    assert len(check["edges"]) == 6 and len(check["flagged"]) == 5


def test_sum_p_matches_the_truth_and_flags_a_cluster_on_the_field_core() -> None:
    # Memberships at the true parameters are calibrated: Sigma p within the replicated
    # Binomial(n_b = 400, f = 0.2) range (sd 8 members) and the true counts within
    # 1.96 sqrt(sum p (1 - p)) of Sigma p in all but at most one of 5 bins (5% each). A
    # "cluster" on the field's core claims about 2.2 times the true members in every bin
    # (about 13 expected sd): every bin is flagged against the truth.
    stars = pmra_field(2)
    f_draws = np.full(N_DRAWS, PMRA_TRUTH["f_cluster"])
    true_p = pmra_membership(stars["pmra"], stars["pmra_error"], PMRA_TRUTH)
    truth = membership_by_magnitude(
        stars["phot_g_mean_mag"],
        true_p,
        f_draws,
        np.random.default_rng(1),
        true_member=stars["member"],
    )
    assert truth["n_flagged"] == 0
    assert truth["truth"]["n_flagged"] <= 1
    offset = np.subtract(truth["sum_p"], truth["truth"]["n_members"])
    assert np.all(np.abs(offset) < 3.5 * np.asarray(truth["truth"]["expected_sd"])), offset
    core_p = pmra_membership(stars["pmra"], stars["pmra_error"], CORE_PMRA)
    core = membership_by_magnitude(
        stars["phot_g_mean_mag"],
        core_p,
        np.full(N_DRAWS, CORE_PMRA["f_cluster"]),
        np.random.default_rng(1),
        true_member=stars["member"],
    )
    assert core["truth"]["n_flagged"] == 5
    assert min(core["truth"]["ratio"]) > 1.5


def test_a_member_fraction_falling_with_magnitude_is_flagged() -> None:
    # Members are bright (fraction 0.4 at G = 13 falling to 0 at 20.5): the model's
    # constant f puts Sigma p above the replicated range in the brightest bin (ratio about
    # 1.6, 7 sd of Binomial(400, 0.2)), and the faintest bin's Sigma p is several times its
    # few true members.
    stars = pmra_field(3, member_fraction=lambda g: 0.4 * (20.5 - g) / 7.5)
    fraction = float(np.mean(stars["member"]))
    p = pmra_membership(stars["pmra"], stars["pmra_error"], {**PMRA_TRUTH, "f_cluster": fraction})
    check = membership_by_magnitude(
        stars["phot_g_mean_mag"],
        p,
        np.full(N_DRAWS, fraction),
        np.random.default_rng(2),
        true_member=stars["member"],
    )
    assert check["flagged"][0] and check["ratio"][0] > 1.3
    assert check["n_flagged"] >= 2
    assert check["truth"]["ratio"][-1] > 2.0 and check["truth"]["flagged"][-1]


# ------------------------------------------------------------------ files


def pmra_files(tmp_path: Path) -> dict[str, Path]:
    """A pmra_1d fit on disk: catalogue, masks, trace (constant posterior at PMRA_TRUTH),
    membership file and truth.json."""
    stars = pmra_field(4, n=800)
    source_id = stars["source_id"] + 1000
    rng = np.random.default_rng(5)
    separation = 5.0 * np.sqrt(rng.random(source_id.size))
    Table(
        {
            "source_id": source_id,
            "pmra": stars["pmra"],
            "pmra_error": stars["pmra_error"],
            "phot_g_mean_mag": stars["phot_g_mean_mag"],
        }
    ).write(tmp_path / "catalog.fits")
    Table(
        {
            "source_id": source_id[::-1],  # another order: joined on source_id
            "separation_arcmin": separation[::-1],
            "in_cluster_region": np.ones(source_id.size, bool),
            "in_control_field": np.zeros(source_id.size, bool),
        }
    ).write(tmp_path / "masks.fits")
    values = pmra_free_values(PMRA_TRUTH)
    idata = az.from_dict(
        posterior={
            name: np.broadcast_to(np.asarray(value, float), (2, 60, *np.shape(value))).copy()
            for name, value in values.items()
        },
        observed_data={"obs": stars["pmra"]},
    )
    options = {**PMRA_OPTIONS, "stars": "all"}
    stamp_trace(
        idata,
        model="pmra_1d",
        cluster="test",
        n_stars=source_id.size,
        options=options,
        data_sha256=sha256_file(tmp_path / "catalog.fits"),
    )
    save_trace(idata, tmp_path / "trace.nc")
    p = pmra_membership(stars["pmra"], stars["pmra_error"], PMRA_TRUTH)
    Table({"source_id": source_id, "p_cluster": p, "p_cluster_sd": np.zeros_like(p)}).write(
        tmp_path / "membership.fits"
    )
    members = [int(s) for s in source_id[stars["member"]]]
    (tmp_path / "truth.json").write_text(json.dumps({"member_source_ids": members}))
    return {
        name: tmp_path / file
        for name, file in (
            ("catalog_path", "catalog.fits"),
            ("masks_path", "masks.fits"),
            ("membership_path", "membership.fits"),
            ("truth_path", "truth.json"),
        )
    }


def test_run_ppc_writes_the_local_checks_and_their_macros(tmp_path: Path) -> None:
    files = pmra_files(tmp_path)
    result = run_ppc(tmp_path / "trace.nc", tmp_path / "ppc.json", seed=3, n_draws=60, **files)
    stored = json.loads((tmp_path / "ppc.json").read_text())
    assert stored == json.loads(json.dumps(result))
    radial, magnitude = stored[RADIAL_KEY], stored[MAGNITUDE_KEY]
    assert radial["status"] == magnitude["status"] == "done"
    for key in ("edges", "observed", "replicated_q2.5", "replicated_q97.5", "p_values", "ratio"):
        assert len(radial[key]) == len(radial["edges"]) - (key != "edges")
    assert 0.0 <= radial["p_value"] <= 1.0 and radial["n_draws"] == 60
    assert radial["window"]["observables"]["pmra"]["centre"] == pytest.approx(-2.9)
    for key in ("sum_p", "n_stars", "replicated_mean", "ratio", "flagged"):
        assert len(magnitude[key]) == magnitude["n_bins"] == 5
    assert sum(magnitude["n_stars"]) == 800
    assert len(magnitude["truth"]["n_members"]) == 5
    # without the membership and truth files, the magnitude check is skipped, not wrong
    bare = run_ppc(
        tmp_path / "trace.nc",
        tmp_path / "bare.json",
        seed=3,
        n_draws=60,
        catalog_path=files["catalog_path"],
        masks_path=files["masks_path"],
    )
    assert bare[MAGNITUDE_KEY]["status"] == "skipped" and bare[RADIAL_KEY] == radial

    macros = write_ppc_numbers([tmp_path / "ppc.json"], tmp_path / "ppc.tex", made_by="test")
    assert read_macros(tmp_path / "ppc.tex") == macros
    for name in (
        "PpcPmraOneDRadialWindowPvalue",
        "PpcPmraOneDRadialWindowInnerRatio",
        "PpcPmraOneDMagnitudeFlagged",
        "PpcPmraOneDMagnitudeRatioMin",
        "PpcPmraOneDMagnitudeTruthRatioMax",
        "PpcPmraOneDMagnitudeTruthFlagged",
        "PpcWindowSd",
        "PpcAnnuli",
        "PpcMagnitudeBins",
        "PpcRadialLowCount",
        "PpcMagnitudeFlaggedCount",
        "PpcLocalSummary",
    ):
        assert name in macros, name
    summary = macros["PpcLocalSummary"]
    assert summary[0].isupper() and summary.endswith(".")
    assert summary.count("$") % 2 == 0 and summary.count("{") == summary.count("}")
    assert "without positions" in summary and "simulated members" in summary


def test_local_macros_without_local_checks_still_define_the_paper_macros() -> None:
    macros = local_macros([{"model": "line_outliers", "n_draws": 10, "quantities": {}}])
    assert macros["PpcLocalSummary"] == "No fit could be checked locally."
    assert macros["PpcAnnuli"] == "5" and macros["PpcWindowSd"] == "2"


def test_ppc_figure_shows_the_local_checks(tmp_path: Path) -> None:
    posterior = constant_posterior({**PHASE_TRUTH, "f_cluster": 0.1}, n_draws=50)
    data = phase_field(1, 0.1, n=600)
    g_mag = np.random.default_rng(0).uniform(13.0, 20.0, 600)
    local = LocalInputs(
        phot_g_mean_mag=g_mag,
        p_cluster=np.full(600, 0.1),
        true_member=np.arange(600) % 10 == 0,
    )
    result = posterior_predictive_check("phase_space", data, {}, posterior, seed=1, local=local)
    fig = ppc_figure([result])
    assert sum(ax.get_visible() for ax in fig.axes) == 4 + 2
    save_figure(fig, tmp_path / "ppc.pdf", {"rule": "test"})
    assert (tmp_path / "ppc.pdf").read_bytes().startswith(b"%PDF")

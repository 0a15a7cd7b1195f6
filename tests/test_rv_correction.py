"""Gaia DR3 radial-velocity corrections: the published formulae, the cleaning step, and the
simulator's catalogue corrected back to the truth.

Statistical tolerances: with n independent pulls of unit variance, their mean has sd
1/sqrt(n) and their variance sd sqrt(2/n); the tests allow 4 of those sds (fixed seeds).
"""

from __future__ import annotations

import numpy as np
import pytest

from clustermix.data.clean import clean_catalog
from clustermix.data.rv_correction import (
    ERROR_BRANCH_GRVS_MAG,
    OFFSET_MIN_GRVS_MAG,
    grvs_from_rp,
    radial_velocity_corrections,
    rv_error_factor,
    rv_offset_kms,
)
from clustermix.data.simulate import simulate_field_with_latent

from .gaia_factory import make_gaia_table

CUTS = {
    "ruwe_max": 1.4,
    "params_solved": [31, 95],
    "g_max_mag": 20.5,
    "zero_point": True,
}
N_SD = 4.0


def test_katz_offset_starts_at_grvs_11_and_grows_towards_the_faint_end() -> None:
    # The transcribed polynomial must vanish where Katz et al. (2023) start applying it
    # (a wrong coefficient leaves a step of up to km/s there).
    assert rv_offset_kms(np.array([OFFSET_MIN_GRVS_MAG]))[0] == pytest.approx(0.0, abs=1e-3)
    grvs = np.array([8.0, 10.9, 12.0, 13.0, 14.0, np.nan])
    offset = rv_offset_kms(grvs)
    np.testing.assert_array_equal(offset[[0, 1, 5]], 0.0)
    # negative (published RVs of faint stars are too large) and growing: -0.39 km/s at 14
    assert np.all(np.diff(offset[2:5]) < 0)
    assert offset[4] == pytest.approx(-0.390, abs=0.001)


def test_babusiaux_error_factor_branches_meet_at_grvs_12() -> None:
    # Two independently transcribed quadratics: they meet at G_RVS = 12 in the paper.
    below = rv_error_factor(np.array([ERROR_BRANCH_GRVS_MAG - 1e-9]))[0]
    above = rv_error_factor(np.array([ERROR_BRANCH_GRVS_MAG]))[0]
    assert below == pytest.approx(above, abs=1e-3)
    factors = rv_error_factor(np.array([8.0, 14.0, np.nan]))
    np.testing.assert_allclose(factors, [1.647, 1.165, 1.0], atol=1e-3)


def test_grvs_is_estimated_only_where_the_catalogue_has_none() -> None:
    rv = np.array([10.0, 10.0, 10.0, np.nan, 10.0])
    grvs = np.array([13.0, np.nan, np.nan, 13.0, np.nan])
    rp = np.array([13.5, 13.5, np.nan, 13.5, 13.5])
    bp_rp = np.array([1.0, 1.0, 1.0, 1.0, np.nan])
    fixed = radial_velocity_corrections(rv, grvs, rp, bp_rp)
    estimated = grvs_from_rp(rp[1:2], bp_rp[1:2])
    np.testing.assert_allclose(fixed.offset_kms[:2], rv_offset_kms(np.r_[13.0, estimated]))
    # no G_RVS and no way to estimate it: published values kept; no RV: NaN
    assert fixed.offset_kms[2] == 0.0 and fixed.error_factor[2] == 1.0
    assert np.isnan(fixed.offset_kms[3]) and np.isnan(fixed.error_factor[3])
    assert fixed.offset_kms[4] == 0.0
    assert (fixed.n_with_rv, fixed.n_grvs_estimated, fixed.n_without_grvs) == (4, 1, 2)
    assert fixed.n_offset == 2


def test_cleaning_corrects_and_keeps_the_published_values() -> None:
    table = make_gaia_table(300, seed=5)
    table["ruwe"] = np.float32(1.0)
    catalog, summary = clean_catalog(table, source="field.fits", **CUTS, rv_correction=True)
    raw = np.asarray(catalog["radial_velocity_raw"], float)
    has = np.isfinite(raw)
    assert has.sum() > 10
    grvs = np.asarray(catalog["grvs_mag"], float)
    np.testing.assert_allclose(
        np.asarray(catalog["radial_velocity"], float)[has],
        (raw + rv_offset_kms(grvs))[has],
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        np.asarray(catalog["radial_velocity_error"], float)[has],
        (np.asarray(catalog["radial_velocity_error_raw"], float) * rv_error_factor(grvs))[has],
        rtol=1e-6,
    )
    assert summary["n_rv"] == has.sum()
    assert summary["n_rv_offset"] == int((grvs[has] >= OFFSET_MIN_GRVS_MAG).sum())
    assert summary["n_rv_grvs_estimated"] == 0

    kept, summary_off = clean_catalog(table, source="field.fits", **CUTS, rv_correction=False)
    np.testing.assert_array_equal(kept["radial_velocity"], kept["radial_velocity_raw"])
    assert summary_off["rv_correction"] is False and summary_off["n_rv_offset"] == 0

    # a file without grvs_mag (e.g. an older export): G_RVS from G_RP and BP-RP
    del table["grvs_mag"]
    _, summary_est = clean_catalog(table, source="field.fits", **CUTS, rv_correction=True)
    assert summary_est["n_rv_grvs_estimated"] == summary["n_rv"]


def test_simulated_catalogue_corrected_gives_back_the_true_rvs() -> None:
    sim = simulate_field_with_latent(
        295.327, 40.19, 20.0, seed=7, n_members=1500, n_field=8000,
        parallax_mas=0.36, pmra_masyr=-2.92, pmdec_masyr=-3.86, rv_kms=2.5,
        sigma_v_kms=1.0, plummer_radius_arcmin=2.5, g_max_mag=19.0,
    )  # fmt: skip
    table = sim.catalog.copy()
    table["ruwe"] = np.float32(1.0)
    catalog, summary = clean_catalog(table, source="sim", **CUTS, rv_correction=True)
    latent = sim.latent
    index = {int(s): k for k, s in enumerate(np.asarray(latent["source_id"]))}
    rows = np.array([index[int(s)] for s in np.asarray(catalog["source_id"])])
    truth = np.asarray(latent["rv_true"])[rows] + np.asarray(latent["rv_orbit"])[rows]
    has = np.isfinite(np.asarray(catalog["radial_velocity"], float))
    n = int(has.sum())
    assert n > 300 and summary["n_rv_offset"] > 100

    corrected = (np.asarray(catalog["radial_velocity"], float) - truth)[has]
    pulls = corrected / np.asarray(catalog["radial_velocity_error"], float)[has]
    assert abs(pulls.mean()) < N_SD / np.sqrt(n)
    assert abs(pulls.var() - 1.0) < N_SD * np.sqrt(2.0 / n)

"""Quality cuts and the parallax zero point."""

from __future__ import annotations

import json
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table
from zero_point import zpt

from clustermix.data.catalog import validate_catalog
from clustermix.data.clean import ZERO_POINT_GLOBAL_MAS, clean_catalog
from clustermix.data.columns import GAIA_COLUMN_NAMES
from clustermix.errors import InputDataError

from .gaia_factory import make_gaia_table

SOURCE = "resources/test/field.fits"
CUTS = {
    "ruwe_max": 1.4,
    "params_solved": [31, 95],
    "g_max_mag": 20.5,
    "zero_point": True,
    "rv_correction": True,
}


@pytest.fixture
def table() -> Table:
    field = make_gaia_table(300, seed=11)
    field["ruwe"] = np.float32(1.0)
    return field


def clean(table: Table, **overrides) -> tuple[Table, dict]:
    return clean_catalog(table, source=SOURCE, **{**CUTS, **overrides})


def package_zero_point(table: Table) -> np.ndarray:
    """zero_point.zpt.get_zpt on the table's columns, as the package documents it."""
    zpt.load_tables()
    return zpt.get_zpt(
        np.asarray(table["phot_g_mean_mag"], dtype=float),
        np.asarray(table["nu_eff_used_in_astrometry"], dtype=float),
        np.asarray(table["pseudocolour"], dtype=float),
        np.asarray(table["ecl_lat"], dtype=float),
        np.asarray(table["astrometric_params_solved"], dtype=float),
        _warnings=False,
    )


def test_cuts_remove_what_they_should(table):
    table["ruwe"][[0, 1, 2]] = [1.5, 2.0, 1.4]  # float32 1.4 fails ruwe < 1.4
    table["astrometric_params_solved"][[3, 4]] = 3
    table["phot_g_mean_mag"][[5, 6, 7, 8]] = [20.5, 20.9, 21.5, 20.499]
    table["phot_g_mean_mag"][0] = 21.0  # fails two cuts
    catalog, summary = clean(table)
    removed = set(table["source_id"][:8])
    assert set(catalog["source_id"]) == set(table["source_id"]) - removed
    assert summary["n_input"] == 300
    assert summary["n_kept"] == 292
    assert summary["n_removed"] == 8
    assert summary["n_removed_ruwe"] == 3
    assert summary["n_removed_params_solved"] == 2
    assert summary["n_removed_g_mag"] == 4
    assert (summary["ruwe_max"], summary["params_solved"], summary["g_max_mag"]) == (
        1.4,
        [31, 95],
        20.5,
    )


def test_zero_point_matches_the_package_for_valid_stars(table):
    catalog, summary = clean(table)
    expected = package_zero_point(catalog)
    assert np.isfinite(expected).all()
    assert not catalog["zero_point_extrapolated"].any()
    np.testing.assert_array_equal(catalog["parallax_zero_point"], expected)
    np.testing.assert_array_equal(catalog["parallax_raw"], table["parallax"])
    np.testing.assert_allclose(
        catalog["parallax"], table["parallax"] - expected, rtol=0, atol=1e-12
    )
    assert summary["zero_point_median_mas"] == pytest.approx(np.median(expected))
    assert summary["zero_point_mean_mas"] == pytest.approx(np.mean(expected))
    assert -0.06 < summary["zero_point_median_mas"] < 0.0


def test_out_of_range_stars_get_the_global_offset_and_a_flag(table):
    five = np.flatnonzero(table["astrometric_params_solved"] == 31)
    six = np.flatnonzero(table["astrometric_params_solved"] == 95)
    table["phot_g_mean_mag"][five[0]] = 5.5  # G below 6
    table["nu_eff_used_in_astrometry"][five[1]] = 2.0
    table["nu_eff_used_in_astrometry"][five[2]] = np.nan
    table["pseudocolour"][six[0]] = 1.8
    table["astrometric_params_solved"][five[3]] = 3
    odd = [five[0], five[1], five[2], six[0], five[3]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        catalog, summary = clean(table, params_solved=[3, 31, 95])
    flagged = catalog["zero_point_extrapolated"]
    assert sorted(np.flatnonzero(flagged)) == sorted(odd)
    assert (catalog["parallax_zero_point"][flagged] == ZERO_POINT_GLOBAL_MAS).all()
    assert len(catalog) == len(table)
    np.testing.assert_allclose(
        catalog["parallax"][flagged], table["parallax"][np.sort(odd)] + 0.017
    )
    valid = ~flagged
    np.testing.assert_array_equal(
        catalog["parallax_zero_point"][valid], package_zero_point(catalog[valid])
    )
    assert summary["n_zero_point_extrapolated"] == 5
    assert summary["n_zero_point_warnings"] >= 3


def test_zero_point_off(table):
    catalog, summary = clean(table, zero_point=False)
    assert (catalog["parallax_zero_point"] == 0.0).all()
    np.testing.assert_array_equal(catalog["parallax"], catalog["parallax_raw"])
    assert not catalog["zero_point_extrapolated"].any()
    assert summary["zero_point"] is False
    assert summary["n_zero_point_extrapolated"] == 0


def test_output_columns_and_units(table):
    table["extra_column"] = np.arange(len(table))
    catalog, summary = clean(table)
    expected = {
        *GAIA_COLUMN_NAMES,
        "parallax_raw",
        "parallax_zero_point",
        "zero_point_extrapolated",
        "radial_velocity_raw",
        "radial_velocity_error_raw",
        "radial_velocity_offset",
    }
    assert set(catalog.colnames) == expected
    for name in ("parallax", "parallax_raw", "parallax_zero_point"):
        assert catalog[name].unit == u.mas
    assert catalog["pmra"].unit == u.mas / u.yr
    assert catalog["zero_point_extrapolated"].dtype == bool
    validate_catalog(catalog, SOURCE)
    json.dumps(summary)


def test_empty_after_cuts(table):
    table["ruwe"] = np.float32(1.6)
    table["phot_g_mean_mag"][:10] = 21.0
    with pytest.raises(InputDataError) as info:
        clean(table)
    message = str(info.value)
    assert SOURCE in message
    assert "0 of 300 kept" in message
    assert "ruwe < 1.4 removes 300" in message
    assert "astrometric_params_solved in [31, 95] removes 0" in message
    assert "phot_g_mean_mag < 20.5 removes 10" in message


def test_two_parameter_rows_without_astrometry_are_cut(table):
    rows = [0, 1]
    table["astrometric_params_solved"][rows] = 3
    for name in ("parallax", "pmra", "pmdec", "ruwe", "parallax_error"):
        table[name][rows] = np.nan
    validate_catalog(table, SOURCE)
    _, summary = clean(table, params_solved=[3, 31, 95])
    assert summary["n_kept"] == 298
    assert summary["n_removed_ruwe"] == 2


def test_kept_stars_without_parallax_are_refused(table):
    table["astrometric_params_solved"][0] = 3
    table["parallax"][0] = np.nan
    with pytest.raises(InputDataError, match=r"field\.fits.*'parallax' \(1 rows\).*remove 3"):
        clean(table, params_solved=[3, 31, 95])


def test_cleaned_catalogue_is_not_cleaned_twice(table):
    catalog, _ = clean(table)
    with pytest.raises(InputDataError, match="applied twice"):
        clean(catalog)


def test_unvalidated_table_without_a_column(table):
    table.remove_column("pmra_error")
    with pytest.raises(
        InputDataError, match=r"field\.fits: the catalogue lacks the column\(s\) pmra_error"
    ):
        clean(table)

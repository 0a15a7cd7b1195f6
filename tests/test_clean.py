"""Quality cuts and the parallax zero point."""

from __future__ import annotations

import json
import logging
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table
from zero_point import zpt

from clustermix.data.catalog import read_catalog, validate_catalog
from clustermix.data.clean import (
    ZERO_POINT_GLOBAL_MAS,
    clean_catalog,
    ecliptic_latitude_deg,
    nu_eff_from_bp_rp,
)
from clustermix.data.columns import GAIA_COLUMN_NAMES
from clustermix.errors import InputDataError

from .gaia_factory import MINIMAL_COLUMNS, make_gaia_table, minimal_columns, with_vizier_names

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


# ----------------------------------------------------------------------- lenient input


def clean_logged(table: Table, caplog, **overrides) -> tuple[Table, dict, list[str]]:
    """:func:`clean` and the messages it logged."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="clustermix.data.clean"):
        catalog, summary = clean(table, **overrides)
    return catalog, summary, [record.getMessage() for record in caplog.records]


def test_complete_catalogue_lacks_nothing(table, caplog):
    _, summary, lines = clean_logged(table, caplog)
    assert summary["missing_columns"] == [] and lines == []
    assert summary["ruwe_cut_applied"] and not summary["params_solved_inferred"]
    assert not summary["ecl_lat_computed"] and summary["n_zero_point_colour_relation"] == 0


def test_minimal_catalogue_is_cleaned_and_says_what_it_did(table, caplog):
    full, _ = clean(table)
    table["phot_g_mean_mag"][0] = 20.9  # removed by the magnitude limit
    catalog, summary, lines = clean_logged(minimal_columns(table), caplog)
    missing = [name for name in GAIA_COLUMN_NAMES if name not in MINIMAL_COLUMNS]
    assert [item["column"] for item in summary["missing_columns"]] == missing
    assert len(lines) == len(missing)  # one line per missing column
    for name, line in zip(missing, lines, strict=True):
        assert f"no column '{name}'" in line and SOURCE in line
    actions = {item["column"]: item["action"] for item in summary["missing_columns"]}
    assert "RUWE cut (ruwe < 1.4) is not made" in actions["ruwe"]
    assert "nu_eff from BP-RP" in actions["nu_eff_used_in_astrometry"]
    assert "BarycentricTrueEcliptic" in actions["ecl_lat"]
    assert "phase_space uses the astrometry alone" in actions["radial_velocity"]
    assert summary["ruwe_cut_applied"] is False and summary["n_removed_ruwe"] == 0
    assert summary["params_solved_inferred"] is True
    assert summary["n_params_solved_unknown"] == summary["n_kept"] == len(table) - 1
    assert summary["ecl_lat_computed"] is True
    assert summary["n_zero_point_colour_relation"] == summary["n_kept"]
    assert summary["n_rv"] == 0 and np.isnan(catalog["radial_velocity"]).all()
    json.dumps(summary)
    # the cleaned catalogue has every column; what was filled in is the complete file's
    assert catalog.colnames == full.colnames
    np.testing.assert_allclose(catalog["ecl_lat"], full["ecl_lat"][1:], rtol=0, atol=1e-9)
    assert np.ma.getmaskarray(catalog["astrometric_params_solved"]).all()
    assert np.ma.getmaskarray(catalog["visibility_periods_used"]).all()
    # the factory's 5-parameter nu_eff is the colour relation's: same zero point
    five = np.asarray(full["astrometric_params_solved"][1:] == 31)
    np.testing.assert_allclose(
        catalog["parallax_zero_point"][five], full["parallax_zero_point"][1:][five], atol=1e-6
    )
    assert not catalog["zero_point_extrapolated"].any()


def test_minimal_catalogue_round_trips_through_fits(table, tmp_path):
    catalog, _ = clean(minimal_columns(table))
    path = tmp_path / "catalog.fits"
    catalog.write(path)
    again = Table.read(path)
    assert again.colnames == catalog.colnames
    assert np.ma.getmaskarray(again["astrometric_params_solved"]).all()


def test_without_colour_the_zero_point_is_the_global_offset_with_a_warning(table, caplog):
    bare = minimal_columns(table)
    bare.remove_column("bp_rp")
    catalog, summary, _ = clean_logged(bare, caplog)
    assert catalog["zero_point_extrapolated"].all()
    assert (catalog["parallax_zero_point"] == ZERO_POINT_GLOBAL_MAS).all()
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "nu_eff_used_in_astrometry" in warned[0]
    assert "global offset -0.017 mas" in warned[0]
    assert summary["n_zero_point_colour_relation"] == 0
    _, off, _ = clean_logged(bare, caplog, zero_point=False)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
    assert (
        "not needed" in {i["column"]: i["action"] for i in off["missing_columns"]}["pseudocolour"]
    )


def test_bp_rp_from_the_two_magnitudes(table, caplog):
    no_colour = table.copy()
    no_colour.remove_columns(["bp_rp", "nu_eff_used_in_astrometry"])
    catalog, summary, _ = clean_logged(no_colour, caplog)
    expected = np.asarray(table["phot_bp_mean_mag"]) - np.asarray(table["phot_rp_mean_mag"])
    np.testing.assert_allclose(catalog["bp_rp"], expected.astype(np.float32))
    five = np.asarray(table["astrometric_params_solved"] == 31)
    assert summary["n_zero_point_colour_relation"] == five.sum()


def test_solution_type_inferred_from_the_colour_columns(table, caplog):
    full, _ = clean(table, params_solved=[31, 95])
    table["parallax"][[3, 5]] = np.nan  # two 2-parameter solutions, as the archive has them
    for name in ("pmra", "pmdec", "parallax_error", "pmra_error", "pmdec_error", "ruwe"):
        table[name][[3, 5]] = np.nan
    table.remove_column("astrometric_params_solved")
    catalog, summary, _ = clean_logged(table, caplog)
    assert summary["params_solved_inferred"] and summary["n_removed_params_solved"] == 2
    assert summary["n_params_solved_unknown"] == 0
    kept = ~np.isin(full["source_id"], table["source_id"][[3, 5]])
    np.testing.assert_array_equal(catalog["parallax_zero_point"], full["parallax_zero_point"][kept])
    np.testing.assert_array_equal(
        catalog["astrometric_params_solved"], full["astrometric_params_solved"][kept]
    )
    assert summary["n_zero_point_colour_relation"] == 0  # both colour columns were there


def test_six_parameter_stars_without_pseudocolour(table, caplog):
    table.remove_column("pseudocolour")
    catalog, summary, _ = clean_logged(table, caplog)
    six = np.asarray(catalog["astrometric_params_solved"] == 95)
    assert (
        summary["n_zero_point_colour_relation"] == (six & ~catalog["zero_point_extrapolated"]).sum()
    )
    recipe = package_zero_point(
        Table(
            {
                "phot_g_mean_mag": catalog["phot_g_mean_mag"],
                "nu_eff_used_in_astrometry": catalog["nu_eff_used_in_astrometry"],
                "pseudocolour": nu_eff_from_bp_rp(catalog["bp_rp"]),
                "ecl_lat": catalog["ecl_lat"],
                "astrometric_params_solved": catalog["astrometric_params_solved"],
            }
        )
    )
    valid = six & ~catalog["zero_point_extrapolated"]
    assert valid.sum() > 10
    np.testing.assert_array_equal(catalog["parallax_zero_point"][valid], recipe[valid])


def test_radial_velocities_without_errors_are_not_used(table, caplog):
    table.remove_column("radial_velocity_error")
    catalog, summary, _ = clean_logged(table, caplog)
    assert np.isnan(catalog["radial_velocity"]).all() and summary["n_rv"] == 0
    action = {i["column"]: i["action"] for i in summary["missing_columns"]}
    assert "without their uncertainties cannot be used" in action["radial_velocity_error"]


def test_near_miss_of_an_optional_column_is_named(table, caplog):
    table.rename_column("ruwe", "ruew")  # a typing slip
    _, summary, lines = clean_logged(table, caplog)
    assert not summary["ruwe_cut_applied"]
    assert "the file has 'ruew': rename it 'ruwe'" in lines[0]


def test_excess_noise_is_not_taken_for_the_solution_type(table, caplog):
    table.remove_column("astrometric_params_solved")
    table["astrometric_excess_noise"] = np.float32(0.2)
    _, _, lines = clean_logged(table, caplog)
    assert any("no column 'astrometric_params_solved'" in line for line in lines)
    assert not any("astrometric_excess_noise" in line for line in lines)


def test_vizier_file_gives_the_same_cleaned_catalogue(table, tmp_path, caplog):
    cone = minimal_columns(table)
    cone.write(tmp_path / "gaia.csv", format="ascii.csv")
    with_vizier_names(cone).write(tmp_path / "vizier.csv", format="ascii.csv")
    results = {}
    for name in ("gaia", "vizier"):
        path = tmp_path / f"{name}.csv"
        read = read_catalog(path)
        validate_catalog(read, path)
        results[name] = clean_catalog(read, source="cone.csv", **CUTS)
    gaia, vizier = results["gaia"], results["vizier"]
    assert gaia[1] == vizier[1]
    assert gaia[0].colnames == vizier[0].colnames
    for name in gaia[0].colnames:
        np.testing.assert_array_equal(
            np.ma.filled(gaia[0][name], -1), np.ma.filled(vizier[0][name], -1), err_msg=name
        )


def test_nu_eff_colour_relation():
    from clustermix.data.stars import nu_eff_from_colour

    colour = np.linspace(-1.0, 6.0, 141)
    nu_eff = nu_eff_from_bp_rp(colour)
    np.testing.assert_allclose(nu_eff, nu_eff_from_colour(colour), rtol=0, atol=1e-15)
    assert np.all(np.diff(nu_eff) <= 0)  # redder is smaller
    assert nu_eff.min() == 1.24 and nu_eff.max() == 1.72
    # Lindegren et al. (2021): 1.76 - 1.61/pi atan(0.531 C); C = 0 is clipped to 1.72
    assert nu_eff_from_bp_rp(np.array([0.0]))[0] == 1.72
    np.testing.assert_allclose(nu_eff_from_bp_rp(np.array([1.0, 2.0])), [1.5099, 1.3421], atol=1e-4)
    assert np.isnan(nu_eff_from_bp_rp(np.array([np.nan]))[0])


@pytest.fixture(scope="module")
def simulated() -> Table:
    """A small simulated field (1000 stars, about 1 s)."""
    from clustermix.data.simulate import simulate_field

    catalog, _ = simulate_field(
        295.327,
        40.19,
        20.0,
        seed=1,
        n_members=200,
        n_field=800,
        parallax_mas=0.36,
        pmra_masyr=-2.91,
        pmdec_masyr=-3.86,
        rv_kms=2.45,
        sigma_v_kms=1.0,
        plummer_radius_arcmin=4.5,
        g_max_mag=20.5,
    )
    return catalog


def test_colour_relation_reproduces_the_simulators_nu_eff(simulated):
    five = np.asarray(simulated["astrometric_params_solved"] == 31)
    assert five.sum() > 100
    np.testing.assert_allclose(
        nu_eff_from_bp_rp(simulated["bp_rp"][five]),
        simulated["nu_eff_used_in_astrometry"][five],
        rtol=0,
        atol=2e-6,  # float32 colours and nu_eff
    )


def test_ecliptic_latitude_matches_the_simulators(simulated):
    """Same frame as the simulator (BarycentricTrueEcliptic): equal to rounding, 1e-9 deg;
    a geocentric frame would differ by the aberration, up to 20 arcsec."""
    from astropy.coordinates import GeocentricTrueEcliptic, SkyCoord

    computed = ecliptic_latitude_deg(simulated["ra"], simulated["dec"])
    np.testing.assert_allclose(computed, simulated["ecl_lat"], rtol=0, atol=1e-9)
    geocentric = (
        SkyCoord(simulated["ra"], simulated["dec"], unit="deg")
        .transform_to(GeocentricTrueEcliptic())
        .lat.deg
    )
    assert np.abs(geocentric - computed).max() > 1e-3

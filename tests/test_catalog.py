"""Reading and checking input catalogues: every bad input gets one clear message."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Column, Table

from clustermix.data.catalog import (
    close_name,
    column_naming,
    read_catalog,
    solution_types,
    validate_catalog,
)
from clustermix.data.columns import CATALOG_MODELS, GAIA_COLUMNS, required_columns
from clustermix.errors import InputDataError

from .gaia_factory import MINIMAL_COLUMNS, make_gaia_table, minimal_columns, with_vizier_names

SOURCE = "my_field.fits"
FORMATS = {
    ".fits": "fits",
    ".fits.gz": "fits",
    ".ecsv": "ascii.ecsv",
    ".csv": "ascii.csv",
    ".vot": "votable",
    ".xml": "votable",
}


@pytest.fixture
def table() -> Table:
    return make_gaia_table(40, seed=3)


def validation_message(table: Table, source: str = SOURCE) -> str:
    """The message validate_catalog raises for ``table`` (fails if it does not raise)."""
    with pytest.raises(InputDataError) as info:
        validate_catalog(table, source)
    return str(info.value)


def assert_tables_equal(left: Table, right: Table) -> None:
    """Same names, dtypes, units and values (NaN equal to NaN)."""
    assert left.colnames == right.colnames
    for name in left.colnames:
        assert left[name].dtype == right[name].dtype, name
        assert left[name].unit == right[name].unit, name
        np.testing.assert_array_equal(np.asarray(left[name]), np.asarray(right[name]), err_msg=name)


# ----------------------------------------------------------------------------- validation


def test_factory_table_is_valid(table):
    validate_catalog(table, SOURCE)
    assert [table[spec.name].dtype for spec in GAIA_COLUMNS] == [
        np.dtype(spec.dtype) for spec in GAIA_COLUMNS
    ]


def test_missing_column_is_named(table):
    table.remove_column("pmdec_error")
    message = validation_message(table)
    assert SOURCE in message
    assert "'pmdec_error' is missing" in message


def test_misnamed_column_gets_a_suggestion(table):
    table.rename_column("pmra", "pm_ra")
    message = validation_message(table)
    assert "'pmra' is missing" in message
    assert "'pm_ra'" in message
    assert "did you mean 'pmra'?" in message


def test_string_column_is_a_dtype_problem(table):
    values = np.asarray(table["parallax"]).astype(str).astype(object)
    values[[3, 7]] = "abc"
    table["parallax"] = Column(values.astype(str))
    message = validation_message(table)
    assert "'parallax' must be numeric" in message
    assert "2 of 40 rows not a number" in message
    assert "'abc'" in message


def test_float_source_id_is_rejected(table):
    table["source_id"] = table["source_id"].astype(np.float64)
    message = validation_message(table)
    assert "'source_id' must hold integers" in message


def test_nan_in_pmra(table):
    table["pmra"][[0, 5, 9]] = np.nan
    message = validation_message(table)
    assert SOURCE in message
    assert "'pmra': 3 rows are NaN" in message


def test_inf_in_parallax_error(table):
    table["parallax_error"][4] = np.inf
    message = validation_message(table)
    assert "'parallax_error': 1 row is infinite" in message


def test_negative_and_zero_errors(table):
    table["pmra_error"][[1, 2]] = -0.1
    table["pmra_error"][3] = 0.0
    message = validation_message(table)
    assert "'pmra_error': 3 rows are not positive (2 negative, 1 zero)" in message


def test_missing_radial_velocity_error_is_allowed(table):
    assert np.isnan(table["radial_velocity_error"]).any()
    validate_catalog(table, SOURCE)


def test_zero_radial_velocity_error_is_not(table):
    has_rv = np.flatnonzero(np.isfinite(table["radial_velocity_error"]))
    table["radial_velocity_error"][has_rv[0]] = 0.0
    assert "'radial_velocity_error': 1 row is not positive" in validation_message(table)


def test_correlation_outside_unit_interval(table):
    table["pmra_pmdec_corr"][6] = 1.5
    message = validation_message(table)
    assert "'pmra_pmdec_corr': 1 row is outside [-1, 1] (e.g. 1.5)" in message


def test_duplicate_source_id(table):
    table["source_id"][[4, 8, 12]] = table["source_id"][0]
    message = validation_message(table)
    assert "'source_id': 1 duplicate value on 4 rows" in message
    assert str(table["source_id"][0]) in message


def test_empty_table(table):
    message = validation_message(table[:0])
    assert SOURCE in message
    assert "no rows" in message


def test_all_problems_in_one_message(table):
    table.rename_column("pmra", "pm_ra")
    table["parallax_error"][2] = np.inf
    table["pmra_pmdec_corr"][6] = -1.5
    message = validation_message(table)
    assert message.startswith(f"{SOURCE}: the input catalogue has 3 problems:")
    assert message.count("\n  - ") == 3


def test_two_parameter_solutions_may_lack_parallax(table):
    rows = [2, 3]
    table["astrometric_params_solved"][rows] = 3
    for name in ("parallax", "parallax_error", "pmra", "pmra_error", "ruwe", "pmra_pmdec_corr"):
        table[name][rows] = np.nan
    validate_catalog(table, SOURCE)


def test_wrong_unit_in_memory(table):
    table["pmra"].unit = u.km / u.s
    assert "'pmra' has unit 'km / s', expected 'mas / yr'" in validation_message(table)


# ----------------------------------------------------------------------------- reading


def write(table: Table, path: Path) -> Path:
    suffix = next(ending for ending in FORMATS if path.name.endswith(ending))
    table.write(path, format=FORMATS[suffix], overwrite=True)
    return path


def test_round_trips_give_identical_validated_tables(table, tmp_path):
    tables = {}
    for suffix in FORMATS:
        path = write(table, tmp_path / f"field{suffix}")
        tables[suffix] = read_catalog(path)
        validate_catalog(tables[suffix], path)
    for read in tables.values():
        assert_tables_equal(read, table)


def test_upper_case_names_are_lowered(table, tmp_path):
    table.rename_columns(table.colnames, [name.upper() for name in table.colnames])
    read = read_catalog(write(table, tmp_path / "upper.fits"))
    assert read.colnames == [spec.name for spec in GAIA_COLUMNS]


def test_names_clashing_in_case_are_refused(tmp_path):
    clash = Table({"RA": [1.0], "ra": [2.0]})
    with pytest.raises(InputDataError, match=r"clash\.ecsv.*differ only in upper/lower case: ra"):
        read_catalog(write(clash, tmp_path / "clash.ecsv"))


def test_csv_without_units_gets_spec_units(table, tmp_path):
    path = write(table, tmp_path / "field.csv")
    assert "mas" not in path.read_text().splitlines()[0]
    read = read_catalog(path)
    assert read["pmra"].unit == u.mas / u.yr
    assert read["ruwe"].unit is None


def test_convertible_units_are_converted(table, tmp_path):
    original = table["ra_error"].copy()
    table["ra_error"] = (np.asarray(original) / 1000.0).astype(np.float32)
    table["ra_error"].unit = u.arcsec
    table["pmra"].unit = "mas.yr**-1"
    read = read_catalog(write(table, tmp_path / "units.ecsv"))
    assert read["ra_error"].unit == u.mas
    np.testing.assert_allclose(read["ra_error"], original, rtol=1e-6)
    assert read["pmra"].unit == u.mas / u.yr


def test_incompatible_unit_is_refused(table, tmp_path):
    table["pmra"].unit = u.km / u.s
    with pytest.raises(InputDataError, match=r"units\.fits: column 'pmra' has unit 'km / s'"):
        read_catalog(write(table, tmp_path / "units.fits"))


def test_masked_floats_become_nan(table, tmp_path):
    read = read_catalog(write(table, tmp_path / "field.vot"))
    assert type(read["radial_velocity"]) is Column
    assert np.isnan(read["radial_velocity"]).sum() == np.isnan(table["radial_velocity"]).sum()


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.fits"
    with pytest.raises(InputDataError, match=r"nowhere\.fits: catalogue file not found"):
        read_catalog(path)


def test_unknown_suffix(tmp_path):
    path = tmp_path / "field.txt"
    path.write_text("ra,dec\n1,2\n")
    with pytest.raises(InputDataError, match=r"field\.txt: unknown catalogue format"):
        read_catalog(path)


@pytest.mark.parametrize("suffix", [".fits", ".vot", ".csv", ".ecsv"])
def test_random_bytes_are_unreadable(tmp_path, suffix):
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(np.random.default_rng(1).bytes(4000))
    with pytest.raises(InputDataError, match=rf"noise{suffix}: cannot read the file"):
        read_catalog(path)


def test_truncated_fits(table, tmp_path):
    data = write(make_gaia_table(2000, seed=1), tmp_path / "full.fits").read_bytes()
    path = tmp_path / "half.fits"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError, match=r"half\.fits: cannot read the file as fits"):
        read_catalog(path)


def test_truncated_gzipped_fits(table, tmp_path):
    data = gzip.compress(write(table, tmp_path / "full.fits").read_bytes())
    path = tmp_path / "half.fits.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputDataError, match=r"half\.fits\.gz: cannot read"):
        read_catalog(path)


def test_truncated_csv_is_caught_by_validation(table, tmp_path):
    text = write(table, tmp_path / "full.csv").read_text()
    path = tmp_path / "half.csv"
    path.write_text(text[: len(text) // 2])
    with pytest.raises(InputDataError, match=r"half\.csv"):
        validate_catalog(read_catalog(path), path)


def test_empty_csv_cells_become_nan(table, tmp_path):
    table["radial_velocity"] = np.float32(np.nan)
    table["radial_velocity_error"] = np.float32(np.nan)
    path = write(table, tmp_path / "no_rv.csv")
    path.write_text(path.read_text().replace("nan", ""))
    read = read_catalog(path)
    assert type(read["radial_velocity"]) is Column
    assert read["radial_velocity"].dtype == np.float32
    assert np.isnan(read["radial_velocity"]).all()
    validate_catalog(read, path)


# ----------------------------------------------------------------------- lenient input


def test_catalog_models_are_the_cluster_models():
    from clustermix.models import CLUSTER_MODEL_NAMES

    assert CATALOG_MODELS == CLUSTER_MODEL_NAMES


def test_minimal_catalogue_is_valid(table, tmp_path):
    path = write(minimal_columns(table), tmp_path / "cone.csv")
    read = read_catalog(path)
    validate_catalog(read, path)
    assert read.colnames == list(MINIMAL_COLUMNS)


def test_every_missing_required_column_in_one_message(table):
    table.remove_columns(["source_id", "pmra_error", "parallax_pmra_corr", "ruwe"])
    message = validation_message(table)
    assert message.startswith(f"{SOURCE}: the input catalogue has 3 problems:")
    assert "'source_id' is missing" in message
    assert "'pmra_error' is missing (needed by models.pmra_1d, models.pm_2d" in message
    assert "'parallax_pmra_corr' is missing (needed by models.phase_space)" in message
    assert "ruwe" not in message  # optional: the RUWE cut is skipped


def test_source_id_missing_is_explained(table):
    table.remove_column("source_id")
    message = validation_message(table)
    assert "required column 'source_id' is missing" in message
    assert "identifies every star" in message and "'Source' in VizieR" in message


def test_required_columns_follow_the_enabled_models(table):
    table.remove_columns(["parallax_pmra_corr", "parallax_pmdec_corr", "parallax_error"])
    without_parallax_models = ("pmra_1d", "pm_2d")
    validate_catalog(table, SOURCE, models=without_parallax_models)
    assert set(required_columns(without_parallax_models)) == {
        "source_id",
        "ra",
        "dec",
        "parallax",  # the zero point corrects it
        "pmra",
        "pmra_error",
        "pmdec",
        "pmdec_error",
        "pmra_pmdec_corr",
        "phot_g_mean_mag",
    }
    assert "parallax" not in required_columns(without_parallax_models, zero_point=False)
    with pytest.raises(InputDataError, match=r"needed by models\.parallax_1d, models\.phase_space"):
        validate_catalog(table, SOURCE)


def test_near_miss_names_are_suggested(table):
    table.rename_column("parallax", "Parallax")  # in memory: read_catalog would lower it
    table.rename_column("pmdec_error", "pmdec_err")
    message = validation_message(table)
    assert "the file has 'Parallax': did you mean 'parallax'?" in message
    assert "the file has 'pmdec_err': did you mean 'pmdec_error'?" in message


def test_only_true_near_misses_are_suggested(table):
    assert close_name("astrometric_params_solved", ["astrometric_excess_noise"]) is None
    assert close_name("ra", ["rv", "dec", "ra_j2000"]) is None
    assert close_name("ecl_lat", ["ecl_lon"]) is None
    assert close_name("parallax", ["paralax", "parallax_over_error"]) == "paralax"
    table.remove_column("pmra")
    table["astrometric_excess_noise"] = np.float32(0.1)
    table["pm"] = np.float32(3.0)
    message = validation_message(table)
    assert "'pmra' is missing" in message
    assert "did you mean" not in message


def test_two_parameter_rows_are_inferred_without_the_solution_column(table):
    table.remove_column("astrometric_params_solved")
    for name in ("parallax", "parallax_error", "pmra", "pmra_error", "pmdec", "pmdec_error"):
        table[name][[4, 9]] = np.nan
    validate_catalog(table, SOURCE)
    solved, inferred = solution_types(table)
    assert inferred
    assert set(np.flatnonzero(solved == 3)) == {4, 9}
    expected_five = np.isfinite(table["nu_eff_used_in_astrometry"])
    expected_five[[4, 9]] = False
    np.testing.assert_array_equal(solved == 31, expected_five)
    table["parallax"][11] = np.nan  # a star with proper motions but no parallax is not 2-p
    assert "'parallax': 1 row is NaN" in validation_message(table)


@pytest.mark.parametrize("suffix", [".csv", ".vot", ".fits"])
def test_vizier_names_read_as_the_archive_names(table, tmp_path, caplog, suffix):
    gaia = read_catalog(write(table, tmp_path / f"gaia{suffix}"))
    with caplog.at_level(logging.INFO, logger="clustermix.data.catalog"):
        vizier = read_catalog(write(with_vizier_names(table), tmp_path / f"vizier{suffix}"))
    assert_tables_equal(vizier, gaia)
    assert column_naming(vizier) == "vizier" and column_naming(gaia) == "gaia"
    lines = [record.getMessage() for record in caplog.records if "VizieR" in record.getMessage()]
    assert len(lines) == 1
    assert "Plx -> parallax" in lines[0] and "BP-RP -> bp_rp" in lines[0]


def test_vizier_readme_labels_and_units(table, tmp_path):
    renamed = with_vizier_names(minimal_columns(table))
    renamed.rename_columns(["RA_ICRS", "DE_ICRS"], ["RAdeg", "DEdeg"])
    renamed["RUWE"] = np.float32(1.0)
    renamed["RUWE"].unit = "---"  # VizieR's "no unit"
    read = read_catalog(write(renamed, tmp_path / "readme_labels.ecsv"))
    validate_catalog(read, "readme_labels.ecsv")
    assert {"ra", "dec", "parallax", "ruwe"} <= set(read.colnames)
    assert read["ruwe"].unit is None


def test_mixed_namings_are_refused_naming_both(table, tmp_path):
    mixed = minimal_columns(table)
    mixed["Plx"] = mixed["parallax"]
    with pytest.raises(InputDataError) as info:
        read_catalog(write(mixed, tmp_path / "mixed.fits"))
    message = str(info.value)
    assert "mixed.fits" in message
    assert "'parallax' and 'Plx' are both 'parallax'" in message


def test_user_columns_with_vizier_like_names_stay_unless_the_file_is_vizier(table, tmp_path):
    own = minimal_columns(table)
    own["RV"] = np.float32(10.0)  # e.g. a ground-based RV beside Gaia's names
    read = read_catalog(write(own, tmp_path / "own.fits"))
    assert "rv" in read.colnames and "radial_velocity" not in read.colnames


def test_vizier_j2000_positions_are_not_taken_for_gaia_positions(table, tmp_path):
    renamed = with_vizier_names(minimal_columns(table))
    renamed.rename_columns(["RA_ICRS", "DE_ICRS"], ["RAJ2000", "DEJ2000"])
    path = write(renamed, tmp_path / "j2000.csv")
    read = read_catalog(path)
    with pytest.raises(InputDataError) as info:
        validate_catalog(read, path)
    message = str(info.value)
    assert "'ra' is missing" in message and "'dec' is missing" in message
    assert "VizieR's 'raj2000'" in message and "'RA_ICRS'" in message

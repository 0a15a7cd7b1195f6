"""The membership catalogue (FITS, VOTable, ECSV) from a small synthetic cluster's files."""

from __future__ import annotations

import json
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
import yaml
from astropy.io import fits
from astropy.io.votable import parse
from astropy.table import Table

from clustermix.catalogues.members import (
    AdoptedFit,
    adopted_fit,
    members_table,
    probability_order,
    read_diagnostics,
    run_members_catalog,
)
from clustermix.errors import InputDataError

from .conftest import TEST_CONFIG, run_snakemake

THRESHOLDS = {"rhat_max": 1.05, "ess_bulk_min": 100, "divergences_max": 5}
# What a TOPCAT user expects of each column: unit (None: dimensionless) and UCD, in order.
EXPECTED = {
    "source_id": (None, "meta.id;meta.main"),
    "ra": ("deg", "pos.eq.ra;meta.main"),
    "dec": ("deg", "pos.eq.dec;meta.main"),
    "parallax": ("mas", "pos.parallax.trig"),
    "parallax_error": ("mas", "stat.error;pos.parallax.trig"),
    "pmra": ("mas / yr", "pos.pm;pos.eq.ra"),
    "pmra_error": ("mas / yr", "stat.error;pos.pm;pos.eq.ra"),
    "pmdec": ("mas / yr", "pos.pm;pos.eq.dec"),
    "pmdec_error": ("mas / yr", "stat.error;pos.pm;pos.eq.dec"),
    "ruwe": (None, "stat.fit.goodness"),
    "phot_g_mean_mag": ("mag", "phot.mag;em.opt"),
    "bp_rp": ("mag", "phot.color;em.opt.B;em.opt.R"),
    "separation_arcmin": ("arcmin", "pos.angDistance"),
    "in_cluster_region": (None, "meta.code"),
    "in_control_field": (None, "meta.code"),
    # pm_2d adopted (phase_space fails the checks below), then ADOPTION_ORDER
    "p_pm_2d": (None, "stat.probability;meta.main"),
    "p_pm_2d_sd": (None, "stat.stdev;stat.probability"),
    "p_phase_space": (None, "stat.probability"),
    "p_phase_space_sd": (None, "stat.stdev;stat.probability"),
    "p_pmra_1d": (None, "stat.probability"),
    "p_pmra_1d_sd": (None, "stat.stdev;stat.probability"),
}


def synthetic_catalog(n_stars: int = 8, seed: int = 3) -> Table:
    """A cleaned catalogue of ``n_stars`` stars with Gaia units, in no particular id order."""
    rng = np.random.default_rng(seed)
    catalog = Table()
    catalog["source_id"] = rng.permutation(np.arange(n_stars, dtype=np.int64) * 1000 + 7)
    for name, unit, low, high in (
        ("ra", "deg", 295.2, 295.4),
        ("dec", "deg", 40.1, 40.3),
        ("parallax_raw", "mas", 0.1, 0.6),
        ("parallax", "mas", 0.1, 0.6),
        ("parallax_zero_point", "mas", -0.03, -0.01),
        ("parallax_error", "mas", 0.02, 0.2),
        ("pmra", "mas / yr", -4.0, -2.0),
        ("pmra_error", "mas / yr", 0.02, 0.2),
        ("pmdec", "mas / yr", -5.0, -3.0),
        ("pmdec_error", "mas / yr", 0.02, 0.2),
        ("ruwe", None, 0.8, 1.3),
        ("phot_g_mean_mag", "mag", 12.0, 19.0),
        ("bp_rp", "mag", 0.5, 2.0),
        ("radial_velocity", "km / s", -20.0, 20.0),
    ):
        catalog[name] = rng.uniform(low, high, n_stars)
        catalog[name].unit = unit
    catalog["bp_rp"][1] = np.nan  # a star without BP/RP photometry
    return catalog


def synthetic_masks(catalog: Table) -> Table:
    """The sky masks of ``catalog``, rows reversed (the join must not rely on row order)."""
    separation = np.linspace(1.0, 19.0, len(catalog))
    masks = Table(
        {
            "source_id": catalog["source_id"],
            "separation_arcmin": separation,
            "in_cluster_region": separation < 5.0,
            "in_control_field": separation > 15.0,
        },
        meta={"RA_DEG": 295.327, "DEC_DEG": 40.19, "R_CLUST": 5.0, "R_CTRL": 15.0},
    )
    masks["separation_arcmin"].unit = "arcmin"
    return masks[::-1]


def synthetic_membership(ids: np.ndarray, seed: int) -> Table:
    """One model's memberships of the stars ``ids``, in shuffled order."""
    rng = np.random.default_rng(seed)
    ids = rng.permutation(np.asarray(ids, np.int64))
    return Table(
        {
            "source_id": ids,
            "p_cluster": rng.uniform(0.0, 1.0, len(ids)),
            "p_cluster_sd": rng.uniform(0.0, 0.1, len(ids)),
        }
    )


def diagnostics(model: str, *, r_hat: float = 1.001, divergences: int = 0) -> dict:
    return {
        "model": model,
        "divergences": divergences,
        "cluster": {"per_variable": {"f_cluster": {"r_hat": r_hat, "ess_bulk": 800.0}}},
    }


@pytest.fixture
def cluster_inputs() -> tuple[Table, Table, dict[str, Table]]:
    """Catalogue, masks and three models' memberships: pmra_1d only on the cluster region."""
    catalog = synthetic_catalog()
    masks = synthetic_masks(catalog)
    in_region = np.asarray(masks["source_id"][np.asarray(masks["in_cluster_region"])])
    memberships = {
        "pmra_1d": synthetic_membership(in_region, seed=1),
        "phase_space": synthetic_membership(catalog["source_id"], seed=2),
        "pm_2d": synthetic_membership(catalog["source_id"], seed=3),
    }
    return catalog, masks, memberships


# phase_space fails the checks (R-hat 1.2), so pm_2d, the next of ADOPTION_ORDER, is adopted.
ADOPTED = AdoptedFit("pm_2d", converged=True)


def build(cluster_inputs, **kwargs) -> Table:
    catalog, masks, memberships = cluster_inputs
    return members_table(
        catalog, masks, memberships, cluster="ngc6819", label="NGC 6819", adopted=ADOPTED, **kwargs
    )


def test_columns_units_ucds_and_order(cluster_inputs) -> None:
    table = build(cluster_inputs)
    assert table.colnames == list(EXPECTED)
    for name, (unit, ucd) in EXPECTED.items():
        assert table[name].unit == (u.Unit(unit) if unit else None), name
        assert table[name].meta["ucd"] == ucd, name
        assert table[name].description, name
    assert "zero point" in table["parallax"].description
    assert "5 arcmin" in table["in_cluster_region"].description
    assert table.meta["CLUSTER"] == "ngc6819"
    assert table.meta["ADOPTED"] == "pm_2d"
    assert table.meta["ADOPT_OK"] is True
    assert table.meta["MODELS"] == "pm_2d,phase_space,pmra_1d"
    assert "posterior mean membership probability" in table.meta["description"]
    assert "NGC 6819" in table.meta["description"]


def test_rows_follow_the_catalogue_and_join_on_source_id(cluster_inputs) -> None:
    catalog, masks, memberships = cluster_inputs
    table = build(cluster_inputs)
    np.testing.assert_array_equal(table["source_id"], catalog["source_id"])
    np.testing.assert_array_equal(table["pmra"], catalog["pmra"])
    assert np.isnan(table["bp_rp"][1])
    mask_of = {int(i): row for i, row in zip(masks["source_id"], masks, strict=True)}
    for row in table:
        mask_row = mask_of[int(row["source_id"])]
        assert row["separation_arcmin"] == mask_row["separation_arcmin"]
        assert row["in_cluster_region"] == mask_row["in_cluster_region"]
    assert table["in_cluster_region"].dtype == bool
    for model, membership in memberships.items():
        p_of = dict(zip(membership["source_id"].tolist(), membership["p_cluster"], strict=True))
        sd_of = dict(zip(membership["source_id"].tolist(), membership["p_cluster_sd"], strict=True))
        for row in table:
            star = int(row["source_id"])
            if star in p_of:
                assert row[f"p_{model}"] == p_of[star]
                assert row[f"p_{model}_sd"] == sd_of[star]
            else:  # a star the model was not fitted to
                assert np.isnan(row[f"p_{model}"]) and np.isnan(row[f"p_{model}_sd"])
    in_region = np.asarray(table["in_cluster_region"])
    assert np.isfinite(table["p_pmra_1d"][in_region]).all()
    assert np.isnan(table["p_pmra_1d"][~in_region]).all()


def test_units_are_converted_or_assumed(cluster_inputs) -> None:
    catalog, masks, memberships = cluster_inputs
    in_arcsec = catalog.copy()
    in_arcsec["parallax"] = in_arcsec["parallax"] / 1000.0
    in_arcsec["parallax"].unit = "arcsec"
    in_arcsec["pmra"].unit = None  # taken to be mas / yr
    table = build((in_arcsec, masks, memberships))
    np.testing.assert_allclose(table["parallax"], catalog["parallax"], rtol=1e-12)
    assert table["parallax"].unit == u.mas
    assert table["pmra"].unit == u.mas / u.yr


def test_adopted_model_follows_the_checks() -> None:
    passing = {model: diagnostics(model) for model in ("pmra_1d", "pm_2d", "phase_space")}
    assert adopted_fit(passing, THRESHOLDS) == AdoptedFit("phase_space", True)
    failing_phase_space = {**passing, "phase_space": diagnostics("phase_space", r_hat=1.2)}
    assert adopted_fit(failing_phase_space, THRESHOLDS) == AdoptedFit("pm_2d", True)
    all_failing = {model: diagnostics(model, divergences=50) for model in passing}
    assert adopted_fit(all_failing, THRESHOLDS) == AdoptedFit("phase_space", False)
    assert probability_order(["pmra_1d", "phase_space", "pm_2d"], "pm_2d") == [
        "pm_2d",
        "phase_space",
        "pmra_1d",
    ]


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (
            lambda c, m, ms: ms.__setitem__("pm_2d", ms["pm_2d"][["source_id", "p_cluster"]]),
            r"pm_2d\.fits: column\(s\) \['p_cluster_sd'\] missing",
        ),
        (
            lambda c, m, ms: ms["phase_space"]["source_id"].__setitem__(0, 99),
            r"phase_space\.fits: column 'source_id' has 1 star\(s\) that catalog\.fits does "
            r"not, e\.g\. 99",
        ),
        (
            lambda c, m, ms: ms["pm_2d"]["source_id"].__setitem__(1, ms["pm_2d"]["source_id"][0]),
            r"pm_2d\.fits: column 'source_id' repeats 1 value",
        ),
        (
            lambda c, m, ms: ms["pm_2d"]["p_cluster"].__setitem__(2, 1.5),
            r"pm_2d\.fits: column 'p_cluster' has 1 value\(s\) outside \[0, 1\]",
        ),
        (
            lambda c, m, ms: m.remove_row(0),
            r"masks\.fits: column 'source_id' lacks 1 star\(s\) of catalog\.fits",
        ),
        (lambda c, m, ms: c.remove_column("bp_rp"), r"catalog\.fits: column 'bp_rp' is missing"),
        (
            lambda c, m, ms: setattr(c["pmdec"], "unit", "deg"),
            r"catalog\.fits: column 'pmdec' is in 'deg', expected 'mas / yr'",
        ),
    ],
    ids=[
        "no-sd-column",
        "unknown-star",
        "repeated-star",
        "bad-p",
        "masks-miss",
        "no-bp-rp",
        "unit",
    ],
)
def test_bad_input_names_the_file_and_column(cluster_inputs, spoil, message) -> None:
    catalog, masks, memberships = cluster_inputs
    spoil(catalog, masks, memberships)
    sources = {"catalog": "catalog.fits", "masks": "masks.fits"}
    sources.update({model: f"membership/{model}.fits" for model in memberships})
    with pytest.raises(InputDataError, match=message):
        build((catalog, masks, memberships), sources=sources)


def test_diagnostics_of_another_model_or_incomplete(tmp_path: Path) -> None:
    path = tmp_path / "pm_2d.json"
    path.write_text(json.dumps(diagnostics("phase_space")))
    with pytest.raises(InputDataError, match=r"pm_2d\.json: holds model 'phase_space'"):
        read_diagnostics(path, "pm_2d")
    path.write_text(json.dumps({"model": "pm_2d", "divergences": 0}))
    with pytest.raises(InputDataError, match=r"pm_2d\.json: key 'cluster\.per_variable'"):
        read_diagnostics(path, "pm_2d")


@pytest.fixture
def written(tmp_path: Path, cluster_inputs) -> tuple[Path, Table]:
    """The three files, written from files as rule members_catalog writes them."""
    catalog, masks, memberships = cluster_inputs
    catalog.write(tmp_path / "catalog.fits")
    masks.write(tmp_path / "masks.fits")
    membership_paths, diagnostics_paths = {}, {}
    for model, membership in memberships.items():
        membership_paths[model] = tmp_path / "membership" / f"{model}.fits"
        membership_paths[model].parent.mkdir(exist_ok=True)
        membership.write(membership_paths[model])
        diagnostics_paths[model] = tmp_path / "diagnostics" / f"{model}.json"
        diagnostics_paths[model].parent.mkdir(exist_ok=True)
        r_hat = 1.2 if model == "phase_space" else 1.001
        diagnostics_paths[model].write_text(json.dumps(diagnostics(model, r_hat=r_hat)))
    table = run_members_catalog(
        tmp_path / "catalog.fits",
        tmp_path / "masks.fits",
        membership_paths=membership_paths,
        diagnostics_paths=diagnostics_paths,
        thresholds=THRESHOLDS,
        cluster="ngc6819",
        label="NGC 6819",
        fits_path=tmp_path / "members.fits",
        votable_path=tmp_path / "members.vot",
        ecsv_path=tmp_path / "members.ecsv",
    )
    return tmp_path, table


def test_votable_has_units_ucds_and_descriptions(written) -> None:
    directory, table = written
    votable = parse(directory / "members.vot")
    resource_table = votable.get_first_table()
    fields = resource_table.fields
    assert [field.name for field in fields] == list(EXPECTED)
    for field in fields:
        unit, ucd = EXPECTED[field.name]
        assert field.ucd == ucd, field.name
        if unit is None:
            assert field.unit is None, field.name
        else:
            assert u.Unit(field.unit) == u.Unit(unit), field.name
        # (the XML writer wraps long text)
        assert " ".join(field.description.split()) == table[field.name].description
    description = " ".join(resource_table.description.split())
    assert "posterior mean membership probability" in description
    assert "adopted model is pm_2d" in description
    params = {param.name: param for param in resource_table.params}
    assert params["cluster"].value == "ngc6819"
    assert params["adopted_model"].value == "pm_2d"
    assert bool(params["adopted_converged"].value) is True
    assert u.Unit(params["cluster_radius"].unit) == u.arcmin
    assert params["cluster_radius"].value == 5.0
    data = resource_table.array
    np.testing.assert_array_equal(data["source_id"], table["source_id"])
    np.testing.assert_array_equal(data["in_control_field"], table["in_control_field"])
    np.testing.assert_array_equal(
        np.ma.filled(data["p_pmra_1d"], np.nan), np.asarray(table["p_pmra_1d"])
    )


def test_fits_and_ecsv_keep_units_ucds_and_descriptions(written) -> None:
    directory, table = written
    for name in ("members.fits", "members.ecsv"):
        read = Table.read(directory / name)
        assert read.colnames == list(EXPECTED), name
        for column, (unit, ucd) in EXPECTED.items():
            assert read[column].unit == (u.Unit(unit) if unit else None), (name, column)
            assert read[column].meta["ucd"] == ucd, (name, column)
            assert read[column].description == table[column].description, (name, column)
        assert read.meta["ADOPTED"] == "pm_2d", name
        np.testing.assert_array_equal(read["source_id"], table["source_id"])
        np.testing.assert_array_equal(
            np.ma.filled(read["p_pm_2d"], np.nan), np.asarray(table["p_pm_2d"])
        )
    header = fits.getheader(directory / "members.fits", "MEMBERS")
    names = [header[f"TTYPE{i}"] for i in range(1, header["TFIELDS"] + 1)]
    assert {name: header[f"TUCD{i}"] for i, name in enumerate(names, 1)} == {
        name: ucd for name, (_, ucd) in EXPECTED.items()
    }
    assert header[f"TCOMM{names.index('pmra') + 1}"] == table["pmra"].description
    assert not list(directory.glob(".*.part"))  # the atomic writes left nothing behind


def test_members_target_builds_the_catalogues_without_the_paper(workdir: Path) -> None:
    process = run_snakemake(workdir, "members", "-n", *TEST_CONFIG)
    output = process.stdout + process.stderr
    jobs = dict(
        (line.split()[0], int(line.split()[1]))
        for line in output.split("Job stats:", 1)[1].split("Reasons:")[0].splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    )
    clusters = [
        entry["name"]
        for entry in yaml.safe_load((workdir / "config/test.yaml").read_text())["clusters"]
    ]
    assert jobs["members_catalog"] == len(clusters)
    assert jobs["members"] == 1
    assert not {"build_paper", "arxiv_tarball", "provenance_manifest"} & set(jobs)
    for cluster in clusters:
        for ext in ("fits", "vot", "ecsv"):
            assert f"results/{cluster}/members.{ext}" in output

"""End to end through Snakemake: the data stage on the tiny config, and bad input stopping it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

from .conftest import run_snakemake

TARGETS = ("results/ngc6819/catalog.fits", "results/ngc6819/masks.fits")


@pytest.fixture(scope="module")
def data_stage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data stage run once on config/test.yaml in a fresh copy of the workflow."""
    from .conftest import copy_workflow

    workdir = copy_workflow(tmp_path_factory.mktemp("data_stage"))
    run_snakemake(workdir, *TARGETS, "--configfile", "config/test.yaml")
    return workdir


def test_data_stage_outputs(data_stage: Path) -> None:
    truth = json.loads((data_stage / "resources/ngc6819/truth.json").read_text())
    raw = Table.read(data_stage / "resources/ngc6819/gaia_dr3_simulated.fits")
    catalog = Table.read(data_stage / "results/ngc6819/catalog.fits")
    masks = Table.read(data_stage / "results/ngc6819/masks.fits")
    check = json.loads((data_stage / "results/ngc6819/input_check.json").read_text())

    assert len(raw) == truth["n_stars"] == check["n_rows"]
    assert 0 < len(catalog) <= len(raw)
    assert np.all(catalog["ruwe"] < 1.4)
    assert catalog["parallax"].unit == "mas"
    assert "parallax_raw" in catalog.colnames
    assert np.array_equal(np.sort(masks["source_id"]), np.sort(catalog["source_id"]))
    assert masks["in_cluster_region"].sum() > 0 and masks["in_control_field"].sum() > 0
    assert not np.any(masks["in_cluster_region"] & masks["in_control_field"])


def test_second_run_does_nothing(data_stage: Path) -> None:
    process = run_snakemake(data_stage, "-n", *TARGETS, "--configfile", "config/test.yaml")
    assert "Nothing to be done" in process.stdout + process.stderr


def test_bad_user_catalogue_stops_before_cleaning(data_stage: Path) -> None:
    """A user file with a missing column and NaNs stops at the check, naming the problems.

    The earlier cleaned catalogue of the simulated run must survive untouched.
    """
    catalog_path = data_stage / "results/ngc6819/catalog.fits"
    before = catalog_path.read_bytes()
    raw = Table.read(data_stage / "resources/ngc6819/gaia_dr3_simulated.fits")
    raw.remove_column("pmra_error")
    raw["parallax"][:7] = np.nan
    raw.write(data_stage / "my_gaia.csv", format="ascii.csv", overwrite=True)

    process = run_snakemake(
        data_stage,
        *TARGETS,
        "--configfile",
        "config/test.yaml",
        "--config",
        "data={source: file, path: my_gaia.csv}",
        check=False,
    )
    output = process.stdout + process.stderr
    assert process.returncode != 0
    assert "my_gaia.csv" in output
    assert "pmra_error" in output
    assert catalog_path.read_bytes() == before


def test_archive_source_through_the_workflow(workdir: Path) -> None:
    """data.source: archive runs astroquery against a TAP server on loopback, end to end."""
    from .tap_server import TapServer, make_gaia_like_table

    served = make_gaia_like_table(n=400, seed=11, g_range_mag=(10.0, 19.0))
    override = workdir / "archive.yaml"
    with TapServer(served) as server:
        override.write_text(
            "data:\n"
            "  source: archive\n"
            "  archive:\n"
            f"    tap_url: {server.url}\n"
            "    max_retries: 1\n"
            "    backoff_s: 0.01\n"
            "    poll_s: 0.05\n"
        )
        run_snakemake(
            workdir, *TARGETS, "--configfile", "config/test.yaml", str(override), timeout_s=300
        )
        assert len(server.cone_queries) == 1

    provenance = json.loads((workdir / "resources/ngc6819/gaia_dr3.provenance.json").read_text())
    downloaded = Table.read(workdir / "resources/ngc6819/gaia_dr3.fits")
    catalog = Table.read(workdir / "results/ngc6819/catalog.fits")
    assert provenance["n_rows"] == len(downloaded) > 0
    assert "CONTAINS" in provenance["adql"]
    assert 0 < len(catalog) <= len(downloaded)
    # The provenance lineage of the cleaned catalogue ends at the query, with its ADQL and time.
    from clustermix.provenance.audit import Auditor, lineage_tree
    from clustermix.provenance.manifest import build_manifest

    manifest = build_manifest(
        figures=[],
        numbers=["results/ngc6819/masks.fits"],
        configfiles=["config/test.yaml", str(override)],
        command_line_configfiles=["config/test.yaml", str(override)],
        config={},
        rule_scripts={"query_gaia": "scripts/query_gaia.py"},
        workdir=workdir,
    )
    query = manifest["files"]["resources/ngc6819/gaia_dr3.fits"]
    assert query["made_by"]["rule"] == "query_gaia"
    assert query["details"]["archive_query"]["adql"] == provenance["adql"]
    assert query["made_by"]["software"]["astroquery"]
    tree = lineage_tree(Auditor(manifest, workdir), "results/ngc6819/masks.fits")
    assert f"Gaia archive query at {provenance['query_utc']}" in tree
    assert "CONTAINS" in tree


def test_reference_members_from_vizier_through_the_workflow(workdir: Path) -> None:
    """data.source: archive fetches the reference member lists with astroquery's Vizier from
    a VizieR on loopback (reference.vizier_server), with provenance, and adds the user's
    file; no Gaia query or fit is needed for the lists."""
    from .test_reference_members import NGC6819_IDS, vizier_tables
    from .vizier_server import VizierServer

    Table({"source_id": NGC6819_IDS[:2], "probability": [0.9, 0.2]}).write(workdir / "mine.csv")
    override = workdir / "reference.yaml"
    target = "results/ngc6819/reference_members.ecsv"
    with VizierServer(vizier_tables()) as server:
        url = server.url
        override.write_text(
            "clusters:\n"
            "  - {name: ngc6819, label: NGC 6819, ra_deg: 295.327, dec_deg: 40.19,\n"
            "     reference_members: [{path: mine.csv, label: Mine}]}\n"
            "data:\n"
            "  source: archive\n"
            "reference:\n"
            f"  vizier_server: {url}\n"
            "  max_retries: 1\n"
            "  backoff_s: 0.01\n"
        )
        run_snakemake(workdir, target, "--configfile", "config/test.yaml", str(override))
        assert sorted(r.script["-source"] for r in server.requests) == [
            "J/A+A/640/A1/nodup",
            "J/A+A/673/A114/members",
        ]
        assert all(
            r.script["Name" if "673" in r.script["-source"] else "Cluster"] == "NGC_6819"
            for r in server.requests
        )

    from clustermix.catalogues.reference_members import read_reference_members

    lists = {item.info.key: item for item in read_reference_members(workdir / target)}
    assert list(lists) == ["hunt2023", "cantat2020", "file1"]
    assert lists["hunt2023"].info.n_members == 4 and lists["cantat2020"].info.n_members == 2
    assert lists["file1"].info.label == "Mine" and lists["file1"].info.n_members == 1
    provenance = json.loads(
        (workdir / "resources/ngc6819/reference/hunt2023.provenance.json").read_text()
    )
    assert provenance["server"] == url and provenance["n_rows"] == 6
    # The lineage of the lists ends at the VizieR queries, with table, name and time.
    from clustermix.provenance.audit import Auditor, lineage_tree
    from clustermix.provenance.manifest import build_manifest

    manifest = build_manifest(
        figures=[],
        numbers=[target],
        configfiles=["config/test.yaml", str(override)],
        command_line_configfiles=["config/test.yaml", str(override)],
        config={},
        rule_scripts={"query_reference_members": "scripts/query_reference_members.py"},
        workdir=workdir,
    )
    query = manifest["files"]["resources/ngc6819/reference/hunt2023.fits"]
    assert query["made_by"]["rule"] == "query_reference_members"
    assert query["details"]["vizier_query"]["vizier_table"] == "J/A+A/673/A114/members"
    tree = lineage_tree(Auditor(manifest, workdir), target)
    assert f"VizieR J/A+A/673/A114/members (NGC_6819) at {provenance['query_utc']}" in tree


def test_user_catalogue_lineage_ends_at_its_checksum(workdir: Path) -> None:
    """data.source: file; the manifest's lineage ends at the user's file and its sha256."""
    from clustermix.io import sha256_file
    from clustermix.provenance.audit import Auditor, lineage_tree
    from clustermix.provenance.manifest import build_manifest

    from .tap_server import make_gaia_like_table

    make_gaia_like_table(n=400, seed=12, g_range_mag=(10.0, 19.0)).write(workdir / "my_gaia.fits")
    override = workdir / "user.yaml"
    override.write_text("data:\n  source: file\n  path: my_gaia.fits\n")
    run_snakemake(workdir, *TARGETS, "--configfile", "config/test.yaml", str(override))

    manifest = build_manifest(
        figures=[],
        numbers=["results/ngc6819/masks.fits"],
        configfiles=["config/test.yaml", "user.yaml"],
        command_line_configfiles=["config/test.yaml", "user.yaml"],
        config={},
        rule_scripts={},
        workdir=workdir,
    )
    user = manifest["files"]["my_gaia.fits"]
    assert user["made_by"] is None and user["origin"] == "external file"
    assert user["sha256"] == sha256_file(workdir / "my_gaia.fits")
    tree = lineage_tree(Auditor(manifest, workdir), "results/ngc6819/masks.fits")
    assert f"user catalogue, not made by the workflow (sha256 {user['sha256'][:12]})" in tree


def test_vizier_named_minimal_catalogue_through_the_workflow(data_stage: Path) -> None:
    """A VizieR-named cone with only the columns the run needs goes through the data stage,
    each missing column logged, and gives the catalogue the library gives for the same
    stars under the archive's names. A cluster of its own, so the simulated run's files
    stay as they are."""
    from clustermix.data.catalog import read_catalog
    from clustermix.data.clean import clean_catalog

    from .gaia_factory import MINIMAL_COLUMNS, minimal_columns, with_vizier_names

    raw = Table.read(data_stage / "resources/ngc6819/gaia_dr3_simulated.fits")
    cone = minimal_columns(raw)
    cone.write(data_stage / "cone_gaia.csv", format="ascii.csv", overwrite=True)
    with_vizier_names(cone).write(
        data_stage / "cone_vizier.csv", format="ascii.csv", overwrite=True
    )
    override = data_stage / "vizier.yaml"
    override.write_text(
        "clusters:\n"
        "  - {name: vizier_cone, ra_deg: 295.327, dec_deg: 40.190, radius_arcmin: 20.0,\n"
        "     path: cone_vizier.csv}\n"
        "data: {source: file}\n"
    )
    targets = ("results/vizier_cone/catalog.fits", "results/vizier_cone/masks.fits")
    run_snakemake(data_stage, *targets, "--configfile", "config/test.yaml", str(override))

    check = json.loads((data_stage / "results/vizier_cone/input_check.json").read_text())
    assert check["column_naming"] == "vizier"
    assert set(check["missing_columns"]).isdisjoint(MINIMAL_COLUMNS)
    summary = json.loads((data_stage / "results/vizier_cone/catalog_summary.json").read_text())
    assert summary["ruwe_cut_applied"] is False and summary["ecl_lat_computed"] is True
    assert [item["column"] for item in summary["missing_columns"]] == check["missing_columns"]
    check_log = (data_stage / "logs/vizier_cone/check_catalog.log").read_text()
    assert "VizieR's names for Gaia DR3 (I/355/gaiadr3) recognised" in check_log
    clean_log = (data_stage / "logs/vizier_cone/clean_catalog.log").read_text()
    for name in check["missing_columns"]:
        assert clean_log.count(f"no column '{name}'") == 1, name

    expected, expected_summary = clean_catalog(
        read_catalog(data_stage / "cone_gaia.csv"),
        source="cone_vizier.csv",
        ruwe_max=1.4,
        params_solved=[31, 95],
        g_max_mag=19.0,
        zero_point=True,
        rv_correction=True,
    )
    catalog = Table.read(data_stage / "results/vizier_cone/catalog.fits")
    assert summary == json.loads(json.dumps(expected_summary))
    assert catalog.colnames == expected.colnames
    for name in catalog.colnames:
        np.testing.assert_array_equal(_filled(catalog[name]), _filled(expected[name]), err_msg=name)


def _filled(column) -> np.ndarray:
    """A column's values with masked entries as NaN (floats; FITS reads NaN as masked) or -1."""
    fill = np.nan if column.dtype.kind == "f" else -1
    return np.ma.filled(np.ma.asarray(column), fill)

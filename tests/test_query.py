"""The Gaia archive query: ADQL from validated numbers, astroquery against a loopback TAP server.

Every test runs with non-loopback connections blocked (see ``block_non_loopback``); the
TAP server is :class:`tests.tap_server.TapServer` on 127.0.0.1 with an OS-assigned port.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import astropy.units as u
import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

from clustermix.data import query
from clustermix.data.adql import build_cone_adql
from clustermix.data.columns import GAIA_COLUMN_NAMES, GAIA_COLUMNS
from clustermix.data.query import (
    ArchiveSettings,
    backoff_delays,
    normalize_gaia_table,
    query_gaia_cone,
)
from clustermix.errors import ConfigError, QueryError
from clustermix.io import sha256_file

from .conftest import REPO
from .tap_server import CONE_QUERY, TapServer, block_non_loopback, cone_mask, make_gaia_like_table

RA, DEC, RADIUS_ARCMIN = 295.327, 40.19, 20.0
FAST = {"backoff_s": 0.0, "poll_s": 0.01, "timeout_s": 10.0, "job_timeout_s": 10.0}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Refuse every connection that is not to loopback, for every test of this file."""
    return block_non_loopback(monkeypatch)


@pytest.fixture
def catalog() -> Table:
    return make_gaia_like_table()


@pytest.fixture
def server(catalog: Table) -> Iterator[TapServer]:
    with TapServer(catalog, pending_polls=2) as running:
        yield running


def run_query(
    server: TapServer, out: Path, *, name: str = "gaia_dr3", **archive: Any
) -> dict[str, Any]:
    """query_gaia_cone on the NGC 6819 cone against ``server``; return the provenance."""
    settings = {"tap_url": server.url, "max_retries": 2, **FAST, **archive}
    query_gaia_cone(
        ra_deg=RA,
        dec_deg=DEC,
        radius_arcmin=RADIUS_ARCMIN,
        archive=settings,
        catalog_path=out / f"{name}.fits",
        provenance_path=out / f"{name}.provenance.json",
        download_dir=out / "downloads",
    )
    return json.loads((out / f"{name}.provenance.json").read_text())


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative name -> bytes)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --------------------------------------------------------------------------- ADQL


def test_adql_is_a_cone_on_the_table_with_every_column() -> None:
    adql = build_cone_adql(ra_deg=RA, dec_deg=DEC, radius_arcmin=RADIUS_ARCMIN, g_max_mag=21)
    assert adql == (
        f"SELECT {', '.join(GAIA_COLUMN_NAMES)} FROM gaiadr3.gaia_source "
        "WHERE 1=CONTAINS(POINT('ICRS', ra, dec), "
        "CIRCLE('ICRS', 295.327000000, 40.190000000, 0.333333333)) "
        "AND phot_g_mean_mag < 21.0000"
    )
    match = CONE_QUERY.match(adql)
    assert match is not None and match["table"] == "gaiadr3.gaia_source"


def test_adql_numbers_are_fixed_point() -> None:
    adql = build_cone_adql(
        ra_deg=np.float64(359.9999999999),
        dec_deg=-1e-12,
        radius_arcmin=1e-3,
        g_max_mag=np.int64(18),
    )
    assert "CIRCLE('ICRS', 0.000000000, 0.000000000, 0.000016667)" in adql
    assert "phot_g_mean_mag < 18.0000" in adql
    assert "e-" not in adql and "nan" not in adql.lower()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ra_deg", math.nan),
        ("ra_deg", 360.0),
        ("ra_deg", -0.1),
        ("dec_deg", math.inf),
        ("dec_deg", 90.5),
        ("radius_arcmin", 0.0),
        ("radius_arcmin", 120.1),
        ("g_max_mag", 30.0),
        ("g_max_mag", True),
        ("ra_deg", "295.3) OR 1=1 --"),
    ],
)
def test_adql_rejects_bad_numbers(key: str, value: Any) -> None:
    cone = {"ra_deg": RA, "dec_deg": DEC, "radius_arcmin": RADIUS_ARCMIN, "g_max_mag": 21.0}
    with pytest.raises(ConfigError, match=key):
        build_cone_adql(**{**cone, key: value})


@pytest.mark.parametrize(
    "table",
    [
        "gaiadr3.gaia_source; DROP TABLE x",
        "gaiadr3.gaia_source WHERE 1=1 --",
        "gaiadr3.gaia_source\n",
        "gaia_source",
        "gaiadr3.gaia source",
        "'gaiadr3'.gaia_source",
        "a.b.c",
        "",
    ],
)
def test_adql_rejects_table_names_that_are_not_identifiers(table: str) -> None:
    with pytest.raises(ConfigError, match=r"data\.archive\.table"):
        build_cone_adql(ra_deg=RA, dec_deg=DEC, radius_arcmin=1.0, g_max_mag=20, table=table)


@pytest.mark.parametrize(
    "archive",
    [
        {"tap_url": "ftp://127.0.0.1/tap"},
        {"tap_url": "http://user:secret@127.0.0.1/tap"},
        {"tap_url": "http://127.0.0.1/tap?REQUEST=doQuery"},
        {"tap_url": "http://127.0.0.1:99999/tap"},
        {"max_retries": -1},
        {"max_retries": 2.5},
        {"backoff_s": math.nan},
        {"tap_ur": "http://127.0.0.1/tap"},
    ],
)
def test_archive_settings_are_checked(archive: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"data\.archive"):
        ArchiveSettings.from_mapping(archive)


def test_archive_settings_defaults_and_url() -> None:
    default = ArchiveSettings.from_mapping({"tap_url": None})
    assert default.service_url == "https://gea.esac.esa.int/tap-server/tap"
    assert (default.table, default.max_retries, default.backoff_s) == (
        "gaiadr3.gaia_source",
        4,
        5.0,
    )
    custom = ArchiveSettings.from_mapping({"tap_url": "http://127.0.0.1:8080/tap/"})
    assert custom.service_url == "http://127.0.0.1:8080/tap"


def test_backoff_is_exponential_and_capped() -> None:
    assert backoff_delays(4, 5.0) == [5.0, 10.0, 20.0, 40.0]
    assert backoff_delays(3, 0.0) == [0.0, 0.0, 0.0]
    assert max(backoff_delays(20, 5.0)) == query.BACKOFF_MAX_S


# --------------------------------------------------------------------------- normalisation


def archive_like(n: int = 4) -> Table:
    """A table as astroquery returns it: masked columns, SOURCE_ID, VOUnit strings."""
    table = Table(masked=True)
    for column in GAIA_COLUMNS:
        table[column.name] = MaskedColumn(np.ones(n, dtype=column.dtype), unit=column.unit)
    table.rename_column("source_id", "SOURCE_ID")
    table["SOURCE_ID"] = np.arange(n, dtype=np.int64) + 10
    table["pmra"].unit = u.Unit("mas.yr**-1", format="vounit")
    table["ra_error"] = MaskedColumn(np.full(n, 0.002), unit="arcsec")
    table["radial_velocity"] = MaskedColumn(np.full(n, 3.0), mask=[0, 1, 1, 0], unit="km.s**-1")
    table["visibility_periods_used"] = MaskedColumn(np.full(n, 12, np.int32), mask=[0, 0, 1, 0])
    table["extra_column"] = np.zeros(n)
    return table


def test_normalize_names_dtypes_units_and_nulls() -> None:
    table = normalize_gaia_table(archive_like())
    assert table.colnames == list(GAIA_COLUMN_NAMES)
    for column in GAIA_COLUMNS:
        assert table[column.name].dtype == np.dtype(column.dtype), column.name
        assert table[column.name].unit == (u.Unit(column.unit) if column.unit else None)
        assert not isinstance(table[column.name], MaskedColumn)
    assert list(table["source_id"]) == [10, 11, 12, 13]
    assert np.allclose(table["ra_error"], 2.0)  # 0.002 arcsec -> 2 mas
    assert np.array_equal(np.isnan(table["radial_velocity"]), [False, True, True, False])
    assert list(table["visibility_periods_used"]) == [12, 12, query.INT_FILL, 12]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.remove_column("ruwe"), r"lacks column\(s\) \['ruwe'\]"),
        (lambda t: setattr(t["pmdec"], "unit", u.Unit("km / s")), "pmdec.*cannot be converted"),
        (lambda t: setattr(t["ruwe"], "unit", u.mas), "ruwe.*where none is expected"),
        (lambda t: t["SOURCE_ID"].mask.__setitem__(1, True), "without a source_id"),
        (lambda t: t.add_column(t["ra"], name="RA", rename_duplicate=False), "twice"),
    ],
)
def test_normalize_rejects_bad_tables(change: Any, message: str) -> None:
    table = archive_like()
    change(table)
    with pytest.raises(QueryError, match=message):
        normalize_gaia_table(table)


# --------------------------------------------------------------------------- round trips


def test_round_trip_writes_the_catalogue_and_provenance(
    server: TapServer, catalog: Table, tmp_path: Path
) -> None:
    record = run_query(server, tmp_path)

    table = Table.read(tmp_path / "gaia_dr3.fits")
    assert table.colnames == list(GAIA_COLUMN_NAMES)
    for column in GAIA_COLUMNS:
        assert table[column.name].dtype.newbyteorder("=") == np.dtype(column.dtype), column.name
        assert table[column.name].unit == (u.Unit(column.unit) if column.unit else None)
    expected = catalog[cone_mask(catalog, RA, DEC, RADIUS_ARCMIN / 60, 21.0)]
    assert 0 < len(expected) < len(catalog)
    assert len(table) == len(expected) == server.cone_queries[-1].n_rows == record["n_rows"]
    assert np.array_equal(table["source_id"], expected["SOURCE_ID"])
    assert np.array_equal(np.isnan(table["radial_velocity"]), expected["radial_velocity"].mask)

    adql = build_cone_adql(ra_deg=RA, dec_deg=DEC, radius_arcmin=RADIUS_ARCMIN, g_max_mag=21.0)
    assert server.queries == [adql]
    assert record["adql"] == adql and record["service_url"] == server.url
    assert record["sha256"] == sha256_file(tmp_path / "gaia_dr3.fits")
    assert record["attempts"] == 1 and record["from_cache"] is False
    assert record["table"] == "gaiadr3.gaia_source" and record["astroquery_version"]
    assert record["query_utc"].endswith("Z")
    downloads = snapshot(tmp_path / "downloads")
    assert sorted(Path(name).suffix for name in downloads) == [".fits", ".json"]

    # The async UWS conversation astroquery has with the service.
    jobid = server.requests[-1].path.split("/")[3]
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", "/tap/async"),
        *[("GET", f"/tap/async/{jobid}/phase")] * 4,
        ("GET", f"/tap/async/{jobid}/results/result"),
    ]
    post = server.requests[0].params
    assert (post["REQUEST"], post["LANG"], post["PHASE"]) == ("doQuery", "ADQL", "RUN")


@pytest.mark.parametrize(
    ("mode", "path_contains"),
    [("http500", None), ("drop", None), ("malformed", "/results/"), ("drop", "/phase")],
)
def test_retries_after_failures(
    server: TapServer, tmp_path: Path, mode: str, path_contains: str | None
) -> None:
    server.fail_next(2, mode, path_contains)
    record = run_query(server, tmp_path, max_retries=3)
    assert record["attempts"] == 3
    assert len(server.cone_queries) == (3 if path_contains else 1)
    assert len(Table.read(tmp_path / "gaia_dr3.fits")) == record["n_rows"]


def test_failed_query_leaves_earlier_download_untouched(server: TapServer, tmp_path: Path) -> None:
    earlier = run_query(server, tmp_path, g_max_mag=20.0)
    before = snapshot(tmp_path)
    requests_before = len(server.requests)

    server.fail_next(100, "http500")
    with pytest.raises(QueryError) as failure:
        run_query(server, tmp_path, g_max_mag=21.0, max_retries=2)
    message = str(failure.value)
    assert server.url in message and "3 attempt(s)" in message and "500" in message
    assert len(server.requests) == requests_before + 3
    assert snapshot(tmp_path) == before
    assert earlier["sha256"] == sha256_file(tmp_path / "gaia_dr3.fits")


def test_second_run_reuses_the_download_without_a_request(
    server: TapServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = run_query(server, tmp_path)
    n_requests = len(server.requests)
    with caplog.at_level(logging.INFO, logger="clustermix.data.query"):
        second = run_query(server, tmp_path, name="again")
    assert len(server.requests) == n_requests
    assert "reusing the earlier download" in caplog.text
    assert (tmp_path / "again.fits").read_bytes() == (tmp_path / "gaia_dr3.fits").read_bytes()
    assert second["from_cache"] is True and second["attempts"] == 0
    assert second["sha256"] == first["sha256"] == sha256_file(tmp_path / "again.fits")
    assert second["query_utc"] == first["query_utc"]


def test_tampered_download_is_not_reused(server: TapServer, tmp_path: Path) -> None:
    run_query(server, tmp_path)
    (download,) = (tmp_path / "downloads").glob("*.fits")
    download.write_bytes(download.read_bytes()[:-2880])
    n_requests = len(server.requests)
    record = run_query(server, tmp_path)
    assert len(server.requests) > n_requests and record["from_cache"] is False
    assert record["sha256"] == sha256_file(download)


def test_query_error_reported_by_the_archive_is_not_retried(catalog: Table, tmp_path: Path) -> None:
    with TapServer(catalog, table="gaiadr3.other") as server:
        with pytest.raises(QueryError, match=r"not retried.*gaiadr3\.gaia_source"):
            run_query(server, tmp_path, max_retries=3)
        assert [r.method for r in server.requests].count("POST") == 1
    assert not (tmp_path / "downloads").exists()


def test_http_4xx_is_not_retried(server: TapServer, tmp_path: Path) -> None:
    server.fail_next(1, "http400")
    with pytest.raises(QueryError, match="HTTP 400"):
        run_query(server, tmp_path, max_retries=3)
    assert len(server.requests) == 1


def test_empty_cone_is_an_error_naming_the_cone(server: TapServer, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match=r"no star in the cone ra=10 deg, dec=-40 deg"):
        query_gaia_cone(
            ra_deg=10.0,
            dec_deg=-40.0,
            radius_arcmin=5.0,
            archive={"tap_url": server.url, **FAST},
            catalog_path=tmp_path / "c.fits",
            provenance_path=tmp_path / "p.json",
            download_dir=tmp_path / "downloads",
        )
    assert not (tmp_path / "downloads").exists() and not (tmp_path / "c.fits").exists()


def test_job_that_never_finishes_times_out(catalog: Table, tmp_path: Path) -> None:
    with TapServer(catalog, pending_polls=10_000) as server:
        with pytest.raises(QueryError, match="still EXECUTING"):
            run_query(server, tmp_path, job_timeout_s=0.3, poll_s=0.05)


def test_default_archive_goes_through_gaiaclass(
    catalog: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: list[Any]
) -> None:
    """tap_url null: astroquery's GaiaClass, async, votable_gzip, at <root>/tap-server/tap.

    The server stands in for the ESA archive root; importing astroquery.gaia makes its
    module-level client ask gea.esac.esa.int for status messages, which the guard refuses.
    """
    with TapServer(catalog, base_path="/tap-server/tap") as server:
        monkeypatch.setattr(query, "GAIA_ARCHIVE_ROOT", server.root_url)
        record = run_query(server, tmp_path, tap_url=None)
        assert record["service_url"] == f"{server.root_url}tap-server/tap"
        assert server.requests[0].path == "/tap-server/tap/async"
        assert server.requests[0].params["FORMAT"] == "votable_gzip"
        assert record["n_rows"] == server.cone_queries[-1].n_rows > 0
    assert {host for host, _ in no_network} <= {"gea.esac.esa.int"}


def test_custom_url_never_imports_astroquery_gaia(server: TapServer, tmp_path: Path) -> None:
    """In a fresh interpreter, a query on a custom URL leaves astroquery.gaia unimported."""
    code = (
        "import sys\n"
        "from clustermix.data.query import query_gaia_cone\n"
        f"query_gaia_cone(ra_deg={RA}, dec_deg={DEC}, radius_arcmin={RADIUS_ARCMIN},\n"
        f"    archive={{'tap_url': {server.url!r}, 'poll_s': 0.01, 'timeout_s': 10.0}},\n"
        f"    catalog_path={str(tmp_path / 'c.fits')!r},\n"
        f"    provenance_path={str(tmp_path / 'p.json')!r},\n"
        f"    download_dir={str(tmp_path / 'downloads')!r})\n"
        "assert 'astroquery.gaia' not in sys.modules, 'astroquery.gaia was imported'\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert process.returncode == 0, process.stderr[-3000:]
    assert len(server.cone_queries) == 1

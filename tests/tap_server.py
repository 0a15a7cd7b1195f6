"""A small TAP service on loopback, enough of TAP and UWS for astroquery's TapPlus and GaiaClass.

``TapServer`` (stdlib ``http.server`` in a thread, on ``127.0.0.1`` with an OS-assigned
port) serves a catalogue table given by the test. It understands only the cone search
clustermix sends, ``SELECT <columns> FROM <table> WHERE 1=CONTAINS(POINT('ICRS', ra, dec),
CIRCLE('ICRS', ra0, dec0, r)) [AND phot_g_mean_mag < g]``, checks table and columns, and
answers with the catalogue's rows inside the cone as a VOTable (BINARY2, nulls, VOUnit
units such as ``mas.yr**-1`` like the Gaia archive). Every request and every ADQL query
is recorded, and the next requests can be made to fail (HTTP 500 or 400, a dropped
connection, or a body that is not a VOTable) to test retries.

Endpoints, under ``base_path`` (``/tap`` by default; ``/tap-server/tap`` mimics the Gaia
archive for GaiaClass)::

    POST async                      -> 303 Location: <base>/async/<jobid>  (runs on PHASE=RUN)
    GET  async/<jobid>              -> UWS job document
    GET  async/<jobid>/phase        -> PENDING/EXECUTING/COMPLETED/ERROR (text/plain)
    POST async/<jobid>/phase        -> PHASE=RUN runs the job, PHASE=ABORT aborts it; 303
    GET  async/<jobid>/results/result -> VOTable (gzip for FORMAT votable/votable_gzip)
    GET  async/<jobid>/error        -> VOTable error document
    POST sync                       -> VOTable, or HTTP 400 with a VOTable error document
    GET  availability               -> VOSI availability

:func:`block_non_loopback` makes any connection (or name lookup) to a host other than
loopback fail inside the test process, so that a test cannot reach a real archive.
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import itertools
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import astropy.units as u
import numpy as np
import pytest
from astropy.io.votable import from_table
from astropy.table import MaskedColumn, Table

from clustermix.data.columns import GAIA_COLUMNS

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
FAILURE_MODES = ("http500", "http400", "drop", "malformed")

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
CONE_QUERY = re.compile(
    rf"""^\s*SELECT\s+(?:TOP\s+(?P<top>\d+)\s+)?(?P<columns>.+?)\s+
    FROM\s+(?P<table>\w+\.\w+)\s+
    WHERE\s+1\s*=\s*CONTAINS\s*\(\s*
        POINT\s*\(\s*'ICRS'\s*,\s*(?P<ra_col>\w+)\s*,\s*(?P<dec_col>\w+)\s*\)\s*,\s*
        CIRCLE\s*\(\s*'ICRS'\s*,\s*(?P<ra>{_NUM})\s*,\s*(?P<dec>{_NUM})\s*,\s*(?P<radius>{_NUM})\s*\)
    \s*\)
    (?:\s+AND\s+phot_g_mean_mag\s*<\s*(?P<g_max>{_NUM}))?
    \s*$""",
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)


# --------------------------------------------------------------------------- test data


def make_gaia_like_table(
    n: int = 200,
    seed: int = 6819,
    *,
    ra_deg: float = 295.327,
    dec_deg: float = 40.19,
    max_radius_deg: float = 0.45,
    g_range_mag: tuple[float, float] = (10.0, 21.5),
) -> Table:
    """A deterministic Gaia DR3-like archive table of ``n`` stars around a centre.

    Stars are uniform on a cone of ``max_radius_deg`` (deg), so a smaller query cone and a
    G limit inside ``g_range_mag`` (mag) both leave stars out. Columns are those of
    ``GAIA_COLUMNS`` with the archive's dtypes and units, ``SOURCE_ID`` spelt in capitals
    as the Gaia archive does, and nulls (masked values) where the archive has them:
    radial velocities for faint stars, ``nu_eff``/``pseudocolour`` by solution type, a
    few missing BP/RP magnitudes.
    """
    rng = np.random.default_rng(seed)
    ra, dec = _uniform_cone(rng, n, ra_deg, dec_deg, max_radius_deg)
    g_mag = rng.uniform(*g_range_mag, n)
    sigma = 0.02 + 0.5 * 10.0 ** (0.4 * (g_mag - 20.0))
    is_6p = rng.random(n) < 0.2
    no_bprp = rng.random(n) < 0.05
    has_rv = g_mag < 14.5
    bp_rp = rng.uniform(0.5, 2.5, n)
    values: dict[str, Any] = {
        "source_id": 2_076_000_000_000_000_000 + np.arange(n, dtype=np.int64) * 4099,
        "ra": ra,
        "dec": dec,
        "ra_error": 0.8 * sigma,
        "dec_error": 0.7 * sigma,
        "parallax": rng.normal(0.4, 0.3, n),
        "parallax_error": sigma,
        "pmra": rng.normal(-2.9, 2.0, n),
        "pmra_error": 1.1 * sigma,
        "pmdec": rng.normal(-3.9, 2.0, n),
        "pmdec_error": 1.2 * sigma,
        "ruwe": rng.lognormal(0.0, 0.15, n),
        "visibility_periods_used": rng.integers(10, 30, n),
        "astrometric_params_solved": np.where(is_6p, 95, 31),
        "nu_eff_used_in_astrometry": 1.76 - (1.61 / np.pi) * np.arctan(0.531 * bp_rp),
        "pseudocolour": 1.5 + rng.normal(0.0, 0.05, n),
        "ecl_lat": dec + 21.5,
        "phot_g_mean_mag": g_mag,
        "phot_bp_mean_mag": g_mag + 0.4 * bp_rp,
        "phot_rp_mean_mag": g_mag - 0.6 * bp_rp,
        "bp_rp": bp_rp,
        "radial_velocity": rng.normal(2.5, 20.0, n),
        "radial_velocity_error": rng.uniform(1.0, 6.0, n),
        "grvs_mag": g_mag - 0.6 * bp_rp - 0.3,
    }
    masks = {
        "nu_eff_used_in_astrometry": is_6p,
        "pseudocolour": ~is_6p,
        "phot_bp_mean_mag": no_bprp,
        "phot_rp_mean_mag": no_bprp,
        "bp_rp": no_bprp,
        "radial_velocity": ~has_rv,
        "radial_velocity_error": ~has_rv,
        "grvs_mag": ~has_rv,
    }
    table = Table()
    for column in GAIA_COLUMNS:
        if column.correlation:
            data = rng.uniform(-0.4, 0.4, n)
        else:
            data = values[column.name]
        name = "SOURCE_ID" if column.name == "source_id" else column.name
        table[name] = MaskedColumn(
            np.asarray(data).astype(column.dtype),
            mask=masks.get(column.name, np.zeros(n, dtype=bool)),
            unit=u.Unit(column.unit) if column.unit else None,
        )
    return table


def cone_mask(
    table: Table, ra_deg: float, dec_deg: float, radius_deg: float, g_max_mag: float | None = None
) -> np.ndarray:
    """Rows of ``table`` within ``radius_deg`` of the centre (haversine) and brighter than G."""
    ra1, dec1 = np.radians(np.asarray(table["ra"], dtype=float)), np.radians(table["dec"])
    ra0, dec0 = np.radians(ra_deg), np.radians(dec_deg)
    hav = (
        np.sin((dec1 - dec0) / 2) ** 2 + np.cos(dec0) * np.cos(dec1) * np.sin((ra1 - ra0) / 2) ** 2
    )
    inside = 2 * np.degrees(np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))) <= radius_deg
    if g_max_mag is not None:
        inside &= np.asarray(table["phot_g_mean_mag"].filled(np.inf)) < g_max_mag
    return np.asarray(inside)


def _uniform_cone(
    rng: np.random.Generator, n: int, ra_deg: float, dec_deg: float, radius_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions (deg) uniform on the sphere within ``radius_deg`` of the centre."""
    rho = np.radians(radius_deg) * np.sqrt(rng.random(n))
    theta = rng.uniform(0.0, 2 * np.pi, n)
    dec0, ra0 = np.radians(dec_deg), np.radians(ra_deg)
    sin_dec = np.sin(dec0) * np.cos(rho) + np.cos(dec0) * np.sin(rho) * np.cos(theta)
    dec = np.arcsin(sin_dec)
    ra = ra0 + np.arctan2(
        np.sin(theta) * np.sin(rho) * np.cos(dec0), np.cos(rho) - np.sin(dec0) * sin_dec
    )
    return np.degrees(ra) % 360.0, np.degrees(dec)


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True)
class RecordedRequest:
    """One HTTP request as it reached the server (params: form fields, keys upper-case)."""

    method: str
    path: str
    params: dict[str, str]


@dataclass(frozen=True)
class ConeQuery:
    """A cone-search ADQL query the server understood, and how many rows it sent back."""

    adql: str
    table: str
    columns: tuple[str, ...]
    ra_deg: float
    dec_deg: float
    radius_deg: float
    g_max_mag: float | None
    top: int | None
    n_rows: int


@dataclass
class _Job:
    jobid: str
    adql: str
    fmt: str
    phase: str = "PENDING"
    polls_left: int = 0
    votable: bytes = b""
    error: str = ""


@dataclass
class _Failures:
    remaining: int = 0
    mode: str = "http500"
    path_contains: str | None = None


class QueryRejected(Exception):
    """The ADQL is not a cone search this server can answer."""


@dataclass
class TapServer:
    """A TAP service for ``catalog`` (an astropy table) on ``127.0.0.1:<free port>``.

    ``table`` is the only table name accepted; ``pending_polls`` is how many phase polls
    report EXECUTING before COMPLETED. Use as a context manager, or call start/stop.
    """

    catalog: Table
    table: str = "gaiadr3.gaia_source"
    base_path: str = "/tap"
    pending_polls: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    cone_queries: list[ConeQuery] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_path = "/" + self.base_path.strip("/")
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}
        self._ids = itertools.count(1)
        self._failures = _Failures()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._columns = {name.lower(): name for name in self.catalog.colnames}

    # ----- life cycle

    def start(self) -> TapServer:
        """Bind to 127.0.0.1 with an OS-assigned port and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"tap": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread (bounded wait)."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> TapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:<port>/``, the server root (for GaiaClass)."""
        return f"http://127.0.0.1:{self.port}/"

    @property
    def url(self) -> str:
        """The TAP service URL (for TapPlus / ``data.archive.tap_url``)."""
        return f"http://127.0.0.1:{self.port}{self.base_path}"

    # ----- test controls

    def fail_next(self, n: int, mode: str = "http500", path_contains: str | None = None) -> None:
        """Make the next ``n`` requests (whose path contains ``path_contains``) fail."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode must be one of {FAILURE_MODES}")
        with self._lock:
            self._failures = _Failures(n, mode, path_contains)

    @property
    def queries(self) -> list[str]:
        """Every ADQL text received (sync or async), in order, valid or not."""
        return [r.params["QUERY"] for r in self.requests if "QUERY" in r.params]

    # ----- request handling (called by _Handler, under no lock)

    def record(self, method: str, path: str, params: dict[str, str]) -> str | None:
        """Record a request; return the failure mode to apply to it, if any."""
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params))
            failures = self._failures
            if failures.remaining > 0 and (
                failures.path_contains is None or failures.path_contains in path
            ):
                failures.remaining -= 1
                return failures.mode
        return None

    def new_job(self, params: dict[str, str]) -> _Job:
        """Create a UWS job; run it at once when PHASE=RUN was posted."""
        with self._lock:
            job = _Job(
                jobid=f"{1_700_000_000_000 + next(self._ids)}O",
                adql=params.get("QUERY", ""),
                fmt=params.get("FORMAT", "votable").lower(),
            )
            self._jobs[job.jobid] = job
        if params.get("PHASE", "").upper() == "RUN":
            self.run_job(job)
        return job

    def job(self, jobid: str) -> _Job | None:
        with self._lock:
            return self._jobs.get(jobid)

    def run_job(self, job: _Job) -> None:
        """Execute the job's query now; it reports EXECUTING for ``pending_polls`` polls."""
        try:
            job.votable = self.execute(job.adql, job.fmt)
            job.phase, job.polls_left = "EXECUTING", self.pending_polls
        except QueryRejected as err:
            job.phase, job.error = "ERROR", str(err)

    def poll_phase(self, job: _Job) -> str:
        with self._lock:
            if job.phase == "EXECUTING":
                if job.polls_left > 0:
                    job.polls_left -= 1
                else:
                    job.phase = "COMPLETED"
            return job.phase

    def execute(self, adql: str, fmt: str) -> bytes:
        """Run a cone-search ADQL query on the catalogue; return the VOTable bytes."""
        cone = self.parse(adql)
        inside = cone_mask(self.catalog, cone.ra_deg, cone.dec_deg, cone.radius_deg, cone.g_max_mag)
        rows = self.catalog[inside][[self._columns[c.lower()] for c in cone.columns]]
        if cone.top is not None:
            rows = rows[: cone.top]
        with self._lock:
            self.cone_queries.append(dataclasses.replace(cone, n_rows=len(rows)))
        return votable_bytes(rows, gzipped=fmt in ("votable", "votable_gzip"))

    def parse(self, adql: str) -> ConeQuery:
        """Check that ``adql`` is a cone search on our table; raise QueryRejected if not."""
        match = CONE_QUERY.match(adql)
        if match is None:
            raise QueryRejected(f"Cannot parse query '{adql}': not a CONTAINS/CIRCLE cone search")
        if match["table"].lower() != self.table.lower():
            raise QueryRejected(f"Table '{match['table']}' not found")
        if (match["ra_col"].lower(), match["dec_col"].lower()) != ("ra", "dec"):
            raise QueryRejected("POINT must use the ra and dec columns")
        columns = tuple(c.strip() for c in match["columns"].split(","))
        unknown = [c for c in columns if c.lower() not in self._columns]
        if unknown:
            raise QueryRejected(f"Column(s) not found: {', '.join(unknown)}")
        return ConeQuery(
            adql=adql,
            table=match["table"],
            columns=columns,
            ra_deg=float(match["ra"]),
            dec_deg=float(match["dec"]),
            radius_deg=float(match["radius"]),
            g_max_mag=float(match["g_max"]) if match["g_max"] else None,
            top=int(match["top"]) if match["top"] else None,
            n_rows=-1,
        )


def votable_bytes(table: Table, *, gzipped: bool) -> bytes:
    """``table`` as a BINARY2 VOTable (units in VOUnit, e.g. ``mas.yr**-1``), maybe gzipped."""
    buffer = io.BytesIO()
    votable = from_table(table)
    votable.resources[0].type = "results"
    votable.to_xml(buffer, tabledata_format="binary2")
    data = buffer.getvalue()
    return gzip.compress(data, mtime=0) if gzipped else data


def votable_error(message: str) -> bytes:
    """A TAP error document: a VOTable with INFO QUERY_STATUS=ERROR."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        '<RESOURCE type="results">'
        f'<INFO name="QUERY_STATUS" value="ERROR">{escape(message)}</INFO>'
        "</RESOURCE></VOTABLE>\n"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    """Routes requests to the owning :class:`TapServer` (set as the ``tap`` attribute)."""

    tap: TapServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._dispatch("GET", {})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        fields = parse_qs(body, keep_blank_values=True)
        self._dispatch("POST", {key.upper(): values[-1] for key, values in fields.items()})

    def _dispatch(self, method: str, params: dict[str, str]) -> None:
        path = urlsplit(self.path).path
        failure = self.tap.record(method, path, params)
        if failure == "drop":
            self.close_connection = True
            return
        if failure in ("http500", "http400"):
            status = 500 if failure == "http500" else 400
            self._send(status, f"<html><body>HTTP {status}</body></html>".encode(), "text/html")
            return
        if failure == "malformed":
            self._send(200, b"<html><body>this is not a VOTable</body></html>", "text/html")
            return
        base = self.tap.base_path
        if path != base and not path.startswith(base + "/"):
            self._send(404, b"not found", "text/plain")
            return
        parts = [p for p in path[len(base) :].split("/") if p]
        self._route(method, parts, params)

    def _route(self, method: str, parts: list[str], params: dict[str, str]) -> None:
        if method == "GET" and parts == ["availability"]:
            self._send(200, _AVAILABILITY, "text/xml")
        elif method == "POST" and parts == ["sync"]:
            self._sync(params)
        elif method == "POST" and parts == ["async"]:
            job = self.tap.new_job(params)
            self._redirect(f"{self.tap.url}/async/{job.jobid}")
        elif parts[:1] == ["async"] and len(parts) >= 2:
            job = self.tap.job(parts[1])
            if job is None:
                self._send(404, votable_error(f"job {parts[1]} not found"), "text/xml")
            else:
                self._job(method, job, parts[2:], params)
        else:
            self._send(404, votable_error(f"unknown resource {self.path}"), "text/xml")

    def _sync(self, params: dict[str, str]) -> None:
        try:
            body = self.tap.execute(
                params.get("QUERY", ""), params.get("FORMAT", "votable").lower()
            )
        except QueryRejected as err:
            self._send(400, votable_error(str(err)), "text/xml")
            return
        self._send(200, body, "application/x-votable+xml")

    def _job(self, method: str, job: _Job, rest: list[str], params: dict[str, str]) -> None:
        if method == "GET" and rest == []:
            self._send(200, _uws_document(job), "text/xml")
        elif method == "GET" and rest == ["phase"]:
            self._send(200, self.tap.poll_phase(job).encode(), "text/plain")
        elif method == "POST" and rest == ["phase"]:
            phase = params.get("PHASE", "").upper()
            if phase == "RUN" and job.phase == "PENDING":
                self.tap.run_job(job)
            elif phase == "ABORT" and job.phase in ("PENDING", "EXECUTING"):
                job.phase = "ABORTED"
            self._redirect(f"{self.tap.url}/async/{job.jobid}")
        elif method == "GET" and rest == ["results", "result"]:
            if job.phase != "COMPLETED":
                self._send(404, votable_error(f"job {job.jobid} is {job.phase}"), "text/xml")
            else:
                self._send(200, job.votable, "application/x-votable+xml")
        elif method == "GET" and rest == ["error"]:
            self._send(200, votable_error(job.error or "no error"), "text/xml")
        else:
            self._send(404, votable_error(f"unknown job resource {self.path}"), "text/xml")

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


_AVAILABILITY = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">'
    b"<vosi:available>true</vosi:available></vosi:availability>\n"
)


def _uws_document(job: _Job) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<uws:job xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0">'
        f"<uws:jobId>{escape(job.jobid)}</uws:jobId>"
        f"<uws:phase>{escape(job.phase)}</uws:phase>"
        f'<uws:parameters><uws:parameter id="query">{escape(job.adql)}</uws:parameter>'
        "</uws:parameters></uws:job>\n"
    ).encode()


# --------------------------------------------------------------------------- network guard


def block_non_loopback(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Refuse name lookups and connections to any host but loopback; return what was refused.

    Patches ``socket.getaddrinfo`` and ``socket.socket.connect``/``connect_ex`` for the
    test (``monkeypatch`` undoes it): an attempt raises ``ConnectionRefusedError`` before
    any packet leaves the process, and is listed in the returned list.
    """
    refused: list[tuple[str, Any]] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(host: Any, port: Any) -> None:
        if isinstance(host, bytes):
            host = host.decode()
        if host not in LOOPBACK_HOSTS:
            refused.append((str(host), port))
            raise ConnectionRefusedError(f"test network guard: {host}:{port} is not loopback")

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        check(host, port)
        return real_getaddrinfo(host, port, *args, **kwargs)

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            check(address[0], address[1])
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return refused


@pytest.fixture
def tap_server() -> Iterator[TapServer]:
    """A running :class:`TapServer` on the default 200-star table, stopped after the test."""
    with TapServer(make_gaia_like_table()) as server:
        yield server

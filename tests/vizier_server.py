"""A small VizieR on loopback, enough for astroquery's ``VizierClass.query_constraints``.

astroquery 0.4.11 sends one request per query::

    POST /viz-bin/votable        body: a script, one "key=value" per line:
                                 -source=<table>  -out=<col>,<col>,...  -out.max=unlimited
                                 <column>=<value> (a constraint)  -out.meta=huUD
                                 -out.form=mini  -oc.form=d

and parses the answer as a VOTable when it starts with ``<?xml``. ``VizierServer`` (stdlib
``http.server`` in a thread on ``127.0.0.1``, OS-assigned port) serves tables given by the
test under their VizieR names: it keeps the rows whose constraint columns equal the
constraint values exactly (VizieR's text constraints are richer; exact match is what
clustermix relies on), the ``-out`` columns, and answers with a VOTable whose TABLE is
named after the VizieR table. An unknown table gets a VOTable without rows (as VizieR
answers). Every request is recorded; the next requests can be made to fail (HTTP 500 or
400, or a body that is not a VOTable).

Point a client at it with ``vizier_server=server.url`` (``http://127.0.0.1:<port>``).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from astropy.io.votable import from_table
from astropy.table import Table

FAILURE_MODES = ("http500", "http400", "malformed")


@dataclass(frozen=True)
class VizierRequest:
    """One request: method, path and the script's ``key=value`` lines (in order)."""

    method: str
    path: str
    script: dict[str, str]


@dataclass
class VizierServer:
    """VizieR for ``tables`` (VizieR name -> astropy table) on ``127.0.0.1:<free port>``."""

    tables: Mapping[str, Table]
    requests: list[VizierRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[str] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> VizierServer:
        handler = type("Handler", (_Handler,), {"vizier": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> VizierServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``: the root to give as ``reference.vizier_server``."""
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def fail_next(self, n: int, mode: str = "http500") -> None:
        """Make the next ``n`` requests fail with ``mode``."""
        if mode not in FAILURE_MODES:
            raise ValueError(f"mode must be one of {FAILURE_MODES}")
        with self._lock:
            self._failures = [mode] * n

    def record(self, request: VizierRequest) -> str | None:
        with self._lock:
            self.requests.append(request)
            return self._failures.pop(0) if self._failures else None

    def answer(self, script: Mapping[str, str]) -> bytes:
        """The VOTable of a query script."""
        name = script.get("-source", "")
        table = self.tables.get(name)
        if table is None:
            return _EMPTY_VOTABLE
        keep = np.ones(len(table), dtype=bool)
        for key, value in script.items():
            if key.startswith("-"):
                continue
            if key not in table.colnames:
                return _EMPTY_VOTABLE
            keep &= np.char.strip(np.asarray(table[key].astype(str))) == value.strip()
        rows = table[keep]
        if "-out" in script:
            rows = rows[[column for column in script["-out"].split(",") if column]]
        if len(rows) == 0:
            return _EMPTY_VOTABLE
        votable = from_table(rows)
        votable.resources[0].tables[0].name = name
        buffer = io.BytesIO()
        votable.to_xml(buffer)
        return buffer.getvalue()


_EMPTY_VOTABLE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
    b'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="OK"/></RESOURCE>'
    b"</VOTABLE>\n"
)


def parse_script(body: str) -> dict[str, str]:
    """astroquery's script: ``key=value`` (or a bare ``key``) per line."""
    script: dict[str, str] = {}
    for line in body.splitlines():
        if not line.strip():
            continue
        key, _, value = line.partition("=")
        script[key.strip()] = value
    return script


class _Handler(BaseHTTPRequestHandler):
    vizier: VizierServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_GET(self) -> None:
        self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        script = parse_script(body)
        failure = self.vizier.record(VizierRequest("POST", self.path, script))
        if failure in ("http500", "http400"):
            status = 500 if failure == "http500" else 400
            self._send(status, f"<html><body>HTTP {status}</body></html>".encode(), "text/html")
        elif failure == "malformed":
            self._send(200, b"<html><body>busy</body></html>", "text/html")
        elif self.path != "/viz-bin/votable":
            self._send(404, b"not found", "text/plain")
        else:
            self._send(200, self.vizier.answer(script), "application/x-votable+xml")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

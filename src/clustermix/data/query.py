"""The Gaia DR3 cone search on a TAP archive, with retries, a durable download cache and provenance.

How a query runs
----------------
The ADQL comes from :func:`~clustermix.data.adql.build_cone_adql` (validated numbers only).
It is sent as an *asynchronous* TAP job through astroquery, for both the default Gaia
archive (``astroquery.gaia.GaiaClass``) and a custom ``tap_url`` (``TapPlus``):
astroquery's synchronous ``launch_job`` silently adds ``TOP 2000`` to the query, far fewer
rows than a cluster field holds. The requests are::

    POST {tap}/async            REQUEST=doQuery LANG=ADQL FORMAT=... PHASE=RUN QUERY=...
                                -> 303, Location: {tap}/async/{jobid}
    GET  {tap}/async/{jobid}/phase            (polled here, with a deadline)
    GET  {tap}/async/{jobid}/phase            (once more, inside astroquery)
    GET  {tap}/async/{jobid}/results/result   -> VOTable (gzip or plain)
    GET  {tap}/async/{jobid}/error            (only when the job ends in ERROR)

Connection errors, HTTP 5xx (and 408/429) and unreadable responses are retried with
exponential backoff; an error the archive reports for the query itself (job phase ERROR,
HTTP 4xx) is not. Every successful download is kept in ``download_dir`` under a name
derived from the ADQL and the service, so a later run with the same query reuses it
without touching the network, and a failed query never overwrites an earlier download.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import io
import json
import logging
import math
import numbers
import shutil
import socket
import time
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import astropy.units as u
import numpy as np
from astropy.table import Column, Table
from requests.exceptions import HTTPError

from clustermix.data.adql import build_cone_adql, check_number, check_table_name
from clustermix.data.columns import GAIA_COLUMN_NAMES, GAIA_COLUMNS, GaiaColumn
from clustermix.errors import ConfigError, QueryError
from clustermix.io import PathLike, atomic_path, sha256_file, write_json_atomic, write_table_atomic

log = logging.getLogger(__name__)

#: Root of the ESA Gaia archive; astroquery's GaiaClass adds ``tap-server/tap``.
GAIA_ARCHIVE_ROOT = "https://gea.esac.esa.int/"
GAIA_TAP_SERVER_CONTEXT = "tap-server"
GAIA_TAP_CONTEXT = "tap"
#: Settings of ``data.archive`` with their defaults (the config schema has the first five).
ARCHIVE_DEFAULTS: dict[str, Any] = {
    "tap_url": None,
    "table": "gaiadr3.gaia_source",
    "g_max_mag": 21.0,
    "max_retries": 4,
    "backoff_s": 5.0,
    "timeout_s": 300.0,  # socket timeout of each HTTP request (s)
    "job_timeout_s": 3600.0,  # how long an async job may stay queued or executing (s)
    "poll_s": 2.0,  # first interval between phase polls (s), grows to POLL_MAX_S
}
BACKOFF_MAX_S = 300.0
POLL_MAX_S = 30.0
ACTIVE_PHASES = frozenset({"PENDING", "QUEUED", "EXECUTING"})
#: Errors worth another attempt: connection failures, HTTP errors (astroquery raises
#: requests' HTTPError, an OSError), truncated or unreadable bodies.
RETRYABLE_ERRORS = (OSError, http.client.HTTPException, ValueError, EOFError, zlib.error)
#: Fill value of an integer column's missing entries (Gaia counts and codes are >= 0).
INT_FILL = -1


class _PermanentError(Exception):
    """The archive answered, but the query itself failed: another attempt would not help."""


@dataclass(frozen=True)
class ArchiveSettings:
    """The validated ``data.archive`` block.

    ``tap_url`` is None for the default Gaia archive. Times in seconds.
    """

    tap_url: str | None
    table: str
    g_max_mag: float
    max_retries: int
    backoff_s: float
    timeout_s: float
    job_timeout_s: float
    poll_s: float

    @property
    def service_url(self) -> str:
        """The TAP service the query goes to (recorded in provenance and the cache key)."""
        if self.tap_url is not None:
            return self.tap_url
        return f"{GAIA_ARCHIVE_ROOT}{GAIA_TAP_SERVER_CONTEXT}/{GAIA_TAP_CONTEXT}"

    @classmethod
    def from_mapping(cls, archive: Mapping[str, Any] | None) -> ArchiveSettings:
        """Check ``archive`` (keys of :data:`ARCHIVE_DEFAULTS`) and fill in defaults."""
        archive = dict(archive or {})
        unknown = sorted(set(archive) - set(ARCHIVE_DEFAULTS))
        if unknown:
            raise ConfigError(f"data.archive: unknown key(s) {unknown}")
        merged = {**ARCHIVE_DEFAULTS, **{k: v for k, v in archive.items() if v is not None}}
        retries = merged["max_retries"]
        if (
            isinstance(retries, bool)
            or not isinstance(retries, numbers.Integral)
            or not 0 <= retries <= 20
        ):
            raise ConfigError(
                f"data.archive.max_retries: expected an integer 0-20, got {retries!r}"
            )
        return cls(
            tap_url=_check_tap_url(archive.get("tap_url")),
            table=check_table_name(merged["table"]),
            g_max_mag=check_number(merged["g_max_mag"], "data.archive.g_max_mag", low=5, high=23),
            max_retries=int(retries),
            backoff_s=_positive(merged["backoff_s"], "backoff_s", allow_zero=True),
            timeout_s=_positive(merged["timeout_s"], "timeout_s"),
            job_timeout_s=_positive(merged["job_timeout_s"], "job_timeout_s"),
            poll_s=_positive(merged["poll_s"], "poll_s"),
        )


def query_gaia_cone(
    *,
    ra_deg: float,
    dec_deg: float,
    radius_arcmin: float,
    archive: Mapping[str, Any] | None,
    catalog_path: PathLike,
    provenance_path: PathLike,
    download_dir: PathLike,
) -> None:
    """Query the stars of a cone, write them as FITS to ``catalog_path`` with a provenance JSON.

    Parameters
    ----------
    ra_deg, dec_deg, radius_arcmin
        Cone centre (deg, ICRS) and radius (arcmin).
    archive
        The ``data.archive`` config block (see :data:`ARCHIVE_DEFAULTS`).
    catalog_path, provenance_path
        The FITS catalogue (exactly the columns of ``GAIA_COLUMNS``, with their dtypes and
        units) and its provenance JSON (ADQL, service, query time, astroquery version, row
        count, SHA-256 of the FITS file, cache use, attempts).
    download_dir
        Where every successful download is kept (``gaia_dr3_<key>.fits`` and
        ``gaia_dr3_<key>.provenance.json``, key from the ADQL and the service URL).

    Raises :class:`QueryError` when the archive cannot be reached after all retries, reports
    an error, returns no star or lacks a column; then no file is written or changed.
    """
    settings = ArchiveSettings.from_mapping(archive)
    adql = build_cone_adql(
        ra_deg=ra_deg,
        dec_deg=dec_deg,
        radius_arcmin=radius_arcmin,
        g_max_mag=settings.g_max_mag,
        table=settings.table,
    )
    cone = {
        "ra_deg": float(ra_deg),
        "dec_deg": float(dec_deg),
        "radius_arcmin": float(radius_arcmin),
        "g_max_mag": settings.g_max_mag,
    }
    cache_fits, cache_json = cache_paths(download_dir, adql, settings.service_url)

    record = _read_cache(cache_fits, cache_json, adql, settings.service_url)
    if record is not None:
        log.info("reusing the earlier download %s (no archive request)", cache_fits)
        record = {**record, "from_cache": True, "cached_query_attempts": record["attempts"]}
        record["attempts"] = 0
    else:
        log.info("querying %s:\n%s", settings.service_url, adql)
        raw, attempts, query_utc = run_with_retries(settings, adql)
        table = normalize_gaia_table(raw)
        if len(table) == 0:
            raise QueryError(
                f"{settings.service_url} returned no star in the cone {_describe(cone)}"
            )
        write_table_atomic(table, cache_fits)
        record = {
            "adql": adql,
            "service_url": settings.service_url,
            "table": settings.table,
            "cone": cone,
            "columns": list(GAIA_COLUMN_NAMES),
            "query_utc": query_utc,
            "astroquery_version": _astroquery_version(),
            "n_rows": len(table),
            "attempts": attempts,
            "from_cache": False,
            "download": str(cache_fits),
            "sha256": sha256_file(cache_fits),
        }
        write_json_atomic(record, cache_json)
        log.info("downloaded %d stars in %d attempt(s) into %s", len(table), attempts, cache_fits)

    with atomic_path(catalog_path) as tmp:
        shutil.copyfile(cache_fits, tmp)
    record["sha256"] = sha256_file(catalog_path)
    write_json_atomic(record, provenance_path)


def cache_paths(download_dir: PathLike, adql: str, service_url: str) -> tuple[Path, Path]:
    """The download FITS and its provenance JSON for this ADQL on this service."""
    key = hashlib.sha256(f"{service_url}\n{adql}".encode()).hexdigest()[:16]
    folder = Path(download_dir)
    return folder / f"gaia_dr3_{key}.fits", folder / f"gaia_dr3_{key}.provenance.json"


def backoff_delays(max_retries: int, backoff_s: float) -> list[float]:
    """Waits (s) before each retry: ``backoff_s * 2**k``, capped at :data:`BACKOFF_MAX_S`."""
    return [min(backoff_s * 2.0**k, BACKOFF_MAX_S) for k in range(max_retries)]


def run_with_retries(settings: ArchiveSettings, adql: str) -> tuple[Table, int, str]:
    """Run ``adql`` as an async job; return the raw table, the attempts made, the UTC time.

    Retries :data:`RETRYABLE_ERRORS` (except HTTP 4xx) after the waits of
    :func:`backoff_delays`; raises :class:`QueryError` when the archive reports an error
    or the last attempt fails.
    """
    service = settings.service_url
    waits = [0.0, *backoff_delays(settings.max_retries, settings.backoff_s)]
    last_error = ""
    for attempt, wait in enumerate(waits, start=1):
        if wait > 0:
            log.info("retrying in %.1f s", wait)
            time.sleep(wait)
        query_utc = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        client: Any = None
        try:
            with _socket_timeout(settings.timeout_s), _astroquery_output_to_log():
                client = make_client(settings.tap_url)
                table = fetch_async(client, adql, settings)
            return table, attempt, query_utc
        except _PermanentError as err:
            raise QueryError(
                f"the query on {service} failed, not retried (attempt {attempt}): {err}"
            ) from None
        except RETRYABLE_ERRORS as err:
            status = _last_http_status(client) if isinstance(err, HTTPError) else None
            if status is not None and 400 <= status < 500 and status not in (408, 429):
                raise QueryError(
                    f"{service} rejected the query with HTTP {status}: {_one_line(err)}"
                ) from None
            http = f"HTTP {status}: " if status is not None and status >= 400 else ""
            last_error = f"{type(err).__name__}: {http}{_one_line(err)}"
            log.warning("attempt %d/%d on %s failed: %s", attempt, len(waits), service, last_error)
    raise QueryError(
        f"Gaia archive query on {service} failed after {len(waits)} attempt(s); "
        f"last error: {last_error}"
    )


def make_client(tap_url: str | None) -> Any:
    """An astroquery TAP client: GaiaClass for the default archive, TapPlus for ``tap_url``.

    ``astroquery.gaia`` is imported only here, for the default archive: importing it
    creates astroquery's module-level ``Gaia`` client, which asks the ESA archive for its
    status messages.
    """
    if tap_url is None:
        from astroquery.gaia import GaiaClass

        return GaiaClass(
            gaia_tap_server=GAIA_ARCHIVE_ROOT,
            gaia_data_server=GAIA_ARCHIVE_ROOT,
            tap_server_context=GAIA_TAP_SERVER_CONTEXT,
            show_server_messages=False,
        )
    from astroquery.utils.tap.core import TapPlus

    return TapPlus(url=tap_url)


def fetch_async(client: Any, adql: str, settings: ArchiveSettings) -> Table:
    """Submit ``adql`` as an async job on ``client``, wait for it and return its table."""
    job = client.launch_job_async(adql, background=True)
    # Results must come from the server, never from a stray local file of the same name.
    job.outputFile = None
    phase = wait_for_job(job, settings.job_timeout_s, settings.poll_s)
    if phase == "ERROR":
        raise _PermanentError(f"job {job.jobid} failed: {_one_line(job.get_error())}")
    if phase != "COMPLETED":
        raise _PermanentError(f"job {job.jobid} ended in phase {phase}")
    table = job.get_results()
    if not isinstance(table, Table):
        raise ValueError(f"job {job.jobid}: no table in the results")
    return table


def wait_for_job(job: Any, job_timeout_s: float, poll_s: float) -> str:
    """Poll the job's phase until it leaves PENDING/QUEUED/EXECUTING; return the phase.

    Waits ``poll_s`` (s) first, growing by half each poll up to :data:`POLL_MAX_S`; a job
    still running after ``job_timeout_s`` (s) is a :class:`_PermanentError`.
    """
    deadline = time.monotonic() + job_timeout_s
    delay = poll_s
    while True:
        phase = str(job.get_phase(update=True)).strip().upper()
        if phase not in ACTIVE_PHASES:
            return phase
        if time.monotonic() + delay > deadline:
            raise _PermanentError(
                f"job {job.jobid} still {phase} after {job_timeout_s:g} s; "
                "try a smaller radius or a brighter g_max_mag"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX_S)


def normalize_gaia_table(raw: Table) -> Table:
    """The archive's table with exactly the columns of ``GAIA_COLUMNS``: names, dtypes, units.

    Names match case-insensitively (the archive writes ``SOURCE_ID``); units are parsed
    leniently (``mas.yr**-1``, ``um**-1``) and values converted to the units of
    ``columns.py``. Masked floats become NaN; masked integers become :data:`INT_FILL`,
    except ``source_id``, which must be complete; an optional column the table lacks is all
    NaN. Raises :class:`QueryError` for a missing required, a duplicated or an incompatible
    column.
    """
    by_lower: dict[str, str] = {}
    for name in raw.colnames:
        if name.lower() in by_lower:
            raise QueryError(f"the archive returned column '{name}' twice (case-insensitively)")
        by_lower[name.lower()] = name
    missing = [
        column.name for column in GAIA_COLUMNS if column.required and column.name not in by_lower
    ]
    if missing:
        raise QueryError(
            f"the archive's table lacks column(s) {missing}; it has {sorted(raw.colnames)}"
        )
    table = Table()
    for column in GAIA_COLUMNS:
        if column.name in by_lower:
            table[column.name] = _normalize_column(raw[by_lower[column.name]], column)
        else:  # an optional column the table does not serve
            table[column.name] = Column(
                np.full(len(raw), np.nan, dtype=column.dtype), unit=column.unit
            )
    return table


def _normalize_column(source: Column, column: GaiaColumn) -> Column:
    """One column converted to the dtype and unit of ``column``."""
    target = np.dtype(column.dtype)
    factor = _unit_factor(source.unit, column)
    mask = np.ma.getmaskarray(source)
    values = np.ma.getdata(source)
    if target.kind == "f":
        data = np.asarray(values, dtype=np.float64)
        data = np.where(mask, np.nan, data * factor if factor != 1.0 else data)
        return Column(data.astype(target), name=column.name, unit=column.unit)
    if values.dtype.kind == "f":
        mask = mask | ~np.isfinite(values)
        if not np.all(np.equal(np.mod(values[~mask], 1), 0)):
            raise QueryError(f"column '{column.name}': non-integer values in an integer column")
    if column.name == "source_id" and mask.any():
        raise QueryError(f"column 'source_id': {int(mask.sum())} row(s) without a source_id")
    filled = np.where(mask, INT_FILL, values)
    limits = np.iinfo(target)
    if filled.size and (filled.min() < limits.min or filled.max() > limits.max):
        raise QueryError(f"column '{column.name}': values outside the range of {target}")
    return Column(filled.astype(target), name=column.name, unit=column.unit)


def _unit_factor(unit: Any, column: GaiaColumn) -> float:
    """Factor from the archive's ``unit`` to the unit of ``column`` (1 if both are absent)."""
    source = _parse_unit(unit, column.name)
    target = u.Unit(column.unit) if column.unit else None
    if source is None or target is None:
        if target is None and source not in (None, u.dimensionless_unscaled):
            raise QueryError(f"column '{column.name}': unit '{source}' where none is expected")
        return 1.0
    try:
        return float(source.to(target))
    except u.UnitConversionError:
        raise QueryError(
            f"column '{column.name}': unit '{source}' cannot be converted to '{target}'"
        ) from None


def _parse_unit(unit: Any, name: str) -> u.UnitBase | None:
    """An astropy unit from what the VOTable reader left (Unit, UnrecognizedUnit, text)."""
    if unit is None:
        return None
    if isinstance(unit, u.UnitBase) and not isinstance(unit, u.UnrecognizedUnit):
        return unit
    text = str(unit).strip()
    if not text:
        return None
    for candidate, fmt in (
        (text, "vounit"),
        (text, "cds"),
        (text.replace(".", " ").replace("'", ""), None),
    ):
        try:
            return u.Unit(candidate, format=fmt)
        except ValueError:
            continue
    raise QueryError(f"column '{name}': cannot read the unit '{text}'")


def _read_cache(
    fits: Path, record_path: Path, adql: str, service_url: str
) -> dict[str, Any] | None:
    """The provenance of a usable earlier download of this query, or None."""
    if not (fits.is_file() and record_path.is_file()):
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as err:
        log.warning("ignoring the cached download %s: unreadable provenance (%s)", fits, err)
        return None
    if not isinstance(record, dict):
        return None
    expected = {"adql": adql, "service_url": service_url, "sha256": sha256_file(fits)}
    if any(record.get(key) != value for key, value in expected.items()):
        log.warning("ignoring the cached download %s: it does not match its provenance", fits)
        return None
    return record


def _check_tap_url(url: object) -> str | None:
    """The custom TAP URL without a trailing slash, or None for the default archive."""
    if url is None:
        return None
    if not isinstance(url, str):
        raise ConfigError(f"data.archive.tap_url: expected a URL, got {url!r}")
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"data.archive.tap_url: bad port in {url!r}") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
        or any(char.isspace() for char in url.strip())
    ):
        raise ConfigError(
            f"data.archive.tap_url: {url!r} is not an http(s) URL of a TAP service "
            "(no query string, fragment or credentials)"
        )
    return url.strip().rstrip("/")


def _positive(value: object, key: str, *, allow_zero: bool = False) -> float:
    """A finite number > 0 (or >= 0 with ``allow_zero``), named ``data.archive.<key>``."""
    return check_number(
        value, f"data.archive.{key}", low=0.0, high=math.inf, low_open=not allow_zero
    )


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Give sockets opened inside the block a timeout (astroquery sets none)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


@contextlib.contextmanager
def _astroquery_output_to_log() -> Iterator[None]:
    """Send what astroquery prints (HTTP errors, status messages) to the log."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            yield
    finally:
        text = buffer.getvalue().strip()
        if text:
            log.info("astroquery: %s", text)


def _last_http_status(client: Any) -> int | None:
    """HTTP status of the client's last response, if astroquery kept one."""
    connection = getattr(client, "_Tap__connHandler", None)
    status = getattr(connection, "get_response_status", lambda: None)()
    return status if isinstance(status, int) and status > 0 else None


def _astroquery_version() -> str:
    import astroquery

    return str(astroquery.__version__)


def _describe(cone: Mapping[str, float]) -> str:
    return (
        f"ra={cone['ra_deg']:g} deg, dec={cone['dec_deg']:g} deg, "
        f"radius={cone['radius_arcmin']:g} arcmin, G < {cone['g_max_mag']:g} mag"
    )


def _one_line(error: object) -> str:
    return " ".join(str(error).split())[:500]

"""Published member lists of a cluster from VizieR, with retries, a download cache and provenance.

The catalogues (:data:`CATALOGUES`)
-----------------------------------
``hunt2023``
    Hunt & Reffert (2023, A&A 673, A114), VizieR ``J/A+A/673/A114/members``: Gaia DR3
    ``source_id`` (``GaiaDR3``), the cluster's ``Name`` and the membership probability
    ``Prob``. Its members are counted here at ``Prob >= 0.5``.
``cantat2020``
    Cantat-Gaudin et al. (2020, A&A 640, A1), VizieR ``J/A+A/640/A1/nodup``: Gaia **DR2**
    ``source_id`` (``GaiaDR2``), ``Cluster`` and ``proba``. Its members are counted at
    ``proba >= 0.7``, the threshold of the paper's member counts (``nbstars07``).

Gaia DR2 and DR3 identifiers
----------------------------
A DR2 ``source_id`` is taken to be the same star's DR3 ``source_id``. This is an
approximation: most sources kept their identifier from DR2 to (E)DR3, but sources that
were merged, split or re-identified between the releases got new ones (Torra et al. 2021;
the exact crossmatch is the archive's ``gaiadr3.dr2_neighbourhood`` table, not used here).
A DR2 member whose identifier changed is counted as "not in our catalogue", never matched
to another star; the overlap records the number of such unmatched identifiers.

How a query runs
----------------
astroquery's :class:`~astroquery.vizier.VizierClass` sends one POST to
``https://{server}/viz-bin/votable`` with a script body (``-source=<table>``,
``-out=<columns>``, ``-out.max=unlimited``, ``<name column>=<cluster name>``, ...) and
parses the VOTable it gets back. ``server`` is ``reference.vizier_server`` or astroquery's
default mirror (``astroquery.vizier.conf.server``); a server given as a full ``http(s)://``
root (a local mirror, or the tests' loopback server) is used as it is. Only rows whose name
column equals the cluster's name exactly are kept. Connection errors, HTTP 5xx/408/429 and
unreadable answers are retried with exponential backoff; other HTTP errors are not. Every
download is kept in ``download_dir`` under a name derived from the table, the cluster name
and the server, and reused by a later run without touching the network.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Column, Table
from requests.exceptions import HTTPError

from clustermix.errors import ConfigError, QueryError
from clustermix.io import PathLike, atomic_path, sha256_file, write_json_atomic, write_table_atomic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceCatalogue:
    """A published member list on VizieR.

    ``table``: the VizieR table; ``name_column``, ``id_column``, ``probability_column``:
    its columns with the cluster's name, the Gaia ``source_id`` and the membership
    probability (0-1); ``gaia_release``: the Gaia release of the identifiers (``DR2`` or
    ``DR3``); ``member_threshold``: the probability at which the authors count a star a
    member; ``label``: for figures and the paper; ``bibkey``: its entry in
    ``src/tex/bib.bib``.
    """

    key: str
    label: str
    bibkey: str
    table: str
    name_column: str
    id_column: str
    probability_column: str
    gaia_release: str
    member_threshold: float


CATALOGUES: dict[str, ReferenceCatalogue] = {
    "hunt2023": ReferenceCatalogue(
        key="hunt2023",
        label="Hunt & Reffert (2023)",
        bibkey="HuntReffert2023",
        table="J/A+A/673/A114/members",
        name_column="Name",
        id_column="GaiaDR3",
        probability_column="Prob",
        gaia_release="DR3",
        member_threshold=0.5,
    ),
    "cantat2020": ReferenceCatalogue(
        key="cantat2020",
        label="Cantat-Gaudin et al. (2020)",
        bibkey="CantatGaudin2020",
        table="J/A+A/640/A1/nodup",
        name_column="Cluster",
        id_column="GaiaDR2",
        probability_column="proba",
        gaia_release="DR2",
        member_threshold=0.7,
    ),
}

#: Settings of the ``reference`` config block used here, with their defaults.
VIZIER_DEFAULTS: dict[str, Any] = {
    "vizier_server": None,  # null: astroquery's default mirror
    "max_retries": 4,
    "backoff_s": 5.0,
    "timeout_s": 300.0,  # socket and HTTP timeout of each request (s)
}
BACKOFF_MAX_S = 300.0
#: Errors worth another attempt: connection failures, HTTP errors, unreadable answers (and
#: astroquery's TableParseError, added where astroquery is imported).
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (OSError, ValueError, EOFError)
RETRYABLE_STATUS = frozenset({408, 429})


class _Unusable(Exception):
    """VizieR answered, but not with a usable member list; another attempt would not help."""


def reference_name(cluster: Mapping[str, Any]) -> str:
    """The cluster's name in the VizieR member lists: ``reference_name``, else its
    ``label`` (else ``name``) with spaces as underscores (``NGC 6819`` -> ``NGC_6819``)."""
    explicit = cluster.get("reference_name")
    if explicit:
        return str(explicit)
    return "_".join(str(cluster.get("label") or cluster["name"]).split())


def fetch_reference_members(
    *,
    catalogue: str,
    cluster_name: str,
    settings: Mapping[str, Any] | None,
    members_path: PathLike,
    provenance_path: PathLike,
    download_dir: PathLike,
) -> None:
    """Fetch one cluster's members from a VizieR catalogue; write them with a provenance JSON.

    Parameters
    ----------
    catalogue
        A key of :data:`CATALOGUES`.
    cluster_name
        The cluster's name in that catalogue (``NGC_6819``; see :func:`reference_name`).
    settings
        The ``reference`` config block (keys of :data:`VIZIER_DEFAULTS`; others ignored).
    members_path, provenance_path
        The member list (FITS: ``source_id`` int64 as the catalogue gives it, Gaia
        ``gaia_release``; ``probability`` float64, 0-1) and its provenance (table, columns,
        name, server, query time, astroquery version, rows, SHA-256, attempts, cache use).
    download_dir
        Where every download is kept and looked up (``<catalogue>_<key>.fits`` and
        ``.provenance.json``).

    Raises :class:`QueryError` when VizieR cannot be reached after all retries, rejects
    the query, lacks a column or lists no star under ``cluster_name``; then nothing is
    written.
    """
    if catalogue not in CATALOGUES:
        raise ConfigError(f"reference.catalogues: unknown catalogue '{catalogue}'")
    spec = CATALOGUES[catalogue]
    options = _settings(settings)
    server = options["vizier_server"] or _default_server()
    key = hashlib.sha256(f"{server}\n{spec.table}\n{cluster_name}".encode()).hexdigest()[:16]
    cache_fits = Path(download_dir) / f"{catalogue}_{key}.fits"
    cache_json = cache_fits.with_name(f"{catalogue}_{key}.provenance.json")

    record = _read_cache(cache_fits, cache_json)
    if record is not None:
        log.info("reusing the earlier download %s (no VizieR request)", cache_fits)
        record = {**record, "from_cache": True, "cached_query_attempts": record["attempts"]}
        record["attempts"] = 0
    else:
        log.info(
            "querying %s on %s for %s = %s", spec.table, server, spec.name_column, cluster_name
        )
        raw, attempts, query_utc = _run_with_retries(spec, cluster_name, server, options)
        table = normalize_members(raw, spec, cluster_name)
        write_table_atomic(table, cache_fits)
        record = {
            "catalogue": catalogue,
            "label": spec.label,
            "vizier_table": spec.table,
            "columns": [spec.name_column, spec.id_column, spec.probability_column],
            "cluster_name": cluster_name,
            "server": server,
            "gaia_release": spec.gaia_release,
            "member_threshold": spec.member_threshold,
            "query_utc": query_utc,
            "astroquery_version": _astroquery_version(),
            "n_rows": len(table),
            "attempts": attempts,
            "from_cache": False,
            "download": str(cache_fits),
            "sha256": sha256_file(cache_fits),
        }
        write_json_atomic(record, cache_json)
        log.info(
            "%d members of %s in %s (%d attempt(s))", len(table), cluster_name, spec.table, attempts
        )

    with atomic_path(members_path) as tmp:
        tmp.write_bytes(cache_fits.read_bytes())
    record["sha256"] = sha256_file(members_path)
    write_json_atomic(record, provenance_path)


def normalize_members(raw: Table, spec: ReferenceCatalogue, cluster_name: str) -> Table:
    """VizieR's rows of ``cluster_name`` as ``source_id`` (int64) and ``probability`` (0-1).

    Rows whose name column is not exactly ``cluster_name`` are dropped (VizieR's text
    constraints can match more). Raises :class:`QueryError` for a missing column, a row
    without an identifier, a probability outside [0, 1] or no row left.
    """
    missing = [
        name
        for name in (spec.name_column, spec.id_column, spec.probability_column)
        if name not in raw.colnames
    ]
    if missing:
        raise QueryError(
            f"VizieR's {spec.table} lacks column(s) {missing}; it has {sorted(raw.colnames)}"
        )
    names = np.char.strip(np.asarray(raw[spec.name_column].astype(str)))
    rows = raw[names == cluster_name]
    if len(rows) == 0:
        found = sorted(set(names.tolist()))[:5]
        raise QueryError(
            f"VizieR's {spec.table} lists no star of a cluster named '{cluster_name}' "
            f"({spec.name_column}; it returned {found or 'nothing'}); set the cluster's "
            "reference_name to the catalogue's spelling"
        )
    ids = rows[spec.id_column]
    if np.ma.is_masked(ids) and np.ma.getmaskarray(ids).any():
        raise QueryError(f"VizieR's {spec.table}: rows without {spec.id_column}")
    probability = np.ma.filled(np.ma.asarray(rows[spec.probability_column], float), np.nan)
    bad = ~((probability >= 0) & (probability <= 1))
    if bad.any():
        raise QueryError(
            f"VizieR's {spec.table}: {int(bad.sum())} value(s) of {spec.probability_column} "
            "outside [0, 1]"
        )
    table = Table()
    table["source_id"] = Column(np.asarray(ids, dtype=np.int64))
    table["probability"] = Column(probability.astype(np.float64))
    table.meta.update(
        {
            "CATALOG": spec.key,
            "VIZIER": spec.table,
            "CLUSTER": cluster_name,
            "GAIA_REL": spec.gaia_release,
        }
    )
    return table


def backoff_delays(max_retries: int, backoff_s: float) -> list[float]:
    """Waits (s) before each retry: ``backoff_s * 2**k``, capped at :data:`BACKOFF_MAX_S`."""
    return [min(backoff_s * 2.0**k, BACKOFF_MAX_S) for k in range(max_retries)]


def make_vizier(spec: ReferenceCatalogue, server: str, timeout_s: float) -> Any:
    """An astroquery Vizier client for ``spec``'s three columns, without a row limit.

    ``server`` is a mirror's host name (astroquery prefixes ``https://``) or a full
    ``http(s)://`` root, which is used as given.
    """
    from astroquery.vizier import VizierClass

    class _Vizier(VizierClass):  # type: ignore[misc]
        def _server_to_url(self, return_type: str = "votable") -> str:
            if str(self.VIZIER_SERVER).startswith(("http://", "https://")):
                return f"{str(self.VIZIER_SERVER).rstrip('/')}/viz-bin/{return_type}"
            return str(super()._server_to_url(return_type=return_type))

    return _Vizier(
        columns=[spec.name_column, spec.id_column, spec.probability_column],
        vizier_server=server,
        row_limit=-1,
        timeout=timeout_s,
    )


def _run_with_retries(
    spec: ReferenceCatalogue, cluster_name: str, server: str, options: Mapping[str, Any]
) -> tuple[Table, int, str]:
    """The raw VizieR table, the attempts made and the UTC time of the successful one."""
    from astroquery.exceptions import TableParseError

    retryable = (*RETRYABLE_ERRORS, TableParseError)
    waits = [0.0, *backoff_delays(options["max_retries"], options["backoff_s"])]
    last_error = ""
    for attempt, wait in enumerate(waits, start=1):
        if wait > 0:
            log.info("retrying in %.1f s", wait)
            time.sleep(wait)
        query_utc = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            with _socket_timeout(options["timeout_s"]):
                client = make_vizier(spec, server, options["timeout_s"])
                result = client.query_constraints(
                    catalog=spec.table, cache=False, **{spec.name_column: cluster_name}
                )
            return _first_table(result, spec, cluster_name), attempt, query_utc
        except _Unusable as err:
            raise QueryError(f"VizieR ({server}): {err}") from None
        except HTTPError as err:
            status = err.response.status_code if err.response is not None else None
            if status is not None and status < 500 and status not in RETRYABLE_STATUS:
                raise QueryError(
                    f"VizieR ({server}) rejected the query on {spec.table} with HTTP {status}"
                ) from None
            last_error = f"HTTP {status}: {_one_line(err)}"
        except retryable as err:
            last_error = f"{type(err).__name__}: {_one_line(err)}"
        log.warning("attempt %d/%d on %s failed: %s", attempt, len(waits), server, last_error)
    raise QueryError(
        f"VizieR query of {spec.table} on {server} failed after {len(waits)} attempt(s); "
        f"last error: {last_error}"
    )


def _first_table(result: Any, spec: ReferenceCatalogue, cluster_name: str) -> Table:
    """The table of a VizieR answer: an empty answer is no member list; anything else
    that is not a table list (an HTML page) is unreadable and retried."""
    if result is None or isinstance(result, (str, bytes)):
        raise ValueError("VizieR's answer is not a VOTable")
    if len(result) == 0:
        raise _Unusable(
            f"{spec.table} lists no star of a cluster named '{cluster_name}'; set the "
            "cluster's reference_name to the catalogue's spelling"
        )
    return Table(result[0], masked=True)


def _read_cache(fits: Path, record_path: Path) -> dict[str, Any] | None:
    """The provenance of a usable earlier download, or None."""
    if not (fits.is_file() and record_path.is_file()):
        return None
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError) as err:
        log.warning("ignoring the cached download %s: unreadable provenance (%s)", fits, err)
        return None
    if not isinstance(record, dict) or record.get("sha256") != sha256_file(fits):
        log.warning("ignoring the cached download %s: it does not match its provenance", fits)
        return None
    return record


def _settings(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The VizieR settings of the ``reference`` block, defaults filled in and checked."""
    merged = {**VIZIER_DEFAULTS}
    merged.update(
        {k: v for k, v in (settings or {}).items() if k in VIZIER_DEFAULTS and v is not None}
    )
    retries = merged["max_retries"]
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
        raise ConfigError(f"reference.max_retries: expected an integer 0-20, got {retries!r}")
    for key in ("backoff_s", "timeout_s"):
        value = merged[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError(f"reference.{key}: expected a number >= 0, got {value!r}")
    if merged["timeout_s"] == 0:
        raise ConfigError("reference.timeout_s: must be positive")
    server = merged["vizier_server"]
    if server is not None and (not isinstance(server, str) or not server.strip()):
        raise ConfigError(f"reference.vizier_server: expected a host name or URL, got {server!r}")
    return merged


def _default_server() -> str:
    from astroquery.vizier import conf

    return str(conf.server)


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    """Give sockets opened inside the block a timeout."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _astroquery_version() -> str:
    import astroquery

    return str(astroquery.__version__)


def _one_line(error: object) -> str:
    return " ".join(str(error).split())[:500]

"""What every workflow script shares: its log file and how it reports a user error."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from clustermix.errors import ClusterMixError


@contextlib.contextmanager
def logged(snakemake: Any) -> Iterator[logging.Logger]:
    """Send logging to the job's log file and turn user errors into one clear message.

    A :class:`~clustermix.errors.ClusterMixError` is written to the log and to stderr as
    ``clustermix error in rule R: message`` and the script exits with status 1, so that
    Snakemake stops before any downstream rule runs. Other exceptions propagate with
    their traceback (they are bugs, not bad input).
    """
    log_files = list(getattr(snakemake, "log", []))
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_files:
        handlers.append(logging.FileHandler(log_files[0], mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    rule = getattr(snakemake, "rule", "?")
    logger = logging.getLogger(f"clustermix.{rule}")
    try:
        yield logger
    except ClusterMixError as err:
        logger.error("clustermix error in rule %s: %s", rule, err)
        raise SystemExit(1) from None

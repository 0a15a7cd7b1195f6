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
    their traceback (they are bugs, not bad input). PyMC's messages take the same way,
    once each (not also through the console handler PyMC may have given itself).
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
    # PyMC, imported before this (a script imports the library first), gives its logger a
    # console handler of its own when no logging is set up: its messages would be printed
    # twice on the console and once in the log file. Through the root logger: once each.
    pymc_logger = logging.getLogger("pymc")
    for handler in list(pymc_logger.handlers):
        if type(handler) is logging.StreamHandler:
            pymc_logger.removeHandler(handler)
    # JAX logs at INFO each accelerator it looks for and does not find (on a CPU-only
    # machine: "Unable to initialize backend 'tpu'"); its warnings still show.
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)
    rule = getattr(snakemake, "rule", "?")
    logger = logging.getLogger(f"clustermix.{rule}")
    try:
        yield logger
    except ClusterMixError as err:
        logger.error("clustermix error in rule %s: %s", rule, err)
        raise SystemExit(1) from None

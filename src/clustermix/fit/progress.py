"""Progress lines of a running fit: draws per chain, divergences, elapsed and expected time.

:func:`clustermix.fit.sampling.sample` keeps a :class:`FitProgress` while it samples and logs
one line at most every ``interval`` seconds (:data:`PROGRESS_INTERVAL_S` by default, the
config's ``progress.interval_s`` in the workflow) through Python ``logging``, so that the
lines reach the rule's log file and Snakemake's console::

    fit ngc6819/pm_2d: draws 600/2000, 350/2000, 0/2000, 0/2000 (1000 warm-up + 1000 per
    chain); divergences 0 (3 in warm-up); 45 s elapsed, ~1 min 00 s to go

The nutpie backend is polled (:meth:`FitProgress.read_nutpie`), PyMC's NUTS reports every
draw through ``pm.sample(callback=...)`` (:meth:`FitProgress.pymc_callback`). Neither
touches the sampler's random state: a trace is the same with and without progress lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: Seconds between two progress lines of a fit (config ``progress.interval_s``).
PROGRESS_INTERVAL_S: float = 15.0


def format_duration(seconds: float) -> str:
    """``"45 s"`` below a minute, ``"3 min 05 s"`` below an hour, ``"2 h 04 min"`` above."""
    seconds = max(0.0, float(seconds))
    if seconds < 59.5:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class FitProgress:
    """Draws done and divergences per chain of one fit, and when to say so.

    ``label`` names the fit in every line (e.g. ``ngc6819/pm_2d``); ``chains``, ``tune``
    and ``draws`` are the sampler's settings (iterations per chain); ``interval``: seconds
    between lines, None or 0 for no lines. ``clock`` and ``logger`` are for tests.
    """

    def __init__(
        self,
        label: str,
        *,
        chains: int,
        tune: int,
        draws: int,
        interval: float | None = PROGRESS_INTERVAL_S,
        logger: logging.Logger = log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label or "model"
        self.tune = int(tune)
        self.draws = int(draws)
        self.interval = float(interval) if interval else 0.0
        self.logger = logger
        self.clock = clock
        self.done = [0] * int(chains)
        self.divergences = [0] * int(chains)
        self.warmup_divergences = [0] * int(chains)
        self.start = clock()
        self.last_line = self.start
        self.lines = 0
        # when the first draw was seen, and how many were done then: the rate of drawing is
        # measured from there, so that compiling before the first draw does not count
        self.first_seen: tuple[float, int] | None = None

    @property
    def enabled(self) -> bool:
        """Whether progress lines are wanted at all."""
        return self.interval > 0

    @property
    def per_chain(self) -> int:
        """Iterations per chain, warm-up included."""
        return self.tune + self.draws

    def restart_clock(self) -> None:
        """Start the elapsed time (and the first interval) now: when sampling starts."""
        self.start = self.last_line = self.clock()
        self.first_seen = None

    def _note_first_draw(self) -> None:
        if self.first_seen is None and sum(self.done) > 0:
            self.first_seen = (self.clock(), sum(self.done))

    def due(self) -> bool:
        """Whether a line is due: lines are wanted and ``interval`` s passed since the last."""
        return self.enabled and self.clock() - self.last_line >= self.interval

    def record_draw(self, chain: int, index: int, tuning: bool, diverging: bool) -> None:
        """One finished iteration ``index`` (0-based, warm-up included) of ``chain``."""
        self.done[chain] = max(self.done[chain], index + 1)
        self._note_first_draw()
        if diverging:
            if tuning:
                self.warmup_divergences[chain] += 1
            else:
                self.divergences[chain] += 1

    def read_nutpie(self, idata: Any) -> None:
        """Take draws and divergences per chain from a running nutpie sampler's
        ``inspect()`` (an InferenceData whose chains are padded to the longest one; a
        padded iteration has ``n_steps`` 0, a real one at least one leapfrog step)."""
        groups = {"warmup_sample_stats": True, "sample_stats": False}
        done = np.zeros(len(self.done), dtype=int)
        divergent = {True: np.zeros_like(done), False: np.zeros_like(done)}
        for group, warmup in groups.items():
            if group not in idata.groups():
                continue
            stats = getattr(idata, group)
            if "n_steps" not in stats or stats.sizes.get("draw", 0) == 0:
                continue
            real = np.asarray(stats["n_steps"]) > 0
            chains = min(len(done), real.shape[0])
            done[:chains] += real[:chains].sum(axis=1)
            if "diverging" in stats:
                diverging = np.asarray(stats["diverging"], bool) & real
                divergent[warmup][:chains] += diverging[:chains].sum(axis=1)
        self.done = [int(n) for n in done]
        self.warmup_divergences = [int(n) for n in divergent[True]]
        self.divergences = [int(n) for n in divergent[False]]
        self._note_first_draw()

    def line(self) -> str:
        """The progress line for the current state. The time to go is extrapolated from
        the draws made since the first one was seen (the sampler compiles its model before
        it), once there are any."""
        now = self.clock()
        elapsed = now - self.start
        done, total = sum(self.done), self.per_chain * len(self.done)
        draws = ", ".join(f"{n}/{self.per_chain}" for n in self.done)
        since = (now - self.first_seen[0], done - self.first_seen[1]) if self.first_seen else None
        if since and since[1] > 0 and done < total:
            to_go = f"~{format_duration(since[0] * (total - done) / since[1])} to go"
        elif done >= total:
            to_go = "finishing"
        else:
            to_go = "time to go not known yet"
        return (
            f"fit {self.label}: draws {draws} ({self.tune} warm-up + {self.draws} per chain); "
            f"divergences {sum(self.divergences)} ({sum(self.warmup_divergences)} in warm-up); "
            f"{format_duration(elapsed)} elapsed, {to_go}"
        )

    def log_line(self) -> None:
        """Log the progress line now and start the next interval."""
        self.logger.info("%s", self.line())
        self.last_line = self.clock()
        self.lines += 1

    def pymc_callback(self) -> Callable[..., None]:
        """A ``pm.sample(callback=...)`` function: records each draw (PyMC calls it in the
        main process for every draw of every chain) and logs a line when one is due."""

        def callback(trace: Any, draw: Any) -> None:
            per_step = draw.stats if isinstance(draw.stats, list | tuple) else [draw.stats]
            diverging = any(bool(stats.get("diverging", False)) for stats in per_step)
            self.record_draw(draw.chain, draw.draw_idx, draw.tuning, diverging)
            if self.due():
                self.log_line()

        return callback

"""Sampling to a target: stop the chains once their draws answer well enough.

A fit with ``sampling.target`` draws at most ``sampling.draws`` per chain after warm-up,
but stops at the first checkpoint (every ``check_every`` draws per chain) at which, over
the first draws of every chain up to the checkpoint, every free parameter (every element)
has a rank-normalised split R-hat of at most ``rhat_max`` and bulk and tail effective
sample sizes of at least ``ess``. The trace then holds exactly those draws.

The decision is reproducible: the draws of a chain do not depend on when anyone looks at
them, and each checkpoint is judged on the same prefix whatever the machine's speed, so
the same seed gives the same trace. The rounds judged, their worst R-hat and smallest
ESS, and why sampling stopped go into the trace's attributes (``sampling_target``).
Only the nutpie backend can be stopped this way (:func:`clustermix.fit.sampling.sample`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.errors import ConfigError

if TYPE_CHECKING:
    import xarray as xr


@dataclass
class SamplingTarget:
    """What the chains' draws must reach, and the rounds judged so far.

    ``ess``: the smallest bulk and tail ESS (over all chains) of every free parameter;
    ``rhat_max``: the largest R-hat; ``check_every``: draws per chain between two
    checkpoints (the first is the shortest a fit can be)."""

    ess: float
    rhat_max: float
    check_every: int
    rounds: list[dict[str, Any]] = field(default_factory=list)
    stopped_at: int | None = None

    @classmethod
    def from_config(
        cls, settings: Mapping[str, Any], key: str = "sampling.target"
    ) -> SamplingTarget:
        """Validate ``settings`` (keys ``ess``, ``rhat_max``, ``check_every``); a
        :class:`~clustermix.errors.ConfigError` names the key that is wrong."""
        unknown = set(settings) - {"ess", "rhat_max", "check_every"}
        if unknown:
            raise ConfigError(f"{key}: unknown keys {sorted(unknown)}")
        try:
            target = cls(
                ess=float(settings.get("ess", 400.0)),
                rhat_max=float(settings.get("rhat_max", 1.01)),
                check_every=int(settings.get("check_every", 100)),
            )
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{key}: {err}") from err
        if target.ess <= 0:
            raise ConfigError(f"{key}.ess must be positive, not {target.ess}")
        if target.rhat_max <= 1.0:
            raise ConfigError(f"{key}.rhat_max must exceed 1, not {target.rhat_max}")
        if target.check_every < 10:
            raise ConfigError(f"{key}.check_every must be at least 10, not {target.check_every}")
        return target

    def checkpoints(self, draws_done: int, cap: int) -> list[int]:
        """The checkpoints not judged yet that ``draws_done`` draws per chain (in every
        chain) reach, up to ``cap`` (the last round is the cap itself)."""
        judged = self.rounds[-1]["draws"] if self.rounds else 0
        points = [*range(self.check_every, cap, self.check_every), cap]
        return [n for n in points if judged < n <= draws_done]

    def judge(self, posterior: xr.Dataset, names: Sequence[str], draws: int) -> bool:
        """Judge the checkpoint at ``draws`` on the first ``draws`` of every chain of
        ``posterior`` (variables ``names``); record the round; True when the target is met."""
        import arviz as az

        prefix = posterior[list(names)].isel(draw=slice(0, draws))
        rhat = _worst(az.rhat(prefix), np.nanmax)
        bulk = _worst(az.ess(prefix, method="bulk"), np.nanmin)
        tail = _worst(az.ess(prefix, method="tail"), np.nanmin)
        met = rhat <= self.rhat_max and min(bulk, tail) >= self.ess
        self.rounds.append(
            {"draws": draws, "r_hat_max": rhat, "ess_bulk_min": bulk, "ess_tail_min": tail}
        )
        if met:
            self.stopped_at = draws
        return met

    def record(self, cap: int) -> dict[str, Any]:
        """The trace attribute: the target, the rounds judged, and why sampling stopped."""
        if self.stopped_at is not None:
            reason = f"target met after {self.stopped_at} draws per chain"
        else:
            reason = f"target not met by the cap of {cap} draws per chain"
        record = {key: value for key, value in asdict(self).items() if key != "rounds"}
        return {**record, "cap": cap, "rounds": self.rounds, "stopped": reason}


def _worst(dataset: xr.Dataset, reduce: Any) -> float:
    """``reduce`` (nanmax or nanmin) over every variable and element; NaN if all are NaN."""
    values = np.concatenate([np.ravel(dataset[name].values) for name in dataset.data_vars])
    values = values[np.isfinite(values)]
    return float(reduce(values)) if values.size else float("nan")

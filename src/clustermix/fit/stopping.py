"""Sampling to a target: stop the chains once their draws answer well enough.

A fit with ``sampling.target`` draws at most ``sampling.draws`` per chain after warm-up,
but stops at the first checkpoint (every ``check_every`` draws per chain) at which, over
the first draws of every chain up to the checkpoint, every judged quantity (every element)
has a rank-normalised split R-hat of at most ``rhat_max`` and bulk and tail effective
sample sizes of at least ``ess``. The trace then holds exactly those draws.

What is judged (``judge``): ``cluster`` (the default), the model's cluster quantities, the
ones the paper quotes and the convergence gate checks (a model's ``summary_quantities``),
computed from the draws without their systematic floors (so a seeded systematic draw, which
is independent from draw to draw, cannot make a quantity look better mixed than its
chains); or ``free``, every free parameter of the model, nuisance parameters included (a
binned field's weights far from the cluster, say, which may mix slowly and do not enter
what the paper reports).

The decision is reproducible: the draws of a chain do not depend on when anyone looks at
them, and each checkpoint is judged on the same prefix whatever the machine's speed, so
the same seed gives the same trace. The rounds judged, their worst R-hat and smallest
ESS, and why sampling stopped go into the trace's attributes (``sampling_target``).
Only the nutpie backend can be stopped this way (:func:`clustermix.fit.sampling.sample`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.errors import ConfigError

if TYPE_CHECKING:
    import xarray as xr

#: What a target can judge: the model's cluster quantities, or every free parameter.
JUDGED: tuple[str, ...] = ("cluster", "free")
#: A model's cluster quantities from a posterior's draws (name -> DataArray with dims
#: chain and draw), e.g. its ``summary_quantities`` without systematic floors.
QuantityFunction = Callable[["xr.Dataset"], Mapping[str, "xr.DataArray"]]


@dataclass
class SamplingTarget:
    """What the chains' draws must reach, and the rounds judged so far.

    ``ess``: the smallest bulk and tail ESS (over all chains) of every judged quantity;
    ``rhat_max``: the largest R-hat; ``check_every``: draws per chain between two
    checkpoints (the first is the shortest a fit can be); ``judge``: ``cluster`` (the
    quantities ``quantities`` computes from the draws) or ``free`` (every free parameter)."""

    ess: float
    rhat_max: float
    check_every: int
    judge: str = "cluster"
    quantities: QuantityFunction | None = field(default=None, repr=False, compare=False)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    stopped_at: int | None = None
    judged: list[str] = field(default_factory=list)

    @classmethod
    def from_config(
        cls,
        settings: Mapping[str, Any],
        key: str = "sampling.target",
        quantities: QuantityFunction | None = None,
    ) -> SamplingTarget:
        """Validate ``settings`` (keys ``ess``, ``rhat_max``, ``check_every``, ``judge``); a
        :class:`~clustermix.errors.ConfigError` names the key that is wrong.
        ``quantities``: the model's cluster quantities from draws, needed by
        ``judge: cluster`` (the default; a :class:`ValueError` without it)."""
        unknown = set(settings) - {"ess", "rhat_max", "check_every", "judge"}
        if unknown:
            raise ConfigError(f"{key}: unknown keys {sorted(unknown)}")
        try:
            target = cls(
                ess=float(settings.get("ess", 400.0)),
                rhat_max=float(settings.get("rhat_max", 1.01)),
                check_every=int(settings.get("check_every", 100)),
                judge=str(settings.get("judge", "cluster")),
                quantities=quantities,
            )
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{key}: {err}") from err
        if target.judge not in JUDGED:
            raise ConfigError(f"{key}.judge must be one of {list(JUDGED)}, not '{target.judge}'")
        if target.judge == "cluster" and quantities is None:
            raise ValueError(
                f"{key}.judge 'cluster' needs the model's cluster quantities from its draws "
                "(sample(..., target_quantities=...)); or judge 'free'"
            )
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

    def judge_checkpoint(self, posterior: xr.Dataset, names: Sequence[str], draws: int) -> bool:
        """Judge the checkpoint at ``draws`` on the first ``draws`` of every chain of
        ``posterior`` (free variables ``names``, from which the cluster quantities are
        computed); record the round; True when the target is met."""
        import arviz as az
        import xarray as xr

        prefix = posterior[list(names)].isel(draw=slice(0, draws))
        if self.judge == "cluster" and self.quantities is not None:
            prefix = xr.Dataset(
                {name: values.rename(name) for name, values in self.quantities(prefix).items()}
            )
        self.judged = sorted(str(name) for name in prefix.data_vars)
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
        record = {
            key: value for key, value in asdict(self).items() if key not in ("rounds", "quantities")
        }
        return {**record, "cap": cap, "rounds": self.rounds, "stopped": reason}


def _worst(dataset: xr.Dataset, reduce: Any) -> float:
    """``reduce`` (nanmax or nanmin) over every variable and element; NaN if all are NaN."""
    values = np.concatenate([np.ravel(dataset[name].values) for name in dataset.data_vars])
    values = values[np.isfinite(values)]
    return float(reduce(values)) if values.size else float("nan")

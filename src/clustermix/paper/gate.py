"""The convergence gate: every fit must pass it before its numbers reach the paper.

A fit fails when a cluster parameter's R-hat is above ``rhat_max``, its bulk ESS below
``ess_bulk_min``, or the sampler reported more than ``divergences_max`` divergent
transitions. Each failure names the model, the parameter and the number, so the message
says exactly what to fix (more draws, a higher target_accept, a reparametrisation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from clustermix.errors import ClusterMixError


class ConvergenceError(ClusterMixError):
    """One or more fits failed the convergence gate."""


@dataclass(frozen=True)
class GateFailure:
    """One failed check of one fit."""

    model: str
    parameter: str
    check: str
    value: float
    threshold: float

    def message(self) -> str:
        """One line: model, parameter, the number and the threshold it broke."""
        relation = {"r_hat": ">", "ess_bulk": "<", "divergences": ">"}[self.check]
        label = {"r_hat": "R-hat", "ess_bulk": "bulk ESS", "divergences": "divergences"}
        value = f"{self.value:.0f}" if self.check != "r_hat" else f"{self.value:.3f}"
        limit = f"{self.threshold:g}"
        return (
            f"{self.model}: {label[self.check]} of {self.parameter} is {value} ({relation} {limit})"
        )


def fit_failures(
    model: str, diagnostics: Mapping[str, Any], thresholds: Mapping[str, float]
) -> list[GateFailure]:
    """The checks that one fit's diagnostics (``diagnostics/{model}.json``) fail."""
    failures: list[GateFailure] = []
    per_variable = diagnostics["cluster"]["per_variable"]
    for parameter, values in sorted(per_variable.items()):
        r_hat = values.get("r_hat")
        if r_hat is not None and r_hat > thresholds["rhat_max"]:
            failures.append(GateFailure(model, parameter, "r_hat", r_hat, thresholds["rhat_max"]))
        ess = values.get("ess_bulk")
        if ess is not None and ess < thresholds["ess_bulk_min"]:
            failures.append(
                GateFailure(model, parameter, "ess_bulk", ess, thresholds["ess_bulk_min"])
            )
    divergences = int(diagnostics["divergences"])
    if divergences > thresholds["divergences_max"]:
        failures.append(
            GateFailure(
                model, "(sampler)", "divergences", divergences, thresholds["divergences_max"]
            )
        )
    return failures


def run_gate(
    diagnostics_by_model: Mapping[str, Mapping[str, Any]],
    thresholds: Mapping[str, float],
    *,
    draft: bool,
) -> dict[str, Any]:
    """Check every fit; raise :class:`ConvergenceError` on failure unless ``draft``.

    Returns the gate's record: thresholds, per-model pass/fail, every failure and whether
    the paper is a draft (built although fits failed).
    """
    failures = [
        failure
        for model, diagnostics in diagnostics_by_model.items()
        for failure in fit_failures(model, diagnostics, thresholds)
    ]
    if failures and not draft:
        lines = "\n  ".join(failure.message() for failure in failures)
        raise ConvergenceError(
            f"{len(failures)} convergence check(s) failed:\n  {lines}\n"
            "Run longer chains (sampling.draws/tune), raise sampling.target_accept, or set "
            "paper.draft: true to build a draft that lists these failures."
        )
    failed_models = sorted({failure.model for failure in failures})
    return {
        "thresholds": dict(thresholds),
        "passed": {model: model not in failed_models for model in diagnostics_by_model},
        "failures": [asdict(failure) | {"message": failure.message()} for failure in failures],
        "draft": bool(failures),
    }

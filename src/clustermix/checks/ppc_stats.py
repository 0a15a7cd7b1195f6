"""Statistics shared by the posterior predictive checks (:mod:`clustermix.checks.ppc`, the
histograms, and :mod:`clustermix.checks.ppc_local`, the local checks): the binned chi-square,
its summary and p-value, and how a p-value is printed.

Both modules import these from here, so neither imports the other for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from clustermix.paper.macros import format_number

#: The replicated-count percentiles stored per bin: the 95% band and the median.
BAND_PERCENTILES: tuple[float, float, float] = (2.5, 50.0, 97.5)
#: p-values below this are counted as a warning sign in the paper's summary sentence.
LOW_P_VALUE = 0.05


def chi_square(counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """sum_b (n_b - E_b)^2 / max(E_b, 1) over the last axis (E_b floored at one star)."""
    return np.sum((counts - expected) ** 2 / np.maximum(expected, 1.0), axis=-1)


def chi_square_summary(t_obs: float, t_rep: np.ndarray) -> dict[str, Any]:
    """The observed chi-square, the replicated ones' 2.5/50/97.5 percentiles and the
    posterior predictive p-value P(T_rep >= T_obs)."""
    return {
        "chi2_observed": t_obs,
        "chi2_replicated": dict(
            zip(
                ("q2.5", "q50", "q97.5"),
                np.percentile(t_rep, BAND_PERCENTILES).tolist(),
                strict=True,
            )
        ),
        "p_value": float(np.mean(t_rep >= t_obs)),
    }


def format_p_value(p_value: float, n_draws: int) -> str:
    """A p-value with two decimals (three below 0.1); ``<1/n_draws`` when none of the
    replicated data sets was as discrepant (LaTeX, valid in text and math mode)."""
    if p_value <= 0.0:
        return rf"\ensuremath{{<}}{format_number(1.0 / max(n_draws, 1), 3)}"
    return format_number(p_value, 3 if p_value < 0.1 else 2)

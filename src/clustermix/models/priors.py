"""Every prior of a built model, read from the PyMC graph itself.

:func:`prior_rows` lists each free variable with its distribution and parameters as the
model holds them (not as a docstring says), so the paper's table of priors cannot drift
from the code: the fit stores the rows in the trace (attribute ``priors``), and the paper
prints them. A parameter that depends on other variables is shown as f(their names).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pymc as pm
from pymc.distributions.distribution import SymbolicRandomVariable
from pymc.distributions.truncated import TruncatedRV
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.random.type import RandomType

#: Significant digits of a printed prior parameter.
DIGITS = 4
#: Longest array parameter printed in full; longer ones print their first and last values.
MAX_PRINTED_VALUES = 4


def prior_rows(model: pm.Model) -> list[dict[str, Any]]:
    """One row per free variable: ``variable`` (its name in the trace), ``prior`` (e.g.
    ``Uniform(0.05, 10)``) and ``dims`` (its dimensions, [] for a scalar)."""
    rows = []
    for rv in model.free_RVs:
        rows.append(
            {
                "variable": rv.name,
                "prior": _prior_text(rv, model),
                "dims": list(model.named_vars_to_dims.get(rv.name) or ()),
            }
        )
    return rows


def _prior_text(rv: Any, model: pm.Model) -> str:
    """``Name(p1, p2, ...)``; a truncated distribution as ``Name(...) on [lower, upper]``."""
    node = rv.owner
    op = node.op
    if isinstance(op, TruncatedRV):
        *params, lower, upper = _symbolic_params(node)
        base = op.base_rv_op._print_name[0]
        texts = ", ".join(_parameter_text(p, model) for p in params)
        bounds = f"{_parameter_text(lower, model)}, {_parameter_text(upper, model)}"
        return f"{base}({texts}) on [{bounds}]"
    texts = ", ".join(_parameter_text(p, model) for p in op.dist_params(node))
    return f"{op._print_name[0]}({texts})"


def _symbolic_params(node: Any) -> list[Any]:
    """The parameters of a symbolic random variable's node: its inputs without the random
    generators and the (empty) size."""
    return [
        var
        for var in node.inputs
        if not isinstance(var.type, RandomType)
        and not (var.ndim == 1 and var.dtype.startswith("int"))
    ]


def _parameter_text(param: Any, model: pm.Model) -> str:
    """A constant parameter's value(s), f(names of the free variables it depends on), or
    a distribution's own text (e.g. a random walk's start and step distributions:
    ``RandomWalk(Normal(0, 1), Normal(0, 1), 18)``)."""
    upstream = {var.name for var in ancestors([param]) if var in model.free_RVs}
    if upstream:
        return f"f({', '.join(sorted(upstream))})"
    if param.owner is not None and isinstance(
        param.owner.op, RandomVariable | SymbolicRandomVariable
    ):
        return _prior_text(param, model)
    values = np.atleast_1d(np.asarray(param.eval(), dtype=float)).ravel()
    texts = [f"{value:.{DIGITS}g}" for value in values]
    if len(texts) == 1:
        return texts[0]
    if len(texts) > MAX_PRINTED_VALUES:
        texts = [texts[0], "...", texts[-1]]
    return "[" + ", ".join(texts) + "]"

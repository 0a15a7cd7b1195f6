"""A model's log posterior and its gradient, compiled once and shared.

The mode search (:class:`~clustermix.models.modes.PosteriorOptimiser`) and PyMC's NUTS
started at the mode (:mod:`clustermix.fit.sampling`) need the same function, PyMC's
``Model.logp_dlogp_function`` on the sampler's unconstrained, raveled parameters. PyTensor's
cache spares the second compile its C build but not the graph rewrites, which for
``phase_space`` take about 10 s; so the function is kept per model here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    import pymc as pm

_COMPILED: WeakKeyDictionary[Any, Any] = WeakKeyDictionary()


def logp_dlogp(model: pm.Model) -> Any:
    """``model.logp_dlogp_function(ravel_inputs=True)`` (log posterior, Jacobian included,
    and its gradient), compiled on the first call for ``model`` and reused after; it trusts
    its input (float64 arrays of the raveled unconstrained values)."""
    function = _COMPILED.get(model)
    if function is None:
        function = model.logp_dlogp_function(ravel_inputs=True)
        function.trust_input = True
        function.set_extra_values({})
        _COMPILED[model] = function
    return function

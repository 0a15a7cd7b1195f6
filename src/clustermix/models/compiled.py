"""A model's log posterior and its gradient, compiled once and shared.

The mode search (:class:`~clustermix.models.modes.PosteriorOptimiser`), the whitening at the
mode (:func:`clustermix.fit.whitening.whitening_at`) and PyMC's NUTS started at the mode
(:mod:`clustermix.fit.sampling`) need the same function, PyMC's
``Model.logp_dlogp_function`` on the sampler's unconstrained, raveled parameters. PyTensor's
cache spares the second compile its C build but not the graph rewrites, which for
``phase_space`` take about 10 s; so the function is kept per model and compile mode here.

Which compile mode: a fit that nutpie samples with JAX (``sampling.compiler: jax``) searches
its mode with JAX too (:func:`compile_mode_for`): on a cold cache ``phase_space``
compiles in about 15 s with JAX against about 80 s for PyTensor's C build, and a gradient
costs about the same (bench/README.md, "Compiled with JAX"). Every other fit uses PyTensor's
default (C), whose function PyMC's NUTS then reuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    import pymc as pm

#: PyTensor's name of its JAX compile mode.
JAX_MODE = "JAX"

_COMPILED: WeakKeyDictionary[Any, dict[str | None, Any]] = WeakKeyDictionary()


def logp_dlogp(model: pm.Model, mode: str | None = None) -> Any:
    """``model.logp_dlogp_function(ravel_inputs=True)`` (log posterior, Jacobian included,
    and its gradient) compiled with PyTensor's ``mode`` (None: its default, C;
    :data:`JAX_MODE`: JAX), on the first call for ``model`` and ``mode`` and reused after; it
    trusts its input (float64 arrays of the raveled unconstrained values)."""
    functions = _COMPILED.setdefault(model, {})
    function = functions.get(mode)
    if function is None:
        function = model.logp_dlogp_function(
            ravel_inputs=True, **({} if mode is None else {"mode": mode})
        )
        function.trust_input = True
        function.set_extra_values({})
        functions[mode] = function
    return function


def per_draw_compile_mode() -> str | None:
    """The compile mode of a function evaluated at every posterior draw (a star's
    membership probability): :data:`JAX_MODE` where JAX is installed, else None (C). For
    ``phase_space`` on the default field, JAX compiles it in 5 s against 32 s for a cold C
    build, and evaluates a draw in 1.1 ms against 2.3 (bench/README.md, "Compiled with
    JAX")."""
    return JAX_MODE if find_spec("jax") is not None else None


def compile_mode_for(sampling: Mapping[str, Any]) -> str | None:
    """The compile mode of a fit's mode search and whitening for its ``sampling`` settings:
    :data:`JAX_MODE` when nutpie compiles the model with JAX, else None (C)."""
    if sampling.get("backend") == "nutpie" and sampling.get("compiler") == "jax":
        return JAX_MODE
    return None

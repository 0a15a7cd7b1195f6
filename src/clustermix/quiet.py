"""Warnings a user cannot act on, silenced where they arise.

Each filter matches one message of one library's module, and says why it is silenced;
every other warning is left alone. :func:`silence_unactionable_warnings` runs when
``clustermix`` is imported, so every workflow script has the filters before it imports
PyMC; pytest resets warning filters for each test, so ``pyproject.toml`` lists the same
ones for the test suite.
"""

from __future__ import annotations

import warnings

#: PyTensor's warning when its C backend finds no BLAS to link (a pip install on a machine
#: without a system BLAS: numpy's bundled OpenBLAS cannot be linked). Measured to cost
#: nothing here: the compiled logp + gradient graphs of all four cluster models contain no
#: BLAS operation (no Dot, Gemv, Gemm, Ger), and the warning comes from a graph rewrite that
#: merely reads the setting. On the default simulated field (17,838 stars, 2-core machine,
#: median of 3 alternating sessions) linking Debian's OpenBLAS 0.3.21 changed one logp +
#: gradient of pm_2d from 2.34 to 2.37 ms and of phase_space from 9.37 to 9.77 ms (noise),
#: and a PyMC pm_2d fit of 2 x 400 iterations from 42.6 to 42.5 s; nutpie samples with
#: JAX or numba and never calls PyTensor's C code. Where a BLAS is found the warning never
#: comes.
PYTENSOR_NO_BLAS = r"PyTensor could not link to a BLAS installation"

#: (message regex, category, module regex) of every silenced warning.
UNACTIONABLE: tuple[tuple[str, type[Warning], str], ...] = (
    (PYTENSOR_NO_BLAS, UserWarning, r"pytensor\.link\.c\.cmodule"),
)


def silence_unactionable_warnings() -> None:
    """Install the filters of :data:`UNACTIONABLE` (idempotent)."""
    for message, category, module in UNACTIONABLE:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)

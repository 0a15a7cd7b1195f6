"""The compiler settings PyTensor builds clustermix's models with.

C flags. PyTensor turns each model's log density into C modules and compiles them with g++
(``-O3`` and debug information, ``-g``); on a cold cache that build is most of a short fit:
about 80 modules for ``phase_space``, 0.5–1 s each. clustermix asks for ``-g0`` (no debug
information; ``gcc__cxxflags``: PyTensor puts it after its own ``-g``, so it wins), which
does not change the code g++ generates. Measured on the tiny test field, in one run on one
machine (``bench/compile_flags.py``, numbers in ``bench/README.md``): the cold build takes
about a fifth less time. ``-O1 -g0`` builds faster still (a third less) but its code was
up to 20% slower per gradient, which PyMC's sampler would pay back.

Numba without fast math. With ``sampling.compiler: numba`` nutpie samples the numba code
PyTensor generates, and PyTensor caches that code between runs. With fast math (PyTensor's
default, ``numba__fastmath``) the code numba compiles afresh and the code it loads from the
cache gave different floating-point results for ``phase_space``'s gradient, so a rebuild
drew another trace from the same inputs and seed (its chains parted after 4 warm-up draws).
clustermix asks for ``numba__fastmath=False``: the same inputs then give the same trace
whether the code was compiled or cached, for a gradient 0–25% dearer (``bench/README.md``).

A choice of the user's wins: a setting is not changed when it is set in ``PYTENSOR_FLAGS``
or in a PyTensor configuration file (``PYTENSORRC``, ``~/.pytensorrc``,
``~/.pytensorrc.txt``), or when PyTensor was already imported with flags of its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: g++ flags for PyTensor's C modules: no debug information (PyTensor's -O3 stays).
CXXFLAGS = "-g0"
#: The PyTensor setting that holds them.
SETTING = "gcc__cxxflags"
#: The PyTensor setting of numba's fast math, and clustermix's value (reproducible traces).
FASTMATH_SETTING = "numba__fastmath"
FASTMATH = False


def _configuration_files() -> list[Path]:
    """PyTensor's configuration files, as it looks for them."""
    listed = os.environ.get("PYTENSORRC")
    if listed:
        return [Path(path).expanduser() for path in listed.split(os.pathsep) if path]
    home = Path("~").expanduser()
    return [home / ".pytensorrc", home / ".pytensorrc.txt"]


def user_chose(option: str) -> bool:
    """Whether the user set ``option`` (e.g. ``cxxflags``, ``fastmath``: the part after the
    section, as it appears in ``PYTENSOR_FLAGS`` or a configuration file)."""
    if option in os.environ.get("PYTENSOR_FLAGS", ""):
        return True
    for path in _configuration_files():
        try:
            if option in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def user_chose_flags() -> bool:
    """Whether the user set ``gcc__cxxflags`` (in ``PYTENSOR_FLAGS`` or a config file)."""
    return user_chose("cxxflags")


def use_compile_settings() -> None:
    """Have PyTensor compile with :data:`CXXFLAGS` and without numba's fast math, each
    unless the user chose it.

    Before PyTensor is imported, through ``PYTENSOR_FLAGS`` (which processes started from
    here, such as Snakemake's jobs, inherit); after, on its configuration (the C flags only
    if that still holds PyTensor's default, no flags)."""
    ours = {}
    if not user_chose_flags():
        ours[SETTING] = CXXFLAGS
    if not user_chose("fastmath"):
        ours[FASTMATH_SETTING] = FASTMATH
    pytensor = sys.modules.get("pytensor")
    if pytensor is not None:
        if SETTING in ours and not getattr(pytensor.config, SETTING):
            setattr(pytensor.config, SETTING, CXXFLAGS)
        if FASTMATH_SETTING in ours:
            setattr(pytensor.config, FASTMATH_SETTING, FASTMATH)
        return
    if not ours:
        return
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    added = ",".join(f"{key}={value}" for key, value in ours.items())
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{added}" if flags else added

"""The C compiler flags PyTensor builds clustermix's models with.

PyTensor turns each model's log density into C modules and compiles them with g++
(``-O3`` and debug information, ``-g``); on a cold cache that build is most of a short fit:
about 80 modules for ``phase_space``, 0.5–1 s each. clustermix asks for ``-g0`` (no debug
information; ``gcc__cxxflags``: PyTensor puts it after its own ``-g``, so it wins), which
does not change the code g++ generates. Measured on the tiny test field, in one run on one
machine (``bench/compile_flags.py``, numbers in ``bench/README.md``): the cold build takes
about a fifth less time. ``-O1 -g0`` builds faster still (a third less) but its code was
up to 20% slower per gradient, which PyMC's sampler would pay back.

A choice of the user's wins: nothing is changed when ``gcc__cxxflags`` is set in
``PYTENSOR_FLAGS`` or in a PyTensor configuration file (``PYTENSORRC``, ``~/.pytensorrc``,
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


def _configuration_files() -> list[Path]:
    """PyTensor's configuration files, as it looks for them."""
    listed = os.environ.get("PYTENSORRC")
    if listed:
        return [Path(path).expanduser() for path in listed.split(os.pathsep) if path]
    home = Path("~").expanduser()
    return [home / ".pytensorrc", home / ".pytensorrc.txt"]


def user_chose_flags() -> bool:
    """Whether the user set ``gcc__cxxflags`` (in ``PYTENSOR_FLAGS`` or a config file)."""
    if "cxxflags" in os.environ.get("PYTENSOR_FLAGS", ""):
        return True
    for path in _configuration_files():
        try:
            if "cxxflags" in path.read_text(errors="replace"):
                return True
        except OSError:
            continue
    return False


def use_fast_compile_flags() -> None:
    """Have PyTensor compile with :data:`CXXFLAGS` unless the user chose flags.

    Before PyTensor is imported, through ``PYTENSOR_FLAGS`` (which processes started from
    here, such as Snakemake's jobs, inherit); after, on its configuration, if that still
    holds PyTensor's default (no flags)."""
    if user_chose_flags():
        return
    pytensor = sys.modules.get("pytensor")
    if pytensor is not None:
        if not getattr(pytensor.config, SETTING):
            setattr(pytensor.config, SETTING, CXXFLAGS)
        return
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    ours = f"{SETTING}={CXXFLAGS}"
    os.environ["PYTENSOR_FLAGS"] = f"{flags},{ours}" if flags else ours

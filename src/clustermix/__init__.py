"""clustermix: Bayesian cluster/field mixture models for Gaia DR3 fields."""

from importlib.metadata import PackageNotFoundError, version

from clustermix.compile_flags import use_compile_settings
from clustermix.quiet import silence_unactionable_warnings

try:
    __version__ = version("clustermix")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

# Before any module imports PyMC: warnings nobody can act on stay out of every log, and
# PyTensor compiles the models' C code with flags that build it faster, and their numba code
# without fast math (the same trace whether that code was compiled or cached).
silence_unactionable_warnings()
use_compile_settings()

__all__ = ["__version__"]

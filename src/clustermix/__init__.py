"""clustermix: Bayesian cluster/field mixture models for Gaia DR3 fields."""

from importlib.metadata import PackageNotFoundError, version

from clustermix.quiet import silence_unactionable_warnings

try:
    __version__ = version("clustermix")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

# Before any module imports PyMC: warnings nobody can act on stay out of every log.
silence_unactionable_warnings()

__all__ = ["__version__"]

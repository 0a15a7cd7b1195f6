"""clustermix: Bayesian cluster/field mixture models for Gaia DR3 fields."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clustermix")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]

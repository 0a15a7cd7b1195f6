"""Exceptions whose message is meant for the user, not a traceback reader."""


class ClusterMixError(Exception):
    """Base class: a problem the user can fix, described in one clear message."""


class ConfigError(ClusterMixError):
    """An invalid configuration; the message names the config key."""


class InputDataError(ClusterMixError):
    """An unusable input catalogue; the message names the file, the column and the row count."""


class QueryError(ClusterMixError):
    """The Gaia archive query failed after all retries."""


class ModeError(ClusterMixError):
    """A mixture fit found no cluster-like mode, or its chains did not all stay on the
    cluster's; the message names every mode seen (parallax, proper motion, f, dispersion)."""

"""Model 3: both proper motions, each star with its full 2x2 measurement covariance.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

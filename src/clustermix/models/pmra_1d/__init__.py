"""Model 1: proper motion in RA alone, a Gaussian cluster on a Gaussian-mixture field.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

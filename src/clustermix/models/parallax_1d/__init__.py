"""Model 2: parallax alone, a Gaussian cluster on a field learned from the data.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

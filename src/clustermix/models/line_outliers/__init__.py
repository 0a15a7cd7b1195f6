"""Model 0: a straight line with outliers, the seed tutorial's warm-up and our acceptance test.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

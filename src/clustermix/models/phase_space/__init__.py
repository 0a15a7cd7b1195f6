"""Model 4: sky position, parallax, proper motions and radial velocities together.

The model itself (PyMC) is in :mod:`.model`; this package's own import loads no PyMC.
"""

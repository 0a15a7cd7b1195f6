"""Checks that a fit is right, beyond convergence.

Posterior predictive checks against the data a model was fitted to
(:mod:`~clustermix.checks.ppc`, the local checks in :mod:`~clustermix.checks.ppc_local`,
their shared statistics in :mod:`~clustermix.checks.ppc_stats`), validation on simulated
fields where the truth is known (:mod:`~clustermix.checks.validation`), and the calibration
record over many simulated fields that ``bench/calibration.py`` writes
(:mod:`~clustermix.checks.calibration`). Import each module by name; this package's
``__init__`` imports nothing.
"""

"""Fitting a model and reading the fit back.

Sampling a model with NUTS and writing its trace (:mod:`~clustermix.fit.sampling`), one fit
from files to files as the workflow's fit rules run it (:mod:`~clustermix.fit.run`), a
finished fit reopened from its trace (:mod:`~clustermix.fit.fitted`), and what is read off a
fit: convergence diagnostics (:mod:`~clustermix.fit.diagnostics`), posterior summaries
(:mod:`~clustermix.fit.summary`), membership probabilities (:mod:`~clustermix.fit.membership`),
and the progress lines a running fit prints (:mod:`~clustermix.fit.progress`). Import each
module by name; this package's ``__init__`` imports nothing.
"""

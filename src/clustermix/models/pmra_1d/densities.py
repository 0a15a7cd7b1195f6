"""The ``pmra_1d`` components' densities of observed pmra (per mas/yr), for figures.

At the posterior medians: the cluster f N(mu_cl, s_cl^2 + e^2) and each field component
(1 - f) w_k N(mu_k, s_k^2 + e^2), averaged over the stars' errors e (see
:mod:`clustermix.models.densities`). NumPy only: nothing here imports PyMC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from clustermix.models.densities import Components1D, field_weights, posterior_medians

if TYPE_CHECKING:
    import xarray as xr

#: The kind of panel the figure draws: a pmra histogram.
PANEL = "pmra"
#: Deterministics the components read, which a trace may not store (the caller recomputes
#: them: :func:`clustermix.fit.fitted.with_deterministics`).
DETERMINISTICS: tuple[str, ...] = ("sigma_pmra_field",)
#: The posterior variables the components read.
POSTERIOR_NAMES: tuple[str, ...] = (
    "f_cluster",
    "pmra_cl",
    "sigma_pmra_cl",
    "w_field",
    "pmra_field",
    *DETERMINISTICS,
)


def fitted_components(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray] | None = None
) -> Components1D:
    """The components at the posterior medians (mas/yr); ``posterior`` must hold
    :data:`DETERMINISTICS`. ``data`` is not needed (the field is fitted)."""
    medians = posterior_medians(posterior, POSTERIOR_NAMES)
    mu = np.atleast_1d(medians["pmra_field"])
    return Components1D(
        f=float(medians["f_cluster"]),
        mu_cl=float(medians["pmra_cl"]),
        sigma_cl=float(medians["sigma_pmra_cl"]),
        w=field_weights(medians.get("w_field"), mu.size),
        mu=mu,
        sigma=np.atleast_1d(medians["sigma_pmra_field"]),
    )


def panel_data(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays the panel draws: ``pmra`` and ``pmra_error`` (mas/yr)."""
    return {"pmra": data["pmra"], "pmra_error": data["pmra_error"]}


def component_densities(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray], x: np.ndarray
) -> dict[str, np.ndarray]:
    """``cluster``, ``field_k`` and ``total`` densities (per mas/yr) on the pmra grid ``x``
    (mas/yr), averaged over the stars' ``pmra_error``; each integrates to its weight."""
    return fitted_components(posterior, data).densities(x, data["pmra_error"])

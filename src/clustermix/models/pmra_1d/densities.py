"""The ``pmra_1d`` components' densities of observed pmra (per mas/yr), for figures.

At the posterior medians: the cluster f N(mu_cl, s_cl^2 + e^2) and each field component
(1 - f) w_k N(mu_k, s_k^2 + e^2), averaged over the stars' errors e (see
:mod:`clustermix.models.densities`). A field learned on the control field (fixed, each G
bin its own mixture) is drawn as one mixture of all the bins' components
(:func:`average_field`). NumPy only: nothing here imports PyMC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from clustermix.models.densities import (
    Components1D,
    field_weights,
    pooled_bin_mixture,
    posterior_medians,
)

if TYPE_CHECKING:
    import xarray as xr

#: The kind of panel the figure draws: a pmra histogram.
PANEL = "pmra"
#: Deterministics the components read, which a trace may not store (the caller recomputes
#: them: :func:`clustermix.fit.fitted.with_deterministics`); a fixed field has none.
DETERMINISTICS: tuple[str, ...] = ("sigma_pmra_field",)
#: The cluster's posterior variables.
CLUSTER_NAMES: tuple[str, ...] = ("f_cluster", "pmra_cl", "sigma_pmra_cl")
#: The jointly fitted field's posterior variables.
FIELD_NAMES: tuple[str, ...] = ("w_field", "pmra_field", *DETERMINISTICS)
#: All the posterior variables the components read (with a jointly fitted field).
POSTERIOR_NAMES: tuple[str, ...] = (*CLUSTER_NAMES, *FIELD_NAMES)


def average_field(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The control-field field model of all stars as one mixture (for figures,
    :func:`~clustermix.models.densities.pooled_bin_mixture`): ``w`` (M,), ``mu`` (M,) and
    ``sigma`` (M,) (mas/yr)."""
    return pooled_bin_mixture(
        data["field_weights"], {"mu": data["field_means"], "sigma": data["field_sigmas"]}
    )


def fitted_components(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray] | None = None
) -> Components1D:
    """The components at the posterior medians (mas/yr). A field learned on the control
    field comes from ``data`` (``field_weights`` ...: :func:`average_field`); a jointly
    fitted one from ``posterior``, which must then hold :data:`DETERMINISTICS`."""
    medians = posterior_medians(posterior, CLUSTER_NAMES)
    cluster = {
        "f": float(medians["f_cluster"]),
        "mu_cl": float(medians["pmra_cl"]),
        "sigma_cl": float(medians["sigma_pmra_cl"]),
    }
    if data is not None and "field_weights" in data:
        return Components1D(**cluster, **average_field(data))
    field = posterior_medians(posterior, FIELD_NAMES)
    mu = np.atleast_1d(field["pmra_field"])
    return Components1D(
        **cluster,
        w=field_weights(field.get("w_field"), mu.size),
        mu=mu,
        sigma=np.atleast_1d(field["sigma_pmra_field"]),
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

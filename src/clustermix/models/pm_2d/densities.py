"""The ``pm_2d`` components' densities of observed (pmra, pmdec) (per (mas/yr)^2), for
figures.

At the posterior medians: the cluster f N2(mu_cl, s_cl^2 I + C_i) and each field
component (1 - f) w_k N2(mu_k, Sigma_k + C_i), averaged over stars' measurement
covariances C_i (see :mod:`clustermix.models.densities`). A field learned on the control
field (fixed, each G bin its own mixture) is drawn as one mixture of all the bins'
components (:func:`average_field`). NumPy only: nothing here imports PyMC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from clustermix.models.densities import (
    Components2D,
    field_weights,
    pooled_bin_mixture,
    posterior_medians,
)

if TYPE_CHECKING:
    import xarray as xr

#: The kind of panel the figure draws: the (pmra, pmdec) plane.
PANEL = "pm"
#: Deterministics the components read, which a trace may not store (the caller recomputes
#: them: :func:`clustermix.fit.fitted.with_deterministics`); a fixed field has none.
DETERMINISTICS: tuple[str, ...] = ("sigma_field", "rho_field")
#: The cluster's posterior variables.
CLUSTER_NAMES: tuple[str, ...] = ("f_cluster", "pmra_cl", "pmdec_cl", "sigma_cl")
#: The jointly fitted field's posterior variables.
FIELD_NAMES: tuple[str, ...] = ("w_field", "pmra_field", "pmdec_field", *DETERMINISTICS)


def measurement_covariances(data: Mapping[str, np.ndarray]) -> np.ndarray:
    """Each star's measurement covariance entries (var_a, var_d, cov_ad), (n, 3) in
    (mas/yr)^2, from ``pmra_error``, ``pmdec_error`` (mas/yr) and ``pmra_pmdec_corr`` (as
    :func:`clustermix.models.pm_2d.model.star_covariances`, which a test checks)."""
    e_a = np.asarray(data["pmra_error"], float)
    e_d = np.asarray(data["pmdec_error"], float)
    corr = np.asarray(data["pmra_pmdec_corr"], float)
    return np.column_stack([e_a**2, e_d**2, corr * e_a * e_d])


def average_field(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The control-field field model of all stars as one mixture (for figures,
    :func:`~clustermix.models.densities.pooled_bin_mixture`): ``w`` (M,), ``mu`` (M, 2),
    ``sigma`` (M, 2) (mas/yr) and ``rho`` (M,)."""
    return pooled_bin_mixture(
        data["field_weights"],
        {"mu": data["field_means"], "sigma": data["field_sigmas"], "rho": data["field_rho"]},
    )


def fitted_components(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray] | None = None
) -> Components2D:
    """The components at the posterior medians (mas/yr). A field learned on the control
    field comes from ``data`` (``field_weights`` ...: :func:`average_field`); a jointly
    fitted one from ``posterior``, which must then hold :data:`DETERMINISTICS`."""
    medians = posterior_medians(posterior, CLUSTER_NAMES)
    cluster = {
        "f": float(medians["f_cluster"]),
        "mu_cl": np.array([medians["pmra_cl"], medians["pmdec_cl"]], float),
        "sigma_cl": float(medians["sigma_cl"]),
    }
    if data is not None and "field_weights" in data:
        return Components2D(**cluster, **average_field(data))
    field = posterior_medians(posterior, FIELD_NAMES)
    mu = np.column_stack([np.atleast_1d(field["pmra_field"]), np.atleast_1d(field["pmdec_field"])])
    return Components2D(
        **cluster,
        w=field_weights(field.get("w_field"), len(mu)),
        mu=mu,
        sigma=np.atleast_2d(field["sigma_field"]),
        rho=np.atleast_1d(field["rho_field"]),
    )


def panel_data(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays the panel draws: ``pmra``, ``pmdec`` (mas/yr) and ``covariances`` (n, 3)
    ((mas/yr)^2, :func:`measurement_covariances`)."""
    return {
        "pmra": data["pmra"],
        "pmdec": data["pmdec"],
        "covariances": measurement_covariances(data),
    }


def component_densities(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray], xx: np.ndarray, yy: np.ndarray
) -> dict[str, np.ndarray]:
    """``cluster``, ``field_k`` and ``total`` densities (per (mas/yr)^2) on the grid
    (``xx``, ``yy``) of (pmra, pmdec) (mas/yr), averaged over a subset of the stars'
    measurement covariances; each integrates to its weight."""
    covariances = measurement_covariances(data)
    return fitted_components(posterior, data).densities(xx, yy, covariances)

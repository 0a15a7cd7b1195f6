"""Simulated fields built to break the cluster models, for tests and the calibration bench.

:func:`hard_field` gives the keywords of :func:`clustermix.data.simulate.simulate_field`
for a field where the mixture models' assumptions fail: a poor, distant cluster that moves
with the field's bulk, in a wide cone dominated by the field, with a richer second cluster
in the cone and two comoving clumps of a few stars, optionally with unresolved binaries and
underestimated uncertainties.
"""

from __future__ import annotations

from typing import Any

#: The cone and its target cluster: NGC 6819's position, a 40' cone, a cluster at 3.3 kpc
#: (parallax 0.30 mas) whose proper motion (mas/yr) lies in the field's densest bin there.
CENTRE = {"ra_deg": 295.327, "dec_deg": 40.190, "radius_arcmin": 40.0}
TARGET = {
    "parallax_mas": 0.30,
    "pmra_masyr": -3.05,
    "pmdec_masyr": -5.2,
    "rv_kms": 0.0,
    "sigma_v_kms": 1.0,
    "plummer_radius_arcmin": 3.0,
}
#: A richer, nearer cluster 27' from the centre (parallax mas, motions mas/yr and km/s).
NEIGHBOUR = {
    "parallax_mas": 0.8,
    "pmra_masyr": 1.5,
    "pmdec_masyr": -1.0,
    "rv_kms": -20.0,
    "sigma_v_kms": 0.8,
    "plummer_radius_arcmin": 3.0,
    "offset_arcmin": [25.0, 10.0],
}
#: Two comoving clumps of field stars with nearly equal proper motions (mas/yr).
CLUMPS = (
    {
        "n_stars": 6,
        "pmra_masyr": 6.0,
        "pmdec_masyr": 2.0,
        "parallax_mas": 1.5,
        "sigma_pm_masyr": 0.02,
    },
    {
        "n_stars": 5,
        "pmra_masyr": -9.0,
        "pmdec_masyr": -1.0,
        "parallax_mas": 0.5,
        "sigma_pm_masyr": 0.02,
    },
)


def hard_field(
    seed: int,
    n_members: int,
    n_field: int,
    neighbour_members: int,
    g_max_mag: float = 19.0,
    binary_fraction: float = 0.0,
    error_underestimate: float = 1.0,
) -> dict[str, Any]:
    """Keywords of ``simulate_field`` for the hard field (see the module docstring)."""
    return {
        **CENTRE,
        **TARGET,
        "seed": seed,
        "n_members": n_members,
        "n_field": n_field,
        "g_max_mag": g_max_mag,
        "extra_clusters": [{**NEIGHBOUR, "n_members": neighbour_members}],
        "comoving_clumps": [dict(clump) for clump in CLUMPS],
        "binary_fraction": binary_fraction,
        "error_underestimate": error_underestimate,
    }

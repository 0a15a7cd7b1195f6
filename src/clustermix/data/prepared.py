"""A simulated field made ready for a fit, as the workflow's data stage makes a catalogue:
simulated, cleaned (quality cuts, the parallax zero point, the RV correction) and joined with
its sky masks. For the calibration benchmark and the tests, which fit many fields without
running the workflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from astropy.table import Table

from clustermix.data.clean import clean_catalog
from clustermix.data.masks import sky_masks
from clustermix.data.simulate import simulate_field

#: The default config's cuts and masks (config/config.yaml).
RUWE_MAX = 1.4
PARAMS_SOLVED = (31, 95)
CLUSTER_RADIUS_ARCMIN = 5.0
CONTROL_MIN_ARCMIN = 15.0
MASK_COLUMNS = ("in_cluster_region", "in_control_field", "separation_arcmin")


def prepared_field(
    simulation: Mapping[str, Any], g_max_mag: float = 19.0
) -> tuple[Table, dict[str, Any]]:
    """Simulate a field (``simulation``: keywords of
    :func:`~clustermix.data.simulate.simulate_field`, ``ra_deg``, ``dec_deg`` and
    ``radius_arcmin`` included), clean it with the default config's cuts and G <
    ``g_max_mag`` (mag), and join its sky masks (cluster region inside 5 arcmin, control
    field beyond 15 arcmin). Returns the catalogue a fit reads, and the simulator's truth."""
    raw, truth = simulate_field(**simulation)
    catalog, _ = clean_catalog(
        raw,
        source="simulated",
        ruwe_max=RUWE_MAX,
        params_solved=PARAMS_SOLVED,
        g_max_mag=g_max_mag,
        zero_point=True,
        rv_correction=True,
    )
    masks = sky_masks(
        catalog,
        ra_deg=simulation["ra_deg"],
        dec_deg=simulation["dec_deg"],
        cluster_radius_arcmin=CLUSTER_RADIUS_ARCMIN,
        control_min_arcmin=CONTROL_MIN_ARCMIN,
        source="simulated",
    )
    for name in MASK_COLUMNS:
        catalog[name] = masks[name]
    return catalog, truth

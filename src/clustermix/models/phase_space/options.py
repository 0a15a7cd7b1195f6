"""``phase_space``'s options and their defaults, and the catalogue columns it reads.

Every prior and option is described in the model's docstring
(:mod:`clustermix.models.phase_space.model`) and in ``config/README.md``.
"""

from __future__ import annotations

from typing import Any

from clustermix.errors import ConfigError
from clustermix.models.mixture import require_field_components
from clustermix.models.systematics import PARALLAX_FLOOR_MAS, PM_FLOOR_MASYR

NAME = "phase_space"

DEFAULT_OPTIONS: dict[str, Any] = {
    "stars": "all",  # the whole cone: the sky densities are normalised over it
    # The cone the catalogue covers (deg, deg, arcmin). None: the centre is solved from the
    # catalogue's separation_arcmin column (or the stars' mean direction without it) and
    # the radius is the largest separation.
    "cone_ra_deg": None,
    "cone_dec_deg": None,
    "cone_radius_arcmin": None,
    "n_field_components": "auto",  # an integer, or "auto": chosen by BIC on the control field
    "max_field_components": 4,  # the largest K "auto" considers
    "field_model": "control_field",  # "control_field" (learned there, fixed) or "joint"
    "field_magnitude_bins": 4,  # G bins of the control-field field model
    "cluster_min_members": 20,  # a cluster holds at least this many stars (prior on f)
    "cluster_sigma_v_max_kms": 5.0,  # and is at most this hot (km/s; mode search and checks)
    # and its centre lies this close to the cone's (arcmin; mode search and checks)
    "cluster_centre_max_arcmin": 10.0,
    "centre_prior_sd_arcmin": 3.0,
    "plummer_prior_median_arcmin": 5.0,
    "plummer_log_prior_sd": 1.0,
    # sky profile: "plummer", "eff" (Elson, Fall & Freeman 1987) with a free slope gamma, or
    # "king" (King 1962) with core radius plummer_radius_arcmin and a free concentration
    "profile": "plummer",
    "eff_gamma_prior_range": [2.2, 8.0],  # Uniform prior on the EFF slope (4 is Plummer)
    "king_concentration_prior_range": [0.2, 2.0],  # Uniform prior on c = log10(r_t / r_c)
    # sd (mas) of a fitted parallax zero-point offset shared by all stars; 0: off (0.015
    # suggested; how it and parallax_systematic_mas add up: clustermix.models.systematics)
    "zero_point_offset_prior_sd_mas": 0.0,
    "parallax_prior_range_mas": [0.05, 10.0],
    "pm_prior_sd": 10.0,  # mas/yr, cluster and field proper-motion means
    "rv_prior_sd": 50.0,  # km/s, cluster radial velocity
    "sigma_v_prior_sd": 3.0,  # km/s, HalfNormal
    "field_parallax_prior": [0.5, 2.0],  # mas: mean and sd of the field parallax means
    "field_sd_prior_scales": [2.0, 10.0, 10.0],  # mas, mas/yr, mas/yr (HalfNormal)
    "field_lkj_eta": 2.0,
    "field_rv_prior_sd": 50.0,  # km/s, field RV mean (Normal) and width (HalfNormal)
    # fitted factors s >= 1 on the quoted parallax, proper-motion and RV uncertainties
    # (members' terms): s = 1 + HalfNormal(error_inflation_prior_sd)
    "error_inflation": True,
    "error_inflation_prior_sd": 0.25,
    # G (mag) edges of ranges with their own factors ([]: one factor per observable)
    "error_inflation_g_edges": [],
    # a broad radial-velocity component for members in unresolved binaries
    "rv_binaries": True,
    "rv_binary_fraction_prior": [2.0, 5.0],  # Beta(a, b)
    "rv_binary_sd_prior_kms": [8.0, 0.5],  # LogNormal: median (km/s) and log width
    # the colour-magnitude membership term (module docstring, :mod:`.cmd`)
    "cmd_term": False,
    "cmd_g_min_mag": None,  # the term for stars this faint or fainter; None: the turnoff
    "cmd_node_spacing_mag": 1.0,  # G range / this + 1 nodes (mag) of the ridge line
    "cmd_ridge_prior_mag": [1.0, 1.0],  # Normal: mean and sd (mag) of the node colours
    "cmd_width_prior_sd_mag": 0.1,  # HalfNormal scale (mag) of the sequence's width w
    "cmd_binary_fraction_prior": [2.0, 8.0],  # Beta(a, b) of the binaries
    "cmd_binaries": "equal_mass",  # or "band": colours uniform between the two sequences
    "cmd_outlier_fraction_prior": [1.0, 19.0],  # Beta(a, b) of members off the ridge
    "parallax_systematic_mas": PARALLAX_FLOOR_MAS,  # Gaia DR3 floors added to the reported
    "pm_systematic_masyr": PM_FLOOR_MASYR,  # parallax and proper motions (and all from them)
    "systematic_seed": 20210102,
    "min_stars": 50,
}

#: A fit needs at least this many stars per mixture component (cluster + K field ones).
STARS_PER_COMPONENT = 10

ASTROMETRY = ("parallax", "pmra", "pmdec")

ERRORS = ("parallax_error", "pmra_error", "pmdec_error")

CORRELATIONS = ("parallax_pmra_corr", "parallax_pmdec_corr", "pmra_pmdec_corr")

COLUMNS = ("ra", "dec", *ASTROMETRY, *ERRORS, *CORRELATIONS)

#: How the field's astrometry is modelled (``field_model``).
FIELD_MODELS = ("control_field", "joint")
#: Options under which :func:`prepare_data` gives only what the choice of K reads (the probe
#: of :func:`clustermix.fit.run.prepare_cluster_fit`): nothing learned before the fit.
PROBE_OPTIONS: dict[str, Any] = {"field_model": "joint", "cmd_term": False}

#: The observables whose quoted uncertainties the inflation factors scale.
INFLATED = ("parallax", "pm", "rv")


def with_defaults(options: dict[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_OPTIONS`` overridden by ``options``."""
    return {**DEFAULT_OPTIONS, **(options or {})}


def n_field_components(opts: dict[str, Any]) -> int:
    """The number of field components, checked to be a positive integer (and the field
    model to be one of :data:`FIELD_MODELS`)."""
    if opts["field_model"] not in FIELD_MODELS:
        raise ConfigError(
            f"models.{NAME}.field_model must be one of {FIELD_MODELS}, got {opts['field_model']!r}"
        )
    k = require_field_components(opts["n_field_components"], f"models.{NAME}")
    if k < 1:
        raise ConfigError(f"models.{NAME}.n_field_components must be a positive integer, got {k}")
    return int(k)

"""Model 4: sky position, parallax, proper motions and radial velocities together.

The cluster's 3D position and velocity, with every member's proper motion and radial
velocity predicted at its own position on the sky (perspective effects included).

Data per star i: tangent-plane position (xi_i, eta_i) in arcmin about the cone centre
(gnomonic projection), astrometry y_i = (parallax, pmra, pmdec) in (mas, mas/yr, mas/yr)
with its full 3x3 covariance C_i (errors and the three correlations), and, where Gaia
has one, a radial velocity rv_i +- e_rv,i (km/s). The likelihood of star i is

    f S_c(xi_i, eta_i) N3(y_i | m_i, S_i C_i S_i + D) [R_c(rv_i)]
    + (1 - f) S_f(xi_i, eta_i) sum_k w_k N3(y_i | mu_k, C_i' + Sigma_k)
      [N(rv_i | mu_rv, (s_rv e_rv,i)^2 + s_field_rv^2)],

    R_c(rv_i) = (1 - q) N(rv_i | n_i . v, V_i) + q N(rv_i | n_i . v, V_i + s_bin^2),
    V_i = (s_rv e_rv,i)^2 + sigma_v^2,

the factors in brackets only for stars with a radial velocity (for the others the RV is
marginalised, which removes the factor).

Errors: S_i = diag(s_plx, s_pm, s_pm) and s_rv are fitted factors on the quoted
uncertainties (``error_inflation``, one set per G range of ``error_inflation_g_edges``):
Gaia DR3's uncertainties are underestimated, by up to ~30% for bright stars (El-Badry, Rix
& Heintz 2021), and Katz et al. (2023) recommend inflating the RV ones. Members carry the
information (they share one parallax, so their scatter is the errors'; the proper-motion
factor and sigma_v are told apart by how the errors change with magnitude). C_i' is the
field's measurement covariance: S_i C_i S_i for a field fitted jointly, the quoted C_i for a
field learned on the control field, whose widths were deconvolved with the quoted errors
and so already hold any excess. Binaries: a fraction q of the members are unresolved
binaries whose orbital motion spreads their single-epoch RVs by s_bin (``rv_binaries``);
without that component they inflate sigma_v.

Cluster
    Sky (``profile``; EFF and King below, under Priors): by default a Plummer profile
    S_c = (1 + R^2 / a^2)^-2 / (pi a^2 M) about the centre
    (xi_cl, eta_cl), R the tangent-plane distance to it, normalised by the fraction M of
    the profile inside the cone (computed by a 64-point periodic trapezoid rule over the
    cone edge as seen from the offset centre: exact for a centred cone, R^2 / (R^2 + a^2)).
    Astrometry: all members at the parallax plx_cl of the centre, moving with the mean
    velocity v (ICRS Cartesian, km/s) plus an isotropic dispersion sigma_v; star i's
    expected proper motions are the projection of v onto its own east and north
    directions, m_i = (plx_cl, plx_cl e_a,i . v / K, plx_cl e_d,i . v / K) with
    K = 4.74047 km/s per (mas/yr kpc), and its expected radial velocity is n_i . v (see
    :mod:`clustermix.models.kinematics`). D = diag(s_plx^2, s_pm^2, s_pm^2) adds the
    dispersion, s_pm = sigma_v plx_cl / K, and a line-of-sight depth of one Plummer radius,
    s_plx = plx_cl a (a in radians; < 0.001 mas for NGC 6819).
    Parametrisation: the sampled velocity parameters are the proper motion
    (pmra_cl, pmdec_cl) and radial velocity rv_cl of the centre; v follows from them and
    plx_cl at the centre's (ra_cl, dec_cl). This is the same model as sampling v directly
    but removes the strong correlation between v and the distance.
Field
    Sky: uniform on the sphere inside the cone: S_f = (1 + rho^2)^(-3/2) / Omega in the
    tangent plane (rho the plane radius in radians, Omega = 2 pi (1 - cos r_cone)).
    Astrometry: a K-component Gaussian mixture with full covariances Sigma_k, each
    convolved with C_i; radial velocities: one Gaussian N(mu_rv, s_rv^2).
    ``field_model: control_field`` (the default): the mixture (w_k, mu_k, Sigma_k) is learned
    before the fit on the control annulus's stars (``in_control_field``), separately in
    each of ``field_magnitude_bins`` (4) bins of G of equal counts, by an error-deconvolved
    fit (:func:`clustermix.models.field_choice.control_field_mixture`), and held fixed:
    star i has the field of its own G bin, and only the cluster and the field's RVs are
    sampled. A field's astrometry changes with magnitude (faint stars are distant, with
    small parallaxes and the disc's motion at the cluster's distance), which one mixture
    for all magnitudes cannot follow; the cluster then absorbs faint field stars (on the
    default simulated field, f 2 sd high and stars given p = 0.5 members 38% of the time;
    with the fixed field 0.47). The fixed field's own uncertainty is not propagated.
    Its astrometric density at each star is computed once, before sampling
    (``field_logpdf``, :mod:`clustermix.models.fixed_field`).
    ``field_model: joint`` fits the mixture with the cluster, with the priors below.

Colours (``cmd_term``, off by default): each star with a BP - RP colour c multiplies its
member term by p(c | G, cluster) and its field term by p(c | G, field), the likelihood of
its colour given its G (:mod:`.cmd`; no luminosity function is needed). Members lie on a
ridge line r(G), a natural cubic spline through colours at nodes spread over the stars' G
(about one per ``cmd_node_spacing_mag``, 1 mag, closer where the stars crowd;
:func:`.cmd.node_magnitudes`), with an intrinsic width w convolved with the
colour's uncertainty sigma_c(G) (:func:`clustermix.data.stars.colour_error`: the catalogue
has no flux errors, and the simulator draws its colour noise from the same model), a
fraction f_b of binaries on the equal-mass sequence r(G + 0.753 mag) (or, with
``cmd_binaries: band``, spread uniformly in colour between r(G) and it, for mass ratios
below one), and a fraction f_o off the ridge
with the field's colours (subgiants and red-clump stars a smooth ridge in G cannot follow,
blue stragglers), so that colour alone never rules a member out. The field's
p(c | G) is a Gaussian kernel estimate of the control annulus's stars in (G, c) divided by
its marginal in G (Scott's bandwidths; a star fainter than a control star adds the
difference of their colour variances), computed once before the fit and held fixed.
Stars without a colour use the astrometry alone, and so do stars brighter than
``cmd_g_min_mag`` (by default the turnoff, estimated before the fit from the likely
members' colours: :func:`turnoff_magnitude`), where a cluster's colour is not a function of
G (subgiants, giants, red clump) and the astrometry is precise anyway.
Validation (off by default until the calibration benchmark has run with it): on the default
simulated field (17838 stars in the cone, 1926 members, G < 20.5; PyMC, 2 chains of 300
after 300), the membership AUC of the 12435 stars fainter than G = 18 rose from 0.988 to
0.998 (all stars: 0.994 to 0.998); f, the parallax, proper motions, sigma_v and the RV
stayed within their 95% intervals; sampling took as many gradient evaluations per draw
(14 against 13). The expected number of members went from 1958 to 1892 (true: 1926), and
the memberships became slightly under-confident: in the bins 0.4-0.6 and 0.6-0.8 of p the
true-member fractions are 0.58 and 0.79 for mean p of 0.50 and 0.71 (without the term 0.46
and 0.69). Not from the binaries: with ``cmd_binaries: band`` the width drops from 0.030
to the simulated 0.021 mag but the bins, the AUC and the members are unchanged; nor from
members in the control annulus (3% of its stars near the ridge at G > 18). A field density
smoothed too much in colour (Scott's bandwidth) where the ridge lies in the field's red tail
is the next suspect. At a quarter of the field's size: AUC (G > 18) 0.988 to 0.998,
members 501 to 484 (true 485).

Priors (defaults in :data:`DEFAULT_OPTIONS`):

- centre offsets ``xi_cl``, ``eta_cl`` ~ N(0, 3^2) arcmin each;
- Plummer radius ``plummer_radius_arcmin`` = a ~ LogNormal(ln 5 arcmin, 1) truncated at
  the cone's radius: the cluster's core lies inside the cone;
- with ``profile: eff``, the slope ``eff_gamma`` ~ Uniform(2.2, 8) (``eff_gamma_prior_range``)
  of the Elson, Fall & Freeman (1987) profile (1 + R^2 / a^2)^(-gamma / 2), normalised as
  above (M = mean over the edge of 1 - (1 + R_b^2 / a^2)^(1 - gamma / 2)); gamma = 4 is the
  Plummer profile, and a is then the EFF scale radius;
- with ``profile: king``, the King (1962) profile
  [1 / sqrt(1 + R^2 / r_c^2) - 1 / sqrt(1 + r_t^2 / r_c^2)]^2 for R < r_t, zero beyond,
  normalised in closed form (King's enclosed number N(R), :mod:`clustermix.models.profiles`;
  M = mean over the edge of N(min(R_b, r_t)), so a tidal radius beyond the cone is cut at
  its edge): the core radius r_c is ``plummer_radius_arcmin`` (the prior above: median
  5 arcmin = 4 pc at 2.8 kpc, 95% within 0.7-35 arcmin; open clusters' cores are 1-3 pc
  across) and the
  concentration ``king_concentration`` c = log10(r_t / r_c) ~ Uniform(0.2, 2)
  (``king_concentration_prior_range``; r_t / r_c from 1.6 to 100: Galactic open clusters
  have r_t / r_c of a few to a few tens, about 0.5 < c < 1.5, Piskunov et al. 2008, A&A
  477, 165; globular clusters up to c = 2.5), the tidal radius r_t = r_c 10^c
  (``king_tidal_radius_arcmin``) a Deterministic; stars beyond r_t have a member density of
  e^-138 per pi r_c^2 (zero, but finite);
- cluster parallax ``parallax_cl`` ~ Uniform(0.05, 10) mas (the true parallax: distance
  and velocities follow from it);
- with ``zero_point_offset_prior_sd_mas`` = s > 0 (off by default; 0.015 mas suggested),
  a parallax zero-point offset ``parallax_zero_point_offset`` d ~ N(0, s^2) common to all
  stars: the members' observed parallaxes scatter about plx_cl + d. The field's densities
  are learned from the same catalogue's observed parallaxes and already hold d, so only
  plx_cl + d is identified: d's posterior is its prior, and plx_cl's widens by s in
  quadrature, a systematic floor carried by every draw (and the reported floor is reduced
  to sqrt(max(0.011^2 - s^2, 0)) mas so as not to count it twice;
  :mod:`clustermix.models.systematics`);
- ``pmra_cl``, ``pmdec_cl`` ~ N(0, 10^2) mas/yr; ``rv_cl`` ~ N(0, 50^2) km/s;
- internal dispersion ``sigma_v`` ~ HalfNormal(3) km/s: open clusters have 0.5 to 2 km/s;
- cluster fraction ``f_cluster`` ~ Uniform(m / N, 1): a cluster holds at least
  m = ``cluster_min_members`` (20) of the N stars, never a handful of field stars;
- (``field_model: joint`` only, up to the field's RVs) field weights ``w_field`` ~
  Dirichlet(1, ..., 1); K = ``n_field_components`` (both field models), by default
  ``"auto"``: chosen by BIC from 1 to ``max_field_components`` (4) with an
  error-deconvolved mixture of the control field in (parallax, pmra, pmdec)
  (:mod:`clustermix.models.field_choice`);
- field means ``parallax_field`` ~ N(0.5, 2^2) mas and ``pm_field`` ~ N(0, 10^2) mas/yr;
- field covariances Sigma_k = diag(s_k) R_k diag(s_k): standard deviations
  ``sd_field_parallax`` ~ HalfNormal(2) mas, ``sd_field_pmra`` and ``sd_field_pmdec``
  ~ HalfNormal(10) mas/yr, except that the pmra widths are ordered, kinematically cold to
  hot, to break label switching: ``sd_field_pmra_first`` ~ HalfNormal(10) mas/yr plus
  positive gaps ``sd_field_pmra_gap`` ~ HalfNormal(10) mas/yr; correlation matrices R_k ~ LKJ(2),
  sampled as canonical partial correlations ``cpc_field_beta`` (Beta(2.5, 2.5),
  Beta(2.5, 2.5), Beta(2, 2) on (0, 1), mapped to (-1, 1)), which is exactly LKJ(2) (see
  :func:`clustermix.models.gaussian3d.covariance_from_partial_correlations`);
- field radial velocities ``rv_field_mean`` ~ N(0, 50^2), ``rv_field_sd`` ~
  HalfNormal(50) km/s (only when some star has a radial velocity);
- error-inflation excesses ``error_excess_parallax``, ``error_excess_pm`` and
  ``error_excess_rv`` (s = 1 + e, one per G range) ~ HalfNormal(0.25): the quoted errors are
  never shrunk, and factors beyond ~1.5 are unlikely;
- binaries (only with radial velocities): fraction ``rv_binary_fraction`` ~ Beta(2, 5) (mean
  0.29; NGC 6819 has 22 +- 3% spectroscopic binaries with P < 10^4 d, Milliman et al.
  2014) and extra RV spread ``rv_binary_sd`` ~ LogNormal(ln 8 km/s, 0.5) (orbital
  velocities of solar-type binaries of periods up to decades: a few to ~20 km/s);
- colours (``cmd_term`` only): the ridge's node colours ``cmd_ridge_colour`` ~
  N(1, 1^2) mag each (``cmd_ridge_prior_mag``; BP - RP of main-sequence and giant stars
  lies between about 0 and 3 mag), its width ``cmd_width`` ~ HalfNormal(0.1) mag
  (``cmd_width_prior_sd_mag``; a cluster's single-star sequence is a few hundredths of a
  magnitude wide, differential reddening widens it), the equal-mass binaries' fraction
  ``cmd_binary_fraction`` ~ Beta(2, 8) (mean 0.2) and the off-ridge fraction
  ``cmd_outlier_fraction`` ~ Beta(1, 19) (mean 0.05).

What a cluster is (used to pick the mode before sampling and to check every chain after,
:mod:`clustermix.models.modes`): at least ``cluster_min_members`` stars and sigma_v of at
most ``cluster_sigma_v_max_kms`` (5 km/s), with its centre within
``cluster_centre_max_arcmin`` (10 arcmin) of the cone's: the cone is pointed at the cluster,
and a richer cluster elsewhere in it is another one (the centre's prior alone, 3 arcmin wide,
does not outweigh a few hundred of its members).

Starting values: the model sets none (so that ``pm.compute_log_likelihood`` works); a fit
should start from :func:`initial_values` (cluster from the densest proper-motion bin of the
central stars, field mixture from an EM fit to the outer half of the cone), passed as
``pm.sample(initvals=...)`` or nutpie's ``initial_points``.

Field components: with too few (K = 2 on the default field) faint field stars at the
cluster's distance that share the disc's motion are partly absorbed by the cluster, which
inflates ``f_cluster`` (and slightly the Plummer radius and sigma_v); hence K is chosen by
the data (``"auto"``), and by default the field is learned per G bin on the control field
(above). The cost grows about linearly with K.

Reported quantities (:func:`summary_quantities`) are computed from the sampled ones draw
by draw; the parallax and proper motions of the centre first add the Gaia DR3 small-scale
systematic floors (``parallax_systematic_mas`` 0.011 mas, ``pm_systematic_masyr``
0.02 mas/yr) as one seeded Gaussian draw each per posterior draw
(:mod:`clustermix.models.systematics`), so that the distance and the ICRS and
Galactocentric position and velocity inherit them. With a fitted zero-point offset the
parallax floor added is only what the offset's prior does not already hold
(:func:`clustermix.models.systematics.remaining_parallax_floor`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from clustermix.errors import ConfigError, InputDataError
from clustermix.models.fixed_field import fixed_field_logpdf_3d
from clustermix.models.gaussian3d import (
    ENTRIES,
    astrometric_covariance,
    covariance_determinant,
    covariance_from_partial_correlations,
    trivariate_normal_logpdf,
)
from clustermix.models.kinematics import (
    ARCMIN_PER_RAD,
    KMS_PER_MASYR_KPC,
    observables_to_velocity,
    sky_basis,
    sky_to_position,
    tangent_plane,
    tangent_plane_to_sky,
    velocity_to_observables,
)
from clustermix.models.mixture import (
    catalog_column,
    checked_columns,
    cluster_fraction_per_star,
    cluster_fraction_prior,
    control_field_model,
    far_star_term,
    histogram_peak,
    magnitudes,
    mixture_logp,
    n_stars_described,
    normal_logpdf,
    parallax_zero_point_offset,
    require_control_field,
    select_stars,
    selected_source_ids,
    true_member_fraction,
)
from clustermix.models.phase_space import cmd, predictive
from clustermix.models.phase_space import replicate as numpy_replicate
from clustermix.models.phase_space.covariance import cluster_covariance, scaled_covariance
from clustermix.models.phase_space.options import (
    ASTROMETRY,
    COLUMNS,
    CORRELATIONS,
    ERRORS,
    INFLATED,
    NAME,
    STARS_PER_COMPONENT,
    n_field_components,
    with_defaults,
)
from clustermix.models.phase_space.options import DEFAULT_OPTIONS as DEFAULT_OPTIONS
from clustermix.models.phase_space.options import PROBE_OPTIONS as PROBE_OPTIONS
from clustermix.models.phase_space.sky import (
    GEOMETRY_KEYS,
    cluster_sky_log_density,
    cone_geometry,
    field_sky_log_density,
    separation_arcmin,
)
from clustermix.models.phase_space.sky import cluster_mass_in_cone as cluster_mass_in_cone
from clustermix.models.phase_space.starts import INIT_PM_WINDOW, INIT_RADIUS_FRACTION
from clustermix.models.phase_space.starts import initial_values as initial_values
from clustermix.models.phase_space.starts import start_at as start_at
from clustermix.models.systematics import (
    parallax_draws,
    pm_systematic_draws,
)

log = logging.getLogger(__name__)
#: The posterior predictive check's quantities, its fitted ``obs`` columns and their
#: observed values (:mod:`.predictive`), and its replicates from the full generative model
#: (:mod:`.replicate`, NumPy).
QUANTITIES = predictive.QUANTITIES
OBS_QUANTITIES = predictive.OBS_QUANTITIES
observed_quantities = predictive.observed_quantities
replicate = numpy_replicate.replicate


# ----------------------------------------------------------------------------- data


def prepare_data(catalog: Any, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """The arrays of the stars inside the cone, and the cone itself.

    Returns ``source_id``; ``ra``, ``dec`` (deg); ``xi``, ``eta`` (arcmin, tangent plane
    about the cone centre); the astrometry, its errors and correlations (Gaia names and
    units); ``radial_velocity`` and ``radial_velocity_error`` (km/s, NaN where missing);
    ``has_rv`` (bool); and 0-d arrays ``cone_ra_deg``, ``cone_dec_deg`` and
    ``cone_radius_arcmin``. Raises :class:`InputDataError` naming ``source``, the column
    and the row count for an empty selection, non-finite values, non-positive errors,
    correlations that do not make a positive-definite covariance, or too few stars.
    """
    opts = with_defaults(options)
    if opts["stars"] != "all":
        raise ConfigError(
            f"models.{NAME}.stars: only 'all' is possible (the sky densities are normalised "
            f"over the whole cone), got '{opts['stars']}'"
        )
    k = n_field_components(opts)
    mask = select_stars(catalog, "all", source)
    cone = cone_geometry(catalog, opts, source)
    ra_all = catalog_column(catalog, "ra", source)
    dec_all = catalog_column(catalog, "dec", source)
    with np.errstate(invalid="ignore"):
        separation = separation_arcmin(ra_all, dec_all, cone[0], cone[1])
    inside = mask & ~(separation > cone[2] * (1.0 + 1e-9))
    if not inside.any():
        raise InputDataError(
            f"{source}: no star lies inside the cone of radius {cone[2]} arcmin about "
            f"(ra, dec) = ({cone[0]}, {cone[1]}) deg (columns 'ra', 'dec'; "
            f"{len(ra_all)} rows)"
        )
    arrays = checked_columns(
        catalog,
        COLUMNS,
        positive=ERRORS,
        mask=inside,
        source=source,
        min_stars=max(int(opts["min_stars"]), STARS_PER_COMPONENT * (k + 1)),
    )
    _check_correlations(arrays, source)
    rv, rv_error = _radial_velocities(catalog, inside, source)
    xi, eta = tangent_plane(arrays["ra"], arrays["dec"], cone[0], cone[1])
    field = {}
    if opts["field_model"] == "control_field":
        field = control_field_model(
            catalog, inside, COLUMNS, ERRORS, field_observables, opts, source, NAME
        )
        cov = field["field_covariances"]
        field["field_covariances"] = np.stack([cov[..., i, j] for i, j in ENTRIES], axis=-1)
        field["field_logpdf"] = fixed_field_logpdf_3d(
            np.column_stack([arrays[name] for name in ASTROMETRY]),
            np.column_stack(
                astrometric_covariance(*(arrays[name] for name in (*ERRORS, *CORRELATIONS)))
            ),
            field["field_weights"],
            field["field_means"],
            field["field_covariances"],
        )
    return {
        **field,
        **(_colour_data(catalog, inside, opts, source, arrays) if opts["cmd_term"] else {}),
        "error_range": _error_ranges(catalog, inside, opts, source),
        "source_id": selected_source_ids(catalog, inside, source),
        **arrays,
        "xi": xi,
        "eta": eta,
        "radial_velocity": rv,
        "radial_velocity_error": rv_error,
        "has_rv": np.isfinite(rv),
        **{key: np.asarray(value, float) for key, value in zip(GEOMETRY_KEYS, cone, strict=True)},
    }


def _colours(catalog: Any, mask: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """G and BP - RP (mag) of the rows in ``mask``; BP - RP NaN where missing (also
    without a ``bp_rp`` column)."""
    g_mag = magnitudes(catalog, mask, source, NAME)
    names = getattr(catalog, "colnames", None) or list(catalog.keys())
    if "bp_rp" not in names:
        return g_mag, np.full(g_mag.size, np.nan)
    return g_mag, catalog_column(catalog, "bp_rp", source)[mask]


def _colour_data(
    catalog: Any,
    mask: np.ndarray,
    opts: dict[str, Any],
    source: str,
    astrometry: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """The colour-magnitude term's arrays for the rows in ``mask`` (see :mod:`.cmd`):
    ``g_mag``, ``bp_rp`` (mag, 0 where missing), ``has_colour`` (a colour, and G at least
    ``cmd_g_min_mag``: the term's stars), ``cmd_g_min_mag`` (0-d; by default the turnoff
    estimated by :func:`turnoff_magnitude` from the selected rows' ``astrometry``),
    ``colour_error`` (mag),
    ``cmd_field_log_density`` (ln p(c | G, field), 0 without a colour), the ridge's
    ``cmd_node_mags`` (K,) and its basis at G and at G + 0.753 mag (``cmd_basis``,
    ``cmd_binary_basis``, (n, K)). The field's density is learned on the control field's
    stars with a colour (leave-one-out for those among ``mask``)."""
    from clustermix.data.stars import colour_error

    require_control_field(catalog, source, f"models.{NAME}.cmd_term", "cmd_term: false")
    g_mag, bp_rp = _colours(catalog, mask, source)
    g_min = opts["cmd_g_min_mag"]
    if g_min is None:
        g_min = turnoff_magnitude(g_mag, bp_rp, astrometry, catalog, mask, source)
    has_colour = np.isfinite(bp_rp) & (g_mag >= float(g_min))
    control = select_stars(catalog, "control_field", source)
    control_g, control_c = _colours(catalog, control, source)
    usable = np.isfinite(control_c)
    if usable.sum() < STARS_PER_COMPONENT or has_colour.sum() < STARS_PER_COMPONENT:
        raise InputDataError(
            f"{source}: column 'bp_rp' is finite for {int(usable.sum())} control-field and "
            f"{int(has_colour.sum())} fitted stars; models.{NAME}.cmd_term needs at least "
            f"{STARS_PER_COMPONENT} of each"
        )
    # each fitted star's row among the usable control stars (-1 if none), for leave-one-out
    control_rows = np.full(len(mask), -1)
    control_rows[np.flatnonzero(control)[usable]] = np.arange(int(usable.sum()))
    own_row = control_rows[mask][has_colour]
    error = colour_error(g_mag)
    log_field = np.zeros(g_mag.size)
    log_field[has_colour] = cmd.field_colour_log_density(
        g_mag[has_colour],
        bp_rp[has_colour],
        error[has_colour],
        control_g[usable],
        control_c[usable],
        colour_error(control_g[usable]),
        exclude=own_row,
    )
    nodes = cmd.node_magnitudes(g_mag[has_colour], float(opts["cmd_node_spacing_mag"]))
    return {
        "g_mag": g_mag,
        "bp_rp": np.where(has_colour, bp_rp, 0.0),
        "has_colour": has_colour,
        "cmd_g_min_mag": np.asarray(float(g_min)),
        "colour_error": error,
        "cmd_field_log_density": log_field,
        "cmd_node_mags": nodes,
        "cmd_basis": cmd.ridge_basis(g_mag, nodes),
        "cmd_binary_basis": cmd.ridge_basis(g_mag + cmd.BINARY_OFFSET_MAG, nodes),
    }


#: Fewest likely members in a window of the running median that finds the turnoff, and
#: the fraction of them a window holds when there are more.
_TURNOFF_MIN_STARS = 10
_TURNOFF_WINDOW_FRACTION = 0.05


def turnoff_magnitude(
    g_mag: np.ndarray,
    bp_rp: np.ndarray,
    astrometry: dict[str, np.ndarray],
    catalog: Any,
    mask: np.ndarray,
    source: str,
) -> float:
    """The cluster's main-sequence turnoff G (mag), estimated before the fit: the bluest
    point of the running median of BP - RP along G of the likely members (windows of 5% of
    them, at least ten, sorted by G; the median G of the bluest window). Likely members:
    the stars within a quarter of the cone (the ``separation_arcmin`` column, or all
    without it) within 0.75 mas/yr of the densest proper-motion bin and within 3 sigma of
    the median parallax of the better-measured half of those. Brighter than the turnoff, a
    cluster's colour is not a function of G (subgiants, giants, red clump); there the term
    is left out. The faintest G (no star uses the term; a warning) with fewer than ten."""
    names = getattr(catalog, "colnames", None) or list(catalog.keys())
    near_centre = np.ones(g_mag.size, bool)
    if "separation_arcmin" in names:
        separation = catalog_column(catalog, "separation_arcmin", source)[mask]
        near_centre = separation <= INIT_RADIUS_FRACTION * np.nanmax(separation)
    pm_values = np.column_stack([astrometry["pmra"], astrometry["pmdec"]])
    pm_errors = np.column_stack([astrometry["pmra_error"], astrometry["pmdec_error"]])
    peak = histogram_peak(pm_values[near_centre], pm_errors[near_centre], 0.25)
    likely = near_centre & (np.hypot(*(pm_values - peak).T) < INIT_PM_WINDOW)
    plx, plx_error = astrometry["parallax"], astrometry["parallax_error"]
    if likely.sum() >= _TURNOFF_MIN_STARS:
        precise = likely & (plx_error <= np.median(plx_error[likely]))
        likely &= np.abs(plx - np.median(plx[precise])) < 3.0 * plx_error
    likely &= np.isfinite(bp_rp)
    if likely.sum() < _TURNOFF_MIN_STARS:
        log.warning(
            "%s: models.%s.cmd_term: %d likely members with a colour, too few to find the "
            "turnoff; no star uses the term (set cmd_g_min_mag)",
            source,
            NAME,
            int(likely.sum()),
        )
        return float(np.max(g_mag))
    order = np.argsort(g_mag[likely])
    g_sorted, colour_sorted = g_mag[likely][order], bp_rp[likely][order]
    size = max(_TURNOFF_MIN_STARS, int(_TURNOFF_WINDOW_FRACTION * order.size))
    windows = np.lib.stride_tricks.sliding_window_view(colour_sorted, size)
    bluest = int(np.argmin(np.median(windows, axis=1)))
    return float(np.median(g_sorted[bluest : bluest + size]))


def _error_ranges(catalog: Any, mask: np.ndarray, opts: dict[str, Any], source: str) -> np.ndarray:
    """Index (n,) of each selected star's G range of ``error_inflation_g_edges`` (mag): all 0
    without edges (no G column needed then)."""
    edges = np.asarray(opts["error_inflation_g_edges"], float)
    if not opts["error_inflation"] or edges.size == 0:
        return np.zeros(int(mask.sum()), dtype=int)
    if np.any(np.diff(edges) <= 0):
        raise ConfigError(
            f"models.{NAME}.error_inflation_g_edges must increase, got {edges.tolist()}"
        )
    return np.searchsorted(edges, magnitudes(catalog, mask, source, NAME)).astype(int)


def _check_correlations(arrays: dict[str, np.ndarray], source: str) -> None:
    """Every star's correlation matrix must be positive definite."""
    for name in CORRELATIONS:
        n_bad = int((np.abs(arrays[name]) >= 1.0).sum())
        if n_bad:
            raise InputDataError(
                f"{source}: column '{name}' is outside (-1, 1) on {n_bad} of the "
                f"{arrays[name].size} selected rows"
            )
    r01, r02, r12 = (arrays[name] for name in CORRELATIONS)
    det = covariance_determinant(1.0, r01, r02, 1.0, r12, 1.0)
    n_bad = int((det <= 0).sum())
    if n_bad:
        raise InputDataError(
            f"{source}: columns {list(CORRELATIONS)} do not form a positive-definite "
            f"correlation matrix on {n_bad} of the {det.size} selected rows"
        )


def _radial_velocities(
    catalog: Any, mask: np.ndarray, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Radial velocities and errors (km/s) of the selected rows, NaN where unusable.

    A radial velocity counts only with a finite, positive error; missing columns mean no
    radial velocities at all.
    """
    names = getattr(catalog, "colnames", None) or list(catalog.keys())
    n = int(mask.sum())
    if "radial_velocity" not in names or "radial_velocity_error" not in names:
        return np.full(n, np.nan), np.full(n, np.nan)
    rv = catalog_column(catalog, "radial_velocity", source)[mask]
    error = catalog_column(catalog, "radial_velocity_error", source)[mask]
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(rv) & np.isfinite(error) & (error > 0)
    return np.where(usable, rv, np.nan), np.where(usable, error, np.nan)


# ---------------------------------------------------------------------------- model


def component_log_terms(
    value, log_cluster_extra, log_field_extra, mu_cl, cov_cl, cov_obs, mu_field, cov_field, log_w
):
    """Per star, log(f L_cluster) and log((1 - f) L_field).

    ``value`` (n, 3): observed (parallax, pmra, pmdec); ``log_cluster_extra`` /
    ``log_field_extra`` (n,): the weight, sky and radial-velocity terms of each
    population; ``mu_cl`` (n, 3): each member's expected astrometry; ``cov_cl`` (n, 6): each
    member's covariance entries (:func:`cluster_covariance`); ``cov_obs`` (n, 6): each
    star's measurement covariance entries, to which the field's are added;
    ``mu_field`` (K, 3), ``cov_field`` (K, 6), ``log_w`` (K,): the field mixture.
    Parameters may carry leading length-1 axes (as a ``CustomDist`` passes them).
    """
    c = [cov_obs[..., j] for j in range(6)]
    log_cluster = cluster_log_term(value, log_cluster_extra, mu_cl, cov_cl)
    d = value[..., None, :] - mu_field  # (n, K, 3)
    per_component = trivariate_normal_logpdf(
        d[..., 0],
        d[..., 1],
        d[..., 2],
        *(c[j][..., None] + cov_field[..., j] for j in range(6)),
    )
    log_field = log_field_extra + mixture_logp(log_w, per_component)
    return log_cluster, log_field


def cluster_log_term(value, log_cluster_extra, mu_cl, cov_cl):
    """Per star, log(f L_cluster): ``log_cluster_extra`` (n,) plus ln N3(value | mu_cl,
    cov_cl) (arguments as in :func:`component_log_terms`)."""
    resid = value - mu_cl
    return log_cluster_extra + trivariate_normal_logpdf(
        resid[..., 0], resid[..., 1], resid[..., 2], *(cov_cl[..., j] for j in range(6))
    )


def _fixed_obs_logp(value, log_cluster_extra, log_field_extra, mu_cl, cov_cl, *rest):
    """The ``obs`` term with the field learned on the control field: the field's
    astrometric log density is the last argument, ``field_logpdf`` (n,), computed once
    (:func:`clustermix.models.fixed_field.fixed_field_logpdf_3d`); the field's arrays
    before it serve only the random draws."""
    log_c = cluster_log_term(value, log_cluster_extra, mu_cl, cov_cl)
    return pt.logaddexp(log_c, log_field_extra + rest[-1])


def _fixed_obs_random(*params, rng=None, size=None):
    """:func:`_obs_random` for the fixed field (its last parameter, ``field_logpdf``, is
    not needed to draw)."""
    return _obs_random(*params[:-1], rng=rng, size=size)


def _obs_logp(
    value, log_cluster_extra, log_field_extra, mu_cl, cov_cl, cov_obs, mu_field, cov_field, log_w
):
    """The per-star mixture log-likelihood (the ``obs`` term)."""
    log_c, log_f = component_log_terms(
        value,
        log_cluster_extra,
        log_field_extra,
        mu_cl,
        cov_cl,
        cov_obs,
        mu_field,
        cov_field,
        log_w,
    )
    return pt.logaddexp(log_c, log_f)


def _obs_random(
    log_cluster_extra,
    log_field_extra,
    mu_cl,
    cov_cl,
    cov_obs,
    mu_field,
    cov_field,
    log_w,
    rng=None,
    size=None,
):
    """Draw (parallax, pmra, pmdec) for every star given its position and radial velocity.

    Each star is a member with probability f S_c L_rv,c / (f S_c L_rv,c + (1 - f) S_f
    L_rv,f) (its sky and RV terms), a field star of component k with probability w_k
    otherwise; the draw is Gaussian with the component's mean and covariance plus the
    star's measurement covariance. For posterior predictive checks of the astrometry.
    """
    if size is None:
        size = np.broadcast_shapes(np.shape(log_cluster_extra), np.shape(log_field_extra))
    p_member = 1.0 / (1.0 + np.exp(np.asarray(log_field_extra) - np.asarray(log_cluster_extra)))
    member = rng.random(size) < p_member
    weights = np.exp(np.asarray(log_w) - np.logaddexp.reduce(log_w, axis=-1, keepdims=True))
    cumulative = np.cumsum(np.broadcast_to(weights, (*size, weights.shape[-1])), axis=-1)
    component = (rng.random(size)[..., None] > cumulative[..., :-1]).sum(axis=-1)
    field_mean = np.take_along_axis(
        np.broadcast_to(mu_field, (*size, *np.shape(mu_field)[-2:])), component[..., None, None], -2
    )[..., 0, :]
    field_cov = np.take_along_axis(
        np.broadcast_to(cov_field, (*size, *np.shape(cov_field)[-2:])),
        component[..., None, None],
        -2,
    )[..., 0, :]
    cluster_cov = np.broadcast_to(cov_cl, (*size, 6))
    mean = np.where(member[..., None], np.broadcast_to(mu_cl, (*size, 3)), field_mean)
    cov = np.where(member[..., None], cluster_cov, np.broadcast_to(cov_obs, (*size, 6)) + field_cov)
    matrix = np.empty((*size, 3, 3))
    for index, (i, j) in enumerate(ENTRIES):
        matrix[..., i, j] = cov[..., index]
        matrix[..., j, i] = cov[..., index]
    chol = np.linalg.cholesky(matrix)
    return mean + np.einsum("...ij,...j->...i", chol, rng.normal(size=(*size, 3)))


#: The cluster quantities that tell modes apart (see :mod:`clustermix.models.modes`).
MODE_QUANTITIES: dict[str, str] = {
    "parallax": "parallax_cl",
    "pmra": "pmra_cl",
    "pmdec": "pmdec_cl",
    "rv": "rv_cl",
    "f_cluster": "f_cluster",
    "sigma_v": "sigma_v",
    "plummer_radius_arcmin": "plummer_radius_arcmin",
    "centre_xi_arcmin": "xi_cl",
    "centre_eta_arcmin": "eta_cl",
}


def far_star_eligible(data: dict[str, np.ndarray], options: dict[str, Any]) -> np.ndarray:
    """Which stars' field term depends on no free parameter, so that a star far from the
    cluster can join the one term of :func:`~clustermix.models.mixture.far_star_term`
    (:mod:`clustermix.fit.far_stars`): with the field learned on the control field, the
    stars without a radial velocity (the field's RV mean and width are free); none with a
    joint field or the colour-magnitude term (their field parts have free parameters)."""
    n = len(data["source_id"])
    if "field_weights" not in data or with_defaults(options)["cmd_term"]:
        return np.zeros(n, bool)
    return ~np.asarray(data["has_rv"], bool)


def field_observables(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(parallax, pmra, pmdec) (n, 3) and each star's covariance (n, 3, 3), for choosing K."""
    entries = astrometric_covariance(*(data[name] for name in (*ERRORS, *CORRELATIONS)))
    covariances = np.empty((len(data["parallax"]), 3, 3))
    for value, (i, j) in zip(entries, ENTRIES, strict=True):
        covariances[:, i, j] = value
        covariances[:, j, i] = value
    return np.column_stack([data[name] for name in ASTROMETRY]), covariances


def build_model(data: dict[str, np.ndarray], options: dict[str, Any] | None = None) -> pm.Model:
    """The phase-space mixture (see the module docstring)."""
    opts = with_defaults(options)
    k = n_field_components(opts)
    coords = {
        "star": data["source_id"],
        "component": np.arange(k),
        "observable": list(ASTROMETRY),
        "pm_axis": ["pmra", "pmdec"],
        "cartesian": ["x", "y", "z"],
        "partial_correlation": ["parallax_pmra", "parallax_pmdec", "pmra_pmdec_given_parallax"],
        "error_range": np.arange(len(opts["error_inflation_g_edges"]) + 1),
    }
    if opts["cmd_term"]:
        coords["cmd_node"] = np.round(data["cmd_node_mags"], 6)
    with pm.Model(coords=coords) as model:
        astrometry = pm.Data(
            "astrometry",
            np.column_stack([data[name] for name in ASTROMETRY]),
            dims=("star", "observable"),
        )
        cov_obs = pt.stack(
            astrometric_covariance(
                *(pt.as_tensor_variable(data[name]) for name in (*ERRORS, *CORRELATIONS))
            ),
            axis=-1,
        )
        f_cluster = cluster_fraction_prior(n_stars_described(data), opts["cluster_min_members"])
        far_star_term(data, f_cluster)
        scales = error_scales(data, opts)
        sky_rv_cl, mu_cl, var_cl = _cluster_terms(data, opts, scales["rv"])
        sky_rv_field, mu_field, cov_field, log_w = _field_terms(data, opts, k, scales["rv"])
        cov_scaled = scaled_covariance(cov_obs, scales["parallax"], scales["pm"], xp=pt)
        # a field learned on the control field was deconvolved with the quoted errors, so
        # its widths already hold any excess: there the field keeps the quoted ones
        cov_field_obs = cov_obs if "field_weights" in data else cov_scaled
        if opts["cmd_term"]:
            cmd_cl, cmd_field = colour_log_terms(data, opts)
            sky_rv_cl, sky_rv_field = sky_rv_cl + cmd_cl, sky_rv_field + cmd_field
        params = (
            pt.log(f_cluster) + sky_rv_cl,
            pt.log1p(-f_cluster) + sky_rv_field,
            mu_cl,
            cluster_covariance(cov_scaled, var_cl, xp=pt),
            cov_field_obs,
            mu_field,
            cov_field,
            log_w,
        )
        if "field_weights" in data:
            field_logpdf = pm.Data("field_logpdf", data["field_logpdf"], dims="star")
            extra, logp, random = (field_logpdf,), _fixed_obs_logp, _fixed_obs_random
            log_c = cluster_log_term(astrometry, params[0], params[2], params[3])
            log_f = params[1] + field_logpdf
        else:
            extra, logp, random = (), _obs_logp, _obs_random
            log_c, log_f = component_log_terms(astrometry, *params)
        pm.CustomDist(
            "obs",
            *params,
            *extra,
            logp=logp,
            random=random,
            signature="(),(),(a),(c),(c),(k,a),(k,c),(k)" + ",()" * len(extra) + "->(a)",
            observed=astrometry,
            dims=("star", "observable"),
        )
        pm.Deterministic("p_cluster", cluster_fraction_per_star(log_c, log_f), dims="star")
    return model


#: How the colour-magnitude term places binaries (``cmd_binaries``): on the equal-mass
#: sequence 0.753 mag above the ridge, or spread uniformly in colour between the two.
CMD_BINARIES = ("equal_mass", "band")


def colour_log_terms(data: dict[str, np.ndarray], opts: dict[str, Any]):
    """Per star (n,), ln p(c | G, cluster) and ln p(c | G, field) of the colour-magnitude
    term (:mod:`.cmd`), 0 for stars without a colour; the free variables
    ``cmd_ridge_colour`` (mag, dims ``cmd_node``), ``cmd_width`` (mag),
    ``cmd_binary_fraction`` and ``cmd_outlier_fraction`` with the priors of the module
    docstring. Call inside the model."""
    if opts["cmd_binaries"] not in CMD_BINARIES:
        raise ConfigError(
            f"models.{NAME}.cmd_binaries: {opts['cmd_binaries']!r} is not one of {CMD_BINARIES}"
        )
    mean, sd = (float(v) for v in opts["cmd_ridge_prior_mag"])
    node_colours = pm.Normal("cmd_ridge_colour", mean, sd, dims="cmd_node")
    width = pm.HalfNormal("cmd_width", float(opts["cmd_width_prior_sd_mag"]))
    binary_fraction = pm.Beta("cmd_binary_fraction", *map(float, opts["cmd_binary_fraction_prior"]))
    outlier_fraction = pm.Beta(
        "cmd_outlier_fraction", *map(float, opts["cmd_outlier_fraction_prior"])
    )
    log_field = pt.as_tensor_variable(data["cmd_field_log_density"])
    log_cluster = cmd.cluster_colour_log_density(
        data["bp_rp"],
        pt.dot(data["cmd_basis"], node_colours),
        pt.dot(data["cmd_binary_basis"], node_colours),
        width**2 + data["colour_error"] ** 2,
        binary_fraction,
        outlier_fraction,
        log_field,
        xp=pt,
        binary_band=opts["cmd_binaries"] == "band",
    )
    weight = np.asarray(data["has_colour"], float)
    return weight * log_cluster, weight * log_field


def increasing_scales(name: str, sd: float, n: int):
    """n increasing positive scales s_1 < ... < s_n (Deterministic ``name``, dims
    ``component``): ``{name}_first`` ~ HalfNormal(sd) plus the cumulative sum of positive
    gaps ``{name}_gap`` ~ HalfNormal(sd) (n - 1 of them, dims ``component_gap``). Unlike
    PyMC's ordered transform, the default starting point is valid. Call inside a model."""
    first = pm.HalfNormal(f"{name}_first", sd)
    if n == 1:
        return pm.Deterministic(name, first[None], dims="component")
    model = pm.modelcontext(None)
    if "component_gap" not in model.coords:
        model.add_coord("component_gap", np.arange(1, n))
    gaps = pm.HalfNormal(f"{name}_gap", sd, dims="component_gap")
    return pm.Deterministic(
        name, first + pt.concatenate([pt.zeros(1), pt.cumsum(gaps)]), dims="component"
    )


def _rv_arrays(data: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radial velocities (0 where missing), their variances (1 where missing) and the 0/1
    weight that switches each star's RV factor on."""
    has_rv = np.asarray(data["has_rv"], bool)
    rv = np.where(has_rv, data["radial_velocity"], 0.0)
    variance = np.where(has_rv, data["radial_velocity_error"], 1.0) ** 2
    return rv, variance, has_rv.astype(float)


def error_scales(data: dict[str, np.ndarray], opts: dict[str, Any]) -> dict[str, Any]:
    """Per star (n,), the factors s on the quoted uncertainties of ``parallax``, ``pm``
    (both proper motions) and ``rv``: s = 1 + e, e ~ HalfNormal(``error_inflation_prior_sd``)
    per G range (free variables ``error_excess_<name>``, dims ``error_range``), or 1 with
    ``error_inflation: false`` (and for ``rv`` without radial velocities). Call inside the
    model."""
    scales: dict[str, Any] = dict.fromkeys(INFLATED, 1.0)
    if not opts["error_inflation"]:
        return scales
    prior_sd = float(opts["error_inflation_prior_sd"])
    for name in INFLATED:
        if name == "rv" and not np.any(data["has_rv"]):
            continue
        excess = pm.HalfNormal(f"error_excess_{name}", prior_sd, dims="error_range")
        scales[name] = 1.0 + excess[data["error_range"]]
    return scales


def rv_log_density(rv, expected, variance, q_binary=None, sd_binary=None):
    """ln N(rv | expected, variance), or with binaries (``q_binary`` their fraction,
    ``sd_binary`` km/s their extra spread) ln[(1 - q) N(rv | expected, variance)
    + q N(rv | expected, variance + sd_binary^2)]. PyTensor."""
    single = normal_logpdf(rv, expected, variance)
    if q_binary is None:
        return single
    binary = normal_logpdf(rv, expected, variance + sd_binary**2)
    return pt.logaddexp(pt.log1p(-q_binary) + single, pt.log(q_binary) + binary)


#: The cluster's sky profiles (``profile``).
PROFILES = ("plummer", "eff", "king")


def sky_profile(opts: dict[str, Any], scale: Any) -> dict[str, Any]:
    """The sky profile's shape parameters beside the radius ``scale`` (a, or King's r_c):
    ``gamma`` 4 (Plummer), or the free ``eff_gamma`` ~ Uniform over
    ``eff_gamma_prior_range`` for ``profile: eff``; for ``profile: king`` the free
    concentration ``king_concentration`` c = log10(r_t / r_c) ~ Uniform over
    ``king_concentration_prior_range`` and ``tidal`` = r_t = r_c 10^c (Deterministic
    ``king_tidal_radius_arcmin``). Keyword arguments of :func:`cluster_sky_log_density`.
    Call inside the model."""
    profile = opts["profile"]
    if profile not in PROFILES:
        raise ConfigError(f"models.{NAME}.profile: {profile!r} is not one of {list(PROFILES)}")
    if profile == "plummer":
        return {"gamma": 4.0}
    if profile == "king":
        low, high = (float(v) for v in opts["king_concentration_prior_range"])
        if not 0.0 < low < high:
            raise ConfigError(
                f"models.{NAME}.king_concentration_prior_range: need 0 < low < high, "
                f"got {[low, high]}"
            )
        concentration = pm.Uniform("king_concentration", low, high)
        tidal = pm.Deterministic("king_tidal_radius_arcmin", scale * 10.0**concentration)
        return {"tidal": tidal}
    low, high = (float(v) for v in opts["eff_gamma_prior_range"])
    if not 2.0 < low < high:
        raise ConfigError(
            f"models.{NAME}.eff_gamma_prior_range: need 2 < low < high, got {[low, high]}"
        )
    return {"gamma": pm.Uniform("eff_gamma", low, high)}


def _cluster_terms(data: dict[str, np.ndarray], opts: dict[str, Any], scale_rv: Any = 1.0):
    """The cluster's free parameters (inside the current model) and, per star, its sky +
    RV log-density (n,), expected astrometry (n, 3) and intrinsic variances (3,).
    ``scale_rv``: the factors on the quoted RV uncertainties (:func:`error_scales`)."""
    cone_ra, cone_dec, cone_radius = (float(data[key]) for key in GEOMETRY_KEYS)
    low, high = (float(v) for v in opts["parallax_prior_range_mas"])
    centre_sd, pm_sd = float(opts["centre_prior_sd_arcmin"]), float(opts["pm_prior_sd"])
    xi_cl = pm.Normal("xi_cl", 0.0, centre_sd)
    eta_cl = pm.Normal("eta_cl", 0.0, centre_sd)
    scale = pm.Truncated(
        "plummer_radius_arcmin",
        pm.LogNormal.dist(
            np.log(float(opts["plummer_prior_median_arcmin"])), float(opts["plummer_log_prior_sd"])
        ),
        # both bounds, so that the sampler's transform is an interval: with the upper one
        # alone it would be upper - exp(x), which reaches radii <= 0 outside the support
        lower=0.0,
        upper=cone_radius,
    )
    plx_cl = pm.Uniform("parallax_cl", low, high)
    pmra_cl = pm.Normal("pmra_cl", 0.0, pm_sd)
    pmdec_cl = pm.Normal("pmdec_cl", 0.0, pm_sd)
    rv_cl = pm.Normal("rv_cl", 0.0, float(opts["rv_prior_sd"]))
    sigma_v = pm.HalfNormal("sigma_v", float(opts["sigma_v_prior_sd"]))

    ra_cl, dec_cl = tangent_plane_to_sky(xi_cl, eta_cl, cone_ra, cone_dec, xp=pt)
    velocity = observables_to_velocity(ra_cl, dec_cl, plx_cl, pmra_cl, pmdec_cl, rv_cl, xp=pt)
    pm.Deterministic("ra_cl", ra_cl)
    pm.Deterministic("dec_cl", dec_cl)
    pm.Deterministic("velocity_cl", velocity, dims="cartesian")
    # each member's expected motion, projected at its own position (perspective effects)
    pmra_i, pmdec_i, rv_i = velocity_to_observables(
        velocity, *sky_basis(data["ra"], data["dec"]), plx_cl
    )
    # members' observed parallaxes: the true one plus the zero-point offset (0 by default)
    plx_observed = plx_cl + parallax_zero_point_offset(opts, NAME)
    mu_cl = pt.stack([pt.zeros_like(pmra_i) + plx_observed, pmra_i, pmdec_i], axis=-1)
    s_pm2 = (sigma_v * plx_cl / KMS_PER_MASYR_KPC) ** 2
    s_plx2 = (plx_cl * scale / ARCMIN_PER_RAD) ** 2  # depth of one Plummer radius
    var_cl = pt.stack([s_plx2, s_pm2, s_pm2])
    cone_radius_plane = ARCMIN_PER_RAD * np.tan(cone_radius / ARCMIN_PER_RAD)
    log_terms = cluster_sky_log_density(
        data["xi"], data["eta"], xi_cl, eta_cl, scale, cone_radius_plane, **sky_profile(opts, scale)
    )
    if np.any(data["has_rv"]):
        rv, variance, weight = _rv_arrays(data)
        binaries: tuple[Any, ...] = ()
        if opts["rv_binaries"]:
            a, b = (float(v) for v in opts["rv_binary_fraction_prior"])
            median, width = (float(v) for v in opts["rv_binary_sd_prior_kms"])
            binaries = (
                pm.Beta("rv_binary_fraction", a, b),
                pm.LogNormal("rv_binary_sd", np.log(median), width),
            )
        at = np.flatnonzero(weight)
        log_rv = rv_log_density(
            rv[at], rv_i[at], _at_rv_stars(scale_rv, at) ** 2 * variance[at] + sigma_v**2, *binaries
        )
        log_terms = pt.inc_subtensor(log_terms[at], log_rv)
    return log_terms, mu_cl, var_cl


def _at_rv_stars(scale: Any, at: np.ndarray) -> Any:
    """Per-star factors ``scale`` (n,) at the stars ``at`` with a radial velocity; a scalar
    as it is. The RV terms are evaluated at those stars only (2% of the default field):
    evaluated at every star and weighted by 0, they made a PyTensor gradient 1.16x dearer
    (9.2 against 7.9 ms at 19,264 stars)."""
    return scale[at] if getattr(scale, "ndim", 0) else scale


def _field_terms(data: dict[str, np.ndarray], opts: dict[str, Any], k: int, scale_rv: Any = 1.0):
    """The field's sky + RV log-density per star (n,) and its astrometric mixture: component
    means (K, 3), covariance entries (K, 6) and log weights (K,) as free parameters
    (``field_model: joint``), or each star's own (n, K, ...) as data, learned on the
    control field (``control_field``). Call inside the model."""
    log_terms = pt.as_tensor_variable(
        field_sky_log_density(data["xi"], data["eta"], float(data["cone_radius_arcmin"]))
    )
    if np.any(data["has_rv"]):
        rv_sd = float(opts["field_rv_prior_sd"])
        rv_mean = pm.Normal("rv_field_mean", 0.0, rv_sd)
        rv_width = pm.HalfNormal("rv_field_sd", rv_sd)
        rv, variance, weight = _rv_arrays(data)
        at = np.flatnonzero(weight)
        log_rv = normal_logpdf(
            rv[at], rv_mean, _at_rv_stars(scale_rv, at) ** 2 * variance[at] + rv_width**2
        )
        log_terms = pt.inc_subtensor(log_terms[at], log_rv)
    if "field_weights" in data:
        weights = pm.Data("field_weights", data["field_weights"], dims=("star", "component"))
        mu_field = pm.Data("field_means", data["field_means"])
        cov_field = pm.Data("field_covariances", data["field_covariances"])
        return log_terms, mu_field, cov_field, pt.log(weights)
    return (log_terms, *_joint_field(opts, k))


def _joint_field(opts: dict[str, Any], k: int):
    """The field mixture's free parameters: means (K, 3), covariance entries (K, 6) and log
    weights (K,), with the priors of the module docstring. Call inside the model."""
    w_field = pm.Dirichlet("w_field", a=np.ones(k), dims="component") if k > 1 else pt.ones(1)
    plx_prior = [float(v) for v in opts["field_parallax_prior"]]
    plx_field = pm.Normal("parallax_field", *plx_prior, dims="component")
    pm_field = pm.Normal(
        "pm_field",
        0.0,
        float(opts["pm_prior_sd"]),
        dims=("component", "pm_axis"),
    )
    scales = [float(v) for v in opts["field_sd_prior_scales"]]
    sd_plx = pm.HalfNormal("sd_field_parallax", scales[0], dims="component")
    # sd_pmra_1 < ... < sd_pmra_K (kinematically cold to hot) breaks label switching
    sd_pmra = increasing_scales("sd_field_pmra", scales[1], k)
    sd_pmdec = pm.HalfNormal("sd_field_pmdec", scales[2], dims="component")
    eta = float(opts["field_lkj_eta"])
    beta = np.array([eta + 0.5, eta + 0.5, eta])
    cpc = pm.Beta(
        "cpc_field_beta",
        alpha=beta,
        beta=beta,
        dims=("component", "partial_correlation"),
    )
    z = 2.0 * cpc - 1.0
    sd_field = pt.stack([sd_plx, sd_pmra, sd_pmdec], axis=-1)
    cov_field = pt.stack(
        covariance_from_partial_correlations(sd_field, z[:, 0], z[:, 1], z[:, 2]), axis=-1
    )
    mu_field = pt.concatenate([plx_field[:, None], pm_field], axis=-1)
    return mu_field, cov_field, pt.log(w_field)


# -------------------------------------------------------------------------- summaries


def centre_draws(
    posterior: xr.Dataset, data: Mapping[str, np.ndarray]
) -> tuple[xr.DataArray, xr.DataArray]:
    """(ra_cl, dec_cl) draws in deg from the sampled tangent-plane offsets."""
    ra, dec = tangent_plane_to_sky(
        posterior["xi_cl"].values,
        posterior["eta_cl"].values,
        float(data["cone_ra_deg"]),
        float(data["cone_dec_deg"]),
    )
    like = posterior["xi_cl"]
    return (
        xr.DataArray(ra, dims=like.dims, coords=like.coords, name="ra_cl"),
        xr.DataArray(dec, dims=like.dims, coords=like.coords, name="dec_cl"),
    )


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any] | None = None
) -> dict[str, xr.DataArray]:
    """Posterior draws of the cluster's position and motion (names and units in
    :data:`clustermix.models.SUMMARY_UNITS`).

    ``parallax``, ``pmra`` and ``pmdec`` are those of the centre plus one seeded draw of the
    systematic floors (``parallax_systematic_mas``, ``pm_systematic_masyr``) per posterior
    draw (the parallax's by :func:`clustermix.models.systematics.parallax_draws`, which
    counts a fitted zero-point offset once); ``distance`` = 1000 / parallax; ``x``, ``y``,
    ``z`` (pc) and ``v_x``, ``v_y``, ``v_z`` (km/s) are ICRS Cartesian, computed from them,
    the centre's (ra, dec) and ``rv`` = ``rv_cl``; ``sigma_v`` (km/s) and ``f_cluster`` as sampled.
    """
    opts = with_defaults(options)
    like = posterior["parallax_cl"]
    seed = int(opts["systematic_seed"])
    parallax = parallax_draws(posterior, opts, seed).values
    shift_a, shift_d = pm_systematic_draws(like, float(opts["pm_systematic_masyr"]), seed)
    pmra = (posterior["pmra_cl"] + shift_a).values
    pmdec = (posterior["pmdec_cl"] + shift_d).values
    rv = posterior["rv_cl"].values
    ra, dec = centre_draws(posterior, data)
    position = sky_to_position(ra.values, dec.values, parallax)
    velocity = observables_to_velocity(ra.values, dec.values, parallax, pmra, pmdec, rv)

    def wrap(values: np.ndarray, name: str) -> xr.DataArray:
        return xr.DataArray(values, dims=like.dims, coords=like.coords, name=name)

    result = {
        "pmra": wrap(pmra, "pmra"),
        "pmdec": wrap(pmdec, "pmdec"),
        "parallax": wrap(parallax, "parallax"),
        "distance": wrap(1000.0 / parallax, "distance"),
    }
    for index, axis in enumerate("xyz"):
        result[axis] = wrap(position[..., index], axis)
    for index, axis in enumerate("xyz"):
        result[f"v_{axis}"] = wrap(velocity[..., index], f"v_{axis}")
    result["rv"] = wrap(rv, "rv")
    result["sigma_v"] = posterior["sigma_v"].rename("sigma_v")
    result["f_cluster"] = posterior["f_cluster"].rename("f_cluster")
    return result


def galactocentric_quantities(posterior_draws: Mapping[str, Any]) -> dict[str, xr.DataArray]:
    """Galactocentric position (pc) and velocity (km/s) draws of the cluster.

    ``posterior_draws``: ICRS Cartesian ``x``, ``y``, ``z`` (pc) and ``v_x``, ``v_y``,
    ``v_z`` (km/s) draws, e.g. from :func:`summary_quantities` (DataArrays or arrays of one
    shape). Uses astropy's Galactocentric frame with the parameter set "v4.0" (the default
    of astropy >= 4.0, pinned by :func:`clustermix.data.galaxy.galactocentric_frame`):
    Sun at R0 = 8122 pc (GRAVITY 2018) and z_sun = 20.8 pc above the plane (Bennett &
    Bovy 2019), solar velocity (12.9, 245.6, 7.78) km/s (Drimmel & Poggio 2018), Galactic
    centre at ICRS (266.4051, -28.936175) deg (Reid & Brunthaler 2004), roll 0. Returns
    ``x``, ``y``, ``z``, ``v_x``, ``v_y``, ``v_z`` with the input's dims; the frame
    parameters are in each DataArray's ``attrs["frame"]``.
    """
    import astropy.units as u
    from astropy.coordinates import ICRS, SkyCoord

    from clustermix.data.galaxy import galactocentric_frame, galactocentric_parameters

    template = posterior_draws["x"]
    values = {key: np.asarray(posterior_draws[key], float) for key in _CARTESIAN}
    icrs = SkyCoord(
        x=values["x"] * u.pc,
        y=values["y"] * u.pc,
        z=values["z"] * u.pc,
        v_x=values["v_x"] * u.km / u.s,
        v_y=values["v_y"] * u.km / u.s,
        v_z=values["v_z"] * u.km / u.s,
        representation_type="cartesian",
        differential_type="cartesian",
        frame=ICRS(),
    )
    galcen = icrs.transform_to(galactocentric_frame())
    frame = galactocentric_parameters()
    out = {
        "x": galcen.x.to_value(u.pc),
        "y": galcen.y.to_value(u.pc),
        "z": galcen.z.to_value(u.pc),
        "v_x": galcen.v_x.to_value(u.km / u.s),
        "v_y": galcen.v_y.to_value(u.km / u.s),
        "v_z": galcen.v_z.to_value(u.km / u.s),
    }
    dims = getattr(template, "dims", None)
    coords = getattr(template, "coords", None)
    if dims is None:
        dims = tuple(f"dim_{i}" for i in range(np.ndim(values["x"])))
    return {
        key: xr.DataArray(value, dims=dims, coords=coords, name=key, attrs={"frame": frame})
        for key, value in out.items()
    }


_CARTESIAN = ("x", "y", "z", "v_x", "v_y", "v_z")


def true_values(truth: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, float]:
    """The simulator's cluster position and motion, and the member fraction in ``data``."""
    names = ("pmra", "pmdec", "parallax", "distance", *_CARTESIAN, "rv", "sigma_v")
    missing = [name for name in (*names, "member_source_ids") if name not in truth]
    if missing:
        raise InputDataError(f"truth: keys {missing} are missing")
    values = {name: float(truth[name]) for name in names}
    values["f_cluster"] = true_member_fraction(truth["member_source_ids"], data["source_id"])
    return values


def true_galactocentric(truth: dict[str, Any]) -> dict[str, float]:
    """The simulator's Galactocentric position (pc) and velocity (km/s) of the cluster."""
    return {key: float(truth["galactocentric"][key]) for key in _CARTESIAN}

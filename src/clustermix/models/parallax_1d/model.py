"""Model 2: parallax alone, a Gaussian cluster on a field learned from the data.

Star i has an observed parallax x_i (mas, zero point already applied by the cleaning
step) with uncertainty e_i (mas). Its likelihood is

    p(x_i | theta) = f N(x_i | plx_cl, s^2 + e_i^2) + (1 - f) F(x_i | e_i, G_i),

where F, the field's density of observed parallaxes, is one of two ``field_model`` s.

``field_model: binned`` (the default): the field's true parallaxes follow a smooth
histogram, K = ``field_bins`` Gaussian bumps of sd b = 0.6 Delta at equally spaced centres
c_k (spacing Delta, from Delta/2 to the 99.5th percentile of the observed parallaxes, at
least 0.5 mas), with weights of their own in each of ``field_magnitude_bins`` G bins
(equal numbers of control stars, at least 10 K each; fainter field stars are farther
away), so that, convolved with each star's error,

    F(x | e, G) = sum_k w_{b(G) k} N(x | c_k, b^2 + e^2).

The weights are learned jointly from the cluster region and the control annulus
(``in_control_field``): the control field's stars are pure field, and their likelihood
F(x_j | e_j, G_j) is a second term of the posterior (a ``pm.Potential``). The control
annulus thus pins the field's shape where the cluster sits, and its finite size is carried
into the posterior of f. The EDSD below put 7-11% too few field stars at the cluster's
parallax on the default simulated field and biased f by about +0.6 sd; the binned field
follows, seed by seed, what an oracle that knows the true field density gets
(``bench/README.md``). F is linear in the weights, so the n x K Gaussian densities are
computed once (:func:`field_basis`) and a gradient costs one weighted sum per star. Tried
and not kept: a single parallax scale exp(beta (G - median G)) for every bump biased f
(pulls +0.7 to +4.3 in three seeds); log-weights linear in G per bump matched the oracle
but sampled 1.5x slower.
Priors: in each G bin, ln w_1 = 0 (a common shift of the log-weights cancels in
w_k = exp(a_k) / sum_j exp(a_j)) and ``field_log_weights`` a_2..a_K a Gaussian random walk
from a_1 with step sd ``field_bin_step_sd`` (a smooth field). The walk's values, not its
steps, are sampled, which keeps the posterior better conditioned. Without a
``phot_g_mean_mag`` column there is one G bin.

``field_model: edsd`` (the seed tutorial's physical prior, as in Bailer-Jones 2015):

    F(x | e, L) = int_0^inf N(x | 1000 / r, e^2) p(r | L) dr,
    p(r | L) = r^2 exp(-r / L) / (2 L^3)

(r and L in pc here; :mod:`clustermix.models.quadrature` works in kpc): the cluster's true
parallaxes are Gaussian around plx_cl with an intrinsic width s (zero by default: the
depth of a cluster a few pc across at kpc distances is < 0.001 mas, far below every
error), and the field stars' true distances follow the exponentially decreasing space
density (EDSD) of Bailer-Jones (2015) with a free length scale L. The field integral is
evaluated per star by quadrature and interpolated in ln L (see
:mod:`clustermix.models.quadrature`; error < 1e-8 in ln F).

Priors (defaults in :data:`DEFAULT_OPTIONS`):

- cluster parallax ``parallax_cl`` = plx_cl ~ Uniform(0.05, 10) mas (distances 100 pc to
  20 kpc);
- cluster intrinsic width ``parallax_width_cl`` = s ~ HalfNormal(width_prior_sd_mas) if
  ``width_prior_sd_mas`` is set, otherwise s = 0 (the default);
- (``edsd``) field length scale L: ``ln_length_scale_field`` = ln(L / kpc) ~
  Uniform(ln 0.25, ln 8), i.e. log-uniform between 0.25 and 8 kpc (the range over which
  the quadrature is accurate), the length scale at the stars' median G. With
  ``length_scale_varies_with_g`` (the default) star i's is
  ln L_i = ln L + b (G_i - median G), clipped to that range, with
  ``ln_length_scale_slope`` b ~ N(0, 0.5^2) per mag: fainter field stars are farther away,
  and a single L for all magnitudes leaves the faint ones' small parallaxes to the cluster
  (on the default simulated field f came out 2 sd high, 3 sd in some seeds);
- cluster fraction ``f_cluster`` = f ~ Uniform(m / N, 1): a cluster holds at least
  m = ``cluster_min_members`` (20) of the N stars.
- with ``error_inflation`` (off by default), the members' quoted parallax errors are
  scaled by s = 1 + e, ``error_excess_parallax`` e ~ HalfNormal(``error_inflation_prior_sd``,
  0.25): the members' term becomes N(x_i | plx_cl, width^2 + (s e_i)^2). Gaia DR3's
  parallax uncertainties are underestimated by up to ~30% (El-Badry, Rix & Heintz 2021),
  and with a cluster of no intrinsic width nothing else lets the members scatter more than
  their quoted errors; the faint ones then go to the field. The field keeps the quoted
  errors, since its bumps' widths absorb any misstatement of them.

Parallax zero point (``zero_point_offset_prior_sd_mas`` = s, 0 = off, the default; 0.015
mas suggested): the cleaning step's zero-point correction leaves a residual common to all
stars, modelled as one offset ``parallax_zero_point_offset`` d ~ N(0, s^2): the members'
term becomes N(x_i | plx_cl + d, width^2 + (s_e e_i)^2), plx_cl now the true parallax. The
binned field is a density of observed parallaxes learned from the same catalogue, which
already holds d (a field shifted by d is a field of the same family: its weights follow,
to within the bumps' spacing), so only plx_cl + d is identified: d keeps its prior, and
plx_cl's posterior widens by s in quadrature, a systematic floor in every draw. The
reported ``parallax`` then adds only sqrt(max(0.011^2 - s^2, 0)) mas, so that the zero
point is not counted twice (:mod:`clustermix.models.systematics`). Not with the EDSD field
(a ``ConfigError``), whose integral over true distances is tabulated at d = 0.

Stars: by default those of the cluster region (``stars = "cluster_region"``), where
members are a large fraction. The binned field needs control-field stars outside the
selection (so not ``"all"``). Over the whole cone the one-parameter EDSD cannot follow a
real (or a simulated disc + halo) field, and the cluster Gaussian absorbs field stars at
the cluster's parallax: ``f_cluster`` is then overestimated, while the cluster parallax is
not affected.

Reported quantities (:func:`summary_quantities`): the trace keeps the purely statistical
plx_cl; the reported ``parallax`` adds the Gaia DR3 small-scale systematic floor
(``parallax_systematic_mas`` = 0.011 mas, :mod:`clustermix.models.systematics`) as one
seeded draw N(0, 0.011^2) per posterior draw,
so that its spread is the statistical and systematic errors in quadrature, and
``distance`` = 1000 / ``parallax`` (pc) inherits it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from clustermix.errors import ConfigError, InputDataError
from clustermix.models import replication
from clustermix.models.mixture import (
    MAGNITUDE_COLUMN,
    catalog_column,
    checked_columns,
    cluster_fraction_per_star,
    cluster_fraction_prior,
    histogram_peak,
    magnitudes,
    normal_logpdf,
    parallax_zero_point_offset,
    require_control_field,
    select_stars,
    selected_source_ids,
    start_fraction,
    true_member_fraction,
)
from clustermix.models.parallax_1d import predictive
from clustermix.models.parallax_1d.bumps import bump_sd
from clustermix.models.quadrature import (
    DEFAULT_DEGREE,
    DEFAULT_LENGTH_SCALE_RANGE_KPC,
    DEFAULT_NODES,
    build_edsd_interpolant,
    chebyshev_series,
)
from clustermix.models.systematics import PARALLAX_FLOOR_MAS, parallax_draws

log = logging.getLogger(__name__)

NAME = "parallax_1d"
#: The posterior predictive check's quantities, its fitted ``obs`` columns and their
#: observed values (:mod:`.predictive`).
QUANTITIES = predictive.QUANTITIES
OBS_QUANTITIES = predictive.OBS_QUANTITIES
observed_quantities = predictive.observed_quantities
#: The field models (see the module docstring).
FIELD_MODELS = ("binned", "edsd")
#: The binned field's centres reach this quantile of the observed parallaxes.
UPPER_QUANTILE = 0.995
#: A G bin of the binned field holds at least this many control stars per bump.
MIN_CONTROL_STARS_PER_BUMP = 10
DEFAULT_OPTIONS: dict[str, Any] = {
    "stars": "cluster_region",  # "all", "cluster_region" or "control_field"
    "field_model": "binned",  # "binned" (learned with the control field) or "edsd"
    "field_bins": 20,  # K bumps of the binned field
    "field_bin_step_sd": 1.0,  # sd of the random walk of the bins' log-weights
    "field_magnitude_bins": 4,  # G bins (equal counts of control stars), each its weights
    "parallax_prior_range_mas": [0.05, 10.0],  # Uniform prior on the cluster parallax
    "width_prior_sd_mas": None,  # HalfNormal scale of the cluster's intrinsic width; None: 0
    "length_scale_range_kpc": list(DEFAULT_LENGTH_SCALE_RANGE_KPC),  # log-uniform prior on L
    "parallax_systematic_mas": PARALLAX_FLOOR_MAS,  # Gaia DR3 floor added to `parallax`
    "systematic_seed": 20210101,  # seed of the systematic draws in summary_quantities
    "quadrature_nodes": DEFAULT_NODES,
    "chebyshev_degree": DEFAULT_DEGREE,
    "parallax_init": None,  # mas, starting cluster parallax; None: densest histogram bin
    "min_stars": 20,
    "cluster_min_members": 20,  # a cluster holds at least this many stars (prior on f)
    "length_scale_varies_with_g": True,  # ln L linear in G (fainter field stars are farther)
    "length_scale_slope_prior_sd": 0.5,  # per mag, sd of the normal prior on that slope
    # the members' quoted parallax errors times s = 1 + HalfNormal(error_inflation_prior_sd)
    "error_inflation": False,
    "error_inflation_prior_sd": 0.25,
    # sd (mas) of a fitted zero-point offset of every parallax; 0: off (0.015 suggested)
    "zero_point_offset_prior_sd_mas": 0.0,
}
COLUMNS = ("parallax", "parallax_error")
#: Bin width (mas) of the histogram whose densest bin starts the cluster parallax.
_INIT_BIN_MAS = 0.05
#: Starting excess e of the members' error factor s = 1 + e (``error_inflation``).
_INIT_ERROR_EXCESS = 0.05


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_OPTIONS`` overridden by ``options``."""
    return {**DEFAULT_OPTIONS, **(options or {})}


def prepare_data(catalog: Any, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """``source_id``, ``parallax`` and ``parallax_error`` (mas) of the selected stars; for
    the binned field also its control stars, bumps and G bins (:func:`_control_field_data`),
    for the EDSD with a magnitude-dependent length scale ``g_offset`` (mag).

    The selection is ``options["stars"]``. Raises :class:`InputDataError` (naming
    ``source``, the column and the row count) for an empty selection, a non-finite value,
    a non-positive error or fewer than ``min_stars`` stars.
    """
    opts = _options(options)
    mask = select_stars(catalog, opts["stars"], source)
    arrays = checked_columns(
        catalog,
        COLUMNS,
        positive=("parallax_error",),
        mask=mask,
        source=source,
        min_stars=int(opts["min_stars"]),
    )
    data = {"source_id": selected_source_ids(catalog, mask, source), **arrays}
    names = getattr(catalog, "colnames", None) or list(catalog)
    binned = field_model(opts) == "binned"
    varies = binned or opts["length_scale_varies_with_g"]
    if varies and MAGNITUDE_COLUMN not in names:
        log.info(
            "%s: no '%s' column: %s fits one field for every magnitude",
            source,
            MAGNITUDE_COLUMN,
            NAME,
        )
        varies = False
    if binned:
        data.update(_control_field_data(catalog, mask, opts, source, varies))
    elif varies:
        g_mag = magnitudes(catalog, mask, source, NAME)
        data["g_offset"] = g_mag - np.median(g_mag)
    return data


def field_model(options: dict[str, Any]) -> str:
    """``options["field_model"]``, checked against :data:`FIELD_MODELS`."""
    name = options["field_model"]
    if name not in FIELD_MODELS:
        raise InputDataError(
            f"models.{NAME}.field_model: unknown field model {name!r} "
            f"(expected one of {list(FIELD_MODELS)})"
        )
    return str(name)


def _control_field_data(
    catalog: Any, mask: np.ndarray, opts: dict[str, Any], source: str, by_magnitude: bool
) -> dict[str, np.ndarray]:
    """The binned field's control stars (those of ``in_control_field`` outside the model's
    selection ``mask``): ``control_parallax``, ``control_parallax_error`` (mas); the bumps'
    ``field_bin_centres`` (mas); and, if ``by_magnitude``, each star's G bin ``g_bin`` and
    ``control_g_bin`` (:func:`magnitude_bin_edges` of the control stars' G)."""
    require_control_field(catalog, source, f"models.{NAME}.field_model 'binned'", "edsd")
    control = select_stars(catalog, "control_field", source) & ~mask
    arrays = checked_columns(
        catalog,
        COLUMNS,
        positive=("parallax_error",),
        mask=control,
        source=f"{source} (control field outside stars='{opts['stars']}')",
        min_stars=int(opts["min_stars"]),
    )
    n_bumps = int(opts["field_bins"])
    data = {
        "control_parallax": arrays["parallax"],
        "control_parallax_error": arrays["parallax_error"],
        "field_bin_centres": field_bin_centres(
            np.concatenate([catalog_column(catalog, "parallax", source)[mask], arrays["parallax"]]),
            n_bumps,
        ),
    }
    if by_magnitude:
        control_g = magnitudes(catalog, control, source, NAME)
        edges = magnitude_bin_edges(control_g, int(opts["field_magnitude_bins"]), n_bumps)
        data["g_bin"] = np.searchsorted(edges, magnitudes(catalog, mask, source, NAME))
        data["control_g_bin"] = np.searchsorted(edges, control_g)
        if len(edges) + 1 < int(opts["field_magnitude_bins"]):
            log.info(
                "%s: %d control stars: %s uses %d G bins of at least %d stars, not %d",
                source,
                len(control_g),
                NAME,
                len(edges) + 1,
                MIN_CONTROL_STARS_PER_BUMP * n_bumps,
                opts["field_magnitude_bins"],
            )
    return data


def magnitude_bin_edges(control_g: np.ndarray, n_bins: int, n_bumps: int) -> np.ndarray:
    """The inner edges (mag) of up to ``n_bins`` G bins holding equal numbers of the control
    stars (``control_g``, mag), each at least :data:`MIN_CONTROL_STARS_PER_BUMP` x
    ``n_bumps`` of them (fewer bins if the control field is small; none: one bin)."""
    n_bins = max(1, min(n_bins, len(control_g) // (MIN_CONTROL_STARS_PER_BUMP * n_bumps)))
    return np.quantile(control_g, np.arange(1, n_bins) / n_bins)


def field_bin_centres(parallax: np.ndarray, n_bins: int) -> np.ndarray:
    """``n_bins`` equally spaced centres (mas) of the binned field's bumps: spacing
    Delta = p / n_bins, from Delta / 2 to p - Delta / 2, where p is the
    :data:`UPPER_QUANTILE` of the observed ``parallax`` (mas; at least 0.5 mas)."""
    if n_bins < 2:
        raise InputDataError(f"models.{NAME}.field_bins: need at least 2 bins, got {n_bins}")
    top = max(float(np.quantile(parallax, UPPER_QUANTILE)), 0.5)
    spacing = top / n_bins
    return spacing * (np.arange(n_bins) + 0.5)


def field_basis(
    parallax: np.ndarray, error: np.ndarray, centres: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each star's bump densities N(x_i | c_k, b^2 + e_i^2) (per mas), which do not depend on
    any parameter, as ln of their largest, m_i (n,), and the ratios to it, B_ik (n, K), so
    that ln F_i = m_i + ln sum_k B_ik w_k for any weights w without underflow.
    ``parallax``, ``error`` (n,) and ``centres`` (K,) in mas."""
    var = bump_sd(centres) ** 2 + np.asarray(error, float)[:, None] ** 2
    log_density = -0.5 * (
        np.log(2.0 * np.pi * var) + (np.asarray(parallax, float)[:, None] - centres) ** 2 / var
    )
    largest = log_density.max(axis=1)
    return largest, np.exp(log_density - largest[:, None])


def binned_field_log_likelihood(largest, basis, weights):
    """ln F_i = m_i + ln sum_k B_ik w_ik (PyTensor) from :func:`field_basis`'s ``largest``
    (n,) and ``basis`` (n, K), and the stars' bump weights ``weights`` (n, K)."""
    return largest + pt.log(pt.sum(basis * weights, axis=1))


def component_log_terms(
    parallax, error, plx_cl, width_cl, f_cluster, log_field_likelihood, error_scale=1.0
):
    """Per star, log(f L_cluster) and log((1 - f) L_field).

    ``parallax``, ``error`` (n_star,) in mas; ``plx_cl``, ``width_cl`` (mas) and
    ``f_cluster`` scalars; ``log_field_likelihood`` (n_star,) = ln F(x_i | e_i, L);
    ``error_scale`` the factor s on the members' quoted errors (1: as quoted).
    """
    member_variance = width_cl**2 + (error_scale * error) ** 2
    log_cluster = pt.log(f_cluster) + normal_logpdf(parallax, plx_cl, member_variance)
    log_field = pt.log1p(-f_cluster) + log_field_likelihood
    return log_cluster, log_field


def initial_values(data: dict[str, np.ndarray], options: dict[str, Any]) -> dict[str, Any]:
    """Data-driven starting values, keyed by free-variable name, for
    ``pm.sample(initvals=...)`` or nutpie's ``initial_points`` (the model itself sets none,
    so that ``pm.compute_log_likelihood`` works).

    The cluster parallax starts at the densest 0.05 mas bin of the better-measured half of
    the stars (or ``options["parallax_init"]``), clipped into the prior range. Starting
    values do not change the posterior.
    """
    opts = _options(options)
    low, high = (float(v) for v in opts["parallax_prior_range_mas"])
    init = opts["parallax_init"]
    if init is None:
        init = histogram_peak(data["parallax"], data["parallax_error"], _INIT_BIN_MAS)[0]
    margin = 0.01 * (high - low)
    start = {
        "parallax_cl": float(np.clip(init, low + margin, high - margin)),
        "f_cluster": start_fraction(0.3, len(data["parallax"]), opts["cluster_min_members"]),
    }
    if opts["error_inflation"]:
        start["error_excess_parallax"] = _INIT_ERROR_EXCESS
    if float(opts["zero_point_offset_prior_sd_mas"]) > 0.0:
        start["parallax_zero_point_offset"] = 0.0
    if field_model(opts) == "binned":
        # per G bin, the control field's histogram over the bumps, one star added to each
        centres = data["field_bin_centres"]
        spacing = centres[1] - centres[0]
        edges = np.concatenate([centres - spacing / 2, [centres[-1] + spacing / 2]])
        clipped = np.clip(data["control_parallax"], edges[0], edges[-1])
        g_bin = data.get("control_g_bin", np.zeros(len(clipped), int))
        counts = np.array(
            [
                np.histogram(clipped[g_bin == b], bins=edges)[0] + 1.0
                for b in range(n_magnitude_bins(data))
            ]
        )
        start["field_log_weights"] = np.log(counts[:, 1:] / counts[:, :1])
    else:
        start["ln_length_scale_field"] = float(np.log(1.35))
        if "g_offset" in data:
            start["ln_length_scale_slope"] = 0.0
    return start


#: The cluster quantities that tell modes apart (see :mod:`clustermix.models.modes`).
MODE_QUANTITIES: dict[str, str] = {"parallax": "parallax_cl", "f_cluster": "f_cluster"}


def start_at(
    data: dict[str, np.ndarray], options: dict[str, Any], candidate: Any
) -> dict[str, Any]:
    """:func:`initial_values` with the cluster at ``candidate.parallax`` (mas) if known."""
    if candidate.parallax is None:
        return initial_values(data, options)
    return initial_values(data, {**_options(options), "parallax_init": candidate.parallax})


def build_model(data: dict[str, np.ndarray], options: dict[str, Any] | None = None) -> pm.Model:
    """The parallax mixture: Gaussian cluster, binned or EDSD field, per-star errors.

    Tabulating the EDSD field integral takes about 3 s per 10,000 stars.
    """
    opts = _options(options)
    low, high = (float(v) for v in opts["parallax_prior_range_mas"])
    coords = {"star": data["source_id"]}
    with pm.Model(coords=coords) as model:
        parallax = pm.Data("parallax", data["parallax"], dims="star")
        error = pm.Data("parallax_error", data["parallax_error"], dims="star")
        plx_cl = pm.Uniform("parallax_cl", low, high)
        width_sd = opts["width_prior_sd_mas"]
        width_cl = (
            pm.HalfNormal("parallax_width_cl", sigma=float(width_sd))
            if width_sd is not None
            else pt.constant(0.0)
        )
        f_cluster = cluster_fraction_prior(len(data["parallax"]), opts["cluster_min_members"])
        scale = error_scale(opts)
        # the members' observed parallaxes scatter about the true one plus the zero-point
        # offset (0 by default); the binned field is a density of observed parallaxes
        member_mean = plx_cl + _zero_point_offset(opts)
        cluster = (member_mean, width_cl, f_cluster, scale)
        if field_model(opts) == "binned":
            log_field = _binned_field(data, opts, parallax, error, cluster)
        else:
            log_field = _edsd_field(data, opts, parallax, error, cluster)
        log_c, log_f = component_log_terms(
            parallax, error, member_mean, width_cl, f_cluster, log_field, scale
        )
        pm.Deterministic("p_cluster", cluster_fraction_per_star(log_c, log_f), dims="star")
    return model


def _zero_point_offset(opts: dict[str, Any]) -> Any:
    """The zero-point offset d (mas) of :func:`clustermix.models.mixture.parallax_zero_point_offset`
    (0 unless ``zero_point_offset_prior_sd_mas`` > 0); refused with the EDSD field, a density
    of true distances that would have to be re-tabulated at every d. Call inside the model."""
    if float(opts["zero_point_offset_prior_sd_mas"]) > 0.0 and field_model(opts) == "edsd":
        raise ConfigError(
            f"models.{NAME}.zero_point_offset_prior_sd_mas needs field_model 'binned' (the "
            "EDSD field describes true distances; its integral is tabulated at d = 0)"
        )
    return parallax_zero_point_offset(opts, NAME)


def error_scale(opts: dict[str, Any]) -> Any:
    """The factor s on the members' quoted parallax errors: s = 1 + e with the free variable
    ``error_excess_parallax`` e ~ HalfNormal(``error_inflation_prior_sd``) if
    ``error_inflation`` is on, else 1. The field keeps the quoted errors: its bumps' widths
    absorb any misstatement of the field stars' errors. Call inside the model."""
    if not opts["error_inflation"]:
        return pt.constant(1.0)
    return 1.0 + pm.HalfNormal("error_excess_parallax", float(opts["error_inflation_prior_sd"]))


def n_magnitude_bins(data: dict[str, np.ndarray]) -> int:
    """The binned field's number of G bins (1 without magnitudes)."""
    if "g_bin" not in data:
        return 1
    return int(max(data["g_bin"].max(), data["control_g_bin"].max())) + 1


def _binned_field(data, opts, parallax, error, cluster):
    """Inside the model: the binned field's priors, the control field's likelihood term and
    the ``obs`` mixture; returns ln F(x_i | e_i, G_i) of the model's stars. ``cluster`` is
    (plx_cl, width_cl, f_cluster, error scale)."""
    centres = data["field_bin_centres"]
    n_bumps, n_mag = len(centres), n_magnitude_bins(data)
    # per G bin, ln w_1 = 0 (the weights' scale is free, so one is fixed) and a random walk
    # over the others; its values, not its steps, are sampled (steps would couple each bin
    # to all before it)
    step_sd = float(opts["field_bin_step_sd"])
    walk = pm.GaussianRandomWalk(
        "field_log_weights",
        sigma=step_sd,
        init_dist=pm.Normal.dist(0.0, step_sd, shape=(n_mag,)),
        steps=n_bumps - 2,
        shape=(n_mag, n_bumps - 1),
    )
    weights = pt.special.softmax(pt.concatenate([pt.zeros((n_mag, 1)), walk], axis=1), axis=1)
    star_weights = weights[data.get("g_bin", np.zeros(len(data["parallax"]), int))]
    control_weights = weights[
        data.get("control_g_bin", np.zeros(len(data["control_parallax"]), int))
    ]
    control_largest, control_basis = field_basis(
        data["control_parallax"], data["control_parallax_error"], centres
    )
    pm.Potential(
        "control_field_log_likelihood",
        binned_field_log_likelihood(control_largest, control_basis, control_weights).sum(),
    )
    log_field = binned_field_log_likelihood(
        *field_basis(data["parallax"], data["parallax_error"], centres), star_weights
    )
    pm.CustomDist(
        "obs",
        *cluster,
        error,
        log_field,
        star_weights,
        pt.as_tensor_variable(centres),
        pt.as_tensor_variable(bump_sd(centres)),
        logp=_binned_obs_logp,
        random=_binned_obs_random,
        signature="(),(),(),(),(),(),(k),(k),()->()",
        observed=parallax,
        dims="star",
    )
    return log_field


def _edsd_field(data, opts, parallax, error, cluster):
    """Inside the model: the EDSD field's priors and the ``obs`` mixture; returns
    ln F(x_i | e_i, L_i) of the model's stars. ``cluster`` is (plx_cl, width_cl, f_cluster,
    error scale)."""
    l_range = tuple(float(v) for v in opts["length_scale_range_kpc"])
    interpolant = build_edsd_interpolant(
        data["parallax"],
        data["parallax_error"],
        length_scale_range_kpc=l_range,
        degree=int(opts["chebyshev_degree"]),
        n_nodes=int(opts["quadrature_nodes"]),
    )
    ln_length = pm.Uniform("ln_length_scale_field", np.log(l_range[0]), np.log(l_range[1]))
    length = pm.Deterministic("length_scale_field_kpc", pt.exp(ln_length))
    if "g_offset" in data:
        # each star's L at its magnitude, kept inside the interpolant's range
        slope = pm.Normal("ln_length_scale_slope", 0.0, float(opts["length_scale_slope_prior_sd"]))
        g_offset = pm.Data("g_offset", data["g_offset"], dims="star")
        length = pt.exp(
            pt.clip(ln_length + slope * g_offset, np.log(l_range[0]), np.log(l_range[1]))
        )
    scaled_log_length = interpolant.scaled_log_length(length)
    coefficients = pt.as_tensor_variable(interpolant.coefficients)
    params = (*cluster, length, scaled_log_length, error, coefficients)
    pm.CustomDist(
        "obs",
        *params,
        logp=_obs_logp,
        random=_obs_random,
        signature="(),(),(),(),(),(),(),(d)->()",
        observed=parallax,
        dims="star",
    )
    return chebyshev_series(scaled_log_length, coefficients)


def _binned_obs_logp(
    value, plx_cl, width_cl, f_cluster, scale, error, log_field, weights, centres, sd
):
    """The per-star mixture log-likelihood with the binned field (the ``obs`` term).

    ``log_field`` is ln F of the observed parallaxes, computed once from the parameter-free
    :func:`field_basis` (an n x K matrix of Gaussian densities that would otherwise be
    rebuilt at every gradient): this term is therefore the likelihood of the observed
    ``value`` only, which is all a fit, its per-star log-likelihood and the memberships ask
    of it; ``weights``, ``centres`` and ``sd`` serve the random draws.
    """
    log_c, log_f = component_log_terms(value, error, plx_cl, width_cl, f_cluster, log_field, scale)
    return pt.logaddexp(log_c, log_f)


def _binned_obs_random(
    plx_cl, width_cl, f_cluster, scale, error, log_field, weights, centres, sd, rng=None, size=None
):
    """Draw parallaxes (mas) from the model with the binned field, for posterior predictive
    checks. Members: N(plx_cl, width^2 + (s e)^2); field: a bump k drawn with the star's
    ``weights``, true parallax ~ N(c_k, sd^2), x ~ N(true, e^2)."""
    if size is None:
        size = np.broadcast_shapes(np.shape(error), np.shape(f_cluster), np.shape(weights)[:-1])
    weights = np.broadcast_to(weights, (*size, np.shape(weights)[-1]))
    cumulative = np.cumsum(weights, axis=-1)
    uniform = rng.random(size)[..., None] * cumulative[..., -1:]
    bump = np.minimum((uniform > cumulative).sum(axis=-1), weights.shape[-1] - 1)
    centre = np.take_along_axis(np.broadcast_to(centres, weights.shape), bump[..., None], axis=-1)[
        ..., 0
    ]
    member = rng.random(size) < f_cluster
    true = np.where(member, rng.normal(plx_cl, width_cl, size), rng.normal(centre, sd, size))
    return rng.normal(true, np.where(member, scale * error, error))


def _obs_logp(
    value, plx_cl, width_cl, f_cluster, scale, length, scaled_log_length, error, coefficients
):
    """The per-star mixture log-likelihood (the ``obs`` term); ``length`` (L, kpc) enters
    through ``scaled_log_length``, the argument of the Chebyshev series."""
    log_field = chebyshev_series(scaled_log_length, coefficients)
    log_c, log_f = component_log_terms(value, error, plx_cl, width_cl, f_cluster, log_field, scale)
    return pt.logaddexp(log_c, log_f)


def _obs_random(
    plx_cl,
    width_cl,
    f_cluster,
    scale,
    length,
    scaled_log_length,
    error,
    coefficients,
    rng=None,
    size=None,
):
    """Draw parallaxes (mas) from the generative model, for posterior predictive checks.

    Members: N(plx_cl, width^2 + (s e)^2); field: r ~ Gamma(3, L) (the EDSD, r and L in kpc,
    L each star's own when it varies with G), x ~ N(1/r, e^2).
    """
    if size is None:
        size = np.broadcast_shapes(np.shape(error), np.shape(f_cluster))
    member = rng.random(size) < f_cluster
    distance_kpc = rng.gamma(3.0, 1.0, size) * length
    true = np.where(member, rng.normal(plx_cl, width_cl, size), 1.0 / distance_kpc)
    return rng.normal(true, np.where(member, scale * error, error))


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any] | None = None
) -> dict[str, xr.DataArray]:
    """Posterior draws of ``parallax`` (mas), ``distance`` (pc) and ``f_cluster``.

    ``parallax`` is the statistical ``parallax_cl`` plus one seeded N(0, sys^2) draw per
    posterior draw (sys = ``parallax_systematic_mas``; 0 gives the statistical error
    alone; with a fitted zero-point offset only the part of sys its prior does not hold:
    :func:`clustermix.models.systematics.parallax_draws`); ``distance`` = 1000 /
    ``parallax``.
    """
    opts = _options(options)
    parallax = parallax_draws(posterior, opts, int(opts["systematic_seed"]))
    return {
        "parallax": parallax.rename("parallax"),
        "distance": (1000.0 / parallax).rename("distance"),
        "f_cluster": posterior["f_cluster"].rename("f_cluster"),
    }


def true_values(truth: dict[str, Any], data: dict[str, np.ndarray]) -> dict[str, float]:
    """The simulator's cluster parallax (mas), distance (pc) and member fraction in ``data``."""
    if "member_source_ids" not in truth:
        raise InputDataError("truth: key 'member_source_ids' is missing")
    return {
        "parallax": float(truth["parallax"]),
        "distance": float(truth["distance"]),
        "f_cluster": true_member_fraction(truth["member_source_ids"], data["source_id"]),
    }


# ---------------------------------------------------------------------------- predictive check


#: The posterior predictive check's replicates, from ``obs``'s random function
#: (:func:`~clustermix.models.replication.replicator`).
replicate = replication.replicator(build_model, QUANTITIES)

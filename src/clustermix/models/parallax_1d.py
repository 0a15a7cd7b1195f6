"""Model 2: parallax alone, a Gaussian cluster on a field with a physical distance prior.

Star i has an observed parallax x_i (mas, zero point already applied by the cleaning
step) with uncertainty e_i (mas). Its likelihood is

    p(x_i | theta) = f N(x_i | plx_cl, s^2 + e_i^2) + (1 - f) F(x_i | e_i, L),

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
- field length scale L: ``ln_length_scale_field`` = ln(L / kpc) ~ Uniform(ln 0.25, ln 8),
  i.e. log-uniform between 0.25 and 8 kpc (the range over which the quadrature is
  accurate), the length scale at the stars' median G. With ``length_scale_varies_with_g``
  (the default) star i's is ln L_i = ln L + b (G_i - median G), clipped to that range, with
  ``ln_length_scale_slope`` b ~ N(0, 0.5^2) per mag: fainter field stars are farther away,
  and a single L for all magnitudes leaves the faint ones' small parallaxes to the cluster
  (on the default simulated field f came out 2 sd high, 3 sd in some seeds);
- cluster fraction ``f_cluster`` = f ~ Uniform(m / N, 1): a cluster holds at least
  m = ``cluster_min_members`` (20) of the N stars.

Stars: by default those of the cluster region (``stars = "cluster_region"``), where
members are a large fraction. Over the whole cone (``"all"``) the one-parameter EDSD
cannot follow a real (or a simulated disc + halo) field, and the cluster Gaussian absorbs
field stars at the cluster's parallax: ``f_cluster`` is then overestimated, while the
cluster parallax is not affected.

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

from clustermix.errors import InputDataError
from clustermix.models.mixture import (
    MAGNITUDE_COLUMN,
    checked_columns,
    cluster_fraction_per_star,
    cluster_fraction_prior,
    histogram_peak,
    magnitudes,
    normal_logpdf,
    select_stars,
    selected_source_ids,
    start_fraction,
    true_member_fraction,
)
from clustermix.models.quadrature import (
    DEFAULT_DEGREE,
    DEFAULT_LENGTH_SCALE_RANGE_KPC,
    DEFAULT_NODES,
    build_edsd_interpolant,
    chebyshev_series,
)
from clustermix.models.systematics import PARALLAX_FLOOR_MAS, systematic_draws

log = logging.getLogger(__name__)

NAME = "parallax_1d"
DEFAULT_OPTIONS: dict[str, Any] = {
    "stars": "cluster_region",  # "all", "cluster_region" or "control_field"
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
}
COLUMNS = ("parallax", "parallax_error")
#: Bin width (mas) of the histogram whose densest bin starts the cluster parallax.
_INIT_BIN_MAS = 0.05


def _options(options: dict[str, Any] | None) -> dict[str, Any]:
    """``DEFAULT_OPTIONS`` overridden by ``options``."""
    return {**DEFAULT_OPTIONS, **(options or {})}


def prepare_data(catalog: Any, options: dict[str, Any], source: str) -> dict[str, np.ndarray]:
    """``source_id``, ``parallax`` and ``parallax_error`` (mas) of the selected stars.

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
    if opts["length_scale_varies_with_g"] and MAGNITUDE_COLUMN not in names:
        log.info(
            "%s: no '%s' column: %s fits one field length scale for every magnitude",
            source,
            MAGNITUDE_COLUMN,
            NAME,
        )
    elif opts["length_scale_varies_with_g"]:
        g_mag = magnitudes(catalog, mask, source, NAME)
        data["g_offset"] = g_mag - np.median(g_mag)
    return data


def component_log_terms(parallax, error, plx_cl, width_cl, f_cluster, log_field_likelihood):
    """Per star, log(f L_cluster) and log((1 - f) L_field).

    ``parallax``, ``error`` (n_star,) in mas; ``plx_cl``, ``width_cl`` (mas) and
    ``f_cluster`` scalars; ``log_field_likelihood`` (n_star,) = ln F(x_i | e_i, L).
    """
    log_cluster = pt.log(f_cluster) + normal_logpdf(parallax, plx_cl, width_cl**2 + error**2)
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
        "ln_length_scale_field": float(np.log(1.35)),
        "f_cluster": start_fraction(0.3, len(data["parallax"]), opts["cluster_min_members"]),
    }
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
    """The parallax mixture: Gaussian cluster, EDSD field, per-star errors.

    Tabulating the field integral takes about 3 s per 10,000 stars.
    """
    opts = _options(options)
    low, high = (float(v) for v in opts["parallax_prior_range_mas"])
    l_range = tuple(float(v) for v in opts["length_scale_range_kpc"])
    interpolant = build_edsd_interpolant(
        data["parallax"],
        data["parallax_error"],
        length_scale_range_kpc=l_range,
        degree=int(opts["chebyshev_degree"]),
        n_nodes=int(opts["quadrature_nodes"]),
    )
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
        ln_length = pm.Uniform(
            "ln_length_scale_field",
            np.log(l_range[0]),
            np.log(l_range[1]),
        )
        length = pm.Deterministic("length_scale_field_kpc", pt.exp(ln_length))
        if "g_offset" in data:
            # each star's L at its magnitude, kept inside the interpolant's range
            slope = pm.Normal(
                "ln_length_scale_slope", 0.0, float(opts["length_scale_slope_prior_sd"])
            )
            g_offset = pm.Data("g_offset", data["g_offset"], dims="star")
            length = pt.exp(
                pt.clip(ln_length + slope * g_offset, np.log(l_range[0]), np.log(l_range[1]))
            )
        scaled_log_length = interpolant.scaled_log_length(length)
        coefficients = pt.as_tensor_variable(interpolant.coefficients)
        params = (plx_cl, width_cl, f_cluster, length, scaled_log_length, error, coefficients)
        pm.CustomDist(
            "obs",
            *params,
            logp=_obs_logp,
            random=_obs_random,
            signature="(),(),(),(),(),(),(d)->()",
            observed=parallax,
            dims="star",
        )
        log_c, log_f = component_log_terms(
            parallax,
            error,
            plx_cl,
            width_cl,
            f_cluster,
            chebyshev_series(scaled_log_length, coefficients),
        )
        pm.Deterministic("p_cluster", cluster_fraction_per_star(log_c, log_f), dims="star")
    return model


def _obs_logp(value, plx_cl, width_cl, f_cluster, length, scaled_log_length, error, coefficients):
    """The per-star mixture log-likelihood (the ``obs`` term); ``length`` (L, kpc) enters
    through ``scaled_log_length``, the argument of the Chebyshev series."""
    log_field = chebyshev_series(scaled_log_length, coefficients)
    log_c, log_f = component_log_terms(value, error, plx_cl, width_cl, f_cluster, log_field)
    return pt.logaddexp(log_c, log_f)


def _obs_random(
    plx_cl,
    width_cl,
    f_cluster,
    length,
    scaled_log_length,
    error,
    coefficients,
    rng=None,
    size=None,
):
    """Draw parallaxes (mas) from the generative model, for posterior predictive checks.

    Members: N(plx_cl, width^2 + e^2); field: r ~ Gamma(3, L) (the EDSD, r and L in kpc,
    L each star's own when it varies with G), x ~ N(1/r, e^2).
    """
    if size is None:
        size = np.broadcast_shapes(np.shape(error), np.shape(f_cluster))
    member = rng.random(size) < f_cluster
    distance_kpc = rng.gamma(3.0, 1.0, size) * length
    true = np.where(member, rng.normal(plx_cl, width_cl, size), 1.0 / distance_kpc)
    return rng.normal(true, error)


def summary_quantities(
    posterior: xr.Dataset, data: dict[str, np.ndarray], options: dict[str, Any] | None = None
) -> dict[str, xr.DataArray]:
    """Posterior draws of ``parallax`` (mas), ``distance`` (pc) and ``f_cluster``.

    ``parallax`` is the statistical ``parallax_cl`` plus one seeded N(0, sys^2) draw per
    posterior draw (sys = ``parallax_systematic_mas``; 0 gives the statistical error
    alone); ``distance`` = 1000 / ``parallax``.
    """
    opts = _options(options)
    plx_stat = posterior["parallax_cl"]
    sys_sd = float(opts["parallax_systematic_mas"])
    parallax = plx_stat + systematic_draws(plx_stat, sys_sd, int(opts["systematic_seed"]))
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

"""Stars the cluster cannot claim: a large field's likelihood, compressed to one term.

For a model whose field density of a star depends on no free parameter (the field learned
on the control annulus and held fixed; no radial velocity and no colour term for that
star), star i contributes to the log likelihood

    log(f L_c,i(theta) + (1 - f) F_i) = log(1 - f) + log F_i + log(1 + r_i),

with r_i = f L_c,i / ((1 - f) F_i) = p_i / (1 - p_i), p_i its membership probability at
theta. Where p_i <= eps at every plausible theta, 0 <= log(1 + r_i) <= eps / (1 - eps): the
star's term is log(1 - f) plus a constant, to within that many nats. The M such "far" stars
together contribute M log(1 - f) (plus a constant) to within M eps / (1 - eps) nats, and
the model adds that as one term (the data's ``n_far_stars``, :func:`reduce_data`;
:func:`clustermix.models.mixture.far_star_term`) instead
of M terms: a 200,000-star field near a cluster of a few thousand members keeps only the
stars its members could be confused with.

Plausible theta (:func:`far_star_mask`): the cluster's mode (from the mode search) and the
points ``box_sd`` posterior sd either side of it along each unconstrained parameter (the
sd from the curvature at the mode, :func:`clustermix.fit.sampling.start_variances`). After
sampling, :func:`check_far_stars` evaluates the far stars' p_i at posterior draws, and a
star above ``eps_check`` stops the fit's use (a :class:`ValueError` naming the largest p).

Units: p, eps are probabilities; log terms natural logs; sd in the sampler's
unconstrained space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.fit.membership import MEMBERSHIP_VAR, per_draw
from clustermix.models.mixture import N_FAR_STARS

if TYPE_CHECKING:
    import pymc as pm
    import xarray as xr

#: A star is far when its membership probability stays below this at every plausible point.
FAR_STAR_P_MAX = 1e-6
#: Plausible points: the mode and this many posterior sd either side along each parameter.
FAR_STAR_BOX_SD = 4.0
#: After sampling, a far star whose p at a posterior draw exceeds this stops the fit.
FAR_STAR_P_CHECK = 1e-4


def membership_function(model: pm.Model, var_name: str = MEMBERSHIP_VAR) -> Any:
    """``var_name`` (each star's p) as a compiled function of the model's continuous value
    variables (unconstrained), in ``model.continuous_value_vars`` order."""
    membership = model.replace_rvs_by_values([model[var_name]])[0]
    return model.compile_fn(
        inputs=model.continuous_value_vars,
        outs=membership,
        on_unused_input="ignore",
        point_fn=False,
    )


def plausible_points(
    model: pm.Model,
    start: Mapping[str, Any],
    box_sd: float = FAR_STAR_BOX_SD,
    compile_mode: str | None = None,
) -> list[list[np.ndarray]]:
    """The mode ``start`` (constrained values by free-variable name) and the points
    ``box_sd`` sd either side of it along each unconstrained parameter (the sd from the
    curvature of the log posterior compiled with ``compile_mode``, the mode search's); each
    point as the list of value-variable arrays (``model.continuous_value_vars`` order)."""
    from pymc.blocking import DictToArrayBijection, RaveledVars

    from clustermix.fit.sampling import start_variances
    from clustermix.fit.whitening import raveled_start
    from clustermix.models.compiled import logp_dlogp

    names = [var.name for var in model.continuous_value_vars]
    centre = raveled_start(model, start)
    function = logp_dlogp(model, compile_mode)
    sd = np.sqrt(start_variances(lambda x: np.asarray(function(x)[1]), centre.data))
    raveled = [centre.data]
    for index in range(centre.data.size):
        for sign in (-1.0, 1.0):
            moved = centre.data.copy()
            moved[index] += sign * box_sd * sd[index]
            raveled.append(moved)
    points = []
    for values in raveled:
        unravelled = DictToArrayBijection.rmap(RaveledVars(values, centre.point_map_info))
        points.append([np.asarray(unravelled[name]) for name in names])
    return points


def far_star_mask(
    model: pm.Model,
    start: Mapping[str, Any],
    eligible: np.ndarray,
    p_max: float = FAR_STAR_P_MAX,
    box_sd: float = FAR_STAR_BOX_SD,
    compile_mode: str | None = None,
) -> np.ndarray:
    """Which stars are far: ``eligible`` (their field term depends on no free parameter) and
    with membership probability at most ``p_max`` at every plausible point
    (:func:`plausible_points` of ``start``, the cluster's mode; ``compile_mode``: the mode
    search's)."""
    function = membership_function(model)
    largest = np.zeros(len(eligible))
    for values in plausible_points(model, start, box_sd, compile_mode):
        p = np.asarray(function(*values), float)
        np.maximum(largest, np.where(np.isfinite(p), p, 1.0), out=largest)
    return np.asarray(eligible, bool) & (largest <= p_max)


def reduce_data(data: Mapping[str, Any], far: np.ndarray) -> dict[str, Any]:
    """The model's data without the ``far`` stars, their number added to
    :data:`N_FAR_STARS`. Per-star arrays (first axis as long as ``source_id``) are cut;
    everything else is kept as it is."""
    n = len(data["source_id"])
    far = np.asarray(far, bool)
    if far.shape != (n,):
        raise ValueError(f"far-star mask of shape {far.shape} for {n} stars")
    keep = ~far
    reduced = {
        name: value[keep]
        if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n
        else value
        for name, value in data.items()
    }
    reduced[N_FAR_STARS] = int(data.get(N_FAR_STARS, 0)) + int(far.sum())
    return reduced


def check_far_stars(
    full_model: pm.Model,
    posterior: xr.Dataset,
    far: np.ndarray,
    n_draws: int = 40,
    p_check: float = FAR_STAR_P_CHECK,
) -> float:
    """The largest membership probability of a ``far`` star at about ``n_draws`` posterior
    draws (every chain thinned evenly), under ``full_model`` (the model of every star);
    raises :class:`ValueError` when it exceeds ``p_check`` (the compression then misses a
    star the cluster claims: refit with a wider box or without the compression)."""
    step = max(1, posterior.sizes["chain"] * posterior.sizes["draw"] // n_draws)
    far = np.asarray(far, bool)
    largest = max(
        (
            float(p[far].max(initial=0.0))
            for _, _, p in per_draw(full_model, posterior.isel(draw=slice(None, None, step)))
        ),
        default=0.0,
    )
    if largest > p_check:
        raise ValueError(
            f"a star left out as far from the cluster has membership probability "
            f"{largest:.3g} > {p_check:g} at a posterior draw: refit without the compression"
        )
    return largest

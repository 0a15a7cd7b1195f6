"""The mixture machinery every model shares.

Each model writes, per star, the log-density of the data under the cluster component and
under the field (itself possibly a mixture), both already convolved with the star's
measurement uncertainties. This module turns those into the mixture log-likelihood and
into per-draw membership fractions, in log space. The functions take and return
PyTensor tensors inside a model and NumPy arrays in tests (``pytensor.tensor`` functions
accept both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from clustermix.errors import ConfigError, InputDataError
from clustermix.models.systematics import ZERO_POINT_OPTION, ZERO_POINT_VARIABLE

LOG_2PI = float(np.log(2.0 * np.pi))


def normal_logpdf(x, mu, var):
    """Log-density of N(mu, var) at x, elementwise; ``var`` is a variance (not a sigma)."""
    return -0.5 * (LOG_2PI + pt.log(var) + (x - mu) ** 2 / var)


def bivariate_normal_logpdf(dx, dy, var_x, var_y, cov_xy):
    """Log-density of a zero-mean 2D Gaussian at (dx, dy) with the given covariance entries.

    Vectorised over stars and components by broadcasting; the 2x2 inverse is written out so
    that each star can carry its own covariance matrix.
    """
    det = var_x * var_y - cov_xy**2
    maha = (var_y * dx**2 - 2.0 * cov_xy * dx * dy + var_x * dy**2) / det
    return -0.5 * (2.0 * LOG_2PI + pt.log(det) + maha)


def mixture_logp(log_weights, component_logps, axis: int = -1):
    """log sum_k w_k p_k along ``axis``: the mixture log-likelihood of each star.

    ``log_weights`` broadcasts against ``component_logps`` (e.g. shape (K,) against
    (n_star, K)).
    """
    return pt.logsumexp(log_weights + component_logps, axis=axis)


def cluster_fraction_per_star(log_cluster_term, log_field_term):
    """p(cluster | data, theta) for one posterior draw: w_c L_c / (w_c L_c + w_f L_f).

    Both inputs already include their mixture weight, in log space. Averaging this over
    posterior draws gives the membership probability of the seed tutorial.
    """
    return pt.sigmoid(log_cluster_term - log_field_term)


def convolved_gmm_logpdf_1d(x, err, means, sigmas, log_weights):
    """log sum_k w_k N(x | mu_k, sigma_k^2 + err^2): a 1D Gaussian mixture seen through errors.

    Each star's measurement error (a standard deviation, same unit as ``x``) is added in
    quadrature to every component's intrinsic width. ``x`` and ``err`` have shape
    (n_star,); ``means``, ``sigmas`` and ``log_weights`` (normalised: sum_k w_k = 1) have
    shape (K,). Returns shape (n_star,).
    """
    var = sigmas**2 + err[:, None] ** 2
    return mixture_logp(log_weights, normal_logpdf(x[:, None], means, var))


def convolved_gmm_logpdf_2d(dx, dy, var_x, var_y, cov_xy, means, sigmas, rho, log_weights):
    """A 2D Gaussian mixture with full covariances, each convolved with each star's covariance.

    Parameters
    ----------
    dx, dy
        The observed 2D values (n_star,) (e.g. pmra, pmdec in mas/yr).
    var_x, var_y, cov_xy
        Each star's measurement covariance entries (n_star,), in the square of that unit.
    means
        Component means, shape (K, 2).
    sigmas
        Component intrinsic standard deviations along the two axes, shape (K, 2).
    rho
        Component intrinsic correlation coefficients in (-1, 1), shape (K,).
    log_weights
        log w_k, shape (K,), with sum_k w_k = 1.

    Returns
    -------
    log sum_k w_k N2((dx, dy) | mean_k, Sigma_k + C_i), shape (n_star,). The component
    parameters may carry leading length-1 axes (as PyMC passes them to a ``CustomDist``
    logp): they broadcast.
    """
    comp_var_x = sigmas[..., 0] ** 2
    comp_var_y = sigmas[..., 1] ** 2
    comp_cov = rho * sigmas[..., 0] * sigmas[..., 1]
    logps = bivariate_normal_logpdf(
        dx[:, None] - means[..., 0],
        dy[:, None] - means[..., 1],
        var_x[:, None] + comp_var_x,
        var_y[:, None] + comp_var_y,
        cov_xy[:, None] + comp_cov,
    )
    return mixture_logp(log_weights, logps)


def catalog_column(catalog, name: str, source: str) -> np.ndarray:
    """Column ``name`` of ``catalog`` as a float64 array, masked entries as NaN.

    ``catalog`` is an astropy Table (or any mapping of column name to array). Raises
    :class:`~clustermix.errors.InputDataError` naming ``source`` and the column if it is
    missing.
    """
    names = getattr(catalog, "colnames", None)
    if names is None:
        names = list(getattr(catalog, "columns", catalog))
    if name not in names:
        raise InputDataError(
            f"{source}: column '{name}' is missing ({len(catalog)} rows in the catalogue)"
        )
    column = catalog[name]
    if np.ma.isMaskedArray(column) or hasattr(column, "filled"):
        return np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)
    return np.asarray(column, dtype=np.float64)


#: The catalogue mask column behind each value of a model's ``stars`` option.
STAR_SELECTIONS: dict[str, str | None] = {
    "all": None,
    "cluster_region": "in_cluster_region",
    "control_field": "in_control_field",
}


def select_stars(catalog, stars: str, source: str) -> np.ndarray:
    """Boolean row mask of the stars a model uses: ``stars`` is a key of :data:`STAR_SELECTIONS`.

    Raises :class:`~clustermix.errors.InputDataError` if the selection is empty or its mask
    column is missing, naming ``source``, the column and the row count.
    """
    if stars not in STAR_SELECTIONS:
        raise InputDataError(
            f"{source}: unknown star selection stars='{stars}' "
            f"(expected one of {sorted(STAR_SELECTIONS)})"
        )
    column = STAR_SELECTIONS[stars]
    if column is None:
        mask = np.ones(len(catalog), dtype=bool)
    else:
        values = catalog_column(catalog, column, source)
        mask = np.nan_to_num(values, nan=0.0).astype(bool)
    if not mask.any():
        what = f"column '{column}' is true for none of" if column else "there are no rows among"
        raise InputDataError(
            f"{source}: empty selection stars='{stars}': {what} the {len(catalog)} rows"
        )
    return mask


def checked_columns(
    catalog,
    names: tuple[str, ...],
    positive: tuple[str, ...],
    mask: np.ndarray,
    source: str,
    min_stars: int,
) -> dict[str, np.ndarray]:
    """The selected rows of the columns ``names``, after the checks every model needs.

    Each column must exist and be finite on every selected row; the columns in
    ``positive`` (uncertainties) must be > 0; at least ``min_stars`` rows must be
    selected. Failures raise :class:`~clustermix.errors.InputDataError` naming ``source``,
    the column and the row counts.
    """
    n_selected = int(mask.sum())
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        values = catalog_column(catalog, name, source)[mask]
        n_bad = int((~np.isfinite(values)).sum())
        if n_bad:
            raise InputDataError(
                f"{source}: column '{name}' is NaN or infinite on {n_bad} of the "
                f"{n_selected} selected rows"
            )
        if name in positive and (n_bad := int((values <= 0).sum())):
            raise InputDataError(
                f"{source}: column '{name}' (an uncertainty) is <= 0 on {n_bad} of the "
                f"{n_selected} selected rows"
            )
        arrays[name] = values
    if n_selected < min_stars:
        raise InputDataError(
            f"{source}: only {n_selected} selected rows with finite '{names[0]}', "
            f"fewer than the {min_stars} the model needs"
        )
    return arrays


def selected_source_ids(catalog, mask: np.ndarray, source: str) -> np.ndarray:
    """The ``source_id`` (int64) of the selected rows; every one must be present and unique."""
    catalog_column(catalog, "source_id", source)  # raises if the column is missing
    column = catalog["source_id"]
    if np.ma.is_masked(column):
        raise InputDataError(f"{source}: column 'source_id' has masked values")
    ids = np.asarray(np.ma.getdata(column), dtype=np.int64)[mask]
    if np.unique(ids).size != ids.size:
        raise InputDataError(
            f"{source}: column 'source_id' has {ids.size - np.unique(ids).size} duplicate "
            f"values among the {ids.size} selected rows"
        )
    return ids


def histogram_peak(values: np.ndarray, errors: np.ndarray, bin_width: float) -> np.ndarray:
    """The densest bin of the better-measured half of the stars: a starting point for a cluster.

    ``values`` and ``errors`` have shape (n_star,) or (n_star, d) (d = 1 or 2, same unit);
    stars whose largest error is at most the median are binned on a grid of ``bin_width``
    spanning the 1st to 99th percentiles, and the centre of the fullest bin is returned,
    shape (d,). Only used for initial values: the posterior does not depend on it.
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    worst = np.asarray(errors, dtype=np.float64).reshape(len(values), -1).max(axis=1)
    good = values[worst <= np.median(worst)]
    low, high = np.percentile(good, 1, axis=0), np.percentile(good, 99, axis=0)
    n_bins = np.maximum(np.ceil((high - low) / bin_width), 1).astype(int)
    counts, edges = np.histogramdd(good, bins=list(n_bins), range=list(zip(low, high, strict=True)))
    index = np.unravel_index(np.argmax(counts), counts.shape)
    return np.array([0.5 * (e[i] + e[i + 1]) for e, i in zip(edges, index, strict=True)])


def true_member_fraction(member_source_ids, source_ids: np.ndarray) -> float:
    """Fraction of ``source_ids`` found among ``member_source_ids`` (the simulator's truth)."""
    members = np.asarray(member_source_ids, dtype=np.int64)
    return float(np.isin(np.asarray(source_ids, dtype=np.int64), members).mean())


def ordered_locations(name: str, centre: float, sd: float, gap_sd: float, n: int):
    """n increasing locations mu_1 < ... < mu_n, a label-switching-free set of mixture means.

    Parametrised as a first value and positive gaps, so that the default initial point is
    valid for every sampler (no ``initval`` needed): ``{name}_first`` ~ N(centre, sd^2),
    ``{name}_gap`` ~ HalfNormal(gap_sd) on the ``component_gap`` axis (n - 1 values), and
    the Deterministic ``name`` = first + cumulative sum of the gaps, dims ``component``.
    Call inside a model with a ``component`` coordinate of length n.
    """
    first = pm.Normal(f"{name}_first", centre, sd)
    if n == 1:
        return pm.Deterministic(name, first[None], dims="component")
    model = pm.modelcontext(None)
    if "component_gap" not in model.coords:
        model.add_coord("component_gap", np.arange(1, n))
    gaps = pm.HalfNormal(f"{name}_gap", sigma=gap_sd, dims="component_gap")
    offsets = pt.concatenate([pt.zeros(1), pt.cumsum(gaps)])
    return pm.Deterministic(name, first + offsets, dims="component")


def choose_n_components(
    module,
    catalog,
    options: dict,
    ks: tuple[int, ...] = (1, 2, 3),
    sample_kwargs: dict | None = None,
    source: str = "catalogue",
) -> dict:
    """Choose the number of field components K of ``module``'s model by PSIS-LOO.

    Fits the model once per K in ``ks`` (``pm.sample`` with ``sample_kwargs``, started from
    ``module.initial_values`` when the module has it), computes each fit's per-star
    log-likelihood and compares the fits with ``arviz.compare`` (``ic="loo"``). The rule:
    the smallest K whose elpd_loo is within two standard errors of the difference (``dse``)
    of the best one.

    Returns ``{"n_field_components": chosen K, "best": K of highest elpd_loo, "table":
    {K: {"elpd_loo", "se", "p_loo", "elpd_diff", "dse", "warning"}}}``.
    """
    import arviz as az

    fits = {}
    for k in ks:
        opts = {**module.DEFAULT_OPTIONS, **options, "n_field_components": int(k)}
        data = module.prepare_data(catalog, opts, source)
        model = module.build_model(data, opts)
        initial = getattr(module, "initial_values", None)
        kwargs = {"progressbar": False, "compute_convergence_checks": False}
        kwargs.update(sample_kwargs or {})
        idata = pm.sample(
            model=model,
            var_names=[rv.name for rv in model.free_RVs],
            initvals=initial(data, opts) if initial else None,
            **kwargs,
        )
        pm.compute_log_likelihood(idata, model=model, progressbar=False)
        fits[int(k)] = idata
    comparison = az.compare(fits, ic="loo")
    table = {
        int(k): {
            column: (bool(row[column]) if column == "warning" else float(row[column]))
            for column in ("elpd_loo", "se", "p_loo", "elpd_diff", "dse", "warning")
        }
        for k, row in comparison.iterrows()
    }
    best = int(comparison.index[0])
    chosen = min(k for k, row in table.items() if row["elpd_diff"] <= 2.0 * row["dse"])
    return {"n_field_components": chosen, "best": best, "table": table}


def gaussian_mixture_em(
    values: np.ndarray,
    means: np.ndarray,
    covariances: np.ndarray,
    weights: np.ndarray,
    n_iter: int = 200,
    floor: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Maximum-likelihood Gaussian mixture by expectation-maximisation, from a given start.

    ``values`` (n, d); ``means`` (K, d), ``covariances`` (K, d, d) and ``weights`` (K,) start
    the iteration. Measurement errors are ignored and ``floor`` (in the squared unit of
    ``values``) is added to each covariance's diagonal so that no component collapses onto
    a star. Used only to find starting values for the samplers: it is deterministic, and
    its answer is a point estimate, not a posterior. Returns (weights, means, covariances).
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    n_dim, n_comp = values.shape[1], len(weights)
    means = np.array(means, dtype=np.float64).reshape(n_comp, n_dim)
    covariances = np.array(covariances, dtype=np.float64).reshape(n_comp, n_dim, n_dim)
    weights = np.array(weights, dtype=np.float64)
    eye = np.eye(n_dim)
    for _ in range(n_iter):
        diff = values[:, None, :] - means[None]  # (n, K, d)
        inverse = np.linalg.inv(covariances)
        maha = np.einsum("nki,kij,nkj->nk", diff, inverse, diff)
        log_det = np.linalg.slogdet(covariances)[1]
        log_resp = np.log(weights) - 0.5 * (maha + log_det)
        log_resp -= log_resp.max(axis=1, keepdims=True)
        resp = np.exp(log_resp)
        resp /= resp.sum(axis=1, keepdims=True)
        totals = resp.sum(axis=0) + 1e-12
        weights = totals / totals.sum()
        means = resp.T @ values / totals[:, None]
        diff = values[:, None, :] - means[None]
        covariances = np.einsum("nk,nki,nkj->kij", resp, diff, diff) / totals[:, None, None]
        covariances += floor * eye
    return weights, means, covariances


def cluster_field_start(
    values: np.ndarray, errors: np.ndarray, n_field: int, cluster_guess=None
) -> dict[str, np.ndarray]:
    """A cluster + K-component field point estimate, to start the samplers near the main mode.

    ``values`` and ``errors`` (n, d) (same unit, e.g. mas/yr). The cluster starts at
    ``cluster_guess`` (d,) or at :func:`histogram_peak` with a width of 0.3 units, the field
    components at the (k - 1/2) / K quantiles of the first axis (the medians of the
    others) with the data's half 16-84% range; :func:`gaussian_mixture_em` then refines all
    K + 1. The narrowest component (smallest determinant) is called the cluster, the others
    the field, sorted by their mean on the first axis.

    Returns ``cluster_mean`` (d,), ``f_cluster``, ``field_weights`` (K,, sum 1),
    ``field_means`` (K, d) and ``field_covariances`` (K, d, d).
    """
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    errors = np.asarray(errors, dtype=np.float64).reshape(values.shape)
    n_dim = values.shape[1]
    guess = histogram_peak(values, errors, 0.25) if cluster_guess is None else cluster_guess
    levels = (np.arange(n_field) + 0.5) / n_field
    field_means = np.tile(np.median(values, axis=0), (n_field, 1))
    field_means[:, 0] = np.quantile(values[:, 0], levels)
    spread = 0.5 * (np.quantile(values, 0.84, axis=0) - np.quantile(values, 0.16, axis=0))
    field_cov = np.diag(np.maximum(spread, 0.1) ** 2)
    weights, means, covariances = gaussian_mixture_em(
        values,
        means=np.vstack([np.reshape(guess, (1, n_dim)), field_means]),
        covariances=np.stack([0.09 * np.eye(n_dim)] + [field_cov] * n_field),
        weights=np.array([0.2] + [0.8 / n_field] * n_field),
    )
    cluster = int(np.argmin(np.linalg.det(covariances)))
    field = [k for k in np.argsort(means[:, 0]) if k != cluster]
    return {
        "cluster_mean": means[cluster],
        "f_cluster": float(weights[cluster]),
        "field_weights": weights[field] / weights[field].sum(),
        "field_means": means[field],
        "field_covariances": covariances[field],
    }


def component_locations(name: str, centre: float, sd: float, n: int, ordered: bool):
    """n per-component values with N(centre, sd^2) priors, dims ``component``.

    With ``ordered``, they are the increasing :func:`ordered_locations` (first ~
    N(centre, sd^2), gaps ~ HalfNormal(sd)) that break label switching; otherwise one free
    ``pm.Normal`` vector called ``name``. Call inside a model with a ``component`` coordinate.
    """
    if ordered:
        return ordered_locations(name, centre, sd, sd, n)
    return pm.Normal(name, centre, sd, dims="component")


def component_locations_start(
    name: str, values: np.ndarray, ordered: bool, min_gap: float
) -> dict[str, np.ndarray]:
    """Starting values for :func:`component_locations` from sorted ``values`` (n,).

    Keyed by free-variable name: ``{name}_first`` and ``{name}_gap`` (at least ``min_gap``)
    when ``ordered``, else ``name``.
    """
    values = np.asarray(values, dtype=np.float64)
    if not ordered:
        return {name: values}
    start = {f"{name}_first": np.float64(values[0])}
    if values.size > 1:
        start[f"{name}_gap"] = np.maximum(np.diff(values), min_gap)
    return start


def check_field_options(options: dict, source: str, orderings: tuple[str, ...]) -> int:
    """Check ``n_field_components`` (a positive integer, returned) and ``order_field_by``.

    Raises :class:`~clustermix.errors.InputDataError` naming ``source`` and the option.
    """
    n_components = require_field_components(options["n_field_components"], source)
    if n_components < 1:
        raise InputDataError(
            f"{source}: n_field_components must be a positive integer, got {n_components!r}"
        )
    if options["order_field_by"] not in orderings:
        raise InputDataError(
            f"{source}: order_field_by must be one of {orderings}, "
            f"got {options['order_field_by']!r}"
        )
    return int(n_components)


def require_field_components(value: Any, source: str) -> int:
    """``n_field_components`` as an int; ``"auto"`` must have been resolved already (by
    :func:`clustermix.models.field_choice.resolve_field_components`, as every fit does).

    Raises :class:`~clustermix.errors.InputDataError` naming ``source`` and the option.
    """
    if value == "auto":
        raise InputDataError(
            f"{source}: n_field_components 'auto' is chosen from the catalogue's control field "
            "when a fit starts (clustermix.models.field_choice.resolve_field_components); "
            "resolve it before preparing the data, or give an integer"
        )
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | np.integer)
        or int(value) != value
    ):
        raise InputDataError(
            f"{source}: n_field_components must be a positive integer or 'auto', got {value!r}"
        )
    return int(value)


def cluster_fraction_prior(n_stars: int, min_members: float):
    """The cluster fraction ``f_cluster`` ~ Uniform(m / N, 1): a cluster holds at least
    m = ``min_members`` of the N = ``n_stars`` stars (capped at half of them), so no "cluster"
    of a handful of field stars with nearly equal motions is allowed. Call inside a model."""
    return pm.Uniform("f_cluster", lower=min_fraction(n_stars, min_members), upper=1.0)


def parallax_zero_point_offset(opts: dict[str, Any], model: str) -> Any:
    """The parallax zero-point offset d (mas) added to the members' true parallax: the free
    variable ``parallax_zero_point_offset`` ~ N(0, s^2) with s =
    ``zero_point_offset_prior_sd_mas`` > 0, or the constant 0 when s = 0 (the default).
    What the data can and cannot identify, and how the summaries count it, is in
    :mod:`clustermix.models.systematics`. ``model`` names the options' owner in errors.
    Call inside a model."""
    sd = float(opts[ZERO_POINT_OPTION])
    if not (np.isfinite(sd) and sd >= 0.0):
        raise ConfigError(f"models.{model}.{ZERO_POINT_OPTION} must be >= 0 (mas), got {sd}")
    if sd == 0.0:
        return pt.constant(0.0)
    return pm.Normal(ZERO_POINT_VARIABLE, 0.0, sd)


#: The data key holding the number of stars compressed into one term as too far from the
#: cluster to matter (:mod:`clustermix.fit.far_stars`); absent: none.
N_FAR_STARS = "n_far_stars"


def n_stars_described(data: Mapping[str, Any]) -> int:
    """The number of stars a model's ``data`` describes: those kept one by one and the far
    ones compressed into one term (:data:`N_FAR_STARS`)."""
    return len(data["source_id"]) + int(data.get(N_FAR_STARS, 0))


def far_star_term(data: Mapping[str, Any], f_cluster: Any) -> None:
    """The far stars' joint log likelihood, M log(1 - f) up to a constant (M =
    ``data[N_FAR_STARS]``; :mod:`clustermix.fit.far_stars` says when that is exact to a
    bound), as the Potential ``far_stars``; nothing without far stars. Call inside a model."""
    n_far = int(data.get(N_FAR_STARS, 0))
    if n_far:
        pm.Potential("far_stars", n_far * pt.log1p(-f_cluster))


def min_fraction(n_stars: int, min_members: float) -> float:
    """The lower bound of :func:`cluster_fraction_prior`: min(m / N, 1/2)."""
    return min(float(min_members) / max(int(n_stars), 1), 0.5)


def start_fraction(value: float, n_stars: int, min_members: float) -> float:
    """A starting cluster fraction inside the prior's support, away from its edges."""
    low = min_fraction(n_stars, min_members)
    return float(np.clip(value, 1.5 * low + 1e-3, 0.95))


#: The magnitude (mag) by which a field learned on the control field is binned.
MAGNITUDE_COLUMN = "phot_g_mean_mag"


def magnitudes(catalog, mask: np.ndarray, source: str, model: str) -> np.ndarray:
    """G (mag) of the rows in ``mask``; every one must be finite (``model`` names who asks)."""
    g_mag = catalog_column(catalog, MAGNITUDE_COLUMN, source)[mask]
    if n_bad := int((~np.isfinite(g_mag)).sum()):
        raise InputDataError(
            f"{source}: column '{MAGNITUDE_COLUMN}' is NaN or infinite on {n_bad} of the "
            f"{mask.sum()} rows (models.{model} follows the field's change with G)"
        )
    return g_mag


def require_control_field(catalog, source: str, what: str, fallback: str) -> None:
    """Raise :class:`~clustermix.errors.InputDataError` unless the catalogue has the masks'
    ``in_control_field`` column; ``what`` names the option that needs it and ``fallback``
    the ``field_model`` that does without."""
    names = getattr(catalog, "colnames", None) or list(catalog)
    if "in_control_field" not in names:
        raise InputDataError(
            f"{source}: {what} learns the field from the control annulus, but the catalogue "
            "has no 'in_control_field' column (the masks); join the masks or set "
            f"field_model: {fallback}"
        )


def control_field_model(
    catalog,
    mask: np.ndarray,
    columns: tuple[str, ...],
    positive: tuple[str, ...],
    observables,
    options: dict,
    source: str,
    model: str,
) -> dict[str, np.ndarray]:
    """Each selected star's field mixture, learned on the control field's stars of its G bin.

    The control field's stars (``in_control_field``) are checked like the model's own
    (``columns``, ``positive``); ``observables(arrays)`` gives their values (n, d) and
    covariances (n, d, d); :func:`clustermix.models.field_choice.control_field_mixture` fits
    K = ``options["n_field_components"]`` components in each of
    ``options["field_magnitude_bins"]`` G bins. Returns, for the rows of ``mask``,
    ``field_weights`` (n, K), ``field_means`` (n, K, d) and ``field_covariances``
    (n, K, d, d) (intrinsic, in the observables' units). Raises
    :class:`~clustermix.errors.InputDataError` if the catalogue has no control field.
    """
    from clustermix.models.field_choice import control_field_mixture

    require_control_field(catalog, source, f"models.{model}.field_model 'control_field'", "joint")
    k = require_field_components(options["n_field_components"], f"models.{model}")
    control = select_stars(catalog, "control_field", source)
    stars = checked_columns(
        catalog,
        columns,
        positive=positive,
        mask=control,
        source=f"{source} (control field)",
        min_stars=10 * (k + 1),
    )
    mixture = control_field_mixture(
        *observables(stars),
        magnitudes(catalog, control, source, model),
        k,
        int(options["field_magnitude_bins"]),
    )
    index = np.searchsorted(mixture["g_edges"], magnitudes(catalog, mask, source, model))
    return {
        "field_weights": mixture["weights"][index],
        "field_means": mixture["means"][index],
        "field_covariances": mixture["covariances"][index],
    }

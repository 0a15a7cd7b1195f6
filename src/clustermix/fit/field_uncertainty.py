"""The control field's finite-sample uncertainty, propagated into memberships and member counts.

A model with ``field_model: control_field`` (pm_2d, phase_space, pmra_1d) learns the
field's intrinsic density before the fit from the control annulus's stars and holds it
fixed (``pm.Data`` arrays named ``field_*``); the sampler explores only the cluster's
parameters theta. The posterior p(theta | data, F_0) therefore ignores that the field F_0
was estimated from a finite number of control stars, and the realised number of members
(:func:`clustermix.fit.membership.member_count_draws`) comes out too narrow.

Method (no change to the sampled model; a bootstrap of the field estimator and importance
sampling of the posterior draws already made):

1. Bootstrap fields. The control annulus's stars are resampled with replacement B times
   (seeded), and the field is learned again on each resample exactly as for the fit: the
   model's own ``prepare_data`` with the fit's options (the same K, the same number of G
   bins, their edges at the resample's quantiles), which calls
   :func:`clustermix.models.mixture.control_field_model`. Each resample gives every fitted
   star its field arrays F_b (:func:`bootstrap_fields`). The spread of F_b about F_0
   approximates the field estimator's sampling distribution.
2. Reweighting. The posterior under field F_b is p(theta | data, F_0) times
   L(theta; F_b) / L(theta; F_0), so posterior draw theta_s gets the importance log weight
   log p(u_s | data, F_b) - log p(u_s | data, F_0) (u_s: theta_s in the sampler's
   unconstrained space; the model's whole log density, the priors and Jacobians
   cancelling; natural log), Pareto-smoothed by ArviZ's ``psislw``; its shape k-hat is
   reported per field (k-hat > 0.7: the weights of that field are unreliable). With
   ``recentre``, the draws are first translated by the shift d_b of the posterior's mode
   (u_s -> u_s + d_b, two L-BFGS runs per field), so that the weights only correct the
   change of the posterior's shape, not its displacement: for every field (``True``) or
   only for the fields whose plain k-hat exceeds 0.7 (``"auto"``, the default).
3. Memberships and counts at theta_s (or u_s + d_b) under F_b: each star's p_is^b (the model's
   ``p_cluster``) and the count c_s^b = #{i: u_is < p_is^b}, with the same uniforms
   u_is for every field (common random numbers, drawn as ``member_count_draws`` draws
   them, so that field 0 reproduces its counts exactly).
4. Pooling. The field-marginalised posterior is approximated by the equal mixture over
   b = 1 ... B of the reweighted posteriors: the member count's draws are the c_s^b with
   weights w_s^b / B, the membership probability is (1 / B) sum_b sum_s w_s^b p_is^b.

Cost: B runs of the model's data preparation (the field's EM fits) and B + 1 passes of one
compiled function over the posterior draws. Units: counts are numbers of stars,
probabilities are dimensionless, log weights natural logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.fit.membership import MEMBERSHIP_VAR
from clustermix.models.mixture import select_stars

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm
    import xarray as xr

#: The model's data arrays that hold the field learned on the control annulus.
FIELD_PREFIX = "field_"
#: Above this Pareto k-hat importance weights are unreliable (Vehtari et al. 2024).
KHAT_LIMIT = 0.7


def field_arrays(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The per-star field arrays (names starting with ``field_``) of a model's data."""
    n = len(data["source_id"])
    return {
        name: np.asarray(value)
        for name, value in data.items()
        if name.startswith(FIELD_PREFIX) and np.ndim(value) >= 1 and len(value) == n
    }


def bootstrap_catalog(catalog: Any, rng: np.random.Generator, source: str = "catalogue") -> Any:
    """``catalog`` (an astropy Table with ``in_control_field``) whose control annulus is a
    bootstrap resample of its own.

    Every original row is kept, with ``in_control_field`` false; the resample (as many
    control stars as there are, drawn with replacement) is appended as new rows, flagged
    ``in_control_field`` and given new, unique ``source_id`` values (above the largest).
    A model of every star (``stars: all``) therefore also selects the appended rows;
    :func:`bootstrap_fields` keeps only the original stars' arrays.
    """
    control = np.flatnonzero(select_stars(catalog, "control_field", source))
    picked = control[rng.integers(0, control.size, control.size)]
    n = len(catalog)
    resampled = catalog[np.concatenate([np.arange(n), picked])]
    ids = np.asarray(np.ma.getdata(resampled["source_id"]), np.int64).copy()
    ids[n:] = ids[:n].max() + 1 + np.arange(picked.size)
    resampled["source_id"] = ids
    resampled["in_control_field"] = np.arange(n + picked.size) >= n
    return resampled


def bootstrap_fields(
    module: Any,
    options: Mapping[str, Any],
    catalog: Any,
    data: Mapping[str, np.ndarray],
    n_boot: int,
    seed: int,
    source: str = "catalogue",
) -> list[dict[str, np.ndarray]]:
    """``n_boot`` bootstrap fields: each fitted star's field arrays, learned again on a
    resample of the control annulus (:func:`bootstrap_catalog`) by ``module.prepare_data``
    with the fit's ``options`` (an integer K: the same K as the fit).

    ``data``: the fit's data (its ``source_id`` orders the returned arrays). Returns one
    dict per bootstrap, shaped like :func:`field_arrays` of ``data``. Seeded by ``seed``.
    """
    rng = np.random.default_rng([int(seed), 0xB007])
    ids = np.asarray(data["source_id"], np.int64)
    fields = []
    for _ in range(int(n_boot)):
        data_b = module.prepare_data(bootstrap_catalog(catalog, rng, source), dict(options), source)
        ids_b = np.asarray(data_b["source_id"], np.int64)
        order = np.argsort(ids_b)
        rows = order[np.searchsorted(ids_b, ids, sorter=order)]
        if not np.array_equal(ids_b[rows], ids):
            raise ValueError("a bootstrap field lacks some of the fitted stars")
        fields.append({name: value[rows] for name, value in field_arrays(data_b).items()})
    return fields


class DrawEvaluator:
    """The model's log density and memberships at posterior draws, for any field.

    Works on a clone of ``model`` (its data copied: the fit's model is not changed), in
    the sampler's unconstrained space. :meth:`unconstrained` maps the posterior's stored
    draws there (S = chains x draws, chain-major order, one array per free variable);
    :meth:`set_field` swaps the ``field_*`` data arrays; :meth:`evaluate` returns, per
    draw, the log posterior density (natural log, Jacobian of the transforms included:
    a density of the unconstrained values; the priors cancel in the weights) and each
    star's ``var_name``, optionally at the draws shifted by a constant vector;
    :meth:`mode` the posterior's mode under the current field
    (:class:`~clustermix.models.modes.PosteriorOptimiser`), unconstrained.
    """

    def __init__(self, model: pm.Model, var_name: str = MEMBERSHIP_VAR) -> None:
        from pymc.model.fgraph import clone_model

        self.model = clone_model(model)
        free = list(self.model.free_RVs)
        self.names = [rv.name for rv in free]
        forward = []
        for rv in free:
            transform = self.model.rvs_to_transforms.get(rv)
            forward.append(rv if transform is None else transform.forward(rv, *rv.owner.inputs))
        self._forward = self.model.compile_fn(
            inputs=free, outs=forward, on_unused_input="ignore", point_fn=False
        )
        membership = self.model.replace_rvs_by_values([self.model[var_name]])[0]
        self._function = self.model.compile_fn(
            inputs=self.model.value_vars,
            outs=[self.model.logp(), membership],
            on_unused_input="ignore",
            point_fn=False,
        )
        self._optimiser: Any = None

    def set_field(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Replace the model's field arrays (same names and shapes as the fit's)."""
        import pymc as pm

        pm.set_data(dict(arrays), model=self.model)

    def unconstrained(self, posterior: az.InferenceData | xr.Dataset) -> list[np.ndarray]:
        """The posterior draws in the sampler's space: one (S, ...) array per free variable."""
        dataset = getattr(posterior, "posterior", posterior)
        values = []
        for name in self.names:
            array = np.asarray(dataset[name].transpose("chain", "draw", ...).values, float)
            values.append(array.reshape(-1, *array.shape[2:]))
        rows = [self._forward(*(value[s] for value in values)) for s in range(len(values[0]))]
        return [np.stack([np.asarray(row[i], float) for row in rows]) for i in range(len(values))]

    def point(self, values: Mapping[str, Any]) -> list[np.ndarray]:
        """One point given by free-variable name (constrained), unconstrained."""
        return [np.asarray(v, float) for v in self._forward(*(values[n] for n in self.names))]

    def mode(self, start: Mapping[str, Any]) -> list[np.ndarray]:
        """The posterior's mode under the current field, from ``start`` (constrained values
        by free-variable name), unconstrained."""
        from clustermix.models.modes import PosteriorOptimiser

        if self._optimiser is None:
            self._optimiser = PosteriorOptimiser(self.model)
        return self.point(self._optimiser.maximise(start)[0])

    def evaluate(
        self, draws: Sequence[np.ndarray], shift: Sequence[np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(log density (S,), memberships (S, n)) at the unconstrained ``draws`` (as
        :meth:`unconstrained` gives them), each moved by ``shift`` (one array per free
        variable) when given."""
        if shift is not None:
            draws = [value + delta for value, delta in zip(draws, shift, strict=True)]
        n_draws = len(draws[0])
        log_density = np.empty(n_draws)
        rows = []
        for s in range(n_draws):
            logp, p = self._function(*(value[s] for value in draws))
            log_density[s] = float(logp)
            rows.append(np.asarray(p, float))
        return log_density, np.stack(rows)


@dataclass
class FieldUncertainty:
    """The member count and memberships with the control field's uncertainty.

    Shapes: S posterior draws, B bootstrap fields, n stars. ``counts`` (B, S): member
    count at draw s under field b; ``log_weights`` (B, S): PSIS-smoothed log weights,
    normalised within each b; ``khat`` (B,): Pareto k-hat per field (-inf: all weights
    equal, no tail); ``ess`` (B,): 1 / sum w^2 per field; ``sum_p`` (B, S): sum_i p_is^b
    (stars); ``fixed_counts``, ``fixed_sum_p`` (S,): the same under the fit's own field;
    ``membership``, ``fixed_membership`` (n,): pooled and fixed-field probabilities;
    ``recentred`` (B,): whether field b's draws were moved with the posterior's mode.
    """

    counts: np.ndarray
    log_weights: np.ndarray
    khat: np.ndarray
    ess: np.ndarray
    sum_p: np.ndarray
    fixed_counts: np.ndarray
    fixed_sum_p: np.ndarray
    membership: np.ndarray
    fixed_membership: np.ndarray
    recentred: np.ndarray | None = None

    def count_draws(self, seed: int, size: int | None = None) -> np.ndarray:
        """Draws of the pooled member count: ``size`` (default B x S) resampled from the
        ``counts`` with weights w_s^b / B (seeded)."""
        weights = np.exp(self.log_weights).ravel() / len(self.counts)
        rng = np.random.default_rng([int(seed), 0x5A3])
        n = self.counts.size if size is None else int(size)
        return self.counts.ravel()[rng.choice(self.counts.size, size=n, p=weights / weights.sum())]

    def count_moments(self) -> tuple[float, float]:
        """Pooled member count's mean and sd (stars), from the weights (no resampling)."""
        weights = np.exp(self.log_weights) / len(self.counts)
        mean = float(np.sum(weights * self.counts))
        return mean, float(np.sqrt(np.sum(weights * (self.counts - mean) ** 2)))

    def diagnostics(self) -> dict[str, float | int]:
        """The numbers that say how much the field matters and whether the weights hold:
        count mean and sd with the fixed field and pooled (stars); the sd across fields of
        each field's reweighted mean count (stars); the sd across fields of sum_i p_i at
        fixed theta (median over draws, stars; at f's maximum sum_i p_i = N f whatever the
        field, so this one misses the field's effect through f); k-hat median and max,
        fields with k-hat > 0.7; smallest ESS of a field's weights."""
        pooled_mean, pooled_sd = self.count_moments()
        finite = self.khat[np.isfinite(self.khat)]
        per_field = np.sum(np.exp(self.log_weights) * self.counts, axis=1)
        return {
            "n_fields": len(self.counts),
            "n_draws": self.counts.shape[1],
            "count_mean_fixed": float(np.mean(self.fixed_counts)),
            "count_mean_pooled": pooled_mean,
            "count_sd_fixed": float(np.std(self.fixed_counts)),
            "count_sd_pooled": pooled_sd,
            "count_mean_sd_across_fields": float(np.std(per_field)),
            "sum_p_sd_across_fields": float(np.median(np.std(self.sum_p, axis=0))),
            "khat_median": float(np.median(self.khat)),
            "khat_max": float(np.max(finite)) if finite.size else float("-inf"),
            "fields_khat_above_limit": int(np.sum(self.khat > KHAT_LIMIT)),
            "ess_min": float(np.min(self.ess)),
            "fields_recentred": 0 if self.recentred is None else int(np.sum(self.recentred)),
        }


def importance_log_weights(log_ratio: np.ndarray) -> tuple[np.ndarray, float]:
    """PSIS-smoothed, normalised log weights (S,) and k-hat from raw log ratios (S,).

    Equal ratios (the field unchanged) give equal weights and k-hat = -inf (no tail).
    """
    import arviz as az

    log_ratio = np.asarray(log_ratio, float)
    if np.ptp(log_ratio) == 0.0:
        return np.full(log_ratio.shape, -np.log(log_ratio.size)), float("-inf")
    smoothed, khat = az.psislw(log_ratio.copy())
    return np.asarray(smoothed, float), float(khat)


def combine_fields(
    fixed: tuple[np.ndarray, np.ndarray],
    bootstrap: Iterable[tuple[np.ndarray, np.ndarray]],
    seed: int,
) -> FieldUncertainty:
    """Pool the posterior draws over bootstrap fields (steps 2-4 of the module's method).

    ``fixed``: (log density (S,), memberships (S, n)) at the posterior draws under the
    fit's own field; ``bootstrap``: the same under each bootstrap field. The uniforms of
    the Bernoulli draws come from ``seed`` in the order of
    :func:`clustermix.fit.membership.member_count_draws` (draw by draw), so the fixed
    field's counts equal that function's with the same seed.
    """
    log_density_0, p_0 = fixed
    uniforms = np.random.default_rng(seed).random(p_0.shape)
    fixed_counts = np.count_nonzero(uniforms < p_0, axis=1)
    counts, log_weights, khats, sum_p = [], [], [], []
    membership = np.zeros(p_0.shape[1])
    for log_density, p in bootstrap:
        lw, khat = importance_log_weights(log_density - log_density_0)
        weights = np.exp(lw)
        counts.append(np.count_nonzero(uniforms < p, axis=1))
        log_weights.append(lw)
        khats.append(khat)
        sum_p.append(p.sum(axis=1))
        membership += weights @ p
    n_fields = len(counts)
    if n_fields == 0:
        raise ValueError("no bootstrap field")
    weights = np.exp(np.asarray(log_weights))
    return FieldUncertainty(
        counts=np.asarray(counts, np.int64),
        log_weights=np.asarray(log_weights),
        khat=np.asarray(khats),
        ess=1.0 / np.sum(weights**2, axis=1),
        sum_p=np.asarray(sum_p),
        fixed_counts=fixed_counts,
        fixed_sum_p=p_0.sum(axis=1),
        membership=membership / n_fields,
        fixed_membership=p_0.mean(axis=0),
    )


def field_uncertainty(
    module: Any,
    options: Mapping[str, Any],
    catalog: Any,
    data: Mapping[str, np.ndarray],
    model: pm.Model,
    posterior: az.InferenceData | xr.Dataset,
    *,
    n_boot: int,
    seed: int,
    source: str = "catalogue",
    fields: Sequence[Mapping[str, np.ndarray]] | None = None,
    recentre: bool | str = "auto",
) -> FieldUncertainty:
    """The fit's member count and memberships with the control field's uncertainty.

    ``module``, ``options`` (with an integer K), ``catalog`` (with its masks), ``data``,
    ``model`` and ``posterior`` are those of the fit (e.g. a
    :class:`clustermix.fit.run.CatalogFit`); ``n_boot`` bootstrap fields
    (:func:`bootstrap_fields`, seeded by ``seed``, which also seeds the Bernoulli draws as
    :func:`~clustermix.fit.membership.member_count_draws` does), or the given ``fields``.

    ``recentre``: for a field b the draws are moved, in the sampler's unconstrained space,
    by the shift of the posterior's mode from the fit's field to field b (L-BFGS, started
    at the posterior mean), so that the importance weights only correct the change of the
    posterior's shape: the proposal for field b is then the fit's posterior translated,
    whose density at u_s + d_b is that of u_s (a translation has Jacobian 1). ``True``:
    for every field; ``"auto"``: only where the plain weights' k-hat exceeds 0.7 (the
    weights of a field that moves the posterior by a few of its sds); ``False``: never.
    """
    if fields is None:
        fields = bootstrap_fields(module, options, catalog, data, n_boot, seed, source)
    evaluator = DrawEvaluator(model)
    evaluator.set_field(field_arrays(data))
    draws = evaluator.unconstrained(posterior)
    fixed = evaluator.evaluate(draws)
    dataset = getattr(posterior, "posterior", posterior)
    start = {name: dataset[name].mean(("chain", "draw")).values for name in evaluator.names}
    mode_0: list[np.ndarray] = []
    recentred: list[bool] = []

    def per_field() -> Iterable[tuple[np.ndarray, np.ndarray]]:
        for field in fields:
            if recentre is not True:  # False or "auto": the plain weights first
                evaluator.set_field(field)
                plain = evaluator.evaluate(draws)
                if (
                    recentre is False
                    or importance_log_weights(plain[0] - fixed[0])[1] <= KHAT_LIMIT
                ):
                    recentred.append(False)
                    yield plain
                    continue
            if not mode_0:
                evaluator.set_field(field_arrays(data))
                mode_0.extend(evaluator.mode(start))
            evaluator.set_field(field)
            shift = [b - a for a, b in zip(mode_0, evaluator.mode(start), strict=True)]
            recentred.append(True)
            yield evaluator.evaluate(draws, shift)

    result = combine_fields(fixed, per_field(), seed)
    result.recentred = np.asarray(recentred, bool)
    return result


def field_uncertainty_of_fit(
    module: Any, fit: Any, catalog: Any, **keywords: Any
) -> FieldUncertainty:
    """:func:`field_uncertainty` of a fit (a :class:`clustermix.fit.run.CatalogFit`: its
    options, data, model and trace) of ``module`` to ``catalog``; ``keywords`` are those of
    :func:`field_uncertainty` after ``posterior``."""
    return field_uncertainty(
        module, fit.options, catalog, fit.data, fit.model, fit.idata, **keywords
    )

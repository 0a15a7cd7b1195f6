"""Sampling a model with NUTS, and reading and writing its trace.

:func:`sample` runs one of three NUTS implementations on a built ``pymc.Model`` and returns
an ArviZ ``InferenceData`` with the posterior of the free parameters only (the per-star
``p_cluster`` Deterministic is recomputed later by :mod:`clustermix.fit.membership`), the
sampler statistics (warm-up included), the observed and constant data and, on request,
the pointwise log-likelihood in float32. Sampler, seed, settings, wall time and the number
of gradient evaluations go into the trace's attributes (``idata.attrs``), which
:func:`save_trace` writes into the NetCDF file and :func:`load_trace` reads back. While it
samples with nutpie or PyMC, a fit logs a progress line every ``progress_interval`` seconds
(:mod:`clustermix.fit.progress`); the lines do not change the draws.

With the same model, data, settings and seed, the ``pymc`` and ``nutpie`` backends give
bit-identical posterior draws (tests/test_inference.py checks both).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from clustermix.errors import ConfigError
from clustermix.fit.progress import PROGRESS_INTERVAL_S, FitProgress
from clustermix.fit.stopping import QuantityFunction, SamplingTarget
from clustermix.fit.whitening import (
    CURVATURE_STEP,
    VARIANCE_BOUNDS,
    WHITENED_NAME,
    Whitening,
    curvature_matrix,
    raveled_start,
    whitened_model,
    whitening_at,
)
from clustermix.io import PathLike, atomic_path
from clustermix.models.compiled import compile_mode_for
from clustermix.models.compiled import logp_dlogp as compiled_logp_dlogp
from clustermix.provenance.origin import decoded_attrs, utc_now

if TYPE_CHECKING:
    import arviz as az
    import pymc as pm

log = logging.getLogger(__name__)

BACKENDS: tuple[str, ...] = ("pymc", "nutpie", "numpyro")
#: What compiles a model's log density and gradient for nutpie (its ``backend``): JAX
#: compiles ``phase_space`` in seconds, numba in one to two minutes on a cold cache, for
#: about the same cost per gradient (bench/README.md, "Compiled with JAX").
COMPILERS: tuple[str, ...] = ("jax", "numba")
NETCDF_ENGINE = "h5netcdf"


def free_var_names(model: pm.Model) -> list[str]:
    """Names of the model's free random variables: what a trace stores."""
    return [rv.name for rv in model.free_RVs]


def sample(
    model: pm.Model,
    *,
    backend: str = "pymc",
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    target_accept: float = 0.9,
    seed: int,
    cores: int | None = None,
    store_log_likelihood: bool = False,
    progressbar: bool = False,
    initvals: Mapping[str, Any] | None = None,
    jitter: bool = True,
    progress_interval: float | None = PROGRESS_INTERVAL_S,
    label: str = "",
    target: Mapping[str, Any] | None = None,
    target_quantities: QuantityFunction | None = None,
    whiten: bool | Whitening = False,
    compiler: str = "jax",
) -> az.InferenceData:
    """Sample ``model`` with NUTS and return the trace.

    ``backend``: ``"pymc"`` (PyMC's NUTS), ``"nutpie"`` (nutpie, its model and PyTensor's
    gradient of it compiled by ``compiler``, ``"jax"`` or ``"numba"``; the other backends
    ignore it) or ``"numpyro"`` (needs JAX and NumPyro installed; a
    :class:`ConfigError` otherwise).
    ``draws``/``tune``: iterations per chain after/for adaptation; ``cores``: chains run in
    parallel (default: one per chain, capped at the machine's CPUs); ``seed``: the only
    source of randomness. ``store_log_likelihood`` adds the ``log_likelihood`` group
    (float32, one value per star and draw). ``initvals``: starting values by free-variable
    name (a model's data-driven ``initial_values``); mixture posteriors are multimodal, and
    chains started at the prior's centre can settle on a field clump instead of the cluster.
    ``jitter``: False starts every chain exactly at ``initvals`` (a mode found beforehand;
    with ``pymc`` the mass matrix then adapts from the posterior's curvature there, see
    :func:`start_variances`); True adds the samplers' usual random jitter (uniform in
    [-1, 1] in the unconstrained space), which can throw a chain out of a narrow cluster
    mode.
    ``progress_interval``: seconds between two progress lines (draws per chain, divergences,
    elapsed and expected time; :mod:`clustermix.fit.progress`) logged while nutpie or PyMC
    samples, None or 0 for none; ``label`` names the fit in them (e.g. ``ngc6819/pm_2d``).
    ``progressbar`` is the samplers' own terminal progress bar, which a log file cannot show.
    ``target`` (config ``sampling.target``: ``ess``, ``rhat_max``, ``check_every``,
    ``judge``; nutpie only): stop every chain at the first checkpoint where the draws so far
    reach it, with ``draws`` as the cap (:mod:`clustermix.fit.stopping`); the trace's
    ``draws`` attribute is then the draws kept per chain and ``sampling_target`` records the
    rounds. ``target_quantities``: the model's cluster quantities from a posterior's draws,
    which ``judge: cluster`` (the default) judges. With a target, every chain runs at once
    (one thread each, however few ``cores``: the operating system shares them), so that
    no chain draws past a checkpoint while another has not started; a chain's draws do not
    depend on that. ``whiten`` (nutpie, started at ``initvals`` without jitter): sample in
    coordinates whitened by the posterior's curvature at ``initvals``
    (:mod:`clustermix.fit.whitening`; the same posterior, the same variables in the trace,
    whose ``whitening`` attribute records it; each chain starts within one posterior sd of
    ``initvals``), or a :class:`Whitening` computed beforehand
    (e.g. on the full model of a fit with far stars compressed); the other backends
    ignore it.

    Attributes set on the returned ``idata.attrs``: ``sampler``, ``sampler_version``,
    ``seed``, ``chains``, ``draws``, ``tune``, ``target_accept``, ``wall_time_s`` (seconds
    spent sampling, compilation excluded for nutpie, whose ``compile_time_s`` and
    ``compiler`` are separate), ``gradient_evaluations`` (leapfrog steps of all chains,
    warm-up included), ``gradient_evaluations_warmup`` (-1 when the sampler does not report
    warm-up; with a target, ``gradient_evaluations`` also counts the draws made past the
    checkpoint that met it, which the trace does not keep) and ``created`` (UTC).
    """
    if backend not in BACKENDS:
        raise ConfigError(f"sampling.backend: unknown backend '{backend}'; use one of {BACKENDS}")
    if compiler not in COMPILERS:
        raise ConfigError(
            f"sampling.compiler: unknown compiler '{compiler}'; use one of {COMPILERS}"
        )
    stopping = None
    if target:
        if backend != "nutpie":
            raise ConfigError(
                f"sampling.target: only the nutpie backend can stop at a target, not "
                f"'{backend}'; remove sampling.target or use backend: nutpie"
            )
        stopping = SamplingTarget.from_config(target, quantities=target_quantities)
    if cores is None:
        cores = min(chains, os.cpu_count() or 1)
    cores = max(1, min(cores, chains))
    settings = {
        "draws": int(draws),
        "tune": int(tune),
        "chains": int(chains),
        "target_accept": float(target_accept),
        "seed": int(seed),
        "cores": int(chains if stopping else cores),
        "progressbar": progressbar,
        "initvals": dict(initvals) if initvals else None,
        "jitter": bool(jitter),
        "whiten": whiten if isinstance(whiten, Whitening) else bool(whiten),
        **({"compiler": compiler} if backend == "nutpie" else {}),
        **({"target": stopping} if stopping else {}),
    }
    log.info(
        "sampling with %s: %s",
        backend,
        {
            key: bool(value) if key == "whiten" else value
            for key, value in settings.items()
            if key not in ("initvals", "target")
        },
    )
    if stopping:
        log.info(
            "sampling to a target: every %s's R-hat <= %g and bulk and tail ESS "
            ">= %g, judged every %d draws per chain, at most %d",
            "cluster quantity" if stopping.judge == "cluster" else "free parameter",
            stopping.rhat_max,
            stopping.ess,
            stopping.check_every,
            draws,
        )
    progress = FitProgress(
        label, chains=chains, tune=tune, draws=draws, interval=progress_interval, logger=log
    )
    sampler = {"pymc": _sample_pymc, "nutpie": _sample_nutpie, "numpyro": _sample_numpyro}
    idata, attrs = sampler[backend](model, progress=progress, **settings)
    attrs.update(
        seed=int(seed),
        chains=int(chains),
        draws=int(idata.posterior.sizes["draw"]),
        tune=int(tune),
        target_accept=float(target_accept),
        created=utc_now(),
    )
    attrs.update(gradient_evaluations(idata))
    attrs["gradient_evaluations"] += int(idata.attrs.pop(DISCARDED_STEPS_ATTR, 0))
    if stopping:
        attrs["sampling_target"] = stopping.record(int(draws))
        log.info("sampling stopped: %s", attrs["sampling_target"]["stopped"])
    if store_log_likelihood:
        add_log_likelihood(model, idata)
    stamp_trace(idata, **attrs)
    log.info(
        "sampled in %.1f s with %d gradient evaluations",
        attrs["wall_time_s"],
        attrs["gradient_evaluations"],
    )
    return idata


def gradient_evaluations(idata: az.InferenceData) -> dict[str, int]:
    """Total and warm-up gradient evaluations: the sum of ``n_steps`` (leapfrog steps per
    iteration, the name PyMC, nutpie and PyMC's NumPyro wrapper all use) over every chain.

    ``gradient_evaluations_warmup`` is -1 when the trace has no ``warmup_sample_stats``.
    """
    sampling = int(idata.sample_stats["n_steps"].sum())
    if "warmup_sample_stats" in idata.groups():
        warmup = int(idata.warmup_sample_stats["n_steps"].sum())
        return {"gradient_evaluations": sampling + warmup, "gradient_evaluations_warmup": warmup}
    return {"gradient_evaluations": sampling, "gradient_evaluations_warmup": -1}


def add_log_likelihood(model: pm.Model, idata: az.InferenceData) -> None:
    """Add the pointwise log-likelihood group to ``idata``, stored as float32.

    Memory while computing: one float64 value per chain, draw and star (20,000 stars x
    4,000 draws is 640 MB), halved once stored.
    """
    import pymc as pm

    pm.compute_log_likelihood(idata, model=model, extend_inferencedata=True, progressbar=False)
    idata.log_likelihood = idata.log_likelihood.astype(np.float32)


def stamp_trace(idata: az.InferenceData, **attrs: Any) -> None:
    """Set provenance attributes on ``idata.attrs`` (they survive NetCDF round trips).

    Mappings and lists are stored as JSON text, booleans as 0/1; read them back with
    :func:`trace_attrs`.
    """
    for key, value in attrs.items():
        if isinstance(value, Mapping | list | tuple):
            value = json.dumps(value, sort_keys=True, default=str)
        elif isinstance(value, bool | np.bool_):
            value = int(value)
        elif isinstance(value, np.generic):
            value = value.item()
        elif value is None:
            value = ""
        idata.attrs[key] = value


def trace_attrs(idata: az.InferenceData) -> dict[str, Any]:
    """The trace's attributes as plain Python values (JSON attributes decoded; a trace file's,
    without loading its draws: :func:`clustermix.provenance.origin.read_trace_attrs`)."""
    return decoded_attrs(idata.attrs)


def save_trace(idata: az.InferenceData, path: PathLike) -> None:
    """Write ``idata`` to NetCDF (h5netcdf) atomically: the file at ``path`` is either the
    complete new trace or whatever was there before."""
    with atomic_path(path) as tmp:
        idata.to_netcdf(str(tmp), engine=NETCDF_ENGINE)


def load_trace(path: PathLike) -> az.InferenceData:
    """Read a trace written by :func:`save_trace` fully into memory (the file is closed)."""
    import arviz as az

    with az.rc_context({"data.load": "eager"}):
        return az.from_netcdf(str(path), engine=NETCDF_ENGINE)


def _sample_pymc(
    model: pm.Model, progress: FitProgress, **settings: Any
) -> tuple[az.InferenceData, dict[str, Any]]:
    import pymc as pm

    start = time.perf_counter()
    progress.restart_clock()
    step = None
    if settings["initvals"] and not settings["jitter"]:
        step = _nuts_scaled_at_start(
            model, settings["initvals"], settings["target_accept"], settings["seed"]
        )
    idata = pm.sample(
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=settings["cores"],
        random_seed=settings["seed"],
        initvals=settings["initvals"],
        init="jitter+adapt_diag" if settings["jitter"] else "adapt_diag",
        step=step,
        # a step built here carries its own target_accept
        **({} if step else {"target_accept": settings["target_accept"]}),
        var_names=free_var_names(model),
        discard_tuned_samples=False,
        progressbar=settings["progressbar"],
        idata_kwargs={"log_likelihood": False},
        # called in this process for every draw of every chain; it only counts and logs
        callback=progress.pymc_callback() if progress.enabled else None,
        model=model,
    )
    wall = time.perf_counter() - start
    return idata, {"sampler": "pymc", "sampler_version": pm.__version__, "wall_time_s": wall}


def start_variances(
    gradient: Callable[[np.ndarray], np.ndarray], point: np.ndarray, step: float = CURVATURE_STEP
) -> np.ndarray:
    """Inverse curvatures, -1 / (d^2 log p / dx_i^2), at ``point`` of the unconstrained
    parameters, from central differences of ``gradient`` (a function of the raveled point
    returning d log p / dx): one pair of gradient evaluations per parameter.

    Where the log density is not curved downwards (a saddle or a flat direction) the
    variance is 1, PyMC's own default; every value is clipped to
    :data:`~clustermix.fit.whitening.VARIANCE_BOUNDS` (the adaptation takes over from
    there, so a wild curvature estimate only costs warm-up, never correctness).
    """
    curvature = np.diag(curvature_matrix(gradient, point, step))
    variances = np.ones_like(curvature)
    downward = np.isfinite(curvature) & (curvature < 0)
    variances[downward] = -1.0 / curvature[downward]
    return np.clip(variances, *VARIANCE_BOUNDS)


def _nuts_scaled_at_start(
    model: pm.Model, initvals: Mapping[str, Any], target_accept: float, seed: int
) -> Any:
    """PyMC's NUTS with its usual diagonal mass-matrix adaptation, started from the
    posterior's curvature at ``initvals`` (a mode found beforehand) instead of unit
    variances.

    With unit variances the first adaptation window takes steps as small as the narrowest
    posterior width (0.01 mas/yr for a cluster's proper motion against a scale of 1), and
    most of a short fit's gradient evaluations are spent there. The starting variances
    weigh as 10 draws, as PyMC's own do; the draws still come from the same NUTS.
    """
    import pymc as pm
    from pymc.blocking import DictToArrayBijection
    from pymc.step_methods.hmc.quadpotential import QuadPotentialDiagAdapt

    raveled = raveled_start(model, initvals)
    point = DictToArrayBijection.rmap(raveled)
    logp_dlogp = compiled_logp_dlogp(model)  # the mode search's, if it ran on this model

    def gradient(values: np.ndarray) -> np.ndarray:
        return np.asarray(logp_dlogp([values], extra_vars={})[1])

    variances = start_variances(gradient, raveled.data)
    log.info(
        "NUTS starts from the curvature at the mode: sd from %.3g to %.3g (unconstrained)",
        float(np.sqrt(variances.min())),
        float(np.sqrt(variances.max())),
    )
    potential = QuadPotentialDiagAdapt(
        variances.size, raveled.data, variances, 10, rng=np.random.default_rng(seed)
    )
    return pm.NUTS(
        potential=potential,
        target_accept=target_accept,
        model=model,
        initial_point=point,
        logp_dlogp_func=logp_dlogp,
    )


def _sample_nutpie(
    model: pm.Model, progress: FitProgress, **settings: Any
) -> tuple[az.InferenceData, dict[str, Any]]:
    import nutpie
    import pymc as pm
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        dict_to_dataset,
        find_constants,
        find_observations,
    )

    names = free_var_names(model)
    whitening = None
    sampled_model, initial_points = model, settings["initvals"]
    jitter_rvs = None if settings["jitter"] else set()
    compiler = settings["compiler"]
    if settings["whiten"] and settings["initvals"] and not settings["jitter"]:
        whitening = settings["whiten"]
        if not isinstance(whitening, Whitening):
            # compiled as the mode search compiled it (clustermix.models.compiled)
            mode = compile_mode_for({"backend": "nutpie", "compiler": compiler})
            whitening = whitening_at(model, settings["initvals"], mode)
        sampled_model = whitened_model(model, whitening)
        # each chain starts within one posterior sd of the mode along every eigen-direction
        # of the curvature (uniform in [-1, 1] in z, seeded): close enough to stay in the
        # cluster's mode, spread enough that R-hat can see chains that have not mixed
        initial_points = {WHITENED_NAME: np.zeros(whitening.centre.size)}
        jitter_rvs = {sampled_model[WHITENED_NAME]}
    log.info("compiling %s for nutpie with %s", progress.label, compiler)
    start = time.perf_counter()
    compiled = nutpie.compile_pymc_model(
        sampled_model,
        backend=compiler,
        gradient_backend="pytensor",  # PyTensor's gradient graph, whichever compiles it
        var_names=names,
        initial_points=initial_points,
        jitter_rvs=jitter_rvs,
    )
    compile_time = time.perf_counter() - start
    log.info("compiled in %.1f s", compile_time)
    start = time.perf_counter()
    progress.restart_clock()
    sampler = nutpie.sample(
        compiled,
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        cores=settings["cores"],
        seed=settings["seed"],
        target_accept=settings["target_accept"],
        save_warmup=True,
        progress_bar=settings["progressbar"],
        blocking=False,
    )
    idata = _wait_for_nutpie(sampler, progress, settings.get("target"), names, settings["draws"])
    wall = time.perf_counter() - start
    # nutpie also stores the unconstrained values (``x_log__``); keep what PyMC keeps.
    for group in ("posterior", "warmup_posterior"):
        if group in idata.groups():
            dataset = getattr(idata, group)
            extra = [name for name in dataset.data_vars if name not in names]
            setattr(idata, group, dataset.drop_vars(extra))
    # nutpie cannot see the data; add them as pm.sample does.
    coords, dims = coords_and_dims_for_inferencedata(model)
    groups = {
        "observed_data": dict_to_dataset(
            find_observations(model), library=pm, coords=coords, dims=dims, default_dims=[]
        ),
        "constant_data": dict_to_dataset(
            find_constants(model), library=pm, coords=coords, dims=dims, default_dims=[]
        ),
    }
    idata.add_groups({key: value for key, value in groups.items() if value.data_vars})
    attrs = {
        "sampler": "nutpie",
        "sampler_version": nutpie.__version__,
        "wall_time_s": wall,
        "compile_time_s": compile_time,
        "compiler": compiler,
        **({"whitening": whitening.record()} if whitening else {}),
    }
    return idata, attrs


#: Seconds between two checks whether a nutpie sampler has finished (the most a fit can
#: wait beyond its end).
NUTPIE_POLL_S = 0.1


#: Seconds between two looks at a nutpie sampler's draws for its target.
TARGET_LOOK_S = 1.0


def _wait_for_nutpie(
    sampler: Any,
    progress: FitProgress,
    target: SamplingTarget | None = None,
    names: list[str] | None = None,
    cap: int = 0,
) -> az.InferenceData:
    """Wait for a nutpie sampler started with ``blocking=False``, logging a progress line
    whenever one is due, and return its trace. The sampler runs in nutpie's own threads;
    looking at it (``inspect()``, a copy of the trace so far) does not change its draws.
    With a ``target``, every checkpoint the chains reach is judged on their first draws
    (variables ``names``) and the sampler stops at the first one met; a checkpoint passed
    between two looks, or after the end, is judged all the same, so the trace does not
    depend on when the looks happened. An interrupt or error stops the sampler's threads
    before it propagates."""
    try:
        last_look = time.monotonic()
        while (progress.enabled or target) and not _nutpie_finished(sampler):
            time.sleep(NUTPIE_POLL_S)
            look = target is not None and time.monotonic() - last_look >= TARGET_LOOK_S
            if not (progress.due() or look):
                continue
            last_look = time.monotonic()
            try:
                trace = _inspect_nutpie(sampler)
            except Exception as err:  # e.g. the chains ended since the check
                log.debug("no draws from nutpie: %s", err)
                continue
            progress.read_nutpie(trace)
            if progress.due():
                progress.log_line()
            if target is not None:
                met = _judge_checkpoints(trace, target, names or [], cap)
                if met is not None:
                    return _first_draws(sampler.abort(), met)
        idata = sampler.wait()
        if target is not None:
            met = _judge_checkpoints(idata, target, names or [], cap)
            if met is not None:
                return _first_draws(idata, met)
        return idata
    except BaseException:
        with contextlib.suppress(Exception):  # the sampler may already be gone
            sampler.cancel()
        raise


def _draws_in_every_chain(idata: az.InferenceData) -> int:
    """Posterior draws that every chain has made (nutpie pads the shorter chains; a padded
    draw has ``n_steps`` 0)."""
    if "sample_stats" not in idata.groups() or idata.sample_stats.sizes.get("draw", 0) == 0:
        return 0
    real = np.asarray(idata.sample_stats["n_steps"]) > 0
    return int(real.sum(axis=1).min())


def _judge_checkpoints(
    idata: az.InferenceData, target: SamplingTarget, names: list[str], cap: int
) -> int | None:
    """Judge, in order, the checkpoints every chain of ``idata`` has reached; the first
    one met, or None."""
    for draws in target.checkpoints(_draws_in_every_chain(idata), cap):
        if target.judge_checkpoint(idata.posterior, names, draws):
            return draws
    return None


#: Attribute (removed by :func:`sample`) holding the leapfrog steps of the draws that
#: :func:`_first_draws` cut off: they were computed, so they count in the fit's cost.
DISCARDED_STEPS_ATTR = "_discarded_gradient_evaluations"


def _first_draws(idata: az.InferenceData, draws: int) -> az.InferenceData:
    """``idata`` with the first ``draws`` posterior draws of every chain (warm-up kept);
    the leapfrog steps of the draws cut off go into :data:`DISCARDED_STEPS_ATTR`."""
    if "sample_stats" in idata.groups():
        cut = idata.sample_stats["n_steps"].isel(draw=slice(draws, None))
        idata.attrs[DISCARDED_STEPS_ATTR] = int(np.nansum(cut.values))
    for group in ("posterior", "sample_stats"):
        if group in idata.groups():
            setattr(idata, group, getattr(idata, group).isel(draw=slice(0, draws)))
    return idata


def _inspect_nutpie(sampler: Any) -> az.InferenceData:
    """A copy of a running nutpie sampler's trace so far. During warm-up its posterior
    has no draws yet, which ArviZ warns about; that warning is about our look at a
    partial trace, not about the fit, so it is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"More chains \(\d+\) than draws", category=UserWarning
        )
        return sampler.inspect()


def _nutpie_finished(sampler: Any) -> bool:
    """Whether a nutpie sampler's chains have all finished (a failed chain's error is
    raised here). nutpie 0.16's ``is_finished`` raises ``TimeoutError`` while the chains
    still run instead of returning False."""
    try:
        return bool(sampler.is_finished)
    except TimeoutError:
        return False


def _sample_numpyro(
    model: pm.Model, progress: FitProgress, **settings: Any
) -> tuple[az.InferenceData, dict[str, Any]]:
    """NumPyro through PyMC; no progress lines (JAX runs the whole loop)."""
    try:
        import jax
        import numpyro
        from pymc.sampling.jax import sample_numpyro_nuts
    except ImportError as err:
        raise ConfigError(
            "sampling.backend: 'numpyro' needs JAX and NumPyro, which are not installed "
            f"({err}); use 'pymc' or 'nutpie'"
        ) from None

    parallel = jax.local_device_count() >= settings["chains"]
    start = time.perf_counter()
    idata = sample_numpyro_nuts(
        draws=settings["draws"],
        tune=settings["tune"],
        chains=settings["chains"],
        target_accept=settings["target_accept"],
        random_seed=settings["seed"],
        initvals=settings["initvals"],
        var_names=free_var_names(model),
        progressbar=settings["progressbar"],
        chain_method="parallel" if parallel else "vectorized",
        idata_kwargs={"log_likelihood": False},
        model=model,
    )
    wall = time.perf_counter() - start
    return idata, {
        "sampler": "numpyro",
        "sampler_version": numpyro.__version__,
        "wall_time_s": wall,
    }

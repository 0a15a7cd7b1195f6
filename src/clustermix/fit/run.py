"""One fit from files to files: what the fit_model and summarize_fit rules run.

:func:`run_fit` reads the cleaned catalogue and its sky masks, lets the model select its
stars, builds and samples the model, stamps the trace with its provenance, writes it, and
computes the per-star membership while the model is still in memory.
:func:`run_summary` turns a trace into the summary and diagnostics JSON files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from clustermix.data.masks import read_catalog_with_masks
from clustermix.errors import ModeError
from clustermix.fit.diagnostics import fit_diagnostics
from clustermix.fit.far_stars import (
    FAR_STAR_BOX_SD,
    FAR_STAR_P_MAX,
    check_far_stars,
    far_star_mask,
    reduce_data,
)
from clustermix.fit.fitted import FittedModel
from clustermix.fit.membership import (
    membership_statistics,
    model_membership_table,
)
from clustermix.fit.progress import PROGRESS_INTERVAL_S
from clustermix.fit.sampling import sample, save_trace, stamp_trace
from clustermix.fit.summary import json_safe, summarize
from clustermix.fit.whitening import whitening_at
from clustermix.io import PathLike, sha256_file, write_json_atomic, write_table_atomic
from clustermix.models import SUMMARY_UNITS
from clustermix.models.compiled import compile_mode_for
from clustermix.models.field_choice import AUTO, resolve_field_components
from clustermix.models.mixture import n_stars_described
from clustermix.models.modes import (
    candidate_centres,
    check_chains,
    search_modes,
    sky_regions,
)
from clustermix.models.priors import prior_rows
from clustermix.models.registry import get_model, model_options
from clustermix.models.systematics import (
    FLOOR_NAMES,
    FLOOR_OPTIONS,
    with_one_floor,
    without_systematics,
)
from clustermix.provenance.origin import code_version, config_hash, package_versions

log = logging.getLogger(__name__)


def prepare_cluster_fit(
    module: Any, options: Mapping[str, Any], catalog: Table, source: str
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any] | None]:
    """Resolve ``n_field_components: auto`` on the control field (when the model has a
    field mixture) and prepare the model's data. Returns (options with an integer K,
    data, the K choice or None). The control field's stars are the model's own selection's
    (``stars: all``) or, for a model of another selection (the cluster region), the
    control field's stars prepared the model's way."""
    options = dict(options)
    if not hasattr(module, "field_observables") or options.get("n_field_components") != AUTO:
        return options, module.prepare_data(catalog, options, source), None
    # the probe needs the observables only: the model's PROBE_OPTIONS skip what its data
    # learn before the fit (a field learned on the control field, the colours' density)
    probe_options = {**options, **getattr(module, "PROBE_OPTIONS", {}), "n_field_components": 1}
    if options.get("stars", "all") != "all" and "in_control_field" in catalog.colnames:
        # a model of the cluster region learns its field from the control field's stars
        probe_options["stars"] = "control_field"
    probe = module.prepare_data(catalog, probe_options, source)
    in_control = None
    if "in_control_field" in catalog.colnames:
        control_ids = np.asarray(catalog["source_id"], np.int64)[
            np.asarray(catalog["in_control_field"], bool)
        ]
        in_control = np.isin(probe["source_id"], control_ids)
    options, choice = resolve_field_components(
        options, probe, in_control, module.field_observables, source
    )
    log.info(
        "%s: %d field components, chosen by BIC on %d %s stars: %s",
        module.NAME,
        options["n_field_components"],
        choice["n_stars"],
        choice["stars"],
        {row["k"]: round(row["delta_bic"], 1) for row in choice["table"]},
    )
    return options, module.prepare_data(catalog, options, source), choice


@dataclass
class CatalogFit:
    """What :func:`fit_catalog` made: the options (with the chosen K), the model's data,
    the PyMC model, the trace (stamped with ``field_components``, ``mode_search`` and
    ``hint``), and the :class:`~clustermix.errors.ModeError` of the chain check, if any."""

    options: dict[str, Any]
    data: dict[str, np.ndarray]
    model: Any
    idata: Any
    mode_error: ModeError | None = None


def fit_catalog(
    module: Any,
    options: Mapping[str, Any],
    catalog: Table | None,
    sampling: Mapping[str, Any],
    *,
    source: str,
    cores: int | None = None,
    hint: Mapping[str, float] | None = None,
    progress_interval: float | None = PROGRESS_INTERVAL_S,
    label: str = "",
    far_stars: bool = False,
) -> CatalogFit:
    """Choose K, find the cluster's mode, sample from it, and check every chain.

    ``catalog``: the cleaned catalogue joined with its masks (None for a model with its own
    example data); ``options``: complete model options; ``sampling``: keywords of
    :func:`~clustermix.fit.sampling.sample`. Raises :class:`~clustermix.errors.ModeError`
    before sampling when no cluster-like mode exists; a chain check that fails after
    sampling is returned as ``mode_error`` (so that the caller can keep the trace).
    ``progress_interval``: seconds between progress lines while sampling (None or 0: none);
    ``label``: the cluster, named with the model in those lines.

    ``far_stars`` (a model with ``far_star_eligible``, e.g. ``phase_space``; not yet a
    workflow option): after the mode search, the stars the cluster cannot claim are
    compressed into one term (:mod:`clustermix.fit.far_stars`) and only the others are
    sampled star by star; the returned data and model are the reduced ones, the trace's
    ``far_stars`` attribute says how many stars were compressed, with which bound, and the
    largest membership probability a compressed star reached at the posterior draws
    (a :class:`ValueError` if above the check's bound); with ``sampling["whiten"]`` the
    whitening comes from the full model's curvature.
    """
    field_choice, search, far = None, None, None
    if catalog is None:
        options = dict(options)
        data = module.prepare_data(None, options, source)
    else:
        options, data, field_choice = prepare_cluster_fit(module, options, catalog, source)
    log.info("model %s: %d stars, options %s", module.NAME, len(data["source_id"]), options)
    model = module.build_model(data, options)
    if hasattr(module, "MODE_QUANTITIES") and catalog is not None:
        compile_mode = compile_mode_for(sampling)
        search = search_modes(
            module,
            model,
            data,
            options,
            candidate_centres(catalog, hint, source),
            sky_regions(catalog, data["source_id"], source),
            compile_mode,
        )
        initvals = search.chosen.start
        if far_stars:
            full_model = model
            far = far_star_mask(
                model,
                initvals,
                module.far_star_eligible(data, options),
                compile_mode=compile_mode,
            )
            data = reduce_data(data, far)
            model = module.build_model(data, options)
            if sampling.get("whiten") and sampling.get("backend") == "nutpie":
                # the full model's gradient is compiled (the mode search's), and its
                # curvature differs from the reduced model's by the compressed stars' p
                sampling = {
                    **sampling,
                    "whiten": whitening_at(full_model, initvals, compile_mode),
                }
            log.info("%d of %d stars compressed as far from the cluster", far.sum(), len(far))
    else:
        # data-driven starting values where the model provides them
        initial_values = getattr(module, "initial_values", None)
        initvals = initial_values(data, options) if initial_values is not None else None
    idata = sample(
        model,
        **sampling,
        cores=cores,
        initvals=initvals,
        jitter=search is None,
        progress_interval=progress_interval,
        label=f"{label}/{module.NAME}" if label else module.NAME,
        target_quantities=statistical_quantities(module, data, options),
    )
    stamp_trace(
        idata,
        field_components=field_choice,
        mode_search=None if search is None else search.record(),
        hint=dict(hint) if hint else None,
        priors=prior_rows(model),
    )
    if far is not None:
        stamp_trace(
            idata,
            far_stars={
                "compressed": int(far.sum()),
                "p_max": FAR_STAR_P_MAX,
                "box_sd": FAR_STAR_BOX_SD,
                "largest_p_at_draws": check_far_stars(full_model, idata.posterior, far),
            },
        )
    fit = CatalogFit(options, data, model, idata)
    if search is not None:
        try:
            check_chains(module, idata.posterior, n_stars_described(data), search.chosen, options)
        except ModeError as err:
            log.error("%s", err)
            fit.mode_error = err
    return fit


def statistical_quantities(
    module: Any, data: Mapping[str, np.ndarray], options: Mapping[str, Any]
) -> Callable[[Any], Mapping[str, Any]]:
    """The model's cluster quantities (``summary_quantities``) as a function of a
    posterior's draws, without the systematic floors: what a sampling target judges
    (:mod:`clustermix.fit.stopping`)."""
    statistical, arrays = without_systematics(dict(options)), dict(data)

    def quantities(posterior: Any) -> Mapping[str, Any]:
        return module.summary_quantities(posterior, arrays, statistical)

    return quantities


def run_fit(
    model_name: str,
    option_overrides: Mapping[str, Any],
    sampling: Mapping[str, Any],
    *,
    trace_path: PathLike,
    catalog_path: PathLike | None = None,
    masks_path: PathLike | None = None,
    membership_path: PathLike | None = None,
    cores: int | None = None,
    label: str = "",
    hint: Mapping[str, float] | None = None,
    progress_interval: float | None = PROGRESS_INTERVAL_S,
) -> None:
    """Fit model ``model_name`` and write its trace (and membership table).

    ``option_overrides``: ``models.<name>`` options from the config (the module's
    ``DEFAULT_OPTIONS`` fill in the rest); ``sampling``: keyword arguments of
    :func:`clustermix.fit.sampling.sample` (backend, chains, draws, tune, target_accept,
    seed, store_log_likelihood). ``label``: the cluster name (or "examples"), recorded in
    the trace. ``hint``: the cluster's approximate ``parallax_mas``, ``pmra_masyr``,
    ``pmdec_masyr`` (config ``clusters[].hint``), used only to propose and pick the mode.
    ``progress_interval``: seconds between the progress lines logged while sampling (config
    ``progress.interval_s``; None or 0: none); they do not change the trace.

    A cluster model (one with ``MODE_QUANTITIES``) first gets its number of field
    components (``"auto"``: :mod:`clustermix.models.field_choice`) and its cluster mode
    (:mod:`clustermix.models.modes`); every chain starts there, and after sampling every
    chain must still be there, or a :class:`~clustermix.errors.ModeError` names the modes
    (the trace is then kept beside the output as ``<name>.rejected.nc``, not as the output).

    The trace's attributes record ``data_sha256`` / ``masks_sha256`` (of the input files,
    "" without), ``config_hash`` (of model, options and sampling), ``options`` (with the
    chosen K), ``sampling``, ``field_components`` and ``mode_search`` (the choices and the
    tables they were made from), ``priors`` (every free variable's prior, read from the
    built model: :func:`~clustermix.models.priors.prior_rows`), ``code_version`` and
    ``package_versions``, besides the sampler's own (see
    :func:`~clustermix.fit.sampling.sample`).
    """
    module = get_model(model_name)
    options = model_options(module, option_overrides)
    catalog = None
    if catalog_path is not None:
        if masks_path is None:
            raise ValueError("a catalogue needs its masks file")
        catalog = read_catalog_with_masks(catalog_path, masks_path)
    source = str(catalog_path) if catalog_path else f"{model_name} example data"
    fit = fit_catalog(
        module,
        options,
        catalog,
        sampling,
        source=source,
        cores=cores,
        hint=hint,
        progress_interval=progress_interval,
        label=label,
    )
    data, model, idata = fit.data, fit.model, fit.idata
    settings = {"model": model_name, "options": fit.options, "sampling": dict(sampling)}
    stamp_trace(
        idata,
        model=model_name,
        cluster=label,
        n_stars=len(data["source_id"]),
        data_sha256=sha256_file(catalog_path) if catalog_path else "",
        masks_sha256=sha256_file(masks_path) if masks_path else "",
        config_hash=config_hash(settings),
        options=fit.options,
        sampling=dict(sampling),
        code_version=code_version(),
        package_versions=package_versions(),
    )
    if fit.mode_error is not None:
        rejected = Path(trace_path).with_suffix(".rejected.nc")
        save_trace(idata, rejected)
        log.error("the rejected trace is kept in %s", rejected)
        raise fit.mode_error
    save_trace(idata, trace_path)
    log.info("trace written to %s", trace_path)
    if membership_path is not None:
        mean, spread = membership_statistics(model, idata)
        table = model_membership_table(data["source_id"], mean, spread, model_name)
        write_table_atomic(table, membership_path)
        log.info("membership written to %s", membership_path)


def run_summary(
    trace_path: PathLike,
    *,
    summary_path: PathLike,
    diagnostics_path: PathLike,
    catalog_path: PathLike | None = None,
    masks_path: PathLike | None = None,
    truth_path: PathLike | None = None,
) -> None:
    """Write the posterior summary and the diagnostics of one trace.

    The model, its options and the stars are taken from the trace's own attributes and
    the catalogue it was fitted to (checked against the recorded ``data_sha256``).
    ``truth_path``: the simulator's truth.json; the line example passes None and its
    module supplies its own true values.
    """
    fitted = FittedModel.open(trace_path, catalog_path, masks_path)
    idata, attrs, module, data = fitted.idata, fitted.attrs, fitted.module, fitted.data
    quantities = module.summary_quantities(idata.posterior, data, attrs["options"])
    statistical = module.summary_quantities(
        idata.posterior, data, without_systematics(attrs["options"])
    )
    one_floor = {
        FLOOR_NAMES[floor]: module.summary_quantities(
            idata.posterior, data, with_one_floor(attrs["options"], floor)
        )
        for floor in FLOOR_OPTIONS
        if floor in attrs["options"]
    }
    truth = None
    if truth_path is not None or catalog_path is None:
        raw_truth = json.loads(Path(truth_path).read_text()) if truth_path else None
        truth = module.true_values(raw_truth, data)
    summary = summarize(quantities, SUMMARY_UNITS, truth, statistical, one_floor)
    header = {key: attrs.get(key) for key in ("model", "cluster", "n_stars", "code_version")}
    write_json_atomic(json_safe({**header, **summary}), summary_path)
    diagnostics = fit_diagnostics(idata, quantities)
    write_json_atomic(json_safe({**header, **diagnostics}), diagnostics_path)
    for warning in diagnostics["warnings"]:
        log.warning("%s: %s", attrs["model"], warning)

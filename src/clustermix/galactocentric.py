"""The cluster's position and velocity in Galactocentric coordinates, and their macros.

The draws come from the ``phase_space`` fit: its ``summary_quantities`` give the cluster's
ICRS Cartesian position and velocity per posterior draw (systematic parallax floor
included), and :func:`clustermix.models.phase_space.model.galactocentric_quantities` moves
all draws at once to astropy's Galactocentric frame (parameter set "v4.0", pinned in
:mod:`clustermix.data.galaxy`). Added here: the cylindrical radius R, azimuth phi and
velocities v_R (positive outwards) and v_phi (positive in the sense of Galactic rotation,
so that the Sun has v_phi = +245.6 km/s in that frame), and the Sun's own position and
velocity for the figure.

In astropy's right-handed Galactocentric frame the Sun lies at x < 0 near the plane,
y points in the direction of Galactic rotation at the Sun and z towards the north
Galactic pole; the disc therefore rotates clockwise seen from +z.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from clustermix.errors import InputDataError
from clustermix.io import PathLike, atomic_path
from clustermix.paper.macros import decimals_for, format_measurement, format_number, macro_name
from clustermix.quantities import QUANTITIES as ALL_QUANTITIES

#: The value of a macro whose number is not known (no fit, or no truth).
NOT_AVAILABLE = r"\textrm{n/a}"

#: Cartesian Galactocentric quantities (pc, km/s), as phase_space names them.
CARTESIAN: tuple[str, ...] = ("x", "y", "z", "v_x", "v_y", "v_z")
#: Cylindrical quantities added here.
CYLINDRICAL: tuple[str, ...] = ("R", "phi", "v_R", "v_phi")
#: Every quantity reported, in order.
QUANTITIES: tuple[str, ...] = (*CARTESIAN, *CYLINDRICAL)
UNITS: dict[str, str] = {name: ALL_QUANTITIES[name].unit for name in QUANTITIES}


def cylindrical(x: Any, y: Any, v_x: Any, v_y: Any) -> dict[str, Any]:
    """R (units of x), phi (deg, atan2(y, x)), v_R (outwards) and v_phi (along Galactic
    rotation, i.e. -R dphi/dt in astropy's frame), in the velocity's units.

    Works element by element on NumPy arrays, xarray DataArrays and floats.
    """
    radius = np.hypot(x, y)
    return {
        "R": radius,
        "phi": np.degrees(np.arctan2(y, x)),
        "v_R": (x * v_x + y * v_y) / radius,
        "v_phi": (y * v_x - x * v_y) / radius,
    }


def galactocentric_draws(
    posterior: xr.Dataset,
    data: Mapping[str, np.ndarray],
    options: Mapping[str, Any],
    model_name: str | None = None,
) -> dict[str, xr.DataArray]:
    """Draws (dims chain, draw) of every :data:`QUANTITIES` from the posterior of a model
    that measures the 3D position and velocity (``model_name``; default: the first such
    model), its data (``prepare_data``) and its options (the trace's ``options``)."""
    from clustermix.models import CLUSTER_MODEL_NAMES
    from clustermix.models.registry import galactocentric_model, get_model

    module = get_model(model_name or galactocentric_model(CLUSTER_MODEL_NAMES))
    icrs = module.summary_quantities(posterior, dict(data), dict(options))
    draws = module.galactocentric_quantities({key: icrs[key] for key in CARTESIAN})
    extra = cylindrical(draws["x"], draws["y"], draws["v_x"], draws["v_y"])
    return {**draws, **{key: value.rename(key) for key, value in extra.items()}}


def true_galactocentric(truth: Mapping[str, Any]) -> dict[str, float]:
    """The simulator's Galactocentric values of :data:`QUANTITIES` (from truth.json)."""
    values = {key: float(truth["galactocentric"][key]) for key in CARTESIAN}
    extra = cylindrical(values["x"], values["y"], values["v_x"], values["v_y"])
    return {**values, **{key: float(value) for key, value in extra.items()}}


def frame_parameters() -> dict[str, Any]:
    """The frame's parameters (pc, km/s, deg), see
    :func:`clustermix.data.galaxy.galactocentric_parameters`."""
    from clustermix.data.galaxy import galactocentric_parameters

    return galactocentric_parameters()


def sun_phase_space() -> dict[str, float]:
    """The Sun's Galactocentric position (pc) and velocity (km/s): the ICRS origin at
    rest, transformed by astropy."""
    import astropy.units as u
    from astropy.coordinates import ICRS, CartesianDifferential, CartesianRepresentation

    from clustermix.data.galaxy import galactocentric_frame

    velocity = CartesianDifferential([0.0, 0.0, 0.0] * u.km / u.s)
    position = CartesianRepresentation([0.0, 0.0, 0.0] * u.pc, differentials=velocity)
    sun = ICRS(position).transform_to(galactocentric_frame())
    return {
        "x": float(sun.x.to_value(u.pc)),
        "y": float(sun.y.to_value(u.pc)),
        "z": float(sun.z.to_value(u.pc)),
        "v_x": float(sun.v_x.to_value(u.km / u.s)),
        "v_y": float(sun.v_y.to_value(u.km / u.s)),
        "v_z": float(sun.v_z.to_value(u.km / u.s)),
    }


def load_galactocentric(
    trace_path: PathLike,
    catalog_path: PathLike,
    masks_path: PathLike,
    truth_path: PathLike | None = None,
) -> tuple[dict[str, xr.DataArray], dict[str, float] | None]:
    """The Galactocentric draws of a ``phase_space`` fit (trace, and the catalogue and
    masks it was fitted to) and, given the simulator's truth.json, the true values."""
    from clustermix.fit.fitted import FittedModel
    from clustermix.models.registry import model_spec

    fitted = FittedModel.open(trace_path, catalog_path, masks_path)
    if not model_spec(fitted.name).galactocentric:
        raise InputDataError(
            f"{trace_path}: a {fitted.name} trace; that model measures no 3D position and velocity"
        )
    draws = galactocentric_draws(fitted.idata.posterior, fitted.data, fitted.options, fitted.name)
    truth = None
    if truth_path is not None:
        raw = json.loads(Path(truth_path).read_text())
        if "galactocentric" not in raw:
            raise InputDataError(f"{truth_path}: no 'galactocentric' entry")
        truth = true_galactocentric(raw)
    return draws, truth


def save_galactocentric(
    draws: Mapping[str, xr.DataArray], truth: Mapping[str, float] | None, path: PathLike
) -> None:
    """Write the Galactocentric ``draws`` (dims chain, draw; pc, deg, km/s as in
    :data:`UNITS`) and the ``truth`` (None for real data) to a NetCDF file, atomically: the
    one file the figure and the numbers read, so that the draws are computed once."""
    # values and dims only: the draws' own attributes (the frame, as a dict) stay behind
    dataset = xr.Dataset(
        {
            name: (draws[name].dims, np.asarray(draws[name].values), {"unit": UNITS[name]})
            for name in QUANTITIES
        }
    )
    dataset.attrs["truth"] = json.dumps(dict(truth)) if truth is not None else ""
    with atomic_path(path) as tmp:
        dataset.to_netcdf(tmp)


def read_galactocentric(path: PathLike) -> tuple[dict[str, xr.DataArray], dict[str, float] | None]:
    """The draws and the truth (None if not known) that :func:`save_galactocentric` wrote."""
    with xr.open_dataset(path) as dataset:
        loaded = dataset.load()
    missing = [name for name in QUANTITIES if name not in loaded]
    if missing:
        raise InputDataError(f"{path}: no Galactocentric draws of {missing}")
    truth_text = loaded.attrs.get("truth", "")
    truth = (
        {key: float(value) for key, value in json.loads(truth_text).items()} if truth_text else None
    )
    return {name: loaded[name] for name in QUANTITIES}, truth


def galactocentric_macros(
    draws: Mapping[str, Any] | None,
    frame: Mapping[str, Any],
    truth: Mapping[str, float] | None = None,
) -> dict[str, str]:
    """LaTeX macros of the cluster's Galactocentric position and velocity.

    For each quantity q of :data:`QUANTITIES`: ``\\Galactocentric<Q>`` = mean \\pm sd over
    ``draws`` (math mode, rounded to two significant figures of the sd) and
    ``\\Galactocentric<Q>Truth`` the true value at the same precision; a value that is
    not known (``draws`` None: no phase_space fit; ``truth`` None: real data) is
    ``\\textrm{n/a}``, and ``\\GalactocentricAvailable`` / ``\\GalactocentricTruthAvailable``
    say ``true`` or ``false``. The frame (``frame``, as from :func:`frame_parameters`):
    ``\\GalactocentricRSun`` (Sun-centre distance, pc), ``\\GalactocentricZSun`` (pc),
    ``\\GalactocentricVSunX/Y/Z`` (km/s), ``\\GalactocentricGalcenRa``/``Dec`` (deg) and
    ``\\GalactocentricFrameVersion`` (astropy's parameter set).
    """
    macros: dict[str, str] = {
        macro_name("galactocentric", "available"): "true" if draws is not None else "false",
        macro_name("galactocentric", "truth_available"): "true" if truth is not None else "false",
    }
    for quantity in QUANTITIES:
        name = macro_name("galactocentric", quantity)
        sd = math.nan
        if draws is not None:
            values = np.asarray(draws[quantity], float).ravel()
            mean, sd = float(values.mean()), float(values.std(ddof=1))
            macros[name] = format_measurement(mean, sd)
        else:
            macros[name] = NOT_AVAILABLE
        if truth is not None and truth.get(quantity) is not None:
            value = float(truth[quantity])
            macros[name + "Truth"] = format_number(value, decimals_for(sd))
        else:
            macros[name + "Truth"] = NOT_AVAILABLE
    v_sun = [float(v) for v in frame["galcen_v_sun_kms"]]
    macros.update(
        {
            macro_name("galactocentric", "r_sun"): f"{float(frame['galcen_distance_pc']):.10g}",
            macro_name("galactocentric", "z_sun"): f"{float(frame['z_sun_pc']):.10g}",
            macro_name("galactocentric", "v_sun", "x"): f"{v_sun[0]:.10g}",
            macro_name("galactocentric", "v_sun", "y"): f"{v_sun[1]:.10g}",
            macro_name("galactocentric", "v_sun", "z"): f"{v_sun[2]:.10g}",
            macro_name("galactocentric", "galcen_ra"): f"{float(frame['galcen_ra_deg']):.10g}",
            macro_name("galactocentric", "galcen_dec"): f"{float(frame['galcen_dec_deg']):.10g}",
            macro_name("galactocentric", "frame_version"): str(frame["astropy_parameter_set"]),
        }
    )
    return macros

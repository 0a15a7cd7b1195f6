"""Systematic floors of Gaia DR3 astrometry that do not average down with more stars.

A cluster's mean parallax and proper motion are measured to far better than Gaia's
small-scale systematics over the cluster's few arcminutes: with a few hundred members the
statistical error of the mean proper motion is ~0.003 mas/yr, while the systematics are
0.010-0.025 mas/yr. The reported quantities therefore add a floor:

- parallax: 0.011 mas (``parallax_systematic_mas``; Lindegren et al. 2021, A&A 649, A4;
  Maiz Apellaniz et al. 2021, A&A 649, A13; Vasiliev & Baumgardt 2021, MNRAS 505, 5978);
- proper motion: 0.02 mas/yr in each component (``pm_systematic_masyr``; Lindegren et al.
  2021, A&A 649, A2: 0.010-0.025 mas/yr on scales of a degree and below; Vasiliev &
  Baumgardt 2021: 0.026 mas/yr for globular clusters).

Each floor enters as one seeded N(0, floor^2) offset per posterior draw, added to the
statistical draw of the cluster's parallax or proper motion before anything is derived
from it (distance, ICRS and Galactocentric position and velocity), so that every derived
quantity inherits it with the right correlations. A model's ``summary_quantities`` with
:func:`without_systematics` options gives the statistical part alone, and with
:func:`with_one_floor` options the statistical part and one floor: the error budget.

A fitted parallax zero-point offset (``zero_point_offset_prior_sd_mas`` = s > 0 in
``parallax_1d`` and ``phase_space``; off by default, 0.015 mas suggested by issue 12):
every observed parallax is modelled as the true one plus one offset d ~ N(0, s^2) shared by
all stars of the catalogue. What the data can identify: only the members' true parallax
plus d. The field's parallax density is learned from the same catalogue (the binned field
of ``parallax_1d``, the control-field or joint mixture of ``phase_space``), so a shifted
field is just another field of the same family, and the models write it directly for the
observed parallaxes (d enters the members' term only; the EDSD field of ``parallax_1d``,
a density of true distances, would need its integral re-tabulated at every d and refuses
the option). The posterior of d is therefore its prior, and the cluster's true parallax
plx_cl = (plx_cl + d) - d has the statistical error and s in quadrature: the offset acts
as a systematic floor carried by every posterior draw, and whatever is derived from
plx_cl (distance, position, velocity) inherits it. The offset and the floor describe the
same thing, a parallax zero point common to the cone's stars, so counting both would
count it twice. The rule (:func:`remaining_parallax_floor`): with the offset fitted, the
floor added after the fit is sqrt(max(floor^2 - s^2, 0)), so the total parallax systematic
is max(floor, s) (with s = 0.015 mas > 0.011 mas: no floor is added). For the budget, the
statistical part of the parallax is plx_cl + d (what the data constrain; :func:`parallax_draws`
with ``zero_point_systematic`` false, as :func:`without_systematics` sets it), and the
parallax floor's part is the offset's and the remaining floor's together.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

#: Gaia DR3 small-scale systematic floor of the parallax (mas).
PARALLAX_FLOOR_MAS = 0.011
#: Gaia DR3 small-scale systematic floor of each proper-motion component (mas/yr).
PM_FLOOR_MASYR = 0.02
#: The options that hold the floors, and the name of each in the error budget.
FLOOR_OPTIONS = ("parallax_systematic_mas", "pm_systematic_masyr")
FLOOR_NAMES = {"parallax_systematic_mas": "parallax", "pm_systematic_masyr": "pm"}
#: The option of the fitted parallax zero-point offset's prior sd (mas; 0: not fitted), the
#: width issue 12 suggests, and the offset's name in the trace (mas).
ZERO_POINT_OPTION = "zero_point_offset_prior_sd_mas"
ZERO_POINT_SUGGESTED_SD_MAS = 0.015
ZERO_POINT_VARIABLE = "parallax_zero_point_offset"
#: A summary-only option: false takes the fitted offset's spread out of the reported
#: parallax (the statistical part of the budget); absent or true keeps it.
ZERO_POINT_IN_SUMMARY = "zero_point_systematic"


def systematic_draws(like: xr.DataArray, sd: float, seed: int) -> xr.DataArray:
    """One N(0, sd^2) draw per posterior draw (shape and dims of ``like``), from ``seed``."""
    rng = np.random.default_rng(seed)
    return xr.DataArray(rng.normal(0.0, sd, like.shape), dims=like.dims, coords=like.coords)


def pm_systematic_draws(
    like: xr.DataArray, sd: float, seed: int
) -> tuple[xr.DataArray, xr.DataArray]:
    """Independent floors of pmra and pmdec (mas/yr), one N(0, sd^2) each per posterior
    draw, from a stream of ``seed`` separate from the parallax's."""
    rng = np.random.default_rng([seed, 1])
    shifts = rng.normal(0.0, sd, (2, *like.shape))
    return tuple(  # type: ignore[return-value]
        xr.DataArray(shift, dims=like.dims, coords=like.coords) for shift in shifts
    )


def remaining_parallax_floor(floor_mas: float, offset_sd_mas: float) -> float:
    """The parallax floor (mas) still to add after a fit with a zero-point offset of prior
    sd ``offset_sd_mas`` (mas): sqrt(max(floor^2 - sd^2, 0)), so that the two, one
    systematic, add up to max(floor, sd) and are not counted twice."""
    return float(np.sqrt(max(floor_mas**2 - offset_sd_mas**2, 0.0)))


def parallax_draws(posterior: xr.Dataset, options: Mapping[str, Any], seed: int) -> xr.DataArray:
    """The reported parallax draws (mas): ``parallax_cl`` plus one seeded N(0, floor^2) draw
    per posterior draw, floor = ``parallax_systematic_mas``; with a fitted zero-point
    offset (:data:`ZERO_POINT_VARIABLE` in ``posterior``) the floor is the
    :func:`remaining_parallax_floor`, and with ``zero_point_systematic`` false the offset
    is added back (plx_cl + d: the statistical part alone, see the module docstring)."""
    plx = posterior["parallax_cl"]
    floor = float(options["parallax_systematic_mas"])
    if ZERO_POINT_VARIABLE in posterior:
        floor = remaining_parallax_floor(floor, float(options.get(ZERO_POINT_OPTION, 0.0)))
        if not options.get(ZERO_POINT_IN_SUMMARY, True):
            plx = plx + posterior[ZERO_POINT_VARIABLE]
    return plx + systematic_draws(plx, floor, seed)


def without_systematics(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with every systematic floor set to zero and a fitted zero-point offset's
    spread taken out: a model's ``summary_quantities`` then gives the statistical part
    alone."""
    return {**options, **dict.fromkeys(FLOOR_OPTIONS, 0.0), ZERO_POINT_IN_SUMMARY: False}


def with_one_floor(options: Mapping[str, Any], floor: str) -> dict[str, Any]:
    """``options`` with every systematic floor but ``floor`` (a key of
    :data:`FLOOR_OPTIONS`) set to zero; a fitted zero-point offset counts with the
    parallax floor (``parallax_systematic_mas``) and is taken out with the others."""
    keep_offset = floor == "parallax_systematic_mas"
    return {
        **options,
        **{name: 0.0 for name in FLOOR_OPTIONS if name != floor},
        ZERO_POINT_IN_SUMMARY: keep_offset,
    }

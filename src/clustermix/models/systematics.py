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


def without_systematics(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with every systematic floor set to zero: a model's
    ``summary_quantities`` then gives the statistical part alone."""
    return {**options, **dict.fromkeys(FLOOR_OPTIONS, 0.0)}


def with_one_floor(options: Mapping[str, Any], floor: str) -> dict[str, Any]:
    """``options`` with every systematic floor but ``floor`` (a key of
    :data:`FLOOR_OPTIONS`) set to zero."""
    return {**options, **{name: 0.0 for name in FLOOR_OPTIONS if name != floor}}

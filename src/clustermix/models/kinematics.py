"""Sky geometry and the projection of 3D velocities, written out for use inside a model.

Every function takes an array module ``xp`` (``numpy``, the default, or
``pytensor.tensor``), so that the same formulas run in NumPy (summaries, tests) and in a
PyMC model. Angles are in degrees unless a name says otherwise; the conventions are
astropy's ICRS ones, and tests/test_model_phase_space.py checks every function against
astropy (:class:`~astropy.coordinates.SkyCoord` with distance, proper motion and radial
velocity, and a gnomonic :class:`~astropy.wcs.WCS`).

- At (ra, dec) the unit vectors are the line of sight n = (cos d cos a, cos d sin a, sin d),
  east e_a = (-sin a, cos a, 0) and north e_d = (-sin d cos a, -sin d sin a, cos d).
- A velocity v (km/s, ICRS Cartesian) seen at parallax w (mas) has proper motions
  pmra* = w (e_a . v) / K and pmdec = w (e_d . v) / K (mas/yr) and radial velocity n . v,
  with K = 4.740470463533348 km/s per (mas/yr x kpc) (one au per Julian year).
- The tangent plane (gnomonic projection) about (ra0, dec0) has coordinates
  xi (towards east) and eta (towards north) in arcmin: the projection of n onto e_a(0)
  and e_d(0) divided by its projection onto n(0).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

#: km/s per (mas/yr x kpc): one astronomical unit per Julian year.
KMS_PER_MASYR_KPC = 4.740470463533348
ARCMIN_PER_RAD = 60.0 * 180.0 / np.pi


def sky_basis(ra_deg: Any, dec_deg: Any, xp: ModuleType = np) -> tuple[Any, Any, Any]:
    """Line of sight, east and north unit vectors at (ra, dec), each shaped (..., 3)."""
    ra = ra_deg * (np.pi / 180.0)
    dec = dec_deg * (np.pi / 180.0)
    cos_ra, sin_ra = xp.cos(ra), xp.sin(ra)
    cos_dec, sin_dec = xp.cos(dec), xp.sin(dec)
    los = xp.stack([cos_dec * cos_ra, cos_dec * sin_ra, sin_dec], axis=-1)
    east = xp.stack([-sin_ra, cos_ra, 0.0 * ra], axis=-1)
    north = xp.stack([-sin_dec * cos_ra, -sin_dec * sin_ra, cos_dec], axis=-1)
    return los, east, north


def dot3(a: Any, b: Any) -> Any:
    """a . b over the last axis of length 3, written out (broadcasts; NumPy or PyTensor)."""
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1] + a[..., 2] * b[..., 2]


def velocity_to_observables(
    velocity_kms: Any, los: Any, east: Any, north: Any, parallax_mas: Any
) -> tuple[Any, Any, Any]:
    """(pmra*, pmdec) in mas/yr and the radial velocity in km/s of ``velocity_kms`` (..., 3).

    ``los``, ``east``, ``north`` from :func:`sky_basis` at each star's position;
    ``parallax_mas`` is the parallax of the point that moves with that velocity.
    """
    scale = parallax_mas / KMS_PER_MASYR_KPC
    return (
        dot3(east, velocity_kms) * scale,
        dot3(north, velocity_kms) * scale,
        dot3(los, velocity_kms),
    )


def observables_to_velocity(
    ra_deg: Any,
    dec_deg: Any,
    parallax_mas: Any,
    pmra_masyr: Any,
    pmdec_masyr: Any,
    rv_kms: Any,
    xp: ModuleType = np,
) -> Any:
    """ICRS Cartesian velocity (..., 3) in km/s of a point with these observables.

    v = K (pmra e_a + pmdec e_d) / parallax + rv n.
    """
    los, east, north = sky_basis(ra_deg, dec_deg, xp)
    tangential = KMS_PER_MASYR_KPC / parallax_mas
    return (
        _column(tangential * pmra_masyr, xp) * east
        + _column(tangential * pmdec_masyr, xp) * north
        + _column(rv_kms, xp) * los
    )


def sky_to_position(ra_deg: Any, dec_deg: Any, parallax_mas: Any, xp: ModuleType = np) -> Any:
    """ICRS Cartesian position (..., 3) in pc at distance 1000 / parallax."""
    los, _, _ = sky_basis(ra_deg, dec_deg, xp)
    return _column(1000.0 / parallax_mas, xp) * los


def tangent_plane(
    ra_deg: np.ndarray, dec_deg: np.ndarray, ra0_deg: float, dec0_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gnomonic coordinates (xi towards east, eta towards north), in arcmin, about (ra0, dec0)."""
    los, _, _ = sky_basis(np.asarray(ra_deg, float), np.asarray(dec_deg, float))
    los0, east0, north0 = sky_basis(np.asarray(ra0_deg, float), np.asarray(dec0_deg, float))
    along = dot3(los, los0)
    return (
        ARCMIN_PER_RAD * dot3(los, east0) / along,
        ARCMIN_PER_RAD * dot3(los, north0) / along,
    )


def tangent_plane_to_sky(
    xi_arcmin: Any, eta_arcmin: Any, ra0_deg: float, dec0_deg: float, xp: ModuleType = np
) -> tuple[Any, Any]:
    """(ra, dec) in deg of the tangent-plane point (xi, eta) (arcmin) about (ra0, dec0).

    The inverse of :func:`tangent_plane`; ra is returned in [0, 360).
    """
    los0, east0, north0 = sky_basis(np.asarray(ra0_deg, float), np.asarray(dec0_deg, float))
    xi = xi_arcmin / ARCMIN_PER_RAD
    eta = eta_arcmin / ARCMIN_PER_RAD
    x = los0[0] + xi * east0[0] + eta * north0[0]
    y = los0[1] + xi * east0[1] + eta * north0[1]
    z = los0[2] + xi * east0[2] + eta * north0[2]
    ra = xp.arctan2(y, x) * (180.0 / np.pi)
    dec = xp.arctan2(z, xp.sqrt(x**2 + y**2)) * (180.0 / np.pi)
    return xp.mod(ra, 360.0), dec


def _column(value: Any, xp: ModuleType) -> Any:
    """``value`` with a new last axis of length 1, to scale vectors (..., 3)."""
    array = np.asarray(value) if xp is np else xp.as_tensor_variable(value)
    return array[..., None]

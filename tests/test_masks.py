"""Sky masks: separations from the centre and the two regions."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from clustermix.data.masks import sky_masks
from clustermix.errors import ConfigError, InputDataError

from .gaia_factory import NGC6819_DEC_DEG, NGC6819_RA_DEG, make_gaia_table

SOURCE = "results/test/catalog.fits"
CENTRE = {"ra_deg": NGC6819_RA_DEG, "dec_deg": NGC6819_DEC_DEG}
RADII = {"cluster_radius_arcmin": 5.0, "control_min_arcmin": 15.0}
SEPARATIONS_ARCMIN = np.array([0.0, 1.0, 2.0, 4.9, 5.1, 10.0, 14.9, 15.1, 19.0, 30.0])


def masks_for(catalog: Table, **overrides) -> Table:
    return sky_masks(catalog, **{**CENTRE, **RADII, "source": SOURCE, **overrides})


def constructed_field() -> Table:
    """Stars at known separations from the centre, at assorted position angles."""
    angles = np.linspace(0.0, 360.0, SEPARATIONS_ARCMIN.size, endpoint=False) * u.deg
    centre = SkyCoord(CENTRE["ra_deg"] * u.deg, CENTRE["dec_deg"] * u.deg)
    stars = centre.directional_offset_by(angles, SEPARATIONS_ARCMIN * u.arcmin)
    return Table(
        {
            "source_id": np.arange(100, 100 + SEPARATIONS_ARCMIN.size, dtype=np.int64),
            "ra": stars.ra.deg * u.deg,
            "dec": stars.dec.deg * u.deg,
        }
    )


def test_separations_match_astropy():
    catalog = make_gaia_table(500, seed=5, radius_arcmin=25.0)
    masks = masks_for(catalog)
    centre = SkyCoord(CENTRE["ra_deg"] * u.deg, CENTRE["dec_deg"] * u.deg)
    expected = centre.separation(SkyCoord(catalog["ra"], catalog["dec"])).arcmin
    np.testing.assert_allclose(masks["separation_arcmin"], expected, rtol=0, atol=1e-9)
    assert masks["separation_arcmin"].unit == u.arcmin
    np.testing.assert_array_equal(masks["source_id"], catalog["source_id"])
    assert masks.colnames == [
        "source_id",
        "separation_arcmin",
        "in_cluster_region",
        "in_control_field",
    ]


def test_counts_for_a_constructed_field():
    masks = masks_for(constructed_field())
    np.testing.assert_allclose(masks["separation_arcmin"], SEPARATIONS_ARCMIN, atol=1e-9)
    assert list(masks["in_cluster_region"]) == [True] * 4 + [False] * 6
    assert list(masks["in_control_field"]) == [False] * 7 + [True] * 3
    assert not (masks["in_cluster_region"] & masks["in_control_field"]).any()


def test_coordinates_without_units_are_degrees():
    field = constructed_field()
    field["ra"].unit = None
    field["dec"].unit = None
    np.testing.assert_allclose(masks_for(field)["separation_arcmin"], SEPARATIONS_ARCMIN, atol=1e-9)


def test_empty_cluster_region():
    field = constructed_field()[5:]
    with pytest.raises(InputDataError) as info:
        masks_for(field)
    message = str(info.value)
    assert SOURCE in message
    assert "cluster region is empty" in message
    assert "cluster_radius_arcmin = 5.0 arcmin" in message


def test_empty_control_field():
    field = constructed_field()[:6]
    with pytest.raises(InputDataError) as info:
        masks_for(field)
    message = str(info.value)
    assert SOURCE in message
    assert "control field is empty" in message
    assert "control_min_arcmin = 15.0 arcmin" in message


def test_missing_coordinates():
    field = constructed_field()
    field.remove_column("dec")
    with pytest.raises(InputDataError, match=r"catalog\.fits: sky masks need the column\(s\) dec"):
        masks_for(field)


def test_overlapping_regions_are_a_config_error():
    with pytest.raises(ConfigError, match="control_min_arcmin"):
        masks_for(constructed_field(), cluster_radius_arcmin=10.0, control_min_arcmin=8.0)

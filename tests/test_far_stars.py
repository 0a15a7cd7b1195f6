"""Stars too far from the cluster to matter, compressed into one term of the likelihood."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from clustermix.data.prepared import prepared_field
from clustermix.fit.far_stars import (
    FAR_STAR_P_MAX,
    check_far_stars,
    far_star_mask,
    plausible_points,
    reduce_data,
)
from clustermix.fit.run import prepare_cluster_fit
from clustermix.models.mixture import N_FAR_STARS, n_stars_described
from clustermix.models.modes import candidate_centres, search_modes, sky_regions
from clustermix.models.pm_2d import model as pm_2d
from clustermix.models.registry import model_options

REPO = Path(__file__).resolve().parents[1]


def test_reduce_data_cuts_the_per_star_arrays_and_counts_the_far_stars() -> None:
    data = {
        "source_id": np.arange(5),
        "pmra": np.linspace(0.0, 1.0, 5),
        "field_weights": np.ones((5, 3)) / 3,
        "field_means": np.zeros((2, 3)),  # not per star: kept whole
        "cone_radius_arcmin": 20.0,
    }
    far = np.array([True, False, True, False, False])
    reduced = reduce_data(data, far)
    assert list(reduced["source_id"]) == [1, 3, 4]
    assert reduced["field_weights"].shape == (3, 3)
    assert reduced["field_means"].shape == (2, 3)
    assert reduced["cone_radius_arcmin"] == 20.0
    assert reduced[N_FAR_STARS] == 2 and n_stars_described(reduced) == 5
    again = reduce_data(reduced, np.array([False, False, True]))
    assert again[N_FAR_STARS] == 3 and n_stars_described(again) == 5
    with pytest.raises(ValueError, match="shape"):
        reduce_data(data, far[:3])


def test_compressed_pm_2d_differs_from_the_full_model_by_a_constant() -> None:
    """On a default-like field (1,800 stars), most stars are far from the cluster; the model
    of the others plus M log(1 - f) differs from the model of every star by the same
    constant (the far stars' field terms) at the mode and at every point of the box around
    it, to within the bound M eps / (1 - eps) nats the compression claims (eps: the far
    stars' largest membership probability there)."""
    cluster = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["clusters"][0]
    simulation = dict(cluster["simulation"])
    simulation.update(
        seed=11,
        n_members=round(simulation["n_members"] * 0.1),
        n_field=round(simulation["n_field"] * 0.1),
    )
    catalog, _ = prepared_field(
        {key: cluster[key] for key in ("ra_deg", "dec_deg", "radius_arcmin")} | simulation
    )
    options, data, _ = prepare_cluster_fit(pm_2d, model_options(pm_2d, {}), catalog, "sim")
    model = pm_2d.build_model(data, options)
    search = search_modes(
        pm_2d,
        model,
        data,
        options,
        candidate_centres(catalog, None, "sim"),
        sky_regions(catalog, data["source_id"], "sim"),
    )
    start = search.chosen.start
    far = far_star_mask(model, start, pm_2d.far_star_eligible(data, options))
    assert 0.5 * far.size < far.sum() < far.size
    reduced = reduce_data(data, far)
    compressed = pm_2d.build_model(reduced, options)
    assert n_stars_described(reduced) == far.size

    names = [var.name for var in model.continuous_value_vars]
    assert names == [var.name for var in compressed.continuous_value_vars]
    logp_full, logp_compressed = model.compile_logp(), compressed.compile_logp()
    far_term = compressed.compile_fn(
        inputs=compressed.continuous_value_vars,
        outs=compressed["far_stars"],
        on_unused_input="ignore",
        point_fn=False,
    )
    differences, terms = [], []
    for values in plausible_points(model, start):
        point = dict(zip(names, values, strict=True))
        differences.append(float(logp_full(point)) - float(logp_compressed(point)))
        terms.append(float(far_term(*values)))
    bound = far.sum() * FAR_STAR_P_MAX / (1.0 - FAR_STAR_P_MAX)
    assert np.ptp(differences) <= bound
    # without the far stars' term, M log(1 - f), the difference would follow f
    assert np.ptp(np.asarray(differences) + np.asarray(terms)) > 100 * bound
    # after sampling, the compressed stars are checked at the draws: at the mode they pass,
    # and a bound below their p stops the fit
    import xarray as xr

    at_mode = xr.Dataset(
        {
            rv.name: ([f"d{rv.name}{i}" for i in range(np.ndim(start[rv.name]))], start[rv.name])
            for rv in model.free_RVs
        }
    ).expand_dims(chain=1, draw=1)
    largest = check_far_stars(model, at_mode, far)
    assert 0.0 <= largest <= FAR_STAR_P_MAX
    with pytest.raises(ValueError, match="far from the cluster"):
        check_far_stars(model, at_mode, far, p_check=-1.0)  # below any probability

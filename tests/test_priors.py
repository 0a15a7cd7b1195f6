"""The table of priors is read from the built models, so it follows their options."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm

from clustermix.fit.diagnostics import fit_setup
from clustermix.fit.sampling import stamp_trace, trace_attrs
from clustermix.models.line_outliers import model as line_outliers
from clustermix.models.parallax_1d import model as parallax_1d
from clustermix.models.priors import prior_rows
from clustermix.paper.macros import prior_table_rows


def test_line_model_priors_are_the_tutorials() -> None:
    data = line_outliers.prepare_data(None, {}, "tutorial")
    rows = prior_rows(line_outliers.build_model(data))
    assert rows == [
        {"variable": "m", "prior": "Uniform(0, 10)", "dims": []},
        {"variable": "b", "prior": "Normal(0, 25)", "dims": []},
        {"variable": "ln_s_out", "prior": "Uniform(-3, 4)", "dims": []},
        {"variable": "w", "prior": "Dirichlet([1, 1])", "dims": ["component"]},
    ]


def test_priors_follow_the_options_and_the_data() -> None:
    rng = np.random.default_rng(2)
    n = 200
    data = {
        "source_id": np.arange(n),
        "parallax": rng.normal(0.4, 0.2, n),
        "parallax_error": np.full(n, 0.1),
    }
    options = {
        **parallax_1d.DEFAULT_OPTIONS,
        "field_model": "edsd",
        "parallax_prior_range_mas": [0.1, 5.0],
        "length_scale_varies_with_g": False,
        "cluster_min_members": 40,
    }
    rows = {
        row["variable"]: row["prior"] for row in prior_rows(parallax_1d.build_model(data, options))
    }
    assert rows["parallax_cl"] == "Uniform(0.1, 5)"
    assert rows["f_cluster"] == "Uniform(0.2, 1)"  # at least 40 of the 200 stars
    assert "ln_length_scale_slope" not in rows
    binned = {
        **data,
        "g_bin": rng.integers(0, 2, n),
        "control_parallax": rng.normal(0.4, 0.3, 3 * n),
        "control_parallax_error": np.full(3 * n, 0.1),
        "control_g_bin": rng.integers(0, 2, 3 * n),
        "field_bin_centres": parallax_1d.field_bin_centres(rng.normal(0.4, 0.3, n), 12),
    }
    rows = {
        row["variable"]: row
        for row in prior_rows(parallax_1d.build_model(binned, parallax_1d.DEFAULT_OPTIONS))
    }
    assert rows["field_log_weights"]["prior"] == "RandomWalk(Normal(0, 1), Normal(0, 1), 10)"
    assert "ln_length_scale_field" not in rows


def test_truncated_and_dependent_priors_are_written_out() -> None:
    with pm.Model(coords={"k": range(6)}) as model:
        radius = pm.Truncated("radius", pm.LogNormal.dist(np.log(5.0), 1.0), lower=0, upper=20)
        pm.Dirichlet("w", np.ones(6), dims="k")
        pm.Normal("y", radius, 2.0)
    rows = {row["variable"]: row for row in prior_rows(model)}
    assert rows["radius"]["prior"] == "LogNormal(1.609, 1) on [0, 20]"
    assert rows["w"]["prior"] == "Dirichlet([1, ..., 1])" and rows["w"]["dims"] == ["k"]
    assert rows["y"]["prior"] == "Normal(f(radius), 2)"


def test_prior_table_rows_name_each_fit_once() -> None:
    # through the trace's attributes, as the workflow stores and reads them
    idata = az.InferenceData()
    stamp_trace(
        idata,
        priors=[
            {"variable": "pmra_cl", "prior": "Normal(0, 10)", "dims": []},
            {"variable": "w_field", "prior": "Dirichlet([1, 1, 1])", "dims": ["component"]},
        ],
    )
    rows = prior_table_rows("pm_2d", {"setup": fit_setup(trace_attrs(idata))})
    assert rows == [
        [r"pm\_2d", r"\texttt{pmra\_cl}", "Normal(0, 10)"],
        ["", r"\texttt{w\_field} [component]", "Dirichlet([1, 1, 1])"],
    ]
    assert prior_table_rows("old", {"setup": fit_setup({})}) == []

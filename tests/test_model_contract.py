"""Every registered model keeps the one contract the rest of the library relies on.

A model is a package ``clustermix.models.<name>``: a PyMC-free ``SPEC`` in its
``__init__``, the PyMC model in ``model.py``, its graphical model in ``diagram.py``, and
(for the components figure) its densities in ``densities.py``. These tests run every
registered model through that contract, so that a new model that breaks it fails here, and
show that adding a model is adding one package (``test_a_new_model_is_one_package``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from matplotlib.colors import is_color_like
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle

from clustermix.data.columns import GAIA_COLUMN_NAMES
from clustermix.models import CLUSTER_MODEL_NAMES, MODEL_NAMES, MODEL_SPECS
from clustermix.models.registry import get_model, get_model_part, model_options
from clustermix.models.spec import Diagram
from clustermix.plotting.corner import CORNER_LABELS

from .conftest import REPO, TEST_CONFIG, copy_workflow, run_snakemake

MODELS_DIR = REPO / "src" / "clustermix" / "models"
#: Callables and constants every model's ``model.py`` provides (see clustermix.models).
MODEL_INTERFACE = ("prepare_data", "build_model", "summary_quantities", "true_values")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_is_a_package_with_a_complete_spec(name: str) -> None:
    spec = MODEL_SPECS[name]
    assert spec.name == name
    assert (MODELS_DIR / name / "model.py").is_file()
    assert isinstance(get_model_part(name, "diagram").DIAGRAM, Diagram)
    look = spec.presentation
    assert look.label and look.prose
    assert is_color_like(look.colour)
    MarkerStyle(look.marker)  # raises for a marker matplotlib does not know
    Line2D([], [], linestyle=look.linestyle)  # the same for a line style
    assert len(look.corner_quantities) >= 2
    assert set(look.corner_quantities) <= set(CORNER_LABELS)
    assert spec.resources.mem_mb > 0 and spec.resources.runtime_min > 0
    assert spec.catalogue_columns <= set(GAIA_COLUMN_NAMES)
    if spec.kind == "cluster":
        assert spec.adoption_rank is not None and spec.catalogue_columns
    if look.component_panel is not None:
        assert (MODELS_DIR / name / "densities.py").is_file()


def test_specs_rank_and_look_apart() -> None:
    """One colour, one label, one adoption rank per model, so that no two models can be
    confused in a figure or tie for a cluster's adopted values."""
    specs = list(MODEL_SPECS.values())
    for attribute in ("colour", "label"):
        values = [getattr(spec.presentation, attribute) for spec in specs]
        assert len(set(values)) == len(values), attribute
    ranks = [spec.adoption_rank for spec in specs if spec.adoption_rank is not None]
    assert len(set(ranks)) == len(ranks)
    assert [spec.order for spec in specs] == sorted(spec.order for spec in specs)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_the_model_module_has_the_interface(name: str) -> None:
    module = get_model(name)
    assert module.NAME == name
    assert isinstance(module.DEFAULT_OPTIONS, dict)
    for attribute in MODEL_INTERFACE:
        assert callable(getattr(module, attribute)), attribute


def test_reading_the_specs_loads_neither_pymc_nor_matplotlib() -> None:
    """The workflow's DAG, the config check and the catalogue checks read the specs; that
    must not cost a PyMC or matplotlib import."""
    code = (
        "import sys, clustermix.models, clustermix.models.registry, clustermix.data.columns, "
        "clustermix.config; "
        "print([m for m in ('pymc', 'pytensor', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


@pytest.fixture(scope="module")
def small_field():
    """A small simulated field at NGC 6819, cleaned and masked as the workflow does (the
    default field at about 5% of its size)."""
    from clustermix.data.prepared import prepared_field

    cluster = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["clusters"][0]
    simulation = {key: cluster[key] for key in ("ra_deg", "dec_deg", "radius_arcmin")}
    simulation.update(cluster["simulation"], seed=11, n_members=100, n_field=900, g_max_mag=19.0)
    return prepared_field(simulation)[0]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_builds_with_a_finite_log_density_at_its_start(name: str, small_field) -> None:
    """Each model's data preparation, model and starting point work together: the log
    density (compiled without optimisation, to keep the test short) is finite there."""
    import pytensor

    from clustermix.fit.run import prepare_cluster_fit

    module = get_model(name)
    options = model_options(module, {})
    if name in CLUSTER_MODEL_NAMES:
        options, data, _ = prepare_cluster_fit(module, options, small_field, "small field")
    else:
        data = module.prepare_data(None, options, "example data")
    model = module.build_model(data, options)
    with pytensor.config.change_flags(mode="FAST_COMPILE"):
        logp = model.compile_logp()(model.initial_point())
    assert np.isfinite(logp)


def test_phase_space_builds_with_the_cmd_term_on(small_field) -> None:
    """The same contract for phase_space with its colour-magnitude term switched on (off
    by default): the prepared data, the model and its start work together, and the start
    holds the term's variables. Compiled in the default mode: the log density is then a sum
    of more than 32 terms, which PyTensor's Python implementation (FAST_COMPILE) cannot add
    in one NumPy ufunc."""
    from clustermix.fit.run import prepare_cluster_fit

    module = get_model("phase_space")
    options = model_options(module, {"cmd_term": True})
    options, data, _ = prepare_cluster_fit(module, options, small_field, "small field")
    model = module.build_model(data, options)
    start = module.initial_values(data, options)
    assert {"cmd_ridge_colour", "cmd_width", "cmd_binary_fraction"} <= set(start)
    assert {rv.name for rv in model.free_RVs} <= set(start)
    assert np.isfinite(model.compile_logp()(model.initial_point()))


TOY_SPEC = '''
"""A toy cluster model added to test that a model is one package."""

from clustermix.models.spec import ModelSpec, Presentation, Resources

SPEC = ModelSpec(
    name="toy_pm",
    order=9,
    kind="cluster",
    presentation=Presentation(
        label="toy (pmRA)",
        prose="toy",
        colour="#777777",
        marker="x",
        linestyle=":",
        corner_quantities=("pmra", "f_cluster"),
    ),
    resources=Resources(mem_mb=1000, runtime_min=5),
    adoption_rank=9,
    catalogue_columns=frozenset({"pmra", "pmra_error"}),
)
'''

TOY_DIAGRAM = '''
"""The toy's graphical model."""

from clustermix.models.spec import STAR_PLATE, Diagram, Node, Plate

DIAGRAM = Diagram(
    x_range=(-0.6, 2.6),
    y_range=(-0.6, 2.6),
    nodes=(
        Node("mu", r"$\\mu$", 0.0, 2.0),
        Node("x", r"$x_i$", 1.0, 0.5, kind="observed"),
        Node("e", r"$e_i$", 2.0, 0.5, kind="fixed"),
    ),
    edges=((("mu", "e"), "x"),),
    plates=(Plate(0.4, -0.4, 2.0, 1.6, STAR_PLATE),),
)
'''


def test_a_new_model_is_one_package(tmp_path: Path) -> None:
    """Adding a model touches no other file: a toy package dropped into a copy of the
    project is a model of the library (its name, look, catalogue columns and adoption
    rank), of the config (``models.toy_pm``) and of the workflow (its fits, summaries and
    figures are jobs of a dry run, once per cluster that does not list its models)."""
    workdir = copy_workflow(tmp_path / "clustermix")
    package = workdir / "src" / "clustermix" / "models" / "toy_pm"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(TOY_SPEC))
    model_text = (REPO / "tests" / "toy_model.py").read_text()
    (package / "model.py").write_text(model_text.replace('NAME = "toy"', 'NAME = "toy_pm"'))
    (package / "diagram.py").write_text(textwrap.dedent(TOY_DIAGRAM))
    probe = textwrap.dedent(
        """
        import json
        from clustermix.config import check_config
        from clustermix.data.columns import required_columns
        from clustermix.errors import ConfigError
        from clustermix.models import MODEL_NAMES
        from clustermix.models.registry import adoption_order, get_model
        from clustermix.plotting.pgm import model_diagram
        from clustermix.plotting.style import MODEL_COLOURS

        config = {"clusters": [], "masks": {"cluster_radius_arcmin": 5,
                  "control_min_arcmin": 15}, "models": {"toy_pm": {"enabled": True}}}
        check_config(config)
        print(json.dumps({
            "names": list(MODEL_NAMES),
            "colour": MODEL_COLOURS["toy_pm"],
            "columns": list(required_columns(["toy_pm"], zero_point=False)),
            "adoption": list(adoption_order()),
            "module": get_model("toy_pm").__name__,
            "diagram": type(model_diagram("toy_pm")).__name__,
        }))
        """
    )
    env = {"PYTHONPATH": str(workdir / "src"), "PATH": str(Path(sys.executable).parent)}
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=workdir
    )
    assert out.returncode == 0, out.stderr[-3000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["names"][-1] == "toy_pm" and set(MODEL_NAMES) < set(seen["names"])
    assert seen["colour"] == "#777777"
    assert {"pmra", "pmra_error"} <= set(seen["columns"])
    assert seen["adoption"][-1] == "toy_pm"
    assert seen["module"] == "clustermix.models.toy_pm.model"
    assert seen["diagram"] == "PGM"

    # the workflow: a dry run of the tiny config plans the toy's jobs for every cluster
    process = run_snakemake(
        workdir, "-n", "--quiet", "rules", *TEST_CONFIG, env={"PYTHONPATH": str(workdir / "src")}
    )
    text = process.stdout + process.stderr
    clusters = yaml.safe_load((workdir / "config/test.yaml").read_text())["clusters"]
    counts = {
        line.split()[0]: int(line.split()[1])
        for line in text.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
    # the toy joins every cluster that does not list its models (clusters[].models)
    n_fits = sum(
        len(cluster.get("models") or [*CLUSTER_MODEL_NAMES, "toy"]) for cluster in clusters
    )
    assert any("models" not in cluster for cluster in clusters)
    assert counts["fit_model"] == counts["summarize_fit"] == n_fits

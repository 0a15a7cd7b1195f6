"""The config schema and the cross-key checks reject bad configurations by key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from clustermix.config import check_config, cluster_source
from clustermix.errors import ConfigError

from .conftest import REPO, run_snakemake

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")


def load(name: str) -> dict:
    return yaml.safe_load((REPO / "config" / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "test.yaml"])
def test_shipped_configs_are_valid(name: str) -> None:
    config = load(name)
    validate(config, SCHEMA)
    check_config(config, workdir=REPO)


def test_schema_fills_defaults() -> None:
    config = load("test.yaml")
    del config["cuts"]["ruwe_max"]
    validate(config, SCHEMA)
    assert config["cuts"]["ruwe_max"] == 1.4
    assert config["data"]["archive"]["table"] == "gaiadr3.gaia_source"
    assert config["reference"]["catalogues"] == ["hunt2023", "cantat2020"]
    assert config["reference"]["vizier_server"] is None


def mutated(path: tuple, value) -> dict:
    config = copy.deepcopy(load("config.yaml"))
    target = config
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("data", "source"), "gaia", "source"),
        (("clusters", 0, "name"), "NGC 6819", "name"),
        (("clusters", 0, "name"), "../etc", "name"),
        (("clusters", 0, "name"), "examples", "name"),
        (("clusters", 0, "dec_deg"), 95.0, "dec_deg"),
        (("clusters", 0, "radius_arcmin"), -1.0, "radius_arcmin"),
        (("cuts", "ruwe_max"), "1.4", "ruwe_max"),
        (("cuts", "bogus_key"), 1, "bogus_key"),
        (("data", "archive", "table"), "gaiadr3.gaia_source; DROP TABLE x", "table"),
        (("data", "archive", "tap_url"), "ftp://example.invalid", "tap_url"),
        (("clusters", 0, "simulation", "n_members"), 0, "n_members"),
        (("reference", "catalogues"), ["gaia"], "catalogues"),
        (("reference", "max_retries"), -1, "max_retries"),
        (("clusters", 0, "reference_members"), [{"path": "a.csv", "prob": "p"}], "prob"),
        (("clusters", 0, "reference_members"), [{"path": "a.csv", "member_threshold": 2}], "2"),
        (("sampling", "target"), {"ess": 400, "r_hat": 1.01}, "r_hat"),
        (("sampling", "target"), {"rhat_max": 0.99}, "0.99"),
        (("sampling", "compiler"), "llvm", "llvm"),
    ],
)
def test_schema_rejects_bad_values(path: tuple, value, words: str) -> None:
    with pytest.raises(WorkflowError) as error:
        validate(mutated(path, value), SCHEMA)
    assert words in str(error.value)


def test_schema_rejects_missing_clusters() -> None:
    config = load("config.yaml")
    del config["clusters"]
    with pytest.raises(WorkflowError, match="clusters"):
        validate(config, SCHEMA)


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        (("masks", "control_min_arcmin"), 4.0, "masks.control_min_arcmin"),
        (("masks", "control_min_arcmin"), 25.0, "radius_arcmin"),
        (("data", "source"), "file", "data.path"),
        (("paper", "cluster"), "ngc188", "paper.cluster"),
        (("models", "pm_3d"), {"enabled": True}, "models.pm_3d: unknown model"),
    ],
)
def test_cross_key_checks_name_the_key(path: tuple, value, words: str) -> None:
    config = mutated(path, value)
    validate(config, SCHEMA)
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        check_config(config, workdir=REPO)


def test_missing_user_catalogue_is_named(tmp_path: Path) -> None:
    config = mutated(("data", "source"), "file")
    config["data"]["path"] = "mine/gaia.fits"
    validate(config, SCHEMA)
    with pytest.raises(ConfigError, match=r"data\.path.*mine/gaia\.fits"):
        check_config(config, workdir=tmp_path)


def test_a_cluster_may_take_its_catalogue_from_its_own_source(tmp_path: Path) -> None:
    """A cluster's ``source`` overrides ``data.source``; a file cluster without a path, or
    with a missing file, is named by its index."""
    config = load("test.yaml")
    config["clusters"][1].update(source="file", path=None, reference_members=[])
    validate(config, SCHEMA)
    assert cluster_source(config, "ngc6819") == "simulated"
    assert cluster_source(config, config["clusters"][1]) == "file"
    with pytest.raises(ConfigError, match=r"clusters\[1\]\.path.*m67"):
        check_config(config, workdir=tmp_path)
    config["clusters"][1]["path"] = "theirs/m67.csv"
    with pytest.raises(ConfigError, match=r"clusters\[1\]\.path: catalogue file 'theirs/m67"):
        check_config(config, workdir=tmp_path)
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs/m67.csv").write_text("source_id\n1\n")
    check_config(config, workdir=tmp_path)
    # and the other way round: data.source file, one cluster simulated needs no path
    config = load("config.yaml")
    config["data"]["source"] = "file"
    config["clusters"][0]["source"] = "simulated"
    validate(config, SCHEMA)
    check_config(config, workdir=tmp_path)


def test_a_sampling_target_needs_nutpie_and_null_turns_it_off() -> None:
    """The default target (the fits draw until the gate's thresholds are met) is filled in
    by the schema; a backend that cannot stop at a target is refused before any fit, by
    the key that chose it; ``target: null`` draws a fixed number with any backend, and an
    entry under ``models`` without a target keeps ``sampling``'s."""
    config = load("config.yaml")
    del config["sampling"]["target"]
    validate(config, SCHEMA)
    assert config["sampling"]["target"] == {
        "ess": 400,
        "rhat_max": 1.01,
        "check_every": 100,
        "judge": "cluster",
    }
    config["models"]["pm_2d"]["backend"] = "pymc"
    validate(config, SCHEMA)
    assert "target" not in config["models"]["pm_2d"]
    with pytest.raises(ConfigError, match=r"models\.pm_2d\.backend: 'pymc' cannot stop"):
        check_config(config, workdir=REPO)
    config["models"]["pm_2d"]["target"] = None
    check_config(config, workdir=REPO)
    config["sampling"]["backend"] = "numpyro"
    with pytest.raises(ConfigError, match=r"sampling\.backend: 'numpyro' cannot stop"):
        check_config(config, workdir=REPO)
    config["sampling"]["target"] = None
    check_config(config, workdir=REPO)
    with pytest.raises(WorkflowError, match="judge"):
        validate(mutated(("sampling", "target"), {"judge": "everything"}), SCHEMA)


def test_jax_is_the_default_compiler_and_its_absence_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """nutpie compiles with JAX unless the config says numba; where JAX is not installed a
    fit that would need it is refused before any fit, by the key that chose it, and one
    that does not (numba, or another backend) is not."""
    import clustermix.config as config_module

    config = load("config.yaml")
    del config["sampling"]["compiler"]
    validate(config, SCHEMA)
    assert config["sampling"]["compiler"] == "jax"
    check_config(config, workdir=REPO)
    monkeypatch.setattr(config_module, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"sampling\.compiler: 'jax' needs JAX"):
        check_config(config, workdir=REPO)
    config["models"]["pm_2d"]["compiler"] = "jax"
    config["sampling"]["compiler"] = "numba"
    with pytest.raises(ConfigError, match=r"models\.pm_2d\.compiler: 'jax' needs JAX"):
        check_config(config, workdir=REPO)
    config["models"]["pm_2d"]["backend"] = "pymc"
    config["models"]["pm_2d"]["target"] = None
    check_config(config, workdir=REPO)


def test_schema_rejects_an_unknown_cluster_source() -> None:
    with pytest.raises(WorkflowError, match="source"):
        validate(mutated(("clusters", 0, "source"), "vizier"), SCHEMA)


@pytest.mark.parametrize("models", [[], ["pm_2d", "pm_2d"], "pm_2d"])
def test_schema_rejects_a_bad_cluster_models_list(models) -> None:
    with pytest.raises(WorkflowError, match="models"):
        validate(mutated(("clusters", 0, "models"), models), SCHEMA)


def test_a_cluster_lists_known_enabled_models() -> None:
    """``clusters[].models``: an unknown name, or a list without an enabled model (the
    cluster would be fitted with none), is named by the cluster's index and name."""
    config = load("test.yaml")
    config["clusters"][1]["models"] = ["pm_2d", "pm_3d"]
    validate(config, SCHEMA)
    with pytest.raises(ConfigError, match=r"clusters\[1\]\.models: unknown .*'pm_3d'.*'m67'"):
        check_config(config, workdir=REPO)
    config["clusters"][1]["models"] = ["pm_2d", "phase_space"]
    config["models"] = {"pm_2d": {"enabled": False}, "phase_space": {"enabled": False}}
    with pytest.raises(ConfigError, match=r"clusters\[1\]\.models: none .* 'm67'"):
        check_config(config, workdir=REPO)
    config["models"]["pm_2d"]["enabled"] = True  # one enabled model of the list is enough
    check_config(config, workdir=REPO)


def test_duplicate_cluster_names() -> None:
    config = load("config.yaml")
    config["clusters"].append(copy.deepcopy(config["clusters"][0]))
    validate(config, SCHEMA)
    with pytest.raises(ConfigError, match="duplicate"):
        check_config(config)


def run_with_override(workdir: Path, override: dict):
    """Dry-run the workflow with ``override`` layered over the default config."""
    path = workdir / "override.yaml"
    path.write_text(yaml.safe_dump(override))
    return run_snakemake(
        workdir, "-n", "--configfile", "config/config.yaml", str(path), check=False
    )


def test_snakemake_stops_on_invalid_config(workdir: Path) -> None:
    """The whole workflow refuses to plan anything with a bad key, naming it."""
    process = run_with_override(workdir, {"cuts": {"ruwe_max": -3.0}})
    assert process.returncode != 0
    output = process.stderr + process.stdout
    assert "ruwe_max" in output and "exclusiveMinimum" in output
    assert not (workdir / "results").exists()


def test_snakemake_stops_on_inconsistent_masks(workdir: Path) -> None:
    process = run_with_override(
        workdir, {"masks": {"cluster_radius_arcmin": 10.0, "control_min_arcmin": 8.0}}
    )
    assert process.returncode != 0
    assert "masks.control_min_arcmin (8.0) must be larger" in process.stderr + process.stdout

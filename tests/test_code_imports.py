"""Static discovery of the library modules and packages behind a rule script."""

from __future__ import annotations

from pathlib import Path

from clustermix.code_imports import distribution_versions, script_dependencies
from clustermix.snakemake_records import record_path, wall_time_s

REPO = Path(__file__).resolve().parents[1]


def test_a_figure_script_depends_on_its_plotting_module_and_matplotlib() -> None:
    library, modules = script_dependencies(REPO / "scripts/fig_corner.py", REPO / "src")
    names = {str(path.relative_to(REPO / "src")) for path in library}
    assert "clustermix/plotting/corner.py" in names
    assert "clustermix/plotting/style.py" in names  # imported by corner.py, not the script
    assert "clustermix/__init__.py" in names
    assert "matplotlib" in modules
    assert not {"os", "json", "clustermix"} & modules  # no standard library, no ourselves


def test_package_versions_of_imported_modules() -> None:
    versions = distribution_versions({"numpy", "yaml", "not_a_module_anywhere"})
    assert set(versions) == {"numpy", "PyYAML"}


def test_record_path_follows_snakemake_naming(tmp_path: Path) -> None:
    short = record_path(tmp_path, "results/a.json")
    assert short.parent == tmp_path / ".snakemake/metadata"
    # A path whose encoding is longer than a file name may be is split into folders
    # prefixed with "@", as Snakemake's file persistence does.
    long = record_path(tmp_path, "results/" + "x" * 400 + ".json")
    parts = long.relative_to(tmp_path / ".snakemake/metadata").parts
    assert len(parts) > 1 and all(part.startswith("@") for part in parts[:-1])


def test_wall_time_from_a_record() -> None:
    assert wall_time_s({"starttime": 10.0, "endtime": 12.5}) == 2.5
    assert wall_time_s({"starttime": None, "endtime": 12.5}) is None

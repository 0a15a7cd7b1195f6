"""Static discovery of the library modules and packages behind a rule script."""

from __future__ import annotations

from pathlib import Path

from clustermix.provenance.code_imports import distribution_versions, script_dependencies

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

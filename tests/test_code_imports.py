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


#: The rule scripts that need PyMC: the fit, its summary (a model's quantities live in its
#: PyMC module) and the line example's figure (its memberships are recomputed from the model).
NEEDS_PYMC = frozenset({"fit_model", "summarize_fit", "fig_line_outliers"})


def test_cheap_rule_scripts_start_without_pymc() -> None:
    """Every other rule script (figures, numbers, catalogues, checks) starts without PyMC
    and PyTensor: one process running all their top-level imports loads neither
    (``bench/rule_startup.py`` measures what each script's start-up costs)."""
    import importlib.util
    import subprocess
    import sys

    spec = importlib.util.spec_from_file_location(
        "rule_startup", REPO / "bench" / "rule_startup.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    scripts = [p for p in sorted((REPO / "scripts").glob("*.py")) if p.stem not in NEEDS_PYMC]
    assert len(scripts) > 30
    statements = sorted({line for p in scripts for line in bench.import_statements(p)})
    code = "\n".join(
        ["import sys", *statements, "print(sorted({'pymc', 'pytensor'} & set(sys.modules)))"]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"

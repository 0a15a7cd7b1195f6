"""Which code a rule script runs: the clustermix modules it imports and the packages they use.

Found statically (``ast``), following ``clustermix`` imports from module to module, so that
the provenance manifest can record the hash of every library file behind a figure and the
version of every third-party package that touched it, without importing anything.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from importlib.metadata import packages_distributions, version
from pathlib import Path

PACKAGE = "clustermix"


@cache
def script_dependencies(script: str | Path, src_root: str | Path) -> tuple[list[Path], set[str]]:
    """The clustermix source files ``script`` imports (transitively) and the top-level
    names of the third-party modules that they and the script import.

    ``src_root`` is the folder that holds the ``clustermix`` package (the repo's ``src/``).
    Standard-library modules are left out of the second set. Cached: a rule's script is
    parsed once however many outputs it made.
    """
    src_root = Path(src_root)
    library: list[Path] = []
    third_party: set[str] = set()
    pending = [Path(script)]
    seen: set[Path] = set()
    while pending:
        path = pending.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        if path != Path(script):
            library.append(path)
        for name in _imported_names(path):
            top = name.split(".")[0]
            if top == PACKAGE:
                pending.extend(_module_files(name, src_root))
            elif top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return sorted(library), third_party


def distribution_versions(modules: set[str]) -> dict[str, str]:
    """Installed distribution name -> version for the top-level ``modules`` (unknown skipped)."""
    by_module = _packages_distributions()
    versions: dict[str, str] = {}
    for module in sorted(modules):
        for distribution in by_module.get(module, []):
            try:
                versions[distribution] = version(distribution)
            except Exception:
                continue
    return versions


@cache
def _packages_distributions() -> dict[str, list[str]]:
    """Top-level module -> distributions (scanning every installed package: done once)."""
    return dict(packages_distributions())


def _imported_names(path: Path) -> list[str]:
    """Dotted names a Python file imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _module_files(dotted: str, src_root: Path) -> list[Path]:
    """The source files a clustermix import loads: each package ``__init__`` on the way and
    the module itself (a name that is not a module, e.g. a function, gives nothing more)."""
    parts = dotted.split(".")
    files: list[Path] = []
    for depth in range(1, len(parts) + 1):
        base = src_root.joinpath(*parts[:depth])
        if (base / "__init__.py").is_file():
            files.append(base / "__init__.py")
        elif base.with_suffix(".py").is_file():
            files.append(base.with_suffix(".py"))
            break
        else:
            break
    return files

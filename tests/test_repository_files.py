"""The repository's ecosystem files: LICENSE, CITATION.cff, the workflow catalog's usage file
and the GitHub Actions workflow agree with pyproject.toml and with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# The keys CFF 1.2.0 requires, and those this project promises besides.
CFF_REQUIRED = {"cff-version", "message", "title", "authors"}
CFF_PROMISED = {"version", "license", "type", "keywords", "abstract"}
# Packages pinned nowhere: nothing imports them (issue 13: pyia was dropped).
UNUSED = ("pyia",)


def load_yaml(name: str) -> Any:
    return yaml.safe_load((REPO / name).read_text(encoding="utf-8"))


def test_license_file_is_the_license_of_pyproject() -> None:
    assert PYPROJECT["license"] == "MIT"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 The clustermix developers" in text
    assert "Permission is hereby granted, free of charge" in text


def test_citation_file_is_valid_cff_with_the_package_version() -> None:
    citation = load_yaml("CITATION.cff")
    assert CFF_REQUIRED | CFF_PROMISED <= set(citation)
    assert citation["cff-version"] == "1.2.0"
    assert citation["version"] == PYPROJECT["version"]
    assert citation["license"] == PYPROJECT["license"]
    assert citation["type"] == "software"
    assert citation["authors"] == [{"name": "The clustermix developers"}]
    assert citation["keywords"] and all(isinstance(k, str) for k in citation["keywords"])
    assert isinstance(citation["abstract"], str) and citation["abstract"].strip()


def test_workflow_catalog_file_has_the_documented_usage_keys() -> None:
    usage = load_yaml(".snakemake-workflow-catalog.yml")["usage"]
    assert {"desc", "flags"} <= set(usage["mandatory-flags"])
    assert usage["software-stack-deployment"]["conda"] is True
    assert isinstance(usage["report"], bool)
    # The catalog's "standardized usage" also needs these two files.
    assert (REPO / "workflow/Snakefile").is_file()
    assert (REPO / "config/README.md").is_file()


def test_github_workflow_lints_and_runs_the_tiny_configuration() -> None:
    text = (REPO / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    jobs = workflow["jobs"]
    assert {"lint", "test"} <= set(jobs)
    # PyYAML reads the bare key `on` as True (YAML 1.1); GitHub reads it as "on".
    assert "on" in workflow or True in workflow
    steps = [step for job in jobs.values() for step in job["steps"]]
    uses = [step.get("uses", "") for step in steps]
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", u) for u in uses if u)
    assert "actions/checkout@v4" in uses and "actions/setup-python@v5" in uses
    assert all(
        step["with"]["python-version"] == "3.11"
        for step in steps
        if step.get("uses") == "actions/setup-python@v5"
    )
    (lint,) = [
        s for s in steps if s.get("uses", "").startswith("snakemake/snakemake-github-action@")
    ]
    assert lint["with"]["snakefile"] == "workflow/Snakefile"
    assert lint["with"]["args"] == "--lint"
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "--configfile config/test.yaml" in runs
    # The linters are the versions pyproject.toml pins; Snakemake the lock's.
    pins = dict(
        pin.split("==")
        for pin in PYPROJECT["dependencies"] + PYPROJECT["optional-dependencies"]["dev"]
        if "==" in pin
    )
    for tool in ("ruff", "snakefmt"):
        assert f"{tool}=={pins[tool]}" in runs
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    (locked,) = re.findall(r"^snakemake==(\S+)$", lock, flags=re.MULTILINE)
    assert lint["with"]["snakemake-version"] == locked
    # The oldest Snakemake pyproject.toml allows is checked too (make check-snakemake).
    (allowed,) = [dep for dep in PYPROJECT["dependencies"] if dep.startswith("snakemake>=")]
    oldest = re.match(r"snakemake>=([\d.]+),<(\d+)$", allowed)
    assert oldest, allowed
    versions = jobs["snakemake-versions"]["strategy"]["matrix"]["snakemake"]
    assert any(v == oldest[1] or v == oldest[1] + ".0" for v in versions), versions
    assert "make check-snakemake" in runs


def test_unused_packages_are_pinned_nowhere() -> None:
    conda = load_yaml("environment.yml")["dependencies"]
    pip = [line for entry in conda if isinstance(entry, dict) for line in entry["pip"]]
    pinned = {
        "pyproject.toml": PYPROJECT["dependencies"],
        "requirements.lock": (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines(),
        "environment.yml": [entry for entry in conda if isinstance(entry, str)] + pip,
    }
    for name, lines in pinned.items():
        names = {re.split(r"[=<>; \[]", line.strip(), maxsplit=1)[0].lower() for line in lines}
        assert not names & set(UNUSED), f"{name} pins {names & set(UNUSED)}"

"""The provenance manifest and `clustermix audit`, on the finished tiny build.

Edits made here (a number file, a figure, a script, the config) are undone with the
original bytes *and* modification times, so that the other tests on the shared build still
see a workflow with nothing to do.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clustermix.io import sha256_file

pytestmark = pytest.mark.slow
CLUSTERMIX = str(Path(sys.executable).with_name("clustermix"))


@contextlib.contextmanager
def edited(path: Path, text: str) -> Iterator[None]:
    """Replace ``path``'s text for the block; restore its bytes and times afterwards."""
    original, times = path.read_bytes(), os.stat(path)
    path.write_text(text)
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def audit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLUSTERMIX, "audit", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def manifest_of(built: Path) -> dict:
    return json.loads((built / "results/provenance.json").read_text())


def test_manifest_lists_every_paper_product_with_its_lineage(built_paper: Path) -> None:
    manifest = manifest_of(built_paper)
    figures = sorted(
        str(p.relative_to(built_paper)) for p in built_paper.glob("src/tex/figures/*.pdf")
    )
    numbers = sorted(
        str(p.relative_to(built_paper))
        for p in built_paper.glob("src/tex/output/*.tex")
        if p.name != "provenance.tex"  # the PDF's stamp of the manifest itself
    )
    products = manifest["products"]
    assert sorted(p for p in products if products[p]["kind"] == "figure") == figures
    assert sorted(p for p in products if products[p]["kind"] == "number") == numbers
    for path, product in products.items():
        assert product["sha256"] == sha256_file(built_paper / path), path
        job = manifest["files"][path]["made_by"]
        assert job["rule"] and job["wall_time_s"] is not None, path
        assert job["script"]["sha256"] == sha256_file(built_paper / job["script"]["path"])
        for item in product["lineage"]:
            node = manifest["files"][item]
            assert node["sha256"] == sha256_file(built_paper / item), item

    config = manifest["config"]
    assert [entry["path"] for entry in config["files"]] == [
        "config/test.yaml",
        "config/config.yaml",
    ]
    assert config["command_line"] == ["config/test.yaml"]
    assert config["values"]["sampling"]["seed"] == 12345
    assert manifest["software"]["pymc"] and manifest["software"]["snakemake"]


def test_a_fit_figure_goes_back_to_the_simulator_with_sampler_and_seed(built_paper: Path) -> None:
    manifest = manifest_of(built_paper)
    lineage = manifest["products"]["src/tex/figures/corner_pm_2d.pdf"]["lineage"]
    trace = manifest["files"]["results/ngc6819/traces/pm_2d.nc"]
    assert "results/ngc6819/traces/pm_2d.nc" in lineage
    assert trace["made_by"]["rule"] == "fit_model"
    assert trace["details"]["fit"]["sampler"] == "pymc"
    assert trace["details"]["fit"]["seed"] == 12345
    assert trace["made_by"]["software"]["pymc"]
    raw = manifest["files"]["resources/ngc6819/gaia_dr3_simulated.fits"]
    assert "resources/ngc6819/gaia_dr3_simulated.fits" in lineage
    assert raw["made_by"]["rule"] == "simulate_field"
    truth = json.loads((built_paper / "resources/ngc6819/truth.json").read_text())
    assert raw["details"]["simulator"]["seed"] == truth["seed"]
    assert raw["details"]["simulator"]["parallax"] == truth["parallax"]


def test_the_paper_pdf_names_its_manifest(built_paper: Path) -> None:
    from clustermix.provenance.audit import paper_manifest_sha256

    stamped = paper_manifest_sha256(built_paper / "ms.pdf")
    assert stamped == sha256_file(built_paper / "results/provenance.json")


def test_audit_of_a_fresh_build_is_all_up_to_date(built_paper: Path) -> None:
    process = audit("ms.pdf", cwd=built_paper)
    assert process.returncode == 0, process.stdout + process.stderr
    count = len(manifest_of(built_paper)["products"])
    assert f"{count} products: {count} up to date, 0 stale, 0 missing" in process.stdout
    assert "rule fig_sky_masks (scripts/fig_sky_masks.py)" in process.stdout


def test_a_number_edited_by_hand_is_stale(built_paper: Path) -> None:
    numbers = built_paper / "src/tex/output/results.tex"
    with edited(numbers, numbers.read_text() + "% an edit by hand\n"):
        process = audit("ms.pdf", cwd=built_paper)
        assert process.returncode == 1
        assert "stale       number  src/tex/output/results.tex" in process.stdout
        assert "src/tex/output/results.tex was changed after the build" in process.stdout
        assert "1 stale" in process.stdout
    assert audit("ms.pdf", cwd=built_paper).returncode == 0


def test_a_figure_edited_by_hand_or_deleted_is_reported(built_paper: Path) -> None:
    figure = built_paper / "src/tex/figures/sky_masks.pdf"
    with edited(figure, "%PDF-1.4\n% replaced by hand\n"):
        process = audit("sky_masks", cwd=built_paper)
        assert process.returncode == 1
        assert "CHANGED since the build" in process.stdout
    kept = figure.with_suffix(".kept")
    shutil.copy2(figure, kept)
    figure.unlink()
    try:
        process = audit("ms.pdf", cwd=built_paper)
        assert process.returncode == 1
        assert "missing     figure  src/tex/figures/sky_masks.pdf" in process.stdout
    finally:
        kept.rename(figure)


def test_a_script_or_config_change_makes_dependent_products_stale(built_paper: Path) -> None:
    script = built_paper / "scripts/fig_recovery.py"
    with edited(script, script.read_text() + "\n# an edit\n"):
        process = audit("ms.pdf", cwd=built_paper)
        assert process.returncode == 1
        assert "script scripts/fig_recovery.py changed" in process.stdout
        assert "1 stale" in process.stdout  # the recovery figure only

    config = built_paper / "config/test.yaml"
    text = config.read_text()
    assert "  draws: 300\n" in text
    with edited(config, text.replace("  draws: 300\n", "  draws: 301\n")):
        process = audit("ms.pdf", cwd=built_paper)
        assert process.returncode == 1
        # Snakemake's own verdict on the traces; the sky figure does not depend on them
        assert "results/ngc6819/traces/pm_2d.nc: params changed since the build" in process.stdout
        assert "up to date  figure  src/tex/figures/sky_masks.pdf" in process.stdout


def test_lineage_tree_of_one_figure(built_paper: Path, tmp_path: Path) -> None:
    process = audit("corner_pm_2d", cwd=built_paper)
    assert process.returncode == 0, process.stderr
    tree = process.stdout
    assert tree.startswith("src/tex/figures/corner_pm_2d.pdf")
    assert "rule fit_model" in tree and "sampler pymc" in tree and "seed 12345" in tree
    assert "rule simulate_field" in tree and "simulated field: seed 6819" in tree

    # A figure cut out of the paper still names what made it.
    cut = tmp_path / "figure_from_the_paper.pdf"
    shutil.copy(built_paper / "src/tex/figures/sky_masks.pdf", cut)
    process = audit(str(cut), "--workdir", str(built_paper), cwd=tmp_path)
    assert process.returncode == 0, process.stderr
    assert "made by rule fig_sky_masks" in process.stdout
    assert "rule clean_catalog" in process.stdout


def test_clear_errors(built_paper: Path, tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    foreign = tmp_path / "ms.pdf"
    plt.figure().savefig(foreign, metadata={"Keywords": "nothing"})
    process = audit(str(foreign), cwd=tmp_path)
    assert process.returncode == 2
    assert "not made by the clustermix workflow" in process.stderr

    process = audit("no_such_figure", cwd=built_paper)
    assert process.returncode == 2
    assert "no figure or number named 'no_such_figure'" in process.stderr
    assert "sky_masks" in process.stderr  # the known names are listed

    process = audit(
        str(built_paper / "ms.pdf"), "--manifest", str(tmp_path / "none.json"), cwd=tmp_path
    )
    assert process.returncode == 2
    assert "no provenance manifest at" in process.stderr


def test_a_job_left_incomplete_makes_its_products_stale(built_paper: Path) -> None:
    """A fit killed after Snakemake marked it started (the marker Snakemake keeps under
    .snakemake/incomplete/) is not taken for complete by the audit, even if a trace file
    is there."""
    from clustermix.provenance.snakemake_records import record_path

    marker = record_path(built_paper, "results/ngc6819/traces/pm_2d.nc", "incomplete")
    assert not marker.exists()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("{}")
    try:
        process = audit("corner_pm_2d", cwd=built_paper)
        assert process.returncode == 1
        assert "results/ngc6819/traces/pm_2d.nc was left incomplete" in process.stdout
    finally:
        marker.unlink()
    assert audit("corner_pm_2d", cwd=built_paper).returncode == 0

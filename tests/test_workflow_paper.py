"""The whole workflow on the tiny config, to ms.pdf; then what a second run and edits redo."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import TEST_CONFIG, run_snakemake

pytestmark = pytest.mark.slow


@pytest.fixture
def built(built_paper: Path) -> Path:
    return built_paper


def dry_run_jobs(workdir: Path) -> dict[str, int]:
    """Rule name -> number of jobs a dry run would execute now."""
    process = run_snakemake(workdir, "-n", *TEST_CONFIG)
    output = process.stdout + process.stderr
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:")[1].split("Reasons:")[0]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)\s*$", table, flags=re.M))
    jobs.pop("total", None)
    return {rule: int(count) for rule, count in jobs.items()}


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_pdf_has_every_figure_and_no_missing_number(built: Path) -> None:
    pdf = built / "ms.pdf"
    assert pdf.stat().st_size > 50_000
    text = pdf_text(pdf)
    figure_numbers = {int(n) for n in re.findall(r"Figure (\d+)\.", text)}
    # One figure each, but the corner plots fill two (four small fits, then phase space).
    expected = ["sky_masks", "line_outliers", "components", "cmd_membership", "pm_membership"]
    expected += [
        "galactocentric",
        "ppc",
        "model_comparison",
        "recovery",
        "membership_roc",
        "calibration",
        "pgm",
    ]
    expected += ["corner"]
    assert figure_numbers == set(range(1, len(expected) + 2)), sorted(figure_numbers)
    for script in expected:
        assert f"fig_{script}.py" in text.replace("\n", "")
    assert "??" not in text  # no unresolved reference or citation
    log = (built / "src/tex/ms.log").read_text(errors="replace")
    assert "Undefined control sequence" not in log
    assert "DRAFT" not in text


def test_second_run_does_nothing(built: Path) -> None:
    assert dry_run_jobs(built) == {}


def test_editing_the_text_rebuilds_only_the_pdf(built: Path) -> None:
    tex = built / "src/tex/ms.tex"
    original = tex.read_text()
    tex.write_text(original.replace("Star clusters stand out", "Open clusters stand out"))
    try:
        # the PDF and the arXiv tarball, which carries ms.tex
        assert dry_run_jobs(built) == {"build_paper": 1, "arxiv_tarball": 1, "all": 1}
    finally:
        tex.write_text(original)


def test_editing_one_figure_script_rebuilds_that_figure_and_the_pdf(built: Path) -> None:
    script = built / "scripts/fig_sky_masks.py"
    original = script.read_text()
    script.write_text(original + "\n# an edit\n")
    try:
        assert dry_run_jobs(built) == {
            "fig_sky_masks": 1,
            "provenance_manifest": 1,
            "build_paper": 1,
            "arxiv_tarball": 1,
            "all": 1,
        }
    finally:
        script.write_text(original)


def test_every_model_recovers_the_simulated_truth(built: Path) -> None:
    """On the tiny config every true cluster parameter lies inside its 95% interval, and the
    2D and phase-space memberships separate the true members (AUC >= 0.95).

    The interval is the tolerance the models promise; the seeds are fixed (config/test.yaml
    and the simulator), so the outcome is deterministic for the pinned environment. With
    about twenty correlated quantities, a calibrated posterior can still miss one by chance
    for another seed: such a failure is to be looked at, not retried.
    """
    import json

    import numpy as np
    from astropy.table import Table

    from clustermix.checks.validation import auc

    for model in ("pmra_1d", "parallax_1d", "pm_2d", "phase_space"):
        summary = json.loads((built / f"results/ngc6819/summary/{model}.json").read_text())
        missed = [name for name, inside in summary["truth_in_95"].items() if not inside]
        assert missed == [], f"{model}: truth outside the 95% interval for {missed}"
    membership = Table.read(built / "results/ngc6819/membership.fits")
    labels = np.asarray(membership["true_member"], bool)
    for model in ("pm_2d", "phase_space"):
        assert auc(np.asarray(membership[f"p_{model}"]), labels) >= 0.95, model


def test_members_catalogues_parse_with_units_ucds_and_the_adopted_model_first(
    built: Path,
) -> None:
    """`all` writes every cluster's members.fits, .vot and .ecsv: one row per catalogue
    star, the adopted model of results/clusters_summary.csv first, its p that model's
    membership, and in the VOTable the units and UCDs of the astrometry."""
    import astropy.units as u
    import numpy as np
    from astropy.io.votable import parse
    from astropy.table import Table

    from clustermix.paper.clusters_table import read_summary_csv

    rows = read_summary_csv(built / "results/clusters_summary.csv")
    adopted = {row["cluster"]: row["model"] for row in rows if row["adopted"]}
    assert adopted
    for cluster, model in adopted.items():
        directory = built / "results" / cluster
        catalog = Table.read(directory / "catalog.fits")
        resource_table = parse(directory / "members.vot").get_first_table()
        fields = {field.name: field for field in resource_table.fields}
        assert [field.name for field in resource_table.fields][:3] == ["source_id", "ra", "dec"]
        assert fields["source_id"].ucd == "meta.id;meta.main"
        assert u.Unit(fields["pmra"].unit) == u.mas / u.yr
        assert fields["pmra"].ucd == "pos.pm;pos.eq.ra"
        assert u.Unit(fields["parallax"].unit) == u.mas
        params = {param.name: param.value for param in resource_table.params}
        assert params["adopted_model"] == model
        probabilities = [name for name in fields if name.startswith("p_")]
        assert probabilities[:2] == [f"p_{model}", f"p_{model}_sd"]
        assert fields[f"p_{model}"].ucd == "stat.probability;meta.main"
        np.testing.assert_array_equal(resource_table.array["source_id"], catalog["source_id"])
        membership = Table.read(directory / "membership" / f"{model}.fits")
        p_of = dict(zip(membership["source_id"].tolist(), membership["p_cluster"], strict=True))
        p = np.ma.filled(resource_table.array[f"p_{model}"], np.nan)
        expected = [p_of.get(int(star), np.nan) for star in catalog["source_id"]]
        np.testing.assert_array_equal(p, expected)
        for name in ("members.fits", "members.ecsv"):
            table = Table.read(directory / name)
            assert table.colnames == list(fields), name
            assert table.meta["ADOPTED"] == model, name
            assert table["pmra"].unit == u.mas / u.yr, name


def test_paper_compares_the_members_with_the_simulated_truth(built: Path) -> None:
    """On simulated data the reference list is the simulator's truth; the user-catalogue
    cluster (M67) brings a colleague's list as a file (clusters[].reference_members, here
    its true members). The overlap is in results/ and the paper cluster's sentence in the
    paper."""
    from .test_catalogs import file_cluster, truth_path

    m67 = file_cluster()
    for cluster, key, truth_file in (
        ("ngc6819", "truth", built / "resources/ngc6819/truth.json"),
        (m67["name"], "file1", truth_path(m67)),
    ):
        truth = json.loads(truth_file.read_text())
        record = json.loads((built / f"results/{cluster}/reference_overlap.json").read_text())
        (entry,) = record["references"]
        assert entry["key"] == key
        assert entry["n_members"] == len(truth["member_source_ids"])
        assert 0 < entry["n_members_matched"] <= entry["n_members"]
        # the tiny fields' members are easy: most are found, and most found are true
        assert entry["frac_theirs_p_gt_0.5"] > 0.8, cluster
        assert entry["frac_ours_in_their_members"] > 0.8, cluster
    text = " ".join(pdf_text(built / "ms.pdf").split())
    record = json.loads((built / "results/ngc6819/reference_overlap.json").read_text())
    (entry,) = record["references"]
    assert "Members star by star" in text
    assert f"Of the {entry['n_members']:,} true members of the simulation" in text
    assert f"{100 * entry['frac_theirs_p_gt_0.5']:.1f}% of these have p > 0.5" in text


def test_the_paper_compiles_without_any_one_model(built: Path, tmp_path: Path) -> None:
    """A model's sentences, tables and figures are kept only when it was fitted
    (``\\ifmodel`` and output/models.tex): ms.tex compiles with every one of the models
    missing in turn, its figures and its macros deleted from a copy of the built paper,
    and its text and figures are gone from the PDF."""
    import shutil

    from clustermix.models import MODEL_NAMES, MODEL_SPECS
    from clustermix.paper.macros import macro_name

    for model in MODEL_NAMES:
        tex = shutil.copytree(built / "src/tex", tmp_path / model / "tex")
        for path in (tex / "output").glob("*.tex"):
            kept = [
                line
                for line in path.read_text().splitlines()
                if not line.startswith(rf"\newcommand{{\{macro_name(model)}")
            ]
            path.write_text("\n".join(kept) + "\n")
        switches = (tex / "output/models.tex").read_text()
        fitted = rf"\newcommand{{\{macro_name('model_fitted', model)}}}{{1}}"
        assert fitted in switches
        (tex / "output/models.tex").write_text(switches.replace(fitted, fitted[:-2] + "0}"))
        for figure in (tex / "figures").glob(f"*_{model}.pdf"):
            figure.unlink()
        if MODEL_SPECS[model].galactocentric:  # its fit is where these come from
            (tex / "figures/galactocentric.pdf").unlink()
        built_pdf = subprocess.run(
            ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "ms.tex"],
            cwd=tex,
            capture_output=True,
            text=True,
        )
        log = (tex / "ms.log").read_text(errors="replace")
        assert built_pdf.returncode == 0, (model, log[-3000:])
        assert "Undefined control sequence" not in log, model
        text = " ".join(pdf_text(tex / "ms.pdf").split())
        assert "fig_pgm.py" in text and "??" not in text, model
        included = set(re.findall(r"<(?:\./)?figures/(\w+)\.pdf", log.replace("\n", "")))
        assert not {name for name in included if name.endswith(model)}, (model, included)

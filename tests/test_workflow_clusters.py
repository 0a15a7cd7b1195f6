"""Every configured cluster in one run: fits, the clusters summary CSV and the paper's table.

Uses the shared tiny build (``built_paper``: ``snakemake --cores 2 --configfile
config/test.yaml``), whose config lists two clusters: a simulated one, and one read from
a user's minimal VizieR-named file (drawn by the simulator, with its truth beside it).
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from astropy.table import Table
from scipy.stats import norm

from clustermix.data.columns import VIZIER_NAMES
from clustermix.models import CLUSTER_MODEL_NAMES
from clustermix.models.registry import cluster_model_names
from clustermix.paper.clusters_table import (
    ADOPTION_ORDER,
    QUANTITIES,
    format_interval,
    read_summary_csv,
)

from .conftest import run_snakemake
from .test_catalogs import truth_path

pytestmark = pytest.mark.slow

# The tiny config; its clusters in order (the paper is about the first), each with its own
# models (clusters[].models).
CONFIG = yaml.safe_load((Path(__file__).parents[1] / "config/test.yaml").read_text())
CLUSTERS = CONFIG["clusters"]
MODELS = {cluster["name"]: cluster_model_names(CONFIG, cluster["name"]) for cluster in CLUSTERS}
# Family-wise false-alarm probability of the truth comparison over every compared value.
FAMILY_ALPHA = 0.05


@pytest.fixture(scope="module")
def rows(built_paper: Path) -> list[dict]:
    return read_summary_csv(built_paper / "results/clusters_summary.csv")


def test_the_tiny_config_has_two_different_clusters() -> None:
    assert len(CLUSTERS) == 2 and CLUSTERS[0]["name"] == "ngc6819"
    first, second = (cluster["simulation"] for cluster in CLUSTERS)
    for key in ("parallax_mas", "pmra_masyr", "pmdec_masyr", "rv_kms", "plummer_radius_arcmin"):
        assert first[key] != second[key], key
    assert CLUSTERS[0]["ra_deg"] != CLUSTERS[1]["ra_deg"]


def test_every_cluster_is_fitted_with_its_models(built_paper: Path) -> None:
    """Each cluster's models are fitted, and only those: M67 lists some (clusters[].models),
    NGC 6819 none (every model)."""
    assert MODELS["ngc6819"] == list(CLUSTER_MODEL_NAMES)
    assert set(MODELS["m67"]) < set(CLUSTER_MODEL_NAMES)
    for cluster in CLUSTERS:
        name = cluster["name"]
        for model in CLUSTER_MODEL_NAMES:
            for kind in ("traces/{}.nc", "summary/{}.json", "diagnostics/{}.json"):
                path = built_paper / "results" / name / kind.format(model)
                assert path.is_file() == (model in MODELS[name]), path
        # and the membership table and catalogue have a probability of each of them only
        for table in ("membership.fits", "members.fits"):
            columns = Table.read(built_paper / "results" / name / table).colnames
            for model in CLUSTER_MODEL_NAMES:
                assert (f"p_{model}" in columns) == (model in MODELS[name]), (table, model)
        summary = json.loads((built_paper / f"results/{name}/summary/pm_2d.json").read_text())
        assert summary["cluster"] == name
        assert (built_paper / f"results/{name}/membership.fits").is_file()


def test_csv_has_every_cluster_and_model_with_one_adopted_fit(rows: list[dict]) -> None:
    names = [cluster["name"] for cluster in CLUSTERS]
    assert [(row["cluster"], row["model"]) for row in rows] == [
        (name, model) for name in names for model in MODELS[name]
    ]
    labels = {row["cluster"]: row["label"] for row in rows}
    assert labels == {cluster["name"]: cluster["label"] for cluster in CLUSTERS}
    for name in names:
        own = [row for row in rows if row["cluster"] == name]
        adopted = [row["model"] for row in own if row["adopted"]]
        converged = [model for model in ADOPTION_ORDER if any(
            row["model"] == model and row["converged"] for row in own
        )]  # fmt: skip
        assert adopted == converged[:1], (name, adopted, converged)
        for row in own:
            assert 0 < row["n_members_sum_p"] < row["n_stars"]
            assert row["n_members_p_half"] <= row["n_stars"]
        # only the phase-space model measures the radial velocity
        rv = {row["model"]: row["rv_kms_q50"] for row in own}
        assert math.isfinite(rv.get("phase_space", 0.0))
        assert all(math.isnan(value) for model, value in rv.items() if model != "phase_space")


def cluster_truth_path(built: Path, cluster: dict) -> Path:
    """The simulator's truth of ``cluster``: written by the workflow for a simulated
    cluster, shipped beside the file for the user-catalogue cluster (tests/test_catalogs.py)."""
    if cluster.get("source") == "file":
        return truth_path(cluster)
    return built / f"resources/{cluster['name']}/truth.json"


def true_member_fraction(built: Path, cluster: str, model: str, members: set[int]) -> float:
    """The true member fraction among the stars ``model`` was fitted to."""
    table = Table.read(built / f"results/{cluster}/membership/{model}.fits")
    source_ids = np.asarray(table["source_id"])
    return float(np.isin(source_ids, list(members)).mean())


def test_csv_values_recover_each_clusters_truth(built_paper: Path, rows: list[dict]) -> None:
    """Each posterior median lies within z posterior standard deviations of the cluster's
    simulated truth (resources/{cluster}/truth.json).

    z is Bonferroni's bound for a family-wise false-alarm probability of 5% over all n
    compared values, z = Phi^-1(1 - 0.05 / (2 n)) (about 3.1 for the two dozen values here),
    for a calibrated Gaussian posterior. The seeds are fixed, so the outcome is
    deterministic for the pinned environment; the truth is the population value, so the
    members' own sampling scatter (included in the posterior width) shows in the pulls.
    ``f_cluster``'s truth is the true member fraction among the stars each model used.
    """
    checks = []
    for cluster in CLUSTERS:
        name = cluster["name"]
        truth = json.loads(cluster_truth_path(built_paper, cluster).read_text())
        members = {int(s) for s in truth["member_source_ids"]}
        for row in (row for row in rows if row["cluster"] == name):
            for quantity, stem in QUANTITIES.items():
                median, sd = row[f"{stem}_q50"], row[f"{stem}_sd"]
                if math.isnan(median):
                    continue
                if quantity == "f_cluster":
                    true = true_member_fraction(built_paper, name, row["model"], members)
                else:
                    true = float(truth[quantity])
                checks.append((name, row["model"], quantity, median, sd, true))
    # every fit of every cluster is compared
    assert {(name, model) for name, model, *_ in checks} == {
        (row["cluster"], row["model"]) for row in rows
    }
    z = float(norm.isf(FAMILY_ALPHA / (2 * len(checks))))
    misses = [
        f"{name}/{model}/{quantity}: {median:.4g} vs truth {true:.4g} "
        f"({(median - true) / sd:+.1f} sd)"
        for name, model, quantity, median, sd, true in checks
        if abs(median - true) > z * sd
    ]
    assert misses == [], f"beyond {z:.2f} sd: {misses}"


def pdf_text(path: Path, *options: str) -> str:
    """The PDF's text (pdftotext), with the minus sign as a hyphen."""
    text = subprocess.run(
        ["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.replace("\N{MINUS SIGN}", "-")


def table_rows_text(text: str, labels: list[str]) -> dict[str, str]:
    """Each table row's text in ``pdftotext -layout`` output, which spreads a row with
    super- and subscripts over several lines: from the line that starts with the label to
    the next row or blank line."""
    lines = text.splitlines()
    starts = {
        index: label
        for index, line in enumerate(lines)
        for label in labels
        if line.strip().startswith(label + " ")
    }
    rows = {}
    for index, label in starts.items():
        block = [lines[index]]
        for line in lines[index + 1 :]:
            if not line.strip() or any(line.strip().startswith(f"{other} ") for other in labels):
                break
            block.append(line)
        rows[label] = "\n".join(block)
    return rows


def median_cell(row: dict, stem: str) -> str:
    """The median of ``stem`` as the table prints it."""
    cell = format_interval(row[f"{stem}_q50"], row[f"{stem}_q16"], row[f"{stem}_q84"])
    return cell.removeprefix("$").split("^")[0]


def test_paper_shows_the_clusters_table(built_paper: Path, rows: list[dict]) -> None:
    macros = (built_paper / "src/tex/output/clusters_table.tex").read_text()
    assert r"\newcommand{\ClusterCount}{2}" in macros
    pdf = built_paper / "ms.pdf"
    flowing = " ".join(pdf_text(pdf).split())
    caption = re.search(r"Table (\d+)\. Every cluster of this run", flowing)
    assert caption, "no clusters table in the PDF"
    assert f"Table {caption.group(1)} lists, for every cluster" in flowing
    layout = pdf_text(pdf, "-layout")
    table = layout[layout.index("Every cluster of this run:") :]
    labels = [cluster["label"] for cluster in CLUSTERS]
    found = table_rows_text(table, labels)
    assert sorted(found) == sorted(labels), found
    # each row shows its adopted fit's model, parallax and pmra medians (as the CSV has them;
    # a dash, LaTeX's --, where the model does not measure it, e.g. pm_2d's parallax)
    for row in (row for row in rows if row["adopted"]):
        text = found[row["label"]]
        assert row["model"].replace("_", " ") in text.replace("_", " "), text
        for stem in ("parallax_mas", "pmra_masyr"):
            measured = math.isfinite(row[f"{stem}_q50"])
            assert (median_cell(row, stem) if measured else "\N{EN DASH}") in text, (stem, text)


def test_the_same_stars_in_gaia_names_give_the_same_catalogue(built_paper: Path) -> None:
    """M67's VizieR-named minimal file went through the whole workflow into the paper; the
    same stars under the Gaia archive's names, as a cluster of their own, give the same
    cleaned catalogue and sky masks, column for column. Every later product is made from
    these two files, the config and the seed, so the rest of the run is the same too."""
    from .test_catalogs import file_cluster

    m67 = file_cluster()
    vizier = Table.read(built_paper / m67["path"], format="ascii.csv")
    gaia = vizier.copy()
    gaia.rename_columns(gaia.colnames, [VIZIER_NAMES.get(name, name) for name in gaia.colnames])
    assert {"source_id", "parallax", "pmra_pmdec_corr", "bp_rp"} <= set(gaia.colnames)
    gaia.write(built_paper / "m67_gaia_names.csv", format="ascii.csv", overwrite=True)
    twin = {key: m67[key] for key in ("ra_deg", "dec_deg", "radius_arcmin")}
    override = built_paper / "m67_gaia_names.yaml"
    override.write_text(
        yaml.safe_dump(
            {
                "clusters": [
                    {"name": "m67_gaia_names", "source": "file", "path": "m67_gaia_names.csv"}
                    | twin
                ]
            }
        )
    )
    outputs = ("catalog.fits", "masks.fits")
    run_snakemake(
        built_paper,
        *(f"results/m67_gaia_names/{name}" for name in outputs),
        "--configfile",
        "config/test.yaml",
        str(override),
    )
    check = json.loads((built_paper / "results/m67_gaia_names/input_check.json").read_text())
    assert check["column_naming"] != "vizier"
    for name in outputs:
        ours = Table.read(built_paper / f"results/m67_gaia_names/{name}")
        shipped = Table.read(built_paper / f"results/{m67['name']}/{name}")
        assert ours.colnames == shipped.colnames, name
        for column in ours.colnames:
            np.testing.assert_array_equal(
                np.ma.filled(np.ma.asarray(ours[column]), -1),
                np.ma.filled(np.ma.asarray(shipped[column]), -1),
                err_msg=f"{name}:{column}",
            )

"""The clusters summary (CSV) and the paper's clusters table, from synthetic fit files."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from astropy.table import Table

from clustermix.config import check_config
from clustermix.errors import InputDataError
from clustermix.paper.clusters_table import (
    COLUMNS,
    MISSING_CELL,
    ClusterFit,
    adopted_model,
    clusters_table_macros,
    format_interval,
    read_fit,
    read_summary_csv,
    summary_csv_text,
    summary_rows,
    write_clusters_table,
    write_summary_csv,
)

from .conftest import REPO

THRESHOLDS = {"rhat_max": 1.05, "ess_bulk_min": 100, "divergences_max": 5}
CLUSTERS = [
    {"name": "ngc6819", "label": "NGC 6819", "ra_deg": 295.327, "dec_deg": 40.19},
    {"name": "m_67", "label": None, "ra_deg": 132.846, "dec_deg": 11.814},
]
# Posterior median and sd (symmetric 16/84 at +-sd) of every quantity, per cluster.
VALUES = {
    "ngc6819": {"f_cluster": (0.17, 0.01), "parallax": (0.36, 0.012), "distance": (2780.0, 90.0),
                "pmra": (-2.91, 0.007), "pmdec": (-3.86, 0.007), "rv": (2.4, 0.8),
                "sigma_v": (1.0, 0.07), "v_x": (-20.0, 0.7), "v_y": (-47.0, 1.6),
                "v_z": (-37.0, 1.4)},
    "m_67": {"f_cluster": (0.16, 0.01), "parallax": (1.135, 0.012), "distance": (881.0, 9.0),
             "pmra": (-10.97, 0.016), "pmdec": (-2.94, 0.016), "rv": (33.6, 0.4),
             "sigma_v": (0.8, 0.04), "v_x": (9.5, 0.4), "v_y": (57.0, 0.4),
             "v_z": (-5.1, 0.15)},
}  # fmt: skip
MODEL_QUANTITIES = {
    "pm_2d": ("f_cluster", "pmra", "pmdec"),
    "phase_space": tuple(VALUES["ngc6819"]),
}


def summary_json(cluster: str, model: str, n_stars: int) -> dict[str, Any]:
    quantities = {}
    for name in MODEL_QUANTITIES[model]:
        median, sd = VALUES[cluster][name]
        quantities[name] = {
            "mean": median,
            "sd": sd,
            "q2.5": median - 2 * sd,
            "q16": median - sd,
            "q50": median,
            "q84": median + sd,
            "q97.5": median + 2 * sd,
            "unit": "",
        }
    return {"cluster": cluster, "model": model, "n_stars": n_stars, "quantities": quantities}


def diagnostics_json(cluster: str, model: str, r_hat: float = 1.01) -> dict[str, Any]:
    per_variable = {
        name: {"r_hat": r_hat, "ess_bulk": 500.0, "ess_tail": 400.0}
        for name in MODEL_QUANTITIES[model]
    }
    return {
        "cluster": {
            "r_hat_max": r_hat,
            "ess_bulk_min": 500.0,
            "ess_tail_min": 400.0,
            "per_variable": per_variable,
        },
        "divergences": 0,
        "model": model,
    }


P_CLUSTER = np.array([0.9, 0.6, 0.5, 0.2, 0.0])  # sum 2.2, three with p >= 0.5


def write_fit(
    root: Path, cluster: str, model: str, *, r_hat: float = 1.01, p: np.ndarray = P_CLUSTER
) -> dict[str, Path]:
    """The three files of one fit under ``root``, as the workflow lays them out."""
    paths = {
        "summary_path": root / cluster / "summary" / f"{model}.json",
        "diagnostics_path": root / cluster / "diagnostics" / f"{model}.json",
        "membership_path": root / cluster / "membership" / f"{model}.fits",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    paths["summary_path"].write_text(json.dumps(summary_json(cluster, model, p.size)))
    paths["diagnostics_path"].write_text(json.dumps(diagnostics_json(cluster, model, r_hat)))
    table = Table({"source_id": np.arange(p.size, dtype=np.int64), "p_cluster": p})
    table.write(paths["membership_path"], overwrite=True)
    return paths


def fits_for(root: Path, r_hats: dict[tuple[str, str], float] | None = None) -> list[ClusterFit]:
    """Both clusters, models pm_2d and phase_space; ``r_hats`` overrides some fits' R-hat."""
    fits = []
    for cluster in ("ngc6819", "m_67"):
        for model in ("pm_2d", "phase_space"):
            r_hat = (r_hats or {}).get((cluster, model), 1.01)
            paths = write_fit(root, cluster, model, r_hat=r_hat)
            fits.append(read_fit(cluster, model, **paths))
    return fits


# --- rows --------------------------------------------------------------------------------


def test_rows_hold_every_fit_with_its_values(tmp_path: Path) -> None:
    rows = summary_rows(fits_for(tmp_path), CLUSTERS, THRESHOLDS)
    assert [(row["cluster"], row["model"]) for row in rows] == [
        ("ngc6819", "pm_2d"),
        ("ngc6819", "phase_space"),
        ("m_67", "pm_2d"),
        ("m_67", "phase_space"),
    ]
    assert all(set(row) == set(COLUMNS) for row in rows)
    pm2d, phase = rows[2], rows[3]
    assert phase["label"] == "m_67"  # no label: the name
    assert rows[0]["label"] == "NGC 6819"
    assert phase["ra_deg"] == 132.846 and phase["dec_deg"] == 11.814
    assert phase["n_stars"] == 5
    assert phase["n_members_sum_p"] == pytest.approx(2.2)
    assert phase["n_members_p_half"] == 3
    assert phase["pmra_masyr_q50"] == -10.97
    assert phase["pmra_masyr_q16"] == pytest.approx(-10.986)
    assert phase["pmra_masyr_q84"] == pytest.approx(-10.954)
    assert phase["pmra_masyr_sd"] == 0.016
    assert phase["rv_kms_q50"] == 33.6 and phase["v_z_kms_sd"] == 0.15
    assert phase["distance_pc_q50"] == 881.0
    # pm_2d measures no parallax, RV or 3D velocity: NaN, not zero
    assert math.isnan(pm2d["parallax_mas_q50"]) and math.isnan(pm2d["v_x_kms_sd"])
    assert pm2d["pmdec_masyr_q50"] == -2.94
    assert phase["r_hat_max"] == 1.01 and phase["ess_bulk_min"] == 500.0
    assert phase["divergences"] == 0 and phase["converged"] is True


def test_the_most_informative_converged_fit_is_adopted(tmp_path: Path) -> None:
    r_hats = {("m_67", "phase_space"): 1.2, ("ngc6819", "pm_2d"): 1.3}
    rows = summary_rows(fits_for(tmp_path, r_hats), CLUSTERS, THRESHOLDS)
    adopted = {row["cluster"]: row["model"] for row in rows if row["adopted"]}
    assert adopted == {"ngc6819": "phase_space", "m_67": "pm_2d"}
    converged = {(row["cluster"], row["model"]): row["converged"] for row in rows}
    assert converged[("m_67", "phase_space")] is False
    assert converged[("ngc6819", "pm_2d")] is False


def test_without_a_converged_fit_the_most_informative_is_adopted_and_flagged() -> None:
    rows = [
        {"model": "pmra_1d", "converged": False},
        {"model": "phase_space", "converged": False},
        {"model": "pm_2d", "converged": False},
    ]
    assert adopted_model(rows) == "phase_space"
    rows.append({"model": "pmra_1d", "converged": True})
    assert adopted_model(rows) == "pmra_1d"
    with pytest.raises(ValueError, match="no fits"):
        adopted_model([])


# --- the CSV -----------------------------------------------------------------------------


def test_csv_round_trip_keeps_every_value(tmp_path: Path) -> None:
    rows = summary_rows(fits_for(tmp_path / "fits"), CLUSTERS, THRESHOLDS)
    path = tmp_path / "out" / "clusters_summary.csv"
    write_summary_csv(rows, path)
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert [p.name for p in path.parent.iterdir()] == ["clusters_summary.csv"]  # no .part
    back = read_summary_csv(path)
    assert len(back) == len(rows)
    for original, read in zip(rows, back, strict=True):
        for column in COLUMNS:
            value = original[column]
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(read[column]), column
            else:
                assert read[column] == value and type(read[column]) is type(value), column


def test_csv_cells_are_plain() -> None:
    row = dict.fromkeys(COLUMNS, float("nan"))
    row.update(cluster="c", label="A, B", model="pm_2d", adopted=True, converged=False)
    row.update(n_stars=3, n_members_p_half=1, divergences=0)
    text = summary_csv_text([row])
    line = text.splitlines()[1]
    assert line.startswith('c,"A, B",pm_2d,true,')
    assert line.endswith(",0,false")
    assert "nan" not in line.lower()
    del row["converged"]
    with pytest.raises(ValueError, match="converged"):
        summary_csv_text([row])


# --- the paper's table -------------------------------------------------------------------


def test_format_interval_rounds_to_the_smaller_error() -> None:
    assert format_interval(-2.9083, -2.9154, -2.9011) == "$-2.9083^{+0.0072}_{-0.0071}$"
    assert format_interval(882.33, 872.7, 892.1) == "$882.3^{+9.8}_{-9.6}$"
    assert format_interval(float("nan"), 1.0, 2.0) == MISSING_CELL


def test_table_has_one_row_per_cluster_with_labels_and_dashes(tmp_path: Path) -> None:
    r_hats = {("m_67", "phase_space"): 1.2}
    rows = summary_rows(fits_for(tmp_path, r_hats), CLUSTERS, THRESHOLDS)
    macros = clusters_table_macros(rows, n_clusters=2)
    assert macros["ClusterCount"] == "2"
    lines = macros["ClustersTableBody"].strip().splitlines()
    assert len(lines) == 2 and all(line.endswith(r"\\") for line in lines)
    ngc, m67 = (line.removesuffix(r" \\").split(" & ") for line in lines)
    assert ngc[0] == "NGC 6819" and m67[0] == r"m\_67"  # LaTeX-escaped
    assert ngc[1:3] == ["5", "2"]  # stars fitted, round(sum of p)
    assert ngc[3] == "$0.360^{+0.012}_{-0.012}$"  # parallax (mas)
    assert ngc[5] == "$-2.9100^{+0.0070}_{-0.0070}$"  # pmra (mas/yr)
    assert ngc[-1] == r"phase\_space"
    # m_67's phase-space fit failed the checks: pm_2d is adopted, with no parallax or RV
    assert m67[3] == m67[4] == m67[7] == MISSING_CELL
    assert m67[5] == "$-10.970^{+0.016}_{-0.016}$"
    assert m67[-1] == r"pm\_2d"
    rows = summary_rows(
        fits_for(tmp_path, {("m_67", "pm_2d"): 1.2, **r_hats}), CLUSTERS, THRESHOLDS
    )
    body = clusters_table_macros(rows, n_clusters=2)["ClustersTableBody"]
    assert r"phase\_space$^\dagger$ \\" in body  # nothing converged: flagged


def test_number_file_defines_the_count_and_the_body(tmp_path: Path) -> None:
    rows = summary_rows(fits_for(tmp_path / "fits"), CLUSTERS, THRESHOLDS)
    path = tmp_path / "output" / "clusters_table.tex"
    macros = write_clusters_table(rows, 2, path, made_by="rule num_clusters")
    text = path.read_text()
    assert text.startswith("% Written by the clustermix workflow")
    assert "% Made by rule num_clusters." in text
    assert r"\newcommand{\ClusterCount}{2}" in text
    assert text.count(r"\newcommand") == 2
    assert re.search(r"\\newcommand\{\\ClustersTableBody\}\{NGC 6819 & ", text)
    assert macros["ClusterCount"] == "2"
    assert sorted(p.name for p in path.parent.iterdir()) == ["clusters_table.tex"]


def test_one_cluster_or_no_rows_still_gives_a_number_file(tmp_path: Path) -> None:
    assert clusters_table_macros([], n_clusters=1) == {
        "ClusterCount": "1",
        "ClustersTableBody": "",
    }
    rows = summary_rows(fits_for(tmp_path), CLUSTERS, THRESHOLDS)
    one = [row for row in rows if row["cluster"] == "ngc6819"]
    assert clusters_table_macros(one, n_clusters=1)["ClusterCount"] == "1"
    with pytest.raises(InputDataError, match="2 are configured"):
        clusters_table_macros(one, n_clusters=2)
    with pytest.raises(ValueError, match="at least 1"):
        clusters_table_macros([], n_clusters=0)


# --- bad inputs --------------------------------------------------------------------------


def test_missing_or_unreadable_files_name_the_file(tmp_path: Path) -> None:
    paths = write_fit(tmp_path, "ngc6819", "pm_2d")
    for key in paths:
        broken = {**paths, key: tmp_path / "nowhere" / paths[key].name}
        with pytest.raises(InputDataError, match=r"nowhere.*not found"):
            read_fit("ngc6819", "pm_2d", **broken)
    paths["summary_path"].write_text("{not json")
    with pytest.raises(InputDataError, match=r"pm_2d\.json: not valid JSON"):
        read_fit("ngc6819", "pm_2d", **paths)
    paths["summary_path"].write_text("[1, 2]")
    with pytest.raises(InputDataError, match="expected a JSON object"):
        read_fit("ngc6819", "pm_2d", **paths)
    paths = write_fit(tmp_path / "again", "ngc6819", "pm_2d")
    paths["membership_path"].write_text("not a table")
    with pytest.raises(InputDataError, match=r"pm_2d\.fits"):
        read_fit("ngc6819", "pm_2d", **paths)


def test_files_of_another_cluster_or_model_are_refused(tmp_path: Path) -> None:
    paths = write_fit(tmp_path, "ngc6819", "pm_2d")
    with pytest.raises(InputDataError, match=r"holds cluster 'ngc6819', model 'pm_2d'.*'m_67'"):
        read_fit("m_67", "pm_2d", **paths)
    with pytest.raises(InputDataError, match="expected cluster 'ngc6819', model 'phase_space'"):
        read_fit("ngc6819", "phase_space", **paths)


@pytest.mark.parametrize(
    ("kind", "edit", "message"),
    [
        ("summary", lambda d: d.pop("quantities"), "no 'quantities'"),
        ("summary", lambda d: d["quantities"]["pmra"].pop("q16"), r"'pmra' lacks \['q16'\]"),
        ("summary", lambda d: d.update(n_stars=7), "5 rows, but the summary's fit used 7"),
        ("diagnostics", lambda d: d.pop("divergences"), "'divergences' is missing"),
        ("diagnostics", lambda d: d["cluster"].pop("r_hat_max"), "'cluster.r_hat_max'"),
    ],
)
def test_incomplete_json_is_refused(tmp_path: Path, kind: str, edit: Any, message: str) -> None:
    paths = write_fit(tmp_path, "ngc6819", "pm_2d")
    path = paths[f"{kind}_path"]
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(InputDataError, match=message):
        read_fit("ngc6819", "pm_2d", **paths)


@pytest.mark.parametrize(
    ("p", "message"), [(np.array([0.5, np.nan]), "1 rows"), (np.array([0.2, 1.5]), "1 rows")]
)
def test_invalid_probabilities_are_refused(tmp_path: Path, p: np.ndarray, message: str) -> None:
    paths = write_fit(tmp_path, "ngc6819", "pm_2d", p=p)
    with pytest.raises(InputDataError, match=f"p_cluster' has {message}"):
        read_fit("ngc6819", "pm_2d", **paths)
    Table({"source_id": [1, 2]}).write(paths["membership_path"], overwrite=True)
    with pytest.raises(InputDataError, match="'p_cluster' is missing"):
        read_fit("ngc6819", "pm_2d", **paths)


def test_fits_must_match_the_configured_clusters(tmp_path: Path) -> None:
    fits = fits_for(tmp_path)
    with pytest.raises(InputDataError, match="'m_67', which is not one of"):
        summary_rows(fits, CLUSTERS[:1], THRESHOLDS)
    with pytest.raises(InputDataError, match=r"no fits for cluster\(s\) \['m_67'\]"):
        summary_rows(fits[:2], CLUSTERS, THRESHOLDS)
    with pytest.raises(InputDataError, match="'pm_2d' given twice"):
        summary_rows([*fits, fits[0]], CLUSTERS, THRESHOLDS)


def test_a_bad_csv_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="not found"):
        read_summary_csv(tmp_path / "missing.csv")
    rows = summary_rows(fits_for(tmp_path / "fits"), CLUSTERS, THRESHOLDS)
    path = tmp_path / "clusters_summary.csv"
    write_summary_csv(rows, path)
    header, *lines = path.read_text().splitlines()
    path.write_text("\n".join([header.replace(",converged", ""), *lines]) + "\n")
    with pytest.raises(InputDataError, match=r"columns \['converged'\] are missing"):
        read_summary_csv(path)
    write_summary_csv(rows, path)
    path.write_text(path.read_text().replace(",true,", ",yes,", 1))
    with pytest.raises(InputDataError, match="'adopted' is 'yes'"):
        read_summary_csv(path)
    write_summary_csv(rows, path)
    path.write_text(path.read_text().replace(",5,", ",five,", 1))
    with pytest.raises(InputDataError, match="line 2: column 'n_stars' is 'five'"):
        read_summary_csv(path)


# --- the example config ------------------------------------------------------------------


def test_clusters_example_config_layers_on_the_default() -> None:
    """config/clusters.yaml on top of config/config.yaml (as Snakemake layers them: the
    later file's top-level keys win) is a valid config with two different clusters."""
    from snakemake.utils import validate

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    example = yaml.safe_load((REPO / "config/clusters.yaml").read_text())
    assert set(example) == {"clusters"}
    # the paper's cluster is the default config's, unchanged
    assert example["clusters"][0] == config["clusters"][0]
    config.update(example)
    validate(config, str(REPO / "workflow/schemas/config.schema.yaml"))
    check_config(config, workdir=REPO)
    first, second = config["clusters"]
    for key in ("parallax_mas", "pmra_masyr", "rv_kms", "plummer_radius_arcmin"):
        assert first["simulation"][key] != second["simulation"][key], key

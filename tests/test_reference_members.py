"""Reference member lists and the star-by-star overlap.

The VizieR path runs astroquery against :class:`tests.vizier_server.VizierServer` on
loopback, with every other connection refused (``block_non_loopback``); the file option,
the simulator's truth, the overlap numbers, the paper's macros and the overlays in the
figures are tested on small tables.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.table import Table

from clustermix.catalogues.reference_members import (
    file_list,
    read_reference_members,
    truth_list,
    vizier_list,
    write_reference_members,
)
from clustermix.catalogues.reference_overlap import overlap_macros, overlap_with, reference_overlap
from clustermix.config import check_config
from clustermix.data.simulate import simulate_field
from clustermix.data.vizier_members import (
    CATALOGUES,
    fetch_reference_members,
    make_vizier,
    reference_name,
)
from clustermix.errors import ConfigError, InputDataError, QueryError
from clustermix.io import write_json_atomic
from clustermix.plotting.cmd import cmd_membership_from_tables
from clustermix.plotting.pm_membership import pm_membership_from_tables

from .tap_server import block_non_loopback
from .vizier_server import VizierServer

FAST = {"max_retries": 2, "backoff_s": 0.0, "timeout_s": 10.0}
NGC6819_IDS = 2_076_000_000_000_000_000 + np.arange(6, dtype=np.int64) * 4099


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Refuse every connection that is not to loopback, for every test of this file."""
    return block_non_loopback(monkeypatch)


def vizier_tables() -> dict[str, Table]:
    """Hunt & Reffert (2023) and Cantat-Gaudin et al. (2020) members of two clusters, with
    VizieR's column names (and one extra column VizieR would also have)."""
    other = np.array([11, 12], dtype=np.int64)
    hunt = Table(
        {
            "Name": ["NGC_6819"] * 6 + ["NGC_6819_b"] * 2,
            "GaiaDR3": np.concatenate([NGC6819_IDS, other]),
            "Prob": [0.95, 0.8, 0.6, 0.5, 0.3, 0.1, 0.9, 0.9],
            "Gmag": np.linspace(12.0, 19.0, 8),
        }
    )
    cantat = Table(
        {
            "Cluster": ["NGC_6819"] * 4 + ["NGC_6791"],
            "GaiaDR2": np.concatenate([NGC6819_IDS[:4], other[:1]]),
            "proba": [1.0, 0.7, 0.6, 0.2, 1.0],
        }
    )
    return {"J/A+A/673/A114/members": hunt, "J/A+A/640/A1/nodup": cantat}


@pytest.fixture
def server() -> Iterator[VizierServer]:
    with VizierServer(vizier_tables()) as running:
        yield running


def fetch(
    server: VizierServer, out: Path, catalogue: str = "hunt2023", name: str = "NGC_6819"
) -> dict[str, Any]:
    """fetch_reference_members against ``server``; return the provenance."""
    fetch_reference_members(
        catalogue=catalogue,
        cluster_name=name,
        settings={"vizier_server": server.url, **FAST},
        members_path=out / f"{catalogue}.fits",
        provenance_path=out / f"{catalogue}.provenance.json",
        download_dir=out / "downloads",
    )
    return json.loads((out / f"{catalogue}.provenance.json").read_text())


# --------------------------------------------------------------------------- VizieR


def test_vizier_fetch_keeps_the_clusters_members_with_provenance(
    server: VizierServer, tmp_path: Path, no_network: list[tuple[str, Any]]
) -> None:
    record = fetch(server, tmp_path)
    members = Table.read(tmp_path / "hunt2023.fits")
    assert members.colnames == ["source_id", "probability"]
    assert members["source_id"].dtype.kind == "i" and members["source_id"].dtype.itemsize == 8
    assert list(members["source_id"]) == list(NGC6819_IDS)
    np.testing.assert_allclose(members["probability"], [0.95, 0.8, 0.6, 0.5, 0.3, 0.1])
    assert record["vizier_table"] == "J/A+A/673/A114/members"
    assert record["cluster_name"] == "NGC_6819"
    assert record["server"] == server.url
    assert record["n_rows"] == 6
    assert record["attempts"] == 1 and record["from_cache"] is False
    assert record["astroquery_version"]
    # the request astroquery sent: the table, its three columns, no row limit, the name
    (request,) = server.requests
    assert request.path == "/viz-bin/votable"
    assert request.script["-source"] == "J/A+A/673/A114/members"
    assert request.script["-out"].split(",") == ["Name", "GaiaDR3", "Prob"]
    assert request.script["-out.max"] == "unlimited"
    assert request.script["Name"] == "NGC_6819"
    assert no_network == []


def test_vizier_download_is_reused_without_a_request(server: VizierServer, tmp_path: Path) -> None:
    fetch(server, tmp_path)
    first = (tmp_path / "hunt2023.fits").read_bytes()
    record = fetch(server, tmp_path)
    assert len(server.requests) == 1
    assert record["from_cache"] is True and record["attempts"] == 0
    assert (tmp_path / "hunt2023.fits").read_bytes() == first


@pytest.mark.parametrize("mode", ["http500", "malformed"])
def test_vizier_failures_are_retried(server: VizierServer, tmp_path: Path, mode: str) -> None:
    server.fail_next(2, mode)
    record = fetch(server, tmp_path)
    assert record["attempts"] == 3
    assert len(Table.read(tmp_path / "hunt2023.fits")) == 6


def test_vizier_gives_up_after_the_retries_and_writes_nothing(
    server: VizierServer, tmp_path: Path
) -> None:
    server.fail_next(3, "http500")
    with pytest.raises(QueryError, match="after 3 attempt"):
        fetch(server, tmp_path)
    assert not (tmp_path / "hunt2023.fits").exists()


def test_vizier_http_400_is_not_retried(server: VizierServer, tmp_path: Path) -> None:
    server.fail_next(1, "http400")
    with pytest.raises(QueryError, match="HTTP 400"):
        fetch(server, tmp_path)
    assert len(server.requests) == 1


def test_vizier_unknown_cluster_name_says_what_to_set(server: VizierServer, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match=r"'NGC 6819'.*reference_name"):
        fetch(server, tmp_path, name="NGC 6819")
    assert len(server.requests) == 1


def test_cantat2020_dr2_identifiers_and_threshold(server: VizierServer, tmp_path: Path) -> None:
    fetch(server, tmp_path, catalogue="cantat2020")
    reference = vizier_list(
        "cantat2020", tmp_path / "cantat2020.fits", tmp_path / "cantat2020.provenance.json"
    )
    assert list(reference.stars["source_id"]) == list(NGC6819_IDS[:4])
    # members at the paper's own threshold, proba >= 0.7
    assert list(reference.stars["member"]) == [True, True, False, False]
    assert reference.info.threshold == 0.7 and reference.info.n_members == 2
    assert reference.info.identifiers.startswith("Gaia DR2")
    assert "J/A+A/640/A1/nodup" in reference.info.origin


def test_vizier_client_uses_astroquerys_server_setting() -> None:
    spec = CATALOGUES["hunt2023"]
    mirror = make_vizier(spec, "vizier.cfa.harvard.edu", 10.0)
    assert mirror._server_to_url() == "https://vizier.cfa.harvard.edu/viz-bin/votable"
    local = make_vizier(spec, "http://127.0.0.1:8080/", 10.0)
    assert local._server_to_url() == "http://127.0.0.1:8080/viz-bin/votable"


def test_reference_name_defaults_to_the_label() -> None:
    assert reference_name({"name": "ngc6819", "label": "NGC 6819"}) == "NGC_6819"
    assert reference_name({"name": "m67", "label": "M67", "reference_name": "NGC_2682"}) == (
        "NGC_2682"
    )


# --------------------------------------------------------------------------- files


def test_file_with_probabilities(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    Table({"source_id": [5, 6, 7], "pmem": [0.9, 0.4, 0.7]}).write(path)
    reference = file_list({"path": str(path), "label": "My list", "probability_column": "pmem"}, 0)
    assert reference.info.key == "file1" and reference.info.label == "My list"
    assert reference.info.threshold == 0.5
    assert list(reference.stars["member"]) == [True, False, True]


def test_file_without_probabilities_lists_members(tmp_path: Path) -> None:
    path = tmp_path / "ids.ecsv"
    Table({"SOURCE_ID": np.array([5, 6], dtype=np.int64)}).write(path)
    reference = file_list(str(path), 1)
    assert reference.info.key == "file2" and reference.info.label == "ids"
    assert reference.info.threshold is None
    assert list(reference.stars["member"]) == [True, True]
    assert np.isnan(reference.stars["probability"]).all()


@pytest.mark.parametrize(
    ("table", "entry", "message"),
    [
        ({"gaia_id": [1, 2]}, {}, r"mine\.csv.*column 'source_id'.*missing"),
        ({"source_id": [1, 2]}, {"probability_column": "Prob"}, r"mine\.csv.*column 'Prob'"),
        ({"source_id": [1, 2], "probability": [0.5, 1.5]}, {}, r"'probability'.*\[0, 1\]"),
        ({"source_id": [1.5, 2.0]}, {}, r"'source_id' must hold integers"),
        ({"source_id": [1, 1]}, {}, r"'source_id'.*more than once"),
    ],
)
def test_bad_file_names_the_file_and_the_column(
    tmp_path: Path, table: dict[str, Any], entry: dict[str, Any], message: str
) -> None:
    path = tmp_path / "mine.csv"
    Table(table).write(path)
    with pytest.raises(InputDataError, match=message):
        file_list({"path": str(path), **entry}, 0)


def test_config_check_names_a_missing_reference_file(tmp_path: Path) -> None:
    config = {
        "clusters": [
            {
                "name": "ngc6819",
                "radius_arcmin": 20.0,
                "reference_members": [{"path": "absent.csv"}],
            }
        ],
        "data": {"source": "simulated"},
        "masks": {"cluster_radius_arcmin": 5.0, "control_min_arcmin": 15.0},
    }
    with pytest.raises(ConfigError, match=r"clusters\[0\]\.reference_members\[0\].*absent\.csv"):
        check_config(config, tmp_path)


# --------------------------------------------------------------------------- truth


def test_simulated_truth_is_the_reference(tmp_path: Path) -> None:
    catalog, truth = simulate_field(
        ra_deg=295.327,
        dec_deg=40.19,
        radius_arcmin=10.0,
        seed=3,
        n_members=40,
        n_field=200,
        parallax_mas=0.36,
        pmra_masyr=-2.91,
        pmdec_masyr=-3.86,
        rv_kms=2.45,
        sigma_v_kms=1.0,
        plummer_radius_arcmin=3.0,
        g_max_mag=19.0,
    )
    write_json_atomic(truth, tmp_path / "truth.json")
    reference = truth_list(tmp_path / "truth.json")
    assert reference.info.key == "truth" and reference.info.threshold is None
    assert reference.info.n_members == truth["n_members"] == 40
    assert set(reference.stars["source_id"]) <= set(catalog["source_id"])
    # a model that finds exactly the true members overlaps the truth completely
    ids = np.asarray(catalog["source_id"], np.int64)
    p = np.where(np.isin(ids, reference.stars["source_id"]), 0.99, 0.01)
    result = overlap_with(reference, ids, p)
    assert result["frac_theirs_p_gt_0.5"] == result["frac_ours_in_their_members"] == 1.0


# --------------------------------------------------------------------------- overlap


def members_table(ids: np.ndarray, p: np.ndarray, model: str = "pm_2d") -> Table:
    table = Table({"source_id": np.asarray(ids, np.int64), f"p_{model}": p, "p_pmra_1d": p})
    table.meta.update({"ADOPTED": model, "ADOPT_OK": True})
    return table


def test_overlap_counts_and_fractions(tmp_path: Path) -> None:
    ids = np.arange(1, 11)
    p = np.array([0.9, 0.8, 0.6, 0.55, 0.4, 0.75, 0.1, np.nan, 0.95, 0.2])
    path = tmp_path / "theirs.csv"
    # theirs: stars 1-5 and 8 (not fitted by us) and 99 (not in our catalogue) at p >= 0.5;
    # star 9 listed below their threshold
    Table(
        {
            "source_id": [1, 2, 3, 4, 5, 8, 99, 9],
            "probability": [0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.2],
        }
    ).write(path)
    reference = file_list(str(path), 0)
    record = reference_overlap(members_table(ids, p), [reference], cluster="c")
    assert record["adopted_model"] == "pm_2d"
    assert record["n_fitted"] == 9 and record["n_ours_p_gt_0.5"] == 6
    (entry,) = record["references"]
    assert entry["n_members"] == 7 and entry["n_members_matched"] == 5
    assert entry["n_members_unmatched"] == 2
    assert entry["n_theirs_p_gt_0.5"] == 4 and entry["frac_theirs_p_gt_0.5"] == 4 / 5
    assert entry["n_theirs_p_gt_0.7"] == 2 and entry["frac_theirs_p_gt_0.7"] == 2 / 5
    # ours (p > 0.5): 1, 2, 3, 4, 6, 9; among their members: 1-4; in their list: 1-4 and 9
    assert entry["n_ours"] == 6
    assert entry["frac_ours_in_their_members"] == 4 / 6
    assert entry["frac_ours_in_their_list"] == 5 / 6


def test_overlap_of_disjoint_lists_is_zero() -> None:
    reference = truth_from_ids([100, 101])
    result = overlap_with(reference, np.arange(1, 4), np.array([0.9, 0.9, 0.9]))
    assert result["n_members_matched"] == 0 and math.isnan(result["frac_theirs_p_gt_0.5"])
    assert result["frac_ours_in_their_members"] == 0.0


def truth_from_ids(ids: list[int]) -> Any:
    from clustermix.catalogues.reference_members import _list

    return _list("truth", "simulated truth", "test", np.asarray(ids), None, None)


def test_lists_round_trip_through_the_ecsv_file(server: VizierServer, tmp_path: Path) -> None:
    fetch(server, tmp_path)
    lists = [
        truth_from_ids([1, 2, 3]),
        vizier_list("hunt2023", tmp_path / "hunt2023.fits", tmp_path / "hunt2023.provenance.json"),
    ]
    write_reference_members(lists, tmp_path / "refs.ecsv")
    back = read_reference_members(tmp_path / "refs.ecsv")
    assert [item.info for item in back] == [item.info for item in lists]
    for before, after in zip(lists, back, strict=True):
        assert list(after.stars["source_id"]) == list(before.stars["source_id"])
        assert list(after.stars["member"]) == list(before.stars["member"])
    write_reference_members([], tmp_path / "none.ecsv")
    assert read_reference_members(tmp_path / "none.ecsv") == []


def test_paper_macros_say_the_overlap(server: VizierServer, tmp_path: Path) -> None:
    fetch(server, tmp_path)
    hunt = vizier_list(
        "hunt2023", tmp_path / "hunt2023.fits", tmp_path / "hunt2023.provenance.json"
    )
    ids = NGC6819_IDS
    p = np.array([0.99, 0.9, 0.2, 0.8, 0.1, 0.05])
    record = reference_overlap(members_table(ids, p, "phase_space"), [hunt], cluster="c")
    macros = overlap_macros(json.loads(json.dumps(record)))
    assert macros["ReferenceAvailable"] == "true"
    assert macros["ReferenceModel"] == "phase-space"
    text = macros["ReferenceOverlapText"]
    assert r"\citet{HuntReffert2023}" in text
    # their members (Prob >= 0.5): 4; of those, ours have p > 0.5 for 3
    assert "Of the 4 members" in text and r"75.0\%" in text
    assert macros["ReferenceHuntTwoZeroTwoThreeFracFifty"] == r"75.0\%"
    assert "nan" not in text.lower()
    assert overlap_macros(None) == {"ReferenceAvailable": "false", "ReferenceOverlapText": ""}


# --------------------------------------------------------------------------- figures


def test_figures_mark_the_reference_members() -> None:
    import matplotlib.pyplot as plt

    n = 50
    rng = np.random.default_rng(1)
    catalog = Table(
        {
            "source_id": np.arange(n, dtype=np.int64),
            "phot_g_mean_mag": rng.uniform(12, 19, n),
            "bp_rp": rng.uniform(0.5, 2.0, n),
            "pmra": rng.normal(-2.9, 1.0, n),
            "pmdec": rng.normal(-3.9, 1.0, n),
        }
    )
    membership = Table({"source_id": catalog["source_id"], "p_pm_2d": rng.uniform(0, 1, n)})
    references = [truth_from_ids([1, 2, 3, 1000])]
    for make in (cmd_membership_from_tables, pm_membership_from_tables):
        fig = make(catalog, membership, "pm_2d", references=references)
        labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        assert "true member (3)" in labels
        plt.close(fig)

"""The user-catalogue cluster of the tiny config (config/test_catalogs/) is what the
simulator makes today.

``config/test.yaml``'s second cluster (M67-like) is read from a file, as a user's own
catalogue would be: a VizieR (I/355/gaiadr3) export with only the key, positions,
astrometry with its uncertainties and correlations, G and BP-RP (no RUWE, solution type,
zero-point inputs, ecliptic latitude or radial velocities), with a colleague's member list
(``reference_members``: the true members' ``source_id``). The file, the list and the
simulator's truth beside them are drawn from that cluster's ``simulation`` block; the
end-to-end build (``built_paper``) carries the cluster through the whole workflow into the
paper's cluster table. After a change to the simulator, rewrite them with::

    .venv/bin/python -m tests.test_catalogs
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from astropy.table import Table

from clustermix.data.simulate import simulate_field

from .gaia_factory import MINIMAL_COLUMNS, minimal_columns, with_vizier_names

REPO = Path(__file__).resolve().parents[1]
TEST_CONFIG_PATH = REPO / "config" / "test.yaml"


def file_cluster() -> dict[str, Any]:
    """The tiny config's cluster whose catalogue comes from a file."""
    clusters = yaml.safe_load(TEST_CONFIG_PATH.read_text())["clusters"]
    (cluster,) = (entry for entry in clusters if entry.get("source") == "file")
    return cluster


def truth_path(cluster: dict[str, Any]) -> Path:
    """Where the simulator's truth of ``cluster``'s file is kept (beside the file)."""
    return REPO / Path(cluster["path"]).with_name(f"{cluster['name']}_truth.json")


#: Decimals VizieR gives in I/355/gaiadr3 (its byte-by-byte description): positions in deg,
#: their errors and the parallax in mas, proper motions in mas/yr, correlations, magnitudes.
VIZIER_DECIMALS = {
    "RA_ICRS": 11,
    "DE_ICRS": 11,
    "e_RA_ICRS": 4,
    "e_DE_ICRS": 4,
    "Plx": 4,
    "e_Plx": 4,
    "pmRA": 3,
    "e_pmRA": 3,
    "pmDE": 3,
    "e_pmDE": 3,
    "Gmag": 6,
    "BP-RP": 6,
}
#: Decimals of the ten correlation columns (RADEcor ... pmRApmDEcor).
CORRELATION_DECIMALS = 4


def reference_path(cluster: dict[str, Any]) -> Path:
    """The file cluster's reference member list (``clusters[].reference_members``)."""
    (entry,) = cluster["reference_members"]
    return REPO / (entry if isinstance(entry, str) else entry["path"])


def reference_table(truth: dict[str, Any]) -> Table:
    """A colleague's member list: the true members' ``source_id``, ascending."""
    return Table({"source_id": np.sort(np.asarray(truth["member_source_ids"], dtype=np.int64))})


def draw_file_cluster(cluster: dict[str, Any]) -> tuple[Table, dict[str, Any]]:
    """The VizieR-named minimal catalogue (rounded as VizieR prints it) and the truth of
    ``cluster``'s simulation."""
    catalog, truth = simulate_field(
        ra_deg=cluster["ra_deg"],
        dec_deg=cluster["dec_deg"],
        radius_arcmin=cluster["radius_arcmin"],
        **cluster["simulation"],
    )
    export = with_vizier_names(minimal_columns(catalog))
    for name in export.colnames:
        decimals = CORRELATION_DECIMALS if name.endswith("cor") else VIZIER_DECIMALS.get(name)
        if decimals is not None:
            export[name] = np.round(np.asarray(export[name], dtype=float), decimals)
    return export, truth


def write_file_cluster() -> None:
    """Rewrite the file cluster's catalogue and truth from its simulation block."""
    cluster = file_cluster()
    catalog, truth = draw_file_cluster(cluster)
    catalog.write(REPO / cluster["path"], format="ascii.csv", overwrite=True)
    truth_path(cluster).write_text(json.dumps(truth, indent=1, sort_keys=True) + "\n")
    reference_table(truth).write(reference_path(cluster), format="ascii.csv", overwrite=True)


def test_the_file_cluster_is_the_simulators_minimal_vizier_export() -> None:
    cluster = file_cluster()
    expected, truth = draw_file_cluster(cluster)
    shipped = Table.read(REPO / cluster["path"], format="ascii.csv")
    assert shipped.colnames == expected.colnames
    assert "Plx" in shipped.colnames and "parallax" not in shipped.colnames
    assert len(shipped.colnames) == len(MINIMAL_COLUMNS)
    for name in shipped.colnames:
        # the CSV keeps VizieR's decimals; a value whose next digit sits at a rounding
        # boundary may round either way when another CPU's maths library computes it a few
        # ulp apart (RA 133.18387172144 against ...145 was seen), so the rounded columns
        # agree to one unit of their last decimal and the others exactly
        decimals = CORRELATION_DECIMALS if name.endswith("cor") else VIZIER_DECIMALS.get(name)
        tolerance = 0.0 if decimals is None else 1.5 * 10.0**-decimals
        np.testing.assert_allclose(
            np.asarray(shipped[name]),
            np.asarray(expected[name]),
            rtol=0,
            atol=tolerance,
            err_msg=name,
        )
    assert json.loads(truth_path(cluster).read_text()) == json.loads(json.dumps(truth))
    shipped_members = Table.read(reference_path(cluster), format="ascii.csv")
    assert list(shipped_members["source_id"]) == list(reference_table(truth)["source_id"])


if __name__ == "__main__":
    write_file_cluster()

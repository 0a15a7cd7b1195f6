"""The paper's figures and data/literature number files: library functions on small
synthetic inputs, then the fit-free ones through Snakemake on the tiny config."""

from __future__ import annotations

import json
import re
from pathlib import Path

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from clustermix.errors import InputDataError
from clustermix.paper.data_numbers import (
    NOT_SIMULATED,
    cuts_text,
    data_macros,
    input_columns_text,
    list_in_words,
    plain_number,
    rv_correction_text,
)
from clustermix.paper.literature import (
    TABLE_COLUMNS,
    literature_macros,
    literature_table_rows,
    load_literature,
)
from clustermix.paper.macros import write_macros
from clustermix.plotting.cmd import cmd_membership_figure, cmd_membership_from_tables
from clustermix.plotting.comparison import model_comparison_figure
from clustermix.plotting.line import line_band, line_outliers_figure, weighted_least_squares
from clustermix.plotting.sky import (
    separation_circle_arcmin,
    sky_masks_figure,
    sky_offsets_arcmin,
)
from clustermix.plotting.style import figure_provenance, save_figure

from .conftest import REPO, run_snakemake

CENTRE = (295.327, 40.190)
MACRO_LINE = re.compile(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}")


def read_macros(path: Path) -> dict[str, str]:
    """The ``{name: value}`` of a macro file; every non-comment line must be a definition."""
    macros = {}
    for line in path.read_text().splitlines():
        if not line or line.startswith("%"):
            continue
        match = MACRO_LINE.fullmatch(line)
        assert match, f"not a \\newcommand line: {line!r}"
        assert match[1] not in macros, f"\\{match[1]} defined twice"
        macros[match[1]] = match[2]
    return macros


def field(n: int = 400, seed: int = 1) -> dict[str, np.ndarray]:
    """A small synthetic field: positions within 20 arcmin of CENTRE, G, BP-RP, masks."""
    rng = np.random.default_rng(seed)
    centre = SkyCoord(*CENTRE, unit="deg")
    stars = centre.directional_offset_by(
        rng.uniform(0, 360, n) * u.deg, 20 * np.sqrt(rng.uniform(0, 1, n)) * u.arcmin
    )
    separation = centre.separation(stars).arcmin
    return {
        "source_id": np.arange(1, n + 1, dtype=np.int64) * 1000,
        "ra": stars.ra.deg,
        "dec": stars.dec.deg,
        "phot_g_mean_mag": rng.uniform(10, 19, n),
        "bp_rp": rng.uniform(0.5, 2.0, n),
        "in_cluster_region": separation < 5,
        "in_control_field": separation > 15,
        "separation": separation,
    }


# ------------------------------------------------------------------------------ figures


def test_sky_offsets_match_astropy_separations() -> None:
    stars = field()
    east, north = sky_offsets_arcmin(stars["ra"], stars["dec"], *CENTRE)
    # Offsets in the sky-offset frame are great-circle coordinates: the distance from the
    # origin equals the separation to well under an arcsecond over 20 arcmin.
    np.testing.assert_allclose(np.hypot(east, north), stars["separation"], atol=1e-3)
    east_star = SkyCoord(*CENTRE, unit="deg").directional_offset_by(90 * u.deg, 3 * u.arcmin)
    e, n = sky_offsets_arcmin([east_star.ra.deg], [east_star.dec.deg], *CENTRE)
    assert e[0] == pytest.approx(3.0, abs=1e-6) and n[0] == pytest.approx(0.0, abs=1e-6)
    ring_east, ring_north = separation_circle_arcmin(5.0, *CENTRE)
    np.testing.assert_allclose(np.hypot(ring_east, ring_north), 5.0, rtol=1e-6)


def test_sky_masks_figure() -> None:
    stars = field()
    fig = sky_masks_figure(
        stars["ra"],
        stars["dec"],
        stars["phot_g_mean_mag"],
        stars["in_cluster_region"],
        stars["in_control_field"],
        centre_ra_deg=CENTRE[0],
        centre_dec_deg=CENTRE[1],
        cluster_radius_arcmin=5.0,
        control_min_arcmin=15.0,
        cone_radius_arcmin=20.0,
    )
    assert isinstance(fig, plt.Figure)
    ax = fig.axes[0]
    assert ax.get_xlim()[0] > ax.get_xlim()[1]  # east to the left
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    n_cluster = int(stars["in_cluster_region"].sum())
    assert any(label.endswith(f": {n_cluster}") and "cluster" in label for label in labels)
    plt.close(fig)


def test_cmd_membership_figure_and_table_matching() -> None:
    stars = field()
    probability = np.random.default_rng(2).uniform(0, 1, len(stars["ra"]))
    probability[:50] = np.nan  # stars the model did not use
    fig = cmd_membership_figure(
        stars["phot_g_mean_mag"], stars["bp_rp"], probability, model_label="phase space"
    )
    ax = fig.axes[0]
    assert ax.yaxis_inverted()
    assert "phase space" in fig.axes[1].get_ylabel()  # the colour bar
    plt.close(fig)

    catalog = Table({key: stars[key] for key in ("source_id", "phot_g_mean_mag", "bp_rp")})
    membership = Table({"source_id": stars["source_id"][::-1], "p_pm_2d": probability[::-1]})
    fig = cmd_membership_from_tables(catalog, membership, "pm_2d")
    coloured = fig.axes[0].collections[1]
    assert len(coloured.get_offsets()) == int(np.sum(probability >= 0.1))
    plt.close(fig)
    with pytest.raises(InputDataError, match="p_phase_space"):
        cmd_membership_from_tables(catalog, membership, "phase_space")
    membership["source_id"][0] = 7
    with pytest.raises(InputDataError, match="not in the catalogue"):
        cmd_membership_from_tables(catalog, membership, "pm_2d")


def test_weighted_least_squares_and_band() -> None:
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(0, 10, 30))
    y_err = rng.uniform(0.5, 2, 30)
    y = 2.0 * x - 1.0 + rng.normal(0, y_err)
    slope, intercept = weighted_least_squares(x, y, y_err)
    np.testing.assert_allclose([slope, intercept], np.polyfit(x, y, 1, w=1 / y_err), rtol=1e-10)
    m, b = rng.normal(2.0, 0.1, 5000), rng.normal(-1.0, 0.2, 5000)
    low, high = line_band(np.array([0.0, 5.0]), m, b)
    assert low[0] == pytest.approx(-1.2, abs=0.03) and high[0] == pytest.approx(-0.8, abs=0.03)
    assert np.all(high > low)


def test_line_outliers_figure() -> None:
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(0, 10, 20))
    is_outlier = np.zeros(20, bool)
    is_outlier[[3, 11]] = True
    y = np.where(is_outlier, 0.0, 3.0 * x - 12.0) + rng.normal(0, 1, 20)
    fig = line_outliers_figure(
        x,
        y,
        np.ones(20),
        is_outlier,
        np.where(is_outlier, 0.05, 0.95),
        rng.normal(3.0, 0.05, (2, 100)),
        rng.normal(-12.0, 0.3, (2, 100)),
        {"m": 3.0, "b": -12.0},
    )
    assert len(fig.axes) == 3  # two panels and the colour bar
    plt.close(fig)


def summary(values: dict[str, float], truth: dict[str, float] | None = None) -> dict:
    """A summary.json-like dict with intervals of +-1 (68%) and +-2 (95%) around each value."""
    quantities = {
        name: {
            "mean": value,
            "sd": 1.0,
            "q2.5": value - 2,
            "q16": value - 1,
            "q50": value,
            "q84": value + 1,
            "q97.5": value + 2,
            "unit": "",
        }
        for name, value in values.items()
    }
    result: dict = {"quantities": quantities}
    if truth is not None:
        result["truth"] = truth
    return result


def test_model_comparison_figure() -> None:
    summaries = {
        "pmra_1d": summary({"pmra": -2.9, "f_cluster": 0.2}, {"pmra": -2.9, "f_cluster": 0.1}),
        "parallax_1d": summary({"parallax": 0.36, "distance": 2770.0, "f_cluster": 0.5}),
        "pm_2d": summary({"pmra": -2.8, "pmdec": -3.8, "f_cluster": 0.3}, {"f_cluster": 0.15}),
    }
    summaries["parallax_1d"]["quantities"]["distance"]["q97.5"] = None  # non-finite in JSON
    literature = [
        {"cite": "A2020", "label": "A et al. (2020)", "pmra_masyr": -2.9, "parallax_mas": 0.35},
        {"cite": "B2009", "label": "B et al. (2009)", "rv_kms": 2.3, "rv_kms_err": 0.1},
    ]
    fig = model_comparison_figure(summaries, literature)
    # distance is left out: its only estimate has a missing percentile.
    assert [ax.get_xlabel() for ax in fig.axes] == [
        r"$\mu_{\alpha*}$ (mas yr$^{-1}$)",
        r"$\mu_\delta$ (mas yr$^{-1}$)",
        r"$\varpi$ (mas)",
        r"$f_\mathrm{cl}$",  # one symbol per quantity (clustermix.quantities)
    ]
    labels = [text.get_text() for text in fig.legends[0].get_texts()]
    assert "A et al. (2020)" in labels and "B et al. (2009)" not in labels  # no RV panel
    assert "truth (simulation)" in labels
    plt.close(fig)
    with pytest.raises(ValueError, match="no model reports"):
        model_comparison_figure(summaries, quantities=("v_x",))


def test_saved_figure_carries_its_provenance(tmp_path: Path) -> None:
    script = tmp_path / "fig_test.py"
    script.write_text("# a figure script\n")
    data = tmp_path / "input.json"
    data.write_text("{}\n")
    provenance = figure_provenance(
        rule="fig_test", script=str(script), inputs=[str(data)], code_version="git:abc123"
    )
    stars = field(50)
    fig = cmd_membership_figure(
        stars["phot_g_mean_mag"], stars["bp_rp"], np.full(50, 0.9), model_label="test"
    )
    out = tmp_path / "figures" / "cmd.pdf"
    save_figure(fig, out, provenance)
    content = out.read_bytes()
    assert content.startswith(b"%PDF")
    assert b"clustermix fig_test git:abc123" in content  # Subject
    assert b'"rule": "fig_test"' in content and b'"code_version": "git:abc123"' in content
    assert str(data).encode() in content  # the input's path (and its sha256) in Keywords


# ------------------------------------------------------------------------ number files


def data_inputs(n: int = 40) -> dict:
    """Synthetic data-stage outputs for :func:`data_macros`."""
    ids = np.arange(1, n + 1, dtype=np.int64)
    rv = np.full(n, np.nan)
    rv[:6] = 1.0
    in_cluster = np.zeros(n, bool)
    in_cluster[:10] = True
    in_control = np.zeros(n, bool)
    in_control[25:] = True
    return {
        "catalog_summary": {
            "n_input": 1234,
            "n_kept": n,
            "n_removed": 1234 - n,
            "n_removed_ruwe": 1000,
            "n_removed_params_solved": 150,
            "n_removed_g_mag": 60,
            "ruwe_max": 1.4,
            "params_solved": [31, 95],
            "g_max_mag": 19.0,
            "zero_point_median_mas": -0.02449,
            "zero_point_mean_mas": -0.0231,
            "zero_point_global_mas": -0.017,
            "n_zero_point_extrapolated": 3,
            "rv_correction": True,
            "n_rv": 6,
            "n_rv_offset": 4,
            "n_rv_grvs_estimated": 0,
            "n_rv_without_grvs": 0,
            "rv_offset_median_kms": -0.123,
        },
        "input_check": {
            "path": "resources/x/gaia_dr3_simulated.fits",
            "sha256": "ab" * 32,
            "n_rows": 1234,
        },
        "catalog": Table({"source_id": ids, "radial_velocity": rv}),
        "masks": Table(
            {"source_id": ids, "in_cluster_region": in_cluster, "in_control_field": in_control}
        ),
        "cone_radius_arcmin": 20.0,
        "cluster_radius_arcmin": 5.0,
        "control_min_arcmin": 15.0,
    }


TRUTH = {
    "seed": 6819,
    "n_members": 300,
    "n_field": 1500,
    "f_cluster": 300 / 1800,
    "member_source_ids": [1, 2, 3, 4, 30, 9999],
    "parallax": 0.36,
    "distance": 1000 / 0.36,
    "pmra": -2.9100000000000006,
    "pmdec": -3.86,
    "rv": 2.45,
    "sigma_v": 1.0,
    "plummer_radius_arcmin": 4.5,
}


def test_data_macros_file(tmp_path: Path) -> None:
    macros = data_macros(**data_inputs(), source="simulated", truth=TRUTH)
    path = tmp_path / "data_numbers.tex"
    write_macros(macros, path, made_by="test")
    parsed = read_macros(path)
    assert parsed == macros
    assert all(name.startswith("Data") for name in parsed)
    expected = {
        "DataNStarsInput": "1{,}234",
        "DataNStarsKept": "40",
        "DataNStarsRemoved": "1{,}194",
        "DataNRemovedRuwe": "1{,}000",
        "DataNRemovedParamsSolved": "150",
        "DataNRemovedGMag": "60",
        "DataNClusterRegion": "10",
        "DataNControlField": "15",
        "DataNBetweenRegions": "15",
        "DataNRv": "6",
        "DataNRvClusterRegion": "6",
        "DataConeRadiusArcmin": "20",
        "DataClusterRadiusArcmin": "5",
        "DataControlMinArcmin": "15",
        "DataRuweMax": "1.4",
        "DataGMaxMag": "19",
        "DataParamsSolved": "31 and 95",
        "DataZeroPointMedianMas": "-0.024",
        "DataZeroPointMeanMas": "-0.023",
        "DataSource": "simulated",
        "DataIsSimulated": "1",
        "DataInputFile": r"gaia\_dr3\_simulated.fits",
        "DataInputChecksum": "abababababab",
        "DataSimSeed": "6819",
        "DataTrueNMembersInput": "300",
        "DataTrueFClusterInput": "0.167",
        "DataTrueNMembers": "5",  # 9999 is not in the kept catalogue
        "DataTrueFCluster": "0.125",
        "DataTrueNMembersClusterRegion": "4",
        "DataTruePmraMasyr": "-2.91",
        "DataTrueDistancePc": "2{,}778",
        "DataTrueSigmaVKms": "1",
    }
    assert {name: parsed[name] for name in expected} == expected
    rv_text = parsed["DataRvCorrectionText"]
    assert "of the 4 stars" in rv_text and "$-0.12$" in rv_text and "Katz2023" in rv_text
    assert "Sartoretti2023" not in rv_text  # every G_RVS came from the catalogue


def test_rv_correction_sentence_follows_the_summary() -> None:
    summary = data_inputs()["catalog_summary"]
    estimated = rv_correction_text({**summary, "n_rv_grvs_estimated": 2})
    assert "for 2 of them" in estimated and "Sartoretti2023" in estimated
    published = rv_correction_text({**summary, "rv_correction": False})
    assert "as published" in published and "Katz2023" not in published


def test_cuts_sentence_follows_the_summary() -> None:
    summary = data_inputs()["catalog_summary"]
    complete = cuts_text(summary)
    assert r"$\mathrm{RUWE} < 1.4$" in complete and "1{,}000 fail the RUWE cut" in complete
    assert "150 the solution type and 60 the magnitude limit" in complete
    assert "40 stars remain" in complete and "inferred" not in complete
    assert input_columns_text(summary) == ""
    lenient = {
        **summary,
        "ruwe_cut_applied": False,
        "n_removed_ruwe": 0,
        "params_solved_inferred": True,
        "n_zero_point_colour_relation": 37,
        "missing_columns": [{"column": "ecl_lat"}, {"column": "radial_velocity"}],
    }
    without_ruwe = cuts_text(lenient)
    assert "RUWE} <" not in without_ruwe and "no RUWE cut is made" in without_ruwe
    assert "inferred from the other columns" in without_ruwe
    assert "150 fail the solution type" in without_ruwe
    missing = input_columns_text(lenient)
    assert "for 37 stars" in missing and "Lindegren2021astrometry" in missing
    assert "Ecliptic latitudes are computed" in missing
    assert "uses the astrometry alone" in missing


def test_data_macros_without_simulation_and_mismatches() -> None:
    inputs = data_inputs()
    simulated = data_macros(**inputs, source="simulated", truth=TRUTH)
    archive = data_macros(**inputs, source="archive")
    assert set(archive) == set(simulated)  # the paper compiles whatever the source
    assert archive["DataIsSimulated"] == "0"
    assert archive["DataTrueNMembers"] == NOT_SIMULATED == archive["DataSimSeed"]
    inputs["input_check"] = {**inputs["input_check"], "n_rows": 99}
    with pytest.raises(InputDataError, match="different inputs"):
        data_macros(**inputs, source="archive")
    inputs = data_inputs()
    inputs["masks"] = inputs["masks"][::-1]
    with pytest.raises(InputDataError, match="row for row"):
        data_macros(**inputs, source="archive")


def test_number_formatting_helpers() -> None:
    assert plain_number(19.0) == "19"
    assert plain_number(-0.0) == "0"
    assert plain_number(20.5) == "20.5"
    assert list_in_words([31]) == "31"
    assert list_in_words([3, 31, 95]) == "3, 31 and 95"


def test_literature_table_and_macros(tmp_path: Path) -> None:
    path = tmp_path / "literature.yaml"
    path.write_text(
        "ngc1:\n"
        "  - {cite: Smith2020, label: Smith, parallax_mas: 0.356, pmra_masyr: -2.9,"
        " pmdec_masyr: -3.856}\n"
        "  - {cite: Jones2009, label: Jones, rv_kms: 2.34, rv_kms_err: 0.05, pmra_masyr: -2.916}\n"
        "ngc2: []\n"
    )
    entries = load_literature(path, "ngc1")
    rows = literature_table_rows(entries).strip().splitlines()
    assert len(rows) == len(entries) == 2
    cells = [row.removesuffix(r" \\").split(" & ") for row in rows]
    assert all(len(row) == 1 + len(TABLE_COLUMNS) for row in cells)
    assert cells[0] == [r"\citet{Smith2020}", "$0.356$", "$-2.900$", "$-3.856$", "--"]
    assert cells[1] == [r"\citet{Jones2009}", "--", "$-2.916$", "--", r"$2.34 \pm 0.05$"]
    assert load_literature(path, "ngc2") == [] == load_literature(path, "ngc3")
    assert literature_table_rows([]) == ""

    macros = literature_macros(entries)
    write_macros(macros, tmp_path / "literature.tex")
    parsed = read_macros(tmp_path / "literature.tex")
    assert parsed["LitNSources"] == "2"
    assert parsed["LitSmithTwoZeroTwoZeroPmra"] == "-2.900"
    assert parsed["LitJonesTwoZeroZeroNineRv"] == r"2.34 \pm 0.05"

    path.write_text("ngc1:\n  - {cite: 'bad key!', parallax_mas: 0.3}\n")
    with pytest.raises(InputDataError, match="BibTeX key"):
        load_literature(path, "ngc1")
    path.write_text("ngc1:\n  - {cite: A1, parallax_mas: about 0.3}\n")
    with pytest.raises(InputDataError, match="must be a number"):
        load_literature(path, "ngc1")


def test_project_literature_file_and_bibliography() -> None:
    """Every cluster's entries load, and each cite key is in src/tex/bib.bib."""
    import yaml

    literature = REPO / "config/literature.yaml"
    bib = (REPO / "src/tex/bib.bib").read_text()
    for cluster in yaml.safe_load(literature.read_text()):
        entries = load_literature(literature, cluster)
        assert len(literature_table_rows(entries).strip().splitlines()) == len(entries)
        for entry in entries:
            assert re.search(r"@\w+\{" + re.escape(entry["cite"]) + ",", bib), entry["cite"]


# ------------------------------------------------------------------------------ workflow

FIT_FREE_TARGETS = (
    "src/tex/figures/sky_masks.pdf",
    "src/tex/output/data_numbers.tex",
    "src/tex/output/literature_table.tex",
    "src/tex/output/literature.tex",
)


@pytest.mark.slow
def test_fit_free_paper_outputs_through_snakemake(workdir: Path) -> None:
    """The figures and numbers that need no fit, from the tiny config's simulated field."""
    run_snakemake(workdir, *FIT_FREE_TARGETS, "--configfile", "config/test.yaml")
    pdf = (workdir / "src/tex/figures/sky_masks.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b'"rule": "fig_sky_masks"' in pdf
    assert b"scripts/fig_sky_masks.py" in pdf

    macros = read_macros(workdir / "src/tex/output/data_numbers.tex")
    truth = json.loads((workdir / "resources/ngc6819/truth.json").read_text())
    catalog = Table.read(workdir / "results/ngc6819/catalog.fits")
    masks = Table.read(workdir / "results/ngc6819/masks.fits")
    assert macros["DataNStarsInput"] == f"{truth['n_stars']:,}".replace(",", "{,}")
    assert macros["DataNStarsKept"] == f"{len(catalog):,}".replace(",", "{,}")
    assert macros["DataNClusterRegion"] == str(int(masks["in_cluster_region"].sum()))
    assert macros["DataSimSeed"] == "6819"
    assert macros["DataClusterRadiusArcmin"] == "5"

    rows = (workdir / "src/tex/output/literature_table.tex").read_text().strip().splitlines()
    assert len(rows) == len(load_literature(workdir / "config/literature.yaml", "ngc6819"))
    read_macros(workdir / "src/tex/output/literature.tex")
    for log in ("fig_sky_masks", "num_data", "num_literature"):
        assert (workdir / f"logs/paper/{log}.log").exists()
        assert (workdir / f"benchmarks/paper/{log}.tsv").exists()

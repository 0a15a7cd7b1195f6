"""Validation on simulated truth: membership metrics, parameter recovery, number files,
figures, and the validation rules of the workflow."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from astropy.table import Table
from scipy.stats import mannwhitneyu

from clustermix.checks.validation import (
    NOT_AVAILABLE,
    auc,
    average_precision,
    expected_counts,
    precision_recall,
    pull,
    recovery_table,
    roc_curve,
    validation_macros,
    validation_table_rows,
    write_validation_numbers,
)
from clustermix.plotting.style import save_figure
from clustermix.plotting.validation import plot_membership_roc, plot_recovery

from .conftest import run_snakemake

MACRO_LINE = re.compile(r"\\newcommand\{\\[A-Za-z]+\}\{.*\}")
MODELS = ["pmra_1d", "pm_2d"]


def macro_lines(path: Path) -> dict[str, str]:
    """``{name: value}`` of a macro file; every non-comment line must be a \\newcommand."""
    macros = {}
    for line in path.read_text().splitlines():
        if line.startswith("%"):
            continue
        assert MACRO_LINE.fullmatch(line), line
        name, value = re.fullmatch(r"\\newcommand\{\\([A-Za-z]+)\}\{(.*)\}", line).groups()
        macros[name] = value
    return macros


def summary(quantities: dict[str, tuple[float, float, float]]) -> dict:
    """A summary.json of ``{name: (mean, sd, truth)}`` with Gaussian percentiles."""
    z = {"q2.5": -1.96, "q16": -1.0, "q50": 0.0, "q84": 1.0, "q97.5": 1.96}
    stats = {
        name: {"mean": m, "sd": s, **{k: m + v * s for k, v in z.items()}, "unit": "mas/yr"}
        for name, (m, s, _) in quantities.items()
    }
    truth = {name: t for name, (_, _, t) in quantities.items()}
    return {
        "quantities": stats,
        "truth": truth,
        "truth_in_68": {n: stats[n]["q16"] <= t <= stats[n]["q84"] for n, t in truth.items()},
        "truth_in_95": {n: stats[n]["q2.5"] <= t <= stats[n]["q97.5"] for n, t in truth.items()},
    }


# --- membership metrics --------------------------------------------------------------


def test_auc_of_perfect_and_inverted_scores() -> None:
    labels = np.array([0, 0, 0, 1, 1], bool)
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert auc(scores, labels) == 1.0
    assert auc(-scores, labels) == 0.0


def test_auc_of_random_scores_is_one_half() -> None:
    # Under the null the AUC has sd sqrt((n1 + n0 + 1) / (12 n1 n0)), 0.013 for
    # n1 = n0 = 1000; the seeded sample must lie within 4 sd (0.052) of 1/2.
    rng = np.random.default_rng(20240601)
    labels = rng.random(2000) < 0.5
    n1, n0 = labels.sum(), (~labels).sum()
    tolerance = 4 * math.sqrt((n1 + n0 + 1) / (12 * n1 * n0))
    assert abs(auc(rng.random(2000), labels) - 0.5) < tolerance


def test_auc_counts_ties_one_half() -> None:
    assert auc([0.5, 0.5], [True, False]) == 0.5
    assert auc(np.full(10, 0.3), np.arange(10) < 4) == 0.5
    # one positive ties with one of two negatives and beats the other: (1 + 0.5) / 2
    assert auc([0.5, 0.5, 0.1], [True, False, False]) == 0.75


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_equals_mann_whitney_u_and_roc_area(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random(500) < 0.3
    scores = rng.integers(0, 20, 500) + 3.0 * labels  # many ties
    u = mannwhitneyu(scores[labels], scores[~labels]).statistic
    value = auc(scores, labels)
    assert value == pytest.approx(u / (labels.sum() * (~labels).sum()), rel=1e-12)
    fpr, tpr, _ = roc_curve(scores, labels)
    assert np.trapezoid(tpr, fpr) == pytest.approx(value, rel=1e-12)


def test_nan_scores_are_left_out() -> None:
    rng = np.random.default_rng(3)
    labels = rng.random(300) < 0.4
    scores = rng.beta(1 + 2 * labels, 2)  # probabilities, higher for members
    with_nan = np.concatenate([scores, [np.nan] * 50])
    labels_nan = np.concatenate([labels, rng.random(50) < 0.5])
    assert auc(with_nan, labels_nan) == auc(scores, labels)
    assert np.array_equal(roc_curve(with_nan, labels_nan)[1], roc_curve(scores, labels)[1])
    counts = expected_counts(with_nan, labels_nan)
    assert counts.n_stars == 300
    assert counts.n_true == labels.sum()
    with pytest.raises(ValueError, match="positives and negatives"):
        auc([np.nan, 0.3], [True, False])


def test_roc_is_monotone_from_origin_to_one() -> None:
    rng = np.random.default_rng(4)
    labels = rng.random(400) < 0.2
    scores = np.round(rng.normal(2.0 * labels, 1.0), 1)
    fpr, tpr, thresholds = roc_curve(scores, labels)
    assert (fpr[0], tpr[0]) == (0.0, 0.0)
    assert (fpr[-1], tpr[-1]) == (1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)
    assert np.all(np.diff(thresholds) < 0)
    # each point selects the stars scoring at or above its threshold
    i = len(thresholds) // 2
    assert tpr[i] == np.mean(scores[labels] >= thresholds[i])
    assert fpr[i] == np.mean(scores[~labels] >= thresholds[i])


def test_precision_recall() -> None:
    labels = np.array([1, 1, 0, 1, 0, 0], bool)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    precision, recall, thresholds = precision_recall(scores, labels)
    assert np.allclose(recall, [1 / 3, 2 / 3, 2 / 3, 1, 1, 1])
    assert np.allclose(precision, [1, 1, 2 / 3, 3 / 4, 3 / 5, 1 / 2])
    assert np.allclose(thresholds, scores)
    assert average_precision(scores, labels) == pytest.approx((1 + 1 + 3 / 4) / 3)


def test_expected_counts() -> None:
    p = np.array([0.9, 0.6, 0.5, 0.2, 0.0, np.nan])
    labels = np.array([1, 0, 1, 1, 0, 1], bool)
    counts = expected_counts(p, labels)
    assert counts.expected == pytest.approx(2.2)
    assert counts.expected_sd == pytest.approx(math.sqrt(0.09 + 0.24 + 0.25 + 0.16))
    assert (counts.n_stars, counts.n_true, counts.n_selected) == (5, 3, 3)
    assert counts.purity == pytest.approx(2 / 3)
    assert counts.completeness == pytest.approx(2 / 3)


# --- parameter recovery ----------------------------------------------------------------


def test_recovery_table_pulls() -> None:
    summaries = {
        "pm_2d": summary({"pmra": (-2.9, 0.02, -2.91), "pmdec": (-3.8, 0.02, -3.86)}),
        "pmra_1d": summary({"f_cluster": (0.1, 0.01, 0.1), "pmra": (-2.0, 0.5, -2.91)}),
    }
    summaries["pmra_1d"]["quantities"]["sigma_v"] = {"mean": 1.0, "sd": 0.1}  # no truth
    rows = recovery_table(summaries)
    assert [(r.model, r.quantity) for r in rows] == [
        ("pm_2d", "pmra"),
        ("pm_2d", "pmdec"),
        ("pmra_1d", "pmra"),  # quantities in SUMMARY_UNITS order
        ("pmra_1d", "f_cluster"),
    ]
    by_key = {(r.model, r.quantity): r for r in rows}
    assert by_key["pm_2d", "pmra"].pull == pytest.approx(0.5)
    assert by_key["pm_2d", "pmdec"].pull == pytest.approx(3.0)
    assert by_key["pmra_1d", "pmra"].pull == pytest.approx(1.82)
    assert by_key["pmra_1d", "f_cluster"].pull == 0.0
    assert [r.in_68 for r in rows] == [True, False, False, True]
    assert [r.in_95 for r in rows] == [True, False, True, True]
    assert math.isnan(pull(1.0, 0.0, 1.0))
    # without the summary's flags, the percentiles decide
    del summaries["pm_2d"]["truth_in_95"]
    assert [r.in_95 for r in recovery_table(summaries)] == [True, False, True, True]
    assert recovery_table({"pm_2d": {"quantities": summaries["pm_2d"]["quantities"]}}) == []


def test_table_rows_are_latex() -> None:
    rows = recovery_table({"pm_2d": summary({"pmra": (-2.9034, 0.0213, -2.91)})})
    body = validation_table_rows(rows, {"pm_2d": "proper motion (2D)"})
    assert body == (
        r"proper motion (2D) & $\mu_{\alpha*}$ (mas\,yr$^{-1}$) & $-2.903 \pm 0.021$"
        r" & $-2.910$ & $0.31$ \\" + "\n"
    )
    assert validation_table_rows([]) == ""


# --- number files ------------------------------------------------------------------------


def write_inputs(directory: Path) -> tuple[Path, list[Path]]:
    """A membership table and two summaries, as the workflow writes them."""
    rng = np.random.default_rng(5)
    labels = rng.random(400) < 0.25
    table = Table(
        {
            "source_id": np.arange(400, dtype=np.int64),
            "p_pmra_1d": np.clip(labels * 0.7 + rng.random(400) * 0.3, 0, 1),
            "p_pm_2d": np.where(np.arange(400) < 300, labels * 0.9 + 0.05, np.nan),
            "true_member": labels,
        }
    )
    table.write(directory / "membership.fits")
    paths = []
    for model, quantities in {
        "pmra_1d": {"pmra": (-2.95, 0.03, -2.91), "f_cluster": (0.26, 0.02, 0.25)},
        "pm_2d": {"pmra": (-2.91, 0.01, -2.91), "pmdec": (-3.9, 0.01, -3.86)},
    }.items():
        path = directory / f"{model}.json"
        path.write_text(json.dumps(summary(quantities)))
        paths.append(path)
    return directory / "membership.fits", paths


def test_number_files_with_truth(tmp_path: Path) -> None:
    membership, summaries = write_inputs(tmp_path)
    write_validation_numbers(
        models=MODELS,
        membership_path=membership,
        summary_paths=summaries,
        macros_path=tmp_path / "validation.tex",
        table_path=tmp_path / "validation_table.tex",
        has_truth=True,
        made_by="rule num_validation",
    )
    macros = macro_lines(tmp_path / "validation.tex")
    assert macros["ValidationAvailable"] == "true"
    assert macros["ValidationAucPmTwoD"] == "1.000"
    assert macros["ValidationNStarsPmTwoD"] == "300"
    assert macros["ValidationNStars"] == "400"
    assert macros["ValidationNQuantities"] == "4"
    assert macros["ValidationInNinetyFive"] == "3"  # pm_2d pmdec (pull -4) is out
    assert macros["ValidationInSixtyEight"] == "2"  # and pmra_1d pmra (pull -1.3)
    assert macros["ValidationInNinetyFivePmraOneD"] == "2"
    assert macros["ValidationInSixtyEightPmraOneD"] == "1"
    assert macros["ValidationMaxAbsPull"] == "4.0"
    assert not any(NOT_AVAILABLE in value for value in macros.values())
    body = (tmp_path / "validation_table.tex").read_text().splitlines()
    rows = [line for line in body if not line.startswith("%")]
    assert len(rows) == 4 and all(line.endswith(r"\\") for line in rows)
    assert all(line.count("&") == 4 for line in rows)


def test_number_files_without_truth(tmp_path: Path) -> None:
    macros = write_validation_numbers(
        models=MODELS,
        membership_path=None,
        summary_paths=[],
        macros_path=tmp_path / "validation.tex",
        table_path=tmp_path / "validation_table.tex",
        has_truth=False,
    )
    assert macro_lines(tmp_path / "validation.tex") == macros
    assert macros["ValidationAvailable"] == "false"
    assert macros["ValidationAucPmraOneD"] == NOT_AVAILABLE
    # the same macros as with a truth, so ms.tex compiles either way
    with_truth = validation_macros(MODELS, {}, [], n_stars=0, n_true=0)
    assert set(macros) == set(with_truth)
    rows = [
        line
        for line in (tmp_path / "validation_table.tex").read_text().splitlines()
        if not line.startswith("%")
    ]
    assert rows == []


def test_membership_without_truth_is_an_error(tmp_path: Path) -> None:
    from clustermix.errors import InputDataError

    membership, summaries = write_inputs(tmp_path)
    table = Table.read(membership)
    del table["true_member"]
    table.write(membership, overwrite=True)
    with pytest.raises(InputDataError, match="true_member"):
        write_validation_numbers(
            models=MODELS,
            membership_path=membership,
            summary_paths=summaries,
            macros_path=tmp_path / "v.tex",
            table_path=tmp_path / "t.tex",
            has_truth=True,
        )


# --- figures -------------------------------------------------------------------------------


def test_figures_save_with_provenance(tmp_path: Path) -> None:
    from clustermix.checks.validation import read_membership, read_summaries

    membership, summaries = write_inputs(tmp_path)
    probabilities, labels = read_membership(membership, MODELS)
    rows = recovery_table(read_summaries(dict(zip(MODELS, summaries, strict=True))))
    for rule, fig in (
        ("fig_membership_roc", plot_membership_roc(probabilities, labels)),
        ("fig_recovery", plot_recovery(rows)),
    ):
        path = tmp_path / f"{rule}.pdf"
        save_figure(fig, path, {"rule": rule, "code_version": "test"})
        data = path.read_bytes()
        assert data.startswith(b"%PDF")
        assert f"clustermix {rule} test".encode() in data


# --- workflow ---------------------------------------------------------------------------


def test_workflow_validation_without_truth(workdir: Path) -> None:
    """With archive data the number files need no fit and say that there is no truth;
    with simulated data they need the membership table and every cluster model's summary."""
    (workdir / "config" / "archive.yaml").write_text(
        yaml.safe_dump({"data": {"source": "archive"}})
    )
    dry = run_snakemake(
        workdir, "-n", "src/tex/output/validation.tex", "--configfile", "config/test.yaml"
    )
    text = dry.stdout + dry.stderr
    assert "results/ngc6819/membership.fits" in text
    assert "results/ngc6819/summary/phase_space.json" in text
    run_snakemake(
        workdir,
        "src/tex/output/validation.tex",
        "--configfile",
        "config/test.yaml",
        "config/archive.yaml",
    )
    macros = macro_lines(workdir / "src" / "tex" / "output" / "validation.tex")
    assert macros["ValidationAvailable"] == "false"
    assert "ValidationAucPhaseSpace" in macros
    assert (workdir / "logs" / "paper" / "num_validation.log").exists()
    assert not (workdir / "results").exists()


# ------------------------------------------------------------- the calibration benchmark record


def calibration_record() -> dict:
    """A small record as bench/calibration.py --summary writes it."""
    return {
        "settings": {"sampling": {"chains": 2, "draws": 500}},
        "seeds": [1000, 1001],
        "outcomes": [
            {"configuration": "default", "model": "pm_2d", "fits": 2, "ok": 2},
            {"configuration": "hard", "model": "pm_2d", "fits": 2, "ok": 1},
        ],
        "coverage": [
            {
                "configuration": "default",
                "model": "pm_2d",
                "quantity": "pmra",
                "fits": 2,
                "coverage_68": 0.5,
                "coverage_95": 1.0,
            },
            {
                "configuration": "hard",
                "model": "pm_2d",
                "quantity": "pmra",
                "fits": 1,
                "coverage_68": 1.0,
                "coverage_95": 0.9,
            },
        ],
        "reliability": [
            {
                "configuration": "default",
                "model": "pm_2d",
                "p_bin": "[0.4, 0.6)",
                "stars": 40,
                "mean_p": 0.5,
                "member_fraction": 0.42,
            },
            {
                "configuration": "default",
                "model": "pm_2d",
                "p_bin": "[0.6, 0.8)",
                "stars": 5,
                "mean_p": 0.7,
                "member_fraction": 0.2,
            },  # too few stars to count
            {
                "configuration": "hard",
                "model": "pm_2d",
                "p_bin": "[0.8, 1.0)",
                "stars": 30,
                "mean_p": 0.9,
                "member_fraction": 0.85,
            },
        ],
    }


def test_calibration_numbers_and_figure(tmp_path: Path) -> None:
    from clustermix.checks.calibration import calibration_macros, read_calibration
    from clustermix.plotting.validation import plot_calibration

    path = tmp_path / "calibration_summary.json"
    path.write_text(json.dumps(calibration_record()))
    record = read_calibration(path)
    macros = calibration_macros(record)
    assert macros["CalibrationSeeds"] == "2"
    assert (macros["CalibrationFits"], macros["CalibrationReturned"]) == ("4", "3")
    assert macros["CalibrationStopped"] == "1"
    assert macros["CalibrationCoverageNinetyFiveMin"] == "0.90"
    assert macros["CalibrationCoverageNinetyFiveDefaultMin"] == "1.00"
    assert macros["CalibrationCoverageNinetyFiveHardMin"] == "0.90"
    assert macros["CalibrationCoverageNinetyFiveHardMinWhere"] == "pm\\_2d: pmra"
    assert macros["CalibrationCoverageSixtyEightMin"] == "0.50"
    assert macros["CalibrationReliabilityDefault"] == "0.08"  # the 5-star bin is left out
    assert macros["CalibrationReliabilityHard"] == "0.05"
    assert macros["CalibrationExtraSeedsText"] == ""
    more = calibration_macros({**record, "extra_seeds": {"hard/pm_2d": 4}})
    assert more["CalibrationExtraSeedsText"] == r" (4 for pm\_2d on the hard field)"
    # a fit that returned another cluster's numbers is named beside those that returned one
    assert macros["CalibrationAnotherClusterText"] == ""
    outcomes = [dict(row) for row in record["outcomes"]]
    outcomes[-1]["another_cluster"] = 1
    taken = calibration_macros({**record, "outcomes": outcomes})["CalibrationAnotherClusterText"]
    where = f"{outcomes[-1]['model']} on the {outcomes[-1]['configuration']} field"
    where = where.replace("_", "\\_")
    assert taken == f" (1 of them, {where}, another cluster than the simulated one)"
    assert macros["CalibrationOracleText"] == "none recorded"
    parallax = {
        **record["coverage"][1],
        "quantity": "parallax",
        "coverage_95": 0.85,
        "oracle_coverage_95": 0.875,
    }
    with_oracle = calibration_macros({**record, "coverage": [*record["coverage"], parallax]})
    assert with_oracle["CalibrationOracleText"] == r"0.85 and 0.88 for pm\_2d on the hard field"
    fig = plot_calibration(record)
    assert len(fig.axes) == 2
    # f and the realised number of members stand apart from the range of the others
    assert macros["CalibrationFractionText"] == ""
    counts = [
        {**record["coverage"][1], "quantity": quantity, "coverage_95": value}
        for quantity, value in (("f_cluster", 1.0), ("n_members", 0.8), ("n_members", 0.95))
    ]
    apart = calibration_macros({**record, "coverage": [*record["coverage"], *counts]})
    assert apart["CalibrationCoverageNinetyFiveMin"] == "0.90"
    assert apart["CalibrationCoverageNinetyFiveMax"] == "1.00"
    assert apart["CalibrationFractionText"] == (
        "of $f$ between 1.00 and 1.00, of the number of members between 0.80 and 0.95"
    )
    assert apart["CalibrationLeftOutText"] == "the cluster fraction and the number of members"
    assert "realised" in apart["CalibrationFractionTruthText"]
    # f against the population fraction given the labels: f joins the others' range
    population = {**record, "settings": {**record["settings"], "f_truth": "population"}}
    counts[0]["coverage_95"] = 0.6
    joined = calibration_macros({**population, "coverage": [*record["coverage"], *counts]})
    assert joined["CalibrationCoverageNinetyFiveMin"] == "0.60"
    assert joined["CalibrationFractionText"] == "of the number of members between 0.80 and 0.95"
    assert joined["CalibrationLeftOutText"] == "the number of members"
    assert "Beta" in joined["CalibrationFractionTruthText"]
    # binomial consistency with 0.95: 0.6 of 1 seed is 1 covered (p = 1), 12 of 20 is not
    assert joined["CalibrationConsistencyText"] == "all 3 are consistent with 0.95"
    counts[0]["fits"] = 20
    low = calibration_macros({**population, "coverage": [*record["coverage"], *counts]})
    assert low["CalibrationConsistencyText"] == (
        r"2 of 3 are consistent with 0.95; not: pm\_2d's f\_cluster on the hard field "
        "(0.60 over 20 seeds)"
    )
    assert macros["CalibrationAllCoveredChance"] == f"{0.95**2:.2f}"


def test_calibration_bench_pools_runs_over_more_seeds() -> None:
    """A model rerun over more (or other) seeds: the record's seeds are those of most
    (configuration, model) pairs, and the pair with others is named with its count."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "calibration_bench", Path(__file__).parents[1] / "bench" / "calibration.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    fits = [
        {"configuration": c, "model": m, "seed": seed}
        for c, m, seeds in (
            ("default", "pm_2d", range(3)),
            ("hard", "pm_2d", range(3)),
            ("hard", "phase_space", range(6)),
        )
        for seed in seeds
    ]
    assert bench.record_seeds(fits) == [0, 1, 2]
    assert bench.extra_seeds(fits) == {"hard/phase_space": 6}
    # one pair refitted over other seeds: the record keeps the seeds of the others
    other = [fit for fit in fits if fit["model"] == "pm_2d"] + [
        {"configuration": "hard", "model": "phase_space", "seed": seed} for seed in (0, 50, 51, 52)
    ]
    assert bench.record_seeds(other) == [0, 1, 2]
    assert bench.extra_seeds(other) == {"hard/phase_space": 4}


def test_calibration_record_of_one_rerun_pair_keeps_the_others() -> None:
    """After one (configuration, model) pair is rerun, the merged record takes every other
    pair's rows from the earlier record, with the number of seeds of those fitted to other
    seeds; rerun pairs' rows and seeds are the new ones."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "calibration_bench", Path(__file__).parents[1] / "bench" / "calibration.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)

    def rows(pairs, tag):
        return [{"configuration": c, "model": m, "tag": tag} for c, m in pairs]

    earlier_pairs = [("hard", "pm_2d"), ("hard", "phase_space"), ("default", "pm_2d")]
    kept = {
        "settings": {"models": ["pm_2d", "phase_space"]},
        "seeds": [0, 1],
        "extra_seeds": {"hard/phase_space": 36, "hard/pm_2d": 5},
        **{table: rows(earlier_pairs, "old") for table in ("outcomes", "coverage", "reliability")},
    }
    new = {
        "settings": {"models": ["pm_2d"]},
        "seeds": [0, 1],
        "extra_seeds": {},
        **{
            table: rows([("hard", "pm_2d")], "new")
            for table in ("outcomes", "coverage", "reliability")
        },
    }
    merged = bench.merged_summary(new, kept)
    assert merged["extra_seeds"] == {"hard/phase_space": 36}
    assert merged["settings"]["kept_from_earlier_run"] == [
        ["default", "pm_2d"],
        ["hard", "phase_space"],
    ]
    tags = {(row["configuration"], row["model"]): row["tag"] for row in merged["coverage"]}
    assert tags == {
        ("hard", "pm_2d"): "new",
        ("hard", "phase_space"): "old",
        ("default", "pm_2d"): "old",
    }
    with pytest.raises(ValueError, match="seeds differ"):
        bench.merged_summary({**new, "seeds": [0, 1, 2]}, kept)


def test_calibration_bench_takes_model_options() -> None:
    """``--option MODEL.KEY=VALUE`` (the value as YAML) sets a model's option for its fits;
    a malformed item, an unknown model or an unknown option stops the run and says which."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "calibration_bench", Path(__file__).parents[1] / "bench" / "calibration.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    items = ["phase_space.cmd_term=true", "pm_2d.cluster_min_concentration=3.5"]
    assert bench.parse_options(items) == {
        "phase_space": {"cmd_term": True},
        "pm_2d": {"cluster_min_concentration": 3.5},
    }
    for item, message in (
        ("phase_space.cmd_term", "expected MODEL.KEY=VALUE"),
        ("nbody.cmd_term=true", "unknown model 'nbody'"),
        ("pm_2d.cmd_term=true", "pm_2d has no option 'cmd_term'"),
    ):
        with pytest.raises(SystemExit, match=message):
            bench.parse_options([item])


def test_f_covers_the_population_fraction_given_the_labels_not_the_realised_one() -> None:
    """Why the calibration benchmark takes f's truth as Beta(n + 1, N - n + 1).

    A mixture whose only unknown is f: N = 300 stars from two known 1-D Gaussians (cluster
    N(3, 0.5^2), field N(0, 1.5^2)), f = 0.1, the exact posterior of f on a grid (uniform
    prior), 2,000 replications (seeded). With the labels drawn binomially and the
    population's f as the truth, the 95% interval covers 95% of the time. With a fixed
    count of 30 members (as the simulator draws them) and the realised fraction 30/300 as
    the truth, it covers far more (the benchmark's f at 1.00). With the fixed count and the
    truth given the labels, Beta(31, 271) (``population_fraction_coverage``), it covers as
    the binomial design does. Tolerance: 3 Monte Carlo sd of a 95% coverage over 2,000
    replications, 3 sqrt(0.95 0.05 / 2000) = 0.015; the realised fraction's coverage
    must exceed 0.99.
    """
    import importlib.util

    from scipy import stats

    spec = importlib.util.spec_from_file_location(
        "calibration_bench", Path(__file__).parents[1] / "bench" / "calibration.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    n_stars, f_true, n_reps = 300, 0.1, 2000
    grid = np.linspace(0.001, 0.299, 150)
    rng = np.random.default_rng(20261207)

    def quantiles(labels: np.ndarray) -> np.ndarray:
        """The grid posterior's quantiles of f (at the bench's interval bounds) per row."""
        x = np.where(labels, rng.normal(3.0, 0.5, labels.shape), rng.normal(0.0, 1.5, labels.shape))
        ratio = stats.norm.pdf(x, 3.0, 0.5) / stats.norm.pdf(x, 0.0, 1.5)
        log_post = np.concatenate(  # log likelihood up to a constant, 100 rows at a time
            [
                np.log1p(np.multiply.outer(rows - 1.0, grid)).sum(axis=1)
                for rows in np.split(ratio, 20)
            ]
        )
        post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
        cdf = np.cumsum(post, axis=1) / post.sum(axis=1, keepdims=True)
        return np.stack(
            [[np.interp(q, row, grid) for q in bench.INTERVAL_QUANTILES] for row in cdf]
        )

    binomial = rng.random((n_reps, n_stars)) < f_true
    fixed = np.zeros((n_reps, n_stars), bool)
    fixed[:, : round(f_true * n_stars)] = True
    q_binomial, q_fixed = quantiles(binomial), quantiles(fixed)
    n_fixed = int(fixed[0].sum())

    binomial_95 = np.mean((q_binomial[:, 0] <= f_true) & (f_true <= q_binomial[:, 3]))
    realised_95 = np.mean(
        (q_fixed[:, 0] <= n_fixed / n_stars) & (n_fixed / n_stars <= q_fixed[:, 3])
    )
    given_labels_95 = np.mean(
        [bench.population_fraction_coverage(q, n_fixed, n_stars)[1] for q in q_fixed]
    )
    assert abs(binomial_95 - 0.95) < 0.015
    assert realised_95 > 0.99
    assert abs(given_labels_95 - 0.95) < 0.015


def test_calibration_oracle_covers_as_often_as_it_claims() -> None:
    """The bench's oracle (the true members' weighted mean parallax with their true errors)
    covers the truth 95% of the time when weighed by the true errors, and not when weighed
    by quoted errors 20% too small; its coverage enters the table beside the model's.

    400 seeded fields of 60 members: the binomial sd of a 95% coverage is 0.011, so 4 sd is
    0.044; with the errors 1.2x the quoted ones the quoted-error interval covers
    P(|z| < 1.96 / 1.2) = 0.898.
    """
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "calibration_bench", Path(__file__).parents[1] / "bench" / "calibration.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rng = np.random.default_rng(7)
    truth = {"parallax": 0.3, "member_source_ids": np.arange(60)}
    covered = {1.0: [], 1.2: []}
    for _ in range(400):
        quoted = rng.uniform(0.02, 0.3, 80)
        parallax = np.where(np.arange(80) < 60, 0.3, rng.uniform(0.1, 2.0, 80))
        catalog = {
            "source_id": np.arange(80),
            "parallax": rng.normal(parallax, 1.2 * quoted),
            "parallax_error": quoted,
        }
        for scale in covered:
            covered[scale].append(bench.oracle_parallax(catalog, truth, scale)["in_95"])
    assert abs(np.mean(covered[1.2]) - 0.95) < 0.044
    assert abs(np.mean(covered[1.0]) - 0.898) < 0.06
    fits = [
        {
            "configuration": "hard",
            "model": "pm_2d",
            "quantities": {"parallax": {"in_68": True, "in_95": True}},
            "oracle_parallax": {"in_68": seed == 0, "in_95": True},
        }
        for seed in range(2)
    ]
    (row,) = bench.coverage_table(fits)
    assert (row["oracle_coverage_68"], row["oracle_coverage_95"]) == (0.5, 1.0)


def test_a_calibration_record_without_its_keys_is_named(tmp_path: Path) -> None:
    from clustermix.checks.calibration import read_calibration
    from clustermix.errors import InputDataError

    path = tmp_path / "calibration_summary.json"
    path.write_text(json.dumps({"seeds": []}))
    with pytest.raises(InputDataError, match=r"calibration_summary.json.*'coverage'"):
        read_calibration(path)

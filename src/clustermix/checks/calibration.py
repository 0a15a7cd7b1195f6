"""The calibration record of ``bench/calibration.py``, read for the paper.

The benchmark fits every cluster model to many seeds of simulated fields (a default-like
one and one built to break the models) and writes a compact record,
``bench/calibration_summary.json``: the settings, the seeds done, per configuration and
model the outcomes (fits that returned a number or stopped, and why), per cluster quantity
the coverage of the central 68% and 95% intervals, and per bin of membership probability
(width 0.2) the stars, their mean p and the fraction that are true members. The workflow
cannot rerun that hour-long benchmark; it reads the committed record (an input of the rule,
hashed in the provenance manifest) to draw the calibration figure and write its numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from clustermix.errors import InputDataError
from clustermix.io import PathLike

#: The keys the record must have.
KEYS = ("settings", "seeds", "outcomes", "coverage", "reliability")
#: Bins of p with fewer stars than this are left out of the largest reliability offset.
MIN_BIN_STARS = 20
#: The 95% coverages a calibrated model should show over ~20 seeds (binomial spread).
COVERAGE_BAND = (0.90, 0.99)
#: Memberships within this of the true-member fraction in every bin count as calibrated.
RELIABILITY_BAND = 0.1
#: The cluster fraction. The simulator fixes the number of members; f is the probability
#: that a star of the population is a member, so its truth is the population fraction of
#: which the fitted stars' true labels are a sample (``bench/calibration.py``). Records whose
#: ``settings.f_truth`` is :data:`F_TRUTH_POPULATION` cover that (f joins the other
#: quantities' range); older ones covered the realised fraction n / N, which f's intervals
#: cover more often than they claim (their binomial spread), so f stood apart.
FRACTION = "f_cluster"
#: The realised number of members among the fitted stars, drawn star by star from the
#: memberships with the field held fixed; reported apart from the range of the others.
MEMBER_COUNT = "n_members"
#: ``settings.f_truth`` of a record whose f coverage is against the population fraction.
F_TRUTH_POPULATION = "population"
#: A 95% coverage is called inconsistent with calibration when a two-sided binomial test of
#: its count of covering seeds against 0.95 gives a p-value below this.
CONSISTENCY_LEVEL = 0.01


def read_calibration(path: PathLike) -> dict[str, Any]:
    """The calibration record at ``path``; raises :class:`InputDataError` naming the file
    and the missing keys if it is not one."""
    try:
        record = json.loads(open(path).read())
    except (OSError, json.JSONDecodeError) as err:
        raise InputDataError(f"{path}: not a readable calibration record ({err})") from err
    missing = [key for key in KEYS if key not in record]
    if missing:
        raise InputDataError(
            f"{path}: keys {missing} are missing (write it with bench/calibration.py --summary)"
        )
    return record


def largest_reliability_offset(record: Mapping[str, Any], configuration: str) -> float:
    """The largest |mean p - member fraction| over the bins of p (with at least
    :data:`MIN_BIN_STARS` stars) of every model on ``configuration``."""
    offsets = [
        abs(row["mean_p"] - row["member_fraction"])
        for row in record["reliability"]
        if row["configuration"] == configuration and row["stars"] >= MIN_BIN_STARS
    ]
    return max(offsets, default=float("nan"))


def calibration_macros(record: Mapping[str, Any]) -> dict[str, str]:
    """The paper's calibration numbers: seeds, fits and those that returned a number, the
    range of the 68% and 95% coverages over every configuration, model and quantity (f and
    the number of members apart: :func:`fraction_text`), and the largest reliability offset
    of each configuration."""
    outcomes = record["outcomes"]
    apart = (MEMBER_COUNT,) if f_against_population(record) else (FRACTION, MEMBER_COUNT)
    coverage = [row for row in record["coverage"] if row["quantity"] not in apart]
    fits = sum(row["fits"] for row in outcomes)
    returned = sum(row["ok"] for row in outcomes)
    # records before this count existed had no fit that took another cluster
    another = sum(row.get("another_cluster", 0) for row in outcomes)
    macros = {
        "CalibrationSeeds": str(len(record["seeds"])),
        "CalibrationExtraSeedsText": extra_seeds_text(record.get("extra_seeds") or {}),
        "CalibrationFits": str(fits),
        "CalibrationReturned": str(returned),
        "CalibrationAnotherClusterText": another_cluster_text(outcomes, another),
        "CalibrationStopped": str(fits - returned),
        "CalibrationDraws": str(record["settings"]["sampling"]["draws"]),
        "CalibrationChains": str(record["settings"]["sampling"]["chains"]),
    }
    for level, name in ((68, "SixtyEight"), (95, "NinetyFive")):
        values = [row[f"coverage_{level}"] for row in coverage]
        macros[f"CalibrationCoverage{name}Min"] = f"{min(values, default=float('nan')):.2f}"
        macros[f"CalibrationCoverage{name}Max"] = f"{max(values, default=float('nan')):.2f}"
    for configuration, name in (("default", "Default"), ("hard", "Hard")):
        offset = largest_reliability_offset(record, configuration)
        macros[f"CalibrationReliability{name}"] = f"{offset:.2f}"
        rows = [row for row in coverage if row["configuration"] == configuration]
        lowest = min((row["coverage_95"] for row in rows), default=float("nan"))
        macros[f"CalibrationCoverageNinetyFive{name}Min"] = f"{lowest:.2f}"
        macros[f"CalibrationCoverageNinetyFive{name}MinWhere"] = lowest_coverage_text(
            [row for row in rows if row["coverage_95"] == lowest]
        )
    macros["CalibrationOracleText"] = oracle_text(coverage)
    macros["CalibrationFractionText"] = fraction_text(record["coverage"], apart)
    macros["CalibrationFractionTruthText"] = fraction_truth_text(record)
    macros["CalibrationConsistencyText"] = consistency_text(coverage)
    macros["CalibrationConsistencyLevel"] = f"{CONSISTENCY_LEVEL:g}"
    macros["CalibrationAllCoveredChance"] = f"{0.95 ** len(record['seeds']):.2f}"
    macros["CalibrationLeftOutText"] = (
        "the number of members"
        if FRACTION not in apart
        else "the cluster fraction and the number of members"
    )
    hard = record["settings"].get("hard", {})
    macros["CalibrationHardErrorPercent"] = _percent(hard.get("error_underestimate", 1.0) - 1.0)
    macros["CalibrationHardBinaryPercent"] = _percent(hard.get("binary_fraction", 0.0))
    macros["CalibrationBandLow"] = _percent(COVERAGE_BAND[0])
    macros["CalibrationBandHigh"] = _percent(COVERAGE_BAND[1])
    macros["CalibrationReliabilityBand"] = f"{RELIABILITY_BAND:g}"
    macros["CalibrationMinBinStars"] = str(MIN_BIN_STARS)
    macros["CalibrationBinWidth"] = f"{record['settings'].get('p_bin_width', 0.2):g}"
    return macros


def another_cluster_text(outcomes: list[Mapping[str, Any]], another: int) -> str:
    """`` (2 of them, pm\\_2d on the hard field, another cluster than the simulated one)``
    when fits returned another cluster's numbers (``bench/calibration.py``'s
    ``took_another_cluster``); "" if none. LaTeX-safe."""
    if not another:
        return ""
    where = "; ".join(
        f"{row['model']} on the {row['configuration']} field".replace("_", "\\_")
        for row in outcomes
        if row.get("another_cluster", 0)
    )
    return f" ({another} of them, {where}, another cluster than the simulated one)"


def extra_seeds_text(extra: Mapping[str, int]) -> str:
    """`` (40 for phase\\_space on the hard field)`` for the (configuration, model) pairs fitted
    to another number of seeds than the record's; "" if none. LaTeX-safe."""
    if not extra:
        return ""
    parts = []
    for pair, seeds in extra.items():
        configuration, model = pair.split("/")
        parts.append(f"{seeds} for {model} on the {configuration} field".replace("_", "\\_"))
    return " (" + "; ".join(parts) + ")"


def oracle_text(coverage: list[Mapping[str, Any]]) -> str:
    """The parallax's 95% coverage by each model and by the oracle on the same seeds (the
    true members' weighted mean with their true uncertainties, ``bench/calibration.py``),
    e.g. ``0.87 and 0.87 for phase\\_space on the hard field``, joined by semicolons;
    "none recorded" if no row has an oracle. LaTeX-safe."""
    parts = [
        f"{row['coverage_95']:.2f} and {row['oracle_coverage_95']:.2f} for {row['model']} "
        f"on the {row['configuration']} field".replace("_", "\\_")
        for row in coverage
        if row["quantity"] == "parallax" and row.get("oracle_coverage_95") is not None
    ]
    return "; ".join(parts) if parts else "none recorded"


def f_against_population(record: Mapping[str, Any]) -> bool:
    """Whether the record's f coverage is against the population fraction given the labels
    (``settings.f_truth``), not against the realised fraction."""
    return record.get("settings", {}).get("f_truth") == F_TRUTH_POPULATION


def fraction_truth_text(record: Mapping[str, Any]) -> str:
    """The paper's sentence on what f's truth is in the record (LaTeX)."""
    if f_against_population(record):
        return (
            "The simulator fixes the number of members, while $f$ is the probability that a "
            "star of the population is a member; its truth is therefore the population "
            "fraction of which the fitted stars' true labels are a sample, distributed as "
            r"$\mathrm{Beta}(n + 1, N - n + 1)$ given $n$ members among $N$ stars, and a "
            "fit's coverage of $f$ is the probability that this truth lies in its interval."
        )
    return (
        "The simulator fixes the number of members, so the truth of $f$ is the realised "
        "fraction, while $f$ is the probability that a star of the population is a member: "
        "its posterior also holds the binomial spread of the count, and its intervals cover "
        "more often than they claim."
    )


def coverage_p_value(coverage_95: float, fits: int) -> float:
    """Two-sided binomial p-value of a 95% coverage over ``fits`` seeds against 0.95 (the
    count of covering seeds rounded, for coverages averaged over a truth's law)."""
    from scipy import stats

    return float(stats.binomtest(round(coverage_95 * fits), fits, 0.95).pvalue)


def consistency_text(coverage: list[Mapping[str, Any]]) -> str:
    r"""How many of the 95% coverages a calibrated model would show with their numbers of
    seeds, e.g. ``all 48 are consistent with 0.95`` or ``46 of 48 are consistent with 0.95;
    not: pm\_2d's pmra on the hard field (0.80 over 40 seeds)`` (binomial test at
    :data:`CONSISTENCY_LEVEL`); LaTeX-safe."""
    inconsistent = [
        row
        for row in coverage
        if coverage_p_value(row["coverage_95"], row["fits"]) < CONSISTENCY_LEVEL
    ]
    total = len(coverage)
    if not inconsistent:
        return f"all {total} are consistent with 0.95"
    named = "; ".join(
        f"{row['model']}'s {row['quantity']} on the {row['configuration']} field "
        f"({row['coverage_95']:.2f} over {row['fits']} seeds)".replace("_", "\\_")
        for row in inconsistent
    )
    return f"{total - len(inconsistent)} of {total} are consistent with 0.95; not: {named}"


def fraction_text(
    coverage: list[Mapping[str, Any]], apart: tuple[str, ...] = (FRACTION, MEMBER_COUNT)
) -> str:
    """The 95% coverages of the quantities ``apart`` from the others' range (f, unless its
    truth is the population fraction, and the realised number of members) over every
    configuration and model, e.g. ``of f between 0.95 and 1.00, of the number of members
    between 0.90 and 0.97``; a quantity not recorded is left out ("" if none is)."""
    parts = []
    for quantity, name in ((FRACTION, "$f$"), (MEMBER_COUNT, "the number of members")):
        if quantity not in apart:
            continue
        values = [row["coverage_95"] for row in coverage if row["quantity"] == quantity]
        if values:
            parts.append(f"of {name} between {min(values):.2f} and {max(values):.2f}")
    return ", ".join(parts)


def lowest_coverage_text(rows: list[Mapping[str, Any]]) -> str:
    """Which quantities have the lowest coverage, for the text: per model, its quantities
    (e.g. ``phase\\_space: parallax, distance``), models joined by semicolons; LaTeX-safe."""
    by_model: dict[str, list[str]] = {}
    for row in rows:
        by_model.setdefault(row["model"], []).append(row["quantity"])
    return "; ".join(
        f"{model}: {', '.join(quantities)}".replace("_", "\\_")
        for model, quantities in by_model.items()
    )


def _percent(fraction: float) -> str:
    """A fraction as a whole percentage, with LaTeX's percent sign."""
    return f"{100.0 * fraction:.0f}\\%"

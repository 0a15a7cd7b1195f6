"""Numbers into the paper: LaTeX macro files written by the workflow.

Every number in ``src/tex/ms.tex`` is a macro defined in a file under ``src/tex/output/``
that a rule wrote. Macro names are letters only (LaTeX's rule), built from CamelCase parts:
``macro_name("model_2d", "pmra")`` is ``\\ModelTwoDPmra``. Values are rounded to the precision
their uncertainty supports (two significant figures of the uncertainty).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from clustermix.io import PathLike, atomic_path

# Words for the digits and symbols that may appear in model and quantity names.
_DIGIT_WORDS = {
    "0": "Zero",
    "1": "One",
    "2": "Two",
    "3": "Three",
    "4": "Four",
    "5": "Five",
    "6": "Six",
    "7": "Seven",
    "8": "Eight",
    "9": "Nine",
}
# Shorter, readable words for names used everywhere in the paper.
_WORDS = {
    "1d": "OneD",
    "2d": "TwoD",
    "3d": "ThreeD",
    "f": "F",
    "q2.5": "QTwoFive",
    "q97.5": "QNineSevenFive",
}


def macro_name(*parts: str) -> str:
    """A LaTeX macro name (without the backslash) from snake_case parts.

    >>> macro_name("model_2d", "pmra")
    'ModelTwoDPmra'
    >>> macro_name("phase_model", "v_x", "truth")
    'PhaseModelVXTruth'
    """
    words: list[str] = []
    for part in parts:
        for token in re.split(r"[_\-\s]+", str(part)):
            if not token:
                continue
            if token.lower() in _WORDS:
                words.append(_WORDS[token.lower()])
                continue
            spelled = "".join(_DIGIT_WORDS.get(char, char) for char in token)
            letters = re.sub(r"[^A-Za-z]", "", spelled)
            if letters:
                words.append(letters[0].upper() + letters[1:])
    name = "".join(words)
    if not name:
        raise ValueError(f"no macro name can be made from {parts!r}")
    return name


def decimals_for(uncertainty: float, significant: int = 2) -> int:
    """Decimal places that show ``uncertainty`` with ``significant`` significant figures."""
    if not math.isfinite(uncertainty) or uncertainty <= 0:
        return 3
    return max(0, significant - 1 - math.floor(math.log10(uncertainty)))


def format_number(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` places, a true minus sign for LaTeX math, no ``-0``."""
    text = f"{value:.{decimals}f}"
    if float(text) == 0.0:
        text = text.lstrip("-")
    return text


def format_measurement(mean: float, sd: float) -> str:
    """``mean \\pm sd`` for math mode, rounded to the precision of ``sd``."""
    decimals = decimals_for(sd)
    return f"{format_number(mean, decimals)} \\pm {format_number(sd, decimals)}"


def format_count(count: int) -> str:
    """An integer with a thin space between thousands (``18{,}500``)."""
    return f"{int(count):,}".replace(",", "{,}")


def macro_definitions(macros: Mapping[str, str]) -> str:
    """``\\newcommand`` lines for ``{name: replacement text}``, sorted by name."""
    lines = []
    for name in sorted(macros):
        if not re.fullmatch(r"[A-Za-z]+", name):
            raise ValueError(f"invalid LaTeX macro name {name!r}: letters only")
        lines.append(f"\\newcommand{{\\{name}}}{{{macros[name]}}}")
    return "\n".join(lines) + "\n"


def write_macros(macros: Mapping[str, str], path: PathLike, *, made_by: str = "") -> None:
    """Write a macro file atomically, with a header naming what made it."""
    header = "% Written by the clustermix workflow; do not edit by hand.\n"
    if made_by:
        header += f"% Made by {made_by}.\n"
    with atomic_path(path) as tmp:
        tmp.write_text(header + macro_definitions(macros))


def model_switch_macros(
    model_names: Sequence[str],
    fitted: Iterable[str],
    *,
    components_figure: bool,
    cmd_model_prose: str,
) -> dict[str, str]:
    r"""The paper's switches: ``\ModelFitted<Name>`` 1 or 0 for each of ``model_names`` (1
    if it is among the ``fitted``, i.e. enabled, models), ``\ComponentsFigure`` 1 or 0, and
    ``\CmdModelProse``, the prose name of the model whose memberships colour the
    colour-magnitude diagram. ``ms.tex`` keeps a model's sentences, tables and figures
    inside ``\ifmodel{<Name>} ... \fi``, so that a paper without that model compiles."""
    chosen = set(fitted)
    macros = {macro_name("model_fitted", name): str(int(name in chosen)) for name in model_names}
    macros[macro_name("components_figure")] = str(int(components_figure))
    macros[macro_name("cmd_model_prose")] = escape_text(cmd_model_prose)
    return macros


def latex_table_rows(rows: Iterable[Iterable[str]]) -> str:
    """Rows of a LaTeX tabular body (cells already formatted), each ending in ``\\\\``."""
    return "\n".join(" & ".join(cells) + r" \\" for cells in rows) + "\n"


def escape_text(text: str) -> str:
    """Escape LaTeX's special characters in plain text (file names, versions)."""
    replacements = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "$": r"\$",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
    return "".join(replacements.get(char, char) for char in text)


def summary_macros(model: str, summary: Mapping) -> dict[str, str]:
    """Macros for one model's posterior summary (``summary/{model}.json``).

    For each quantity ``q``: ``\\<Model><Q>`` is ``mean \\pm sd``, ``\\<Model><Q>Lo`` and
    ``\\<Model><Q>Hi`` the 2.5 and 97.5 percentiles, ``\\<Model><Q>Truth`` the true value
    when the data were simulated, at the same precision, and, where the summary splits the
    error, ``\\<Model><Q>Stat`` and ``\\<Model><Q>Sys`` its statistical and systematic sd,
    and ``\\<Model><Q>Sys<Floor>`` the part of each floor (``SysParallax``, ``SysPm``).
    """
    macros: dict[str, str] = {}
    truth = summary.get("truth") or {}
    for quantity, stats in summary["quantities"].items():
        name = macro_name(model, quantity)
        decimals = decimals_for(stats["sd"])
        macros[name] = format_measurement(stats["mean"], stats["sd"])
        macros[name + "Lo"] = format_number(stats["q2.5"], decimals)
        macros[name + "Hi"] = format_number(stats["q97.5"], decimals)
        if truth.get(quantity) is not None:
            macros[name + "Truth"] = format_number(truth[quantity], decimals)
        if "sd_statistical" in stats:
            macros[name + "Stat"] = format_number(stats["sd_statistical"], decimals)
            macros[name + "Sys"] = format_number(stats["sd_systematic"], decimals)
            for key, part in stats.items():
                if key.startswith("sd_systematic_"):
                    floor = key.removeprefix("sd_systematic_").capitalize()
                    macros[name + "Sys" + floor] = format_number(part, decimals)
    return macros


def diagnostics_row(model: str, diagnostics: Mapping) -> list[str]:
    """One row of the diagnostics table: kept draws per chain, worst R-hat and ESS of the
    cluster parameters, divergences, smallest E-BFMI, sampling wall time (s), gradient
    evaluations, sampler (and, for nutpie, what compiled the model: "nutpie 0.16.8 (jax)")."""
    cluster = diagnostics["cluster"]
    sampler = f"{diagnostics.get('sampler', '?')} {diagnostics.get('sampler_version', '')}"
    if diagnostics.get("compiler"):
        sampler += f" ({diagnostics['compiler']})"
    return [
        escape_text(model),
        format_count(diagnostics["draws"]) if "draws" in diagnostics else "--",
        f"{cluster['r_hat_max']:.3f}",
        format_count(round(cluster["ess_bulk_min"])),
        format_count(round(cluster["ess_tail_min"])),
        format_count(diagnostics["divergences"]),
        f"{diagnostics['e_bfmi_min']:.2f}",
        f"{diagnostics.get('wall_time_s', float('nan')):.0f}",
        format_count(diagnostics.get("gradient_evaluations", 0)),
        escape_text(sampler),
    ]


def prior_table_rows(model: str, diagnostics: Mapping) -> list[list[str]]:
    """Rows of the table of priors for one fit: model (on its first row only), variable
    (with its dimensions) and prior, as the trace recorded them."""
    rows = []
    for k, row in enumerate((diagnostics.get("setup") or {}).get("priors") or []):
        dims = f" [{', '.join(row['dims'])}]" if row.get("dims") else ""
        rows.append(
            [
                escape_text(model) if k == 0 else "",
                r"\texttt{" + escape_text(row["variable"]) + "}" + escape_text(dims),
                escape_text(row["prior"]),
            ]
        )
    return rows


def setup_row(model: str, diagnostics: Mapping) -> list[str]:
    """One row of the fit set-up table: the field model, K and the BIC differences it was
    chosen from, the modes found before sampling (cluster-like / all), the candidate chosen,
    the search time (s) and the error model (quoted or fitted factors on the uncertainties,
    RV binaries). Dashes where a fit had no such step (the line example)."""
    setup = diagnostics.get("setup") or {}
    delta = setup.get("delta_bic")
    bic = (
        ", ".join(
            f"{float(value):.0f}" for _, value in sorted(delta.items(), key=lambda kv: int(kv[0]))
        )
        if delta
        else "given"
    )
    k = setup.get("n_field_components")
    modes = setup.get("modes")
    seconds = setup.get("search_time_s")
    return [
        escape_text(model),
        escape_text(str(setup.get("field_model") or "joint").replace("_", " ")) if k else "--",
        str(k) if k else "--",
        bic if k else "--",
        format_count(setup["k_stars"]) if setup.get("k_stars") else "--",
        f"{setup.get('cluster_modes')}/{modes}" if modes is not None else "--",
        escape_text(str(setup.get("chosen"))) if modes is not None else "--",
        f"{float(seconds):.0f}" if seconds is not None else "--",
        error_model_text(setup),
    ]


def error_model_text(setup: Mapping) -> str:
    """The set-up table's error model: ``fitted`` or ``quoted`` uncertainties, ``+ binaries``
    with a binary component in the RVs, ``+ colours`` with the colour-magnitude membership
    term, ``+ zero point`` with a fitted parallax zero-point offset, ``+ King`` with a King
    profile instead of Plummer's; a dash for a model without the options."""
    inflation, binaries = setup.get("error_inflation"), setup.get("rv_binaries")
    if inflation is None and binaries is None:
        return "--"
    text = "fitted" if inflation else "quoted"
    extras = (
        (" + binaries", binaries),
        (" + colours", setup.get("cmd_term")),
        (" + zero point", setup.get("zero_point_offset_prior_sd_mas")),
        (" + King", setup.get("profile") == "king"),
    )
    return text + "".join(label for label, on in extras if on)


def gate_macros(gate: Mapping) -> dict[str, str]:
    """Macros that tell the paper whether fits failed the convergence gate, and which."""
    failures = gate["failures"]
    items = "".join(f"\\item {escape_text(failure['message'])}" for failure in failures)
    return {
        "GateFailedCount": str(len(failures)),
        "GateFailureList": f"\\begin{{itemize}}{items}\\end{{itemize}}" if failures else "",
        "GateRhatMax": f"{gate['thresholds']['rhat_max']:g}",
        "GateEssBulkMin": f"{gate['thresholds']['ess_bulk_min']:g}",
        "GateDivergencesMax": f"{gate['thresholds']['divergences_max']:g}",
    }


def software_macros(versions: Mapping[str, str], code_version: str) -> dict[str, str]:
    """Macros for package versions (``\\VersionPymc`` ...) and the code version/commit."""
    macros = {macro_name("version", package): escape_text(v) for package, v in versions.items()}
    commit = code_version.removeprefix("git:")
    dirty = commit.endswith("-dirty")
    commit = commit.removesuffix("-dirty")
    is_git = code_version.startswith("git:")
    macros["CodeVersion"] = escape_text(code_version)
    macros["GitCommitShort"] = escape_text(commit[:7] if is_git else code_version)
    macros["GitCommit"] = escape_text(commit if is_git else code_version)
    macros["GitTreeDirty"] = "yes" if dirty else "no"
    return macros


def paper_meta_macros(cluster: Mapping, sampling: Mapping) -> dict[str, str]:
    r"""Macros for the paper cluster (name, centre, cone) and the sampler settings.

    ``\SamplingToTarget`` is 1 when the fits draw to a target (``sampling.target``, whose
    ``ess``, ``rhat_max``, ``check_every`` and what it judges are ``\SamplingTarget...``;
    ``\SamplingDraws`` is then the cap, and each fit's kept draws are in the diagnostics
    table), else 0 (every chain draws ``\SamplingDraws``). ``\SamplingWhitened`` is 1 when
    nutpie samples in coordinates whitened at the mode (``sampling.whiten``), else 0."""
    target = sampling.get("target") or None
    whitened = bool(sampling.get("whiten")) and sampling["backend"] == "nutpie"
    return {
        "ClusterLabel": escape_text(cluster.get("label") or cluster["name"]),
        "ClusterName": escape_text(cluster["name"]),
        "ClusterRaDeg": f"{cluster['ra_deg']:.3f}",
        "ClusterDecDeg": f"{cluster['dec_deg']:+.3f}",
        "SamplingBackend": escape_text(str(sampling["backend"])),
        "SamplingChains": str(sampling["chains"]),
        "SamplingDraws": format_count(sampling["draws"]),
        "SamplingTune": format_count(sampling["tune"]),
        "SamplingTargetAccept": f"{sampling['target_accept']:g}",
        "SamplingSeed": str(sampling["seed"]),
        "SamplingTotalDraws": format_count(sampling["chains"] * sampling["draws"]),
        "SamplingWhitened": "1" if whitened else "0",
        **target_macros(target),
    }


def target_macros(target: Mapping | None) -> dict[str, str]:
    r"""``\SamplingToTarget`` (1 or 0) and the target's settings, with the defaults of
    :class:`clustermix.fit.stopping.SamplingTarget` for the keys ``target`` leaves out."""
    if not target:
        return {"SamplingToTarget": "0"}
    judge = str(target.get("judge", "cluster"))
    return {
        "SamplingToTarget": "1",
        "SamplingTargetEss": format_count(round(float(target.get("ess", 400)))),
        "SamplingTargetRhatMax": f"{float(target.get('rhat_max', 1.01)):g}",
        "SamplingTargetCheckEvery": format_count(int(target.get("check_every", 100))),
        "SamplingTargetJudged": "cluster parameter" if judge == "cluster" else "free parameter",
    }

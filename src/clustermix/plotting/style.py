"""One look for every figure, and figures that carry their own provenance.

Sizes are for AASTeX's two-column layout: ``COLUMN_WIDTH_IN`` for a figure in one column,
``PAGE_WIDTH_IN`` for a figure across the page. Colours are the Okabe & Ito palette
(distinguishable with every common colour-vision deficiency); continuous quantities use
``SEQUENTIAL_CMAP`` (cividis, perceptually uniform and colour-blind safe).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from clustermix.io import PathLike, atomic_path, sha256_file
from clustermix.models import MODEL_SPECS
from clustermix.palette import PALETTE

# fontTools reports every font subset at INFO while a PDF is saved; keep job logs readable.
logging.getLogger("fontTools").setLevel(logging.WARNING)

COLUMN_WIDTH_IN = 3.35
PAGE_WIDTH_IN = 7.1
SEQUENTIAL_CMAP = "cividis"

# A fixed colour and label per model (its spec), so a model looks the same in every figure.
MODEL_COLOURS: dict[str, str] = {
    name: spec.presentation.colour for name, spec in MODEL_SPECS.items()
}
MODEL_LABELS: dict[str, str] = {name: spec.presentation.label for name, spec in MODEL_SPECS.items()}
CLUSTER_COLOUR = PALETTE["vermillion"]
FIELD_COLOUR = PALETTE["sky"]
TRUTH_COLOUR = PALETTE["black"]

RC_PARAMS: dict[str, Any] = {
    "figure.figsize": (COLUMN_WIDTH_IN, COLUMN_WIDTH_IN * 0.8),
    "figure.dpi": 150,
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "xtick.direction": "in",
    "ytick.direction": "in",
    "xtick.top": True,
    "ytick.right": True,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "lines.markersize": 3,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,
    "mathtext.fontset": "stix",
    "font.family": "STIXGeneral",
}


def use_style() -> None:
    """Apply the clustermix figure style to matplotlib's global settings."""
    plt.rcParams.update(RC_PARAMS)


def figure_provenance(
    *, rule: str, script: str, inputs: Mapping[str, str] | list[str], code_version: str
) -> dict[str, Any]:
    """What made a figure: rule, script (path and sha256), inputs (path -> sha256), commit."""
    paths = list(inputs.values()) if isinstance(inputs, Mapping) else list(inputs)
    return {
        "rule": rule,
        "script": script,
        "script_sha256": sha256_file(script) if os.path.exists(script) else None,
        "inputs": {str(path): sha256_file(path) for path in paths if os.path.isfile(path)},
        "code_version": code_version,
    }


def save_figure(fig: plt.Figure, path: PathLike, provenance: dict[str, Any]) -> None:
    """Save ``fig`` as a vector PDF atomically, with ``provenance`` in its metadata.

    The PDF's Subject holds ``clustermix <rule> <code_version>`` and its Keywords the full
    provenance as JSON, so a figure cut out of the paper can still be traced.
    """
    metadata = {
        "Title": os.path.basename(os.fspath(path)),
        "Author": "clustermix",
        "Subject": f"clustermix {provenance.get('rule', '?')} {provenance.get('code_version', '')}",
        "Keywords": json.dumps(provenance, sort_keys=True),
        "Creator": "clustermix (matplotlib)",
    }
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="pdf", metadata=metadata)
    plt.close(fig)


def snakemake_provenance(snakemake: Any) -> dict[str, Any]:
    """:func:`figure_provenance` for the running rule script.

    By the workflow's convention the script of rule ``R`` is ``scripts/R.py``.
    """
    from clustermix.provenance.origin import code_version

    script = os.path.join(os.path.relpath(snakemake.scriptdir), f"{snakemake.rule}.py")
    return figure_provenance(
        rule=snakemake.rule,
        script=script,
        inputs=[str(path) for path in snakemake.input],
        code_version=code_version(),
    )

"""The closing note of `make paper`: where the paper, catalogues and manifest are."""

from __future__ import annotations

from pathlib import Path

import pytest

from clustermix.provenance.outputs import closing_note, main


def test_closing_note_lists_what_exists(tmp_path: Path) -> None:
    for name in (
        "ms.pdf",
        "results/provenance.json",
        "results/ngc6819/members.fits",
        "results/ngc6819/members.vot",
        "results/ngc6819/membership.fits",
        "results/m67/membership.fits",
        "results/examples/line_outliers/trace.nc",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    lines = closing_note(tmp_path).splitlines()
    root = tmp_path.resolve()
    assert lines == [
        "clustermix: the run's products",
        f"  paper:                 {root / 'ms.pdf'}",
        f"  membership catalogues: {root / 'results/m67'}/ (membership.fits)",
        f"                         {root / 'results/ngc6819'}/ "
        "(members.fits, members.vot, membership.fits)",
        f"  provenance manifest:   {root / 'results/provenance.json'} "
        "(check the paper against it: clustermix audit ms.pdf)",
    ]


def test_closing_note_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 0
    note = capsys.readouterr().out
    assert f"{tmp_path.resolve() / 'ms.pdf'} (missing)" in note
    assert "membership catalogues: none under" in note
    assert "provenance.json (missing)" in note

"""PyTensor's C flags and numba's fast math: clustermix's unless the user chose some."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from clustermix import compile_flags
from clustermix.compile_flags import CXXFLAGS, FASTMATH, use_compile_settings


@pytest.fixture
def no_user_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No flags in the environment and an empty PyTensor configuration file."""
    monkeypatch.delenv("PYTENSOR_FLAGS", raising=False)
    (tmp_path / "pytensorrc").write_text("[global]\nfloatX = float64\n")
    monkeypatch.setenv("PYTENSORRC", str(tmp_path / "pytensorrc"))


def test_before_pytensor_is_imported_the_flags_go_into_the_environment(
    no_user_flags: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delitem(sys.modules, "pytensor", raising=False)
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/somewhere")
    assert not compile_flags.user_chose_flags()
    use_compile_settings()
    assert os.environ["PYTENSOR_FLAGS"] == (
        f"base_compiledir=/somewhere,gcc__cxxflags={CXXFLAGS},numba__fastmath=False"
    )


def test_after_pytensor_is_imported_its_default_is_replaced_and_a_choice_kept(
    no_user_flags: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = SimpleNamespace(config=SimpleNamespace(gcc__cxxflags="", numba__fastmath=True))
    monkeypatch.setitem(sys.modules, "pytensor", default)
    use_compile_settings()
    assert default.config.gcc__cxxflags == CXXFLAGS
    assert default.config.numba__fastmath is FASTMATH is False
    chosen = SimpleNamespace(config=SimpleNamespace(gcc__cxxflags="-O3 -march=native"))
    monkeypatch.setitem(sys.modules, "pytensor", chosen)
    use_compile_settings()
    assert chosen.config.gcc__cxxflags == "-O3 -march=native"


@pytest.mark.parametrize("where", ["environment", "configuration file"])
def test_the_users_flags_win(
    where: str, no_user_flags: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A setting the user chose is left alone; the other is still clustermix's."""
    if where == "environment":
        monkeypatch.setenv("PYTENSOR_FLAGS", "gcc__cxxflags=-O2")
    else:
        (tmp_path / "pytensorrc").write_text("[gcc]\ncxxflags = -O2\n")
    monkeypatch.delitem(sys.modules, "pytensor", raising=False)
    assert compile_flags.user_chose_flags()
    use_compile_settings()
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    assert "-g0" not in flags and "numba__fastmath=False" in flags
    if where == "environment":
        monkeypatch.setenv("PYTENSOR_FLAGS", "gcc__cxxflags=-O2,numba__fastmath=True")
    else:
        (tmp_path / "pytensorrc").write_text("[gcc]\ncxxflags = -O2\n[numba]\nfastmath = True\n")
        monkeypatch.delenv("PYTENSOR_FLAGS")
    before = dict(os.environ)
    use_compile_settings()
    assert dict(os.environ) == before


def test_this_process_compiles_with_them_unless_the_user_chose() -> None:
    """conftest imports clustermix before any test module imports PyTensor."""
    import pytensor

    if not compile_flags.user_chose_flags():
        assert pytensor.config.gcc__cxxflags.startswith(CXXFLAGS)
    if not compile_flags.user_chose("fastmath"):
        assert pytensor.config.numba__fastmath is False

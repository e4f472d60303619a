"""`algolens reproduce P --quick | --standard | --full`: a paper module offers the protocols of
its ``MODES`` and gets a :class:`Scale`; one without ``MODES`` keeps the old call; a protocol a
paper does not offer, or two at once, is refused in one line before anything is created."""

from __future__ import annotations

import sys
import types

import pytest

from algolens.reproductions import REPRODUCTIONS, Claim
from algolens.reproductions.claims import Scale


def _module(monkeypatch, name, modes=None):
    module = types.ModuleType(f"algolens_test_{name}")
    module.PAPER = f"{name} (2099)"
    calls = []

    def reproduce(scale, store, *, log):
        calls.append(scale)
        return [Claim("x", "1", "1", True)]

    module.reproduce = reproduce
    if modes is not None:
        module.MODES = modes
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(REPRODUCTIONS, name, module.__name__)
    return calls


@pytest.mark.parametrize(
    ("flags", "scale"),
    [((), Scale("quick")), (("--quick",), Scale("quick")),
     (("--standard",), Scale("standard")), (("--full",), Scale("full"))],
)  # fmt: skip
def test_a_module_with_modes_gets_the_scale(monkeypatch, run_cli, tmp_path, flags, scale):
    calls = _module(monkeypatch, "scaled", ("quick", "standard", "full"))
    code, _, err = run_cli("reproduce", "scaled", *flags, "--store", str(tmp_path / "s"),
                           "--doc", str(tmp_path / "d.md"))  # fmt: skip
    assert code == 0, err
    assert calls == [scale]


def test_a_module_without_modes_keeps_the_old_call(monkeypatch, run_cli, tmp_path):
    calls = _module(monkeypatch, "legacy")
    code, _, err = run_cli("reproduce", "legacy", "--full", "--store", str(tmp_path / "s"),
                           "--doc", str(tmp_path / "d.md"))  # fmt: skip
    assert code == 0, err
    assert calls == ["full"]


@pytest.mark.parametrize(
    ("name", "modes", "flags", "message"),
    [("legacy", None, ("--standard",),
      "error: legacy has no --standard protocol yet; use --quick or --full\n"),
     ("scaled", ("quick", "full"), ("--standard",),
      "error: scaled has no --standard protocol yet; use --quick or --full\n"),
     ("scaled", ("quick", "standard", "full"), ("--quick", "--full"),
      "error: give one of --quick, --standard, --full, not --quick and --full\n")],
)  # fmt: skip
def test_refused_in_one_line_with_nothing_created(
    monkeypatch, run_cli, tmp_path, name, modes, flags, message
):
    calls = _module(monkeypatch, name, modes)
    store, doc = tmp_path / "s", tmp_path / "d.md"
    code, out, err = run_cli("reproduce", name, *flags, "--store", str(store), "--doc", str(doc))
    assert (code, out, err) == (2, "", message)
    assert calls == [] and not store.exists() and not doc.exists()


def test_the_real_papers_declare_their_protocols():
    from algolens.reproductions.registry import load_reproduction, modes_of

    for paper in ("chughtai2023", "stander2024", "brinkmann2024"):
        assert modes_of(load_reproduction(paper)) == ("quick", "standard", "full")


def test_a_scale_caps_epochs_and_checks_itself():
    assert Scale("quick").epochs(None) is None and Scale("full").epochs(250_000) == 250_000
    assert Scale("full", epochs_cap=4).epochs(250_000) == 4
    assert Scale("quick", epochs_cap=4).epochs(None) == 4
    assert Scale("quick", epochs_cap=40).epochs(7) == 7
    with pytest.raises(ValueError, match="mode must be one of"):
        Scale("medium")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least 1"):
        Scale("quick", epochs_cap=0)

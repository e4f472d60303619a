"""`algolens reproduce`: dispatch to a paper module, JSON per claim, the markdown record."""

from __future__ import annotations

import json
import sys
import types

import pytest

from algolens.reproductions import REPRODUCTIONS, Claim, claims_markdown


@pytest.fixture
def fake_paper(monkeypatch):
    """A paper module ``fakepaper`` whose claims record the mode and store they were given."""
    module = types.ModuleType("algolens_test_fakepaper")
    module.PAPER = "Doe & Roe (2099), A Fake Paper"
    calls = []

    def reproduce(mode, store, *, log):
        calls.append((mode, store.root))
        log("training nothing")
        return [
            Claim("accuracy above 99 %", "> 99 %", "99.5 %", True),
            Claim("loss | small", "1e-6", "0.2", False),
            Claim("needs --full", "50 seeds", "not measured in quick mode", None),
            Claim("verified in 60 s", "≤ 60 s", "12 s", True, kind="check"),
            Claim("per-split accuracy", "-", "97 %", None, kind="context"),
        ]

    module.reproduce = reproduce
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(REPRODUCTIONS, "fakepaper", module.__name__)
    return calls


def test_json_is_one_object_per_claim(run_cli, fake_paper, tmp_path):
    code, out, err = run_cli("reproduce", "fakepaper", "--store", str(tmp_path / "s"), "--json")
    assert code == 0, err
    rows = json.loads(out)
    assert [set(r) for r in rows] == [{"claim", "paper", "ours", "agree", "kind"}] * 5
    assert [r["agree"] for r in rows] == [True, False, None, True, None]
    assert [r["kind"] for r in rows] == ["paper"] * 3 + ["check", "context"]
    assert fake_paper == [("quick", tmp_path / "s")]
    assert "training nothing" in err  # progress goes to stderr when stdout is JSON


def test_full_mode_and_markdown_record(run_cli, fake_paper, tmp_path):
    doc = tmp_path / "out" / "fake.md"
    doc.parent.mkdir()
    code, out, err = run_cli("reproduce", "fakepaper", "--full", "--doc", str(doc),
                             "--store", str(tmp_path / "s"))  # fmt: skip
    assert code == 0, err
    assert fake_paper[0][0] == "full"
    text = doc.read_text()
    assert "Doe & Roe (2099), A Fake Paper" in text
    assert "`algolens reproduce fakepaper --full --doc" in text
    # the passing check is not counted as agreement
    assert "1 of 2 paper claims agree (1 n/a); checks: 1 of 1 pass" in text
    assert "| loss \\| small | 1e-6 | 0.2 | no |" in text  # pipes escaped, agree as a word
    assert "| verified in 60 s | ≤ 60 s | 12 s | yes |" in text.split("## Our checks")[1]
    assert "| per-split accuracy | - | 97 % |" in text.split("## Context")[1]
    assert "1 of 2 paper claims agree (1 n/a); checks: 1 of 1 pass" in out


@pytest.mark.parametrize(
    ("paper", "words"), [("bogus", "unknown paper 'bogus'"), ("zhang2023", "not built yet")]
)
def test_unknown_or_unbuilt_paper_is_one_line_and_creates_nothing(run_cli, tmp_path, monkeypatch,
                                                                  paper, words):  # fmt: skip
    monkeypatch.setitem(REPRODUCTIONS, "zhang2023", "algolens.reproductions.no_such_module_xyz")
    code, out, err = run_cli("reproduce", paper, "--store", str(tmp_path / "s"))
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s").exists()


def test_markdown_counts_match_the_claims():
    claims = [Claim("a", "1", "1", True), Claim("b", "2", "3", False), Claim("c", "4", "5", True),
              Claim("d", "6", "7", False, kind="check")]  # fmt: skip
    text = claims_markdown("P", claims, command="c", machine="m", date="d", wall_s=1.0)
    assert "2 of 3 paper claims agree; checks: 0 of 1 pass" in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and not ln.startswith("| ---")]
    assert rows == ["| claim | paper | ours | agree |", "| a | 1 | 1 | yes |",
                    "| b | 2 | 3 | no |", "| c | 4 | 5 | yes |",
                    "| claim | paper | ours | passes |", "| d | 6 | 7 | no |"]  # fmt: skip


def test_a_context_row_is_never_judged():
    with pytest.raises(ValueError, match="never judged"):
        Claim("split sizes", "-", "500", True, kind="context")


@pytest.mark.parametrize("kind", ["folder", "missing", "symlink"])
def test_bad_doc_is_refused_before_anything_runs(run_cli, fake_paper, tmp_path, kind):
    doc = {"folder": tmp_path, "missing": tmp_path / "no" / "x.md", "symlink": tmp_path / "l.md"}
    if kind == "symlink":
        doc[kind].symlink_to(tmp_path / "elsewhere.md")
    code, out, err = run_cli(
        "reproduce", "fakepaper", "--doc", str(doc[kind]), "--store", str(tmp_path / "s")
    )
    assert code == 2 and out == "" and err.startswith("error:") and err.count("\n") == 1, err
    assert fake_paper == [] and not (tmp_path / "s").exists() and not (tmp_path / "no").exists()


def test_real_paper_refuses_a_folder_doc_before_training(run_cli, tmp_path):
    store = tmp_path / "s"
    code, _, err = run_cli(
        "reproduce", "chughtai2023", "--quick", "--doc", str(tmp_path), "--store", str(store)
    )
    assert code == 2 and "--doc" in err and "directory" in err and err.count("\n") == 1
    assert not store.exists()  # no run was created


def test_sigterm_stops_it_like_ctrl_c_with_the_resume_command(run_cli, monkeypatch, tmp_path):
    """SIGTERM during a protocol: exit 130 and the command that resumes it (a run in training
    is recorded as interrupted by start_run, as under Ctrl-C); not a silent exit 143."""
    import os
    import signal

    module = types.ModuleType("algolens_test_termpaper")
    module.PAPER = "Doe (2099), Terminated"

    def reproduce(mode, store, *, log):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM should have stopped the protocol")

    module.reproduce = reproduce
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(REPRODUCTIONS, "termpaper", module.__name__)
    before = signal.getsignal(signal.SIGTERM)
    code, _, err = run_cli("reproduce", "termpaper", "--store", str(tmp_path / "s"))
    assert code == 130
    assert err.strip().splitlines()[-1].startswith("interrupted: run the same command again")
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back

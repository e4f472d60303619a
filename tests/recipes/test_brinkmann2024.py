"""`algolens reproduce brinkmann2024`: the protocols' configs, the agreement rules on hand-made
measurements, and the whole mechanics on a tiny stand-in run (seconds)."""

from __future__ import annotations

import json

import pytest

from algolens.recipes import brinkmann2024 as b
from tests.train.test_pathfinding_training import tiny


def test_protocol_configs():
    full, quick = b.settings("full"), b.settings("quick")
    assert full.pathfinding.nodes == 16 and full.model_args["d_model"] == 128
    assert full.lr == 3e-4 and full.batch_size == 64 and full.schedule == "cosine"
    assert quick.model_args["n_layers"] == 6 and quick.model_args["n_heads"] == 1
    assert quick.pathfinding.nodes < 16


def mech(levels, lens, rec, block=0, f1=(0.1, 0.99), goal=((0.9,), (0.1,))):
    return {
        "edge_concat": {"f1_by_layer": list(f1), "block": block, "control_f1_by_layer": None},
        "goal_heads": {"best": [0, 0], "attention": [list(r) for r in goal]},
        "deduction": {"heads": [{"level": x} for x in levels]},
        "lens": {"accuracy": [0.0, *lens]},
        "scrubbing": [{"loss_recovered": r} for r in rec],
    }


SUMMARY = {"splits": {"test": {"n": 1000, "greedy_acc": [0.998]}}}


def test_agreement_rules_follow_the_measurements():
    cfg = b.settings("full")
    good = b.claims(SUMMARY, mech([3, 0, 1, 2, 3, 4], b.PAPER_LENS, [1.0, 0.95, 0.92]), cfg)
    assert [c.agree for c in good] == [True] * 6
    assert {c.kind for c in good} == {"paper"}
    bad_summary = {"splits": {"test": {"n": 100, "greedy_acc": [0.9]}}}
    bad = b.claims(
        bad_summary,
        mech([0, 0, 0, 0, 0, 0], (0.9,) * 6, [0.5, None, 1.0], block=2, goal=((0.2,), (0.9,))),
        cfg,
    )
    assert [c.agree for c in bad] == [False, False, False, False, False, None]
    assert "99.7 %" == bad[0].paper and "90.0 %" in bad[0].ours


def test_accuracy_is_judged_at_the_papers_printed_precision():
    cfg = b.settings("full")  # runs its schedule to the end
    at = {"splits": {"test": {"n": 1000, "greedy_acc": [0.9965]}}}
    below = {"splits": {"test": {"n": 1000, "greedy_acc": [0.995]}}}
    assert b.accuracy_claim(at, cfg).agree is True
    assert b.accuracy_claim(below, cfg).agree is False


def test_a_run_stopped_at_a_lower_target_cannot_test_accuracy():
    quick = b.settings("quick")  # early stop at 99 %: its accuracy is where it stopped
    assert quick.early_stop and quick.grok_threshold < b.PAPER_ACCURACY
    row = b.accuracy_claim({"splits": {"test": {"n": 1000, "greedy_acc": [0.991]}}}, quick)
    assert row.agree is None and "cannot test" in row.ours


def test_the_16_node_lens_curve_is_not_judged_on_other_trees():
    quick = b.settings("quick")
    rows = b.claims(SUMMARY, mech([3, 0, 1, 2, 3, 4], b.PAPER_LENS, [1.0, 1.0, 1.0]), quick)
    lens = next(r for r in rows if r.claim.startswith("tuned-lens"))
    assert lens.agree is None and f"{quick.pathfinding.nodes} nodes" in lens.ours


def test_quick_mechanics_on_a_tiny_stand_in(monkeypatch, run_cli, tmp_path):
    monkeypatch.setattr(b, "settings", lambda mode: tiny(epochs=2, seeds=[0]))
    store = tmp_path / "s"
    doc = tmp_path / "brinkmann.md"
    args = ("reproduce", "brinkmann2024", "--quick", "--store", str(store), "--json")
    code, out, err = run_cli(*args, "--doc", str(doc))
    assert code == 0, err
    rows = json.loads(out)
    assert [set(r) for r in rows] == [{"claim", "paper", "ours", "agree", "kind"}] * 6
    text = doc.read_text()
    assert "training pathfinding 4 nodes" in err and "## Paper claims (judged)" in text
    assert "| claim | paper | ours | agree |" in text
    code, out2, err = run_cli(*args)  # the second time reuses the run and the stored analysis
    assert code == 0 and "reusing run" in err and json.loads(out2) == rows


@pytest.mark.parametrize("mode", ["quick", "full"])
def test_settings_are_valid_configs(mode):
    assert b.settings(mode).task == "pathfinding"

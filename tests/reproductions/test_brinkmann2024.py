"""`algolens reproduce brinkmann2024`: the protocols' configs, the agreement rules on hand-made
measurements, and the whole mechanics on a tiny stand-in run (seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score

from algolens.reproductions import brinkmann2024 as b
from algolens.reproductions import brinkmann2024_claims as bc
from algolens.reproductions import brinkmann2024_stats as bs
from tests.train.test_pathfinding_training import tiny


def test_protocol_configs():
    full, quick, standard = b.settings("full"), b.settings("quick"), b.settings("standard")
    # standard: the paper's trees and width, its schedule run to the end
    assert standard.pathfinding.nodes == 16 and standard.model_args == full.model_args
    assert standard.pathfinding.nodes - 1 > standard.model_args["n_layers"]
    assert not standard.early_stop and standard.schedule == "cosine"
    assert standard.lr * standard.min_lr_frac == pytest.approx(2e-6)
    assert full.pathfinding.nodes == 16 and full.model_args["d_model"] == 128
    assert full.lr == 3e-4 and full.batch_size == 64 and full.schedule == "cosine"
    assert quick.model_args["n_layers"] == 6 and quick.model_args["n_heads"] == 1
    assert quick.pathfinding.nodes < 16


RNG = np.random.default_rng(0)
LABELS = RNG.integers(0, 6, size=(3, 200))  # an edge source per probed position and prompt
RANDOM = RNG.integers(0, 6, size=(3, 200))  # answers that ignore the stream
LOGP = -3 + RNG.normal(size=30)  # the wrong child's log-probability at 30 steps
CHANCE = 1 / 18  # the root of a 6-node tree sees 18 positions


def per_prompt(after, before=RANDOM):
    return {"layers": [0, 1], "positions": [1, 7, 13], "labels": LABELS.tolist(),
            "pred": [before.tolist(), after.tolist()],
            "shuffled_pred": [RANDOM.tolist(), RANDOM.tolist()]}  # fmt: skip


def mech(levels, lens, rec, after=LABELS, goal=(0.9,) * 50, best=(0, 0), registers=(),
         merge=(4, 0), long=None, prefer=1.0):  # fmt: skip
    n_layers = len(levels)
    scrub = [
        {
            "layer": i,
            "loss_recovered": rec[i] if i < len(rec) else 1.0,
            "by_length": (long or {}) if i in (4, 5) else {},
        }
        for i in range(n_layers)
    ]
    return {
        "edge_concat": {"f1_by_layer": [0.1, 0.99], "per_prompt": per_prompt(after),
                        "erasure": None},
        "goal_heads": {"best": list(best), "attention": [[0.5]] * n_layers,
                       "knockout": {"loss": 0.01, "knocked_loss": 0.5},
                       "layer0": {"layer": 0, "head": 0, "attention": list(goal),
                                  "chance": CHANCE}},
        "deduction": deduction(levels),
        "lens": {"accuracy": [0.0, *lens]},
        "scrubbing": scrub,
        "register_probes": {"registers": [
            {"kind": k, "level": lv, "layer": 2, "f1": 1.0, "knockout": {"loss_increase": 0.1}}
            for k, lv in registers]},
        "patching": {"n": 40, "clean": 5.0, "corrupted": -5.0, "by_layer": [
            {"layer": 0, "goal": 0.97, "root": 0.0, "top_pos": 15, "top_effect": 0.97}]},
        "lookahead": {k: {"with_children": (LOGP + prefer).tolist(), "leaf": LOGP.tolist()}
                      for k in ("inner", "last")},
        "registers": {"merge_layer": merge[0], "merge_head": merge[1],
                      "mass": [[0.3]] * n_layers, "chance": 0.2},
    }  # fmt: skip


def deduction(levels, rate=0.5, uniform=0.05):
    """Best head of each layer reading ``levels[layer]`` at ``rate``, other levels at 0."""
    return {
        "heads": [{"layer": i, "head": 0, "level": x} for i, x in enumerate(levels)],
        "by_level": [[[rate if k == x else 0.0 for k in range(15)]] for x in levels],
        "uniform_by_level": [uniform] * 15,
    }


SUMMARY = {"splits": {"test": {"n": 1000, "greedy_acc": [0.998]}}}


def paper_rows(rows):
    return {r.claim.split(" (agree")[0]: r.agree for r in rows if r.kind == "paper"}


def test_agreement_rules_follow_the_measurements():
    cfg = b.settings("full")  # 16 nodes, 6 layers
    good = bc.claims(SUMMARY, mech([3, 0, 1, 2, 3, 4], bc.PAPER_LENS, [1.0, 0.95, 0.92],
                                  registers=[("goal", 1)], long={"7": 0.4}), cfg)  # fmt: skip
    verdicts = paper_rows(good)
    assert all(verdicts.values())
    assert [r.agree for r in good if r.kind == "context"] == [None] * 4
    bad_summary = {"splits": {"test": {"n": 100, "greedy_acc": [0.9]}}}
    bad = bc.claims(
        bad_summary,
        mech([0, 0, 0, 0, 0, 0], (0.9,) * 6, [0.5, None, 1.0], after=RANDOM,
             goal=(CHANCE,) * 50, registers=[(":", 0)], merge=(1, 0), long={"7": 0.95},
             prefer=0.0),
        cfg,
    )  # fmt: skip
    verdicts = paper_rows(bad)
    assert sum(v is False for v in verdicts.values()) == len(verdicts) - 1  # scrub 0-2: n/a
    assert "99.7 %" == bad[0].paper and "90.0 %" in bad[0].ours


def test_uniform_attention_to_the_goal_does_not_beat_chance_and_attention_on_it_does():
    assert bc.goal_claim(mech([0], [], [], goal=(CHANCE,) * 40)["goal_heads"]).agree is False
    assert bc.goal_claim(mech([0], [], [], goal=(0.3,) * 40)["goal_heads"]).agree is True
    # above chance on half the prompts, below on the other half: the median is not above it
    split = (0.3,) * 20 + (0.0,) * 20
    assert bc.goal_claim(mech([0], [], [], goal=split)["goal_heads"]).agree is False


def test_the_sign_test_counts_prompts_above_chance_and_its_reach():
    t = bs.sign_test_above([0.5] * 9 + [0.0] + [0.1] * 5, 0.1)  # 5 ties dropped
    assert (t.above, t.n) == (9, 10) and t.pvalue == pytest.approx(11 / 1024)
    assert t.min_above == 9 and t.agree  # 8 of 10: p = 56/1024 > 0.05
    assert bs.sign_test_above([0.2] * 4, 0.1).min_above is None  # 4 prompts can never agree


def test_macro_f1_matches_scikit_learn_and_weights_resample_prompts():
    y, p = LABELS[0], RANDOM[0]
    got = bs.macro_f1(y, p, np.ones((1, len(y))))[0]
    assert got == pytest.approx(f1_score(y, p, average="macro"))
    w = np.zeros((1, len(y)))
    w[0, :50] = 2  # the first 50 prompts twice each
    assert bs.macro_f1(y, p, w)[0] == pytest.approx(f1_score(y[:50], p[:50], average="macro"))


def test_the_edge_probe_must_beat_its_shuffled_label_twin_by_the_margin():
    perfect = bc.edge_claim(mech([0], [], [], after=LABELS)["edge_concat"])
    assert perfect.agree is True and "gap to shuffled 0.8" in perfect.ours  # 1 - about 1/6
    assert bc.edge_claim(mech([0], [], [], after=RANDOM)["edge_concat"]).agree is False
    half = np.where(np.arange(200) < 100, LABELS, RANDOM)  # right on half the prompts: gap < 0.5
    assert bc.edge_claim(mech([0], [], [], after=half)["edge_concat"]).agree is False


def test_merging_and_long_path_scrubbing_need_paths_longer_than_the_layers():
    quick = b.settings("quick")  # 6 nodes: paths of at most 5 edges, 6 layers
    m = mech([3, 0, 1, 2, 3, 4], bc.PAPER_LENS, [1.0] * 3, long={"7": 0.1})
    assert bc.merge_claim(m["registers"], 6, 6).agree is None
    assert bc.merge_claim(m["registers"], 16, 6).agree is True  # layer 4
    assert bc.merge_claim(mech([0] * 6, [], [], merge=(2, 0))["registers"], 16, 6).agree is False
    assert bc.scrub_claims(m["scrubbing"], quick.pathfinding.nodes, 6)[1].agree is None
    assert bc.scrub_claims(m["scrubbing"], 16, 6)[1].agree is True  # 10 % on length 7
    held = mech([0] * 6, [], [1.0] * 3, long={"7": 0.97, "9": 0.93})["scrubbing"]
    assert bc.scrub_claims(held, 16, 6)[1].agree is False  # nothing breaks


def test_deduction_levels_must_climb_and_beat_uniform_attention():
    assert bc.deduction_claim(deduction([3, 0, 1, 2, 3, 4]), 16).agree is True
    assert bc.deduction_claim(deduction([3, 0, 2, 1, 3, 4]), 16).agree is False
    # uniform attention: every level ties, the argmax is level 0 everywhere; no level is read
    flat = deduction([0] * 6, rate=0.05)
    for row in flat["by_level"]:
        row[0] = [0.05] * 15
    assert bc.deduction_claim(flat, 16).agree is False
    flat["heads"] = [{"layer": i, "head": 0, "level": i - 1 if i else 0} for i in range(6)]
    assert bc.deduction_claim(flat, 16).agree is False  # the right levels, at chance
    assert bc.deduction_claim(deduction([0, 0]), 2).agree is None  # 2 nodes: depth 1


def test_lookahead_needs_more_log_probability_on_a_wrong_child_with_children():
    assert bc.lookahead_claim(mech([0], [], [], prefer=1.0)["lookahead"]).agree is True
    assert bc.lookahead_claim(mech([0], [], [], prefer=0.0)["lookahead"]).agree is False
    assert bc.lookahead_claim(mech([0], [], [], prefer=-1.0)["lookahead"]).agree is False
    la = mech([0], [], [], prefer=1.0)["lookahead"]
    la["last"]["with_children"] = la["last"]["with_children"][:3]  # untestable: skipped
    assert bc.lookahead_claim(la).agree is True and "too few" in bc.lookahead_claim(la).ours
    la["last"]["leaf"] = (LOGP + 2).tolist()  # the other stratum now disagrees
    la["last"]["with_children"] = LOGP.tolist()
    assert bc.lookahead_claim(la).agree is False
    few = {k: {"with_children": [0.0] * 3, "leaf": [0.0] * 3} for k in ("inner", "last")}
    assert bc.lookahead_claim(few).agree is None


def test_patching_is_shown_as_context_layer_by_layer():
    m = mech([3, 0, 1, 2, 3, 4], bc.PAPER_LENS, [1.0] * 3)
    rows = bc.claims(SUMMARY, m, b.settings("full"))
    row = next(r for r in rows if r.claim.startswith("activation patching"))
    assert row.kind == "context" and "40 prompts; L0: goal 0.97, root 0.00, best pos 15" in row.ours
    assert "no test prompt" in bc.patching_text({"n": 0})


def test_registers_must_hold_a_sub_goal_above_the_goal():
    assert (
        bc.register_claim(mech([0], [], [], registers=[(":", 0)])["register_probes"]).agree is False
    )
    assert bc.register_claim(mech([0], [], [], registers=[])["register_probes"]).agree is False
    rp = mech([0], [], [], registers=[(":", 0), ("',' after edge 3", 2)])["register_probes"]
    assert bc.register_claim(rp).agree is True


def test_accuracy_is_judged_at_the_papers_printed_precision():
    cfg = b.settings("full")  # runs its schedule to the end
    at = {"splits": {"test": {"n": 1000, "greedy_acc": [0.9965]}}}
    below = {"splits": {"test": {"n": 1000, "greedy_acc": [0.995]}}}
    assert bc.accuracy_claim(at, cfg).agree is True
    assert bc.accuracy_claim(below, cfg).agree is False


def test_a_run_stopped_at_a_lower_target_cannot_test_accuracy():
    quick = b.settings("quick")  # early stop at 99 %: its accuracy is where it stopped
    assert quick.early_stop and quick.grok_threshold < bc.PAPER_ACCURACY
    row = bc.accuracy_claim({"splits": {"test": {"n": 1000, "greedy_acc": [0.991]}}}, quick)
    assert row.agree is None and "cannot test" in row.ours


def test_the_16_node_lens_curve_is_not_judged_on_other_trees():
    quick = b.settings("quick")
    rows = bc.claims(SUMMARY, mech([3, 0, 1, 2, 3, 4], bc.PAPER_LENS, [1.0, 1.0, 1.0]), quick)
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
    assert [r["kind"] for r in rows] == ["paper"] * 10 + ["context"] * 4
    text = doc.read_text()
    assert "training pathfinding 4 nodes" in err and "## Paper claims (judged)" in text
    assert "| claim | paper | ours | agree |" in text
    code, out2, err = run_cli(*args)  # the second time reuses the run and the stored analysis
    assert code == 0 and "reusing run" in err and json.loads(out2) == rows


@pytest.mark.parametrize("mode", ["quick", "standard", "full"])
def test_settings_are_valid_configs(mode):
    assert b.settings(mode).task == "pathfinding"


def test_rows_na_on_6_node_trees_are_judged_on_the_standard_16_node_protocol():
    """The same measurements: quick's 6-node config leaves the depth rows n/a, the standard
    protocol's 16-node config (no early stop) judges them, here to a verdict that can fail."""
    m = mech([3, 0, 1, 2, 3, 4], bc.PAPER_LENS, [1.0] * 3, long={"7": 0.1})
    depth = ("exact-path", "tuned-lens", "the backward-chaining", "path merging")

    def verdicts(cfg):
        rows = bc.claims(SUMMARY, m, cfg)
        return {w: next(r.agree for r in rows if r.claim.startswith(w)) for w in depth}

    quick = b.settings("quick")
    quick_rows = verdicts(quick)
    assert [quick_rows[w] for w in depth[1:]] == [None] * 3
    assert verdicts(b.settings("standard")) == dict.fromkeys(depth, True)
    late = mech([3, 0, 1, 2, 3, 4], (0.9,) * 6, [1.0] * 3, long={"7": 0.95}, merge=(2, 0))
    rows = bc.claims({"splits": {"test": {"n": 1000, "greedy_acc": [0.99]}}}, late,
                    b.settings("standard"))  # fmt: skip
    assert [next(r.agree for r in rows if r.claim.startswith(w)) for w in depth] == [False] * 4


def test_a_scale_caps_the_epochs_of_the_trained_run(monkeypatch, tmp_path):
    from algolens.reproductions.claims import Scale
    from algolens.store import RunStore

    monkeypatch.setattr(b, "settings", lambda mode: tiny(epochs=5, seeds=[0]))
    b.reproduce(Scale("quick", epochs_cap=2), RunStore(tmp_path), log=lambda _m: None)
    (run,) = RunStore(tmp_path).list()
    assert run.config["epochs"] == 2 and run.summary["epochs"] == 2

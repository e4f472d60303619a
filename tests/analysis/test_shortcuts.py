"""Shortcut reconstruction (`algolens.analysis.recursion.shortcuts`): hand-built attention patterns
are
summarised with the rule they were built from; a "model" that is a hypothesis matches it on its
right and its wrong answers; the run-level analysis reads real patterns; the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algolens.analysis.recursion.shortcuts import (
    RULES,
    builtin_hypotheses,
    carry_limited,
    model_answers,
    score_hypotheses,
    summarise_attention,
)
from algolens.errors import ConfigError
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.sampling import Sampling, sample_values
from algolens.tasks.recursion.tokens import EOS_ID, encode, encode_args, ids
from algolens.tasks.recursion.values import from_int, to_int

B0, B1, Z = ids(["B0"])[0], ids(["B1"])[0], ids(["Z"])[0]


def _prompts(rng, n=30):
    """Random binary-number prompts of 2..6 bits that always hold a B0 somewhere."""
    out = []
    for _ in range(n):
        bits = [int(b) for b in rng.integers(0, 2, size=int(rng.integers(2, 7)))]
        bits[int(rng.integers(0, len(bits)))] = 0
        out.append([B1 if b else B0 for b in bits] + [Z])
    return out


def _pattern(prompts, answer_lens, key_of, heads=2, other_head_uniform=True):
    """``[N, head, T, T]`` causal pattern: head 0 puts all mass on ``key_of(prompt, i)`` at the
    query that predicts answer token i; head 1 is uniform over the visible keys."""
    t = max(len(p) + a + 1 for p, a in zip(prompts, answer_lens))
    pat = np.zeros((len(prompts), heads, t, t))
    for r, p in enumerate(prompts):
        for q in range(t):
            pat[r, 1, q, : q + 1] = 1.0 / (q + 1)
            pat[r, 0, q, : q + 1] = 1.0 / (q + 1)
        for i in range(answer_lens[r]):
            q = len(p) + i
            pat[r, 0, q] = 0.0
            pat[r, 0, q, key_of(p, i)] = 1.0
    return pat


@pytest.mark.parametrize(
    "rule, key_of",
    [
        ("prompt token i", lambda p, i: min(i, len(p) - 1)),
        ("the first B0", lambda p, i: p.index(B0)),
        ("<sep>", lambda p, i: len(p)),
    ],
)
def test_a_pattern_built_from_a_rule_is_summarised_as_that_rule_at_100_percent(rule, key_of):
    rng = np.random.default_rng(0)
    prompts = _prompts(rng)
    alens = [min(len(p), 4) for p in prompts]  # answer index < prompt length: "same index" holds
    pat = _pattern(prompts, alens, key_of)
    rows = summarise_attention(pat, prompts, alens)
    head0 = [r for r in rows if r["head"] == 0]
    assert {r["answer_index"] for r in head0} == set(range(max(alens)))
    for r in head0:
        assert r["rule"] == rule and r["mass"] == pytest.approx(1.0) and r["argmax"] == 1.0
        assert r["n"] == sum(a > r["answer_index"] for a in alens)
    # the uniform head gets far less than full mass for its best rule
    assert all(r["mass"] < 0.6 for r in rows if r["head"] == 1)


def test_rules_name_the_right_positions_by_hand():
    p = [B1, B1, B0, B1, Z]  # 11 = B1 B1 B0 B1 Z, <sep> at 5
    got = {name: rule(p, 2) for name, rule in RULES.items()}
    assert got == {
        "prompt token i": 2, "prompt token i + 1": 3, "prompt token i - 1": 1,
        "the first B0": 2, "the last prompt token": 4, "<sep>": 5,
        "the previous answer token": 7,
    }  # fmt: skip
    assert RULES["the previous answer token"](p, 0) is None
    assert RULES["the first B0"]([B1, Z], 0) is None
    with pytest.raises(ConfigError, match="pattern rows"):
        summarise_attention(np.zeros((2, 1, 4, 4)), [[Z]], [1, 1])


def test_carry_limited_is_successor_below_the_limit_by_brute_force():
    succ = FUNCTIONS["successor"].fn
    for width in range(1, 7):
        for v in range(2**width):
            n = from_int(v, width)
            trailing = next((i for i in range(width) if not (v >> i) & 1), width)
            for k in range(0, 7):
                got = carry_limited(k)(n)
                if trailing < k or (trailing == width and width <= k):
                    assert got == succ(n)
                else:  # bits 0..k-1 cleared, bit k set (same width)
                    assert to_int(got) == (v & ~((1 << (k + 1)) - 1)) | (1 << k)


def _scored_against(model, hyps, seed=1, n=400):
    """Score ``hyps`` against a Python ``model`` as if it were a network's greedy output."""
    rng = np.random.default_rng(seed)
    xs = [(x,) for x in sample_values(Sampling(1, 8, "balanced"), "bin", n, rng)]
    succ = FUNCTIONS["successor"].fn
    out = [tuple(ids(encode(model(*x)))) for x in xs]
    right = [o == tuple(ids(encode(succ(*x)))) for o, x in zip(out, xs)]
    return {d["name"]: d for d in score_hypotheses(hyps, xs, out, right)}, right


def test_the_hypothesis_the_model_is_matches_everywhere_others_do_not():
    hyps = builtin_hypotheses("successor", 8)
    got, right = _scored_against(carry_limited(3), hyps)
    assert 0 < sum(right) < len(right)
    same = got["carry through at most 3 bits"]
    assert same["match"] == same["match_right"] == same["match_wrong"] == 1.0
    assert list(got)[0] == "carry through at most 3 bits"  # best first
    exact = got["exact successor"]
    assert exact["match_right"] == 1.0 and exact["match_wrong"] == 0.0 and exact["match"] < 1.0
    assert got["carry through at most 1 bits"]["match"] < 1.0


def test_model_answers_cut_at_eos_and_unfinished_rows_match_nothing():
    written = np.array([[B1, Z, EOS_ID, 0], [B0, B0, B0, B0]])
    assert model_answers(written) == [(B1, Z), None]
    xs = [(from_int(0, 1),), (from_int(1, 1),)]
    got = score_hypotheses(builtin_hypotheses("successor", 2), xs, model_answers(written), [1, 0])
    by = {d["name"]: d for d in got}
    assert by["exact successor"]["match_right"] == 1.0 and by["exact successor"]["match_wrong"] == 0
    assert builtin_hypotheses("add", 8) == {}  # no family for add yet
    assert encode_args(xs[0]) == ["B0", "Z"]


# ---- run level -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from algolens.store import RunStore
    from algolens.train.config import make_config
    from algolens.train.run import start_run
    from tests.tasks.test_recursion_training import tiny

    store = RunStore(tmp_path_factory.mktemp("shortcuts") / "store")
    builtin = start_run(tiny(epochs=2), store)["run_id"]
    comp = start_run(make_config("fast", group="S3", seeds=[0], epochs=2), store)["run_id"]
    return store, builtin, comp


def test_run_patterns_are_the_model_hooks_and_the_analysis_is_stored(runs):
    from algolens.analysis.recursion.shortcuts import _packed, attention_patterns, run_shortcuts
    from algolens.tasks.recursion.examples import sampled_examples
    from algolens.train.load import load_run_dataset, load_run_model

    store, builtin, _ = runs
    config, model = load_run_model(store, builtin)
    ex = sampled_examples(config, ("bin",), 5, seed=3)
    tokens = _packed(ex, model.cfg.n_ctx + 1).inputs
    pats = attention_patterns(model, tokens)
    one = model.instance(1)
    _, cache = one.run_with_cache(tokens)
    want = cache["blocks.0.attn.hook_pattern"].numpy()
    assert np.allclose(pats[0][1], want.reshape(pats[0][1].shape), atol=1e-6)
    assert np.allclose(pats[0].sum(-1), 1.0, atol=1e-5)
    out = run_shortcuts(store, builtin, n=40, n_attn=10)
    assert not out["reused"] and 10 <= out["n"] <= 40 and out["n_attention"] == 10
    train = {tuple(x) for x in load_run_dataset(store, builtin).splits["train"].inputs}
    assert "no training input" in out["inputs"] and len(train) > 10
    inst = out["instances"][0]
    assert inst["attention"] and inst["attention"][0]["text"].startswith("answer token 0, L0H")
    assert inst["best_hypothesis"] == inst["hypotheses"][0]["name"]
    assert run_shortcuts(store, builtin, n=40, n_attn=10)["reused"]


def test_cli_json_and_bad_input(runs, run_cli):
    store, builtin, comp = runs
    base = ("analyze", builtin, "--method", "shortcuts", "--store", str(store.root))
    code, out, err = run_cli(*base, "--instance", "1", "--json")
    assert code == 0, err
    got = json.loads(out)["runs"][0]
    assert [i["instance"] for i in got["instances"]] == [1] and got["instances"][0]["hypotheses"]
    code, out, err = run_cli(*base)
    assert code == 0, err
    assert "attends to" in out and "best hypothesis" in out
    code, out, err = run_cli(*base, "--inputs", "rare", "--json")
    assert code == 0, err
    assert "like the rare split" in json.loads(out)["runs"][0]["inputs"]
    before = sorted(p.name for p in store.root.rglob("*"))
    for run, extra, fragment in [
        (comp, [], "needs a recursion run"),
        (builtin, ["--instance", "5"], "--instance must lie in 0..1"),
        (builtin, ["--inputs", "train"], "--inputs 'train' is unknown"),
    ]:
        code, _, err = run_cli(
            "analyze", run, "--method", "shortcuts", "--store", str(store.root), *extra
        )
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in store.root.rglob("*")) == before

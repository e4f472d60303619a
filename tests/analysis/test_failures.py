"""Failure prediction (`algolens.analysis.recursion.failures`): a "model" that is exactly a known
shortcut
has its failures predicted perfectly on fresh inputs; irrelevant features stay unused; degenerate
tables give one rule and honest (None) ratios; the run-level analysis and its CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.analysis.recursion.failures import fit_and_score, fit_tree, score
from algolens.errors import ConfigError
from algolens.tasks.recursion.features import input_features
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.sampling import Sampling, sample_values
from algolens.tasks.recursion.values import bits, from_bits


def carry_shortcut(k: int):
    """Successor that carries through at most the first k bits, written from bit lists: the carry
    into bit k sets it to 1 whatever it held (and never grows the number)."""

    def f(n):
        bs = bits(n)
        out = list(bs)
        for i in range(len(bs)):
            if i == k:
                out[i] = 1
                return from_bits(out)
            if bs[i] == 0:
                out[i] = 1
                return from_bits(out)
            out[i] = 0
        return from_bits(out + [1]) if len(bs) <= k else from_bits(out)

    return f


def _table(model, seed: int, n: int = 600, extra: bool = True):
    """Features and wrong-flags of ``model`` against the built-in successor on sampled inputs,
    with two random features that have nothing to do with the answers."""
    rng = np.random.default_rng(seed)
    xs = sample_values(Sampling(1, 10, "balanced"), "bin", n, rng)
    succ = FUNCTIONS["successor"].fn
    feats = []
    for x in xs:
        f = input_features((x,))
        if extra:
            f |= {"noise": int(rng.integers(0, 10)), "coin": bool(rng.integers(0, 2))}
        feats.append(f)
    return feats, [model(x) != succ(x) for x in xs]


@pytest.mark.parametrize("k", [2, 4])
def test_shortcut_failures_are_predicted_exactly_on_fresh_inputs(k):
    fit, fresh = _table(carry_shortcut(k), 0), _table(carry_shortcut(k), 1)
    # the shortcut is wrong exactly when the carry runs past bit k (checked by brute force here)
    assert all(w == (f["trailing_ones"] > k) for f, w in zip(*fresh))
    assert 0 < sum(fresh[1]) < len(fresh[1])
    out = fit_and_score(fit, fresh)
    assert out["fresh"]["recall"] == 1.0 and out["fresh"]["precision"] == 1.0
    assert out["features_used"] == ["trailing_ones"]
    assert f"trailing_ones >= {k + 1} → wrong" in out["rules"]


def test_conjunction_needs_two_tests_and_ignores_noise():
    def model(x):  # wrong exactly on short numbers with two or more trailing ones
        b = bits(x)
        succ = FUNCTIONS["successor"].fn(x)
        return from_bits([0] * len(b)) if len(b) <= 6 and b[:2] == [1, 1] else succ

    fit, fresh = _table(model, 2, n=1500), _table(model, 3, n=1500)
    out = fit_and_score(fit, fresh)
    assert out["fresh"]["recall"] == 1.0 and out["fresh"]["precision"] == 1.0
    assert set(out["features_used"]) == {"length", "trailing_ones"}
    assert "trailing_ones >= 2 and length <= 6 → wrong" in out["rules"] or (
        "length <= 6 and trailing_ones >= 2 → wrong" in out["rules"]
    )


@pytest.mark.parametrize("all_wrong", [False, True])
def test_degenerate_tables_give_one_rule_and_none_where_undefined(all_wrong):
    feats = [{"a": i % 5, "b": i % 2 == 0} for i in range(40)]
    tree = fit_tree(feats, [all_wrong] * 40)
    assert tree.rules() == [f"always → {'wrong' if all_wrong else 'right'}"]
    s = score(tree.predict(feats), [all_wrong] * 40)
    if all_wrong:
        assert s["recall"] == 1.0 and s["precision"] == 1.0 and s["failure_rate"] == 1.0
    else:
        assert s["recall"] is None and s["precision"] is None and s["failure_rate"] == 0.0
    # predicted nothing, but failures exist: recall 0, precision undefined
    assert score([False, False], [True, False]) | {} == {
        "n": 2, "failures": 1, "predicted": 0, "hits": 0, "failure_rate": 0.5,
        "recall": 0.0, "precision": None, "accuracy": 0.5,
    }  # fmt: skip


def test_min_leaf_and_depth_are_respected():
    feats = [{"a": i} for i in range(100)]
    wrong = [i % 2 == 1 for i in range(100)]  # no shallow tree can separate odd from even
    tree = fit_tree(feats, wrong, max_depth=3, min_leaf=10)

    def leaves(t, d=0):
        if t.feature is None:
            return [(t.n, d)]
        return leaves(t.low, d + 1) + leaves(t.high, d + 1)

    assert all(n >= 10 and d <= 3 for n, d in leaves(tree))
    assert fit_tree(feats, wrong, max_depth=0).rules() == ["always → right"]  # 50/50 tie: right


def test_bad_tables_are_config_errors():
    with pytest.raises(ConfigError, match="not an int/bool"):
        fit_tree([{"a": 1.5}], [True])
    with pytest.raises(ConfigError, match="row 1 has keys"):
        fit_tree([{"a": 1}, {"b": 1}], [True, False])
    with pytest.raises(ConfigError, match="as many labels"):
        fit_tree([{"a": 1}], [])


# ---- run level: a tiny trained successor run, a user-function run and a composition run ----


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from algolens.store import RunStore
    from algolens.train.config import make_config
    from algolens.train.run import start_run
    from tests.tasks.test_recursion_training import builtin_and_user_runs

    tmp = tmp_path_factory.mktemp("failures")
    store = RunStore(tmp / "store")
    builtin, user = builtin_and_user_runs(store, tmp, builtin_epochs=4)
    comp = start_run(make_config("fast", group="S3", seeds=[0], epochs=2), store)["run_id"]
    return store, builtin, user, comp


def _manual_wrong(model, k, prompt, answer):
    """Instance k alone, token by token: is its greedy answer anything but ``answer <eos>``?"""
    from algolens.tasks.recursion.tokens import EOS_ID, SEP_ID, ids

    one = model.instance(k)
    seq = ids(prompt) + [SEP_ID]
    target = ids(answer) + [EOS_ID]
    for want in target:
        if len(seq) > one.cfg.n_ctx:
            return True
        nxt = int(one(torch.tensor([seq]))[0, -1].argmax())
        if nxt != want:
            return True
        seq.append(nxt)
    return False


def test_wrong_answers_agree_with_token_by_token_decoding(runs):
    from algolens.analysis.recursion.failures_run import wrong_answers
    from algolens.tasks.recursion.examples import sampled_examples
    from algolens.train.load import load_run_model

    store, builtin, _, _ = runs
    config, model = load_run_model(store, builtin)
    examples = sampled_examples(config, ("bin",), 40, seed=5)
    assert all(FUNCTIONS["successor"].fn(*x) == decode_bin(a) for x, _, a in examples)
    got = wrong_answers(model, examples, config.n_inst, batch=7)  # several batches
    want = [[_manual_wrong(model, k, p, a) for _, p, a in examples] for k in range(2)]
    assert got.tolist() == want


def decode_bin(tokens):
    from algolens.tasks.recursion.tokens import decode

    return decode(tokens, "bin")


def test_run_failures_scores_the_fresh_set_and_is_stored(runs):
    from algolens.analysis.recursion.failures_run import run_failures
    from algolens.tasks.recursion.examples import held_out_examples
    from algolens.train.load import load_run_dataset, load_run_model

    store, builtin, _, _ = runs
    out = run_failures(store, builtin, n=50, fit_seed=3, fresh_seed=4)
    config, model = load_run_model(store, builtin)
    ds = load_run_dataset(store, builtin)
    fit, fresh, _ = held_out_examples(config, ds, 50, 3, 4, "test", model.cfg.n_ctx + 1)
    assert not out["reused"] and (out["n_fit"], out["n_fresh"]) == (len(fit), len(fresh))
    assert 0 < out["n_fit"] + out["n_fresh"] + out["n_too_long"] <= 100  # distinct inputs only
    assert out["fresh_in_fit"] == out["fresh_in_train"] == 0.0
    for k, inst in enumerate(out["instances"]):
        wrong = [_manual_wrong(model, k, p, a) for _, p, a in fresh]
        assert inst["fresh"]["failures"] == sum(wrong)
        assert inst["fresh"]["n"] == len(fresh) and inst["rules"]
    again = run_failures(store, builtin, n=50, fit_seed=3, fresh_seed=4)
    assert again["reused"] and again["instances"] == out["instances"]
    assert not run_failures(store, builtin, n=50, fit_seed=3, fresh_seed=5)["reused"]


@pytest.mark.parametrize("split", ["test", "rare", "ood"])
def test_fresh_inputs_are_neither_training_nor_fit_inputs(runs, split):
    from algolens.tasks.recursion.examples import held_out_examples, sampled_examples
    from algolens.train.load import load_run_dataset, load_run_model

    store, builtin, _, _ = runs
    config, model = load_run_model(store, builtin)
    ds = load_run_dataset(store, builtin)
    train = {tuple(x) for x in ds.splits["train"].inputs}
    fit, fresh, too_long = held_out_examples(config, ds, 300, 1, 2, split, model.cfg.n_ctx + 1)
    fit_keys, fresh_keys = ({tuple(p) for _, p, _ in s} for s in (fit, fresh))
    assert fit and fresh and len(fit) + len(fresh) + too_long <= 600
    assert not fit_keys & train and not fresh_keys & train and not fit_keys & fresh_keys
    assert len(fit_keys) == len(fit) and len(fresh_keys) == len(fresh)  # each input once
    # the same draws without the exclusion hold training inputs: the check above can fail
    plain = sampled_examples(config, ds.arg_kinds, 600, 1, split)
    if split != "ood":  # ood sizes are never trained on
        assert {tuple(p) for _, p, _ in plain} & train
    # every example's answer is the built-in's, and fresh holds every draw of its inputs
    assert all(FUNCTIONS["successor"].fn(*x) == decode_bin(a) for x, _, a in fit + fresh)


def test_too_few_held_out_inputs_is_a_config_error():
    from types import SimpleNamespace

    from algolens.tasks.recursion.examples import held_out_examples
    from algolens.tasks.recursion.tokens import encode
    from algolens.tasks.recursion.values import from_int
    from tests.tasks.test_recursion_training import tiny

    config = tiny(recursion={"min_size": 2, "max_size": 2, "n_train": 8, "n_test": 1})
    every = [encode(from_int(v, 2)) for v in range(4)]  # all four 2-bit numbers
    for held in (every, every[:3]):  # no held-out input; one held-out input
        ds = SimpleNamespace(arg_kinds=("bin",), splits={"train": SimpleNamespace(inputs=held)})
        with pytest.raises(ConfigError, match="two are needed") as info:
            held_out_examples(config, ds, 20, 1, 2, "test", 64)
        assert "\n" not in str(info.value)
    ds = SimpleNamespace(arg_kinds=("bin",), splits={"train": SimpleNamespace(inputs=every[:2])})
    fit, fresh, _ = held_out_examples(config, ds, 20, 1, 2, "test", 64)
    assert {tuple(p) for _, p, _ in fit} | {tuple(p) for _, p, _ in fresh} == {
        tuple(x) for x in every[2:]
    }


def test_user_run_uses_the_stored_splits(runs):
    from algolens.analysis.recursion.failures_run import run_failures
    from algolens.train.load import load_run_dataset

    store, _, user, _ = runs
    out = run_failures(store, user)
    ds = load_run_dataset(store, user)
    assert out["n_fit"] == len(ds.splits["train"].inputs)
    assert out["n_fresh"] == len(ds.splits["test"].inputs)
    assert "stored dataset" in out["inputs"] and out["fresh_in_train"] == 0.0


def test_cli_prints_rules_and_json(runs, run_cli):
    import json

    store, builtin, _, _ = runs
    base = ("analyze", builtin, "--method", "failures", "--store", str(store.root))
    code, out, err = run_cli(*base, "--instance", "1", "--json")
    assert code == 0, err
    got = json.loads(out)["runs"][0]
    assert [i["instance"] for i in got["instances"]] == [1]
    assert {"recall", "precision", "failure_rate"} <= set(got["instances"][0]["fresh"])
    code, out, err = run_cli(*base)
    assert code == 0, err
    assert "recall" in out and "precision" in out and "instance 1 rules:" in out
    code, out, err = run_cli(*base, "--inputs", "ood", "--json")
    assert code == 0, err
    ood = json.loads(out)["runs"][0]
    assert "like the ood split" in ood["inputs"]
    # ood draws longer than every stored example do not fit the model: left out and counted
    assert ood["n_too_long"] > 0 and ood["n_fit"] + ood["n_fresh"] <= 4000 - ood["n_too_long"]
    code, out, err = run_cli("analyze", builtin, "--inputs", "ood", "--store", str(store.root))
    assert code == 2 and "--inputs belongs to --method failures" in err


@pytest.mark.parametrize(
    "which, extra, fragment",
    [
        ("comp", [], "needs a recursion run"),
        ("builtin", ["--instance", "2"], "--instance must lie in 0..1"),
        ("builtin", ["--tally"], "belong to --method irreps"),
        ("builtin", ["--inputs", "train"], "--inputs 'train' is unknown"),
        ("user", ["--inputs", "rare"], "leave out --inputs"),
    ],
)
def test_bad_input_is_one_line_exit_2(runs, run_cli, which, extra, fragment):
    store, builtin, user, comp = runs
    run = {"comp": comp, "builtin": builtin, "user": user}[which]
    before = sorted(p.name for p in store.root.rglob("*"))
    code, out, err = run_cli(
        "analyze", run, "--method", "failures", "--store", str(store.root), *extra
    )
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in store.root.rglob("*")) == before

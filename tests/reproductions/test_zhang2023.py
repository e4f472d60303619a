"""`reproduce zhang2023`: claim rules on hand-made results, and the protocol end to end at tiny
scale (the protocol monkeypatched to two functions, a tiny model and a few epochs)."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from algolens.reproductions import zhang2023 as rec
from algolens.reproductions import zhang2023_claims as zc
from algolens.reproductions import zhang2023_measure as zm
from algolens.reproductions import zhang2023_shortcut as sc
from algolens.reproductions import zhang2023_trained as zt
from algolens.store import RunStore
from algolens.tasks.recursion import from_bits
from algolens.tasks.recursion.features import input_features


def result(function="successor", test=0.99, rare=0.6, recall=0.95, failures=40, shortcut=None,
           paper_shortcut=None, all_ones=None):  # fmt: skip
    hits = None if recall is None else round(recall * failures)
    fail = {"n_fresh": 900, "n_fit": 950, "failures": failures, "predicted": hits or 0,
            "hits": hits or 0, "recall": recall, "precision": 1.0 if hits else None,
            "rules": ["all_ones <= 0 → right", "all_ones >= 1 → wrong"],
            "fresh_in_fit": 0.0, "fresh_in_train": 0.0}  # fmt: skip
    acc = {"train": 1.0, "test": test, "rare": rare, "ood": 0.0}
    sizes = {"train": 2000, "test": 500, "rare": 300, "ood": 500}
    return zc.FunctionResult(function, acc, sizes, fail, shortcut, paper_shortcut, all_ones)


def test_accuracy_claims_compare_rare_with_test():
    a = zc.accuracy_claims(result(test=0.99, rare=0.6), 1)
    assert a[0].agree is None and a[0].kind == "context" and "rare 60.0 % (n=300)" in a[0].ours
    assert a[1].agree is True and a[1].kind == "paper"
    assert zc.accuracy_claims(result(test=0.6, rare=0.99), 1)[1].agree is False
    assert zc.accuracy_claims(result(rare=None), 1)[1].agree is None  # empty rare split
    # a gap too small for the sample is not evidence of clustering: 97 % vs 98 % on 300 vs 500
    assert zc.accuracy_claims(result(test=0.98, rare=0.97), 1)[1].agree is False


def test_clustering_is_context_for_functions_the_paper_does_not_study():
    for function in ("predecessor", "mirror"):
        row = zc.accuracy_claims(result(function, test=0.99, rare=0.6), 1)[1]
        assert row.kind == "context" and row.agree is None and row.paper == "-"


def test_one_sided_fisher_matches_brute_force():
    from math import comb

    def p_less(a, n_a, b, n_b):  # P(X ≤ a), X hypergeometric with the table's margins
        k, n = a + b, n_a + n_b
        return sum(comb(n_a, x) * comb(n_b, k - x) for x in range(0, a + 1)) / comb(n, k)

    for a, n_a, b, n_b in [(20, 30, 28, 30), (5, 10, 6, 10), (0, 5, 5, 5)]:
        agree, how = zc.fewer_correct(a, n_a, b, n_b)
        p = p_less(a, n_a, b, n_b)
        assert agree == (p < 0.05) and f"p = {p:.2g}" in how


def test_learned_rules_are_context_for_every_function():
    for function in ("successor", "inorder"):
        c = zc.failure_claim(result(function, recall=0.5))
        assert c.agree is None and c.kind == "context" and "recall 50.0 % (20 of 40" in c.ours


def six_bit_rare_tail():
    """Every 6-bit number with three or more trailing B1 (LSB first): run 3 -> 4 numbers, run 4
    -> 2, run 5 -> 1, run 6 (all ones) -> 1."""
    xs = [from_bits(bs) for bs in itertools.product((0, 1), repeat=6)]
    return [input_features((x,)) for x in xs if input_features((x,))["trailing_ones"] >= 3]


def test_paper_shortcut_predicts_which_inputs_fail_by_hand():
    feats = six_bit_rare_tail()
    assert len(feats) == 8
    # a model that fails exactly where the trailing run is >= 5: the fitted k is 5
    limit = [f["trailing_ones"] >= 5 for f in feats]
    assert sc.fit_shortcut_k(feats, limit) == 5
    # fresh: the same limit plus one failure the shortcut cannot see (B1 B1 B1 B0 B0 B0):
    # 3 failures, 2 predicted and both wrong -> recall 2/3, precision 1
    odd = [f["trailing_ones"] == 3 and f["ones"] == 3 for f in feats]
    assert sum(odd) == 1
    fresh_wrong = [a or b for a, b in zip(limit, odd)]
    out = sc.paper_shortcut_scores((feats, [limit]), (feats, [fresh_wrong]))
    assert out["k"] == [5] and (out["failures"], out["predicted"], out["hits"]) == (3, 2, 2)
    assert out["failing_inputs"] == 3
    assert out["recall"] == pytest.approx(2 / 3) and out["precision"] == 1.0 and out["n"] == 8
    # two seeds pool: a second model failing only on all ones gets k = 7 (only all ones)
    only_ones = [bool(f["all_ones"]) for f in feats]
    both = sc.paper_shortcut_scores((feats, [limit, only_ones]), (feats, [fresh_wrong, only_ones]))
    assert both["k"] == [5, 7] and (both["failures"], both["hits"], both["n"]) == (4, 3, 16)
    assert both["failing_inputs"] == 3  # the all-ones input fails for both seeds: counted once
    # the shortcut always fails on all ones, whatever k
    assert sc.shortcut_fails({"all_ones": True, "trailing_ones": 0}, 99)


def test_paper_shortcut_claim_needs_the_recall_and_a_real_separation():
    def claim(fails, pred, hits, n=400, distinct=None):
        s = {
            "k": [5],
            "n": n,
            "n_fresh": n,
            "failing_inputs": fails if distinct is None else distinct,
            "failures": fails,
            "predicted": pred,
            "hits": hits,
            "recall": hits / fails if fails else None,
            "precision": hits / pred if pred else None,
        }
        return zc.paper_shortcut_claim(result(shortcut=None, paper_shortcut=s))  # fmt: skip

    good = claim(60, 60, 57)  # 95 % recall, the predicted inputs fail 57/60 vs 3/340
    assert good.agree is True and good.kind == "paper" and "recall 95.0 % (57 of 60" in good.ours
    assert claim(60, 60, 42).agree is False  # 70 % recall rejects 91 %
    assert claim(60, 400, 60).agree is None  # "every input fails": nothing to separate
    assert claim(60, 0, 0).agree is False  # predicts nothing: recall 0
    few = claim(8, 8, 8)
    # P(X <= 5 | n=8, p=0.91) = 0.029 < 0.05 <= P(X <= 6) = 0.16: the reach at 8 failures
    assert few.agree is None and "too few" in few.ours and "only at ≤ 5 hits" in few.ours
    # 60 failing answers but only 20 distinct inputs (three seeds failing on the same ones): n/a
    shared = claim(60, 60, 57, distinct=20)
    assert shared.agree is None and "20 distinct failing inputs are too few (need 50" in shared.ours
    assert zc.paper_shortcut_claim(result()) is None  # not successor


def test_all_ones_claim_by_hand():
    feats = six_bit_rare_tail()  # one all-ones input among 8
    wrong = [[bool(f["all_ones"]) for f in feats]] * 3  # three seeds, each wrong only there
    counts = sc.all_ones_counts(feats, wrong)
    assert counts == {"inputs": 1, "n": 3, "correct": 0, "other_n": 21, "other_correct": 21}
    c = zc.all_ones_claim(result(all_ones=counts))
    # one-sided Fisher: P(0 of the 3 all-ones answers right | 21 of 24 right) = 1 / C(24, 3)
    assert c.agree is True and f"p = {1 / math.comb(24, 3):.2g}" in c.ours
    same = sc.all_ones_counts(feats, [[False] * 8])
    assert zc.all_ones_claim(result(all_ones=same)).agree is False
    none = {"inputs": 0, "n": 0, "correct": 0, "other_n": 5, "other_correct": 5}
    assert zc.all_ones_claim(result(all_ones=none)).agree is None


def test_recall_test_matches_the_binomial_tail():
    from math import comb

    def tail(k, n, p=0.91):
        return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))

    for hits in range(40, 61):
        assert zc.recall_agrees(hits, 60) == (tail(hits, 60) >= 0.05)
    assert zc.recall_agrees(49, 49) is None  # below MIN_FAILURES: too few to test


def test_shortcut_hypothesis_rows_are_context():
    best = {"name": "carry through at most 9 bits", "match": 0.99, "match_right": 1.0,
            "match_wrong": 0.95, "n_right": 90, "n_wrong": 10}  # fmt: skip
    rows = zc.shortcut_claims(result(shortcut={"n": 100, "best": best, "attention": ["x"]}))
    assert [r.kind for r in rows] == ["context", "context"] and "95.0 % of wrong" in rows[0].ours
    assert zc.shortcut_claims(result()) == []


def test_reach_is_the_first_significant_count():
    # 40 of 50 against k of 50: the first k with one-sided Fisher p < 0.05, found by brute force
    first = next(k for k in range(51) if zc.fewer_correct(40, 50, k, 50)[0])
    assert zc.significant_from(40, 50, 50) == first and 40 < first <= 50
    assert zc.significant_from(81, 83, 83) is None  # 2 of 166 wrong: P = 0.25 at best
    assert zc.significant_from(0, 0, 10) is None


def test_oversampling_claim_counts_seeds_times_distinct_inputs():
    def eff(plain, over, n=50, seeds=2):
        total = n * seeds
        return {"n": n, "seeds": seeds, "plain_correct": plain, "over_correct": over,
                "plain": plain / total, "oversampled": over / total}  # fmt: skip

    assert zc.oversampling_claim(eff(50, 80)).agree is True
    assert zc.oversampling_claim(eff(80, 80)).agree is False
    # 80 vs 84 of 100: higher, but not significantly
    c = zc.oversampling_claim(eff(80, 84))
    assert c.agree is False and "(80 of 100)" in c.ours and "50 distinct" in c.ours
    # the same 50-vs-80 gap on one seed's 50 answers each is still significant, 40 vs 46 is not
    assert zc.oversampling_claim(eff(25, 40, seeds=1)).agree is True
    assert zc.oversampling_claim(eff(40, 46, seeds=1)).agree is False
    # 81 of 83 without: not even 83 of 83 with would be significant, so the row cannot judge
    weak = zc.oversampling_claim(eff(81, 82, n=83, seeds=1))
    assert weak.agree is None and "no power" in weak.ours
    empty = {"n": 0, "seeds": 0, "plain": None, "oversampled": None}
    assert zc.oversampling_claim(empty).agree is None


def rare_tail(n_bits):
    """Every number of exactly ``n_bits`` bits ending in a ``B1`` run of 3 or more (LSB first)."""
    xs = [from_bits([1, 1, 1, *bs]) for bs in itertools.product((0, 1), repeat=n_bits - 3)]
    return [input_features((x,)) for x in xs]


def test_paper_shortcut_row_is_judgeable_with_standard_numbers_not_quick_ones():
    """The same model behaviour (three seeds failing exactly from a trailing run of 8) on every
    rare-tail number of 10 bits (quick's longest) leaves 4 distinct failing inputs: n/a; on
    14-bit numbers 64 fail (32 + 16 + 8 + 4 + 2 + 1 + the all-ones one): judged, and it agrees."""

    def row(n_bits):
        feats = rare_tail(n_bits)
        wrong = [[f["trailing_ones"] >= 8 for f in feats]] * 3
        scores = sc.paper_shortcut_scores((feats, wrong), (feats, wrong))
        return scores, zc.paper_shortcut_claim(result(paper_shortcut=scores))

    quick, quick_row = row(10)
    assert (quick["failing_inputs"], quick["failures"], quick["k"]) == (4, 12, [8, 8, 8])
    assert quick_row.agree is None and "4 distinct failing inputs are too few" in quick_row.ours
    standard, standard_row = row(14)
    assert (standard["failing_inputs"], standard["failures"], standard["hits"]) == (64, 192, 192)
    assert standard_row.agree is True and "binomial p = 1" in standard_row.ours


def test_oversampling_row_is_judgeable_at_standard_sample_not_quick():
    """Quick's 81 vs 83 of 83 (one seed) cannot be significant; the same error rates on the
    standard protocol's sample (about 358 fresh distinct inputs × 3 seeds) are."""

    def eff(plain, over, n, seeds):
        total = n * seeds
        return {"n": n, "seeds": seeds, "plain_correct": plain, "over_correct": over,
                "plain": plain / total, "oversampled": over / total}  # fmt: skip

    assert zc.oversampling_claim(eff(81, 83, 83, 1)).agree is None
    # 97.6 % vs 100 % of 1074 answers: one-sided Fisher p = 2^-26-ish, far below 0.05
    row = zc.oversampling_claim(eff(1048, 1074, 358, 3))
    assert row.agree is True and "(1048 of 1074) without" in row.ours


def test_fitted_check_reads_each_runs_lowest_seed():
    def t(train_min):
        return {"train_min": train_min}

    ok = zt.fitted_claim({"successor": t(1.0), "inorder": t(0.995)})
    assert ok.kind == "check" and ok.agree is True and "all 2 runs" in ok.ours
    low = zt.fitted_claim({"successor": t(1.0), "postorder": t(0.972), "mirror": t(None)})
    assert low.agree is False and low.ours == "below target: postorder 97.2 %, mirror n/a"


@pytest.fixture
def tiny(monkeypatch):
    small = rec.Protocol(
        functions=("successor", "inorder"), seeds=(0, 1), epochs=2, n_train=60, bin_max=7,
        tree_max=4, n_analysis=40,
        model_args={"n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32},
    )  # fmt: skip
    monkeypatch.setattr(rec, "PROTOCOLS", {"quick": small, "standard": small, "full": small})


def test_quick_end_to_end_at_tiny_scale(tiny, tmp_path, run_cli):
    doc = tmp_path / "zhang.md"
    store = tmp_path / "store"
    args = ("reproduce", "zhang2023", "--store", str(store), "--doc", str(doc), "--json")
    code, out, err = run_cli(*args)
    assert code == 0, err
    claims = json.loads(out)
    names = [c["claim"] for c in claims]
    for function in ("successor", "inorder"):
        assert any(n.startswith(f"{function}: greedy exact-match") for n in names)
        assert any(n.startswith(f"{function}: learned failure rules") for n in names)
        assert any(n.startswith(f"{function}: the best shortcut hypothesis") for n in names)
    assert any(n.startswith("successor: the paper's shortcut") for n in names)
    assert any(n.startswith("successor: all-ones inputs") for n in names)
    rec_row = next(c for c in claims if c["claim"].startswith("inorder: shortcut, not recursion"))
    assert rec_row["kind"] == "paper"
    assert "left_spine in the upper half of its size" in rec_row["ours"]
    assert any("oversampling" in n for n in names) and names[-1] == "protocol"
    # every figure comes from the runs: the accuracy claim quotes the stored summaries
    st = RunStore(store)
    runs = st.list()
    assert len(runs) == 3 and all(r.status == "completed" for r in runs)
    over = [r for r in runs if r.config["recursion"]["oversample"] > 0]
    assert len(over) == 1 and over[0].config["function"] == "successor"
    succ = next(r for r in runs if r.config["function"] == "successor" and r not in over)
    acc, _ = zm.split_accuracy(st, succ.id)
    first = next(c for c in claims if c["claim"].startswith("successor: greedy"))
    assert f"test {100 * acc['test']:.1f} %" in first["ours"]
    text = doc.read_text()
    assert text.startswith("# Reproduction: Zhang") and "| claim | paper | ours | agree |" in text
    assert {c["kind"] for c in claims} == {"paper", "check", "context"}
    # the protocol row reads what each stored run trained: 2 epochs of the fixed settings
    protocol = next(c for c in claims if c["claim"] == "protocol")["ours"]
    assert protocol.startswith(
        "successor: 2 seed(s), 1-7 bits, 60 training draws, fixed settings, no early stop, "
        "2 of 2 epochs; inorder: 2 seed(s), 1-4 nodes"
    )
    # a second call reuses every run (nothing retrained)
    code, out2, err = run_cli(*args)
    assert code == 0, err
    assert len(RunStore(store).list()) == 3 and "reusing run" in err
    assert json.loads(out2) == claims


def test_standard_protocol_configs():
    """Standard: the paper's functions, 3 seeds, numbers of 1-20 bits, the recursion preset
    (AdamW, cosine, early stop on validation exact match) capped at 60 epochs for numbers and 40
    for trees; quick keeps its fixed settings."""
    succ = rec.run_config(rec.STANDARD, "successor")
    assert (succ.recipe, succ.seeds, succ.epochs, succ.lr, succ.schedule) == (
        "recursion", [0, 1, 2], 60, 3e-3, "cosine")  # fmt: skip
    assert rec.STANDARD.functions == ("successor", "preorder", "inorder", "postorder")
    assert succ.early_stop and succ.exact_stop is not None and succ.exact_stop.threshold == 0.99
    r = succ.recursion
    assert (r.max_size, r.ood_max_size, r.n_train, r.oversample) == (20, 24, 10_000, 0.0)
    tree = rec.run_config(rec.STANDARD, "postorder")
    assert (tree.recursion.max_size, tree.recursion.n_train, tree.epochs) == (7, 6000, 40)
    assert tree.recipe == "recursion" and tree.exact_stop is not None
    assert rec.run_config(rec.STANDARD, "successor", 0.25, epochs_cap=3).epochs == 3
    quick = rec.run_config(rec.QUICK, "successor")
    assert quick.recipe is None and not quick.early_stop and quick.exact_stop is None
    assert quick.epochs == 40 and quick.seeds == [0]


def test_standard_dispatch_trains_the_protocol(monkeypatch, tmp_path, run_cli):
    """``--standard`` trains the standard protocol's runs (shrunk here, its preset kept) and the
    claims read the runs: seeds, sizes, recipe and the epochs actually trained."""
    from algolens.cli import reproduce as reproduce_cli
    from algolens.reproductions.claims import Scale

    small = rec.Protocol(
        functions=("successor",), seeds=(0, 1, 2), epochs=120, n_train=60, bin_max=7,
        tree_max=4, n_analysis=20, recipe="recursion",
        model_args={"n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32},
    )  # fmt: skip
    monkeypatch.setitem(rec.PROTOCOLS, "standard", small)
    monkeypatch.setattr(reproduce_cli, "Scale", lambda mode: Scale(mode, epochs_cap=2))
    code, out, err = run_cli("reproduce", "zhang2023", "--standard", "--store", str(tmp_path),
                             "--json")  # fmt: skip
    assert code == 0, err
    runs = RunStore(tmp_path).list()
    got = sorted((r.config["function"], r.config["recursion"]["oversample"]) for r in runs)
    assert got == [("successor", 0.0), ("successor", 0.25)]
    for r in runs:
        assert r.config["recipe"] == "recursion" and r.config["seeds"] == [0, 1, 2]
        assert r.config["exact_stop"]["threshold"] == 0.99 and r.config["epochs"] == 2
        assert r.summary["epochs"] <= 2
    claims = json.loads(out)
    acc = next(c for c in claims if c["claim"].startswith("successor: greedy exact-match"))
    assert "mean of 3 seeds" in acc["claim"]
    protocol = next(c for c in claims if c["claim"] == "protocol")["ours"]
    succ = next(r for r in runs if r.config["function"] == "successor"
                and r.config["recursion"]["oversample"] == 0)  # fmt: skip
    assert protocol.startswith(
        f"successor: 3 seed(s), 1-7 bits, 60 training draws, recipe recursion, "
        f"{succ.summary['epochs']} of 2 epochs"
    )

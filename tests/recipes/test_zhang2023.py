"""`reproduce zhang2023`: claim rules on hand-made results, and the protocol end to end at tiny
scale (the protocol monkeypatched to two functions, a tiny model and a few epochs)."""

from __future__ import annotations

import json

import pytest

from algolens.recipes import zhang2023 as rec
from algolens.store import RunStore


def result(function="successor", test=0.99, rare=0.6, recall=0.95, failures=40, shortcut=None):
    hits = None if recall is None else round(recall * failures)
    fail = {"n_fresh": 900, "n_fit": 950, "failures": failures, "predicted": hits or 0,
            "hits": hits or 0, "recall": recall, "precision": 1.0 if hits else None,
            "rules": ["all_ones <= 0 → right", "all_ones >= 1 → wrong"],
            "fresh_in_fit": 0.0, "fresh_in_train": 0.0}  # fmt: skip
    acc = {"train": 1.0, "test": test, "rare": rare, "ood": 0.0}
    sizes = {"train": 2000, "test": 500, "rare": 300, "ood": 500}
    return rec.FunctionResult(function, acc, sizes, fail, shortcut)


def test_accuracy_claims_compare_rare_with_test():
    a = rec.accuracy_claims(result(test=0.99, rare=0.6), 1)
    assert a[0].agree is None and a[0].kind == "context" and "rare 60.0 % (n=300)" in a[0].ours
    assert a[1].agree is True and a[1].kind == "paper"
    assert rec.accuracy_claims(result(test=0.6, rare=0.99), 1)[1].agree is False
    assert rec.accuracy_claims(result(rare=None), 1)[1].agree is None  # empty rare split
    # a gap too small for the sample is not evidence of clustering: 97 % vs 98 % on 300 vs 500
    assert rec.accuracy_claims(result(test=0.98, rare=0.97), 1)[1].agree is False


def test_clustering_is_context_for_functions_the_paper_does_not_study():
    for function in ("predecessor", "mirror"):
        row = rec.accuracy_claims(result(function, test=0.99, rare=0.6), 1)[1]
        assert row.kind == "context" and row.agree is None and row.paper == "-"


def test_one_sided_fisher_matches_brute_force():
    from math import comb

    def p_less(a, n_a, b, n_b):  # P(X ≤ a), X hypergeometric with the table's margins
        k, n = a + b, n_a + n_b
        return sum(comb(n_a, x) * comb(n_b, k - x) for x in range(0, a + 1)) / comb(n, k)

    for a, n_a, b, n_b in [(20, 30, 28, 30), (5, 10, 6, 10), (0, 5, 5, 5)]:
        agree, how = rec.fewer_correct(a, n_a, b, n_b)
        p = p_less(a, n_a, b, n_b)
        assert agree == (p < 0.05) and f"p = {p:.2g}" in how


def test_failure_claim_compares_only_successor_with_91_percent():
    assert rec.failure_claim(result(recall=0.95)).agree is True
    # 36 of 40 (90 %) is consistent with 91 %; 28 of 40 (70 %) is not
    assert rec.failure_claim(result(recall=0.9)).agree is True
    assert rec.failure_claim(result(recall=0.7)).agree is False
    few = rec.failure_claim(result(recall=5 / 8, failures=8))  # the quick run's 5 of 8
    assert few.agree is None and "too few" in few.ours
    c = rec.failure_claim(result(recall=None, failures=0))
    assert c.agree is None and "0 of 0 failures" in c.ours
    other = rec.failure_claim(result("inorder", recall=0.5))
    assert other.agree is None and other.kind == "context" and "recall 50.0 %" in other.ours


def test_recall_test_matches_the_binomial_tail():
    from math import comb

    def tail(k, n, p=0.91):
        return sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))

    for hits in range(25, 41):
        assert rec.recall_agrees(hits, 40) == (tail(hits, 40) >= 0.05)


def test_shortcut_claim_needs_a_non_exact_hypothesis_matching_the_wrong_answers():
    def sc(name, wrong):
        best = {"name": name, "match": 0.99, "match_right": 1.0, "match_wrong": wrong,
                "n_right": 90, "n_wrong": 10}  # fmt: skip
        return result(shortcut={"n": 100, "best": best, "attention": ["answer token 0: x"]})

    assert rec.shortcut_claims(sc("carry through at most 9 bits", 0.95))[0].agree is True
    assert rec.shortcut_claims(sc("carry through at most 9 bits", 0.5))[0].agree is False
    assert rec.shortcut_claims(sc("exact successor", 1.0))[0].agree is False
    assert rec.shortcut_claims(sc("carry through at most 9 bits", None))[0].agree is None
    assert rec.shortcut_claims(result()) == []
    other = sc("inorder down to depth 2, then prompt order", 1.0)
    other = rec.FunctionResult("inorder", other.accuracy, other.split_sizes, other.failures,
                               other.shortcut)  # fmt: skip
    c = rec.shortcut_claims(other)
    assert c[0].agree is None and c[0].kind == "context" and "depth 2" in c[0].ours


def test_oversampling_claim():
    assert rec.oversampling_claim({"n": 50, "plain": 0.5, "oversampled": 0.8}).agree is True
    assert rec.oversampling_claim({"n": 50, "plain": 0.8, "oversampled": 0.8}).agree is False
    # higher, but not significantly on 50 draws: 80 % vs 84 %
    assert rec.oversampling_claim({"n": 50, "plain": 0.8, "oversampled": 0.84}).agree is False
    assert rec.oversampling_claim({"n": 0, "plain": None, "oversampled": None}).agree is None


def test_pooled_failures_sum_over_instances():
    inst = [{"fresh": {"failures": 3, "hits": 3, "predicted": 4}, "rules": ["a"]},
            {"fresh": {"failures": 1, "hits": 0, "predicted": 0}, "rules": ["b"]}]  # fmt: skip
    out = rec.pooled_failures({"instances": inst, "n_fresh": 10, "n_fit": 12,
                               "fresh_in_fit": 0.0, "fresh_in_train": 0.0})  # fmt: skip
    assert (out["recall"], out["precision"], out["rules"]) == (0.75, 0.75, ["a"])


@pytest.fixture
def tiny(monkeypatch):
    small = rec.Protocol(
        functions=("successor", "inorder"), seeds=(0, 1), epochs=2, n_train=60, bin_max=5,
        tree_max=4, n_analysis=40,
        model_args={"n_layers": 1, "d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32},
    )  # fmt: skip
    monkeypatch.setattr(rec, "PROTOCOLS", {"quick": small, "full": small})


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
        assert any(n.startswith(f"{function}: failure prediction") for n in names)
        assert any(n.startswith(f"{function}: a reconstructed shortcut") for n in names)
    assert any("oversampling" in n for n in names) and names[-1] == "protocol"
    # every figure comes from the runs: the accuracy claim quotes the stored summaries
    st = RunStore(store)
    runs = st.list()
    assert len(runs) == 3 and all(r.status == "completed" for r in runs)
    over = [r for r in runs if r.config["recursion"]["oversample"] > 0]
    assert len(over) == 1 and over[0].config["function"] == "successor"
    succ = next(r for r in runs if r.config["function"] == "successor" and r not in over)
    acc, _ = rec.split_accuracy(st, succ.id)
    first = next(c for c in claims if c["claim"].startswith("successor: greedy"))
    assert f"test {100 * acc['test']:.1f} %" in first["ours"]
    text = doc.read_text()
    assert text.startswith("# Reproduction: Zhang") and "| claim | paper | ours | agree |" in text
    assert {c["kind"] for c in claims} == {"paper", "context"}
    # a second call reuses every run (nothing retrained)
    code, out2, err = run_cli(*args)
    assert code == 0, err
    assert len(RunStore(store).list()) == 3 and "reusing run" in err
    assert json.loads(out2) == claims

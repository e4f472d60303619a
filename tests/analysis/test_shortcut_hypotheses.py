"""Shortcut hypotheses beyond successor and from user files: the built-in families checked against
integer arithmetic and hand-worked trees, a "model" that is a traversal shortcut ranked first, and
``--hypothesis FILE.py:NAME`` scored, with bad files refused in one line (exit 2, nothing
written)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algolens.analysis.recursion.shortcut_hypotheses import (
    borrow_limited,
    builtin_hypotheses,
    mirror_limited,
    traversal_limited,
)
from algolens.analysis.recursion.shortcuts import score_hypotheses
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.sampling import Sampling, sample_values
from algolens.tasks.recursion.tokens import encode, ids
from algolens.tasks.recursion.values import Leaf, Node, bits, depth, from_int, to_int

L = Leaf()


def test_borrow_limited_is_predecessor_within_reach_by_brute_force():
    for width in range(1, 8):
        for v in range(2**width):
            n = from_int(v, width)
            run = next((i for i, b in enumerate(bits(n)) if b == 1), width)  # trailing zeros
            for k in range(width + 1):
                got = to_int(borrow_limited(k)(n))
                assert len(bits(borrow_limited(k)(n))) == width
                if run <= k:  # the borrow finds its 1 (or the end of a zero) within reach
                    assert got == max(v - 1, 0)
                else:  # bits 0..k-1 set, bit k cleared (it was 0 already); a long zero too
                    assert got == v | ((1 << k) - 1)


# A hand-worked tree: root 1 with left child 2 (whose left child is 4) and right child 3.
#        1
#      2   3
#     4
T = Node(1, Node(2, Node(4, L, L), L), Node(3, L, L))


def test_traversal_limited_on_a_hand_worked_tree():
    assert FUNCTIONS["inorder"].fn(T) == [4, 2, 1, 3]
    assert traversal_limited("inorder", 0)(T) == [1, 2, 4, 3]  # prompt order
    assert traversal_limited("inorder", 1)(T) == [2, 4, 1, 3]  # subtree 2 copied as 2 4
    assert traversal_limited("inorder", 2)(T) == [4, 2, 1, 3]
    assert traversal_limited("postorder", 1)(T) == [2, 4, 3, 1]
    assert FUNCTIONS["postorder"].fn(T) == [4, 2, 3, 1]
    assert mirror_limited(0)(T) == T
    assert mirror_limited(1)(T) == Node(1, Node(3, L, L), Node(2, Node(4, L, L), L))
    assert mirror_limited(3)(T) == FUNCTIONS["mirror"].fn(T)


def test_limited_families_reach_the_exact_functions_at_full_depth():
    rng = np.random.default_rng(0)
    for t in sample_values(Sampling(1, 9), "tree", 200, rng):
        d = depth(t)
        for name in ("inorder", "postorder"):
            assert traversal_limited(name, d)(t) == FUNCTIONS[name].fn(t)
        assert mirror_limited(d)(t) == FUNCTIONS["mirror"].fn(t)
    for v in range(64):
        n = from_int(v, 6)
        assert borrow_limited(6)(n) == FUNCTIONS["predecessor"].fn(n)


@pytest.mark.parametrize("function", ["predecessor", "preorder", "inorder", "postorder", "mirror"])
def test_every_builtin_function_has_hypotheses_and_its_exact_one(function):
    hyps = builtin_hypotheses(function, 5)
    assert len(hyps) >= 3 and hyps[f"exact {function}"] is FUNCTIONS[function].fn


def test_a_model_that_is_a_traversal_shortcut_ranks_it_first():
    model = traversal_limited("inorder", 1)
    xs = [(t,) for t in sample_values(Sampling(2, 7), "tree", 300, np.random.default_rng(1))]
    out = [tuple(ids(encode(model(*x)))) for x in xs]
    right = [model(*x) == FUNCTIONS["inorder"].fn(*x) for x in xs]
    assert 0 < sum(right) < len(right)
    got = score_hypotheses(builtin_hypotheses("inorder", 7), xs, out, right)
    assert got[0]["name"] == "inorder down to depth 1, then prompt order"
    assert got[0]["match"] == got[0]["match_wrong"] == 1.0
    exact = next(h for h in got if h["name"] == "exact inorder")
    assert exact["match_wrong"] == 0.0


# ---- user hypothesis files through the CLI -------------------------------------------------

CARRY3 = """
from algolens.tasks.recursion import B0, B1, Z, Bin

def carry3(n: Bin) -> Bin:
    # successor whose carry stops after 3 bits, written by hand with pattern matching
    return _carry(n, 0)

def _carry(n, k):
    match n:
        case Z():
            return B1(Z())
        case B0(m):
            return B1(m)
        case B1(m):
            return B0(_carry(m, k + 1)) if k < 2 else B0(_set(m))
    return n

def _set(m):
    match m:
        case Z():
            return B1(Z())
        case B0(r) | B1(r):
            return B1(r)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from algolens.store import RunStore
    from algolens.train.run import start_run
    from tests.tasks.test_recursion_training import tiny

    tmp = tmp_path_factory.mktemp("hyp")
    store = RunStore(tmp / "store")
    return tmp, store, start_run(tiny(epochs=2), store)["run_id"]


def test_carry3_file_is_the_builtin_carry_limited_3():
    from algolens.analysis.recursion.shortcut_hypotheses import carry_limited

    ns: dict = {}
    exec(CARRY3, ns)  # noqa: S102  (our own test text)
    for width in range(1, 7):
        for v in range(2**width):
            n = from_int(v, width)
            assert ns["carry3"](n) == carry_limited(3)(n), (v, width)


def test_user_hypothesis_is_scored_beside_the_builtins(run, run_cli):
    tmp, store, run_id = run
    f = tmp / "carry3.py"
    f.write_text(CARRY3)
    base = ("analyze", run_id, "--method", "shortcuts", "--store", str(store.root), "--json")
    code, out, err = run_cli(*base, "--hypothesis", f"{f}:carry3")
    assert code == 0, err
    inst = json.loads(out)["runs"][0]["instances"][0]
    by = {h["name"]: h for h in inst["hypotheses"]}
    mine, builtin = by[f"{f}:carry3"], by["carry through at most 3 bits"]
    assert {k: mine[k] for k in ("match", "match_right", "match_wrong")} == {
        k: builtin[k] for k in ("match", "match_right", "match_wrong")
    }
    f.write_text(CARRY3.replace("k < 2", "k < 1"))  # now carry through at most 2 bits
    code, out, err = run_cli(*base, "--hypothesis", f"{f}:carry3")
    got = json.loads(out)["runs"][0]
    assert code == 0 and not got["reused"]  # a changed file is scored again
    mine = next(h for h in got["instances"][0]["hypotheses"] if h["name"] == f"{f}:carry3")
    two = next(h for h in got["instances"][0]["hypotheses"] if "at most 2 bits" in h["name"])
    assert mine["match"] == two["match"]


@pytest.mark.parametrize(
    "text, name, fragment",
    [
        ("def h(n):\n    raise ValueError('no')\n", "h", "raised on input"),
        ("def h(n):\n    while True:\n        pass\n", "h", "ran over"),
        ("def h(n):\n    return 5\n", "h", "returned a wrong value"),
        ("from algolens.tasks.recursion import Tree\ndef h(t: Tree):\n    return t\n", "h",
         "takes (tree)"),
        ("def h(n):\n    return n\n", "nope", "has no function 'nope'"),
        ("import not_a_module_anywhere\n", "h", "loading"),
        ("import os\ndef h(n):\n    os._exit(0)\n", "h", "ended the worker process (exit code 0"),
    ],
)  # fmt: skip
def test_bad_hypothesis_files_are_one_line_exit_2(run, run_cli, text, name, fragment):
    tmp, store, run_id = run
    f = tmp / "bad.py"
    f.write_text(text)
    before = sorted(p.name for p in store.root.rglob("*"))
    code, out, err = run_cli(
        "analyze", run_id, "--method", "shortcuts", "--store", str(store.root), "--force",
        "--hypothesis", f"{f}:{name}",
    )  # fmt: skip
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in store.root.rglob("*")) == before


def test_a_printing_hypothesis_leaves_the_json_output_alone(run, run_cli):
    tmp, store, run_id = run
    f = tmp / "loud.py"
    f.write_text("def h(n):\n    print('{not json')\n    return n\n")
    code, out, err = run_cli(
        "analyze", run_id, "--method", "shortcuts", "--store", str(store.root), "--force",
        "--hypothesis", f"{f}:h", "--json",
    )  # fmt: skip
    assert code == 0, err
    names = [h["name"] for h in json.loads(out)["runs"][0]["instances"][0]["hypotheses"]]
    assert f"{f}:h" in names and "not json" not in err


def test_hypothesis_spec_and_method_errors(run, run_cli):
    tmp, store, run_id = run
    for extra, fragment in [
        (["--method", "shortcuts", "--hypothesis", "carry3"], "is not FILE.py:NAME"),
        (["--method", "failures", "--hypothesis", "x.py:h"], "--hypothesis belongs to"),
    ]:
        code, _, err = run_cli("analyze", run_id, "--store", str(store.root), *extra)
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err


def test_run_overcounted_by_hand():
    from algolens.analysis.recursion.shortcut_hypotheses import run_overcounted
    from algolens.tasks.recursion.tokens import parse

    def one(text):
        return parse(text, ("bin",))[0]

    f = run_overcounted(6)
    # a run of 7 ones, then B0 B1 B1: true B0x7 B1 B1 B1; one B0 too many: B0x8 B1 B1
    got = f(one("B1 B1 B1 B1 B1 B1 B1 B0 B1 B1 Z"))
    assert encode(got) == ["B0"] * 8 + ["B1", "B1", "Z"]
    x = one("B1 B1 B1 B0 B1 Z")  # a run of 3 < 6: the exact successor
    assert f(x) == FUNCTIONS["successor"].fn(x)
    assert to_int(run_overcounted(1)(one("B1 B0 B0 B1 Z"))) == 0b0100  # true 1010 -> 0100

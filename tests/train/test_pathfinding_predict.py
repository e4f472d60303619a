"""`algolens predict` on path-finding runs: the greedy path against token-by-token decoding of
one instance alone, chains, and one-line errors."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.store import RunStore
from algolens.tasks.pathfinding.tokens import Vocab, encode_prompt
from algolens.tasks.pathfinding.tree import parse_prompt
from tests.train.test_pathfinding_training import tiny


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from algolens.train.run import start_run

    store = RunStore(tmp_path_factory.mktemp("pf") / "s")
    return store, start_run(tiny(epochs=2), store)["run_id"]


def by_hand(model, tree, n, k):
    """Instance k alone, one token at a time, stopping at the goal or after N-1 tokens."""
    v = Vocab(n)
    m = model.instance(k)
    seq = encode_prompt(tree, v)
    path = [tree.root]
    for _ in range(n - 1):
        with torch.no_grad():
            t = int(m(torch.tensor([seq]))[0, -1].argmax())
        if not v.is_target(t):
            break
        seq.append(t)
        path.append(v.node_of(t))
        if path[-1] == tree.goal:
            break
    return "".join(f">{x}" for x in path[1:])


@pytest.mark.parametrize("text", ["2>0,2>1,1>3|3:2", "0>1,1>2,2>3|3:0", "3>2,2>1,1>0|0:3"])
@pytest.mark.parametrize("k", [0, 1])
def test_predict_is_the_instances_own_greedy_path(run, text, k):
    from algolens.train.load import load_run_model
    from algolens.train.predict import predict

    store, run_id = run
    out = predict(store, run_id, text, k)
    tree = parse_prompt(text, 4)
    _, model = load_run_model(store, run_id)
    assert out["prediction"].split(" ")[0] == by_hand(model, tree, 4, k)
    assert out["expected"] == "".join(f">{x}" for x in tree.path()[1:])
    assert out["correct"] == (out["prediction"] == out["expected"])


def test_cli_predict_json(run, run_cli):
    store, run_id = run
    code, out, err = run_cli(
        "predict", run_id, "0>1,1>2,2>3|3:0", "--store", str(store.root), "--json"
    )
    assert code == 0, err
    assert json.loads(out)["expected"] == ">1>2>3"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("0>1,1>2,2>0|2:0", "not a valid path-finding tree"),
        ("0>1,1>2|2:0", "2 edges, but a tree of 4 nodes has 3"),
        ("0>1,1>2,2>3|:0", "no goal"),
        ("0>1,1>2,2>7|7:0", "out of range"),
    ],
    ids=["cycle", "other-node-count", "no-goal", "range"],
)
def test_cli_predict_bad_prompts_are_one_line(run, run_cli, text, fragment):
    store, run_id = run
    code, out, err = run_cli("predict", run_id, text, "--store", str(store.root))
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and fragment in err

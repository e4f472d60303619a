"""`algolens predict RUN INPUT` on recursion runs: the answer written by greedy decoding, the truth
from the built-in or the stored dataset, and one-line errors."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.store import RunStore
from algolens.tasks.recursion.tokens import EOS_ID, SEP_ID, ids, tokens_of
from tests.tasks.test_recursion_training import builtin_and_user_runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    store = RunStore(tmp / "store")
    builtin, user = builtin_and_user_runs(store, tmp, builtin_epochs=2)
    return store, builtin, user


def _manual_greedy(store, run, text, k):
    """Token-by-token greedy decoding with instance k alone, written independently."""
    from algolens.train.load import load_run_model

    _, model = load_run_model(store, run)
    one = model.instance(k)
    seq = ids(text.split()) + [SEP_ID]
    out = []
    while len(seq) < one.cfg.n_ctx + 1:
        nxt = int(one(torch.tensor([seq]))[0, -1].argmax())
        if nxt == EOS_ID:
            return " ".join(tokens_of(out))
        out.append(nxt)
        seq.append(nxt)
    return " ".join(tokens_of(out)) + " (no <eos>)"


@pytest.mark.parametrize("k", [0, 1])
def test_prediction_is_the_instances_greedy_answer(runs, run_cli, k):
    store, builtin, _ = runs
    code, out, err = run_cli(
        "predict", builtin, "B1 B1 Z", "--instance", str(k), "--store", str(store.root), "--json"
    )
    assert code == 0, err
    got = json.loads(out)
    assert got["input"] == "B1 B1 Z" and got["expected"] == "B0 B0 B1 Z"
    assert got["prediction"] == _manual_greedy(store, builtin, "B1 B1 Z", k)
    assert got["correct"] == (got["prediction"] == "B0 B0 B1 Z")


def test_user_function_truth_comes_from_the_stored_dataset(runs, run_cli):
    from algolens.train.load import load_run_dataset

    store, _, user = runs
    ds = load_run_dataset(store, user)
    x, a = ds.splits["test"].inputs[0], ds.splits["test"].answers[0]
    code, out, err = run_cli("predict", user, " ".join(x), "--store", str(store.root), "--json")
    assert code == 0, err
    assert json.loads(out)["expected"] == " ".join(a)
    unseen = "B1 B0 B1 B0 B1 B0 B1 Z"  # 7 bits: longer than every stored input
    code, out, err = run_cli("predict", user, unseen, "--store", str(store.root), "--json")
    assert code == 0, err
    assert json.loads(out)["expected"] is None and json.loads(out)["correct"] is None


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["B1 B2 Z"], "token 1 is 'B2'"),
        (["B1 Z", "--instance", "2"], "--instance must lie in 0..1"),
        (["B1 " * 20 + "Z"], "this run's model reads at most"),
    ],
    ids=["token", "instance", "long"],
)
def test_bad_inputs_are_one_line(runs, run_cli, args, fragment):
    store, builtin, _ = runs
    code, _, err = run_cli("predict", builtin, *args, "--store", str(store.root))
    assert code == 2 and err.count("\n") == 1 and fragment in err

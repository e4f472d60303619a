"""`algolens predict RUN "a b"` on composition runs: the answer is the seed's argmax, the truth is
the group table, elements are read as labels (spaces allowed) or indices, bad input is one line."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.errors import SpecError
from algolens.store import RunStore
from algolens.train.predict import parse_pair, predict_composition
from tests.train.tiny_runs import C4_TABLE, train_tiny, write_table

# C4 written with labels that hold spaces: "r r r" reads as r·(r r) and as (r r)·r
LABELS = ["e", "r", "r r", "r r r"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from algolens.train.config import make_config
    from algolens.train.run import start_run

    tmp = tmp_path_factory.mktemp("comp_predict")
    store = RunStore(tmp / "store")
    spec = str(write_table(tmp / "c4.json", C4_TABLE, LABELS))
    mlp = train_tiny(store, spec)
    cfg = make_config("fast", group="S3", model="transformer", seeds=[0, 1], epochs=2)
    transformer = start_run(cfg, store)["run_id"]
    return store, mlp, transformer


@pytest.mark.parametrize("k", [0, 1])
def test_every_pair_is_the_seeds_argmax_beside_the_table(runs, k):
    from algolens.train.load import load_run_model

    store, mlp, _ = runs
    _, model = load_run_model(store, mlp)
    one = model.instance(k)
    for a in range(4):
        for b in range(4):
            got = predict_composition(store, mlp, f"{a} {b}", k)  # indices
            want_pred = int(one(torch.tensor([[a, b]]))[0].argmax())
            assert got["prediction"] == LABELS[want_pred]
            assert got["expected"] == LABELS[(a + b) % 4]  # C4 by hand
            assert got["correct"] == (want_pred == (a + b) % 4)
            assert got["input"] == f"{LABELS[a]} {LABELS[b]}"


def test_labels_with_spaces_and_the_cli(runs, run_cli):
    store, _, transformer = runs
    code, out, err = run_cli(
        "predict", transformer, "(0 1) (0 1 2)", "--instance", "1", "--store", str(store.root),
        "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    assert set(got) == {"input", "prediction", "expected", "correct", "weights", "epoch", "final"}
    assert got["weights"] == "final.safetensors" and got["final"] is True
    # (0 1)·(0 1 2) as functions, by hand: 0 -> 1 -> 0, 1 -> 2 -> 2, 2 -> 0 -> 1, i.e. (1 2)
    assert got["input"] == "(0 1) (0 1 2)" and got["expected"] == "(1 2)"
    assert got["correct"] == (got["prediction"] == "(1 2)")
    code, out, err = run_cli("predict", transformer, "2 3", "--store", str(store.root))
    assert code == 0, err
    assert "input      (0 1) (0 1 2)" in out and "expected   (1 2)" in out


def test_parse_pair_reads_labels_and_indices():
    assert parse_pair("r  r", LABELS) == (1, 1)  # extra spaces are one
    assert parse_pair("r r r 0", LABELS) == (3, 0)
    assert parse_pair("e 3", LABELS) == (0, 3)
    for text, fragment in [
        ("r r r", "more than one pair"),
        ("x e", "is not two elements"),
        ("e", "is not two elements"),
        ("4 e", "indices 0..3"),
    ]:
        with pytest.raises(SpecError, match=fragment):
            parse_pair(text, LABELS)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["(0 3) ()"], "is not two elements of this run's group"),
        (["r r r"], "more than one pair"),
        (["0 1", "--instance", "2"], "--instance must lie in 0..1"),
    ],
)
def test_bad_input_is_one_line_exit_2(runs, run_cli, args, fragment):
    store, mlp, transformer = runs
    run = transformer if "(0 3)" in args[0] else mlp
    code, out, err = run_cli("predict", run, *args, "--store", str(store.root))
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err

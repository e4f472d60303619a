"""Progress measures and universality tallies on hand-written metric dicts with known answers."""

from __future__ import annotations

import pytest

from algolens.analysis.composition.progress import followed_irreps, progress_measures, progress_rows
from algolens.analysis.composition.universality import compare_with_paper, tally
from algolens.papers.chughtai2023 import PAPER_S5_MLP


def row(epoch, sims, key, train_acc, test_acc, sq):
    return {
        "epoch": epoch,
        "similarity": {"trivial": 0.0, **sims},
        "key_irreps": key,
        "logit_fve": sum(v * v for v in sims.values()),
        "losses": {
            "train_loss": 1.0 - train_acc,
            "test_loss": 1.0 - test_acc,
            "train_acc": train_acc,
            "test_acc": test_acc,
            "restricted_loss": 0.5,
            "excluded_loss": 2.0,
        },
        "sum_sq_weights": sq,
    }


ALL3 = ["sign", "standard", "(3,2)"]
SERIES = [
    row(0, {"sign": 0.0, "standard": 0.01, "(3,2)": 0.0}, ["standard"], 0.1, 0.0, 10.0),
    row(10, {"sign": 0.02, "standard": 0.2, "(3,2)": 0.06}, ALL3, 1.0, 0.1, 30.0),
    row(100, {"sign": 0.3, "standard": 0.5, "(3,2)": 0.04}, ALL3, 1.0, 0.5, 25.0),
    row(1000, {"sign": 0.4, "standard": 0.6, "(3,2)": 0.001}, ["sign", "standard"], 1.0, 1.0, 5.0),
]


def test_progress_events():
    m = progress_measures(SERIES, grok_epoch=700)
    assert m["learned_at"] == {"trivial": None, "sign": 100, "standard": 10, "(3,2)": 10}
    # (3,2) was learned (0.06 > 0.05) and later lost; ties broken by label order
    assert m["learning_order"] == ["standard", "(3,2)", "sign"]
    assert m["memorised"] == 10
    assert m["circuit"] == 100  # both final key irreps above 0.05
    assert m["generalised"] == 1000
    assert m["peak_weights"] == 10
    assert m["grok_epoch"] == 700


def test_progress_rows_and_empty_series():
    rows = progress_rows(SERIES, ["sign", "standard"])
    assert rows[-1][0] == 1000 and rows[-1][-2:] == ["0.400", "0.600"]
    assert rows[1][7] == "sign, standard, (3,2)"
    assert progress_rows(SERIES, [], key_count=True)[1][7] == 3
    assert followed_irreps(SERIES) == ["sign", "standard", "(3,2)"]  # trivial never key
    assert progress_measures([], None)["learning_order"] == []


def inst(key, logit_fve, w_u, order=None):
    labels = ["trivial", "sign", "standard", "(3,2)"]
    out = {
        "similarity": dict.fromkeys(labels, 0.0),
        "key_irreps": key,
        "logit_fve": logit_fve,
        "weight_fve": {"W_a": 1.0, "W_b": 1.0, "W_U": w_u},
    }
    if order:
        out["learning_order"] = order
    return out


def test_tally_counts():
    instances = [
        inst(["sign", "standard"], 0.8, 0.95, ["standard", "sign"]),
        inst(["standard", "sign"], 0.6, 0.90, ["sign", "standard"]),
        inst(["sign", "standard", "(3,2)"], 0.5, 0.99, ["standard"]),
        inst([], 0.0, 0.0),
    ]
    t = tally(instances)
    assert t["instances"] == 4
    assert t["key_frequency"] == {"trivial": 0, "sign": 3, "standard": 3, "(3,2)": 1}
    assert t["n_key"] == {0: 1, 2: 2, 3: 1}
    # the same set in another order counts once
    assert t["key_sets"][0] == {"set": ["sign", "standard"], "count": 2}
    assert len(t["key_sets"]) == 3
    assert t["first_learned"] == {"standard": 2, "sign": 1}
    assert t["logit_fve"]["min"] == 0.0 and t["logit_fve"]["max"] == 0.8
    assert t["W_U_fve"]["median"] == pytest.approx(0.925)


def test_comparison_with_the_paper():
    t = tally([inst(["sign", "standard"], 0.8, 0.95), inst(["sign"], 0.3, 0.91)])
    rows = {r["quantity"]: r for r in compare_with_paper(t, PAPER_S5_MLP)}
    assert rows["sign key"]["paper"] == "49/50 (98%)"
    assert rows["sign key"]["ours"] == "2/2 (100%)"
    assert rows["(3,1,1) key"]["ours"] == "0/2 (0%)"
    assert rows["distinct key-irrep sets"]["ours"] == "2"
    assert rows["W_U_fve range"]["ours"] == "0.91–0.95"


def test_comparison_reads_the_paper_it_is_given():
    # a made-up paper: its figures, not PAPER_S5_MLP's, fill the paper column, and an irrep none
    # of our instances has counts 0 of ours
    paper = {"instances": 4, "key_frequency": {"sign": 1, "(9,9)": 2}, "distinct_key_sets": 3,
             "logit_fve": (0.1, 0.25), "W_U_fve": (0.5, 0.6)}  # fmt: skip
    t = tally([inst(["sign", "standard"], 0.8, 0.95), inst(["standard"], 0.3, 0.91)])
    rows = {r["quantity"]: r for r in compare_with_paper(t, paper)}
    assert list(rows) == ["sign key", "(9,9) key", "distinct key-irrep sets", "logit_fve range",
                          "W_U_fve range"]  # fmt: skip
    assert rows["sign key"] == {"quantity": "sign key", "paper": "1/4 (25%)", "ours": "1/2 (50%)"}
    assert rows["(9,9) key"]["paper"] == "2/4 (50%)" and rows["(9,9) key"]["ours"] == "0/2 (0%)"
    assert rows["distinct key-irrep sets"] == {
        "quantity": "distinct key-irrep sets", "paper": "3", "ours": "2"}  # fmt: skip
    assert rows["logit_fve range"]["paper"] == "0.10–0.25"
    assert rows["logit_fve range"]["ours"] == "0.30–0.80"
    empty = {r["quantity"]: r for r in compare_with_paper(tally([]), paper)}
    assert empty["sign key"]["ours"] == "-" and empty["W_U_fve range"]["ours"] == "-"

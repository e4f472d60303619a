"""`reproduce stander2024`: claim rules on made-up seeds, and the protocol end to end at tiny
scale (sizes monkeypatched; the real protocol is far too long for a test)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from algolens.recipes import stander2024 as rec
from algolens.store import RunStore


def seed(scores, n_sign=2, base=1.0, ablated=1.0, outcomes=None, unembed=None):
    out = {"base": (base, 1e-3), "ablate C ≥ 1": (ablated, 1e-3)} | (outcomes or {})
    un = unembed or {"same_coset": 0.8, "same_class": 0.05, "baseline": 0.0,
                     "n_same_coset": 3, "n_same_class": 2, "n_baseline": 5}  # fmt: skip
    return rec.SeedResult(np.asarray(scores, dtype=float), n_sign, out, un)


def test_coset_claims_follow_their_rules():
    good = [seed([1e-8] * 999 + [5.0]) for _ in range(8)]  # 99.9 % below 1
    c = rec.coset_claims("S5", good)
    assert [x.agree for x in c] == [True, True, True, True]
    assert "99.9 % of 8000 neurons" in c[0].ours
    bad = [seed([1e-3] * 98 + [5.0, 5.0], n_sign=1 if i == 0 else 3, ablated=0.9)
           for i in range(8)]  # fmt: skip
    c = rec.coset_claims("S5", bad)
    assert [x.agree for x in c] == [False, False, False, False]  # 98 %, 1e-3, min 1, 0 of 8
    assert c[3].ours.startswith("0/8") and "agrees for 7–8 of 8" in c[3].ours


def test_the_ablation_count_reports_its_reach():
    # 126 of 128 is extreme enough that even one changed seed disagrees (p = 2/128 ≈ 0.023)
    one = rec.coset_claims("S5", [seed([1e-8] * 10, ablated=0.5)])
    assert one[3].agree is False and one[3].ours == "0/1, p = 0.023 (agrees for 1–1 of 1)"


def test_intervention_claims_compare_accuracy_and_loss():
    rows = {"negate both": (0.97, 0.1), "noise N(1, 1)": (0.80, 1.0), "ablate C ≥ 1e-05": (1, 0),
            "swap embeddings": (0.01, 4.0), "negate left": (0.0, 0.9),
            "ReLU → |x|": (1.0, 1e-6)}  # fmt: skip
    c = {
        x.claim.split(": ")[1].split(" (")[0]: x
        for x in rec.intervention_claims([seed([0.0], outcomes=rows)])
    }
    assert c["negate both"].agree is True  # paper 100 %, ours 97 %, no paper loss
    assert c["noise N(1, 1)"].agree is False  # paper 88 %, ours 80 %
    assert c["swap embeddings"].agree is True  # 1 %, loss 4.0 against 4.76
    assert c["negate left"].agree is False  # 0 % as in the paper, but loss 0.9 against 22.4
    assert c["ReLU → |x|"].agree is False  # 100 %, but loss 1e-6 against 3.7e-13
    ablation = c["ablate C ≥ 1e-05"]
    assert ablation.agree is None and ablation.kind == "context" and ablation.paper == "-"


def test_loss_agreement_is_on_a_log_scale():
    assert rec.loss_agrees(1.5e-5, 1.97e-6) and not rec.loss_agrees(2.5e-5, 1.97e-6)
    assert rec.loss_agrees(3.0, 22.4) and not rec.loss_agrees(2.0, 22.4)
    assert not rec.loss_agrees(0.0, 1e-6) and not rec.loss_agrees(float("nan"), 1.0)


def test_spectra_claims_are_checks_that_pass():
    claims = rec.spectra_claims()
    assert len(claims) == 4 and all(c.agree for c in claims)
    assert {c.kind for c in claims} == {"check"}
    assert claims[3].ours == "(3,2) 55.56 %, (4,1) 44.44 %"


def test_unembedding_claims():
    c = rec.unembedding_claims([seed([0.0]), seed([0.0], unembed={
        "same_coset": 0.2, "same_class": 0.0, "baseline": 0.0,
        "n_same_coset": 1, "n_same_class": 0, "n_baseline": 0})])  # fmt: skip
    assert c[0].agree is False and "0.50 over 4 pairs" in c[0].ours  # mean of 0.8 and 0.2
    assert c[1].agree is True and "0.05 over 2 pairs" in c[1].ours  # the seed without pairs skipped


@pytest.fixture
def tiny(monkeypatch):
    """Tiny models and epochs; S4 stands in for S6 in --full (S6's 518 400 pairs take minutes
    even for a tiny model)."""
    monkeypatch.setattr(rec, "MODELS", {"S5": {"d_embed": 8, "d_mlp": 6},
                                        "S4": {"d_embed": 4, "d_mlp": 3}})  # fmt: skip
    monkeypatch.setattr(rec, "EPOCHS_OVERRIDE", 3)
    monkeypatch.setattr(rec, "QUICK_SEEDS", (0, 1))
    monkeypatch.setattr(rec, "FULL", {"S5": (2, 250_000), "S4": (1, 50_000)})


def test_full_protocol_is_the_papers():
    s5, s6 = (s.config() for s in rec.settings("full"))
    assert (s5.group, len(s5.seeds), s5.epochs, s5.recipe) == ("S5", 128, 250_000, "paper")
    assert (s6.group, len(s6.seeds), s6.epochs) == ("S6", 100, 50_000)
    assert s5.model_args == {"d_embed": 256, "d_mlp": 128}
    assert s6.model_args == {"d_embed": 512, "d_mlp": 256}
    assert (s5.train_frac, s5.lr, s5.weight_decay, s5.beta2) == (0.4, 1e-3, 1.0, 0.98)


def test_quick_end_to_end_at_tiny_scale(tiny, tmp_path, run_cli):
    doc = tmp_path / "stander.md"
    code, out, err = run_cli("reproduce", "stander2024", "--store", str(tmp_path / "s"),
                             "--doc", str(doc), "--json")  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)
    names = [r["claim"] for r in rows]
    assert names[0].startswith("share of neurons with min_H C_H < 1 (S5) (agree: share >")
    assert "of 12 neurons, 2 seeds" in rows[0]["ours"]  # 2 seeds × 6 neurons, measured
    assert sum(n.startswith("intervention: ") for n in names) == 13
    assert sum(n.startswith("indicator spectrum") for n in names) == 4
    assert rows[-1]["claim"] == "protocol" and rows[-1]["agree"] is None
    assert rows[-1]["kind"] == "context"
    assert "S5 seed 1:" in err  # progress on stderr
    assert "Grokking Group Multiplication with Cosets" in doc.read_text()


def test_full_runs_both_groups_and_reuses_them(tiny, tmp_path):
    store = RunStore(tmp_path / "s")
    logs: list[str] = []
    claims = rec.reproduce("full", store, log=logs.append)
    assert any("(S4) (agree:" in c.claim for c in claims)
    runs = store.list()
    assert sorted(r.config["group"] for r in runs) == ["S4", "S5"]
    assert {r.config["recipe"] for r in runs} == {"paper"}
    assert [r.config["model_args"] for r in runs if r.config["group"] == "S4"] == [
        {"d_embed": 4, "d_mlp": 3}
    ]
    logs.clear()
    again = rec.reproduce("full", store, log=logs.append)
    assert len(store.list()) == 2 and sum("reusing run" in m for m in logs) == 2
    assert [c.to_dict() for c in again] == [c.to_dict() for c in claims]

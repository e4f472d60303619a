"""reproduce merrill2023: the claim rules on hand-made measurements, and the protocol at tiny
scale (models monkeypatched; the real protocol takes minutes)."""

from __future__ import annotations

import json

import pytest

from algolens.logic.fom import FomSize
from algolens.logic.miter import MiterResult
from algolens.logic.scaling import ScalingRow, fit_affine_power, fit_exponent
from algolens.logic.verify import Mismatch, Verdict
from algolens.recipes import merrill2023 as rec
from algolens.store import RunStore


def _model(proof=True, acc=1.0, seconds=10.0):
    return {
        "bits": 8, "gates": 100, "depth": 5, "agreement": {"q_vs_float": 1.0, "q_vs_task": acc,
                                                "float_vs_task": acc},
        "verify": {"proof": proof, "checked": 25},
        "requant_proofs": {"proven": 4, "columns": 4},
        "seconds": {"quantize": 0.0, "compile": 1.0, "verify": seconds},
    }  # fmt: skip


def _inputs(*, proof=True, acc=1.0, seconds=10.0, depths=(16, 16, 16), gates=None, est=9e5):
    ns = (3, 5, 7)
    gates = gates or [30_000 + 700 * n for n in ns]
    rows = [ScalingRow(n, g, 10 * g, d, 9, 1.0, "ok", True)
            for n, g, d in zip(ns, gates, depths, strict=True)]  # fmt: skip
    models = {"cyclic MLP (C59)": _model(proof), "S5 MLP (S5)": _model(True, acc, seconds)}
    ok = Verdict("exhaustive", 25, 25, 0, True, 10)
    fom = {"verdict": ok, "size": FomSize(10, 2, 30, 40, 500)}
    scaling = {"rows": rows, "loglog": fit_exponent(ns, gates),
               "affine": fit_affine_power(ns, gates)}  # fmt: skip
    estimate = {"row": ScalingRow(7, int(est), 1, 20, 9, 1.0, "ok", True)}
    witness = Mismatch((1, 2), 3, 4, 20)
    miter = {"same": MiterResult(True, None, 10, 20), "gates": 30,
             "corrupted": MiterResult(False, witness, 10, 20)}  # fmt: skip
    return models, fom, scaling, estimate, miter


def _by_claim(claims):
    return {c.claim.split(":")[0].split(" (")[0]: c for c in claims}


def test_rules_all_agree_on_good_measurements():
    claims = rec.make_claims(*_inputs())
    first = claims[0]
    assert first.agree is True and "8 of 8 checks are proofs" in first.ours
    compared = [c for c in claims if c.agree is not None]
    assert all(c.agree for c in compared) and len(compared) == 8
    kinds = {c.claim.split(" (")[0].split(":")[0]: c.kind for c in claims}
    assert [k for k, v in kinds.items() if v == "paper"] == [
        "a",
        "circuit depth does not grow with the input length n",
        "circuit size is polynomial in n",
    ]  # the theorem's consequences; timing, 8-bit accuracy, estimate, miter, FO(M) are checks
    assert kinds["issue target"] == kinds["SAT miter"] == kinds["size estimate"] == "check"
    poly = next(c for c in claims if c.claim.startswith("circuit size is polynomial"))
    assert "n^1.00" in poly.ours  # 30 000 + 700 n: the growing part is linear


def test_rules_disagree_where_the_measurements_say_so():
    c = _by_claim(rec.make_claims(*_inputs(proof=False)))
    assert c["a"].agree is False  # "a (log-precision) network equals ..."
    c = rec.make_claims(*_inputs(acc=0.985, seconds=70.0, depths=(11, 16, 16), est=1e7))
    agree = {x.claim.split(" (")[0].split(":")[0]: x.agree for x in c}
    assert agree["issue target"] is False  # both issue targets
    assert [x.agree for x in c if x.claim.startswith("issue target")] == [False, False]
    assert agree["circuit depth does not grow with the input length n"] is False
    assert agree["size estimate"] is False  # 1e7 / 9e5 > 10
    c = rec.make_claims(*_inputs(gates=[2**n for n in (3, 5, 7)]))
    poly = next(x for x in c if x.claim.startswith("circuit size is polynomial"))
    assert poly.agree is False  # 2^7 / 2^3 = 16 > (7/3)^3 = 12.7: faster than n^3


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setattr(rec, "CYCLIC", {"group": "C5", "train_frac": 0.5,
                                        "model_args": {"d_embed": 8, "d_mlp": 4}})  # fmt: skip
    monkeypatch.setattr(rec, "S5", {"group": "S3", "train_frac": 0.5,
                                    "model_args": {"d_embed": 8, "d_mlp": 4}})  # fmt: skip
    small = {"d_model": 8, "n_heads": 1, "d_head": 8, "d_mlp": 8}
    monkeypatch.setattr(
        rec,
        "GROUP_TRANSFORMER",
        {"group": "C3", "model": "transformer", "train_frac": 0.5, "model_args": small},
    )
    monkeypatch.setattr(rec, "EPOCHS_OVERRIDE", 3)
    monkeypatch.setattr(rec, "SMALL", True)


def test_quick_end_to_end_at_tiny_scale(tiny, tmp_path, run_cli):
    doc = tmp_path / "merrill.md"
    code, out, err = run_cli("reproduce", "merrill2023", "--store", str(tmp_path / "s"),
                             "--doc", str(doc), "--json")  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)
    assert rows[0]["agree"] is True  # every tiny model verified exactly
    assert sum(r["claim"].startswith("n-scaling, n = ") for r in rows) == 2  # n = 3, 5
    assert "formula vs circuit" in err and "SAT miter" in err
    assert rows[-1]["claim"].startswith("SAT miter") and rows[-1]["agree"] is True
    assert "A Logic for Expressing Log-Precision Transformers" in doc.read_text()
    store = RunStore(tmp_path / "s")
    assert sorted(r.config["group"] for r in store.list()) == ["C3", "C5", "S3"]

"""reproduce merrill2023: the claim rules on hand-made measurements, and the protocol at tiny
scale (models monkeypatched; the real protocol takes minutes)."""

from __future__ import annotations

import json

import pytest

from algolens.cli import reproduce as reproduce_cli
from algolens.logic.fom import FomSize
from algolens.logic.miter import MiterResult
from algolens.logic.precision import PrecisionRow, judge_log_precision
from algolens.logic.scaling import ScalingRow, exponent_interval, fit_affine_power, fit_exponent
from algolens.logic.verify import Mismatch, Verdict
from algolens.reproductions import merrill2023 as rec
from algolens.reproductions.claims import Scale
from algolens.store import RunStore


def _model(proof=True, acc=1.0, seconds=10.0):
    return {
        "bits": 8, "gates": 100, "depth": 5, "agreement": {"q_vs_float": 1.0, "q_vs_task": acc,
                                                "float_vs_task": acc},
        "verify": {"proof": proof, "checked": 25}, "inputs": 10_000, "exact_bits": 9,
        "requant_proofs": {"proven": 4, "columns": 4},
        "seconds": {"quantize": 0.0, "compile": 1.0, "verify": seconds},
    }  # fmt: skip


def _inputs(*, proof=True, acc=1.0, seconds=10.0, depths=(16, 16, 16), gates=None, est=9e5,
            vs_float=(1.0, 1.0, 1.0), widths=(4, 5, 6, 7), q_float=1.0):  # fmt: skip
    ns = (3, 5, 7)
    gates = gates or [30_000 + 700 * n for n in ns]
    rows = [ScalingRow(n, g, 10 * g, d, 9, 1.0, "ok", True, f)
            for n, g, d, f in zip(ns, gates, depths, vs_float, strict=True)]  # fmt: skip
    models = {"cyclic MLP (C59)": _model(proof), "S5 MLP (S5)": _model(True, acc, seconds)}
    models["S5 MLP (S5)"]["agreement"]["q_vs_float"] = q_float
    pns = (4, 8, 16, 32)
    precision = {"rows": [PrecisionRow(n, 2**n, n < 14, b, {b or 16: 1.0})
                          for n, b in zip(pns, widths, strict=True)],
                 "fit": judge_log_precision(pns, widths), "model": "hand-made"}  # fmt: skip
    ok = Verdict("exhaustive", 25, 25, 0, True, 10)
    fom = {"verdict": ok, "size": FomSize(10, 2, 30, 40, 500)}
    scaling = {"rows": rows, "loglog": fit_exponent(ns, gates),
               "interval": exponent_interval(ns, gates),
               "affine": fit_affine_power(ns, gates)}  # fmt: skip
    estimate = {"row": ScalingRow(7, int(est), 1, 20, 9, 1.0, "ok", True)}
    witness = Mismatch((1, 2), 3, 4, 20)
    miter = {"same": MiterResult(True, None, 10, 20), "gates": 30,
             "corrupted": MiterResult(False, witness, 10, 20)}  # fmt: skip
    return models, fom, scaling, estimate, miter, precision


def _by_claim(claims):
    return {c.claim.split(":")[0].split(" (")[0]: c for c in claims}


def _find(claims, prefix):
    return next(c for c in claims if c.claim.startswith(prefix))


def test_rules_all_agree_on_good_measurements():
    claims = rec.make_claims(*_inputs())
    first = claims[0]
    assert first.agree is True and "8 of 8 checks are proofs" in first.ours
    compared = [c for c in claims if c.agree is not None]
    assert all(c.agree for c in compared) and len(compared) == 10
    kinds = {c.claim.split(" (")[0].split(":")[0]: c.kind for c in claims}
    assert [k[:20] for k, v in kinds.items() if v == "paper"] == [
        "a",
        "the circuit computes",
        "precision O(log n) s",
        "one FO(M) sentence w",
        "circuit depth does n",
        "circuit size is poly",
    ]  # the theorem's consequences; timing, 8-bit accuracy, estimate, miter, FO(M) are checks
    assert kinds["issue target"] == kinds["SAT miter"] == kinds["size estimate"] == "check"
    uniform = next(c for c in claims if c.claim.startswith("one FO(M) sentence"))
    assert uniform.agree is None and uniform.ours.startswith("not measured")
    poly = next(c for c in claims if c.claim.startswith("circuit size is polynomial"))
    assert "n^1.00" in poly.ours  # 30 000 + 700 n: the growing part is linear
    prec = next(c for c in claims if c.claim.startswith("precision O(log n)"))
    assert "bits ≈ 2.00 + 1.00·log2 n" in prec.ours  # widths 4..7 at n = 4..32: log2 n + 2


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
    assert poly.agree is False and "[-1.64, 8.10]" in poly.ours  # 2^n: upper end above 3
    c = rec.make_claims(*_inputs(gates=[int(1000 * n**2.9) for n in (3, 5, 7)]))
    poly = next(x for x in c if x.claim.startswith("circuit size is polynomial"))
    assert poly.agree is True  # n^2.9 (to rounding): the interval stays under 3
    one_off = rec.make_claims(*_inputs(vs_float=(1.0, 1.0, 4095 / 4096)))
    assert _find(one_off, "the circuit computes").agree is False
    s5_off = rec.make_claims(*_inputs(q_float=0.9999))
    row = _find(s5_off, "the circuit computes")
    assert (
        row.agree is False
        and "S5 MLP 99.99 % (1 of 10000 inputs differ; Q = float from 9 bits)" in row.ours
    )
    linear = rec.make_claims(*_inputs(widths=(2, 4, 8, 16)))  # widths n/2: a line in n
    assert _find(linear, "precision O").agree is False
    never = rec.make_claims(*_inputs(widths=(4, 5, 6, None)))
    assert _find(never, "precision O").agree is False and "> 16" in never[2].ours


def _uniform(equal_16=512, checked_12=4096, share=1.0):
    from types import SimpleNamespace

    from algolens.logic.floor_quotient import QuotientFit

    ns = (1, 2, 12, 16)
    rows = [{"n": n, "inputs": 2**n if n <= 12 else 512, "all": n <= 12, "trained": n == 1,
             "equal": (equal_16 if n == 16 else 2**n if n <= 12 else 512), "seconds": 0.1,
             "q_vs_float": 1.0, "q_vs_task": 1.0} for n in ns]  # fmt: skip
    checked = {n: (2**n if n <= 12 else 512, 2**n if n <= 12 else 512) for n in ns}
    checked[12] = (checked_12, 4096)
    return {
        "rows": rows, "size": FomSize(100, 40, 300, 50, 9000),
        "sentence": SimpleNamespace(classes=3), "built": 1.0, "n_max": 9,
        "size_model": {"d_model": 8}, "fit": QuotientFit(0, 2, False, share, 254), "fit_n": 2,
        "checked": checked, "forms": ["last Q2@any, max score 0: a = 1·#Q1, b = 2·#Q1"],
    }  # fmt: skip


def test_uniform_sentence_and_quotient_rules():
    from algolens.reproductions.merrill2023_uniform import uniform_claims

    good = uniform_claims(_uniform())
    sentence, context, quotient = good
    assert sentence.agree is True and sentence.kind == "paper"
    assert "2*: 4/4" in sentence.ours and "16*: 512/512 sampled" in sentence.ours
    assert "lengths never trained on (2, 12, 16)" in sentence.claim
    assert context.kind == "context" and context.agree is None
    assert quotient.agree is True and "checked on longer n: 12: 4096/4096, 16: 512/512" in (
        quotient.ours
    )
    one_off = uniform_claims(_uniform(equal_16=511))[0]
    assert one_off.agree is False and "16*: 511/512 sampled" in one_off.ours
    assert quotient.kind == "check"  # our reading of the corollary, never counted
    broken = uniform_claims(_uniform(checked_12=4000))[2]
    assert broken.agree is False and "breaks at n = 12" in broken.ours
    unfit = uniform_claims(_uniform(share=0.9))[2]
    assert unfit.agree is False and "no single attention quotient bit fits" in unfit.ours
    table = rec.make_claims(*_inputs(), _uniform())
    assert [c.claim[:9] for c in table].count("corollary") == 1
    assert not any(c.ours.startswith("not measured") for c in table)


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
    monkeypatch.setattr(reproduce_cli, "Scale", lambda mode: Scale(mode, epochs_cap=3))
    monkeypatch.setattr(rec, "SMALL", True)


def test_quick_end_to_end_at_tiny_scale(tiny, tmp_path, run_cli):
    doc = tmp_path / "merrill.md"
    code, out, err = run_cli("reproduce", "merrill2023", "--store", str(tmp_path / "s"),
                             "--doc", str(doc), "--json")  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)
    assert rows[0]["agree"] is True  # every tiny model verified exactly
    assert sum(r["claim"].startswith("n-scaling, n = ") for r in rows) == 2  # n = 3, 5
    assert sum(r["claim"].startswith("precision at n = ") for r in rows) == 3  # n = 3, 5, 7
    uniform = next(r for r in rows if r["claim"].startswith("one FO(M) sentence"))
    assert uniform["agree"] is True and uniform["kind"] == "paper"  # exact for any weights
    assert "8*: 256/256" in uniform["ours"]  # n = 8: never trained, longer than the context
    corollary = next(r for r in rows if r["claim"].startswith("corollary"))
    assert corollary["kind"] == "check" and "bit 0 of ⌊A/B⌋" in corollary["ours"]
    assert "formula vs circuit" in err and "SAT miter" in err
    assert rows[-1]["claim"].startswith("SAT miter") and rows[-1]["agree"] is True
    assert "precision n = 7: exact from" in err
    s5 = next(r for r in rows if r["claim"].startswith("S5 MLP"))
    assert "Q = float on every input from" in s5["ours"]
    assert "A Logic for Expressing Log-Precision Transformers" in doc.read_text()
    store = RunStore(tmp_path / "s")
    assert sorted(r.config["group"] for r in store.list()) == ["C3", "C5", "S3"]

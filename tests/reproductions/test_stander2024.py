"""`reproduce stander2024`: claim rules on made-up seeds, and the protocol end to end at tiny
scale (sizes monkeypatched; the real protocol is far too long for a test)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from algolens.cli import reproduce as reproduce_cli
from algolens.groups import parse_group
from algolens.reproductions import stander2024 as rec
from algolens.reproductions.claims import Scale
from algolens.store import RunStore
from tests.analysis.coset_nets import coset_tables, find_subgroup, table_net


def seed(scores, n_sign=2, base=1.0, ablated=1.0, outcomes=None, unembed=None, held_out=None):
    out = {"base": (base, 1e-3), "ablate C ≥ 1": (ablated, 1e-3)} | (outcomes or {})
    un = unembed or {"same_coset": 0.8, "same_class": 0.05, "baseline": 0.0,
                     "n_same_coset": 3, "n_same_class": 2, "n_baseline": 5}  # fmt: skip
    return rec.SeedResult(np.asarray(scores, dtype=float), n_sign, out, un, held_out or {})


def by_name(claims):
    return {x.claim.split(": ")[1].split(" (")[0]: x for x in claims}


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
    c = by_name(rec.intervention_claims([seed([0.0], outcomes=rows)]))
    assert c["negate both"].agree is True  # paper 100 %, ours 97 %, no paper loss
    assert c["noise N(1, 1)"].agree is False  # paper 88 %, ours 80 %
    assert c["swap embeddings"].agree is True  # 1 %, loss 4.0 against 4.76
    assert c["negate left"].agree is False  # 0 % as in the paper, but loss 0.9 against 22.4
    assert c["ReLU → |x|"].agree is False  # 100 %, but loss 1e-6 against 3.7e-13
    ablation = c["ablate C ≥ 1e-05"]
    assert ablation.agree is None and ablation.kind == "context" and ablation.paper == "-"


def test_interventions_are_judged_on_all_pairs_and_held_out_pairs():
    all_pairs = {"noise N(1, 1)": (0.90, 1.0), "swap embeddings": (0.01, 4.0)}
    held = {"base": (0.93, 1e-3), "ablate C ≥ 1": (0.9, 1e-3),
            "noise N(1, 1)": (0.70, 1.0), "swap embeddings": (0.02, 5.0)}  # fmt: skip
    c = by_name(rec.intervention_claims([seed([0.0], outcomes=all_pairs, held_out=held)]))
    # N(1, 1): paper 88 %; 90 % on all pairs agrees, 70 % on the held-out pairs does not
    assert c["noise N(1, 1)"].agree is False
    assert "all pairs: 90 % / loss 1 (yes); held-out: 70 % / loss 1 (no)" == c["noise N(1, 1)"].ours
    assert c["swap embeddings"].agree is True  # 1 % and 2 %, losses 4 and 5 against 4.76
    assert c["base"].agree is False  # 100 % on all pairs, 93 % held out: > 5 pp off 99.99 %
    assert "all pairs and held-out" in c["base"].claim


def test_loss_agreement_is_on_a_log_scale():
    assert rec.loss_agrees(1.5e-5, 1.97e-6) and not rec.loss_agrees(2.5e-5, 1.97e-6)
    assert rec.loss_agrees(3.0, 22.4) and not rec.loss_agrees(2.0, 22.4)
    assert not rec.loss_agrees(0.0, 1e-6) and not rec.loss_agrees(float("nan"), 1.0)


def coset_network(kind: str):
    """S4 MLP with one-hot embeddings whose pre-activation tables are set by hand: ``paper`` —
    24 coset neurons of a point stabiliser H in the paper's form (left on right cosets Ha, right
    on left cosets, silent when a·b stays in the shared coset) and two sign neurons
    L = ±sgn, R = ∓sgn; ``mirrored`` — the same with left and right cosets exchanged and the
    sign neurons' right amplitude halved; ``random`` — Gaussian tables."""
    g = parse_group("S4")
    sub = find_subgroup(g, 6, normal=False)
    sgn = np.where(np.isin(np.arange(24), g.commutator_subgroup), 1.0, -1.0)[:, None]
    if kind == "random":
        f_l, f_r = np.random.default_rng(0).normal(size=(2, 24, 26))
    else:
        cols = [coset_tables(g, sub, s, mirrored=kind == "mirrored", seed=s) for s in range(24)]
        amp = 1.0 if kind == "paper" else 0.5
        f_l = np.column_stack([c[0] for c in cols] + [sgn, -sgn])
        f_r = np.column_stack([c[1] for c in cols] + [-amp * sgn, amp * sgn])
    return g, table_net(g, f_l, f_r)


@pytest.fixture(scope="module")
def measured():
    out = {}
    for kind in ("paper", "mirrored", "random"):
        g, model = coset_network(kind)
        held = np.random.default_rng(1).random(576) < 0.6
        out[kind] = rec.analyse_instance(g, model, test_mask=held)
    return out


def test_a_hand_built_coset_network_measures_as_the_paper_says(measured):
    r = measured["paper"]
    assert r.scores.max() < 1e-12  # every neuron is a coset neuron
    np.testing.assert_allclose(r.fve_own, 1.0, atol=1e-12)
    assert r.fve_other[:, :24].max() < 0.9  # the other coset side fits worse
    np.testing.assert_allclose(r.fve_other[:, 24:], 1.0, atol=1e-12)  # A4 is normal
    np.testing.assert_allclose(r.silence, 0.0, atol=1e-12)
    np.testing.assert_allclose(r.sign_ratios, [-1.0, -1.0], rtol=1e-12)
    assert r.n_sign == 2 and r.families == {"D3": 24, "A4": 2}
    assert set(r.held_out) == set(r.outcomes) and r.held_out["base"] != r.outcomes["base"]
    claims = (rec.side_claims("S4", [r]) + rec.silence_claims("S4", [r])
              + rec.sign_form_claims("S4", [r]))  # fmt: skip
    assert [c.agree for c in claims] == [True, True, True]
    assert claims[0].ours == (
        "median own-side FVE 1 (left 1, right 1) over 52 sides; own side "
        "better on 48 of 48 coset-neuron sides that differ"
    )
    assert claims[2].ours == (
        "2 of 2 (100 %); median ratio -1; 0 neurons with both sides +sgn or both −sgn not counted"
    )


def test_the_mirrored_and_random_networks_disagree(measured):
    m = measured["mirrored"]
    np.testing.assert_allclose(m.fve_other[:, :24], 1.0, atol=1e-12)
    sides, silence, form = (f("S4", [m]) for f in (rec.side_claims, rec.silence_claims,
                                                   rec.sign_form_claims))  # fmt: skip
    assert "own side better on 0 of 48" in sides[0].ours and sides[0].agree is False
    assert silence[0].agree is False  # no shared coset of the paper's sides is silent
    np.testing.assert_allclose(m.sign_ratios, [-0.5, -0.5], rtol=1e-12)
    assert form[0].agree is False and form[0].ours.startswith("0 of 2")
    r = measured["random"]
    assert r.scores.min() > 1.0  # no coset neuron at all
    (side,) = rec.side_claims("S4", [r])
    assert side.agree is False and float(side.ours.split()[3]) < 0.1  # median own-side FVE
    (silence,) = rec.silence_claims("S4", [r])
    assert silence.agree is False and float(silence.ours.split()[1]) > 0.5
    assert rec.sign_form_claims("S4", [r])[0].agree is None  # no sign neuron: n/a


def test_sign_form_counts_opposite_orientations_only():
    def form(ratios):
        r = seed([0.0])
        return rec.sign_form_claims("S5", [replace(r, sign_ratios=np.array(ratios))])[0]

    ok = form([-1.0, -1.05, 1.0, 0.9])  # two sign neurons in the form, two same-orientation
    assert ok.agree is True and ok.ours.startswith("2 of 2 (100 %)") and "; 2 neurons" in ok.ours
    bad = form([-1.0, -0.5, -0.7])  # amplitudes 1, 0.5, 0.7: one of three in −1 ± 0.1
    assert bad.agree is False and bad.ours.startswith("1 of 3 (33.33 %); median ratio -0.7")
    assert form([1.0]).agree is None  # no opposite orientation: no sign neuron


def test_subgroup_counts_and_families(measured):
    (s5,) = rec.lattice_claims(["S5", "S4"])  # S4: no paper figure, no row
    assert s5.kind == "check" and s5.ours == "156" and s5.agree is True
    (fam,) = rec.family_claims("S4", [measured["paper"], measured["mirrored"]])
    assert fam.kind == "context" and fam.ours == "D3 24, A4 2"


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
    monkeypatch.setattr(reproduce_cli, "Scale", lambda mode: Scale(mode, epochs_cap=3))
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
    base = next(r for r in rows if r["claim"].startswith("intervention: base"))
    assert base["ours"].startswith("all pairs: ") and "; held-out: " in base["ours"]
    assert sum(n.startswith(("left pre-activations", "a neuron fires", "sign neurons have"))
               for n in names) == 3  # fmt: skip
    assert any(r["kind"] == "check" and r["ours"] == "156" for r in rows)  # S5's subgroups
    assert sum(n.startswith("indicator spectrum") for n in names) == 4
    assert rows[-1]["claim"] == "protocol" and rows[-1]["agree"] is None
    assert rows[-1]["ours"] == (
        "S5: fast recipe (lr 0.025, weight decay 3), 2 seeds, 3 epochs, ran to its epoch cap"
    )
    assert rows[-1]["kind"] == "context"
    assert "S5 seed 1:" in err  # progress on stderr
    assert "Grokking Group Multiplication with Cosets" in doc.read_text()


def test_full_runs_both_groups_and_reuses_them(tiny, tmp_path):
    store = RunStore(tmp_path / "s")
    logs: list[str] = []
    claims = rec.reproduce(Scale("full", epochs_cap=3), store, log=logs.append)
    assert any("(S4) (agree:" in c.claim for c in claims)
    runs = store.list()
    assert sorted(r.config["group"] for r in runs) == ["S4", "S5"]
    assert {r.config["recipe"] for r in runs} == {"paper"}
    assert [r.config["model_args"] for r in runs if r.config["group"] == "S4"] == [
        {"d_embed": 4, "d_mlp": 3}
    ]
    logs.clear()
    again = rec.reproduce(Scale("full", epochs_cap=3), store, log=logs.append)
    assert len(store.list()) == 2 and sum("reusing run" in m for m in logs) == 2
    assert [c.to_dict() for c in again] == [c.to_dict() for c in claims]


def test_held_out_figures_are_the_runs_test_split(tiny, tmp_path):
    """The analysis's held-out pairs are the seeds' own test splits: its base accuracy and loss
    there equal the test figures the trainer recorded at the end of training."""
    from algolens.reproductions.runs import ensure_run

    store = RunStore(tmp_path / "s")
    run_id = ensure_run(store, rec.settings("quick")[0].config(3), lambda m: None)
    results = rec.analyse_run(store, run_id, lambda m: None)
    recorded = store.get(run_id).summary["seeds"]
    for r, s in zip(results, recorded, strict=True):
        acc, loss = r.held_out["base"]
        assert acc == pytest.approx(s["test_acc"], abs=1e-9)
        assert loss == pytest.approx(s["test_loss"], rel=1e-4)
        assert r.outcomes["base"] != r.held_out["base"]


def test_standard_protocol_trains_quicks_model_through_the_cleanup_phase():
    (s5,) = rec.settings("standard")
    cfg, quick = s5.config(), rec.settings("quick")[0].config()
    assert len(cfg.seeds) >= 4 * len(quick.seeds) and cfg.model_args == quick.model_args
    assert (cfg.lr, cfg.weight_decay, cfg.epochs, cfg.train_frac) == (2.5e-2, 1.0, 6000, 0.4)
    assert cfg.early_stop and cfg.cleanup_stop is not None


@pytest.mark.parametrize(
    ("overrides", "summary", "end"),
    [({}, {"epochs": 700, "stopped_early": True},
      "700 epochs, stopped at grokking (every seed ≥ 99.9 % test accuracy)"),
     ({"weight_decay": 1.0, "cleanup_stop": {}, "epochs": 6000},
      {"epochs": 2710, "stopped_early": True},
      "2710 epochs, stopped by the clean-up rule (cap 6000)"),
     ({"early_stop": False, "epochs": 40}, {"epochs": 40, "stopped_early": False},
      "40 epochs, ran to its epoch cap")],
)  # fmt: skip
def test_protocol_row_says_how_the_run_ended(overrides, summary, end):
    from algolens.train.config import make_config

    cfg = make_config("fast", group="S5", seeds=[0, 1], **overrides)
    assert rec.protocol_text(cfg, summary).endswith(end)

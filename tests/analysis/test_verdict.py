"""The joint verdict: agreement from the characters, its inequality, and faithfulness by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.analysis.composition.cosets import coset_concentration
from algolens.analysis.composition.verdict import side_accounts, verdict
from algolens.groups import parse_group
from algolens.groups.reps import irreps
from tests.analysis.coset_nets import sign_net
from tests.analysis.handbuilt import gcr_mlp


def test_coset_function_of_s4_in_s5_has_the_permutation_support():
    g = parse_group("S5")
    phi = np.random.default_rng(0).normal(size=5)
    f = phi[g.perms[:, 4]][:, None]  # constant on left cosets of Stab(4) ≅ S4
    conc = coset_concentration(g, f, f)
    acc = side_accounts(g, f, conc, 0)
    # the permutation module on 5 points is trivial + (4,1): centred, all power in (4,1)
    assert irreps(g)[int(acc.irrep[0])].partition == (4, 1)
    assert acc.irrep_share[0] == pytest.approx(1.0)
    assert acc.allowed_share[0] == pytest.approx(1.0) and acc.agree[0]


@pytest.mark.parametrize("spec", ["S4", "Q8", "D6", "A4"])
def test_outside_power_is_bounded_by_concentration_over_index(spec):
    g = parse_group(spec)
    lattice = g.subgroup_lattice
    rng = np.random.default_rng(5)
    cols = [rng.normal(size=g.order) for _ in range(4)]
    for i in range(1, len(lattice) - 1):  # near-coset functions of every proper subgroup
        ids = lattice.coset_table("left" if i % 2 else "right")[i]
        cols.append(rng.normal(size=ids.max() + 1)[ids] + 0.01 * rng.normal(size=g.order))
    f = np.stack(cols, axis=1)
    conc = coset_concentration(g, f, f)
    acc = side_accounts(g, f, conc, 0)
    index = g.order / np.array([lattice.subgroups[h].order for h in conc.best_subgroup[0]])
    assert np.all(1 - acc.allowed_share <= conc.best[0] / index + 1e-9)
    near = conc.best[0] < 1e-2
    assert near.sum() >= 2 and acc.agree[near].all()  # small C_H forces agreement


def test_sign_network_verdict_and_exact_coset_faithfulness():
    g, model = sign_net()
    with np.errstate(all="raise"):
        v = verdict(model, g)
    n0, n1, n2 = v["neurons"]
    for n in (n0, n1):
        assert n["by_irreps"] and n["by_cosets"] and n["agree"]
        assert n["left"]["irrep"] == n["right"]["irrep"] == "sign"
        assert n["left"]["subgroup_label"] == "A4" and n["left"]["coset_c"] < 1e-12
    assert not n2["by_cosets"]
    assert v["summary"]["by_both"] == 2 and v["summary"]["coset_classes"] == {"A4": 2}
    f = v["faithfulness"]
    # neuron 2 is replaced by coset means (it changes); neurons 0 and 1 are exact
    assert f["cosets"]["loss"] != pytest.approx(f["base"]["loss"], rel=1e-9)
    with torch.no_grad():
        model.W_U[0, 2] = 0.0
    f = verdict(model, g)["faithfulness"]
    assert f["cosets"]["loss"] == pytest.approx(f["base"]["loss"], rel=1e-12)
    assert f["irreps"]["loss"] == pytest.approx(f["base"]["loss"], rel=1e-12)
    assert f["mean"]["loss"] != pytest.approx(f["base"]["loss"], rel=1e-3)


def test_gcr_network_is_exact_under_its_key_irrep_projection():
    g = parse_group("S4")
    standard = next(r for r in irreps(g) if r.label == "standard")
    model, _ = gcr_mlp(g, [(standard, 4.0)], d_mlp=64)  # W_a, W_b in the standard span
    v = verdict(model, g, key=[standard.index])
    f = v["faithfulness"]
    assert f["irreps"]["kept"] == ["trivial", "standard"]
    assert f["irreps"]["loss"] == pytest.approx(f["base"]["loss"], rel=1e-9)
    assert f["mean"]["loss"] > 1.5 * f["base"]["loss"]
    assert v["key_irreps"] == ["standard"]
    # without a given key the pre-activations' own power finds the same irrep
    assert verdict(model, g)["key_irreps"] == ["standard"]


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """A store with a 2-seed S4 MLP run and a 1-seed S3 transformer run (a few epochs)."""
    from algolens.store import RunStore
    from algolens.train import make_config, start_run

    store = RunStore(tmp_path_factory.mktemp("store"))
    small = {"d_embed": 16, "d_mlp": 8}
    mlp = make_config("fast", group="S4", seeds=[3, 4], epochs=5, model_args=small)
    tf = make_config("fast", group="S3", model="transformer", seeds=[0], epochs=2)
    return store, start_run(mlp, store)["run_id"], start_run(tf, store)["run_id"]


def test_run_method_on_a_stored_run(tiny_runs):
    from algolens.analysis.composition.verdict import cosets_json, run_method
    from algolens.train import load_run_group, load_run_model

    store, run_id, _ = tiny_runs
    got = run_method(store, run_id, "cosets")
    assert [(r["instance"], r["seed"]) for r in got["instances"]] == [(0, 3), (1, 4)]
    _, model = load_run_model(store, run_id)
    direct = cosets_json(model.instance(1), load_run_group(store, run_id))
    assert got["instances"][1]["neurons"] == direct["neurons"]
    assert len(direct["neurons"]) == 8
    iv = run_method(store, run_id, "interventions")
    base = [r["interventions"][0] for r in iv["instances"]]
    assert iv["mean"][0]["accuracy"] == pytest.approx(np.mean([b["accuracy"] for b in base]))
    v = run_method(store, run_id, "verdict", instance=0)
    assert len(v["instances"]) == 1 and set(v["instances"][0]["faithfulness"]) == {
        "base", "irreps", "cosets", "mean"}  # fmt: skip


def test_run_method_refuses_bad_input_before_work(tiny_runs):
    from algolens.analysis.composition.verdict import run_method
    from algolens.errors import ConfigError

    store, run_id, tf_id = tiny_runs
    with pytest.raises(ConfigError, match="needs a group composition MLP"):
        run_method(store, tf_id, "cosets")
    with pytest.raises(ConfigError, match="--instance must lie in 0..1, got 2"):
        run_method(store, run_id, "verdict", instance=2)
    with pytest.raises(ConfigError, match="unknown coset method 'coset'"):
        run_method(store, run_id, "coset")

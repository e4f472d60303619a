"""Hand-made analyses of chughtai2023 runs for the claim tests: per-instance analysis dicts
(:func:`inst`), measured settings (:func:`measured`) and the lookup of one claim row."""

from __future__ import annotations

from algolens.reproductions import chughtai2023 as c

S5_DIMS = {"trivial": 1, "sign": 1, "standard": 4, "standard⊗sign": 4, "(3,2)": 5,
           "(2,2,1)": 5, "(3,1,1)": 6}  # fmt: skip
A5_DIMS = {"trivial": 1, "3d-a": 3, "3d-b": 3, "4d-a": 4, "5d-a": 5}


def inst(keys, *, acc=1.0, logit=0.6, wa=0.999, wb=0.999, wu=0.95, restricted=1e-6, excluded=8.0,
         seed=0, sims=None, test_loss=1e-3, neurons=0.8):  # fmt: skip
    """A hand-made per-instance analysis dict with the fields the claims read."""
    return {
        "seed": seed,
        "similarity": {"sign": 0.0, "standard": 0.0, **(sims or {})},
        "key_irreps": list(keys),
        "logit_fve": logit,
        "weight_fve": {"W_a": wa, "W_b": wb, "W_U": wu},
        "losses": {"accuracy": acc, "test_acc": acc, "restricted_loss": restricted,
                   "excluded_loss": excluded, "test_loss": test_loss, "train_loss": 1e-4,
                   "train_acc": 1.0},
        "neurons": {"key_fve": {"a": 0.1, "b": 0.1, "ab": neurons - 0.2, "total": neurons}},
    }  # fmt: skip


def measured(group, instances, dims=S5_DIMS, model="mlp", progress=(), series=(), recipe="fast",
             stopped_early=False, **overrides):  # fmt: skip
    setting = c.Setting(group, model, tuple(range(len(instances))), recipe,
                        overrides=tuple(overrides.items()))  # fmt: skip
    return c.Measured(setting, instances, dims, list(progress), list(series),
                      stopped_early=stopped_early)  # fmt: skip


def claim(claims, words):
    """The one claim that starts with ``words`` (else: contains them)."""
    found = [x for x in claims if x.claim.startswith(words)] or [
        x for x in claims if words in x.claim
    ]
    assert len(found) == 1, [x.claim for x in claims]
    return found[0]

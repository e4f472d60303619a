"""Causal scrubbing: true hypotheses recover ~100 % of the loss, false ones much less."""

from __future__ import annotations

import json

import pytest

from algolens.analysis.causal import Claim, Hypothesis, scrub
from algolens.errors import ConfigError
from tests.analysis.causal.handbuilt import T, chain_model, copy_examples, copy_model


def _recovered(model, ex, *claims: Claim) -> float | None:
    return scrub(model, ex, Hypothesis("h", claims), seed=0).loss_recovered


def test_copy_model_true_and_false_hypotheses() -> None:
    model, ex = copy_model(p=2, head=1), copy_examples(400, 2, seed=0)
    pre = "blocks.0.hook_resid_pre"
    assert _recovered(model, ex, Claim(pre, (2,), "tok2")) == pytest.approx(1.0, abs=1e-9)
    assert _recovered(model, ex, Claim(pre, (2,), "tok3")) < 0.3  # wrong feature
    # the copy head's output at the answer depends on the input only through token 2
    z = "blocks.0.attn.hook_z"
    assert _recovered(model, ex, Claim(z, (T - 1,), "tok2", head=1)) == pytest.approx(1.0)
    assert _recovered(model, ex, Claim(z, (T - 1,), "tok4", head=1)) < 0.3
    # the distractor head does not matter: nothing to recover
    assert _recovered(model, ex, Claim(z, (T - 1,), None, head=0)) is None
    # a per-position feature: the token at each position, for every position
    assert _recovered(model, ex, Claim(pre, (), "token")) == pytest.approx(1.0, abs=1e-9)


def test_chain_model_hypothesis_about_the_moved_token() -> None:
    model, ex = chain_model(a=1, p=3), copy_examples(400, 1, seed=0)
    mid = "blocks.1.hook_resid_pre"
    assert _recovered(model, ex, Claim(mid, (3,), "tok1")) == pytest.approx(1.0, abs=1e-9)
    assert _recovered(model, ex, Claim(mid, (3,), "tok3")) < 0.3  # p's own token is not it
    both = _recovered(
        model, ex, Claim("blocks.0.hook_resid_pre", (1,), "tok1"), Claim(mid, (3,), "tok1")
    )
    assert both == pytest.approx(1.0, abs=1e-9)


def test_hypotheses_are_json_and_bad_ones_are_reported_at_once() -> None:
    h = Hypothesis("copy", (Claim("blocks.0.attn.hook_z", (5, "sep"), "tok2", head=1),))
    assert Hypothesis.from_dict(json.loads(json.dumps(h.to_dict()))) == h
    model, ex = copy_model(), copy_examples(8, 2, seed=0)
    bad = Hypothesis(
        "bad", (Claim("blocks.9.hook_x", (0,)), Claim("blocks.0.attn.hook_z", (0,), "nope", 7))
    )
    with pytest.raises(ConfigError, match="unknown hook.*head 7.*unknown feature"):
        scrub(model, ex, bad)
    with pytest.raises(ConfigError, match="no claims"):
        scrub(model, ex, Hypothesis("empty"))
    with pytest.raises(ConfigError, match="hook name"):
        Hypothesis.from_dict({"claims": [{"positions": [1]}]})
    with pytest.raises(ConfigError, match="agree_on must be.*head must be"):
        Hypothesis.from_dict({"claims": [{"hook": "hook_embed", "agree_on": 3, "head": "1"}]})
    wrong_axes = Hypothesis(
        "axes",
        (
            Claim("blocks.0.attn.hook_pattern", (5,), "tok2"),
            Claim("blocks.0.hook_resid_pre", (2,), "tok2", head=1),  # no head axis there
        ),
    )
    with pytest.raises(ConfigError, match="not per position.*has no head axis"):
        scrub(model, ex, wrong_axes)

"""The composition MLP: hooks, folded algebra, instances, ablations."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformer_lens import ActivationCache

from algolens.errors import ConfigError
from algolens.models import MLP, MLPConfig
from tests.models.conftest import assert_state_bitwise_equal, cache_shapes

HOOKS = [
    "hook_embed_left",
    "hook_embed_right",
    "mlp.hook_pre_left",
    "mlp.hook_pre_right",
    "mlp.hook_pre",
    "mlp.hook_post",
    "hook_logits",
]


def small(n_inst: int = 2, **kw) -> MLP:
    return MLP(MLPConfig(d_vocab=7, d_embed=12, d_mlp=10, n_inst=n_inst, **kw))


def all_pairs(n: int, n_inst: int) -> torch.Tensor:
    a = torch.arange(n).repeat_interleave(n)
    b = torch.arange(n).repeat(n)
    return torch.stack([a, b], -1).expand(n_inst, -1, -1)  # [inst, batch, 2]


def naive_forward(model: MLP, tokens: torch.Tensor) -> torch.Tensor:
    """The paper's formula, per instance: concat/sum embeddings, matmul, ReLU, unembed."""
    out = []
    for k in range(model.cfg.n_inst):
        left = model.W_E_left[k][tokens[k, :, 0]]
        right = model.W_E_right[k][tokens[k, :, 1]]
        x = torch.cat([left, right], -1) if model.cfg.embed_mode == "concat" else left + right
        pre = x @ model.mlp.W_in[k]
        if model.cfg.bias:
            pre = pre + model.mlp.b_in[k]
        logits = F.relu(pre) @ model.W_U[k]
        if model.cfg.bias:
            logits = logits + model.b_U[k]
        out.append(logits)
    return torch.stack(out)


def test_hook_list_is_pinned() -> None:
    assert list(small().hook_dict) == HOOKS


def test_run_with_cache_names_and_shapes() -> None:
    model = small(n_inst=3)
    tokens = all_pairs(7, 3)[:, :5]
    logits, cache = model.run_with_cache(tokens)
    assert isinstance(cache, ActivationCache)
    assert cache_shapes(cache) == {
        "hook_embed_left": (3, 5, 12),
        "hook_embed_right": (3, 5, 12),
        "mlp.hook_pre_left": (3, 5, 10),
        "mlp.hook_pre_right": (3, 5, 10),
        "mlp.hook_pre": (3, 5, 10),
        "mlp.hook_post": (3, 5, 10),
        "hook_logits": (3, 5, 7),
    }
    torch.testing.assert_close(logits, model(tokens))
    torch.testing.assert_close(
        cache["mlp.hook_pre_left"] + cache["mlp.hook_pre_right"], cache["mlp.hook_pre"]
    )


def test_two_d_tokens_give_the_transformer_lens_layout() -> None:
    model = small(n_inst=1)
    tokens = all_pairs(7, 1)[0]  # [batch, 2]
    logits, cache = model.run_with_cache(tokens)
    assert logits.shape == (49, 7)
    assert cache["mlp.hook_post"].shape == (49, 10)
    torch.testing.assert_close(logits, model(tokens[None])[0])
    with pytest.raises(ConfigError, match="n_inst=2"):
        small(n_inst=2)(tokens)


@pytest.mark.parametrize("embed_mode", ["concat", "sum"])
@pytest.mark.parametrize("bias", [False, True], ids=["nobias", "bias"])
def test_folded_forward_equals_the_naive_formula(embed_mode: str, bias: bool) -> None:
    model = small(n_inst=2, embed_mode=embed_mode, bias=bias, dtype="float64")
    if bias:
        with torch.no_grad():
            model.mlp.b_in.normal_()
            model.b_U.normal_()
    tokens = all_pairs(7, 2)
    torch.testing.assert_close(model(tokens), naive_forward(model, tokens), rtol=0, atol=1e-12)
    w_a, w_b = model.folded_weights()
    half = model.mlp.W_in[:, :12] if embed_mode == "concat" else model.mlp.W_in
    torch.testing.assert_close(w_a, model.W_E_left @ half)
    assert w_b.shape == (2, 7, 10)


def test_folded_gradients_equal_the_naive_ones() -> None:
    model = small(n_inst=2, dtype="float64")
    tokens, targets = all_pairs(7, 2), torch.randint(0, 7, (2, 49))

    def grads(fn) -> list[torch.Tensor]:
        model.zero_grad()
        F.cross_entropy(fn(model, tokens).flatten(0, 1), targets.flatten()).backward()
        return [p.grad.clone() for p in model.parameters()]

    for g_fold, g_naive in zip(grads(MLP.__call__), grads(naive_forward), strict=True):
        torch.testing.assert_close(g_fold, g_naive, rtol=0, atol=1e-12)


def test_embedding_hook_sees_and_edits_the_embedding() -> None:
    model = small(n_inst=2, dtype="float64")
    tokens = all_pairs(7, 2)
    zero_left = model.run_with_hooks(
        tokens, fwd_hooks=[("hook_embed_left", lambda x, hook: torch.zeros_like(x))]
    )
    expected = F.relu(model.folded_weights()[1][:, tokens[0, :, 1]]) @ model.W_U
    torch.testing.assert_close(zero_left, expected)
    assert not model.hook_embed_left._forward_hooks  # removed afterwards


def test_ablating_the_hidden_layer_changes_the_output() -> None:
    model = small()
    tokens = all_pairs(7, 2)
    clean = model(tokens)
    ablated = model.run_with_hooks(
        tokens, fwd_hooks=[("mlp.hook_post", lambda x, hook: torch.zeros_like(x))]
    )
    assert torch.equal(ablated, torch.zeros_like(ablated))  # no biases: all logits zero
    assert not torch.allclose(clean, ablated)
    torch.testing.assert_close(model(tokens), clean)  # hooks gone


def test_instance_k_equals_a_one_seed_model_bitwise() -> None:
    seeds = [11, 12, 13]
    big = small(n_inst=3)
    big.init_weights(seeds)
    tokens = all_pairs(7, 3)
    out = big(tokens)
    for k, seed in enumerate(seeds):
        one = small(n_inst=1)
        one.init_weights([seed])
        inst = big.instance(k)
        assert inst.cfg.n_inst == 1
        assert_state_bitwise_equal(inst, one)
        torch.testing.assert_close(one(tokens[k]), out[k])
    # copies, not views
    with torch.no_grad():
        big.W_U.zero_()
    assert big.instance(0).W_U.abs().sum() == 0 and one.W_U.abs().sum() > 0


def test_stack_is_the_inverse_of_instance() -> None:
    big = small(n_inst=3)
    big.init_weights([4, 5, 6])
    again = MLP.stack([big.instance(k) for k in range(3)])
    assert_state_bitwise_equal(again, big)
    with pytest.raises(ConfigError):
        MLP.stack([small(n_inst=1), MLP(MLPConfig(d_vocab=8, d_embed=12, d_mlp=10))])


def test_init_is_randn_over_sqrt_fan_in() -> None:
    model = MLP(MLPConfig(d_vocab=120, n_inst=1, init_scale=2.0))
    assert 2.0 / 120**0.5 == pytest.approx(model.W_E_left.std().item(), rel=0.02)
    assert 2.0 / 512**0.5 == pytest.approx(model.mlp.W_in.std().item(), rel=0.02)
    assert 2.0 / 128**0.5 == pytest.approx(model.W_U.std().item(), rel=0.05)
    assert [n for n, _ in model.named_parameters()] == ["W_E_left", "W_E_right", "W_U", "mlp.W_in"]


def test_init_weights_needs_one_seed_per_instance() -> None:
    with pytest.raises(ConfigError, match="3 seeds"):
        small(n_inst=2).init_weights([1, 2, 3])


def test_float64() -> None:
    model = small(dtype="float64")
    assert model(all_pairs(7, 2)).dtype == torch.float64

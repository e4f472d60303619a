"""The decoder transformer: TL hook names and shapes, reference maths, instances, patching."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transformer_lens import ActivationCache, patching

from algolens.errors import ConfigError
from algolens.models import Transformer, TransformerConfig, last_position, to_tl_native
from algolens.models.transformer import BIAS_MODES
from tests.models.conftest import assert_state_bitwise_equal, cache_shapes


def cfg(**kw) -> TransformerConfig:
    base = dict(d_vocab=8, d_vocab_out=7, n_ctx=3, n_heads=2, d_model=16, d_head=8, d_mlp=24)
    return TransformerConfig(**(base | kw))


def block_hooks(i: int, layernorm: bool) -> list[str]:
    """Hook names of block i in the order they fire."""
    b = f"blocks.{i}."
    ln1 = [b + "ln1.hook_scale", b + "ln1.hook_normalized"] if layernorm else []
    ln2 = [b + "ln2.hook_scale", b + "ln2.hook_normalized"] if layernorm else []
    attn = [b + "attn.hook_" + n for n in ("q", "k", "v", "attn_scores", "pattern", "z")]
    return [
        b + "hook_resid_pre",
        *ln1,
        *attn,
        b + "hook_attn_out",
        b + "hook_resid_mid",
        *ln2,
        b + "mlp.hook_pre",
        b + "mlp.hook_post",
        b + "hook_mlp_out",
        b + "hook_resid_post",
    ]


# The exact ordered hook list of the Chughtai et al. transformer (hook_dict order).
CHUGHTAI_HOOKS = [
    "hook_embed",
    "hook_pos_embed",
    "blocks.0.attn.hook_k",
    "blocks.0.attn.hook_q",
    "blocks.0.attn.hook_v",
    "blocks.0.attn.hook_z",
    "blocks.0.attn.hook_attn_scores",
    "blocks.0.attn.hook_pattern",
    "blocks.0.mlp.hook_pre",
    "blocks.0.mlp.hook_post",
    "blocks.0.hook_resid_pre",
    "blocks.0.hook_attn_out",
    "blocks.0.hook_resid_mid",
    "blocks.0.hook_mlp_out",
    "blocks.0.hook_resid_post",
]


def tokens_for(c: TransformerConfig, batch: int = 5, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, c.d_vocab, (c.n_inst, batch, c.n_ctx), generator=g)


def reference_forward(model: Transformer, tokens: torch.Tensor) -> torch.Tensor:
    """Textbook single-instance formulas with einsum, looping over instances."""
    c = model.cfg
    out = []
    for k in range(c.n_inst):
        t = tokens[k]
        pos = t.shape[1]
        x = model.embed.W_E[k][t] + model.pos_embed.W_pos[k][:pos]

        def ln(x: torch.Tensor, mod, k: int = k) -> torch.Tensor:
            if not c.layernorm:
                return x
            x = x - x.mean(-1, keepdim=True)
            return x / (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt() * mod.w[k] + mod.b[k]

        def b(t: torch.Tensor | None, k: int = k) -> torch.Tensor | float:
            return 0.0 if t is None else t[k]

        for blk in model.blocks:
            a = blk.attn
            y = ln(x, blk.ln1) if c.layernorm else x
            q = torch.einsum("bpm,hmd->bphd", y, a.W_Q[k]) + b(a.b_Q)
            kk = torch.einsum("bpm,hmd->bphd", y, a.W_K[k]) + b(a.b_K)
            v = torch.einsum("bpm,hmd->bphd", y, a.W_V[k]) + b(a.b_V)
            s = torch.einsum("bqhd,bkhd->bhqk", q, kk) / math.sqrt(c.d_head)
            mask = torch.triu(torch.ones(pos, pos, dtype=torch.bool), diagonal=1)
            p = s.masked_fill(mask, -1e30).softmax(-1)
            z = torch.einsum("bhqk,bkhd->bqhd", p, v)
            x = x + torch.einsum("bqhd,hdm->bqm", z, a.W_O[k]) + b(a.b_O)
            y = ln(x, blk.ln2) if c.layernorm else x
            act = F.relu if c.act == "relu" else F.gelu
            h = act(y @ blk.mlp.W_in[k] + b(blk.mlp.b_in))
            x = x + h @ blk.mlp.W_out[k] + b(blk.mlp.b_out)
        if c.layernorm:
            x = ln(x, model.ln_final)
        out.append(x @ model.unembed.W_U[k] + b(model.unembed.b_U))
    return torch.stack(out)


def test_default_config_is_the_chughtai_transformer() -> None:
    c = TransformerConfig(d_vocab=121, d_vocab_out=120)
    assert (c.n_layers, c.n_heads, c.d_model, c.d_head, c.d_mlp) == (1, 4, 128, 32, 512)
    assert (c.act, c.layernorm, c.bias, c.n_ctx) == ("relu", False, "frozen", 3)
    assert list(Transformer(c).hook_dict) == CHUGHTAI_HOOKS


@pytest.mark.parametrize("layernorm", [False, True], ids=["noln", "ln"])
def test_run_with_cache_names_order_and_shapes(layernorm: bool) -> None:
    c = cfg(n_layers=2, layernorm=layernorm, n_inst=3)
    model = Transformer(c)
    tokens = tokens_for(c, batch=5)
    logits, cache = model.run_with_cache(tokens)
    assert isinstance(cache, ActivationCache)
    expected = [
        "hook_embed",
        "hook_pos_embed",
        *block_hooks(0, layernorm),
        *block_hooks(1, layernorm),
    ]
    if layernorm:
        expected += ["ln_final.hook_scale", "ln_final.hook_normalized"]
    assert list(cache.keys()) == expected
    assert sorted(model.hook_dict) == sorted(expected)
    shapes = cache_shapes(cache)
    assert shapes["hook_embed"] == shapes["blocks.1.hook_resid_post"] == (3, 5, 3, 16)
    assert shapes["blocks.0.attn.hook_q"] == shapes["blocks.1.attn.hook_z"] == (3, 5, 3, 2, 8)
    assert shapes["blocks.0.attn.hook_pattern"] == (3, 5, 2, 3, 3)  # [inst, batch, head, q, k]
    assert shapes["blocks.0.mlp.hook_post"] == (3, 5, 3, 24)
    if layernorm:
        assert shapes["ln_final.hook_scale"] == (3, 5, 3, 1)
    assert logits.shape == (3, 5, 3, 7)
    torch.testing.assert_close(cache["pattern", 1], cache["blocks.1.attn.hook_pattern"])
    torch.testing.assert_close(cache["pattern", 0].sum(-1), torch.ones(3, 5, 2, 3))


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"layernorm": True, "act": "gelu", "n_layers": 2},
        {"bias": "trainable"},
        {"bias": "none", "n_heads": 1, "d_head": 16},
        {"n_ctx": 11, "n_layers": 2, "bias": "trainable"},  # batched-matmul attention
        {"fold_embed": False},
    ],
    ids=["chughtai", "ln-gelu-2layer", "trainable-bias", "no-bias", "long", "unfolded"],
)
def test_forward_equals_the_reference_formulas(kw: dict) -> None:
    c = cfg(n_inst=2, dtype="float64", **kw)
    model = Transformer(c)
    with torch.no_grad():  # nonzero biases and LN params, so every term is exercised
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not name.endswith(
                ("W_E", "W_pos", "W_Q", "W_K", "W_V", "W_O", "W_in", "W_out", "W_U")
            ):
                t.normal_()
    tokens = tokens_for(c)
    expected = reference_forward(model, tokens)
    torch.testing.assert_close(model(tokens), expected, rtol=0, atol=1e-10)
    answer = model.answer_logits(tokens)
    torch.testing.assert_close(answer, expected[..., -1, :], rtol=0, atol=1e-10)
    cached, _cache = model.run_with_cache(tokens)  # hooks on the stream: the unfolded path
    torch.testing.assert_close(cached, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("n_ctx", [3, 11])
def test_fast_paths_have_the_reference_gradients(n_ctx: int) -> None:
    """Folded embedding + last-position path vs. the textbook forward: same gradients."""
    c = cfg(n_inst=2, n_ctx=n_ctx, n_layers=2, bias="trainable", dtype="float64")
    model = Transformer(c)
    tokens, targets = tokens_for(c), torch.randint(0, 7, (2, 5))

    def grads(logits_fn) -> list[torch.Tensor]:
        model.zero_grad()
        F.cross_entropy(logits_fn().transpose(1, 2), targets).backward()
        return [p.grad.clone() for p in model.parameters()]

    fast = grads(lambda: model.answer_logits(tokens))
    slow = grads(lambda: reference_forward(model, tokens)[..., -1, :])
    for name, g_fast, g_slow in zip(dict(model.named_parameters()), fast, slow, strict=True):
        torch.testing.assert_close(g_fast, g_slow, rtol=0, atol=1e-10, msg=name)


def test_attention_is_causal() -> None:
    c = cfg(n_layers=2, n_inst=1)
    model = Transformer(c)
    tokens = tokens_for(c)
    changed = tokens.clone()
    changed[..., -1] = (changed[..., -1] + 1) % c.d_vocab
    a, b = model(tokens), model(changed)
    torch.testing.assert_close(a[..., :-1, :], b[..., :-1, :])
    assert not torch.allclose(a[..., -1, :], b[..., -1, :])


def test_answer_logits_equal_the_last_position() -> None:
    c = cfg(n_layers=2, n_inst=2, layernorm=True, bias="trainable")
    model = Transformer(c)
    tokens = tokens_for(c)
    full = model(tokens)
    torch.testing.assert_close(model.answer_logits(tokens), last_position(full))
    assert model(tokens, last_only=True).shape == (2, 5, 1, 7)
    loss = F.cross_entropy(model.answer_logits(tokens).flatten(0, 1), torch.zeros(10).long())
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("bias", ["frozen", "trainable", "none"])
def test_bias_modes(bias: str) -> None:
    model = Transformer(cfg(bias=bias))
    params = {n for n, _ in model.named_parameters()}
    buffers = {n for n, _ in model.named_buffers()}
    bias_names = {"blocks.0.attn.b_Q", "blocks.0.mlp.b_in", "unembed.b_U"}
    if bias == "frozen":
        assert bias_names <= buffers and not bias_names & params
        assert all(t.abs().sum() == 0 for n, t in model.named_buffers() if n in bias_names)
        assert bias_names <= set(model.state_dict())  # saved with checkpoints
    elif bias == "trainable":
        assert bias_names <= params
    else:
        assert not bias_names & (params | buffers)


def test_instance_k_equals_a_one_seed_model_bitwise() -> None:
    seeds = [7, 8, 9]
    c = cfg(n_layers=2, layernorm=True, n_inst=3)
    big = Transformer(c)
    big.init_weights(seeds)
    tokens = tokens_for(c)
    out = big(tokens)
    for k, seed in enumerate(seeds):
        one = Transformer(c.replace(n_inst=1))
        one.init_weights([seed])
        assert_state_bitwise_equal(big.instance(k), one)
        torch.testing.assert_close(one(tokens[k]), out[k])
    assert_state_bitwise_equal(Transformer.stack([big.instance(k) for k in range(3)]), big)


def test_instances_train_independently() -> None:
    """Summing per-instance losses gives each instance the gradient it would get alone."""
    c = cfg(n_inst=2, dtype="float64")
    big = Transformer(c)
    big.init_weights([1, 2])
    tokens, targets = tokens_for(c), torch.randint(0, 7, (2, 5))
    loss = F.cross_entropy(big.answer_logits(tokens).transpose(1, 2), targets, reduction="none")
    loss.mean(-1).sum().backward()
    one = big.instance(1)
    F.cross_entropy(one.answer_logits(tokens[1]), targets[1]).backward()
    for (name, p_big), (_, p_one) in zip(
        big.named_parameters(), one.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p_big.grad[1], p_one.grad[0], msg=name)


def test_ablation_with_run_with_hooks_changes_outputs() -> None:
    c = cfg(n_inst=2)
    model = Transformer(c)
    tokens = tokens_for(c)
    clean = model(tokens)

    def kill_head_0(pattern: torch.Tensor, hook) -> torch.Tensor:
        pattern = pattern.clone()
        pattern[:, :, 0] = 0.0  # [inst, batch, head, q, k]
        return pattern

    ablated = model.run_with_hooks(tokens, fwd_hooks=[("blocks.0.attn.hook_pattern", kill_head_0)])
    assert not torch.allclose(clean, ablated)
    torch.testing.assert_close(clean[..., 0, :], model(tokens)[..., 0, :])
    mlp_off = model.run_with_hooks(
        tokens, fwd_hooks=[("blocks.0.hook_mlp_out", lambda x, hook: torch.zeros_like(x))]
    )
    assert not torch.allclose(clean, mlp_off)
    assert not model.blocks[0].attn.hook_pattern._forward_hooks  # temporary hooks removed


def test_transformer_lens_patching_on_a_single_instance() -> None:
    c = cfg(n_layers=2, n_inst=3)
    model = Transformer(c).instance(1).eval()
    clean = torch.tensor([[1, 2, 7], [3, 4, 7]])  # [batch, pos]: TL layout
    corrupt = torch.tensor([[1, 5, 7], [3, 6, 7]])
    answers = torch.tensor([0, 1])
    clean_logits, clean_cache = model.run_with_cache(clean)
    assert clean_cache["blocks.0.hook_resid_pre"].shape == (2, 3, 16)

    def metric(logits: torch.Tensor) -> torch.Tensor:  # [batch, pos, d_vocab]
        return logits[:, -1].gather(-1, answers[:, None]).mean()

    corrupt_value = metric(model(corrupt))
    resid = patching.get_act_patch_resid_pre(model, corrupt, clean_cache, metric)
    assert resid.shape == (2, 3)  # [layer, pos]
    # patching the position where the runs agree does nothing; the last layer's last
    # position carries the whole answer
    torch.testing.assert_close(resid[0, 0], corrupt_value)
    post = patching.generic_activation_patch(
        model,
        corrupt,
        clean_cache,
        metric,
        patching.layer_pos_patch_setter,
        "resid_post",
        index_axis_names=("layer", "pos"),
    )
    torch.testing.assert_close(post[1, 2], metric(clean_logits))
    heads = patching.get_act_patch_attn_head_out_by_pos(model, corrupt, clean_cache, metric)
    assert heads.shape == (2, 3, 2)  # [layer, pos, head]


def test_bad_configs_raise_one_line_config_errors() -> None:
    with pytest.raises(ConfigError) as info:
        cfg(n_heads=0, act="tanh", bias="maybe", d_model=-1)
    msg = str(info.value)
    assert "\n" not in msg
    for field in ("n_heads", "act", "bias", "d_model"):
        assert field in msg  # every problem reported at once
    with pytest.raises(ConfigError, match="n_ctx=3"):
        Transformer(cfg())(torch.zeros(1, 2, 4, dtype=torch.long))
    with pytest.raises(ConfigError, match="inst=1"):
        Transformer(cfg())(torch.zeros(2, 2, 3, dtype=torch.long))


def test_token_ids_out_of_range_are_rejected() -> None:
    model = Transformer(cfg(n_inst=2))
    tokens = torch.full((2, 1, 3), 8)  # d_vocab = 8: would read instance 1's row 0
    with pytest.raises(ConfigError, match="0..7"):
        model(tokens)


def test_attention_hooks_fire_on_the_folded_path() -> None:
    """Caching only attention hooks keeps the folded first layer; values match a full cache."""
    c = cfg(n_inst=2, dtype="float64")
    model = Transformer(c)
    tokens = tokens_for(c)
    _, full = model.run_with_cache(tokens)
    _, attn_only = model.run_with_cache(tokens, names_filter=lambda name: ".attn." in name)
    assert list(attn_only.keys()) == [k for k in full.keys() if ".attn." in k]
    for name in attn_only.keys():
        torch.testing.assert_close(attn_only[name], full[name], rtol=0, atol=1e-12, msg=name)


@pytest.mark.parametrize(
    "kw",
    [{}, {"layernorm": True, "act": "gelu", "n_layers": 2}, {"bias": "trainable"}],
    ids=["chughtai", "ln-gelu-2layer", "trainable-bias"],
)
def test_same_function_and_hooks_as_transformer_lens_native(kw: dict) -> None:
    """Our weights loaded into TL's own ``boot_native`` model: same logits, and every hook of
    ours exists there with the same name, shape and value.

    Exception: TL 4.3's bridge fires ``hook_attn_scores`` on the softmaxed pattern for native
    models (the native attention returns only the pattern), so there only the shape is compared.
    """
    model = Transformer(cfg(n_inst=2, **kw))
    with torch.no_grad():  # nonzero biases and LN parameters
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if ".b_" in name or name.endswith((".w", ".b")):
                t.normal_()
    bridge = to_tl_native(model, k=1).eval()
    tokens = tokens_for(cfg(), batch=6)[0]  # [batch, pos]
    ours, our_cache = model.instance(1).run_with_cache(tokens)
    theirs, their_cache = bridge.run_with_cache(tokens)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)
    for name in our_cache.keys():
        a, b = our_cache[name], their_cache[name]
        assert a.shape == b.shape, name
        if not name.endswith("hook_attn_scores"):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, msg=name)


def test_activation_cache_helpers_work_on_a_single_instance() -> None:
    model = Transformer(cfg(n_layers=2, layernorm=True)).eval()
    _, cache = model.run_with_cache(tokens_for(cfg())[0])
    parts = cache.decompose_resid()  # embed, pos_embed, attn/mlp of each layer
    assert parts.shape == (6, 5, 3, 16)
    torch.testing.assert_close(parts.sum(0), cache["resid_post", -1])
    assert cache.accumulated_resid().shape == (3, 5, 3, 16)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_ctx=st.integers(1, 11),
    short_by=st.integers(0, 2),
    n_layers=st.integers(1, 2),
    n_heads=st.sampled_from([1, 2, 3]),
    n_inst=st.integers(1, 3),
    batch=st.integers(1, 4),
    bias=st.sampled_from(BIAS_MODES),
    layernorm=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fast_paths_match_the_reference_for_random_shapes(
    n_ctx, short_by, n_layers, n_heads, n_inst, batch, bias, layernorm, seed
) -> None:
    """Sequences up to n_ctx (also shorter), both attention paths, folded and not."""
    c = cfg(
        n_ctx=n_ctx,
        n_layers=n_layers,
        n_heads=n_heads,
        n_inst=n_inst,
        bias=bias,
        layernorm=layernorm,
        dtype="float64",
    )
    model = Transformer(c)
    model.init_weights(range(seed, seed + n_inst))
    pos = max(1, n_ctx - short_by)
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, c.d_vocab, (n_inst, batch, pos), generator=g)
    expected = reference_forward(model, tokens)
    torch.testing.assert_close(model(tokens), expected, rtol=0, atol=1e-10)
    torch.testing.assert_close(
        model.answer_logits(tokens), expected[..., -1, :], rtol=0, atol=1e-10
    )

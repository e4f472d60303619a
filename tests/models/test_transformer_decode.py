"""The cached greedy decoder writes what the plain decoder writes (which runs the whole model on
the buffer at every step), on random float64 transformers of every architecture option with
every parameter perturbed, and on rows whose prompts and answers differ in length."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from algolens.errors import ConfigError
from algolens.models.transformer import Transformer, TransformerConfig
from algolens.models.transformer_decode import cached_greedy_decode, can_cache
from algolens.tasks.sequence import greedy_decode, pack

VOCAB = 9  # ids 0..5 content, 6 sep, 7 eos, 8 pad
SEP, EOS, PAD = 6, 7, 8


def random_model(seed: int, **cfg) -> Transformer:
    base = dict(d_vocab=VOCAB, d_vocab_out=VOCAB, n_ctx=16, d_model=16, d_head=4, n_heads=2,
                d_mlp=24, n_layers=2, dtype="float64")  # fmt: skip
    model = Transformer(TransformerConfig(**{**base, **cfg}))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():  # biases, LayerNorm scales and shifts too
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


def random_rows(seed: int, n: int, width: int | None = None):
    gen = torch.Generator().manual_seed(seed)
    prompts, answers = [], []
    for _ in range(n):
        lp, la = (int(x) for x in torch.randint(1, 6, (2,), generator=gen))
        prompts.append(torch.randint(0, 6, (lp,), generator=gen).tolist())
        answers.append(torch.randint(0, 6, (la,), generator=gen).tolist())
    return pack(prompts, answers, sep=SEP, eos=EOS, pad=PAD, width=width)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    layernorm=st.booleans(),
    act=st.sampled_from(["relu", "gelu"]),
    bias=st.sampled_from(["frozen", "trainable", "none"]),
    n_heads=st.sampled_from([1, 2]),
    n_layers=st.integers(1, 3),
    n_inst=st.integers(1, 3),
    n_rows=st.integers(1, 7),
)
def test_cached_decoding_writes_what_the_plain_decoder_writes(
    seed, layernorm, act, bias, n_heads, n_layers, n_inst, n_rows
):
    model = random_model(seed, layernorm=layernorm, act=act, bias=bias, n_heads=n_heads,
                         n_layers=n_layers, n_inst=n_inst)  # fmt: skip
    data = random_rows(seed, n_rows)
    assert can_cache(model)
    plain = greedy_decode(lambda t: model(t), data, n_inst)
    cached = cached_greedy_decode(model, data, n_inst)
    assert cached.dtype == torch.int64 and torch.equal(cached, plain)


def test_more_steps_than_room_stop_at_the_buffer_end_as_the_plain_decoder_does():
    model = random_model(3, n_inst=2)
    data = random_rows(4, 6, width=13)
    for steps in (1, 4, 12):
        plain = greedy_decode(lambda t: model(t), data, 2, steps=steps)
        assert torch.equal(cached_greedy_decode(model, data, 2, steps=steps), plain)
    assert (plain == PAD).any()  # rows that ran out of room wrote pad


def test_a_model_with_a_hook_is_not_cached():
    model = random_model(0)
    assert can_cache(model) and not can_cache(lambda t: t)
    model.blocks[0].attn.hook_pattern.add_hook(lambda x, hook: x)
    assert not can_cache(model)
    model.reset_hooks()
    assert can_cache(model)


def test_a_sequence_longer_than_the_context_is_refused():
    model = random_model(0, n_ctx=6)
    with pytest.raises(ConfigError, match="longer than n_ctx=6"):
        cached_greedy_decode(model, random_rows(1, 4, width=12), 1, steps=8)

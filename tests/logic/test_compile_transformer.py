"""Q of the transformer follows the float network, and its circuit agrees with Q everywhere."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from algolens.errors import ConfigError, SpecError
from algolens.logic.compile_transformer import compile_transformer
from algolens.logic.evaluate import evaluate
from algolens.logic.quantize_transformer import (
    float_forward,
    quantize_transformer,
    transformer_weights,
)
from algolens.models.transformer import Transformer, TransformerConfig
from tests.logic.threshold_examples import all_sequences


def tiny(seed: int, **kw) -> Transformer:
    base = dict(d_vocab=5, d_vocab_out=4, n_ctx=3, d_model=6, d_head=3, n_heads=2, d_mlp=8)
    model = Transformer(TransformerConfig(**(base | kw)))
    model.init_weights([seed])
    if kw.get("bias") == "trainable":
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "b_" in name:
                    p.normal_(0, 0.1, generator=torch.Generator().manual_seed(seed))
    return model


CASES = {
    "relu-1layer-4bit": (dict(), 4),
    "relu-1layer-8bit-bias": (dict(bias="trainable"), 8),
    "gelu-2layer-4bit": (dict(act="gelu", n_layers=2, bias="trainable"), 4),
    "relu-2layer-6bit-nobias-4pos": (dict(n_layers=2, bias="none", n_ctx=4, d_vocab=3), 6),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_random_tiny_transformer_circuit_agrees_with_q_on_every_input(case):
    kw, bits = CASES[case]
    model = tiny(len(case), **kw)
    seqs = all_sequences(model.cfg.n_ctx, model.cfg.d_vocab)
    q = quantize_transformer(model, seqs, bits)
    circuit = compile_transformer(q)
    assert evaluate(circuit, seqs).tolist() == q.predict(seqs).tolist()


def test_group_format_with_a_constant_equals_position():
    model = tiny(3, d_vocab=6, d_vocab_out=5)
    seqs = np.array([[a, b, 5] for a in range(5) for b in range(5)])
    q = quantize_transformer(model, seqs, 6)
    folded = compile_transformer(q, [range(5), range(5), [5]])
    assert evaluate(folded, seqs).tolist() == q.predict(seqs).tolist()
    assert folded.n_gates < compile_transformer(q).n_gates  # '=' is folded to constants


@pytest.mark.parametrize("act", ["relu", "gelu"])
def test_float_reference_is_the_model(act):
    model = tiny(1, act=act, n_layers=2, bias="trainable")
    seqs = all_sequences(3, 5)
    logits, _ = float_forward(transformer_weights(model), seqs)
    with torch.no_grad():
        want = model(torch.tensor(seqs), answer=True).double().numpy()
    np.testing.assert_allclose(logits, want, atol=1e-5)


def test_q_follows_the_float_network_at_high_precision():
    model = tiny(2)
    seqs = all_sequences(3, 5)
    float_answers = float_forward(transformer_weights(model), seqs)[0].argmax(-1)
    agree = [
        (quantize_transformer(model, seqs, b).predict(seqs) == float_answers).mean()
        for b in (3, 12)
    ]
    assert agree[1] >= 0.97 and agree[1] >= agree[0]


def test_unsupported_layers_and_bits():
    seqs = all_sequences(3, 5)
    with pytest.raises(SpecError, match="LayerNorm"):
        quantize_transformer(tiny(0, layernorm=True), seqs)
    for bad in (1, 17, 8.0, True):
        with pytest.raises(ConfigError, match="--bits must be an integer from 2 to 16"):
            quantize_transformer(tiny(0), seqs, bad)


def test_small_embedding_beside_large_mlp_outputs_keeps_its_resolution(monkeypatch):
    # one p-bit scale for the whole residual stream rounds a 50x smaller embedding to nothing;
    # per-addend shifts keep it at p bits
    import algolens.logic.quantize_transformer as qt

    model = tiny(5, d_vocab=7, d_vocab_out=7)
    with torch.no_grad():
        model.embed.W_E.mul_(0.02)
        model.pos_embed.W_pos.mul_(0.02)
        for w in (
            model.blocks[0].mlp.W_in,
            *(getattr(model.blocks[0].attn, f"W_{x}") for x in "QKV"),
        ):
            w.mul_(50.0)
    seqs = all_sequences(3, 7)
    float_answers = float_forward(transformer_weights(model), seqs)[0].argmax(-1)
    q = quantize_transformer(model, seqs, 8)
    assert (q.predict(seqs) == float_answers).mean() >= 0.9  # measured 95 %
    assert evaluate(compile_transformer(q), seqs).tolist() == q.predict(seqs).tolist()
    monkeypatch.setattr(qt, "MAX_STREAM_SHIFT", 0)  # one scale for every addend
    flat = quantize_transformer(model, seqs, 8)
    assert (flat.predict(seqs) == float_answers).mean() <= 0.5  # measured 0 %

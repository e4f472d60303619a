"""LayerNorm: the fused form (no hook on its scale or normalized stream) and the hooked form both
compute ``(x - mean) / sqrt(var + 1e-5) · w + b`` over ``d_model``, written out here in float64;
a hook on either point still sees and edits the stream."""

from __future__ import annotations

import pytest
import torch

from algolens.models.hooks import has_hooks
from algolens.models.transformer import Transformer, TransformerConfig
from algolens.models.transformer_blocks import LayerNorm


def layernorm_by_definition(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``x [inst, batch, pos, d]``, ``w, b [inst, d]``; the biased variance, as in the papers."""
    mean = x.sum(-1, keepdim=True) / x.shape[-1]
    var = ((x - mean) ** 2).sum(-1, keepdim=True) / x.shape[-1]
    return (x - mean) / torch.sqrt(var + 1e-5) * w[:, None, None, :] + b[:, None, None, :]


def random_model(n_inst: int, seed: int = 0) -> Transformer:
    cfg = TransformerConfig(d_vocab=7, d_vocab_out=7, n_ctx=12, d_model=16, d_head=4, n_heads=2,
                            d_mlp=24, n_layers=2, layernorm=True, act="gelu", bias="trainable",
                            n_inst=n_inst, dtype="float64")  # fmt: skip
    model = Transformer(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():  # LayerNorm scales and shifts away from 1 and 0
            p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return model


@pytest.mark.parametrize("n_inst", [1, 3])
def test_fused_layernorm_is_the_definition_with_its_gradients(n_inst: int) -> None:
    ln: LayerNorm = random_model(n_inst).blocks[0].ln1
    assert not has_hooks(ln.hook_scale) and not has_hooks(ln.hook_normalized)
    gen = torch.Generator().manual_seed(1)
    x = (3 * torch.randn(n_inst, 5, 7, 16, generator=gen, dtype=torch.float64) + 2).requires_grad_()
    upstream = torch.randn(n_inst, 5, 7, 16, generator=gen, dtype=torch.float64)
    got = ln(x)
    grads = torch.autograd.grad((got * upstream).sum(), (x, ln.w, ln.b))
    want = layernorm_by_definition(x, ln.w, ln.b)
    want_grads = torch.autograd.grad((want * upstream).sum(), (x, ln.w, ln.b))
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for g, w in zip(grads, want_grads, strict=True):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_inst", [1, 3])
def test_a_hook_on_the_scale_takes_the_written_out_form_with_the_same_logits(n_inst: int) -> None:
    model = random_model(n_inst, seed=2)
    tokens = torch.randint(0, 7, (n_inst, 4, 10), generator=torch.Generator().manual_seed(3))
    fused = model(tokens)
    seen: list[torch.Tensor] = []

    def keep(x: torch.Tensor, hook) -> None:
        seen.append(x)

    names = [n for n in model.hook_dict if n.endswith("hook_scale")]
    assert len(names) == 5  # two per block and the final one
    hooked = model.run_with_hooks(tokens, fwd_hooks=[(n, keep) for n in names])
    assert len(seen) == 5 and all(s.shape[-1] == 1 for s in seen)
    torch.testing.assert_close(hooked, fused, rtol=1e-12, atol=1e-12)


def test_a_hook_on_the_normalized_stream_edits_it() -> None:
    """Zeroing the final normalized stream leaves the shift ``b`` alone, unembedded."""
    model = random_model(1, seed=4)
    tokens = torch.randint(0, 7, (3, 10), generator=torch.Generator().manual_seed(5))
    zero = ("ln_final.hook_normalized", lambda x, hook: torch.zeros_like(x))
    edited = model.run_with_hooks(tokens, fwd_hooks=[zero])
    b_logits = model.ln_final.b[0] @ model.unembed.W_U[0] + model.unembed.b_U[0]  # [d_vocab_out]
    torch.testing.assert_close(edited, b_logits.expand_as(edited), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(model(tokens), edited)  # the hook is gone again: the fused form

"""Convert an algolens :class:`Transformer` instance into TransformerLens's own native model.

``to_tl_native(model, k)`` builds ``TransformerBridge.boot_native`` with the same sizes and copies
instance k's weights into it, for TransformerLens tools that need TL's model class.
"""

from __future__ import annotations

import torch

from algolens.models.transformer import Transformer


def to_tl_native(model: Transformer, k: int = 0) -> torch.nn.Module:
    """Instance ``k`` as a TransformerLens ``TransformerBridge`` (``boot_native``), same weights.

    For TransformerLens tools that need TL's own model class; the bridge computes the same
    function (checked in the tests) and carries the same hook names, without the ``inst`` axis.
    Biases absent here (``bias="none"``) are zero there.
    """
    from transformer_lens.model_bridge import TransformerBridge
    from transformer_lens.model_bridge.sources import boot_native

    c, one = model.cfg, model.instance(k)
    tl_cfg = dict(
        n_layers=c.n_layers,
        n_heads=c.n_heads,
        d_model=c.d_model,
        d_head=c.d_head,
        d_mlp=c.d_mlp,
        n_ctx=c.n_ctx,
        d_vocab=c.d_vocab,
        d_vocab_out=c.d_vocab_out,
        act_fn=c.act,
        normalization_type="LN" if c.layernorm else None,
        seed=0,
    )
    bridge = boot_native(tl_cfg)
    assert isinstance(bridge, TransformerBridge)
    native = bridge.original_model
    state: dict[str, torch.Tensor] = {
        "tok_embed.weight": one.embed.W_E[0],
        "pos.weight": one.pos_embed.W_pos[0],
        "head.weight": one.unembed.W_U[0].T,
        "head.bias": one.unembed.b_U[0] if one.unembed.b_U is not None else torch.zeros(0),
    }
    if c.layernorm:
        state |= {"ln_out.weight": one.ln_final.w[0], "ln_out.bias": one.ln_final.b[0]}
    for i, blk in enumerate(one.blocks):
        pre = f"layers.{i}."
        for name in ("Q", "K", "V"):
            w, b = blk.attn.projection(name)  # [1, d_model, head·d_head]
            state[pre + f"attn.{name.lower()}.weight"] = w[0].T
            state[pre + f"attn.{name.lower()}.bias"] = b[0] if b is not None else w.new_zeros(0)
        state[pre + "attn.o.weight"] = blk.attn.W_O[0].reshape(-1, c.d_model).T
        state[pre + "mlp.fc_in.weight"] = blk.mlp.W_in[0].T
        state[pre + "mlp.fc_out.weight"] = blk.mlp.W_out[0].T
        for tl_name, ours in (
            ("attn.o.bias", blk.attn.b_O),
            ("mlp.fc_in.bias", blk.mlp.b_in),
            ("mlp.fc_out.bias", blk.mlp.b_out),
        ):
            state[pre + tl_name] = ours[0] if ours is not None else w.new_zeros(0)
        if c.layernorm:
            for j in (1, 2):
                ln = getattr(blk, f"ln{j}")
                state |= {pre + f"ln{j}.weight": ln.w[0], pre + f"ln{j}.bias": ln.b[0]}
    target = native.state_dict()
    with torch.no_grad():
        for name, t in target.items():
            key = name.replace("._original_component", "")
            key = key.replace("mlp.in.", "mlp.fc_in.").replace("mlp.out.", "mlp.fc_out.")
            src = state[key]
            t.copy_(src if src.numel() else torch.zeros_like(t))
    return bridge

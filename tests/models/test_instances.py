"""Instance groups: forward_instances / answer_logits(instances=) on both architectures."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from algolens.errors import ConfigError
from algolens.models import MLP, MLPConfig, Transformer, TransformerConfig
from algolens.models.hooks import BatchedModel


def make(kind: str) -> tuple[BatchedModel, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    if kind == "mlp":
        model: BatchedModel = MLP(
            MLPConfig(d_vocab=7, d_embed=6, d_mlp=5, n_inst=4, dtype="float64")
        )
        tokens = torch.randint(0, 7, (4, 9, 2), generator=g)
    else:
        model = Transformer(
            TransformerConfig(
                d_vocab=8,
                d_vocab_out=7,
                d_model=8,
                d_head=4,
                n_heads=2,
                d_mlp=12,
                n_inst=4,
                dtype="float64",
            )
        )
        tokens = torch.randint(0, 8, (4, 9, 3), generator=g)
    model.init_weights([10, 11, 12, 13])
    return model, tokens


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
def test_groups_give_the_same_logits_and_gradients(kind: str) -> None:
    model, tokens = make(kind)
    targets = torch.randint(0, 7, (4, 9))

    def loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(-1).sum()

    full = model.answer_logits(tokens)
    loss(full, targets).backward()
    whole = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad()
    for start in (0, 1, 3):  # uneven groups: [0:1], [1:3], [3:4]
        stop = {0: 1, 1: 3, 3: 4}[start]
        part = model.answer_logits(tokens[start:stop], instances=slice(start, stop))
        torch.testing.assert_close(part, full[start:stop], rtol=0, atol=1e-12)
        loss(part, targets[start:stop]).backward()
    for name, p in model.named_parameters():
        torch.testing.assert_close(p.grad, whole[name], rtol=0, atol=1e-12, msg=name)
    assert all(
        not isinstance(t, torch.Tensor) or t.shape[0] == 4 for t in model.state_dict().values()
    )


def test_hooks_fire_with_the_group_size() -> None:
    model, tokens = make("transformer")
    seen: list[tuple[int, ...]] = []
    with model.hooks(
        fwd_hooks=[("blocks.0.attn.hook_pattern", lambda x, hook: seen.append(tuple(x.shape)))]
    ):
        model.forward_instances(slice(1, 3), tokens[1:3])
    assert seen == [(2, 9, 2, 3, 3)]


def test_bad_groups() -> None:
    model, tokens = make("mlp")
    with pytest.raises(ConfigError, match="contiguous"):
        model.answer_logits(tokens[::2], instances=slice(0, 4, 2))
    with pytest.raises(ConfigError, match=r"inst=2"):
        model.answer_logits(tokens, instances=slice(0, 2))

"""Smoke test: each model, trained full-batch with AdamW on a small group, fits its train set."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from algolens.models import build_model
from algolens.tasks import CompositionTask


@pytest.mark.parametrize(
    ("kind", "args"),
    [
        ("mlp", {"d_embed": 32, "d_mlp": 64}),
        ("transformer", {"d_model": 32, "d_head": 8, "d_mlp": 64}),
    ],
)
def test_fits_the_train_set_of_s3(kind: str, args: dict) -> None:
    task = CompositionTask("S3", 0.5, kind)  # type: ignore[arg-type]
    seeds = [1, 2]
    if kind == "mlp":
        args = args | {"d_vocab": task.n_vocab}
    else:
        args = args | {"d_vocab": task.n_vocab_in, "d_vocab_out": task.n_vocab}
    model = build_model(kind, args | {"n_inst": len(seeds)})
    model.init_weights(seeds)
    train, _ = task.splits(seeds)  # [inst, n_train]
    tokens, targets = task.inputs[train], task.targets[train]  # [inst, n_train, pos], [inst, n]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
    for _ in range(300):
        logits = model.answer_logits(tokens)  # [inst, batch, d_vocab]
        loss = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none").mean(-1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = (model.answer_logits(tokens).argmax(-1) == targets).float().mean(-1)  # [inst]
    assert (acc == 1.0).all(), acc

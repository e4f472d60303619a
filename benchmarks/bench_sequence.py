"""Sequence-task training throughput: K seeds batched by the engine against a plain PyTorch loop.

Task: binary successor (``algolens.tasks.recursion``), sizes 1..8 bits, 2000 training rows packed
as ``prompt <sep> answer <eos>``; a step reads the train rows' width (19 positions). Model: the
decoder-only transformer (1 layer, 4 heads, d_model 128, d_head 32, d_mlp 512), float32,
minibatch 64.

* ``engine K``: :class:`Trainer` with K seeds, one ``train_epoch`` (32 minibatch steps of
  forward + backward + BatchedAdamW on all K instances at once).
* ``plain loop``: the same model with one instance, ``torch.optim.AdamW`` and
  ``masked_cross_entropy``, one epoch per seed, run K times.

Throughput counts model positions read (rows x train width) per second, summed over seeds. The
variants run in interleaved rounds (load from other processes hits them alike); the table gives
medians.

Usage: .venv/bin/python benchmarks/bench_sequence.py [--k 8] [--rounds 3] [--threads 1]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from algolens.models.transformer import Transformer, TransformerConfig
from algolens.tasks.recursion.dataset import build_dataset
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.settings import RecursionArgs
from algolens.tasks.recursion.training import training_data
from algolens.tasks.sequence import masked_cross_entropy
from algolens.train.config import make_config
from algolens.train.trainer import Trainer

MODEL = {"n_layers": 1, "n_heads": 4, "d_model": 128, "d_head": 32, "d_mlp": 512}


def engine_epoch(trainer: Trainer) -> float:
    t0 = time.perf_counter()
    trainer.train_epoch()
    return time.perf_counter() - t0


def plain_epochs(models, opts, train, batch: int, gen: torch.Generator, w: int) -> float:
    t0 = time.perf_counter()
    for model, opt in zip(models, opts):
        perm = torch.randperm(len(train), generator=gen)
        for s in range(0, len(train), batch):
            b = train.subset(perm[s : s + batch])
            x, y, mask = b.inputs[:, :w], b.targets[:, :w], b.mask[:, :w]
            loss = masked_cross_entropy(model(x[None]), y, mask).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    args = RecursionArgs(max_size=8, n_train=2000, n_test=100, n_ood=10)
    ds = build_dataset(FUNCTIONS["successor"], args.split_spec(), 0)
    cfg = make_config(
        None, task="recursion", function="successor", recursion=args.model_dump(),
        seeds=list(range(a.k)), model_args=MODEL, batch_size=64, lr=3e-3, weight_decay=0.01,
        loss_dtype="float32",
    )  # fmt: skip
    trainer = Trainer(cfg, training_data(cfg, ds))
    train = trainer.task.splits["train"]
    tcfg = TransformerConfig(
        d_vocab=trainer.task.n_vocab_in, d_vocab_out=trainer.task.n_vocab,
        n_ctx=trainer.task.seq_len, **MODEL,
    )  # fmt: skip
    models = []
    for seed in range(a.k):
        m = Transformer(tcfg)
        m.init_weights([seed])
        models.append(m)
    opts = [torch.optim.AdamW(m.parameters(), lr=3e-3, weight_decay=0.01) for m in models]
    gen = torch.Generator().manual_seed(0)
    w = trainer.train_width
    positions = len(train) * w * a.k  # per epoch, all seeds
    times: dict[str, list[float]] = {f"engine K={a.k}": [], f"plain loop x{a.k}": []}
    engine_epoch(trainer)  # warm-up
    plain_epochs(models[:1], opts[:1], train, 64, gen, w)
    for _ in range(a.rounds):
        times[f"engine K={a.k}"].append(engine_epoch(trainer))
        times[f"plain loop x{a.k}"].append(plain_epochs(models, opts, train, 64, gen, w))
    print(f"CPU: {platform.processor() or platform.machine()}, torch threads {a.threads}, "
          f"{a.rounds} rounds, {positions} positions per epoch (all seeds)")  # fmt: skip
    print(f"{'variant':<18} {'median s/epoch':>15} {'positions/s':>12}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<18} {med:>15.3f} {positions / med:>12.0f}")


if __name__ == "__main__":
    main()

"""Sweep throughput: K seeds of the S5 MLP as one batched model vs a plain per-seed PyTorch loop.

One model-epoch = forward + backward + AdamW step on one seed's full training batch (S5, train
fraction 0.4: 5760 of the 14400 pairs; embed 256, hidden 128; lr 1e-3, wd 1, betas (0.9, 0.98)).
No evaluation is timed. Both sides run in this process with the same threads and loss dtype:

* ``ours``: :class:`algolens.train.Trainer` with ``--seeds`` seeds, ``train_epoch()`` repeated
  (folded embeddings, the fused loss-and-gradient pass of ``algolens.models.mlp_fused``,
  :class:`BatchedAdamW` on torch's fused AdamW kernel, NaN checks included).
* ``plain``: for each seed its own ``nn.Module`` (two ``nn.Embedding``, concat, ``nn.Linear``
  512->128, ReLU, ``nn.Linear`` 128->120, no biases) and ``torch.optim.AdamW``, full batch.

Achieved GFLOP/s counts the matmul FLOPs the algorithm needs per model-epoch (forward and
backward); the reference is a large float32 matmul timed in the same run (the machine's practical
peak at this thread count).

Usage: .venv/bin/python benchmarks/bench_sweep.py [--seeds 32] [--epochs 10] [--plain-epochs 3]
       [--threads 2] [--loss-dtype float32|float64]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
import torch.nn.functional as F
from torch import nn

from algolens.tasks import CompositionTask
from algolens.train import Trainer, make_config

D_EMBED, D_MLP = 256, 128


class PlainMLP(nn.Module):
    """The papers' MLP written the obvious way, one seed."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = nn.Embedding(n, D_EMBED)
        self.right = nn.Embedding(n, D_EMBED)
        self.hidden = nn.Linear(2 * D_EMBED, D_MLP, bias=False)
        self.out = nn.Linear(D_MLP, n, bias=False)

    def forward(self, ab: torch.Tensor) -> torch.Tensor:
        x = torch.cat([self.left(ab[:, 0]), self.right(ab[:, 1])], dim=1)  # [batch, 512]
        return self.out(F.relu(self.hidden(x)))  # [batch, d_vocab]


def _plain_step(model: nn.Module, opt, x: torch.Tensor, y: torch.Tensor, loss_dtype) -> None:
    loss = F.cross_entropy(model(x).to(loss_dtype), y)
    opt.zero_grad()
    loss.backward()
    opt.step()


def time_plain(task: CompositionTask, seeds: list[int], epochs: int, loss_dtype) -> float:
    """Seconds per model-epoch of the per-seed loop (median over seeds of mean epoch time)."""
    per_seed = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = PlainMLP(task.n_vocab)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
        train_idx, _ = task.split(seed)
        x, y = task.inputs[train_idx], task.targets[train_idx]

        _plain_step(model, opt, x, y, loss_dtype)  # warm-up
        t0 = time.perf_counter()
        for _ in range(epochs):
            _plain_step(model, opt, x, y, loss_dtype)
        per_seed.append((time.perf_counter() - t0) / epochs)
    return statistics.median(per_seed)


def time_ours(k: int, epochs: int, loss_dtype: str) -> float:
    """Seconds per model-epoch of the batched trainer (wall per epoch / K)."""
    cfg = make_config(
        "paper", group="S5", seeds=list(range(k)), epochs=epochs + 1, loss_dtype=loss_dtype
    )
    trainer = Trainer(cfg)
    trainer.train_epoch()  # warm-up
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        trainer.train_epoch()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / k


def matmul_gflops(n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def flops_ours(n_train: int, n: int) -> float:
    """Matmul FLOPs per model-epoch of the folded MLP (forward + backward)."""
    fold = 2 * (2 * n * D_EMBED * D_MLP)  # W_a, W_b
    unembed = 2 * n_train * D_MLP * n
    return 3 * fold + 3 * unembed  # backward = 2 matmuls per forward matmul


def flops_plain(n_train: int, n: int) -> float:
    return 3 * (2 * n_train * 2 * D_EMBED * D_MLP) + 3 * (2 * n_train * D_MLP * n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=10, help="timed epochs of the batched run")
    ap.add_argument("--plain-epochs", type=int, default=3, help="timed epochs per plain seed")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--loss-dtype", default="float32", choices=["float32", "float64"])
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dt = {"float32": torch.float32, "float64": torch.float64}[args.loss_dtype]
    task = CompositionTask("S5", 0.4, fmt="mlp")
    n, n_train = task.n_vocab, task.n_train
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor()}")
    print(f"S5 MLP, {n_train} training pairs, loss in {args.loss_dtype}, {args.seeds} seeds")
    peak = matmul_gflops()
    ours = time_ours(args.seeds, args.epochs, args.loss_dtype)
    plain = time_plain(task, list(range(args.seeds)), args.plain_epochs, dt)
    peak_after = matmul_gflops()
    g_ours = flops_ours(n_train, n) / ours / 1e9
    g_plain = flops_plain(n_train, n) / plain / 1e9
    print(f"large matmul      {peak:8.1f} GFLOP/s (after the runs: {peak_after:.1f})")
    print(f"plain per-seed    {1 / plain:8.1f} model-epochs/s  {g_plain:6.1f} GFLOP/s")
    print(f"ours K={args.seeds:<3}       {1 / ours:8.1f} model-epochs/s  {g_ours:6.1f} GFLOP/s "
          f"(of the FLOPs the folded algebra needs)")  # fmt: skip
    print(f"ratio ours/plain  {plain / ours:8.1f}x")


if __name__ == "__main__":
    main()

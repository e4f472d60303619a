"""Sweep throughput of the batched S5 MLP trainer, and the moonshot: 32 seeds to the clean-up
criterion.

**Throughput** (default). One model-epoch = forward + backward + AdamW step on one seed's full
training batch (S5, train fraction 0.4: 5760 of the 14400 pairs; embed 256, hidden 128, the
papers' MLP; lr 1e-3, wd 1, betas (0.9, 0.98)); no evaluation is timed. Everything is measured in
this one process, at 1 thread and at each thread count up to ``--threads``, in interleaved rounds
(the median of the rounds is reported), so that load from other processes hits all alike:

* ``ours``: :class:`algolens.train.Trainer` with ``--seeds`` seeds, ``train_epoch()`` repeated
  (folded embeddings, the fused pass of ``algolens.models.mlp_fused``, :class:`BatchedAdamW`,
  NaN checks), with as many chunk workers as threads (``algolens.train.chunks``); ``fp32`` and
  ``bf16`` (``matmul_dtype="bfloat16"``: the unembedding matmuls in bfloat16).
* ``plain``: for each seed its own ``nn.Module`` (two ``nn.Embedding``, concat, ``nn.Linear``
  512->128, ReLU, ``nn.Linear`` 128->120, no biases) and ``torch.optim.AdamW``, full batch, with
  torch's intra-op threads.
* ``peak``: a large (2048³) matmul in float32 and in bfloat16 at the same thread count.
* the lead of issue 13: one 2-D matmul at the model's shape (5760×128×120) against ``bmm`` over
  32 instances of it, float32 and bfloat16.

Achieved GFLOP/s counts the matmul FLOPs the folded algebra needs per model-epoch (forward and
backward), against the float32 peak.

**Moonshot** (``--moonshot``): ``--seeds`` seeds (default 32) of the fast recipe trained as one
batched run until every seed meets the clean-up criterion of docs/training.md (test loss <= 1e-3
and train loss <= 1e-4), evaluated every ``--eval-every`` epochs; with ``--cleanup-wd W`` the
weight decay drops to W (and the learning rate is multiplied by ``--cleanup-lr-scale``) once every
seed has >= 99.9 % test accuracy. Wall time from building the
trainer to the criterion (no run store), the CPU time, the load average.

Usage: .venv/bin/python benchmarks/bench_sweep.py [--seeds 32] [--epochs 10] [--plain-epochs 3]
       [--threads 2] [--rounds 3] [--loss-dtype float32|float64]
       .venv/bin/python benchmarks/bench_sweep.py --moonshot [--threads 2] [--bf16]
       [--weight-decay 1] [--cleanup-wd 0.1] [--cleanup-lr-scale 0.2] [--max-epochs 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from algolens.tasks import CompositionTask
from algolens.tasks.composition.training import training_data
from algolens.train import Trainer, make_config
from bench_grok import cpu_model

D_EMBED, D_MLP = 256, 128
CLEAN_TEST, CLEAN_TRAIN = 1e-3, 1e-4  # the clean-up criterion (docs/training.md)


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


Runner = Callable[[int], tuple[float, float]]


def plain_runner(task: CompositionTask, seeds: list[int], loss_dtype) -> Runner:
    """A function ``epochs -> (wall, CPU) seconds per model-epoch`` of the per-seed loop over
    ``seeds`` (CPU: the whole process's, all threads)."""
    setups = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = PlainMLP(task.n_vocab)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
        train_idx, _ = task.split(seed)
        setups.append((model, opt, task.inputs[train_idx], task.targets[train_idx]))

    def run(epochs: int) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        for model, opt, x, y in setups:
            for _ in range(epochs):
                loss = F.cross_entropy(model(x).to(loss_dtype), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        n = epochs * len(setups)
        return (time.perf_counter() - t0) / n, (time.process_time() - c0) / n

    return run


def ours_runner(k: int, workers: int, loss_dtype: str, bf16: bool) -> Runner:
    """A function ``epochs -> (wall, CPU) seconds per model-epoch`` of the batched trainer."""
    args = {"matmul_dtype": "bfloat16"} if bf16 else {}
    cfg = make_config(
        "paper", group="S5", seeds=list(range(k)), loss_dtype=loss_dtype, model_args=args
    )
    trainer = Trainer(cfg, training_data(cfg), workers=workers)

    def run(epochs: int) -> tuple[float, float]:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(epochs):
            trainer.train_epoch()
        return (time.perf_counter() - t0) / (epochs * k), (time.process_time() - c0) / (epochs * k)

    return run


def best_time(fn: Callable[[], object], reps: int) -> float:
    """Seconds per call of ``fn``: the best of ``reps`` after one warm-up call."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def matmul_rates(reps: int = 5) -> dict[str, float]:
    """GFLOP/s at the current thread count: the 2048³ peak and the model-shape lead."""
    out = {}
    fl = 2 * 5760 * D_MLP * 120
    for name, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(2048, 2048).to(dt)
        h, w = torch.randn(32, 5760, D_MLP).to(dt), torch.randn(32, D_MLP, 120).to(dt)
        out[f"peak {name}"] = 2 * 2048**3 / best_time(lambda a=a: a @ a, reps) / 1e9
        out[f"2-D {name}"] = fl / best_time(lambda h=h, w=w: h[0] @ w[0], 4 * reps) / 1e9
        out[f"bmm32 {name}"] = 32 * fl / best_time(lambda h=h, w=w: torch.bmm(h, w), reps) / 1e9
    return out


def flops_ours(n_train: int, n: int) -> float:
    """Matmul FLOPs per model-epoch of the folded MLP (forward + backward)."""
    fold = 2 * (2 * n * D_EMBED * D_MLP)  # W_a, W_b
    unembed = 2 * n_train * D_MLP * n
    return 3 * fold + 3 * unembed  # backward = 2 matmuls per forward matmul


def flops_plain(n_train: int, n: int) -> float:
    return 3 * (2 * n_train * 2 * D_EMBED * D_MLP) + 3 * (2 * n_train * D_MLP * n)


def throughput(args: argparse.Namespace) -> None:
    """The throughput tables (see the module docstring)."""
    dt = {"float32": torch.float32, "float64": torch.float64}[args.loss_dtype]
    task = CompositionTask("S5", 0.4, fmt="mlp")
    n, n_train = task.n_vocab, task.n_train
    print(f"S5 MLP, {n_train} training pairs, loss in {args.loss_dtype}, {args.seeds} seeds")
    counts = list(range(1, args.threads + 1))
    runners: dict[tuple[int, str], Runner] = {}
    for t in counts:
        torch.set_num_threads(t)
        runners[(t, "plain")] = plain_runner(task, list(range(args.plain_seeds)), dt)
        for bf16 in (False, True):
            r = ours_runner(args.seeds, t, args.loss_dtype, bf16)
            r(1)  # warm-up (scratch buffers, kernel probes)
            runners[(t, "bf16" if bf16 else "fp32")] = r
    times: dict[tuple[int, str], list[tuple[float, float]]] = {key: [] for key in runners}
    rates: dict[int, list[dict[str, float]]] = {t: [] for t in counts}
    for _ in range(args.rounds):
        for t in counts:
            torch.set_num_threads(t)
            rates[t].append(matmul_rates())
            for key, run in runners.items():
                if key[0] == t:
                    epochs = args.plain_epochs if key[1] == "plain" else args.epochs
                    times[key].append(run(epochs))
    need_ours, need_plain = flops_ours(n_train, n), flops_plain(n_train, n)
    med = {key: statistics.median(w for w, _ in v) for key, v in times.items()}
    cpu = {key: statistics.median(c for _, c in v) for key, v in times.items()}
    print(f"medians of {args.rounds} interleaved rounds; load average {os.getloadavg()}")
    for t in counts:
        r = {name: statistics.median(d[name] for d in rates[t]) for name in rates[t][0]}
        peak = r["peak fp32"]
        print(f"\n{t} thread(s): large matmul {peak:.0f} GFLOP/s fp32, {r['peak bf16']:.0f} bf16;"
              f" lead: 2-D {r['2-D fp32']:.0f} / bmm×32 {r['bmm32 fp32']:.0f} fp32, "
              f"2-D {r['2-D bf16']:.0f} / bmm×32 {r['bmm32 bf16']:.0f} bf16")  # fmt: skip
        for name, need in (("plain", need_plain), ("fp32", need_ours), ("bf16", need_ours)):
            s = med[(t, name)]
            label = "plain per-seed loop" if name == "plain" else f"ours K={args.seeds} {name}"
            gf = need / s / 1e9
            print(f"  {label:22s} {1 / s:7.1f} model-epochs/s  {gf:6.1f} GFLOP/s "
                  f"({100 * gf / peak:3.0f} % of the fp32 peak)  ×{med[(1, name)] / s:.2f} of 1 "
                  f"thread  ×{med[(t, 'plain')] / s:.2f} of plain  "
                  f"{1e3 * cpu[(t, name)]:.1f} CPU-ms per model-epoch")  # fmt: skip


def moonshot(args: argparse.Namespace) -> None:
    """Train the fast recipe to the clean-up criterion; print the wall time (see docstring)."""
    torch.set_num_threads(args.threads)
    model_args = {"matmul_dtype": "bfloat16"} if args.bf16 else {}
    over = {} if args.weight_decay is None else {"weight_decay": args.weight_decay}
    cfg = make_config(
        "fast", group="S5", seeds=list(range(args.seeds)), epochs=args.max_epochs,
        early_stop=False, model_args=model_args, **over,
    )  # fmt: skip
    print(f"moonshot: {args.seeds} seeds, fast recipe (lr {cfg.lr}, wd {cfg.weight_decay}), "
          f"clean-up wd {args.cleanup_wd} and lr × {args.cleanup_lr_scale}, "
          f"{'bf16' if args.bf16 else 'fp32'} matmuls, "
          f"{args.threads} thread(s), load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    trainer = Trainer(cfg, training_data(cfg))
    grokked_at = None
    while trainer.epoch < args.max_epochs:
        for _ in range(args.eval_every):
            trainer.train_epoch()
        ev = trainer.evaluate()
        if grokked_at is None and bool((ev.test_acc >= 0.999).all()):
            grokked_at = trainer.epoch
            if args.cleanup_wd is not None:  # the clean-up phase
                trainer.optim.weight_decay = args.cleanup_wd
                lr = trainer.config.lr * args.cleanup_lr_scale
                trainer.config = trainer.config.model_copy(update={"lr": lr})
        clean = (ev.test_loss <= CLEAN_TEST) & (ev.train_loss <= CLEAN_TRAIN)
        if trainer.epoch % (10 * args.eval_every) == 0 or bool(clean.all()):
            te, tr = float(ev.test_loss.max()), float(ev.train_loss.max())
            print(f"  epoch {trainer.epoch}: {int(clean.sum())}/{args.seeds} clean, max test loss "
                  f"{te:.2e}, max train loss {tr:.2e}, {time.perf_counter() - t0:.0f} s",
                  flush=True)  # fmt: skip
        if bool(clean.all()):
            break
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    done = "every seed clean" if bool(clean.all()) else "NOT every seed clean"
    print(f"{done} at epoch {trainer.epoch} (all >= 99.9 % test accuracy at {grokked_at}): "
          f"{wall:.1f} s wall, {cpu:.1f} s CPU, "
          f"{args.seeds * trainer.epoch / wall:.0f} model-epochs/s incl. evaluation; load average "
          f"{os.getloadavg()[0]:.1f} after")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=32)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="largest count")
    ap.add_argument("--epochs", type=int, default=10, help="timed epochs of ours per round")
    ap.add_argument("--plain-epochs", type=int, default=3, help="timed epochs per plain seed")
    ap.add_argument("--plain-seeds", type=int, default=4, help="seeds of the plain loop")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds")
    ap.add_argument("--loss-dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--moonshot", action="store_true", help="train to the clean-up criterion")
    ap.add_argument("--bf16", action="store_true", help="moonshot: bfloat16 unembedding matmuls")
    ap.add_argument("--weight-decay", type=float, default=None, help="moonshot: recipe's wd")
    ap.add_argument("--cleanup-wd", type=float, default=None, help="moonshot: wd once grokked")
    ap.add_argument("--cleanup-lr-scale", type=float, default=1.0, help="moonshot: lr factor then")
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--max-epochs", type=int, default=20000)
    args = ap.parse_args()
    print(f"{cpu_model()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability()})")  # fmt: skip
    moonshot(args) if args.moonshot else throughput(args)


if __name__ == "__main__":
    main()

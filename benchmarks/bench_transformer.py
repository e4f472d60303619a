"""Transformer epoch time: algolens's batched Transformer against TransformerLens's native model.

One epoch = forward + backward + AdamW step on the full training batch of the S5 composition task
in the transformer format ``[a, b, =]`` (train fraction 0.6, 8640 rows), with the Chughtai et al.
model: 1 layer, 4 heads, d_model 128, d_head 32, d_mlp 512, ReLU, no LayerNorm, frozen zero
biases; loss = cross-entropy of the last position's logits in float64 (as in the paper).

Timed in the same process, same threads, same data:

* ``tl-native``: ``TransformerBridge.boot_native`` (TransformerLens 4.x), full forward through the
  bridge, biases frozen with ``requires_grad_(False)`` so AdamW skips them as in the paper.
* ``ours K=1 full``: our model, ``model(tokens)[..., -1, :]`` (all positions, like TL).
* ``ours K=1 answer``: ``model.answer_logits(tokens)`` (last block after attention at the last
  position only).
* ``ours K=8``: eight seeds as one model (answer path and full path); per-model time = total / 8.

Variants run in interleaved rounds so that load from other processes hits all of them alike;
the table gives the median and the minimum epoch time of each.

Differences that remain in the TL model: its unembedding has no bias (ours adds a frozen zero
``b_U``), and its init scales output projections by 1/sqrt(2·n_layers) (no effect on time).

Usage: .venv/bin/python benchmarks/bench_transformer.py [--rounds 5] [--epochs 4] [--threads 1]
       [--k 8] [--device cpu]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from algolens.models import Transformer, TransformerConfig
from algolens.tasks import CompositionTask


def make_step(params, logits_fn: Callable[[], torch.Tensor], targets: torch.Tensor):
    """Full-batch AdamW step (lr 1e-3, wd 1, betas (0.9, 0.98))."""
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))

    def step() -> None:
        logits = logits_fn().to(torch.float64)  # [inst, batch, d_vocab] or [batch, d_vocab]
        if logits.ndim == 2:
            loss = F.cross_entropy(logits, targets)
        else:  # each instance's own mean loss, summed: instances train independently
            per_row = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
            loss = per_row.mean(-1).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def tl_native(task: CompositionTask, device: str):
    from transformer_lens.model_bridge import TransformerBridge
    from transformer_lens.model_bridge.sources import boot_native

    assert TransformerBridge.boot_native is not None and boot_native is not None
    cfg = dict(
        n_layers=1,
        n_heads=4,
        d_model=128,
        d_head=32,
        d_mlp=512,
        n_ctx=3,
        d_vocab=task.n_vocab_in,
        d_vocab_out=task.n_vocab,
        act_fn="relu",
        normalization_type=None,
        seed=1,
    )
    bridge = TransformerBridge.boot_native(cfg, device=device)
    for name, p in bridge.named_parameters():
        if name.endswith(".bias"):
            p.requires_grad_(False)  # frozen biases, as in the paper
    return bridge


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4, help="timed epochs per variant per round")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--k", type=int, default=8, help="instances in the batched run")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device

    task = CompositionTask("S5", 0.6, "transformer")
    train_idx, _ = task.split(1)
    x1 = task.inputs[train_idx].to(dev)  # [batch, pos]
    y1 = task.targets[train_idx].to(dev)  # [batch]
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    print(
        f"machine: {platform.processor() or platform.machine()}, device {dev}, torch "
        f"{torch.__version__}, threads {torch.get_num_threads()}; S5 [a,b,=], "
        f"{len(train_idx)} train rows; {args.rounds} interleaved rounds of {args.epochs} epochs"
    )
    steps: dict[str, tuple[Callable[[], None], int]] = {}  # name -> (step, models per step)

    bridge = tl_native(task, dev)
    trainable = [p for p in bridge.parameters() if p.requires_grad]
    steps["tl-native K=1"] = (make_step(trainable, lambda: bridge(x1)[:, -1], y1), 1)

    def ours(k: int, answer: bool) -> Callable[[], None]:
        cfg = TransformerConfig(d_vocab=task.n_vocab_in, d_vocab_out=task.n_vocab, n_inst=k)
        model = Transformer(cfg).to(dev)
        model.init_weights(range(1, k + 1))
        xs = x1.expand(k, -1, -1)  # [inst, batch, pos]
        ys = y1.expand(k, -1)  # [inst, batch]
        if answer:
            fn = lambda: model.answer_logits(xs)  # noqa: E731
        else:
            fn = lambda: model(xs)[..., -1, :]  # noqa: E731
        return make_step(list(model.parameters()), fn, ys)

    steps["ours K=1 full"] = (ours(1, answer=False), 1)
    steps["ours K=1 answer"] = (ours(1, answer=True), 1)
    steps[f"ours K={args.k} full (per model)"] = (ours(args.k, answer=False), args.k)
    steps[f"ours K={args.k} answer (per model)"] = (ours(args.k, answer=True), args.k)

    def run(step: Callable[[], None]) -> float:
        t0 = time.perf_counter()
        step()
        sync()
        return time.perf_counter() - t0

    times: dict[str, list[float]] = {name: [] for name in steps}
    for step, _ in steps.values():  # warm-up
        for _ in range(2):
            run(step)
    for _ in range(args.rounds):  # interleaved, so machine load hits every variant alike
        for name, (step, k) in steps.items():
            times[name] += [run(step) / k for _ in range(args.epochs)]

    base = statistics.median(times["tl-native K=1"])
    print(f"{'variant':34s} {'median ms':>10s} {'min ms':>8s} {'speed-up vs TL (median)':>24s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:34s} {1e3 * med:10.1f} {1e3 * min(ts):8.1f} {base / med:23.2f}x")


if __name__ == "__main__":
    main()

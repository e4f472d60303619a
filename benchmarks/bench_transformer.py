"""Transformer epoch time: algolens's batched Transformer against TransformerLens's native model.

One epoch = forward + backward + AdamW step on the full training batch of a group composition
task in the transformer format ``[a, b, =]`` (default S5, train fraction 0.6: 8640 rows), with
the Chughtai et al. model: 1 layer, 4 heads, d_model 128, d_head 32, d_mlp 512, ReLU, no
LayerNorm, frozen zero biases; loss = cross-entropy of the last position's logits in float64 (as
in the paper; for K instances, the sum of each instance's mean loss).

Timed in the same process, same threads, same data:

* ``tl-native``: ``TransformerBridge.boot_native`` (TransformerLens 4.x), full forward through the
  bridge, biases frozen with ``requires_grad_(False)`` so AdamW skips them as in the paper.
* ``ours K=1 full``: our model, ``model(tokens)[..., -1, :]`` (all positions, like TL).
* ``ours K=1 answer``: ``model.answer_logits(tokens)`` (last block after attention at the last
  position only), what the trainer calls.
* ``ours K=8``: eight seeds as one model (answer path and full path); per-model time = total / 8.
* ``ours K=8, groups of 2``: the same model, forward + backward per group of two instances
  (``answer_logits(tokens[g], instances=g)``), one AdamW step.

With ``--mlp`` it times the one-hidden-layer MLP instead (default train fraction 0.4): our folded
forward (``W_a[a] + W_b[b]`` lookups) against the naive formula on the same parameters (gather
both embeddings, concatenate, matmul), at K=1 and K=8.

Variants run in interleaved rounds so that load from other processes hits all of them alike;
the table gives the median and the minimum epoch time of each.

Differences that remain in the TL model: its unembedding has no bias (ours adds a frozen zero
``b_U``), and its init scales output projections by 1/sqrt(2·n_layers) (no effect on time).

Usage: .venv/bin/python benchmarks/bench_transformer.py [--group S5] [--frac F] [--mlp]
       [--rounds 5] [--epochs 4] [--threads 1] [--k 8] [--device cpu]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from algolens.models import MLP, BatchedModel, MLPConfig, Transformer, TransformerConfig
from algolens.tasks import CompositionTask


def loss_of(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy in float64; for ``[inst, batch, d_vocab]`` the sum of per-instance means."""
    logits = logits.to(torch.float64)
    if logits.ndim == 2:
        return F.cross_entropy(logits, targets)
    per_row = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return per_row.mean(-1).sum()  # instances train independently


def make_step(params, logits_fn: Callable[[], torch.Tensor], targets: torch.Tensor):
    """Full-batch AdamW step (lr 1e-3, wd 1, betas (0.9, 0.98))."""
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))

    def step() -> None:
        loss = loss_of(logits_fn(), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def make_group_step(model: BatchedModel, tokens: torch.Tensor, targets: torch.Tensor, g: int):
    """As :func:`make_step`, but forward + backward per group of ``g`` instances."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1.0, betas=(0.9, 0.98))
    k = tokens.shape[0]

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        for s in range(0, k, g):
            group = slice(s, min(s + g, k))
            loss_of(model.answer_logits(tokens[group], instances=group), targets[group]).backward()
        opt.step()

    return step


def tl_native(task: CompositionTask, device: str) -> torch.nn.Module:
    """``TransformerBridge.boot_native`` with the Chughtai configuration, biases frozen."""
    from transformer_lens.model_bridge import TransformerBridge
    from transformer_lens.model_bridge.sources import boot_native

    assert TransformerBridge.boot_native is not None and boot_native is not None
    cfg = dict(
        n_layers=1,
        n_heads=4,
        d_model=128,
        d_head=32,
        d_mlp=512,
        n_ctx=task.seq_len,
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


def naive_mlp_logits(model: MLP, tokens: torch.Tensor) -> torch.Tensor:
    """The MLP by its textbook formula: gather, concatenate, matmul (same parameters)."""
    n_inst = model.cfg.n_inst
    inst = torch.arange(n_inst, device=tokens.device)[:, None]  # [inst, 1]
    left = model.W_E_left[inst, tokens[..., 0]]  # [inst, batch, d_embed]
    right = model.W_E_right[inst, tokens[..., 1]]  # [inst, batch, d_embed]
    x = torch.cat([left, right], -1)  # [inst, batch, 2·d_embed]
    return torch.bmm(F.relu(torch.bmm(x, model.mlp.W_in)), model.W_U)  # [inst, batch, d_vocab]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--group", default="S5", help="group spec (default S5)")
    ap.add_argument("--frac", type=float, default=None, help="train fraction (0.6; MLP 0.4)")
    ap.add_argument("--mlp", action="store_true", help="time the MLP: folded vs naive")
    ap.add_argument("--epochs", type=int, default=4, help="timed epochs per variant per round")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--k", type=int, default=8, help="instances in the batched run")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = args.device
    fmt = "mlp" if args.mlp else "transformer"
    frac = args.frac if args.frac is not None else (0.4 if args.mlp else 0.6)

    task = CompositionTask(args.group, frac, fmt)
    train_idx, _ = task.split(1)
    x1 = task.inputs[train_idx].to(dev)  # [batch, pos]
    y1 = task.targets[train_idx].to(dev)  # [batch]
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    print(
        f"machine: {platform.processor() or platform.machine()}, device {dev}, torch "
        f"{torch.__version__}, threads {torch.get_num_threads()}; {args.group} {fmt} task, "
        f"{len(train_idx)} train rows; {args.rounds} interleaved rounds of {args.epochs} epochs"
    )
    steps: dict[str, tuple[Callable[[], None], int]] = {}  # name -> (step, models per step)

    def ours(k: int, variant: str) -> Callable[[], None]:
        if args.mlp:
            model: BatchedModel = MLP(MLPConfig(d_vocab=task.n_vocab, n_inst=k))
        else:
            cfg = TransformerConfig(d_vocab=task.n_vocab_in, d_vocab_out=task.n_vocab, n_inst=k)
            model = Transformer(cfg)
        model.init_weights(range(1, k + 1))
        model.to(dev)
        xs = x1.expand(k, -1, -1)  # [inst, batch, pos]
        ys = y1.expand(k, -1)  # [inst, batch]
        if variant.startswith("groups of "):
            return make_group_step(model, xs, ys, int(variant.split()[-1]))
        fns = {
            "answer": lambda: model.answer_logits(xs),
            "full": lambda: model(xs)[..., -1, :],
            "folded": lambda: model(xs),
            "naive": lambda: naive_mlp_logits(model, xs),  # type: ignore[arg-type]
        }
        return make_step(list(model.parameters()), fns[variant], ys)

    if args.mlp:
        base_name = "naive MLP K=1"
        steps[base_name] = (ours(1, "naive"), 1)
        steps["ours (folded) K=1"] = (ours(1, "folded"), 1)
        steps[f"naive MLP K={args.k} (per model)"] = (ours(args.k, "naive"), args.k)
        steps[f"ours (folded) K={args.k} (per model)"] = (ours(args.k, "folded"), args.k)
        steps[f"ours K={args.k}, groups of 2 (per model)"] = (ours(args.k, "groups of 2"), args.k)
    else:
        base_name = "tl-native K=1"
        bridge = tl_native(task, dev)
        trainable = [p for p in bridge.parameters() if p.requires_grad]
        steps[base_name] = (make_step(trainable, lambda: bridge(x1)[:, -1], y1), 1)
        steps["ours K=1 full"] = (ours(1, "full"), 1)
        steps["ours K=1 answer"] = (ours(1, "answer"), 1)
        steps[f"ours K={args.k} full (per model)"] = (ours(args.k, "full"), args.k)
        steps[f"ours K={args.k} answer (per model)"] = (ours(args.k, "answer"), args.k)
        steps[f"ours K={args.k} answer, groups of 2 (per model)"] = (
            ours(args.k, "groups of 2"),
            args.k,
        )

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

    base = statistics.median(times[base_name])
    print(f"{'variant':44s} {'median ms':>10s} {'min ms':>8s}   speed-up vs {base_name} (median)")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:44s} {1e3 * med:10.2f} {1e3 * min(ts):8.2f}   {base / med:.2f}x")


if __name__ == "__main__":
    main()

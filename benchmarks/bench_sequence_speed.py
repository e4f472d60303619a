"""Sequence-model training speed: our trainer against a plain PyTorch loop, 1 and 2 threads,
float32 and bfloat16 matmuls, as a fraction of the same run's matmul peak.

Shapes (one seed each, the trainer built as ``algolens train`` builds it):

* ``pathfinding``: Brinkmann et al.'s model (6 layers, 1 head, d_model = d_head 128, d_mlp 512,
  GELU, LayerNorm, trainable biases) on 16-node trees (62 positions a row), batch 256.
* ``recursion``: the recursion default (1 layer, 4 heads, d_model 128, d_head 32, d_mlp 512,
  ReLU) on binary successor up to 8 bits (19 positions a training row), batch 64.

Measured in one process, in interleaved rounds (load from other processes hits every variant
alike; the table gives medians):

* ``peak``: GFLOP/s of a 1024 x 1024 x 1024 ``torch.mm`` in float32 and bfloat16, best of a few.
* ``ours``: ``trainer.train_step`` on one fixed batch (the trainer's optimiser, its loss), the
  trainer built with as many workers as torch threads, as ``algolens train`` builds it: at 2
  threads one seed's batch is split into two row parts, one per worker
  (:mod:`algolens.train.row_split`).
* ``plain``: the same :class:`Transformer` (one instance), ``torch.optim.AdamW`` with the same
  hyperparameters, ``masked_cross_entropy``, ``loss.backward()``, ``opt.step()``.
* ``plain-ln-written`` (models with LayerNorm): ``plain`` with a no-op hook on every LayerNorm's
  ``hook_scale``, which makes LayerNorm run written out (mean, variance, divide, scale, shift as
  separate operations, as under an analysis's hooks); without a hook it is one fused
  ``F.layer_norm``. The ratio to ``plain`` is what the fused form saves.

bfloat16 is ``model_args.matmul_dtype = "bfloat16"``, entered by ``model.training_precision()``.

Model FLOPs per token (forward + backward) are counted analytically, as in PaLM's appendix B:
``6·N + 12·L·(heads·d_head)·T``, with N the weights in matmuls (Q, K, V, O, both MLP matrices,
the unembedding) and T the positions of a row; the first layer's folded Q/K/V (a table lookup)
and the masked half of causal attention are counted as if computed, so the fraction of peak is
model FLOP utilisation. tokens/s counts all positions a step reads and, separately, the scored
(loss-masked) ones.

Usage: .venv/bin/python benchmarks/bench_sequence_speed.py [--rounds 3] [--steps N]
       [--shapes pathfinding,recursion] [--threads 1,2] [--dtypes float32,bfloat16]

On a CPU without a native bfloat16 matmul (:func:`algolens.train.cpu_bf16.native_bfloat16_matmul`;
e.g. AVX2-only AMD Zen 3) the default measures float32 only.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch

from algolens.models import Transformer
from algolens.models.transformer_blocks import LayerNorm
from algolens.tasks.pathfinding.setup import PAPER_MODEL
from algolens.tasks.registry import get_task
from algolens.tasks.sequence import masked_cross_entropy
from algolens.train.config import TrainConfig, make_config, validate_config
from algolens.train.cpu_bf16 import native_bfloat16_matmul
from algolens.train.trainer import Trainer

DTYPES = ("float32", "bfloat16")
PEAK_N = 1024


@dataclass(frozen=True)
class Shape:
    """A model and data shape: ``make_config`` overrides and the steps a timing runs."""

    name: str
    recipe: str | None
    overrides: dict[str, Any]
    steps: int  # default steps per timing (about 1-2 s of work at 1 thread)


SHAPES = {
    "pathfinding": Shape(
        "pathfinding",
        "brinkmann",
        {
            "pathfinding": {"nodes": 16, "n_examples": 2000, "test_frac": 0.1},
            "model_args": PAPER_MODEL,
            "batch_size": 256,
        },
        2,
    ),  # fmt: skip
    "recursion": Shape(
        "recursion",
        None,
        {
            "task": "recursion",
            "function": "successor",
            "batch_size": 64,
            "lr": 3e-3,
            "weight_decay": 0.01,
            "beta2": 0.99,
            "model_args": {"n_layers": 1, "d_model": 128, "n_heads": 4, "d_head": 32, "d_mlp": 512},
        },
        20,
    ),  # fmt: skip
}


@dataclass
class Row:
    """Median timings of one variant: ``kind`` ``"ours"``, ``"ours-whole"`` (the batch kept
    whole: one row part, the extra threads left to torch's intra-op parallelism), ``"plain"``
    or ``"plain-ln-written"``."""

    shape: str
    kind: str
    dtype: str
    threads: int
    seconds: list[float] = field(default_factory=list)  # per step, one per round
    tokens: int = 0  # positions a step reads
    scored: int = 0  # loss-masked positions among them
    flops: float = 0.0  # model FLOPs of a step (forward + backward)

    @property
    def step_s(self) -> float:
        return statistics.median(self.seconds)


def model_flops_per_token(cfg: Any, positions: int) -> float:
    """``6·N + 12·L·(heads·d_head)·T`` (forward + backward; PaLM, appendix B).

    Examples:
        >>> from algolens.models import TransformerConfig
        >>> cfg = TransformerConfig(d_vocab=5, d_vocab_out=4, n_layers=1, n_heads=1, d_model=2,
        ...                         d_head=2, d_mlp=3)
        >>> model_flops_per_token(cfg, 10)  # N = 4·2·2 + 2·2·3 + 2·4 = 36
        456.0
    """
    attn = cfg.n_heads * cfg.d_head
    n = cfg.n_layers * (4 * cfg.d_model * attn + 2 * cfg.d_model * cfg.d_mlp)
    n += cfg.d_model * cfg.d_vocab_out
    return float(6 * n + 12 * cfg.n_layers * attn * positions)


def matmul_peak(dtype: torch.dtype, n: int = PEAK_N, reps: int = 5) -> float:
    """GFLOP/s of an ``n x n x n`` matmul in ``dtype`` on the current thread count (best of
    ``reps`` after a warm-up)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


@dataclass
class Setup:
    """One shape's trainers and plain loops, by dtype, and the fixed batch they train on."""

    trainers: dict[tuple[str, int], Any]  # by (matmul dtype, threads)
    plain: dict[str, Callable[[], None]]
    plain_ln: dict[str, Callable[[], None]]  # plain, LayerNorm written out (empty: no LayerNorm)
    rows: torch.Tensor  # [1, batch]
    tokens: int
    scored: int
    flops: float


def start(
    shape: Shape, matmul_dtype: str | None, workers: int, base: Any = None, **kwargs: Any
) -> Any:
    """The shape's trainer (with ``model_args.matmul_dtype``) with ``workers`` threads, as
    ``algolens train`` builds it under that many torch threads; ``base``: a trainer of the same
    shape whose training data it reuses; ``kwargs`` go to the trainer (``row_parts``)."""
    if base is None:
        config = make_config(shape.recipe, seeds=[0], **shape.overrides)
        base = get_task(config.task).start(config, None)[0]
    args = {**base.config.model_args, "matmul_dtype": matmul_dtype}
    config = validate_config({**base.config.to_dict(), "model_args": args})
    return Trainer(config, base.data, workers=workers, **kwargs)  # the same rows


def plain_step(
    trainer: Any, rows: torch.Tensor, written_out_ln: bool = False
) -> Callable[[], None]:
    """One step of a plain loop on ``rows`` with a fresh copy of the trainer's model;
    ``written_out_ln``: with a no-op hook on every LayerNorm's ``hook_scale``, so LayerNorm runs
    written out (as under an analysis's hooks, and as every step did before the fused form)."""
    model = Transformer(trainer.model.cfg)
    model.load_state_dict(trainer.model.state_dict())
    if written_out_ln:
        for m in model.modules():
            if isinstance(m, LayerNorm):
                m.hook_scale.register_forward_hook(lambda module, args, out: None)
    c: TrainConfig = trainer.config
    opt = torch.optim.AdamW(
        model.parameters(), lr=c.lr, betas=(c.beta1, c.beta2), eps=c.eps,
        weight_decay=c.weight_decay,
    )  # fmt: skip
    w = trainer.train_width
    x, y = trainer.inputs[rows[0]][:, :w], trainer.targets[rows[0]][:, :w]
    mask = trainer.mask[rows[0]][:, :w]

    def step() -> None:
        with model.training_precision():
            loss = masked_cross_entropy(model(x[None]), y, mask).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def setup(shape: Shape, threads: list[int], dtypes: tuple[str, ...] = DTYPES) -> Setup:
    """Trainers (one per dtype and thread count) and plain loops (one per dtype) of ``shape``,
    on the first training batch."""
    first = start(shape, None, 1)
    trainers = {(d, t): start(shape, d, t, first) for d in dtypes for t in threads}
    for d in dtypes:  # the whole batch at each thread count, for "ours-whole"
        for t in threads:
            trainers[(d, t, "whole")] = start(shape, d, t, first, row_parts=1)
    rows = first.train_idx[:, : first.batch_size]  # [1, batch]
    w = first.train_width
    tokens = rows.shape[1] * w
    scored = int(first.mask[rows[0]][:, :w].sum())
    flops = model_flops_per_token(first.model.cfg, w) * tokens
    plain = {d: plain_step(trainers[(d, threads[0])], rows) for d in dtypes}
    plain_ln = {}
    if first.model.cfg.layernorm:
        plain_ln = {d: plain_step(trainers[(d, threads[0])], rows, True) for d in dtypes}
    return Setup(trainers, plain, plain_ln, rows, tokens, scored, flops)


def ours_step(trainer: Any, rows: torch.Tensor) -> Callable[[], None]:
    """One ``train_step`` of the trainer on ``rows`` (it enters the model's
    ``training_precision()`` itself, so bfloat16 applies)."""

    def step() -> None:
        trainer.train_step(rows, 0.0)

    return step


def time_steps(step: Callable[[], None], steps: int) -> float:
    """Seconds per step (wall clock) after one warm-up step."""
    step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t) / steps


def variants(
    setups: dict[str, Setup], threads: list[int], dtypes: tuple[str, ...] = DTYPES
) -> Iterator[tuple[str, str, str, int]]:
    for name in setups:
        for kind in ("ours", "ours-whole", "plain", "plain-ln-written"):
            if kind == "plain-ln-written" and not setups[name].plain_ln:
                continue
            for dtype in dtypes:
                for t in threads:
                    if kind != "ours-whole" or t > 1:
                        yield name, kind, dtype, t


def measure(
    shapes: list[Shape],
    threads: list[int],
    rounds: int,
    steps: int | None = None,
    dtypes: tuple[str, ...] = DTYPES,
) -> tuple[dict[tuple[str, int], float], list[Row]]:
    """Matmul peaks ``{(dtype, threads): GFLOP/s}`` and one :class:`Row` per shape, loop,
    dtype (of ``dtypes``) and thread count, over ``rounds`` interleaved rounds of ``steps``
    steps (default: each shape's own)."""
    before = torch.get_num_threads()
    setups = {s.name: setup(s, threads, dtypes) for s in shapes}
    n_steps = {s.name: steps or s.steps for s in shapes}
    peaks: dict[tuple[str, int], list[float]] = {}
    rows: dict[tuple[str, str, str, int], Row] = {}
    try:
        for _ in range(rounds):
            for t in threads:
                torch.set_num_threads(t)
                for d in dtypes:
                    peaks.setdefault((d, t), []).append(matmul_peak(getattr(torch, d)))
            for key in variants(setups, threads, dtypes):
                name, kind, dtype, t = key
                su = setups[name]
                torch.set_num_threads(t)
                if kind == "ours":
                    step = ours_step(su.trainers[(dtype, t)], su.rows)
                elif kind == "ours-whole":
                    step = ours_step(su.trainers[(dtype, t, "whole")], su.rows)
                elif kind == "plain":
                    step = su.plain[dtype]
                else:
                    step = su.plain_ln[dtype]
                row = rows.setdefault(key, Row(*key, [], su.tokens, su.scored, su.flops))
                row.seconds.append(time_steps(step, n_steps[name]))
    finally:
        torch.set_num_threads(before)
    return {k: max(v) for k, v in peaks.items()}, list(rows.values())


def table(peaks: dict[tuple[str, int], float], rows: list[Row]) -> str:
    """The markdown tables: the peaks, then every variant."""
    out = ["| matmul peak | threads | GFLOP/s |", "| --- | --- | --- |"]
    out += [f"| {d} {PEAK_N}³ | {t} | {g:.0f} |" for (d, t), g in sorted(peaks.items())]
    out += [
        "",
        "| shape | loop | matmuls | threads | ms/step | tokens/s (all) | tokens/s (scored) | "
        "GFLOP/s | of peak | 2nd-thread speed-up |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    by_key = {(r.shape, r.kind, r.dtype, r.threads): r for r in rows}
    for r in rows:
        s = r.step_s
        gflops = r.flops / s / 1e9
        base = "ours" if r.kind == "ours-whole" else r.kind  # at 1 thread the batch is whole
        one = by_key.get((r.shape, base, r.dtype, 1))
        speedup = f"{one.step_s / s:.2f}×" if one is not None and r.threads > 1 else "–"
        out.append(
            f"| {r.shape} | {r.kind} | {r.dtype} | {r.threads} | {1000 * s:.1f} | "
            f"{r.tokens / s:,.0f} | {r.scored / s:,.0f} | {gflops:.1f} | "
            f"{gflops / peaks[(r.dtype, r.threads)]:.0%} | {speedup} |"
        )
    return "\n".join(out)


def parse_threads(text: str) -> list[int]:
    """``"1,2"`` -> ``[1, 2]``.

    Raises:
        ValueError: an entry that is not a positive integer.
    """
    try:
        threads = [int(t) for t in text.split(",") if t]
    except ValueError:
        threads = []
    if not threads or min(threads) < 1:
        raise ValueError(f"thread counts must be positive integers like 1,2, got {text!r}")
    return threads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    ap.add_argument("--steps", type=int, default=None, help="steps per timing (default: per shape)")
    ap.add_argument("--shapes", default="pathfinding,recursion", help="comma-separated")
    ap.add_argument("--threads", default="1,2", help="comma-separated torch thread counts")
    ap.add_argument(
        "--dtypes",
        default=None,
        help="matmul dtypes, comma-separated (default: float32,bfloat16 where the CPU has a "
        "native bfloat16 matmul, else float32 alone: the reference kernel is ~80x slower)",
    )
    a = ap.parse_args()
    if a.dtypes is None:
        dtypes = DTYPES if native_bfloat16_matmul() else ("float32",)
        if len(dtypes) < len(DTYPES):
            print("no native bfloat16 matmul on this CPU: float32 only (--dtypes to force)")
    else:
        dtypes = tuple(d for d in a.dtypes.split(",") if d)
        if not dtypes or set(dtypes) - set(DTYPES):
            ap.error(f"--dtypes takes some of {','.join(DTYPES)}, got {a.dtypes!r}")
    names = [s for s in a.shapes.split(",") if s]
    unknown = [s for s in names if s not in SHAPES]
    if unknown:
        ap.error(f"unknown shape(s) {', '.join(unknown)}; choose from {', '.join(SHAPES)}")
    try:
        threads = parse_threads(a.threads)
    except ValueError as e:
        ap.error(str(e))
    t0 = time.perf_counter()
    peaks, rows = measure([SHAPES[s] for s in names], threads, a.rounds, a.steps, dtypes)
    cpu = platform.processor() or platform.machine()
    print(f"CPU: {cpu}; torch {torch.__version__}; {a.rounds} rounds; "
          f"{time.perf_counter() - t0:.0f} s in all\n")  # fmt: skip
    print(table(peaks, rows))


if __name__ == "__main__":
    main()

"""Exact match of sequence rows (teacher forcing + greedy decoding): rows in length order, each
batch cut to its longest row, greedy decoding with a key/value cache
(``algolens.train.evaluation.exact_match``), against the obvious baseline — batches in the data's
order at the data's full width, the whole buffer through the model at every step — in the same
process; the middle figure is ours without the cache (length order only).

The data are a recursion function's distinct training inputs under the task's default preset for
its domain (``mirror``: the tree preset's 20,000 draws of 1-8 node trees), decoded by the default
2-layer transformer (untrained: greedy decoding runs one model call per answer token whatever the
weights, so the timing does not depend on them). The paths give the same booleans up to argmax
ties at float rounding (the cache computes the same logits with other matmul shapes): the count
of differing booleans is printed, and more than 0.1 % fails the run.

Usage: .venv/bin/python benchmarks/bench_exact_match.py [--function mirror] [--rounds 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch

from algolens.tasks.registry import get_task
from algolens.tasks.sequence import greedy_correct, greedy_decode, teacher_forced_correct
from algolens.train import evaluation
from algolens.train.config import make_config
from algolens.train.evaluation import exact_match


def baseline(model, data, n_inst: int, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Batches in data order at the full width (the evaluation before length ordering)."""
    tf = torch.zeros(n_inst, len(data), dtype=torch.bool)
    gr = torch.zeros(n_inst, len(data), dtype=torch.bool)
    for start in range(0, len(data), batch):
        part = data.subset(torch.arange(start, min(start + batch, len(data))))
        x = part.inputs.expand(n_inst, -1, -1)
        tf[:, start : start + len(part)] = teacher_forced_correct(model(x), part)
        written = greedy_decode(lambda t: model(t), part, n_inst)  # no cache: whole buffer
        gr[:, start : start + len(part)] = greedy_correct(written, part)
    return tf, gr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--function", default="mirror")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=4096, help="distinct training inputs timed")
    a = ap.parse_args()
    torch.set_num_threads(1)
    spec = get_task("recursion")
    recipe = spec.default_recipe_for({"function": a.function})
    config = make_config(recipe, task="recursion", function=a.function, seeds=[0])
    trainer = spec.start(config, None)[0]
    data = trainer.task.splits["train"]
    data = data.subset(torch.arange(min(a.rows, len(data))))
    model = trainer.model.eval()
    ours_s, plain_s, base_s = [], [], []
    cpu_dev = torch.device("cpu")
    differ = 0
    with torch.no_grad():
        for _ in range(a.rounds):
            t = time.perf_counter()
            ours = exact_match(model, data, 1, 512, cpu_dev)
            ours_s.append(time.perf_counter() - t)
            cached = evaluation.can_cache
            evaluation.can_cache = lambda m: False  # length order, plain decoding
            try:
                t = time.perf_counter()
                plain = exact_match(model, data, 1, 512, cpu_dev)
                plain_s.append(time.perf_counter() - t)
            finally:
                evaluation.can_cache = cached
            t = time.perf_counter()
            base = baseline(model, data, 1, 512)
            base_s.append(time.perf_counter() - t)
            assert all(torch.equal(p, b) for p, b in zip(plain, base)), "plain results differ"
            differ = max(differ, sum(int((o != b).sum()) for o, b in zip(ours, base)))
    assert differ <= 0.001 * 2 * len(data), f"{differ} booleans differ"
    o, p, b = (statistics.median(x) for x in (ours_s, plain_s, base_s))
    cpu = platform.processor() or platform.machine()
    print(f"CPU: {cpu}; torch {torch.__version__}; 1 thread; {a.function} ({recipe}), "
          f"{len(data)} rows; {a.rounds} rounds (medians)")  # fmt: skip
    print(f"ours (length order + KV cache): {o:.2f} s   length order, no cache: {p:.2f} s   "
          f"data order, full width: {b:.2f} s")  # fmt: skip
    print(f"speed-up {b / o:.2f}x over the baseline, {p / o:.2f}x from the cache; "
          f"{differ} of {2 * len(data)} booleans differ")  # fmt: skip


if __name__ == "__main__":
    main()

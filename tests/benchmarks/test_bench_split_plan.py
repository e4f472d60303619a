"""benchmarks/bench_split_plan.py runs end to end at a tiny size (so it cannot rot), compares the
plans it names, and leaves the thread count as it found it."""

from __future__ import annotations

import torch
from benchmarks.bench_split_plan import measure, trainers


def test_the_variants_are_the_plans_they_name():
    ts = trainers(seeds=3, batch=64, max_size=6, n_train=300)
    sizes = {k: [sl.stop - sl.start for sl, _ in t.chunks] for k, t in ts.items()}
    assert sizes["plan (2 workers)"] == [3] and ts["plan (2 workers)"].row_parts == 2
    assert sizes["chunks alone (2 workers)"] == [2, 1]
    assert ts["chunks alone (2 workers)"].row_parts == 1 and ts["one worker"].workers == 1


def test_measure_times_every_variant_once_a_round():
    before = torch.get_num_threads()
    out = measure(seeds=3, rounds=2, steps=1, max_size=6, n_train=300)
    assert torch.get_num_threads() == before
    assert len(out) == 5 and all(len(v) == 2 and min(v) > 0 for v in out.values())

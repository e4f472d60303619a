"""Irrep analysis of one MLP instance: streamed (no |G|³ array) time and peak extra memory.

Default: S6 (720 elements) with Stander et al.'s S6 MLP (d_embed 512, d_mlp 256), train fraction
0.25 (the excluded loss is taken on those pairs), every metric of :func:`analyse_model`
(similarity, logit FVE, weight FVE, neuron FVE, restricted and excluded loss). The weights are
random: the work is dense and does not depend on their values. The irreps of the group are
built (and cached) before timing; their own cost is in the irreps benchmark.

Wall time depends on the load that other processes put on the cores; the CPU time of the process
(all threads) does much less, and with T threads and an idle machine wall ≈ CPU / T.

Memory: peak resident set size (``VmHWM`` after resetting it through ``/proc/self/clear_refs``)
minus the resident size before the analysis, i.e. the extra memory the analysis needs on top of
the model and the group. Linux only.

With ``--baseline`` it also times the whole-cube path on the same model (``all_pair_logits`` and
:func:`character_similarity`, similarity only); use it on groups whose ``|G|³`` cube fits
(S5: 14 MB per cube; S6 would need about 3 GB per cube).

Usage: .venv/bin/python benchmarks/bench_analysis.py [--group S6] [--d-embed 512] [--d-mlp 256]
       [--frac 0.25] [--rounds 3] [--threads 2] [--baseline]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from algolens.analysis.composition.irreps import (
    all_pair_logits,
    analyse_model,
    character_similarity,
)
from algolens.groups import parse_group
from algolens.groups.reps import irreps
from algolens.models import build_model
from algolens.tasks import CompositionTask


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def measure(fn) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds of this process, peak extra MiB) of one call."""
    before = rss_kib("VmRSS")
    reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return seconds, cpu, (rss_kib("VmHWM") - before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--group", default="S6")
    ap.add_argument("--d-embed", type=int, default=512)
    ap.add_argument("--d-mlp", type=int, default=256)
    ap.add_argument("--frac", type=float, default=0.25)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--baseline", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    group = parse_group(args.group)
    n = group.order
    irreps(group)  # cached on the group
    model = build_model("mlp", {"d_vocab": n, "d_embed": args.d_embed, "d_mlp": args.d_mlp})
    model.init_weights([0])
    task = CompositionTask(group, args.frac, fmt="mlp")
    train_idx, _ = task.split(0)
    mask = np.zeros(n * n, dtype=bool)
    mask[train_idx.numpy()] = True
    mask = mask.reshape(n, n)

    print(
        f"{group.name} (|G| = {n}), MLP d_embed {args.d_embed}, d_mlp {args.d_mlp}, "
        f"{args.threads} threads, {platform.processor() or platform.machine()}, "
        f"torch {torch.__version__}"
    )
    variants = {
        "streamed analyse_model (all metrics)": lambda: analyse_model(group, model, train_mask=mask)
    }
    if args.baseline:
        reps = irreps(group)
        variants["whole cube, similarity only"] = lambda: character_similarity(
            group, all_pair_logits(model, n), reps
        )
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in variants}
    for _ in range(args.rounds):
        for name, fn in variants.items():
            results[name].append(measure(fn))
    for name, runs in results.items():
        secs = [s for s, _, _ in runs]
        cpu = [c for _, c, _ in runs]
        mem = max(m for _, _, m in runs)
        print(
            f"{name:38s} wall median {statistics.median(secs):6.2f} s, min {min(secs):6.2f} s; "
            f"CPU median {statistics.median(cpu):6.2f} s; peak extra {mem:7.1f} MiB"
        )


if __name__ == "__main__":
    main()

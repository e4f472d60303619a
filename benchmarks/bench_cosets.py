"""Coset concentration over the whole subgroup lattice: batched against a per-subgroup loop.

Ours (:func:`algolens.analysis.composition.cosets.coset_concentration`): one autocorrelation per
side and one
sparse segment sum over every subgroup's members. Baseline: the obvious vectorised group-by, a
Python loop over subgroups and coset sides, each a ``bincount`` of coset sums per neuron. Both
run on the same random pre-activations (left and right, k neurons) in the same process; the
lattice and its coset tables are built before timing (shared set-up). Goal (issue 9): S6, 256
neurons, 1455 subgroups, both sides ≤ 10 s on 2 cores.

Usage: .venv/bin/python benchmarks/bench_cosets.py [--groups S5 S6] [--neurons 256] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from algolens.analysis.composition.cosets import coset_concentration
from algolens.groups import parse_group


def loop_baseline(g, f_left: np.ndarray, f_right: np.ndarray) -> np.ndarray:
    """``[2, 2, n_subgroups, k]`` by one bincount group-by per subgroup, side and neuron."""
    lattice = g.subgroup_lattice
    out = np.zeros((2, 2, len(lattice), f_left.shape[1]))
    for p, f in enumerate((f_left, f_right)):
        var = f.var(axis=0)
        for s, side in enumerate(("left", "right")):
            table = lattice.coset_table(side)
            for i in range(len(lattice)):
                ids = table[i]
                m = ids.max() + 1
                for j in range(f.shape[1]):
                    sums = np.bincount(ids, weights=f[:, j], minlength=m)
                    sq = np.bincount(ids, weights=f[:, j] ** 2, minlength=m)
                    cnt = np.bincount(ids, minlength=m)
                    out[p, s, i, j] = np.sum(sq / cnt - (sums / cnt) ** 2) / var[j]
    return out


def timed(fn, *args):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", nargs="+", default=["S4", "S5", "S6"])
    ap.add_argument("--neurons", type=int, default=256)
    ap.add_argument("--baseline-neurons", type=int, default=8,
                    help="neurons for the loop baseline (time scaled to --neurons)")  # fmt: skip
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'group':6} {'subgroups':>9} {'k':>4} {'ours s':>8} {'ours cpu':>9} "
          f"{'loop s (scaled)':>16} {'ratio':>7} {'max diff':>9}")  # fmt: skip
    for spec in args.groups:
        g = parse_group(spec)
        lattice = g.subgroup_lattice
        lattice.coset_table("left"), lattice.coset_table("right")  # shared set-up
        rng = np.random.default_rng(0)
        f_left, f_right = rng.normal(size=(2, g.order, args.neurons))
        coset_concentration(g, f_left[:, :2], f_right[:, :2])  # builds the cached membership
        ours, t_ours, cpu = timed(coset_concentration, g, f_left, f_right)
        kb = min(args.baseline_neurons, args.neurons)
        ref, t_loop, _ = timed(loop_baseline, g, f_left[:, :kb], f_right[:, :kb])
        t_loop *= args.neurons / kb
        diff = float(np.abs(ours.values[..., :kb] - ref).max())
        print(f"{spec:6} {len(lattice):9d} {args.neurons:4d} {t_ours:8.2f} {cpu:9.2f} "
              f"{t_loop:16.1f} {t_loop / t_ours:6.0f}x {diff:9.1e}")  # fmt: skip


if __name__ == "__main__":
    main()

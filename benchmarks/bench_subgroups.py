"""Subgroup lattice: our conjugacy-class cyclic extension against the naive cyclic extension.

The naive baseline is the obvious complete method: start from the trivial subgroup and extend
*every* subgroup found by *every* cyclic subgroup, closing each product, until nothing new
appears. Ours extends only one representative per conjugacy class and adds whole classes at
once. Both run here, in the same process, on the same groups.

Usage: .venv/bin/python benchmarks/bench_subgroups.py [--full]   (--full adds the naive S6 run)
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from algolens.groups import parse_group
from algolens.groups.group import _subgroup_closure
from algolens.groups.subgroups import SubgroupLattice


def naive_lattice(g) -> int:
    """Count subgroups by extending every subgroup by every cyclic generator."""
    n, t, e = g.order, g.table, g.identity
    key = lambda m: np.packbits(m).tobytes()  # noqa: E731
    cyclic = {}
    for x in range(n):
        cyclic.setdefault(key(_subgroup_closure(t, e, np.array([x]))), x)
    gens = list(cyclic.values())
    start = _subgroup_closure(t, e, np.array([], dtype=np.int64))
    seen = {key(start): np.array([e])}
    frontier = [np.flatnonzero(start)]
    while frontier:
        fresh = []
        for h in frontier:
            for x in gens:
                m = _subgroup_closure(t, e, np.append(h, x))
                k = key(m)
                if k not in seen:
                    seen[k] = np.flatnonzero(m)
                    fresh.append(seen[k])
        frontier = fresh
    return len(seen)


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also run the naive method on S6 (slow)")
    args = ap.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{'group':6} {'subgroups':>9} {'ours s':>8} {'naive s':>9} {'ratio':>7}")
    for spec in ["S4", "A5", "S5", "S6"]:
        g = parse_group(spec)
        _ = g.conjugation  # shared set-up, not part of either method
        ours, t_ours = timed(SubgroupLattice.of, g)
        if spec != "S6" or args.full:
            count, t_naive = timed(naive_lattice, g)
            assert count == len(ours), (count, len(ours))
            print(f"{spec:6} {len(ours):9d} {t_ours:8.2f} {t_naive:9.2f} {t_naive / t_ours:6.1f}x")
        else:
            print(f"{spec:6} {len(ours):9d} {t_ours:8.2f} {'(--full)':>9} {'':>7}")


if __name__ == "__main__":
    main()

"""Real irreps of a finite group: our construction against the naive regular-rep decomposition.

Ours (``irreps(g, "general")``): character table from the class algebra (r×r Hermitian
problems, r = #classes), then per real irrep a projection of random vectors onto its isotypic
component, one small symmetric eigenproblem in that component, and ρ(g) = U[S]⁻¹U[g⁻¹S].

Naive baseline: the textbook route through the regular representation. Take a random real
symmetric central element W (``w(g) = w(g⁻¹)``, constant on classes), form its |G|×|G| matrix in
the regular representation and diagonalise it densely (``eigh``); the eigenspaces are the real
isotypic components. In each, diagonalise a random symmetric commutant element to cut out one
irreducible copy U, and compress every translation, ρ(g) = Uᵀ L(g) U.

Both run here, in the same process, on fresh group objects (conjugacy classes computed before
the clock starts, for both), both with one BLAS thread (see ``algolens.groups._blas``: threaded
LAPACK is pathologically slow on a busy 2-core machine). Each method's output is checked
(homomorphism, orthogonality, the multiset of real dimensions agrees).

Usage: .venv/bin/python benchmarks/bench_irreps.py [--quick] [--gap] [--sweep]
  --quick  only groups up to order 120;  --gap  add GAP SmallGroups of order 1000 (needs gap)
  --sweep  then time ours alone (fresh group, classes included) on more groups up to 2520
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from algolens.groups import parse_group
from algolens.groups._blas import blas_threads
from algolens.groups.reps import irreps


def naive_irreps(g, seed: int = 0) -> list[np.ndarray]:
    """Real irreps by dense eigendecomposition of the regular representation (see docstring)."""
    rng = np.random.default_rng(seed)
    n, t, inv = g.order, g.table, g.inverses
    w = rng.standard_normal(g.n_classes)
    w = w + w[g.class_of[inv[g.class_representatives]]]  # w(g) = w(g⁻¹): symmetric matrix
    a = w[g.class_of[t[:, inv]]]  # [x, y] -> W(x y⁻¹): left convolution by W
    evals, evecs = np.linalg.eigh(a)
    scale = np.abs(evals).max()
    breaks = np.flatnonzero(np.diff(evals) > 1e-6 * scale) + 1
    c = rng.standard_normal(n)
    c = c + c[inv]
    comm = c[t[inv]]  # [x, y] -> c(x⁻¹ y): right convolution, commutes with L
    out = []
    for idx in np.split(np.arange(n), breaks):
        q = evecs[:, idx]
        tq = q.T @ comm @ q
        ev, vec = np.linalg.eigh(0.5 * (tq + tq.T))
        gaps = np.flatnonzero(np.diff(ev) > 1e-6 * max(np.abs(ev).max(), 1e-300))
        d = int(gaps[0] + 1) if gaps.size else len(ev)
        u = q @ vec[:, :d]
        moved = u[t[inv[:, None], np.arange(n)[None, :]]]  # [g, x, j] = U[g⁻¹x, j]
        out.append(np.einsum("xi,gxj->gij", u, moved, optimize=True))
    return out


def check(g, mats: list[np.ndarray]) -> float:
    """Max homomorphism (over generators) and orthogonality error of a list of [n, d, d]."""
    err = 0.0
    for rho in mats:
        for b in g.generators:
            err = max(err, float(np.abs(rho[g.table[:, b]] - rho @ rho[b]).max()))
        gram = np.einsum("gij,gkj->gik", rho, rho)
        err = max(err, float(np.abs(gram - np.eye(rho.shape[-1])).max()))
    return err


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def fresh(spec: str):
    g = parse_group(spec)
    g.class_of  # noqa: B018  (classes are shared input of both methods)
    g.generators  # noqa: B018
    return g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="groups up to order 120 only")
    ap.add_argument("--gap", action="store_true", help="add GAP SmallGroups of order 1000")
    ap.add_argument("--sweep", action="store_true", help="time ours alone on more groups")
    args = ap.parse_args()
    specs = ["S4", "A5", "D59", "C113", "S5"]
    if not args.quick:
        specs += ["S6", "Q8xS5", "D500", "C10xC10xC10"]
    if args.gap:
        specs += ["gap:SmallGroup(1000,86)", "gap:SmallGroup(1000,164)"]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, load avg {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'group':26s} {'|G|':>5s} {'irreps':>6s} {'ours s':>8s} {'naive s':>8s} {'ratio':>7s}"
        f" {'err ours':>9s} {'err naive':>9s}"
    )
    for spec in specs:
        g = fresh(spec)
        ours, t_ours = timed(lambda g=g: irreps(g, "general"))
        g2 = fresh(spec)
        with blas_threads(1):
            naive, t_naive = timed(lambda g2=g2: naive_irreps(g2))
        dims_ours = sorted(r.real_dim for r in ours)
        dims_naive = sorted(m.shape[-1] for m in naive)
        assert dims_ours == dims_naive, (spec, dims_ours, dims_naive)
        e1, e2 = check(g, [r.matrices for r in ours]), check(g2, naive)
        print(
            f"{spec:26s} {g.order:5d} {len(ours):6d} {t_ours:8.3f} {t_naive:8.3f} "
            f"{t_naive / t_ours:6.1f}x {e1:9.1e} {e2:9.1e}",
            flush=True,
        )
    if not args.quick:
        g = fresh("S6")
        young, t_young = timed(lambda: irreps(g, "young"))
        print(
            f"S6 via Young's orthogonal form (method='auto' for S_n): {t_young:.3f} s, "
            f"err {check(g, [r.matrices for r in young]):.1e}"
        )
    if args.sweep:
        sweep(args.gap)
    print(f"load avg after: {os.getloadavg()[0]:.1f}")


SWEEP = ["D500", "C10xD50", "C2xD250", "D4xC125", "Q8xC125", "C1000", "C5xC5xC5xC8", "S3xC166"]
SWEEP += ["S5xD4", "A5xD8", "C2xS6", "D1260", "C2520", "A7"]
SWEEP_GAP = ["gap:SmallGroup(1000,3)", "gap:SmallGroup(1000,100)", "gap:PSL(2,13)"]


def sweep(use_gap: bool) -> None:
    """Ours alone: seconds for irreps(g, "general") on a fresh group, classes included."""
    print("sweep (ours only, conjugacy classes included):")
    for spec in SWEEP + (SWEEP_GAP if use_gap else []):
        g = parse_group(spec)
        reps, secs = timed(lambda g=g: irreps(g, "general"))
        err = max(max(r.hom_error(g), r.orth_error()) for r in reps)
        print(
            f"  {spec:26s} {g.order:5d} {len(reps):5d} irreps {secs:7.2f} s  err {err:.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Compile a composition MLP to a threshold circuit and verify it exhaustively; evaluator speed.

Times, in one process on one instance:

* quantise (float -> Q) and compile (Q -> circuit);
* layer statistics (expands every template once);
* exhaustive verification: the circuit on all ``|G|²`` inputs against Q (the issue's target:
  S5, 14,400 inputs, compile + verify ≤ 60 s on 2 cores);
* throughput in inputs/s of the circuit evaluator, of Q (numpy int64) and of the float network's
  forward pass (torch, one batch of all inputs), interleaved over ``--rounds`` rounds, and the
  ratio float / circuit.

Wall and CPU seconds are both printed: on shared cores the CPU time of the process is the less
load-dependent figure. Without ``--run`` it first trains the demo S5 MLP (``--recipe fast``, one
seed, about 30 s of one core) into a temporary store.

Usage: OMP_NUM_THREADS=1 taskset -c 1 .venv/bin/python benchmarks/bench_compile.py
       [--store DIR --run ID] [--instance 0] [--bits 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from algolens.logic.circuit import circuit_depth, layer_stats
from algolens.logic.compile import compile_run
from algolens.logic.evaluate import evaluate
from algolens.store import RunStore


def timed(fn):  # noqa: ANN001, ANN201
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path)
    ap.add_argument("--run")
    ap.add_argument("--instance", type=int, default=0)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.run is None:
        from algolens.train.config import make_config
        from algolens.train.run import start_run

        store = RunStore(Path(tempfile.mkdtemp()) / "store")
        run = start_run(make_config("fast", group="S5", seeds=[0]), store)["run_id"]
    else:
        store, run = RunStore(args.store), args.run

    c, w_compile, c_compile = timed(lambda: compile_run(store, run, args.instance, args.bits))
    stats, w_stats, c_stats = timed(lambda: layer_stats(c.circuit))
    got, w_verify, c_verify = timed(lambda: evaluate(c.circuit, c.tokens))
    assert (got == c.q_pred).all(), "circuit and Q disagree"
    n = c.tokens.shape[0]
    print(f"CPU {platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.1f}, "
          f"torch threads {torch.get_num_threads()}")  # fmt: skip
    print(f"run {run} instance {args.instance} ({c.kind}), Q at {args.bits} bits, {n} inputs")
    print(f"circuit: {c.circuit.n_gates} gates, {sum(s.wires for s in stats)} wires, depth "
          f"{circuit_depth(stats)}, {len(stats)} layers")  # fmt: skip
    a = c.agreement()
    print(f"agreement: Q vs float {a['q_vs_float']:.4%}, Q vs task {a['q_vs_task']:.4%}")
    print(f"quantise+compile (incl. loading the run and Q/float answers): wall {w_compile:.2f} s, "
          f"cpu {c_compile:.2f} s")  # fmt: skip
    print(f"  of which quantise {c.seconds['quantize']:.2f} s, compile "
          f"{c.seconds['compile']:.2f} s (wall)")  # fmt: skip
    print(f"layer statistics: wall {w_stats:.2f} s, cpu {c_stats:.2f} s")
    print(f"exhaustive verification ({n} inputs, circuit vs Q): wall {w_verify:.2f} s, "
          f"cpu {c_verify:.2f} s -> equivalent")  # fmt: skip

    from algolens.train.load import load_run_model

    _, model = load_run_model(store, run)
    one = model.instance(args.instance)
    x = torch.from_numpy(c.tokens)
    times: dict[str, list[float]] = {"circuit": [], "Q (numpy int64)": [], "float forward": []}
    for _ in range(args.rounds):
        times["circuit"].append(timed(lambda: evaluate(c.circuit, c.tokens))[2])
        times["Q (numpy int64)"].append(timed(lambda: c.q.predict(c.tokens))[2])
        with torch.no_grad():
            times["float forward"].append(timed(lambda: one(x, answer=True).argmax(-1))[2])
    rate = {k: n / statistics.median(v) for k, v in times.items()}
    for k, r in rate.items():
        print(f"{k:>16}: {r:,.0f} inputs/s (median cpu of {args.rounds} rounds)")
    print(f"float forward / circuit throughput: {rate['float forward'] / rate['circuit']:.0f}x")


if __name__ == "__main__":
    main()

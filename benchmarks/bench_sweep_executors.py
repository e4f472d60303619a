"""Sweep executors: processes against threads on one machine, and Ray's overhead per task.

Part 1 (``--part layout``): the same ``--configs`` configurations (each ``--seeds`` seeds of an
MLP on ``--group`` for ``--epochs`` epochs, no early stop) trained three ways on all cores, in
one process so the three share the machine's state:

* ``serial``: one run after another in this process, torch using every core (``--cores``);
* ``threads``: a thread pool of ``--cores`` Python threads in this process, one run each at a
  time, torch at 1 intra-op thread (``torch.set_num_threads`` is per process);
* ``processes``: ``algolens sweep``'s local executor, ``--cores`` worker processes with 1 torch
  thread each (worker start-up included).

It prints model-epochs/s (epochs x seeds x configurations / wall) of each, and model-epochs per
CPU-second (this process's CPU time for ``serial`` and ``threads``, the workers' for
``processes``): on a machine other processes load, wall time rewards whoever takes more of the
cores (OpenMP threads that spin while they wait do), and the CPU figure says what each layout
would reach on idle cores (``cores x`` model-epochs per CPU-second, at best).

Part 2 (``--part ray``): Ray's overhead per task on a local cluster bound to 127.0.0.1: the wall
of ``--tasks`` no-op tasks of 1 CPU each, per task, and a 1-epoch sweep of ``--configs``
configurations under the local and the Ray executor, twice each (wall per configuration; the
Ray cluster is started before timing; the first sweep of each executor includes its workers'
import of torch, the second finds a warm forkserver or warm Ray workers).

Wall times depend on other processes' load; the load average is printed next to the figures.

Usage: .venv/bin/python benchmarks/bench_sweep_executors.py [--part layout|ray|all]
       [--group S4] [--seeds 8] [--epochs 300] [--configs 4] [--cores 2] [--tasks 50]
       [--rounds 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from algolens.store import RunStore
from algolens.sweep import ExecutorSettings, load_sweep, run_sweep
from algolens.train.run import start_run


def sweep_file(folder: Path, group: str, seeds: int, epochs: int, configs: int) -> Path:
    fracs = ", ".join(f"{0.3 + 0.05 * i:.2f}" for i in range(configs))
    path = folder / "bench.toml"
    path.write_text(
        f'[base]\nrecipe = "fast"\ngroup = "{group}"\nseeds = "0-{seeds - 1}"\n'
        f"epochs = {epochs}\neval_every = {epochs}\ncheckpoint_every = {epochs}\n"
        f"log_checkpoints = 0\nearly_stop = false\n[grid]\ntrain_frac = [{fracs}]\n"
    )
    return path


def layout(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp())
    plan = load_sweep(sweep_file(folder, args.group, args.seeds, args.epochs, args.configs))
    work = args.epochs * args.seeds * args.configs
    configs = [c.config for c in plan.configurations]

    def serial() -> float:
        torch.set_num_threads(args.cores)
        store = RunStore(tempfile.mkdtemp(dir=folder))
        cpu0 = time.process_time()
        for cfg in configs:
            start_run(cfg, store)
        return time.process_time() - cpu0

    def threads() -> float:
        torch.set_num_threads(1)
        store = RunStore(tempfile.mkdtemp(dir=folder))
        cpu0 = time.process_time()
        with ThreadPoolExecutor(args.cores) as pool:
            list(pool.map(lambda cfg: start_run(cfg, store), configs))
        return time.process_time() - cpu0

    def processes() -> float:
        settings = ExecutorSettings("local", workers=args.cores, threads=1)
        return run_sweep(plan, RunStore(tempfile.mkdtemp(dir=folder)), settings)["cpu_s"]

    for _ in range(args.rounds):
        for name, fn in (("serial", serial), ("threads", threads), ("processes", processes)):
            t0 = time.perf_counter()
            cpu = fn()
            wall = time.perf_counter() - t0
            print(f"{name:10s} {wall:7.2f} s wall {work / wall:8.1f} model-epochs/s, "
                  f"{cpu:7.2f} CPU-s {work / cpu:8.1f} per CPU-s  (load "
                  f"{os.getloadavg()[0]:.1f})")  # fmt: skip


def ray_overhead(args: argparse.Namespace) -> None:
    import ray

    folder = Path(tempfile.mkdtemp())
    plan = load_sweep(sweep_file(folder, args.group, 2, 1, args.configs))
    t0 = time.perf_counter()
    ray.init(num_cpus=args.cores, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False)  # fmt: skip
    print(f"ray.init          {time.perf_counter() - t0:7.2f} s")

    @ray.remote(num_cpus=1)
    def noop(i: int) -> int:
        return i

    ray.get([noop.remote(i) for i in range(args.cores)])  # start the workers
    t0 = time.perf_counter()
    ray.get([noop.remote(i) for i in range(args.tasks)])
    wall = time.perf_counter() - t0
    print(f"no-op tasks       {1e3 * wall / args.tasks:7.2f} ms per task ({args.tasks} tasks, "
          f"warm workers)")  # fmt: skip
    for kind, settings in (
        ("local", ExecutorSettings("local", workers=args.cores, threads=1)),
        ("ray", ExecutorSettings("ray", cpus=1)),
    ) * 2:  # the first of each imports torch in its workers; the second finds them warm
        t0 = time.perf_counter()
        run_sweep(plan, RunStore(tempfile.mkdtemp(dir=folder)), settings)
        wall = time.perf_counter() - t0
        print(
            f"1-epoch sweep {kind:5s} {wall:7.2f} s, {wall / args.configs:6.3f} s per "
            f"configuration ({args.configs} configurations, load {os.getloadavg()[0]:.1f})"
        )
    ray.shutdown()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--part", choices=("layout", "ray", "all"), default="all")
    p.add_argument("--group", default="S4")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--configs", type=int, default=4)
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    p.add_argument("--tasks", type=int, default=50)
    p.add_argument("--rounds", type=int, default=1, help="layout: repeat the three, alternating")
    args = p.parse_args()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    if args.part in ("layout", "all"):
        layout(args)
    if args.part in ("ray", "all"):
        ray_overhead(args)


if __name__ == "__main__":
    main()

"""Executors: run sweep jobs (one run folder each) on the cores of this machine or on Ray.

Both take the jobs and a callback ``on_done(job, result)`` that the driver uses to write the
index; ``result`` is :func:`algolens.sweep.worker.run_job`'s dict, or ``{"ok": False, "lost":
True, "error": ...}`` when the worker died (the run is then interrupted, not failed: the next
sweep resumes it). Workers never touch the index.

``local``: a pool of ``workers`` processes, each running one run at a time with ``threads``
torch threads. Workers are forked from a ``forkserver`` that imported torch and the trainer
once (a fresh interpreter per worker would import them again, seconds each; a plain ``fork`` of
the driver could inherit a busy OpenMP pool). Processes rather than threads: as cheap per
model-epoch (docs/sweeps.md has the measurement), free of the GIL, with a torch thread count of
their own, and a crash stays in one run. A worker whose driver dies (even by SIGKILL) exits within
a second, so it never trains on unobserved; the run resumes from its last
checkpoint at the next ``algolens sweep``.

``ray``: every job is a Ray task declaring ``cpus`` CPUs and trained with as many torch threads;
Ray retries a task whose worker died up to ``max_retries`` times, and the retry resumes from the
run's last checkpoint. Workers read and write the run folders directly, so on a cluster of
several machines ``<store>/runs`` must be on a file system every node mounts at the same path
(the SQLite index stays with the driver; see docs/sweeps.md).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from algolens.errors import ExternalToolError
from algolens.sweep.ray_connect import check_reachable, quiet_stderr
from algolens.sweep.worker import run_job

EXECUTORS = ("local", "ray")
PRELOAD = ["torch", "algolens.train.run", "algolens.sweep.worker"]
"""Modules the forkserver imports once, before it forks the local workers."""
PARENT_POLL_S = 0.5
"""How often a local worker checks that its driver is still alive."""


@dataclass(frozen=True)
class Job:
    """One run to train: its id and folder, and the configuration's place in the sweep."""

    index: int
    run_id: str
    run_dir: str


DoneFn = Callable[[Job, dict[str, Any]], None]


def default_layout(n_jobs: int, cpus: int | None = None) -> tuple[int, int]:
    """``(workers, threads per worker)`` for ``n_jobs`` runs on ``cpus`` cores (default all):
    one single-threaded process per core while there are runs for every core, else the cores
    shared out among the runs.

    Examples:
        >>> default_layout(8, 2), default_layout(1, 2), default_layout(3, 8)
        ((2, 1), (1, 2), (3, 2))
    """
    cpus = cpus or os.cpu_count() or 1
    workers = max(1, min(n_jobs, cpus))
    return workers, max(1, cpus // workers)


def run_local(
    jobs: list[Job], on_done: DoneFn, *, workers: int, threads: int, device: str = "cpu"
) -> None:
    """Train ``jobs`` on a pool of ``workers`` processes with ``threads`` torch threads each,
    on ``device`` (a name each worker resolves, :func:`algolens.train.device.resolve_device`).

    A worker process that dies takes the pool down: the jobs not finished get a ``lost`` result
    naming the cause (their runs are left interrupted and resume at the next sweep). Workers
    ignore SIGINT; on Ctrl-C (or any exception) the driver cancels the queued jobs, terminates
    the workers (their runs keep their last checkpoint) and re-raises.
    """
    if not jobs:
        return
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker,
        initargs=(threads, os.getpid()),
    )  # fmt: skip
    futures: dict[Future, Job] = {}
    try:
        futures = {pool.submit(run_job, job.run_dir, threads, device): job for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: futures[f].index):
                on_done(futures[fut], _local_result(fut))
    except BaseException:
        for fut in futures:
            fut.cancel()
        _terminate_workers(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _terminate_workers(pool: ProcessPoolExecutor) -> None:
    """SIGTERM to every worker of ``pool`` (``ProcessPoolExecutor`` has no public way before
    Python 3.14's ``terminate_workers``)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()


def _local_result(fut: Future) -> dict[str, Any]:
    try:
        return fut.result()
    except BrokenProcessPool:
        return {"ok": False, "lost": True, "error": "a worker process died (killed or out of "
                "memory); run the sweep again to resume from the last checkpoint"}  # fmt: skip
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # pragma: no cover - run_job returns its errors
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _init_worker(threads: int, driver: int) -> None:
    """Pool initialiser: torch threads, and a watchdog that ends this process when the driver
    process is gone (the worker's parent is the forkserver, which outlives the driver for as
    long as any worker lives)."""
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    torch.set_num_threads(threads)

    def watch() -> None:
        while _alive(driver):
            time.sleep(PARENT_POLL_S)
        os._exit(1)  # like SIGKILL: the run's lock is released, its last checkpoint stays

    threading.Thread(target=watch, name="algolens-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a killed driver its parent has not
    reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    try:
        stat = open(f"/proc/{pid}/stat").read()  # Linux; elsewhere the kill test decides
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


@contextmanager
def ray_runtime(address: str | None) -> Iterator[None]:
    """A Ray runtime for the sweep: the cluster at ``address`` (``auto``, ``HOST:PORT`` or
    ``ray://HOST:PORT``), or the one this process already started, or a local one on 127.0.0.1
    with every core and no dashboard (shut down again on exit). The driver enters it before it
    creates any run, so an unreachable cluster leaves the store untouched.

    Raises:
        ExternalToolError: Ray is not installed, or the cluster cannot be started or reached.
    """
    try:
        import ray
    except ImportError:
        raise ExternalToolError(
            "--executor ray needs Ray: install algolens with the ray extra (pip install "
            "'algolens[ray]'), or use --executor local"
        ) from None
    started_here = False
    if not ray.is_initialized():
        if address is not None:
            check_reachable(address)  # a closed port fails at once, not after minutes
        try:
            if address is not None:
                with quiet_stderr():  # Ray's connect warnings; a failure is reported below
                    ray.init(address=address, log_to_driver=False)
            else:
                ray.init(
                    num_cpus=os.cpu_count(), include_dashboard=False,
                    _node_ip_address="127.0.0.1", log_to_driver=False,
                )  # fmt: skip
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {address}" if address else "a local Ray runtime"
            first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
            raise ExternalToolError(f"cannot start or reach {where}: {first}") from None
        started_here = True
    try:
        yield
    finally:
        if started_here:
            ray.shutdown()


def run_ray(
    jobs: list[Job], on_done: DoneFn, *, cpus: int, max_retries: int, device: str = "cpu"
) -> None:
    """Train ``jobs`` as Ray tasks of ``cpus`` CPUs each, retried up to ``max_retries`` times
    when their worker dies, on the runtime of :func:`ray_runtime`. With ``device`` ``cuda``
    each task also declares one GPU (Ray shows a task only the GPUs it declared, as device 0).
    Ctrl-C (or any exception) cancels every task not finished, killing its worker, and
    re-raises."""
    import ray

    gpus = 1 if device.startswith("cuda") else 0
    task = ray.remote(run_job).options(num_cpus=cpus, num_gpus=gpus, max_retries=max_retries)
    refs: dict[Any, Job] = {}
    try:
        refs = {task.remote(job.run_dir, cpus, device): job for job in jobs}
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            job = refs.pop(done[0])
            try:
                result = ray.get(done[0])
            except ray.exceptions.RayError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                result = {"ok": False, "lost": True, "error": f"{type(exc).__name__} after "
                          f"{max_retries} retries: {first[:200]}; run the sweep again to "
                          "resume"}  # fmt: skip
            on_done(job, result)
    except BaseException:
        for ref in refs:
            ray.cancel(ref, force=True)
        raise

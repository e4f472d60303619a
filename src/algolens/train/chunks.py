"""Instance chunks: models of a few instances whose parameters are views of a K-instance model,
and the threads that run chunks side by side.

Why threads over chunks rather than torch's own (intra-op) threads: the trainer's matmuls are
small (S5 MLP: ``5760 × 128 × 120`` per instance), and torch splits each of them over its OpenMP
threads, which then wait for each other at the end of every operation. Measured on a 2-core AMD
EPYC (docs/benchmarks.md): a 32-seed S5 MLP epoch ran 1.3× faster with 2 intra-op threads than
with 1, and 1.9× faster with 2 chunk threads of one intra-op thread each. Torch releases the GIL
inside its operations, so Python threads suffice. Every chunk's computation is the same whichever
thread runs it (one intra-op thread, its own scratch), so the bits do not depend on scheduling.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, TypeVar

import torch

from algolens.models import BatchedModel, build_model

T = TypeVar("T")

_POOLS: dict[int, ThreadPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def chunk_size(n_inst: int, inst_elements: int, cache_elements: int, workers: int) -> int:
    """Instances per chunk: as many as keep ``cache_elements`` (activations) in cache, given
    ``inst_elements`` per instance, and few enough that each of ``workers`` threads gets a chunk.

    >>> chunk_size(32, 691200, 1 << 19, 2)   # S5 MLP: an instance fills the cache
    1
    >>> chunk_size(8, 1000, 1 << 19, 2)      # small instances: one chunk per worker
    4
    """
    return max(
        1, min(fitting_instances(inst_elements, cache_elements), -(-n_inst // max(1, workers)))
    )


def fitting_instances(inst_elements: int, cache_elements: int) -> int:
    """Instances whose ``inst_elements`` each fit in ``cache_elements`` (at least 1).

    >>> fitting_instances(691200, 1 << 19), fitting_instances(1000, 1 << 19)
    (1, 524)
    """
    return max(1, cache_elements // max(1, inst_elements))


def instance_chunks(
    model: BatchedModel, kind: str, model_args: dict[str, Any], size: int
) -> list[tuple[slice, BatchedModel]]:
    """Split a K-instance model into models of ``size`` instances that share its storage.

    Each chunk model's parameters and buffers are views ``[start:stop]`` of the full model's, so
    the optimiser's in-place updates of the full parameters reach every chunk, and a chunk's
    forward touches only its own instances. Training chunk by chunk keeps the activations of one
    chunk in cache (on a 2-core CPU, 32 S5 instances in one pass run about 2x slower per instance
    than one instance at a time). With ``size >= K`` the full model is the only chunk.
    """
    k = model.cfg.n_inst
    if size >= k:
        return [(slice(0, k), model)]
    full = dict(model.named_parameters()) | dict(model.named_buffers())
    chunks = []
    for start in range(0, k, size):
        stop = min(start + size, k)
        part = build_model(kind, {**model_args, "n_inst": stop - start})
        for name, t in list(part.named_parameters()) + list(part.named_buffers()):
            owner_name, _, leaf = name.rpartition(".")
            owner = part.get_submodule(owner_name) if owner_name else part
            whole = full[name].detach()
            # Per-instance tensors are sliced; anything without a leading inst axis is shared.
            per_instance = whole.ndim > 0 and whole.shape[0] == k and t.shape[0] == stop - start
            view = whole[start:stop] if per_instance else whole
            if isinstance(t, torch.nn.Parameter):
                setattr(owner, leaf, torch.nn.Parameter(view, requires_grad=t.requires_grad))
            else:
                owner.register_buffer(leaf, view)
        chunks.append((slice(start, stop), part))
    return chunks


def _one_torch_thread() -> None:
    """Give the calling (new) thread one torch intra-op thread for good.

    Torch sets a thread's count lazily, from a process-wide value, on the thread's first parallel
    operation or ``get_num_threads`` call; ``get_num_threads`` here makes that happen now, while
    the process-wide value is 1, so that restoring the caller's count later leaves this thread
    alone.
    """
    torch.set_num_threads(1)
    torch.get_num_threads()


def gather_chunk_grads(
    params: dict[str, torch.nn.Parameter], chunks: list[tuple[slice, BatchedModel]]
) -> None:
    """Move the chunk models' gradients into ``[inst, ...]`` gradients of ``params`` (the full
    model's parameters by name; a chunk without a gradient contributes zeros)."""
    for name, p in params.items():
        parts = [dict(m.named_parameters())[name] for _, m in chunks]
        if all(q.grad is None for q in parts):
            continue
        p.grad = torch.cat([q.grad if q.grad is not None else torch.zeros_like(q) for q in parts])
        for q in parts:
            q.grad = None


def chunk_pool(workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``workers`` threads, each running torch with one intra-op thread.

    Created on first use and kept. ``torch.set_num_threads`` in a new thread changes the
    process-wide count too, so the caller's count is restored once every worker has set its own.
    """
    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            before = torch.get_num_threads()
            pool = ThreadPoolExecutor(
                workers, thread_name_prefix="algolens-chunk", initializer=_one_torch_thread
            )
            started = threading.Barrier(workers)  # makes the pool start all its threads now
            for f in [pool.submit(started.wait) for _ in range(workers)]:
                f.result()
            torch.set_num_threads(before)
            _POOLS[workers] = pool
    return pool


def run_chunks(fn: Callable[[int, int], T], n: int, workers: int) -> list[T]:
    """``[fn(i, slot) for i in range(n)]``, on up to ``workers`` threads of :func:`chunk_pool`.

    ``slot`` (``0 <= slot < workers``) names the thread's scratch: calls with the same slot never
    overlap. Calls take the next index as they finish (an idle thread never waits for a busy
    one); ``fn`` must only write what call ``i`` owns. Torch's grad mode is per thread: ``fn``
    sets its own. With ``workers <= 1`` or ``n <= 1`` everything runs in the calling thread (with
    its intra-op threads), slot 0. A call's exception is re-raised here after the others ended.
    """
    w = min(workers, n)
    if w <= 1:
        return [fn(i, 0) for i in range(n)]
    out: list[Any] = [None] * n
    counter = itertools.count()  # next() is atomic under the GIL

    def drain(slot: int) -> None:
        while (i := next(counter)) < n:
            out[i] = fn(i, slot)

    pool = chunk_pool(w)
    futures = [pool.submit(drain, slot) for slot in range(w)]
    wait(futures)
    for f in futures:
        f.result()
    return out

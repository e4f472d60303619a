"""Instance chunks on worker threads: the same bits as one thread, failures still isolated, and
the threads really are separate, each with one torch thread."""

from __future__ import annotations

import threading

import pytest
import torch

from algolens.train.chunks import chunk_size, run_chunks
from algolens.train.trainer import Trainer
from tests.train.conftest import assert_tensors_equal, composition_trainer, tiny_config

TINY_TRANSFORMER = {"d_model": 16, "n_heads": 2, "d_head": 8, "d_mlp": 32}


def _run(cfg, workers: int, chunk: int, epochs: int = 12) -> Trainer:
    trainer = composition_trainer(cfg, instance_chunk=chunk, workers=workers)
    for _ in range(epochs):
        trainer.train_epoch()
    trainer.evaluate()
    return trainer


@pytest.mark.parametrize("kind", ["mlp", "transformer"])
@pytest.mark.parametrize("batch_size", [None, 6])
def test_workers_give_the_bits_of_one_thread(kind, batch_size):
    """Each chunk runs the same operations on the same shapes on one torch thread, whichever
    worker runs it, with its own scratch: two workers reproduce one bit for bit (MLP: the fused
    pass; transformer: autograd). A race on shared scratch breaks this."""
    args = dict(TINY_TRANSFORMER) if kind == "transformer" else {"d_embed": 32, "d_mlp": 64}
    cfg = tiny_config(seeds=list(range(6)), model=kind, model_args=args, batch_size=batch_size)
    one, two = _run(cfg, 1, 1), _run(cfg, 2, 1)
    assert one.workers == 1 and two.workers == 2 and len(two.chunks) == 6
    assert_tensors_equal(one.state_tensors(), two.state_tensors())
    for field in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert torch.equal(getattr(one.last_eval, field), getattr(two.last_eval, field)), field


def test_workers_isolate_a_nan_instance():
    cfg = tiny_config(seeds=[0, 1, 2, 3])
    clean, poisoned = (
        composition_trainer(cfg, instance_chunk=1, workers=2),
        composition_trainer(cfg, instance_chunk=1),
    )
    for t in (clean, poisoned):
        t.train_epoch()
    with torch.no_grad():
        poisoned.model.W_U[2, 0, 0] = float("nan")
    for t in (clean, poisoned):
        for _ in range(5):
            t.train_epoch()
    assert poisoned.alive.tolist() == [True, True, False, True]
    assert clean.alive.all()
    a, b = clean.state_tensors(), poisoned.state_tensors()
    for k in (0, 1, 3):
        assert_tensors_equal(
            {n: t[k] for n, t in a.items() if n.startswith("model.")},
            {n: t[k] for n, t in b.items() if n.startswith("model.")},
        )


def test_default_chunking_gives_every_worker_a_chunk():
    cfg = tiny_config(seeds=list(range(5)))  # tiny instances: all fit one cache-sized chunk
    assert len(composition_trainer(cfg, workers=1).chunks) == 1
    assert [sl.stop - sl.start for sl, _ in composition_trainer(cfg, workers=2).chunks] == [3, 2]
    assert chunk_size(1, 10, 100, 4) == 1
    assert chunk_size(32, 691200, 1 << 19, 1) == 1  # an S5 MLP instance fills the cache


def test_run_chunks_uses_separate_threads_with_one_torch_thread_each():
    before = torch.get_num_threads()
    seen: list[tuple[int, int, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=30)  # both workers inside fn at once, or it breaks

    def fn(i: int, slot: int) -> int:
        if i < 2:
            barrier.wait()
        with lock:
            seen.append((threading.get_ident(), slot, torch.get_num_threads()))
        return i * i

    assert run_chunks(fn, 7, 2) == [i * i for i in range(7)]
    assert len({t for t, _, _ in seen}) == 2 and {s for _, s, _ in seen} == {0, 1}
    assert threading.get_ident() not in {t for t, _, _ in seen}
    assert all(n == 1 for _, _, n in seen)
    assert torch.get_num_threads() == before  # the caller's count is unchanged


def test_workers_keep_one_thread_when_the_caller_uses_more():
    """A pool made while the caller runs 2 torch threads: its workers still run 1 each (torch
    sets a new thread's count lazily from the process-wide value, which the caller restores)."""
    torch.set_num_threads(2)  # the autouse fixture restores the count afterwards
    counts = run_chunks(
        lambda i, s: (torch.ones(1 << 16).exp().sum(), torch.get_num_threads()), 6, 3
    )
    assert [n for _, n in counts] == [1] * 6
    assert torch.get_num_threads() == 2


def test_run_chunks_serial_cases_stay_in_the_calling_thread():
    here = threading.get_ident()
    assert run_chunks(lambda i, s: (threading.get_ident(), s), 3, 1) == [(here, 0)] * 3
    assert run_chunks(lambda i, s: (threading.get_ident(), s), 1, 4) == [(here, 0)]


def test_run_chunks_slots_never_overlap_and_errors_propagate():
    busy = [threading.Lock() for _ in range(3)]

    def fn(i: int, slot: int) -> int:
        assert busy[slot].acquire(blocking=False), "two calls on one slot at once"
        try:
            torch.randn(64, 64) @ torch.randn(64, 64)  # releases the GIL
            if i == 11:
                raise ValueError("chunk 11")
            return i
        finally:
            busy[slot].release()

    with pytest.raises(ValueError, match="chunk 11"):
        run_chunks(fn, 40, 3)
    assert run_chunks(lambda i, s: fn(i % 11 if i == 11 else i, s), 40, 3)[:3] == [0, 1, 2]

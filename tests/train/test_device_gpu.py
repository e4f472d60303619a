"""Training on a CUDA device: skipped where torch sees no GPU (so these tests have not run on a
CPU-only machine; docs/training.md, "Devices"). A CUDA run agrees with the CPU run to float
rounding, resumes to its own bits on the same device (with torch's deterministic algorithms:
the MLP's fused pass accumulates with ``index_add_``, which on CUDA uses atomics otherwise),
and its stored weights load on the CPU."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.store import RunStore
from algolens.train.checkpoint import WEIGHTS_FORMAT, load_checkpoint
from algolens.train.device import using_device
from tests.train.conftest import assert_tensors_equal, tiny_config
from tests.train.tiny_runs import Stop

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

CUDA = torch.device("cuda")


@pytest.fixture
def deterministic(monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(before)


def _rows(store: RunStore, run_id: str) -> list[dict]:
    return [json.loads(x) for x in store.paths(run_id).metrics.read_text().splitlines()]


def test_a_cuda_run_agrees_with_the_cpu_run_to_rounding(tmp_path):
    from algolens.train.run import start_run

    cfg = tiny_config(epochs=20, eval_every=5)
    runs = {}
    for name, dev in (("cpu", torch.device("cpu")), ("cuda", CUDA)):
        store = RunStore(tmp_path / name)
        with using_device(dev):
            summary = start_run(cfg, store)
        runs[name] = (store, summary)
    assert runs["cpu"][1]["device"] == "cpu"
    assert runs["cuda"][1]["device"].startswith("cuda:")
    cpu_rows, gpu_rows = (_rows(s, r["run_id"]) for s, r in runs.values())
    assert [r["epoch"] for r in cpu_rows] == [r["epoch"] for r in gpu_rows]
    for a, b in zip(cpu_rows, gpu_rows, strict=True):
        for key in ("train_loss", "test_loss"):
            assert b[key] == pytest.approx(a[key], rel=1e-3, abs=1e-5), (a["epoch"], key)


def test_a_cuda_run_resumes_to_its_own_bits(tmp_path, deterministic):
    from algolens.train.run import resume_run, start_run

    cfg = tiny_config(epochs=40, checkpoint_every=10)
    ref_store, store = RunStore(tmp_path / "ref"), RunStore(tmp_path / "stopped")
    started: list[str] = []

    def stop(epoch: int, _result: object) -> None:
        if epoch >= 25:
            raise Stop

    with using_device(CUDA):
        ref = start_run(cfg, ref_store)
        with pytest.raises(Stop):
            start_run(cfg, store, progress=stop, on_start=started.append)
        summary = resume_run(store, started[0])
    assert summary["resumed_from"] == 20 and summary["device"] == ref["device"]
    a, _ = load_checkpoint(ref_store.paths(ref["run_id"]).final, fmt=WEIGHTS_FORMAT)
    b, _ = load_checkpoint(store.paths(started[0]).final, fmt=WEIGHTS_FORMAT)
    assert_tensors_equal(a, b)


def test_cuda_weights_load_on_the_cpu(tmp_path, run_cli):
    from algolens.train.load import load_run_model
    from tests.cli.test_train_cli import TINY

    (tmp_path / "run.toml").write_text(TINY)
    store = tmp_path / "store"
    code, out, err = run_cli("train", "--config", str(tmp_path / "run.toml"), "--store",
                             str(store), "--device", "cuda", "--json")  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["device"].startswith("cuda:")
    tensors, meta = load_checkpoint(
        RunStore(store).paths(summary["run_id"]).final, fmt=WEIGHTS_FORMAT
    )
    assert meta["device"] == summary["device"]
    assert all(t.device.type == "cpu" for t in tensors.values())
    _, model = load_run_model(store, summary["run_id"])
    assert all(p.device.type == "cpu" for p in model.parameters())
    logits = model.answer_logits(torch.tensor([[[0, 1], [2, 3]]]).expand(2, -1, -1))
    assert logits.device.type == "cpu" and bool(logits.isfinite().all())


@pytest.mark.parametrize("kind", ["recursion", "pathfinding"])
def test_sequence_runs_train_on_cuda_and_resume_there(tmp_path, kind):
    """The sequence trainers (masked loss, greedy decoding, exact-match early stop) on CUDA:
    a run trains, stops part-way, resumes on the same device, and agrees with the CPU run to
    rounding at its first evaluations."""
    from algolens.train.run import resume_run, start_run
    from tests.train import test_early_stop, test_pathfinding_training

    make = {"recursion": test_early_stop.tiny, "pathfinding": test_pathfinding_training.tiny}
    cfg = make[kind](epochs=6, eval_every=2, checkpoint_every=2, exact_stop=None)
    cpu_store, store = RunStore(tmp_path / "cpu"), RunStore(tmp_path / "cuda")
    start_run(cfg, cpu_store)
    started: list[str] = []

    def stop(epoch: int, _result: object) -> None:
        if epoch >= 3:
            raise Stop

    with using_device(CUDA):
        with pytest.raises(Stop):
            start_run(cfg, store, progress=stop, on_start=started.append)
        summary = resume_run(store, started[0])
    assert summary["device"].startswith("cuda:") and summary["epochs"] == 6
    (cpu_run,) = cpu_store.list()
    first = [_rows(s, r)[:2] for s, r in ((cpu_store, cpu_run.id), (store, started[0]))]
    for a, b in zip(*first, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-3, abs=1e-5)

"""``--device`` on `algolens train`, `sweep` and `reproduce`: a device this machine cannot use is
one line and exit code 2 with nothing created; ``--device cpu`` is the default, bit for bit; the
device reaches sweep workers (other processes) by name."""

from __future__ import annotations

import json

import pytest
import torch

from algolens.store import RunStore
from tests.cli.test_train_cli import TINY

no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal without CUDA")

SWEEP = """
[base]
recipe = "fast"
seeds = "0-1"
epochs = 4
eval_every = 2
log_checkpoints = 0
early_stop = false
[grid]
group = ["C5"]
"""


def _files(tmp_path):
    (tmp_path / "run.toml").write_text(TINY)
    (tmp_path / "sweep.toml").write_text(SWEEP)
    return str(tmp_path / "run.toml"), str(tmp_path / "sweep.toml"), tmp_path / "store"


def _one_line_error(code: int, out: str, err: str, start: str) -> None:
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {start}"), err


@no_gpu
@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_cuda_without_a_gpu_is_refused_before_anything_is_created(run_cli, tmp_path, device):
    toml, sweep, store = _files(tmp_path)
    commands = [
        ("train", "--config", toml),
        ("train", "--resume", "20261122-0427"),
        ("sweep", sweep),
        ("sweep", sweep, "--executor", "local"),
        ("reproduce", "chughtai2023", "--quick"),
        ("reproduce", "chughtai2023", "--executor", "local"),
    ]
    for cmd in commands:
        code, out, err = run_cli(*cmd, "--device", device, "--store", str(store))
        _one_line_error(code, out, err, f"--device {device}: no CUDA device is available")
        assert "use --device cpu or auto" in err
        assert not store.exists(), cmd


def test_an_unknown_device_is_refused(run_cli, tmp_path):
    toml, sweep, store = _files(tmp_path)
    for cmd in [("train", "--config", toml), ("sweep", sweep), ("reproduce", "chughtai2023")]:
        code, out, err = run_cli(*cmd, "--device", "gpu", "--store", str(store))
        _one_line_error(code, out, err, "--device 'gpu' is not a device; use cpu, cuda")
        assert not store.exists()


@pytest.mark.parametrize("device", ["auto", "cuda:1"])
def test_ray_refuses_a_device_it_cannot_give_its_workers(run_cli, tmp_path, device):
    _, sweep, store = _files(tmp_path)
    code, out, err = run_cli(
        "sweep", sweep, "--executor", "ray", "--device", device, "--store", str(store)
    )
    _one_line_error(code, out, err, f"--device {device} does not apply to --executor ray")
    assert not store.exists()


def test_device_cpu_trains_the_bits_of_no_flag(run_cli, tmp_path):
    toml, _, _ = _files(tmp_path)
    finals = []
    for name, extra in (("plain", ()), ("cpu", ("--device", "cpu"))):
        store = tmp_path / name
        code, out, err = run_cli(
            "train", "--config", toml, "--store", str(store), "--threads", "1", "--json", *extra
        )
        assert code == 0, err
        summary = json.loads(out)
        assert summary["device"] == "cpu"
        finals.append(RunStore(store).paths(summary["run_id"]).final.read_bytes())
    assert finals[0] == finals[1]


@no_gpu
def test_the_device_reaches_local_sweep_workers(tmp_path):
    """A sweep worker is another process: it trains on the device named to it, not on the
    driver's current device. Here the name reaches it and the worker, having no GPU, fails
    the run with the one-line reason (the driver's own check is bypassed)."""
    from algolens.sweep import ExecutorSettings, load_sweep, run_sweep

    _, sweep, store_dir = _files(tmp_path)
    store = RunStore(store_dir)
    settings = ExecutorSettings("local", workers=1, threads=1, device="cuda")
    summary = run_sweep(load_sweep(sweep), store, settings)
    (row,) = summary["configurations"]
    assert row["status"] == "failed"
    assert (
        store.get(row["run_id"])
        .summary["error"]
        .startswith("--device cuda: no CUDA device is available")
    )
    folder = store.paths(row["run_id"])
    assert not folder.checkpoints.exists() or not any(folder.checkpoints.iterdir())


def test_local_sweep_workers_record_their_device(tmp_path):
    from algolens.sweep import ExecutorSettings, load_sweep, run_sweep

    _, sweep, store_dir = _files(tmp_path)
    store = RunStore(store_dir)
    summary = run_sweep(load_sweep(sweep), store, ExecutorSettings("local", 1, 1, device="cpu"))
    (row,) = summary["configurations"]
    assert row["status"] == "completed"
    worker = json.loads((store.paths(row["run_id"]).root / "worker.json").read_text())
    assert worker["device"] == "cpu" and worker["threads"] == 1
    assert store.get(row["run_id"]).summary["device"] == "cpu"


@pytest.fixture
def cuda_reported(monkeypatch):
    """torch *reports* a CUDA device, so ``--device auto`` resolves to ``cuda``; the commands'
    training is replaced by a probe that reports the current device (no tensor is made)."""
    from algolens.errors import ConfigError
    from algolens.train.device import current_device

    def probe(*_args, **_kwargs):
        raise ConfigError(f"would train on {current_device()}")

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr("algolens.train.run.start_run", probe)
    return probe


def test_train_trains_on_the_resolved_device(run_cli, tmp_path, cuda_reported):
    toml, _, store = _files(tmp_path)
    code, _out, err = run_cli("train", "--config", toml, "--device", "auto", "--store", str(store))
    assert (code, err.strip()) == (2, "error: would train on cuda")
    code, _out, err = run_cli("train", "--config", toml, "--store", str(store))
    assert (code, err.strip()) == (2, "error: would train on cpu")  # the default


def test_reproduce_trains_in_process_on_the_resolved_device(run_cli, tmp_path, monkeypatch,
                                                          cuda_reported):  # fmt: skip
    import sys
    import types

    from algolens.reproductions import REPRODUCTIONS

    module = types.ModuleType("algolens_test_devicepaper")
    module.PAPER = "A device probe"
    module.reproduce = lambda mode, store, *, log: cuda_reported()
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(REPRODUCTIONS, "devicepaper", module.__name__)
    code, _out, err = run_cli("reproduce", "devicepaper", "--device", "auto", "--store",
                              str(tmp_path / "s"))  # fmt: skip
    assert (code, err.strip().splitlines()[-1]) == (2, "error: would train on cuda")


def test_resuming_on_another_device_is_one_warning_line(run_cli, tmp_path):
    """The library warns (AlgolensWarning); the CLI prints it as one ``warning:`` line."""
    from algolens.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
    from tests.train.tiny_runs import train_tiny

    store = RunStore(tmp_path)
    run_id = train_tiny(store, "C5", stop_at=20)
    _, path = latest_checkpoint(store.paths(run_id).checkpoints)
    tensors, meta = load_checkpoint(path)
    save_checkpoint(path, tensors, meta | {"device": "cuda:0 (NVIDIA H100)"})
    code, out, err = run_cli("train", "--resume", run_id, "--store", str(tmp_path), "--json")
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warned == [
        f"warning: run {run_id} trained on cuda:0 (NVIDIA H100) and resumes on cpu: the rest of "
        "the run will not have the bits of one trained on a single device (docs/training.md, "
        "Devices)"
    ]
    assert "AlgolensWarning" not in err

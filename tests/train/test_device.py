"""Devices (train/device.py): the ``--device`` names, the current default device the trainers
follow, and what a run records of the device it trained on. No test here needs a GPU: CUDA is
only ever *reported* available (monkeypatched), never used; tests/train/test_device_gpu.py
holds the GPU tests."""

from __future__ import annotations

import warnings

import pytest
import torch

from algolens.errors import AlgolensWarning, ConfigError
from algolens.store import RunStore
from algolens.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from algolens.train.device import (
    check_device_name,
    current_device,
    device_change_note,
    resolve_device,
    using_device,
)
from tests.train.conftest import composition_trainer, tiny_config


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def one_gpu(monkeypatch):
    """torch reports one CUDA device (nothing is ever allocated on it)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


@pytest.mark.parametrize("name", ["cpu", "CPU", " cpu "])
def test_cpu_resolves_to_the_cpu(no_cuda, name):
    assert resolve_device(name) == torch.device("cpu")


def test_auto_is_the_gpu_only_when_cuda_is_available(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_is_one_line_saying_what_to_use(no_cuda, name):
    with pytest.raises(ConfigError) as err:
        resolve_device(name)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"--device {name}: no CUDA device is available (torch ")
    assert text.endswith("use --device cpu or auto")


def test_cuda_index_must_name_an_existing_gpu(one_gpu):
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ConfigError, match=r"has 1 CUDA device\(s\), numbered 0 to 0"):
        resolve_device("cuda:1")


@pytest.mark.parametrize("name", ["gpu", "", "cuda:x", "cuda:-1", "cuda:", "mps", "cuda:١"])
def test_other_names_are_refused(one_gpu, name):
    with pytest.raises(ConfigError, match="--device") as err:
        resolve_device(name)
    assert "\n" not in str(err.value) and "cuda" in str(err.value)


def test_canonical_names():
    assert [check_device_name(n) for n in ("Cuda", "cuda:01", "AUTO")] == [
        "cuda",
        "cuda:1",
        "auto",
    ]


def test_using_device_sets_and_restores_the_current_device():
    assert current_device() == torch.device("cpu")
    with using_device(torch.device("meta")) as dev:
        assert dev == current_device() == torch.device("meta")
        with using_device("cpu"):
            assert current_device() == torch.device("cpu")
        assert current_device() == torch.device("meta")
    assert current_device() == torch.device("cpu")


def test_trainer_follows_the_current_device():
    with using_device(torch.device("cpu")):
        assert composition_trainer(tiny_config()).device == torch.device("cpu")
    # torch's "meta" device (shapes, no data) shows the trainer follows the current device
    # without a GPU: its model and data go there
    with using_device(torch.device("meta")):
        trainer = composition_trainer(tiny_config())
    assert trainer.device == torch.device("meta")
    assert trainer.inputs.device.type == "meta"
    assert all(p.device.type == "meta" for p in trainer.model.parameters())
    given = composition_trainer(tiny_config(), device="meta")  # a given device wins
    assert given.device == torch.device("meta")


def test_the_trainer_on_sequence_data_follows_the_current_device():
    from algolens.tasks.registry import get_task
    from tests.train.test_early_stop import tiny

    with using_device(torch.device("meta")):
        trainer, _ = get_task("recursion").start(tiny(), None)
    assert trainer.device == torch.device("meta") and trainer.mask.device.type == "meta"


def test_device_change_note():
    assert device_change_note("r1", "cpu", "cpu") is None
    assert device_change_note("r1", None, "cpu") is None  # checkpoints from before: the CPU
    note = device_change_note("r1", "cuda:0 (NVIDIA H100)", "cpu")
    assert note is not None and note.startswith("run r1 trained on cuda:0 (NVIDIA H100) and ")


def test_a_run_records_its_device_and_resuming_elsewhere_is_said(tmp_path, capsys):
    from algolens.train.run import resume_run
    from tests.train.tiny_runs import train_tiny

    store = RunStore(tmp_path)
    run_id = train_tiny(store, "C5", stop_at=20)
    epoch, path = latest_checkpoint(store.paths(run_id).checkpoints)
    tensors, meta = load_checkpoint(path)
    assert meta["device"] == "cpu"
    # the checkpoint as a GPU would have written it (tensors always on the CPU in the file)
    save_checkpoint(path, tensors, meta | {"device": "cuda:0 (NVIDIA H100)"})
    with pytest.warns(AlgolensWarning) as caught:
        summary = resume_run(store, run_id)
    assert [str(w.message) for w in caught] == [
        f"run {run_id} trained on cuda:0 (NVIDIA H100) and resumes on cpu: the rest of "
        "the run will not have the bits of one trained on a single device (docs/training.md, "
        "Devices)"
    ]
    assert summary["device"] == "cpu" and summary["resumed_from"] == epoch
    _, final_meta = load_checkpoint(store.paths(run_id).final, fmt="algolens-weights/2")
    assert final_meta["device"] == "cpu"


def test_resuming_on_the_same_device_says_nothing(tmp_path, capsys):
    from algolens.train.run import resume_run
    from tests.train.tiny_runs import train_tiny

    store = RunStore(tmp_path)
    run_id = train_tiny(store, "C5", stop_at=20)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error", AlgolensWarning)  # a warning would raise
        resume_run(store, run_id)
    assert "warning" not in capsys.readouterr().err

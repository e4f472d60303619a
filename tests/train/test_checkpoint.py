"""Safetensors checkpoints: round trip, byte-reproducible files, refusal of bad files."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from algolens.errors import CheckpointError
from algolens.train.checkpoint import (
    checkpoint_name,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from algolens.train.run import checkpoint_epochs

META = {"epoch": 3, "fingerprint": "abc", "task": "t", "model": "mlp", "seeds": [0, 1]}


def _tensors() -> dict[str, torch.Tensor]:
    alive = torch.ones(2, dtype=torch.uint8)
    return {"model.W": torch.arange(6.0).view(2, 3), "state.alive": alive}


def test_round_trip(tmp_path):
    path = tmp_path / checkpoint_name(3)
    save_checkpoint(path, _tensors(), META)
    tensors, meta = load_checkpoint(path, fingerprint="abc")
    assert meta["epoch"] == 3 and meta["seeds"] == [0, 1]
    assert torch.equal(tensors["model.W"], _tensors()["model.W"])


def test_same_content_same_bytes(tmp_path):
    save_checkpoint(tmp_path / "a.safetensors", _tensors(), META)
    save_checkpoint(tmp_path / "b.safetensors", _tensors(), dict(reversed(META.items())))
    assert (tmp_path / "a.safetensors").read_bytes() == (tmp_path / "b.safetensors").read_bytes()


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _tensors(), META)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


def test_foreign_safetensors_is_refused(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path), metadata={"format": "pt"})
    with pytest.raises(CheckpointError, match="not an algolens checkpoint"):
        load_checkpoint(path)


def test_other_run_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _tensors(), META)
    with pytest.raises(CheckpointError, match="another run"):
        load_checkpoint(path, fingerprint="xyz")


def test_listing_ignores_temporary_files(tmp_path):
    for e in (0, 10, 2):
        save_checkpoint(tmp_path / checkpoint_name(e), _tensors(), META)
    (tmp_path / ".epoch_00000020.safetensors.x.tmp").write_bytes(b"partial")
    assert [e for e, _ in list_checkpoints(tmp_path)] == [0, 2, 10]
    assert latest_checkpoint(tmp_path)[0] == 10


def test_checkpoint_epochs_log_spaced_and_regular():
    marks = checkpoint_epochs(10_000, 5, 2500)
    assert {0, 1, 10, 100, 1000, 2500, 5000, 7500, 10_000} <= marks
    assert checkpoint_epochs(5, 0, 100) == {0, 5}

"""Safetensors checkpoints: round trip, byte-reproducible files, refusal of bad files, marks."""

from __future__ import annotations

import json
import math

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
from algolens.train.run import CheckpointMarks

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


def _data_start(blob: bytes) -> int:
    """Offset of the tensor data in a safetensors file (after the 8-byte length and header)."""
    return 8 + int.from_bytes(blob[:8], "little")


def _flip_bit(path, offset: int, bit: int = 0) -> None:
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 1 << bit
    path.write_bytes(bytes(blob))


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_flipped_bit_in_tensor_data_is_refused(tmp_path, where):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _tensors(), META)
    blob = path.read_bytes()
    start, end = _data_start(blob), len(blob)
    offset = {"first": start, "middle": (start + end) // 2, "last": end - 1}[where]
    _flip_bit(path, offset, bit=3)
    with pytest.raises(CheckpointError, match="checksum") as info:
        load_checkpoint(path)
    assert "\n" not in str(info.value)


def test_changed_metadata_is_refused(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, _tensors(), META)
    blob = path.read_bytes()
    assert blob.count(b'\\"epoch\\": 3') == 1  # the metadata is JSON inside the JSON header
    path.write_bytes(blob.replace(b'\\"epoch\\": 3', b'\\"epoch\\": 7'))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(path)


def test_checkpoint_without_checksum_is_refused(tmp_path):
    """A file of the format before checksums (no ``sha256``) is not trusted."""
    path = tmp_path / "old.safetensors"
    meta = {"algolens": json.dumps({"format": "algolens-checkpoint/1", **META}, sort_keys=True)}
    save_file(_tensors(), str(path), metadata=meta)
    with pytest.raises(CheckpointError, match="older algolens"):
        load_checkpoint(path)


def test_listing_finds_epochs_past_eight_digits(tmp_path):
    for e in (5, 123_456_789):
        save_checkpoint(tmp_path / checkpoint_name(e), _tensors(), META)
    assert [e for e, _ in list_checkpoints(tmp_path)] == [5, 123_456_789]


def _brute_force_marks(epochs: int, n_log: int, every: int) -> set[int]:
    """The checkpoint epochs by definition: 0, epochs, the multiples of every, n_log log-spaced."""
    marks = {0, epochs} | set(range(every, epochs + 1, every))
    if n_log >= 2:
        marks |= {round(10 ** (math.log10(epochs) * i / (n_log - 1))) for i in range(n_log)}
    elif n_log == 1:
        marks.add(1)
    return {m for m in marks if 0 <= m <= epochs}


@pytest.mark.parametrize(
    "epochs, n_log, every",
    [(10_000, 5, 2500), (5, 0, 100), (1, 20, 1), (997, 7, 13), (1000, 1, 400), (30, 40, 7)],
)
def test_checkpoint_marks_match_the_definition(epochs, n_log, every):
    marks = CheckpointMarks(epochs, n_log, every)
    assert {e for e in range(-3, epochs + 5) if e in marks} == _brute_force_marks(
        epochs, n_log, every
    )


def test_checkpoint_marks_of_a_billion_epochs_list_nothing():
    """Membership is a predicate: 10**9 epochs with a checkpoint every epoch holds only the
    log-spaced marks (the former set of every multiple was killed for memory)."""
    marks = CheckpointMarks(10**9, 20, 1)
    assert len(marks.log_marks) <= 20 and {1, 10**9} <= marks.log_marks
    assert 0 in marks and 999_999_999 in marks and 10**9 in marks and 10**9 + 1 not in marks
    sparse = CheckpointMarks(10**9, 4, 10**8)
    assert [e in sparse for e in (0, 1, 1000, 1001, 10**8, 10**8 + 1)] == [1, 1, 1, 0, 1, 0]

"""Loading stored runs: a flipped bit in any stored weights is refused, never used."""

from __future__ import annotations

import pytest

from algolens.errors import CheckpointError
from algolens.store import RunStore
from algolens.train.checkpoint import checkpoint_name
from algolens.train.load import load_run_model
from algolens.train.run import resume_run
from tests.train.tiny_runs import C4_TABLE, train_tiny, write_table


def _flip_data_bit(path, fraction: float) -> None:
    """Flip bit 5 of the byte at ``fraction`` of the way through the tensor data region."""
    blob = bytearray(path.read_bytes())
    start = 8 + int.from_bytes(blob[:8], "little")  # after the length and the JSON header
    offset = start + int(fraction * (len(blob) - 1 - start))
    blob[offset] ^= 1 << 5
    path.write_bytes(bytes(blob))


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_table(tmp_path / "g.json", C4_TABLE)
    return RunStore(tmp_path / "store")


@pytest.mark.parametrize("fraction", [0.0, 0.5, 1.0])
def test_flipped_bit_in_final_weights_is_refused(store, fraction):
    run = train_tiny(store, "g.json")
    load_run_model(store, run)  # intact: loads
    _flip_data_bit(store.paths(run).final, fraction)
    with pytest.raises(CheckpointError, match="checksum"):
        load_run_model(store, run)


def test_flipped_bit_in_a_checkpoint_is_refused_by_load_and_resume(store):
    run = train_tiny(store, "g.json", stop_at=25)
    path = store.paths(run).checkpoints / checkpoint_name(20)
    load_run_model(store, run, epoch=20)  # intact: loads
    _flip_data_bit(path, 0.5)
    with pytest.raises(CheckpointError, match="checksum"):
        load_run_model(store, run, epoch=20)
    with pytest.raises(CheckpointError, match="checksum"):
        resume_run(store, run)  # 20 is the latest checkpoint
    assert not store.paths(run).final.exists()

"""A worker's view of the store: the run folder only, never the index."""

from __future__ import annotations

import json

import pytest

from algolens.errors import CheckpointError, StoreError
from algolens.store import RunStore
from algolens.sweep.worker import RunFolderStore, attempts


def test_folder_store_never_writes_the_index(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"lr": 1})
    index_bytes = store.index.path.read_bytes()
    folder = RunFolderStore(store.paths(run_id).root)
    prepared = []
    assert folder.create("train", {"lr": 1}, prepare=prepared.append) == run_id
    assert prepared == [store.paths(run_id).root]
    with pytest.raises(CheckpointError, match="another config"):
        folder.create("train", {"lr": 2})
    folder.set_status(run_id, "running")
    folder.set_summary(run_id, {"n_grokked": 1}, status="completed")
    assert json.loads(store.paths(run_id).summary.read_text()) == {"n_grokked": 1}
    assert folder.get(run_id).id == run_id and folder.get(run_id).status == "created"
    with pytest.raises(StoreError):
        folder.list()
    assert store.index.path.read_bytes() == index_bytes  # not a byte of the index changed
    assert store.get(run_id).status == "created" and store.get(run_id).summary == {}


def test_attempts_counts_worker_json(tmp_path):
    assert attempts(tmp_path) == 0
    (tmp_path / "worker.json").write_text('{"attempt": 3, "pid": 1}')
    assert attempts(tmp_path) == 3
    (tmp_path / "worker.json").write_text("not json")
    assert attempts(tmp_path) == 0

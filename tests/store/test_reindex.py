"""Rebuilding index.sqlite from the run folders: statuses, times, kept rows, atomic replace."""

from __future__ import annotations

import json

import pytest

from algolens.errors import StoreError
from algolens.store import RunStore, reindex


def _make_runs(store: RunStore) -> dict[str, str]:
    """Runs in every state a folder can show; returns {state: run id}."""
    ids = {}
    for state in ("completed", "interrupted", "created", "failed", "running"):
        ids[state] = store.create("train", {"group": "C5", "state": state})
    done = store.paths(ids["completed"])
    store.set_summary(ids["completed"], {"n_grokked": 2}, status="completed")
    done.final.write_bytes(b"weights")
    (done.checkpoints / "epoch_00000010.safetensors").write_bytes(b"ckpt")
    for state in ("interrupted", "failed"):
        (store.paths(ids[state]).checkpoints / "epoch_00000010.safetensors").write_bytes(b"ckpt")
    store.set_summary(ids["interrupted"], {"epochs": 15}, status="interrupted")
    store.set_status(ids["failed"], "failed")
    return ids


def test_corrupt_index_is_rebuilt_from_the_folders(tmp_path):
    store = RunStore(tmp_path)
    ids = _make_runs(store)
    before = {r.id: r for r in store.list()}
    (tmp_path / "index.sqlite").write_bytes(b"garbage" * 500)
    (tmp_path / "index.sqlite-journal").write_bytes(b"stale journal of the corrupt file")
    with store.lock(ids["running"]):  # a process is training this one
        result = reindex(store)
    assert sorted(result.recovered) == sorted(ids.values()) and result.kept == []
    status = {r.id: r.status for r in store.list()}
    assert status == {
        ids["completed"]: "completed",
        ids["interrupted"]: "interrupted",  # checkpoints, no final weights
        ids["created"]: "created",
        ids["failed"]: "interrupted",  # a failed status lives only in the index
        ids["running"]: "running",
    }
    for run_id, old in before.items():
        new = store.get(run_id)
        assert new.config == old.config and new.summary == old.summary and new.kind == "train"
        day, clock = run_id.split("-")[:2]  # the id holds the creation time to the second
        assert new.created == (
            f"{day[:4]}-{day[4:6]}-{day[6:]}T{clock[:2]}:{clock[2:4]}:{clock[4:]}.000000Z"
        )
        # the id is made before the index row is written: under load the row's time may be a
        # second or more later, never earlier
        assert new.created[:19] <= old.created[:19]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite", "runs"]


def test_readable_index_keeps_rows_recovers_orphans_drops_rows_without_folder(tmp_path):
    store = RunStore(tmp_path)
    ids = _make_runs(store)
    gone = store.create("train", {})
    store.paths(gone).config.unlink()
    for p in store.paths(gone).root.rglob("*"):
        if p.is_file():
            p.unlink()
    store.paths(gone).checkpoints.rmdir()
    store.paths(gone).root.rmdir()  # a row without folder
    store.index.delete(ids["completed"])  # a folder without row
    (tmp_path / "runs" / ".20261128-000000-abcdef.creating").mkdir()  # half-built: not a run
    (tmp_path / "runs" / "notes").mkdir()  # no config.json: not a run
    result = reindex(store)
    assert result.recovered == [ids["completed"]] and result.dropped == [gone]
    assert result.skipped == ["notes"]
    assert sorted(result.kept) == sorted(i for k, i in ids.items() if k != "completed")
    runs = {r.id: r for r in store.list()}
    assert set(runs) == set(ids.values())
    assert runs[ids["failed"]].status == "failed"  # kept from the old index
    assert runs[ids["completed"]].status == "completed"


@pytest.mark.parametrize("step", ["build", "rename"])
def test_reindex_is_atomic(tmp_path, monkeypatch, step):
    import algolens.store.index as index_module

    store = RunStore(tmp_path)
    ids = _make_runs(store)
    (tmp_path / "index.sqlite").write_bytes(b"garbage" * 500)
    old = (tmp_path / "index.sqlite").read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("crash")

    if step == "build":
        monkeypatch.setattr(index_module, "_dumps", crash)
    else:
        monkeypatch.setattr(index_module.os, "replace", crash)
    with pytest.raises(RuntimeError, match="crash"):
        reindex(store)
    monkeypatch.undo()
    assert (tmp_path / "index.sqlite").read_bytes() == old  # the old file, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite", "runs"]
    reindex(store)
    assert len(store.list()) == len(ids)


def test_reindex_of_a_store_without_runs(tmp_path):
    with pytest.raises(StoreError, match="nothing to reindex"):
        reindex(RunStore(tmp_path / "missing"))
    assert not (tmp_path / "missing").exists()


def test_reindex_json_round_trip(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"nested": {"a": [1, 2]}})
    (tmp_path / "index.sqlite").unlink()
    reindex(store)
    assert store.get(run_id).config == {"nested": {"a": [1, 2]}}
    assert json.loads(store.paths(run_id).config.read_text()) == {"nested": {"a": [1, 2]}}

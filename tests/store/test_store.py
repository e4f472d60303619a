"""Run store: index rows, folders, removal, crash-safe ordering, several processes at once.

Prefix rules and read-only access are in test_index.py, rebuilding the index in test_reindex.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from algolens.errors import StoreError
from algolens.store import RunIndex, RunStore, reindex


def test_create_get_update_remove(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"group": "S5"})
    paths = store.paths(run_id)
    assert json.loads(paths.config.read_text()) == {"group": "S5"}
    assert paths.checkpoints.is_dir()
    store.set_summary(run_id, {"n_grokked": 2}, status="completed")
    record = store.get(run_id[:-2])
    assert (record.status, record.summary) == ("completed", {"n_grokked": 2})
    assert record.config == {"group": "S5"}
    assert json.loads(paths.summary.read_text()) == {"n_grokked": 2}
    assert store.remove(run_id) == run_id
    assert not paths.root.exists() and store.list() == []


def test_unknown_and_ambiguous_ids(tmp_path):
    store = RunStore(tmp_path)
    store.create("train", {})
    store.create("train", {})
    with pytest.raises(StoreError, match="ambiguous"):
        store.get("20")
    with pytest.raises(StoreError, match="no run"):
        store.get("nope")


def test_bad_status_rejected(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {})
    with pytest.raises(StoreError, match="status"):
        store.set_status(run_id, "exploded")


def test_corrupt_index_is_a_store_error_that_names_reindex(tmp_path):
    (tmp_path / "index.sqlite").write_bytes(b"this is not a database" * 100)
    store = RunStore(tmp_path)  # opening a store reads nothing
    for call in (store.list, lambda: store.get("x"), lambda: store.create("train", {})):
        with pytest.raises(StoreError, match="corrupt.*algolens runs reindex --store"):
            call()
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


_WRITER = """
import sys
from algolens.store import RunIndex, RunStore, reindex
store = RunStore(sys.argv[1])
for i in range(25):
    run_id = store.create("train", {"writer": sys.argv[2], "i": i})
    store.set_status(run_id, "running")
    store.set_summary(run_id, {"i": i}, status="completed")
"""


def test_two_processes_write_at_once(tmp_path):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(tmp_path), name], stderr=subprocess.PIPE
        )
        for name in ("a", "b")
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    records = RunStore(tmp_path).list()
    assert len(records) == 50 and len({r.id for r in records}) == 50
    assert all(r.status == "completed" and r.summary == {"i": r.config["i"]} for r in records)
    for writer in ("a", "b"):
        mine = sorted(r.config["i"] for r in records if r.config["writer"] == writer)
        assert mine == list(range(25))


def test_lock_is_exclusive_and_blocks_removal(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {})
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from algolens.store import RunStore\n"
         "with RunStore(sys.argv[1]).lock(sys.argv[2]):\n"
         "    print('locked', flush=True); time.sleep(60)",
         str(tmp_path), run_id],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(StoreError, match="being trained"):
            store.remove(run_id)
        with pytest.raises(StoreError, match="being trained"), store.lock(run_id):
            pass
    finally:
        holder.kill()
        holder.wait()
    assert store.remove(run_id) == run_id  # the kernel dropped the dead holder's lock


def _store_state(store: RunStore) -> tuple[list[str], list[str]]:
    """(ids in the index, names under runs/ including hidden ones)."""
    runs = store.root / "runs"
    names = sorted(p.name for p in runs.iterdir()) if runs.exists() else []
    return [r.id for r in store.list()], names


def test_failed_index_insert_leaves_no_folder(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    keep = store.create("train", {"keep": 1})

    def refuse(*args, **kwargs):
        raise StoreError("run index is read-only")

    monkeypatch.setattr(RunIndex, "insert", refuse)
    with pytest.raises(StoreError, match="read-only"):
        store.create("train", {"lost": 1})
    assert _store_state(store) == ([keep], [keep])


def test_failed_rename_into_place_leaves_nothing(tmp_path, monkeypatch):
    store = RunStore(tmp_path)

    def broken(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "rename", broken)
    with pytest.raises(StoreError, match="cannot create a run folder.*disk gone"):
        store.create("train", {})
    monkeypatch.undo()
    assert _store_state(store) == ([], [])


_KILLED_BEFORE_ROW = """
import os, sys
from algolens.store import RunIndex, RunStore
RunIndex.insert = lambda *a, **k: os._exit(9)  # the process dies between folder and row
RunStore(sys.argv[1]).create("train", {"group": "C5"})
"""


def test_crash_before_the_index_row_leaves_a_complete_recoverable_folder(tmp_path):
    store = RunStore(tmp_path)
    keep = store.create("train", {})
    proc = subprocess.run([sys.executable, "-c", _KILLED_BEFORE_ROW, str(tmp_path)])
    assert proc.returncode == 9
    ids, names = _store_state(store)
    (orphan,) = set(names) - {keep}
    assert ids == [keep] and not orphan.startswith(".")  # complete, under its real name
    assert json.loads(store.paths(orphan).config.read_text()) == {"group": "C5"}
    reindex(store)
    assert store.get(orphan).config == {"group": "C5"} and store.get(orphan).status == "created"


def test_removal_deletes_the_row_before_the_folder(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"group": "S3"})

    def refuse(self, run_id):
        raise StoreError("run index stays locked")

    with monkeypatch.context() as m:  # the row cannot go: the folder stays too
        m.setattr(RunIndex, "delete", refuse)
        with pytest.raises(StoreError, match="locked"):
            store.remove(run_id)
    assert _store_state(store) == ([run_id], [run_id])

    def broken(src, dst):
        raise OSError("disk gone")

    with monkeypatch.context() as m:  # the row went, the folder did not: reindex finds it
        m.setattr(os, "replace", broken)
        with pytest.raises(StoreError, match="left the index.*disk gone.*runs reindex"):
            store.remove(run_id)
    assert _store_state(store) == ([], [run_id])
    reindex(store)
    assert store.get(run_id).config == {"group": "S3"}
    assert store.remove(run_id) == run_id and _store_state(store) == ([], [])


def test_unwritable_store_is_a_store_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    store = RunStore(tmp_path / "file" / "store")
    with pytest.raises(StoreError, match="cannot create a run folder"):
        store.create("train", {})
    with pytest.raises(StoreError, match="cannot create run store"):
        store.index.insert("20261122-042712-3fa9c1", "train", {})
    assert store.list() == [] and sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_prepare_writes_into_the_folder_before_it_is_named(tmp_path):
    store = RunStore(tmp_path)
    seen = []

    def prepare(folder):
        seen.append(folder.name)
        (folder / "extra.json").write_text("{}")

    run_id = store.create("train", {"lr": 1.0}, prepare=prepare)
    assert seen == [f".{run_id}.creating"]
    assert (store.paths(run_id).root / "extra.json").is_file()


def test_failed_prepare_leaves_no_folder_and_no_row(tmp_path):
    store = RunStore(tmp_path)

    def prepare(folder):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        store.create("train", {"lr": 1.0}, prepare=prepare)
    assert store.list() == []
    assert list((tmp_path / "runs").iterdir()) == []


@pytest.mark.parametrize(
    "where", ["config.json", "metrics.jsonl", "checkpoints/epoch_00000001.safetensors"]
)
@pytest.mark.parametrize("kind", ["fifo", "symlink"])
def test_a_run_folder_entry_that_is_not_a_regular_file_is_refused(tmp_path, where, kind):
    """Reading a FIFO would block forever, a link would leave the store: refused at paths()."""
    store = RunStore(tmp_path / "store")
    run_id = store.create("train", {"lr": 0.001})
    entry = store.paths(run_id).root / where
    entry.unlink(missing_ok=True)
    if kind == "fifo":
        os.mkfifo(entry)
    else:
        (tmp_path / "elsewhere").write_text("{}")
        entry.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="symlink|not a regular file") as info:
        store.paths(run_id)
    assert "\n" not in str(info.value) and where.split("/")[-1] in str(info.value)

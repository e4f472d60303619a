"""Run store: index rows, folders, prefixes, removal, and several processes at once."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from algolens.errors import StoreError
from algolens.store import RunStore


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


def test_corrupt_index_is_a_store_error(tmp_path):
    (tmp_path / "index.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="corrupt"):
        RunStore(tmp_path)


_WRITER = """
import sys
from algolens.store import RunStore
store = RunStore(sys.argv[1])
for i in range(25):
    run_id = store.create("train", {"writer": sys.argv[2], "i": i})
    store.set_status(run_id, "running")
    store.set_summary(run_id, {"i": i}, status="completed")
"""


def test_two_processes_write_at_once(tmp_path):
    RunStore(tmp_path)  # create the index first, as a CLI invocation would
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

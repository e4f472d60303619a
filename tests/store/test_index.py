"""Run index: prefix rules, lazy creation, read-only reads, statuses, old WAL indexes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from algolens.errors import StoreError
from algolens.store import RunIndex, RunStore, reindex

IDS = ("20261122-042712-3fa9c1", "20261122-042712-3fb000", "20261123-000000-aaaaaa")


@pytest.fixture
def index(tmp_path) -> RunIndex:
    index = RunIndex(tmp_path / "index.sqlite")
    for run_id in IDS:
        index.insert(run_id, "train", {"id": run_id})
    return index


@pytest.mark.parametrize(
    "query, expected",
    [
        pytest.param(IDS[0], IDS[0], id="exact"),
        pytest.param("20261122-042712-3fa", IDS[0], id="unique-prefix"),
        pytest.param("20261123", IDS[2], id="date-prefix"),
    ],
)
def test_unique_prefix_finds_the_run(index, query, expected):
    assert index.get(query).id == expected


@pytest.mark.parametrize(
    "query, message",
    [
        pytest.param("", "empty", id="empty"),
        pytest.param("20261122-042712-3F", "no run", id="upper-case"),
        pytest.param("20261122-042712-3FA9C1", "no run", id="upper-case-full"),
        pytest.param("20261122-042712-3f", "ambiguous", id="ambiguous"),
        pytest.param("2026112_", "no run", id="like-underscore"),
        pytest.param("%", "no run", id="like-percent"),
        pytest.param("*", "no run", id="glob-star"),
        pytest.param(IDS[0] + "0", "no run", id="longer-than-id"),
    ],
)
def test_prefix_must_be_non_empty_case_sensitive_and_literal(index, query, message):
    with pytest.raises(StoreError, match=message):
        index.get(query)


def test_rm_with_empty_prefix_deletes_nothing(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {})
    with pytest.raises(StoreError, match="empty"):
        store.remove("")
    assert [r.id for r in store.list()] == [run_id] and store.paths(run_id).root.is_dir()


def test_reading_a_missing_store_creates_nothing(tmp_path):
    root = tmp_path / "no" / "store"
    store = RunStore(root)
    assert store.list() == [] and store.list("completed") == []
    with pytest.raises(StoreError, match="no run"):
        store.get("2026")
    with pytest.raises(StoreError, match="no run"):
        store.set_status("2026", "running")
    assert not (tmp_path / "no").exists()


def test_unknown_status_is_refused_even_without_an_index(tmp_path):
    with pytest.raises(StoreError, match="created, running, completed, failed, interrupted"):
        RunStore(tmp_path / "none").list("bogus")


def _snapshot(root) -> dict[str, tuple[int, bytes]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else b"")
        for p in sorted(root.rglob("*"))
    }


def test_reads_open_read_only_and_leave_the_store_untouched(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"group": "S5"})
    store.set_summary(run_id, {"n_grokked": 1}, status="completed")
    before = _snapshot(tmp_path)
    assert [r.id for r in RunStore(tmp_path).list()] == [run_id]
    assert RunStore(tmp_path).get(run_id[:10]).status == "completed"
    assert RunStore(tmp_path).list("completed")[0].summary == {"n_grokked": 1}
    assert _snapshot(tmp_path) == before  # no -wal/-shm/-journal, no mtime change


def test_reads_connect_with_mode_ro(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    run_id = store.create("train", {})
    opened = []
    real = sqlite3.connect

    def spy(target, *args, **kwargs):
        opened.append(str(target))
        return real(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    store.list()
    store.get(run_id[:8])
    assert opened and all(t.endswith("?mode=ro") for t in opened)
    store.set_status(run_id, "running")
    assert not opened[-1].endswith("?mode=ro")


_READ = """set -e
"$2" -c 'from algolens.cli import main; main()' runs list --store "$1" --json
"$2" -c 'from algolens.cli import main; main()' runs show "$3" --store "$1" --json
"""
_READ_ON_RO_MOUNT = (
    """set -e
mount --bind "$1" "$1"
mount -o remount,bind,ro "$1"
if touch "$1/probe" 2>/dev/null; then echo "still writable"; exit 3; fi
"""
    + _READ
)


def _read_only_run(root, *args: str) -> subprocess.CompletedProcess:
    """Run the reading commands with ``root`` read-only: chmod as a normal user; as root (whom
    chmod does not stop) on a read-only bind mount in a private user and mount namespace."""
    if os.geteuid() != 0:
        for p in [root, *root.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        return subprocess.run(["sh", "-c", _READ, "sh", *args], capture_output=True, text=True)
    if shutil.which("unshare") is None:
        pytest.skip("no unshare to make a read-only mount")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unshare -rm not permitted here")
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", _READ_ON_RO_MOUNT, "sh", *args],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("journal", ["delete", "wal"], ids=["rollback-journal", "old-wal-index"])
def test_a_read_only_store_can_be_listed(tmp_path, journal):
    import json

    root = tmp_path / "store"
    store = RunStore(root)
    run_id = store.create("train", {"group": "S5"})
    if journal == "wal":  # stores written before the index left WAL mode
        con = sqlite3.connect(root / "index.sqlite")
        assert con.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
        con.close()
    try:
        proc = _read_only_run(root, str(root), sys.executable, run_id[:12])
    finally:
        for p in [root, *root.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    listed, shown = proc.stdout.split("\n]\n", 1)
    assert [r["id"] for r in json.loads(listed + "\n]")] == [run_id]
    assert json.loads(shown)["id"] == run_id


def test_old_wal_index_is_converted_by_the_next_write(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {})
    con = sqlite3.connect(tmp_path / "index.sqlite")
    con.execute("PRAGMA journal_mode = WAL")
    con.close()
    assert store.get(run_id).status == "created"
    store.set_status(run_id, "running")
    con = sqlite3.connect(tmp_path / "index.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    con.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite", "runs"]
    assert store.get(run_id).status == "running"


_KILLED_MID_TRANSACTION = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA cache_size = 1")  # spill to the file: the journal becomes hot
con.execute("BEGIN IMMEDIATE")
for i in range(2000):
    con.execute(
        "INSERT INTO runs (id, status, kind, config, created, updated, summary) "
        "VALUES (?, 'created', 'train', '{}', 'x', 'x', '{}')", (str(i),)
    )
print("ready", flush=True)
time.sleep(60)
"""


def test_read_after_a_writer_died_mid_transaction_rolls_it_back(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {})
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_MID_TRANSACTION, str(store.index.path)],
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout.readline().strip() == b"ready"
    finally:
        proc.kill()
        proc.wait()
    assert (tmp_path / "index.sqlite-journal").stat().st_size > 0  # a hot journal
    assert [r.id for r in store.list()] == [run_id]  # mode=ro cannot roll back: read-write can
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.sqlite", "runs"]


@pytest.mark.parametrize("what", ["symlink", "journal-symlink", "fifo", "folder"])
def test_an_index_that_is_not_a_regular_file_is_refused_before_anything_is_made(tmp_path, what):
    """SQLite would write through a link (outside the store) or block on a FIFO."""
    root = tmp_path / "store"
    root.mkdir()
    target = tmp_path / "elsewhere.sqlite"
    if what == "symlink":
        (root / "index.sqlite").symlink_to(target)
    elif what == "journal-symlink":
        (root / "index.sqlite-journal").symlink_to(target)
    elif what == "fifo":
        os.mkfifo(root / "index.sqlite")
    else:
        (root / "index.sqlite").mkdir()
    store = RunStore(root)
    with pytest.raises(StoreError, match="symlink|not a regular file") as info:
        store.create("train", {"x": 1})
    assert "\n" not in str(info.value)
    assert not target.exists() and not (root / "runs").exists()


def test_a_damaged_row_is_left_out_and_reindex_rebuilds_it(tmp_path):
    store = RunStore(tmp_path / "store")
    good, bad = store.create("train", {"lr": 1}), store.create("train", {"lr": 2})
    con = sqlite3.connect(store.index.path)
    con.execute("UPDATE runs SET summary = ? WHERE id = ?", ("{not json", bad))
    con.commit()
    con.close()
    assert [r.id for r in store.list()] == [good]
    with pytest.raises(StoreError, match="damaged.*runs reindex") as info:
        store.get(bad)
    assert "\n" not in str(info.value)
    reindex(store)
    assert sorted(r.id for r in store.list()) == sorted([good, bad])
    assert store.get(bad).config == {"lr": 2}

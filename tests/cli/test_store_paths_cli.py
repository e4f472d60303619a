"""Run ids and sweep ids never lead out of the store; one rule for empty ids and prefixes."""

from __future__ import annotations

import json
import sqlite3

import pytest

from algolens.store import RunStore

BAD_ID = "../../victim"


@pytest.fixture
def store(tmp_path) -> RunStore:
    """A store (in ``tmp_path/s/store``) with one run and a crafted row ``../../victim``."""
    store = RunStore(tmp_path / "s" / "store")
    store.create("train", {"group": "C5", "seeds": [0]})
    con = sqlite3.connect(store.index.path)
    con.execute(
        "INSERT INTO runs (id, status, kind, config, created, updated, summary) "
        "VALUES (?, 'completed', 'train', '{}', 'x', 'x', '{}')",
        (BAD_ID,),
    )
    con.commit()
    con.close()
    return store


def _tree(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["analyze", BAD_ID], id="analyze"),
        pytest.param(["report", BAD_ID], id="report"),
        pytest.param(["runs", "rm", BAD_ID, "--yes"], id="rm"),
        pytest.param(["runs", "show", BAD_ID], id="show"),
    ],
)
def test_a_crafted_run_id_is_refused_in_one_line(run_cli, store, tmp_path, args):
    before = _tree(tmp_path)
    code, out, err = run_cli(*args, "--store", str(store.root))
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1, err
    assert "not of the form YYYYMMDD-HHMMSS-xxxxxx" in err and "runs reindex" in err
    assert _tree(tmp_path) == before  # nothing written, outside the store or in it


def test_reindex_drops_the_crafted_row(run_cli, store):
    code, out, err = run_cli("runs", "reindex", "--store", str(store.root), "--json")
    assert code == 0, err
    assert json.loads(out)["dropped"] == [BAD_ID]
    assert [r.id for r in store.list()] == [store.list()[0].id] and len(store.list()) == 1


@pytest.mark.parametrize("sub", ["analyses", "checkpoints", None])
def test_a_symlink_in_the_run_folder_is_never_written_through(run_cli, store, tmp_path, sub):
    run = store.list()[0].id
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = store.root / "runs" / run
    if sub is None:  # the run folder itself is a link
        real = tmp_path / "real-run"
        folder.rename(real)
        folder.symlink_to(real)
    else:
        target = folder / sub
        if target.exists():
            target.rmdir()
        target.symlink_to(outside)
    code, _, err = run_cli("report", run, "--store", str(store.root))
    assert code == 2 and "is a symlink" in err and err.count("\n") == 1, err
    assert list(outside.iterdir()) == []
    assert sub is not None or not (tmp_path / "real-run" / "report.html").exists()


def test_symlinked_sweeps_folder_is_refused(store, tmp_path):
    from algolens.errors import StoreError

    (tmp_path / "elsewhere").mkdir()
    (store.root / "sweeps").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="symlink"):
        store.folder("sweeps")


@pytest.mark.parametrize(
    "args",
    [["runs", "list"], ["report", "--index"], ["runs", "reindex"], ["train", "--epochs", "1"]],
)
def test_an_empty_store_is_refused(run_cli, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(*args, "--store", "")
    assert code == 2 and "--store is empty" in err and err.count("\n") == 1, err
    monkeypatch.setenv("ALGOLENS_STORE", "")
    code, out, err = run_cli(*args)
    assert code == 2 and "ALGOLENS_STORE is set but empty" in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []  # the current folder did not become a store


def test_an_ambiguous_run_prefix_counts_the_candidates(run_cli, tmp_path):
    store = RunStore(tmp_path / "store")
    ids = [store.create("train", {}) for _ in range(3)]
    prefix = ids[0][:9]  # the date and the dash: every run of today
    if not all(i.startswith(prefix) for i in ids):
        pytest.skip("the runs straddle midnight")
    code, _, err = run_cli("runs", "show", prefix, "--store", str(store.root))
    assert code == 2 and "ambiguous: 3 runs match" in err and err.count("\n") == 1, err

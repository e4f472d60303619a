"""A read-only store: every command that writes to it ends in one line, exit 2, store untouched.

Tests run as root here, and root ignores folder permissions, so the read-only file system is
simulated: every low-level call that would create, change or remove a file under the store
raises ``OSError(EROFS)``, as the kernel does on a read-only mount.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import sqlite3

import pytest

from algolens.store import RunStore


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store with one tiny trained composition run."""
    from algolens.train.config import make_config
    from algolens.train.run import start_run

    store = RunStore(tmp_path_factory.mktemp("ro") / "store")
    config = make_config("fast", group="S3", seeds=[0], epochs=2, model_args={"d_embed": 8})
    return store, start_run(config, store)["run_id"]


def _inside(path, root) -> bool:
    if isinstance(path, int):
        return False
    text = os.fspath(path)
    if text.startswith("file:"):
        text = text[len("file:") :].split("?")[0]
    return os.path.abspath(text).startswith(os.path.abspath(root) + os.sep)


@pytest.fixture
def read_only(monkeypatch):
    """``read_only(root)``: from now on, the file system under ``root`` refuses every write."""

    def make(root) -> None:
        def refuse(path):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), os.fspath(path))

        def guard(real, path_arg=0, writes=lambda *a, **k: True):
            def call(*args, **kwargs):
                if _inside(args[path_arg], root) and writes(*args, **kwargs):
                    refuse(args[path_arg])
                return real(*args, **kwargs)

            return call

        write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
        monkeypatch.setattr(
            os, "open", guard(os.open, writes=lambda p, f, *a, **k: f & write_flags)
        )
        for name in ("mkdir", "rmdir", "unlink", "remove", "rename", "replace", "utime", "chmod"):
            monkeypatch.setattr(os, name, guard(getattr(os, name)))

        def opens_for_writing(path, mode="r", *args, **kwargs):
            return any(c in mode for c in "wax+")

        monkeypatch.setattr(builtins, "open", guard(builtins.open, writes=opens_for_writing))
        monkeypatch.setattr(io, "open", guard(io.open, writes=opens_for_writing))
        real_connect = sqlite3.connect

        def connect(target, *args, **kwargs):
            if _inside(target, root) and "mode=ro" not in os.fspath(target):
                exc = sqlite3.OperationalError("attempt to write a readonly database")
                exc.sqlite_errorname = "SQLITE_READONLY"
                raise exc
            return real_connect(target, *args, **kwargs)

        monkeypatch.setattr(sqlite3, "connect", connect)

    return make


def _snapshot(root) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["analyze", "{run}"], id="analyze"),
        pytest.param(["report", "{run}"], id="report"),
        pytest.param(["report", "--index"], id="report-index"),
        pytest.param(["runs", "rm", "{run}", "--yes"], id="rm"),
        pytest.param(["runs", "reindex"], id="reindex"),
    ],
)
def test_a_read_only_store_is_one_line(trained, run_cli, read_only, args):
    store, run = trained
    before = _snapshot(store.root)
    read_only(store.root)
    code, out, err = run_cli(*[a.format(run=run) for a in args], "--store", str(store.root))
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1, err
    assert "store" in err and "read-only" in err, err
    assert _snapshot(store.root) == before


def test_an_unexpected_os_error_is_one_line(run_cli, tmp_path, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(tmp_path / "index"))

    monkeypatch.setattr(RunStore, "list", refuse)
    code, out, err = run_cli("runs", "list", "--store", str(tmp_path))
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("error: cannot access") and "Permission denied" in err

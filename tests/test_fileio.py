"""Atomic writes: nothing half-written, no temporary left behind, usual permissions."""

from __future__ import annotations

import os

import pytest

from algolens.fileio import atomic_write, write_json_atomic


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.json"
    write_json_atomic(path, {"v": 1})

    def broken(tmp: str) -> None:
        with open(tmp, "w") as fh:
            fh.write('{"v": 2')  # half-written
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(path, broken)
    assert path.read_text().strip().replace(" ", "").replace("\n", "") == '{"v":1}'
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


@pytest.mark.parametrize(
    "mask, mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)], ids=["022", "027", "077"]
)
def test_permissions_follow_umask_without_touching_it(tmp_path, monkeypatch, mask, mode):
    old = os.umask(mask)
    try:

        def no_umask(_: int) -> int:  # os.umask is process-wide: calling it races other threads
            raise AssertionError("atomic writes must not call os.umask")

        monkeypatch.setattr(os, "umask", no_umask)
        write_json_atomic(tmp_path / "b.json", [1])
        write_json_atomic(tmp_path / "b.json", [2])  # replacing an existing file too
    finally:
        monkeypatch.undo()
        os.umask(old)
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == mode
    assert [p.name for p in tmp_path.iterdir()] == ["b.json"]


def test_temporary_is_fresh_and_exclusive(tmp_path):
    seen = []

    def write(tmp: str) -> None:
        seen.append(tmp)
        assert os.path.getsize(tmp) == 0 and os.path.basename(tmp).startswith(".c.json.")
        with open(tmp, "w") as fh:
            fh.write("{}")

    atomic_write(tmp_path / "c.json", write)
    atomic_write(tmp_path / "c.json", write)
    assert seen[0] != seen[1] and (tmp_path / "c.json").read_text() == "{}"

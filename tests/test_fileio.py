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


def test_permissions_follow_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "b.json", [1])
    finally:
        os.umask(old)
    assert (tmp_path / "b.json").stat().st_mode & 0o777 == 0o644

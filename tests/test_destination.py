"""`check_destination`: the one check of every user-named output file."""

from __future__ import annotations

import os

import pytest

from algolens.destination import check_destination
from algolens.errors import DestinationError


def test_new_and_regular_files_are_accepted(tmp_path):
    (tmp_path / "old.txt").write_text("x")
    assert check_destination(tmp_path / "new.txt") == tmp_path / "new.txt"
    assert check_destination(str(tmp_path / "old.txt")) == tmp_path / "old.txt"


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(), "a directory"),
        (lambda p: os.mkfifo(p), "a FIFO"),
        (lambda p: p.symlink_to(p.with_name("target")), "symlink"),
    ],
)
def test_non_regular_files_are_refused(tmp_path, make, words):
    dest = tmp_path / "out"
    make(dest)
    with pytest.raises(DestinationError, match=words):
        check_destination(dest, what="--out")


def test_empty_path_missing_folder_and_file_as_folder(tmp_path):
    with pytest.raises(DestinationError, match="empty"):
        check_destination("")
    with pytest.raises(DestinationError, match="does not exist"):
        check_destination(tmp_path / "a" / "b.json")
    (tmp_path / "f").write_text("")
    with pytest.raises(DestinationError, match="cannot write"):
        check_destination(tmp_path / "f" / "b.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_run_store_files_are_refused(tmp_path):
    store = tmp_path / "store"
    (store / "runs" / "20260101-000000-abcdef").mkdir(parents=True)
    run = store / "runs" / "20260101-000000-abcdef"
    # the command's own store, before its index exists
    with pytest.raises(DestinationError, match="run store"):
        check_destination(run / "final.safetensors", store=store)
    with pytest.raises(DestinationError, match="run store"):
        check_destination(store / "runs" / "x.json", store=store)
    # any other store: recognised by its index, also through a symlinked folder
    (store / "index.sqlite").write_bytes(b"")
    (tmp_path / "link").symlink_to(run)
    for dest in (run / "config.json", tmp_path / "link" / "x.json", store / "index.sqlite"):
        with pytest.raises(DestinationError, match="run store"):
            check_destination(dest)
    assert check_destination(store / "notes.txt") == store / "notes.txt"

"""Table files: bounded reading, one-line errors, and export that writes only regular files."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from algolens.errors import DestinationError, SizeLimitError, SpecError, TableError
from algolens.groups import export_table, load_table_file, parse_group
from algolens.groups import table_file as tf


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    return path


# -- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("empty.json", json.dumps({"table": []}), "empty"),
        ("empty.csv", "", "empty"),
        ("blank.csv", "\n \n", "empty"),
        ("big.json", json.dumps({"table": [[0, 2**63], [2**63, 0]]}), "out of range"),
        ("neg.json", json.dumps({"table": [[0, -(2**63) - 1], [1, 0]]}), "out of range"),
        ("big.csv", f"0,{2**64}\n1,0\n", "out of range"),
        ("digits.json", '{"table": [[' + "9" * 5000 + "]]}", "unreadable JSON"),
        ("deep.json", '{"table": ' + "[" * 100_000 + "]" * 100_000 + "}", "unreadable JSON"),
        ("labels.json", json.dumps({"table": [[0, 1], [1, 0]], "labels": "ab"}), "labels"),
        ("name.json", json.dumps({"table": [[0]], "name": ["x"]}), '"name"'),
        ("newline.json", json.dumps({"table": [[0]], "name": "a\nb"}), '"name"'),
        ("dup.json", json.dumps({"table": [[0, 1], [1, 0]], "labels": ["e", "e"]}), "distinct"),
        ("intlab.json", json.dumps({"table": [[0, 1], [1, 0]], "labels": ["e", 1]}), "string"),
    ],
)
def test_bad_table_files_raise_one_line(tmp_path, name, content, pattern):
    path = _write(tmp_path, name, content)
    with pytest.raises(TableError, match=pattern) as info:
        load_table_file(path)
    assert "\n" not in str(info.value)


def test_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(b"0\xff\n")
    with pytest.raises(TableError, match="UTF-8"):
        load_table_file(path)


def test_a_folder_is_not_a_table_file(tmp_path):
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(TableError, match="directory"):
        load_table_file(tmp_path / "dir.json")


def test_size_is_checked_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.json"
    with open(path, "wb") as fh:
        fh.truncate(tf.MAX_TABLE_FILE_BYTES + 1)  # sparse: no disk used

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened for reading")

    monkeypatch.setattr(tf, "open", no_reading, raising=False)
    monkeypatch.setattr(pathlib.Path, "read_text", no_reading)
    monkeypatch.setattr(pathlib.Path, "read_bytes", no_reading)
    with pytest.raises(SizeLimitError, match="MAX_TABLE_FILE_BYTES") as info:
        load_table_file(path)
    assert "\n" not in str(info.value)


def test_size_limit_admits_an_indented_json_table_of_max_order():
    # the widest entry of json.dumps(..., indent=2) of {"table": [[...]]} is "      5039,\n"
    lines = json.dumps({"table": [[5039, 5039]]}, indent=2).splitlines()
    widest = max(len(line) + 1 for line in lines if "5039" in line)  # + the newline
    assert widest == 12
    assert tf.MAX_TABLE_FILE_BYTES >= widest * tf.MAX_ORDER**2


# -- exporting ----------------------------------------------------------------------------------


def test_json_export_content(tmp_path):
    g = parse_group("D3")
    path = tmp_path / "d3.json"
    export_table(g, path)
    data = json.loads(path.read_text())
    assert list(data) == ["name", "order", "identity", "table", "labels"]
    assert data["table"] == g.table.tolist() and data["labels"] == g.labels
    assert (data["name"], data["order"], data["identity"]) == ("D3", 6, 0)


def test_csv_export_is_read_back(tmp_path):
    g = parse_group("S3xC2")
    path = tmp_path / "OUT.CSV"
    export_table(g, path)
    rows = [list(map(int, ln.split(","))) for ln in path.read_text().splitlines()]
    assert rows == g.table.tolist()  # CSV, not JSON
    assert (load_table_file(path).table == g.table).all()


@pytest.mark.parametrize("name", ["out.txt", "out", "out.json.bak"])
def test_other_suffixes_are_refused(tmp_path, name):
    with pytest.raises(SpecError, match=r"\.json .*\.csv"):
        export_table(parse_group("C5"), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_fifo_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(DestinationError, match="FIFO"):
        export_table(parse_group("C5"), fifo)
    assert fifo.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json"]


def test_folder_is_refused(tmp_path):
    folder = tmp_path / "out.json"
    folder.mkdir()
    with pytest.raises(DestinationError, match="directory"):
        export_table(parse_group("C5"), folder)
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_device_is_refused_without_writing():
    with pytest.raises(DestinationError, match="character device"):
        tf.check_export_destination("/dev/null")


def test_symlink_is_refused_and_its_target_untouched(tmp_path):
    target = _write(tmp_path, "real.json", "old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(DestinationError, match="symlink"):
        export_table(parse_group("C5"), link)
    assert link.is_symlink() and target.read_text() == "old"


def test_dangling_symlink_is_refused(tmp_path):
    (tmp_path / "sub").mkdir()
    target = tmp_path / "sub" / "new.csv"
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    with pytest.raises(DestinationError, match="symlink"):
        export_table(parse_group("C4"), link)
    assert link.is_symlink() and not target.exists()


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(DestinationError, match="does not exist"):
        export_table(parse_group("C5"), tmp_path / "nowhere" / "x.json")
    assert not (tmp_path / "nowhere").exists()


def test_symlink_loop_is_refused(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(DestinationError, match="symlink"):
        export_table(parse_group("C5"), a)

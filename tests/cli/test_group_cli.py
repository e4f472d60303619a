"""`algolens group ...`: JSON interface and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os

import pytest


def test_info_json_keys(run_cli):
    code, out, err = run_cli("group", "info", "S4", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["order"] == 24
    assert data["n_conjugacy_classes"] == 5
    assert data["class_sizes"] == [1, 3, 6, 6, 8]
    assert data["abelian"] is False
    assert (data["n_subgroups"], data["n_subgroup_classes"]) == (30, 11)


def test_subgroups_json(run_cli):
    code, out, _ = run_cli("group", "subgroups", "A5", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["n_subgroups"] == 59
    assert sum(c["class_size"] for c in data["classes"]) == 59
    assert [c["normal"] for c in data["classes"]].count(True) == 2


def test_export_then_info(run_cli, tmp_path):
    path = tmp_path / "d5.json"
    code, _, _ = run_cli("group", "export", "D5", str(path))
    assert code == 0 and path.exists()
    code, out, _ = run_cli("group", "info", str(path), "--json")
    assert json.loads(out)["order"] == 10


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        (("group", "info", "X9"), "unknown group spec"),
        (("group", "info", "S9"), "too large"),
        (("group", "info", "{bad}.json"), "does not exist"),
    ],
)
def test_bad_input_is_one_line_exit_2(run_cli, args, pattern):
    code, out, err = run_cli(*args)
    assert code == 2
    assert err.count("\n") == 1 and pattern in err


def test_bad_table_file_exit_2_and_export_writes_nothing(run_cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"table": [[0, 1, 2], [1, 0, 0], [2, 2, 1]]}))
    code, _, err = run_cli("group", "info", str(bad))
    assert code == 2 and err.startswith("error:")
    out = tmp_path / "out.json"
    code, _, _ = run_cli("group", "export", "nope", str(out))
    assert code == 2 and not out.exists()


def test_info_reports_character_degrees(run_cli):
    code, out, _ = run_cli("group", "info", "S5", "--json")
    data = json.loads(out)
    assert data["character_degrees"] == [1, 1, 4, 4, 5, 5, 6]
    assert len(data["irreps"]) == 7
    assert {"label", "real_dim", "complex_degree", "indicator"} == set(data["irreps"][0])


def test_irreps_command(run_cli):
    code, out, _ = run_cli("group", "irreps", "C5", "--json")
    assert code == 0
    rows = json.loads(out)["irreps"]
    # C5 over the reals: the trivial irrep and two 2-dim rotations (pairs of complex characters).
    assert sorted(r["real_dim"] for r in rows) == [1, 2, 2]
    assert all(r["hom_error"] < 1e-9 and r["orth_error"] < 1e-9 for r in rows)


# -- user strings are printed as written, never as rich markup -----------------------------------


@pytest.fixture
def markup_table(tmp_path):
    path = tmp_path / "markup.json"
    data = {"name": "[/oops] [bold]G", "table": [[0, 1], [1, 0]], "labels": ["[bold]", "[/oops]"]}
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("command", ["info", "irreps", "subgroups"])
def test_markup_in_names_and_labels_is_printed_literally(run_cli, markup_table, command):
    code, out, err = run_cli("group", command, str(markup_table))
    assert code == 0, err
    assert "[/oops] [bold]G" in out


def test_markup_in_export_message(run_cli, markup_table, tmp_path):
    code, out, err = run_cli("group", "export", str(markup_table), str(tmp_path / "[x].json"))
    assert code == 0, err
    out = out.replace("\n", " ")  # rich wraps long lines at spaces
    assert "wrote [/oops] [bold]G (order 2) to" in out and "[x].json" in out
    assert json.loads((tmp_path / "[x].json").read_text())["labels"] == ["[bold]", "[/oops]"]


def test_markup_in_spec_help_is_shown(run_cli):
    code, out, _ = run_cli("group", "info", "--help")
    assert code == 0 and "AbelianGroup([n1,n2,...])" in out.replace("\n", "").replace(" ", "")


# -- bad input: one line on stderr, exit code 2, nothing created ---------------------------------


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("empty.json", '{"table": []}', "empty"),
        ("empty.csv", "", "empty"),
        ("big.json", json.dumps({"table": [[0, 2**63], [1, 0]]}), "out of range"),
        ("dup.json", json.dumps({"table": [[0, 1], [1, 0]], "labels": ["x", "x"]}), "distinct"),
    ],
)
def test_bad_tables_through_the_cli(run_cli, tmp_path, name, content, pattern):
    path = tmp_path / name
    path.write_text(content)
    code, out, err = run_cli("group", "info", str(path))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error:") and pattern in err


def test_perm_with_a_huge_point(run_cli):
    code, _, err = run_cli("group", "info", "perm:(0 99999999999)")
    assert code == 2 and err.count("\n") == 1 and "0..1023" in err


@pytest.mark.parametrize("kind", ["directory", "fifo", "suffix"])
def test_export_to_a_non_file_is_refused(run_cli, tmp_path, kind):
    dest = tmp_path / ("out.txt" if kind == "suffix" else "out.json")
    if kind == "directory":
        dest.mkdir()
    elif kind == "fifo":
        os.mkfifo(dest)
    code, out, err = run_cli("group", "export", "C5", str(dest))
    assert code == 2 and out == "" and err.count("\n") == 1
    expected = {"directory": "a directory", "fifo": "a FIFO", "suffix": ".csv"}[kind]
    assert expected in err
    assert [p.name for p in tmp_path.iterdir()] == ([] if kind == "suffix" else ["out.json"])
    assert kind != "fifo" or dest.is_fifo()


def test_export_csv_through_the_cli(run_cli, tmp_path):
    dest = tmp_path / "c5.csv"
    code, _, err = run_cli("group", "export", "C5", str(dest))
    assert code == 0, err
    assert dest.read_text().splitlines()[1] == "1,2,3,4,0"


def test_export_checks_the_destination_before_building_the_group(run_cli, tmp_path, monkeypatch):
    import algolens.cli.group

    def never(spec):
        raise AssertionError("the group was built before the destination was checked")

    monkeypatch.setattr(algolens.cli.group, "parse_group", never)
    for bad in (tmp_path, tmp_path / "x.txt", tmp_path / "missing" / "x.json"):
        code, _, err = run_cli("group", "export", "S7", str(bad))
        assert code == 2 and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["info", "S5", "--max-subgroups", "100"], "S5 has more than 100 subgroups"),
        (["subgroups", "C2xC2xC2xC2xC2xC2xC2", "--max-subgroups", "1000"],
         "more than 1000 subgroups"),
        (["spectra", "S4", "--max-subgroups", "10"], "S4 has more than 10 subgroups"),
        (["info", "S4", "--max-subgroups", "0"], "--max-subgroups"),
    ],
    ids=["info", "subgroups", "spectra", "zero-limit"],
)  # fmt: skip
def test_subgroup_limit_is_one_line_exit_2(run_cli, args, fragment):
    code, out, err = run_cli("group", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err
    if "0" not in args:
        assert "--max-subgroups" in err  # says how to raise it


def test_subgroup_rich_groups_finish_or_stop(run_cli):
    # elementary abelian: counted by formula, no enumeration (was: no answer in 100 s)
    code, out, err = run_cli("group", "info", "C2xC2xC2xC2xC2xC2xC2", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["order"], data["n_subgroups"], data["n_subgroup_classes"]) == (128, 29212, 29212)
    code, out, err = run_cli("group", "info", "S5", "--json", "--max-subgroups", "156")
    assert code == 0 and json.loads(out)["n_subgroups"] == 156
    code, out, err = run_cli("group", "subgroups", "S4", "--json", "--max-subgroups", "30")
    assert code == 0 and json.loads(out)["n_subgroups"] == 30


def test_info_of_a_group_past_the_irreps_limit_still_answers(run_cli):
    """C2521 is allowed (order up to 5040) but above the irreps' limit (2520): info gives the
    rest, with the irreps marked as not computed and why, instead of failing."""
    code, out, err = run_cli("group", "info", "C2521", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["order"] == 2521 and data["n_conjugacy_classes"] == 2521 and data["abelian"]
    assert data["n_subgroups"] == 2  # 2521 is prime: the trivial group and the whole group
    assert data["irreps"] is None and "2520" in data["irreps_not_computed"]

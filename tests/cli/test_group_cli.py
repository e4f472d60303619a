"""`algolens group ...`: JSON interface and one-line errors with exit code 2."""

from __future__ import annotations

import json

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

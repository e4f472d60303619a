"""Where output goes: results on stdout (valid JSON with --json), prompts and progress on stderr,
full values in pipes; and the messages of issue 18's round two."""

from __future__ import annotations

import io
import json
import sys

import pytest

from algolens.store import RunStore


@pytest.fixture
def store(tmp_path) -> RunStore:
    store = RunStore(tmp_path / "store")
    store.create("train", {"group": "C5", "seeds": [0]})
    return store


def test_rm_json_prompt_goes_to_stderr(run_cli, store, monkeypatch):
    run_id = store.list()[0].id
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, err = run_cli("runs", "rm", run_id, "--json", "--store", str(store.root))
    assert code == 0, err
    assert json.loads(out) == {"removed": run_id}
    assert f"delete run {run_id}" in err


def test_reindex_json_parses(run_cli, store):
    code, out, err = run_cli("runs", "reindex", "--json", "--store", str(store.root))
    assert code == 0, err
    assert {"kept", "recovered", "dropped", "skipped"} <= set(json.loads(out))


def test_progress_bar_goes_to_stderr(run_cli, tmp_path):
    code, out, err = run_cli(
        "train", "--group", "C3", "--seeds", "0", "--epochs", "2", "--eval-every", "1",
        "--store", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    assert "train loss" in err and "2/2" in err  # the bar's last frame
    assert "train loss" not in out and "seeds grokked" in out  # the summary


@pytest.mark.parametrize("command", [["runs", "list"], ["runs", "show"]])
def test_pipe_gets_full_run_ids_on_a_narrow_terminal(run_cli, store, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "30")  # the terminal's width: not the pipe's
    run_id = store.list()[0].id
    args = [*command, run_id] if command[-1] == "show" else command
    code, out, err = run_cli(*args, "--store", str(store.root))
    assert code == 0, err
    row = next(line for line in out.splitlines() if run_id[:8] in line)
    assert run_id in row and "…" not in out


def test_narrow_terminal_keeps_run_ids_whole(run_cli, store, monkeypatch):
    from algolens.cli import output

    monkeypatch.setattr(output.console, "_force_terminal", True)
    monkeypatch.setattr(output.console, "_color_system", None)
    monkeypatch.setenv("COLUMNS", "40")
    run_id = store.list()[0].id
    code, out, err = run_cli("runs", "list", "--store", str(store.root))
    assert code == 0, err
    assert run_id in out


def test_group_export_json(run_cli, tmp_path):
    path = tmp_path / "s3.csv"
    code, out, err = run_cli("group", "export", "S3", str(path), "--json")
    assert code == 0, err
    assert json.loads(out) == {"name": "S3", "order": 6, "path": str(path), "format": "csv"}
    assert path.read_text().count("\n") == 6


def test_sweep_help_shows_its_table_names(run_cli):
    code, out, _ = run_cli("sweep", "--help")
    text = " ".join(out.split())
    assert code == 0 and "TOML with [base] and [grid]" in text
    assert "has a [base] table" in text and "a [grid] table of lists" in text


@pytest.mark.parametrize("command", ["train", "demo"])
def test_group_too_small_to_split(run_cli, tmp_path, command):
    code, out, err = run_cli(command, "--group", "C1", "--store", str(tmp_path / "s"))
    assert code == 2 and err.count("\n") == 1
    assert "too few to split into train and test pairs" in err and "order 2 or more" in err
    assert "between 1 and 0" not in err and "0/" not in out + err  # no progress bar started
    assert not (tmp_path / "s" / "runs").exists() or not any((tmp_path / "s" / "runs").iterdir())


@pytest.mark.parametrize("method", ["cosets", "interventions", "irreps"])
def test_analyze_names_the_method_asked_for(run_cli, tmp_path, method):
    from algolens.train import make_config

    st = RunStore(tmp_path)
    config = make_config("fast", task="recursion", function="successor", seeds=[0])
    run_id = st.create("train", config.to_dict())
    code, _, err = run_cli("analyze", run_id, "--method", method, "--store", str(tmp_path))
    assert code == 2 and err.count("\n") == 1
    asked = "the irreps analysis" if method == "irreps" else f"--method {method}"
    assert f"is a recursion transformer run; {asked} needs a group composition" in err
    if method != "irreps":
        assert "irreps analysis" not in err


def test_demo_json(run_cli, tmp_path):
    code, out, err = run_cli(
        "demo", "--group", "S3", "--seeds", "1", "--store", str(tmp_path), "--json"
    )
    assert code == 0, err
    data = json.loads(out)  # stdout is one JSON object; the steps' lines are on stderr
    assert data["group"]["name"] == "S3" and data["group"]["order"] == 6
    assert data["train"]["run_id"] == data["run_id"] and len(data["train"]["seeds"]) == 1
    assert [a["seed"] for a in data["analyses"]] == [0]
    assert set(data["analyses"][0]["weight_fve"]) >= {"W_a", "W_b", "W_U"}
    assert data["report"].endswith("report.html") and data["run_id"] in data["report"]
    assert [s["step"] for s in data["steps"]] == [
        "group structure", "training", "irrep analysis and HTML report"]  # fmt: skip
    assert "done training" in " ".join(err.split())

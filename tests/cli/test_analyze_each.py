"""The loop shared by the stored-analysis methods of ``algolens analyze`` (cli/analyze_each.py),
and the one check of the irreps-only flags for every other method."""

from __future__ import annotations

import json

import pytest

from algolens.cli.analyze import METHODS
from algolens.cli.analyze_each import analyse_each


def _fake(run_id: str) -> dict:
    return {"run": run_id, "instances": [{"i": 0}, {"i": 1}, {"i": 2}]}


def test_runs_in_order_and_keeps_every_instance_without_instance():
    seen: list[str] = []

    def analyse(run_id: str) -> dict:
        seen.append(run_id)
        return _fake(run_id)

    outputs = analyse_each("m", ["a", "b"], analyse, None, False)
    assert seen == ["a", "b"]
    assert outputs == [_fake("a"), _fake("b")]


def test_instance_keeps_only_that_instance(capsys):
    outputs = analyse_each("m", ["a"], _fake, 1, False)
    assert outputs == [{"run": "a", "instances": [{"i": 1}]}]
    assert capsys.readouterr().out == ""


def test_json_prints_method_and_runs_and_returns_none(capsys):
    assert analyse_each("cosets", ["a", "b"], _fake, 2, True) is None
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "method": "cosets",
        "runs": [{"run": r, "instances": [{"i": 2}]} for r in ("a", "b")],
    }


@pytest.mark.parametrize("method", [m for m in METHODS if m != "irreps"])
@pytest.mark.parametrize("flag", ["--tally", "--checkpoints"])
def test_irreps_flags_refused_for_every_other_method(run_cli, tmp_path, method, flag):
    code, out, err = run_cli("analyze", "nosuchrun", "--method", method, flag,
                             "--store", str(tmp_path / "store"))  # fmt: skip
    assert code == 2 and out == ""
    assert (
        err.strip() == f"error: --checkpoints and --tally belong to --method irreps, not {method}"
    )
    assert not (tmp_path / "store").exists()

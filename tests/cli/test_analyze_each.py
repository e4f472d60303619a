"""The loop shared by the stored-analysis methods of ``algolens analyze`` (cli/analyze_each.py),
and the one check of the irreps-only flags for every other method."""

from __future__ import annotations

import json

import pytest

from algolens.cli.analyze import METHODS
from algolens.cli.analyze_each import Request
from algolens.errors import ConfigError
from algolens.store import RunStore


def _req(tmp_path, runs, instance=None, json=False, method="m"):
    return Request(RunStore(tmp_path / "store"), runs, method, instance, False, json)


def _check(run: str) -> tuple[str, None]:
    return f"id-{run}", None


def _fake(run_id: str) -> dict:
    return {"run": run_id, "instances": [{"i": 0}, {"i": 1}, {"i": 2}]}


def test_checks_every_run_then_analyses_each_in_order(tmp_path):
    seen: list[str] = []

    def analyse(run_id: str) -> dict:
        seen.append(run_id)
        return _fake(run_id)

    outputs = _req(tmp_path, ["a", "b"]).each(_check, analyse)
    assert seen == ["id-a", "id-b"]
    assert outputs == [_fake("id-a"), _fake("id-b")]


def test_a_bad_run_stops_everything_before_any_analysis(tmp_path):
    def check(run: str) -> tuple[str, None]:
        if run == "bad":
            raise ConfigError("bad run")
        return run, None

    seen: list[str] = []
    with pytest.raises(ConfigError):
        _req(tmp_path, ["a", "bad"]).each(check, lambda r: seen.append(r) or _fake(r))
    assert seen == []


def test_instance_keeps_only_that_instance(tmp_path, capsys):
    outputs = _req(tmp_path, ["a"], instance=1).each(_check, _fake)
    assert outputs == [{"run": "id-a", "instances": [{"i": 1}]}]
    assert capsys.readouterr().out == ""


def test_json_prints_method_and_runs_and_returns_none(tmp_path, capsys):
    req = _req(tmp_path, ["a", "b"], instance=2, json=True, method="cosets")
    assert req.each(_check, _fake) is None
    printed = json.loads(capsys.readouterr().out)
    assert printed == {
        "method": "cosets",
        "runs": [{"run": f"id-{r}", "instances": [{"i": 2}]} for r in ("a", "b")],
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

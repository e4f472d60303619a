"""`algolens train` resolves its group spec once (a gap: spec would otherwise run GAP twice)."""

from __future__ import annotations

import algolens.groups
import algolens.groups.catalog
import algolens.tasks.composition.task
import algolens.train.run
import algolens.train.trainer
from algolens.groups import parse_group


def test_train_resolves_the_group_once(run_cli, tmp_path, monkeypatch):
    calls: list[str] = []

    def counting(spec: str):
        calls.append(spec)
        return parse_group(spec)

    for module in (
        algolens.groups, algolens.groups.catalog, algolens.tasks.composition.task,
        algolens.train.run, algolens.train.trainer,
    ):  # fmt: skip
        monkeypatch.setattr(module, "parse_group", counting, raising=False)
    code, _, err = run_cli("train", "--group", "C5", "--seeds", "0", "--epochs", "3",
                           "--store", str(tmp_path), "--json")  # fmt: skip
    assert code == 0, err
    assert calls == ["C5"]

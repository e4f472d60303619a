"""`algolens demo` resolves its group spec once; training and the report use that group."""

from __future__ import annotations

import algolens.cli.demo
import algolens.groups
import algolens.groups.catalog
import algolens.report.composition
import algolens.tasks.composition.task
import algolens.train.run
from algolens.groups import parse_group


def test_demo_resolves_the_group_once(run_cli, tmp_path, monkeypatch):
    calls: list[str] = []

    def counting(spec: str):
        calls.append(spec)
        return parse_group(spec)

    for module in (
        algolens.cli.demo, algolens.groups, algolens.groups.catalog,
        algolens.tasks.composition.task, algolens.train.run, algolens.report.composition,
    ):  # fmt: skip
        monkeypatch.setattr(module, "parse_group", counting, raising=False)
    code, _, err = run_cli("demo", "--group", "S3", "--seeds", "1", "--store", str(tmp_path))
    assert code == 0, err
    assert calls == ["S3"]
    (group_file,) = tmp_path.glob("runs/*/group.json")
    assert '"name": "S3"' in group_file.read_text()

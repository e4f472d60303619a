"""`algolens report RUN` for every task kind, `--index`, and user strings shown as text."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from tests.report.checks import assert_report_reflects_run, table_rows
from tests.report.tiny_store import EVIL_LABEL, EVIL_NAME


def _report(run_cli, tiny, run_id: str) -> tuple[Path, dict]:
    code, out, err = run_cli("report", run_id, "--store", str(tiny.store.root), "--json")
    assert code == 0, err
    data = json.loads(out)
    return Path(data["report"]), data


def test_recursion_run_report_shows_its_curves_splits_and_config(run_cli, tiny):
    path, data = _report(run_cli, tiny, tiny.recursion)
    assert data["seeds"] == [] and path.parent == tiny.store.paths(tiny.recursion).root
    assert_report_reflects_run(path, path.parent)  # training table and curves from the files
    text = path.read_text()
    rows = table_rows(text)
    summary = json.loads((path.parent / "summary.json").read_text())
    assert summary["splits"]  # the trainer wrote every named split
    for name, split in summary["splits"].items():
        for k, seed in enumerate((0, 1)):
            row = [name, str(split["n"]), str(seed), f"{split['tf_acc'][k]:.4g}",
                   f"{split['greedy_acc'][k]:.4g}"]  # fmt: skip
            assert row in rows
    config = json.loads((path.parent / "config.json").read_text())
    assert ["function", config["function"]] in rows
    assert ["model_args", json.dumps(config["model_args"], sort_keys=True)] in rows
    assert not any(r[0] == "group" for r in rows)  # a composition field, not this task's


def test_pathfinding_run_report_shows_its_curves_and_test_split(run_cli, tiny):
    path, data = _report(run_cli, tiny, tiny.pathfinding)
    assert data["seeds"] == []
    assert_report_reflects_run(path, path.parent)
    text = path.read_text()
    assert "<title>algolens: pathfinding 4 nodes transformer, run" in text
    rows = table_rows(text)
    split = json.loads((path.parent / "summary.json").read_text())["splits"]["test"]
    for k in (0, 1):
        row = ["test", str(split["n"]), str(k), f"{split['tf_acc'][k]:.4g}",
               f"{split['greedy_acc'][k]:.4g}"]  # fmt: skip
        assert row in rows


def test_composition_report_shows_the_group_and_its_labels_as_text(run_cli, tiny):
    path, data = _report(run_cli, tiny, tiny.composition)
    assert_report_reflects_run(path, path.parent)
    text = path.read_text()
    assert "<script>alert" not in text and "<b>bold" not in text
    assert html.escape(EVIL_LABEL) in text and html.escape(EVIL_NAME) in text
    rows = table_rows(text)
    group = json.loads((path.parent / "group.json").read_text())
    for i, label in enumerate(group["labels"]):
        assert [str(i), label] in rows
    assert "Coset circuits" in text  # coset analyses of an MLP computed, stored, shown
    assert "From network to logic" in text  # the stored logic analysis's section
    stored = json.loads((path.parent / "analyses" / "irreps.json").read_text())["instances"]
    per_neuron = [inst["neurons"]["irrep"] for inst in stored]
    for label in {lab for irreps in per_neuron for lab in irreps if lab is not None}:
        counts = [str(irreps.count(label)) for irreps in per_neuron]  # recounted per neuron
        assert any(r[:3] == [label, *counts] for r in rows), label  # neuron -> irrep map
    assert (path.parent / "analyses" / "verdict.json").is_file()


def test_index_lists_every_run_and_links_only_existing_reports(run_cli, tiny):
    store = tiny.store
    for run in (tiny.composition, tiny.recursion):
        _report(run_cli, tiny, run)
    code, out, err = run_cli("report", "--index", "--store", str(store.root), "--json")
    assert code == 0, err
    index = Path(json.loads(out)["index"])
    assert index == store.root / "index.html"
    text = index.read_text()
    rows = {r[0]: r for r in ([re.sub("<[^>]+>", "", c) for c in r] for r in table_rows(text))}
    assert set(rows) >= {tiny.composition, tiny.recursion, tiny.pathfinding, tiny.unfinished}
    hrefs = re.findall(r'<a href="([^"]+)">([^<]+)</a>', text)
    linked = {name: href for href, name in hrefs}
    assert tiny.unfinished not in linked
    for run in (tiny.composition, tiny.recursion):
        assert (index.parent / linked[run]).resolve() == store.paths(run).root / "report.html"
    summary = json.loads((store.paths(tiny.recursion).root / "summary.json").read_text())
    r = rows[tiny.recursion]
    assert r[1:4] == ["completed", "recursion successor", "transformer"]
    assert r[5] == f"{summary['n_grokked']}/2"
    mean = sum(s["test_acc"] for s in summary["seeds"]) / 2
    assert r[8] == f"{mean:.4g}"
    assert rows[tiny.unfinished][1] == "created"
    assert "irreps over checkpoints" in rows[tiny.composition][12]
    stored = json.loads((store.paths(tiny.composition).root / "analyses/irreps.json").read_text())
    keys = [", ".join(i["key_irreps"]) or "none" for i in stored["instances"]]
    assert sorted(rows[tiny.composition][10].split("; ")) == sorted(
        f"{k} ×{keys.count(k)}" for k in set(keys)
    )
    greedy = {n: sum(s["greedy_acc"]) / 2 for n, s in summary["splits"].items()}
    assert sorted(r[9].split(", ")) == sorted(f"{n} {a:.3g}" for n, a in greedy.items())
    assert rows[tiny.pathfinding][2] == "pathfinding 4 nodes"  # never a group
    assert "class='sortable'" in text and "<script>" in text  # sorting/filtering script inline


@pytest.mark.parametrize(
    "args", [[], ["RUNX", "--index"], ["--index", "--sweep", "x"]], ids=["none", "two", "both"]
)
def test_report_needs_exactly_one_target(run_cli, tmp_path, args):
    args = [a.replace("RUNX", "nope") for a in args]
    code, out, err = run_cli("report", *args, "--store", str(tmp_path / "s"))
    assert code == 2 and err.startswith("error:") and "exactly one" in err
    assert not (tmp_path / "s").exists()


def test_index_of_a_missing_store_is_exit_2_and_creates_nothing(run_cli, tmp_path):
    code, out, err = run_cli("report", "--index", "--store", str(tmp_path / "none"))
    assert code == 2 and err.startswith("error: no run store at") and out == ""
    assert not (tmp_path / "none").exists()


def test_group_too_large_for_irreps_gets_the_general_page(tiny, monkeypatch):
    import algolens.report.composition as composition
    from algolens.cli.report import write_run_report
    from algolens.errors import SizeLimitError
    from algolens.report.run import run_report

    def too_large(store, run, *args, **kwargs):
        raise SizeLimitError("irreps need |G| <= 2520; this group has order 5000")

    monkeypatch.setattr(composition, "check_run", too_large)
    path, analyses = run_report(tiny.store, tiny.composition)
    text = path.read_text()
    assert analyses == [] and "No irreps analyses: irreps need |G| &lt;= 2520" in text
    assert_report_reflects_run(path, path.parent)  # curves and final figures still shown
    assert "Irreducible representations learned" not in text
    monkeypatch.undo()
    write_run_report(tiny.store, tiny.composition)  # the shared run's own report back in place


def test_a_malformed_stored_summary_is_one_line_and_writes_no_page(run_cli, tiny, tmp_path):
    """The report renders stored data: a field of the wrong type (here a path length that is no
    number) is a one-line error naming the run and the repair, exit 2, no report.html."""
    import shutil

    from algolens.store import RunStore

    root = tmp_path / "store"
    shutil.copytree(tiny.store.root, root)
    store = RunStore(root)
    summary = dict(store.get(tiny.pathfinding).summary)
    test = dict(summary["splits"]["test"])
    test["greedy_by_length"] = {"not a length": {"n": 1, "acc": [1.0, 1.0]}}
    summary["splits"] = {**summary["splits"], "test": test}
    store.index.update(tiny.pathfinding, summary=summary)
    page = store.paths(tiny.pathfinding).root / "report.html"
    page.unlink(missing_ok=True)
    code, _, err = run_cli("report", tiny.pathfinding, "--store", str(root))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "malformed summary or analysis" in err and "runs reindex" in err
    assert not page.exists()

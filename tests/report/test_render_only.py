"""Reports render only: ``algolens report`` asks the analysis layer to compute and store the
default analyses (:mod:`algolens.analysis.ensure`), then the report modules read them and compute
nothing."""

from __future__ import annotations

import json
import re

import pytest
import torch

from algolens.analysis.store import analysis_path
from algolens.errors import StoreError
from algolens.store import RunStore

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""Plotly's random div ids, the only part of a page that differs between two writes."""


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """A 5-seed S3 MLP run with checkpoints, nothing analysed."""
    from algolens.train import make_config, start_run

    store = RunStore(tmp_path_factory.mktemp("render_only"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = make_config("fast", group="S3", seeds=[0, 1, 2, 3, 4], epochs=4,
                             log_checkpoints=2, model_args={"d_embed": 8, "d_mlp": 8})  # fmt: skip
        run_id = start_run(config, store)["run_id"]
    finally:
        torch.set_num_threads(threads)
    return store, run_id


def _no_compute(monkeypatch, *, reuse: bool = False) -> None:
    """Make every way of computing an irreps, progress or coset analysis raise (and, unless
    ``reuse``, of asking the store for one to reuse or compute: a renderer only reads)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a report computed an analysis")

    monkeypatch.setattr("algolens.analysis.runs._analyse", refuse)
    monkeypatch.setattr("algolens.analysis.composition.verdict.run_method", refuse)
    if not reuse:
        monkeypatch.setattr("algolens.analysis.runs.cached", refuse)


def _page(path) -> str:
    return UUID.sub("UUID", path.read_text())


def test_ensure_computes_the_missing_defaults_then_the_report_only_reads(s3, monkeypatch):
    from algolens.analysis.ensure import ensure_defaults
    from algolens.report.run import run_report

    store, run_id = s3
    folder = store.paths(run_id).root
    with pytest.raises(StoreError, match="no current irreps analysis stored; `algolens report"):
        run_report(store, run_id)  # renders only: nothing stored, nothing computed or written
    assert not (folder / "analyses").exists() and not (folder / "report.html").exists()

    assert ensure_defaults(store, run_id) == ["irreps", "cosets", "interventions", "verdict"]
    stored = sorted(p.name for p in (folder / "analyses").iterdir())
    progress = [f"irreps-progress-{k}.json" for k in range(4)]  # the first 4 of 5 seeds
    assert stored == sorted(["irreps.json", *progress, "cosets.json", "interventions.json",
                             "verdict.json"])  # fmt: skip
    mtimes = {p: p.stat().st_mtime_ns for p in (folder / "analyses").iterdir()}
    ensure_defaults(store, run_id)  # all current: reused, nothing rewritten
    assert {p: p.stat().st_mtime_ns for p in (folder / "analyses").iterdir()} == mtimes

    first, analyses = run_report(store, run_id)
    page = _page(first)
    _no_compute(monkeypatch)
    again, again_analyses = run_report(store, run_id)
    assert _page(again) == page
    assert [(a.key, a.logit_fve) for a in again_analyses] == [
        (a.key, a.logit_fve) for a in analyses
    ]
    irreps = json.loads(analysis_path(store, run_id, "irreps").read_text())
    assert [a.key for a in analyses] == [d["key_irreps"] for d in irreps["instances"]]
    assert "Coset circuits and the joint verdict" in page
    assert page.count("Progress measures over checkpoints") == 1


def test_the_cli_report_equals_ensure_then_render(s3, run_cli, monkeypatch):
    """``algolens report RUN`` writes the page rendered from the stored analyses; with every
    analysis stored it computes nothing."""
    store, run_id = s3
    _no_compute(monkeypatch, reuse=True)
    code, out, err = run_cli("report", run_id, "--store", str(store.root), "--json")
    assert code == 0, err
    assert json.loads(out)["report"] == str(store.paths(run_id).root / "report.html")


def test_a_registered_coset_method_is_ensured_for_reports(s3):
    from algolens.analysis.builtin_methods import coset_method
    from algolens.analysis.ensure import ensure_defaults
    from algolens.analysis.methods import register_method, unregister_method

    store, run_id = s3

    def order(model, group) -> dict:
        return {"order": group.order, "d_mlp": int(model.folded_weights()[0].shape[-1])}

    register_method(coset_method("toy-order", order))
    try:
        assert "toy-order" in ensure_defaults(store, run_id)
    finally:
        unregister_method("toy-order")
    stored = json.loads(analysis_path(store, run_id, "toy-order").read_text())
    assert [(d["order"], d["d_mlp"]) for d in stored["instances"]] == [(6, 8)] * 5


def test_non_default_runs_get_nothing_computed(tmp_path):
    """A prime-order MLP run gets the irreps but no coset method (no proper subgroup)."""
    from algolens.analysis.ensure import ensure_defaults
    from algolens.train import make_config, start_run

    store = RunStore(tmp_path)
    c5 = start_run(make_config("fast", group="C5", seeds=[0], epochs=2), store)["run_id"]
    assert ensure_defaults(store, c5) == ["irreps"]
    stored = {p.name for p in (store.paths(c5).root / "analyses").iterdir()}
    assert stored == {"irreps.json", "irreps-progress-0.json"}


def test_the_sweep_page_renders_only(tiny, monkeypatch):
    from algolens.analysis.ensure import ensure_sweep_irreps
    from algolens.report.sweep import sweep_report

    assert ensure_sweep_irreps(tiny.store, tiny.sweep) == {}
    first = _page(sweep_report(tiny.store, tiny.sweep))
    _no_compute(monkeypatch)
    assert _page(sweep_report(tiny.store, tiny.sweep)) == first

"""Session fixtures of the browser tests: one headless Chromium, the shared tiny store with its
pages written, and the folder screenshots go to (``$ALGOLENS_ARTIFACTS`` or a pytest tmp dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.browser import require_browser, start_browser
from tests.report.tiny_store import tiny_store


@pytest.fixture(scope="session")
def browser():
    chromium, driver = require_browser()
    b = start_browser(chromium, driver)
    yield b
    b.quit()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    env = os.environ.get("ALGOLENS_ARTIFACTS")
    path = Path(env) if env else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def pages(tmp_path_factory):
    """The shared tiny store with every page written: ``(TinyStore, {page kind: path})``."""
    from algolens.analysis.ensure import ensure_sweep_irreps
    from algolens.cli.report import write_run_report
    from algolens.report.index import store_index
    from algolens.report.sweep import sweep_report

    s = tiny_store(tmp_path_factory)
    written = {
        "composition": write_run_report(s.store, s.composition)[0],
        "recursion": write_run_report(s.store, s.recursion)[0],
        "pathfinding": write_run_report(s.store, s.pathfinding)[0],
    }
    write_run_report(s.store, s.sweep_runs[0])  # the sweep page links this run's report
    written["sweep"] = sweep_report(s.store, s.sweep, why=ensure_sweep_irreps(s.store, s.sweep))
    written["index"] = store_index(s.store)
    return s, written

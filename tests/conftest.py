"""Shared fixtures and domain assertions."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs ``-n 2``) each worker process gets its share of the
    cores as torch threads, so two workers do not run four threads on two cores."""
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(workers)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The ``slow`` tests first (a stable sort): under pytest-xdist each starts on its own worker
    while the others share the rest, instead of one running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def assert_is_subgroup(table: np.ndarray, elements: np.ndarray, identity: int) -> None:
    """Non-empty, contains the identity, closed under the product (finite ⇒ subgroup)."""
    h = np.asarray(elements)
    assert identity in h
    assert np.isin(table[np.ix_(h, h)], h).all()


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run ``algolens ARGS`` in-process; return (exit_code, stdout, stderr)."""
    from algolens.cli import main

    def _run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["algolens", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return code, out.out, out.err

    return _run

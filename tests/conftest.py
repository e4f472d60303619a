"""Shared fixtures and domain assertions."""

from __future__ import annotations

import sys

import numpy as np
import pytest


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

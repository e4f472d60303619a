"""Stored analyses are strict JSON, and a fresh result equals the reused one."""

from __future__ import annotations

import json

import pytest

from algolens.analysis.store import analysis_path, cached
from algolens.store import RunStore


def _strict(text: str):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_are_stored_and_returned_as_null(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create("train", {"group": "C3", "seeds": [0]})
    body = {"scores": [0.5, float("nan")], "corr": {"same": float("-inf")}, "n": 3}
    fresh = cached(store, run_id, "cosets", lambda: body, source="w1")
    stored = _strict(analysis_path(store, run_id, "cosets").read_text())
    assert stored["scores"] == [0.5, None] and stored["corr"] == {"same": None}
    reused = cached(store, run_id, "cosets", lambda: pytest.fail("recomputed"), source="w1")
    assert reused.pop("reused") is True and fresh.pop("reused") is False
    assert fresh == reused

"""The shared tiny store of every task kind (:mod:`tests.report.tiny_store`)."""

from __future__ import annotations

import pytest

from tests.report.tiny_store import TinyStore, tiny_store


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> TinyStore:
    return tiny_store(tmp_path_factory)

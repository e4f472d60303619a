"""Model test modules leave torch's thread count alone when imported (a fixture sets it)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import torch

MODULES = sorted(p.name for p in Path(__file__).parent.glob("test_*.py"))


@pytest.mark.parametrize("name", MODULES)
def test_importing_a_model_test_module_keeps_the_thread_count(name):
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # a count no module would choose
    try:
        runpy.run_path(str(Path(__file__).parent / name), run_name="imported_by_test")
        assert torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_the_fixture_gives_each_model_test_one_thread():
    assert torch.get_num_threads() == 1

"""Shared assertions and fixtures for model tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread during each model test (small tensors run faster on one), then the
    caller's count back: later tests in the session keep theirs."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def assert_state_bitwise_equal(a: torch.nn.Module, b: torch.nn.Module) -> None:
    """Same state-dict keys, shapes, dtypes and bits."""
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for name in sa:
        assert sa[name].dtype == sb[name].dtype, name
        assert torch.equal(sa[name], sb[name]), name


def cache_shapes(cache) -> dict[str, tuple[int, ...]]:
    """Hook name -> activation shape, in cache (execution) order."""
    return {name: tuple(t.shape) for name, t in cache.items()}

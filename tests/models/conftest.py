"""Shared assertions for model tests."""

from __future__ import annotations

import torch


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

"""Hypothesis strategies and independent reference implementations for the recursion tests.

The references here are written differently from :mod:`algolens.tasks.recursion.functions`:
binary numbers go through Python ints, traversals use explicit stacks instead of recursion.
"""

from __future__ import annotations

from hypothesis import strategies as st

from algolens.tasks.recursion import N_LABELS, Leaf, Node, from_bits

bit_lists = st.lists(st.integers(0, 1), max_size=24)
bins = bit_lists.map(from_bits)
trees = st.recursive(
    st.just(Leaf()),
    lambda sub: st.builds(Node, st.integers(0, N_LABELS - 1), sub, sub),
    max_leaves=24,
)


def int_bits(value: int, width: int) -> list[int]:
    """``value`` as ``width`` bits, least significant first (via Python's int formatting)."""
    text = format(value, "b").zfill(width) if value else "0" * width
    return [int(c) for c in reversed(text)]


def stack_preorder(t) -> list[int]:
    out, stack = [], [t]
    while stack:
        s = stack.pop()
        if isinstance(s, Node):
            out.append(s.label)
            stack += [s.right, s.left]
    return out


def stack_inorder(t) -> list[int]:
    out, stack, cur = [], [], t
    while stack or isinstance(cur, Node):
        while isinstance(cur, Node):
            stack.append(cur)
            cur = cur.left
        cur = stack.pop()
        out.append(cur.label)
        cur = cur.right
    return out


def stack_postorder(t) -> list[int]:
    out, stack = [], [t]
    while stack:  # node, right, left order reversed is left, right, node
        s = stack.pop()
        if isinstance(s, Node):
            out.append(s.label)
            stack += [s.left, s.right]
    return out[::-1]

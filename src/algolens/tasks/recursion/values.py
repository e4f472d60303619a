"""Values of the recursion tasks: binary numbers and labelled binary trees.

Two inductive types, written as Python constructors so that structural pattern matching works::

    bin  := Z() | B0(bin) | B1(bin)               least significant bit first: 5 = B1(B0(B1(Z())))
    tree := Leaf() | Node(label, tree, tree)       label an int in 0..N_LABELS-1

Constructors take their fields positionally and check them (``B1(5)`` is a ``TypeError``), so a
malformed value cannot be built. Values are frozen: equal values compare and hash equal.
A binary number may carry most-significant zeros (``B0(Z())`` is a second spelling of 0), exactly
as in the Coq type; functions act on spellings, :func:`to_int` reads the value.

Examples:
    >>> n = from_int(5)
    >>> n
    B1(B0(B1(Z())))
    >>> match n:
    ...     case B1(m):
    ...         print("odd, half is", to_int(m))
    odd, half is 2
    >>> t = Node(3, Leaf(), Node(1, Leaf(), Leaf()))
    >>> size(t), depth(t)
    (2, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

N_LABELS = 10
"""Tree labels are the ints ``0..N_LABELS-1`` (one token each)."""


def _check_bin(cls: str, m: object) -> None:
    if not isinstance(m, (Z, B0, B1)):
        raise TypeError(f"{cls} takes a binary number (Z, B0 or B1), got {type(m).__name__}")


@dataclass(frozen=True, slots=True)
class Z:
    """The binary number 0 with no bits (the end of every binary number)."""

    def __repr__(self) -> str:
        return "Z()"


@dataclass(frozen=True, slots=True)
class B0:
    """A 0 bit followed by the more significant bits ``m``: value ``2·m``."""

    m: Bin

    def __post_init__(self) -> None:
        _check_bin("B0", self.m)

    def __repr__(self) -> str:
        return f"B0({self.m!r})"


@dataclass(frozen=True, slots=True)
class B1:
    """A 1 bit followed by the more significant bits ``m``: value ``2·m + 1``."""

    m: Bin

    def __post_init__(self) -> None:
        _check_bin("B1", self.m)

    def __repr__(self) -> str:
        return f"B1({self.m!r})"


Bin = Z | B0 | B1
"""A binary number."""


@dataclass(frozen=True, slots=True)
class Leaf:
    """The empty tree."""

    def __repr__(self) -> str:
        return "Leaf()"


@dataclass(frozen=True, slots=True)
class Node:
    """A node with an int ``label`` in ``0..N_LABELS-1`` and two subtrees."""

    label: int
    left: Tree
    right: Tree

    def __post_init__(self) -> None:
        if isinstance(self.label, bool) or not isinstance(self.label, int):
            raise TypeError(f"Node label must be an int, got {type(self.label).__name__}")
        if not 0 <= self.label < N_LABELS:
            raise TypeError(f"Node label must lie in 0..{N_LABELS - 1}, got {self.label}")
        for side in (self.left, self.right):
            if not isinstance(side, (Leaf, Node)):
                raise TypeError(f"Node subtrees must be Leaf or Node, got {type(side).__name__}")

    def __repr__(self) -> str:
        return f"Node({self.label}, {self.left!r}, {self.right!r})"


Tree = Leaf | Node
"""A labelled binary tree."""


def bits(n: Bin) -> list[int]:
    """The bits of ``n``, least significant first (``bits(B1(B0(Z()))) == [1, 0]``)."""
    out: list[int] = []
    while not isinstance(n, Z):
        out.append(1 if isinstance(n, B1) else 0)
        n = n.m
    return out


def from_bits(bs: Sequence[int]) -> Bin:
    """The binary number with bits ``bs`` (least significant first); inverse of :func:`bits`."""
    n: Bin = Z()
    for b in reversed(bs):
        if b not in (0, 1):
            raise ValueError(f"a bit is 0 or 1, got {b!r}")
        n = B1(n) if b else B0(n)
    return n


def to_int(n: Bin) -> int:
    """The value of ``n`` (most-significant zeros do not count)."""
    return sum(b << i for i, b in enumerate(bits(n)))


def from_int(value: int, width: int | None = None) -> Bin:
    """``value`` in binary with ``width`` bits (default: as few as possible, 0 is ``Z()``).

    Raises:
        ValueError: a negative value, or one that does not fit in ``width`` bits.
    """
    if value < 0:
        raise ValueError(f"binary numbers are non-negative, got {value}")
    width = value.bit_length() if width is None else width
    if value.bit_length() > width:
        raise ValueError(f"{value} needs {value.bit_length()} bits, more than width {width}")
    return from_bits([(value >> i) & 1 for i in range(width)])


def size(t: Tree) -> int:
    """Number of ``Node`` constructors in ``t``."""
    count, stack = 0, [t]
    while stack:
        s = stack.pop()
        if isinstance(s, Node):
            count += 1
            stack += [s.left, s.right]
    return count


def depth(t: Tree) -> int:
    """Nodes on the longest root-to-leaf path: ``depth(Leaf()) == 0``."""
    best, stack = 0, [(t, 0)]
    while stack:
        s, d = stack.pop()
        if isinstance(s, Node):
            best = max(best, d + 1)
            stack += [(s.left, d + 1), (s.right, d + 1)]
    return best

"""Reference structurally recursive functions, each written by pattern matching on constructors.

=============  ==========  =======  ================================================================
name           arguments   answer   definition
=============  ==========  =======  ================================================================
successor      bin         bin      n + 1; the spelling grows only when every bit is 1
predecessor    bin         bin      max(n - 1, 0), same number of bits
add            bin, bin    bin      a + b with carries; as many bits as the longer argument, one
                                    more when the last carry is 1
preorder       tree        labels   labels in node, left, right order
inorder        tree        labels   labels in left, node, right order
postorder      tree        labels   labels in left, right, node order
mirror         tree        tree     every node's two subtrees swapped
=============  ==========  =======  ================================================================

:data:`FUNCTIONS` maps each name to a :class:`RecursiveFunction` (the callable, its argument kinds
and its answer kind). User-written functions (:mod:`algolens.tasks.recursion.user`) follow the same
record.

Examples:
    >>> from algolens.tasks.recursion.values import from_int, to_int
    >>> to_int(successor(from_int(7)))
    8
    >>> inorder(Node(2, Node(1, Leaf(), Leaf()), Leaf()))
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from algolens.tasks.recursion.rarity import rare_features
from algolens.tasks.recursion.tokens import Kind
from algolens.tasks.recursion.values import B0, B1, Bin, Leaf, Node, Tree, Z


@dataclass(frozen=True)
class RecursiveFunction:
    """A function the recursion task can learn.

    Attributes:
        name: its name (``"successor"``, or ``"FILE.py:NAME"`` for a user function).
        fn: the callable, one positional argument per entry of ``arg_kinds``.
        arg_kinds: the kind of each argument (``"bin"`` or ``"tree"``).
        out_kind: the kind of the answer (``"bin"``, ``"tree"`` or ``"labels"``).
        rare: per argument, the name of its rare-structure feature (:mod:`.rarity`): what the
            ``rare`` split and oversampling draw long tails of. ``None`` (the default) is
            :data:`.rarity.DEFAULT` (``trailing_ones`` of a number, ``depth`` of a tree); after
            construction it is always the checked tuple of names.

    Raises:
        ConfigError: ``rare`` names the wrong number of features, or one of another kind.
    """

    name: str
    fn: Callable[..., object]
    arg_kinds: tuple[Kind, ...]
    out_kind: Kind
    rare: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "rare", rare_features(self.arg_kinds, self.rare))


def successor(n: Bin) -> Bin:
    """``n + 1``: flip the trailing run of ``B1`` to ``B0`` and the first ``B0`` (or ``Z``) up."""
    match n:
        case Z():
            return B1(Z())
        case B0(m):
            return B1(m)
        case B1(m):
            return B0(successor(m))
    raise TypeError(f"successor takes a binary number, got {type(n).__name__}")


def _is_zero(n: Bin) -> bool:
    match n:
        case Z():
            return True
        case B0(m):
            return _is_zero(m)
        case _:
            return False


def predecessor(n: Bin) -> Bin:
    """``max(n - 1, 0)`` with the same number of bits (a zero is returned unchanged)."""
    match n:
        case Z():
            return Z()
        case B1(m):
            return B0(m)
        case B0(m):
            return B0(m) if _is_zero(m) else B1(predecessor(m))
    raise TypeError(f"predecessor takes a binary number, got {type(n).__name__}")


def add(a: Bin, b: Bin) -> Bin:
    """``a + b``, bit by bit with a carry (a carry is a :func:`successor` of the rest)."""
    match a, b:
        case Z(), _:
            return b
        case _, Z():
            return a
        case B0(x), B0(y):
            return B0(add(x, y))
        case (B0(x), B1(y)) | (B1(x), B0(y)):
            return B1(add(x, y))
        case B1(x), B1(y):
            return B0(successor(add(x, y)))
    raise TypeError(f"add takes two binary numbers, got {type(a).__name__}, {type(b).__name__}")


def preorder(t: Tree) -> list[int]:
    """Labels in node, left, right order."""
    match t:
        case Leaf():
            return []
        case Node(label, left, right):
            return [label, *preorder(left), *preorder(right)]
    raise TypeError(f"preorder takes a tree, got {type(t).__name__}")


def inorder(t: Tree) -> list[int]:
    """Labels in left, node, right order."""
    match t:
        case Leaf():
            return []
        case Node(label, left, right):
            return [*inorder(left), label, *inorder(right)]
    raise TypeError(f"inorder takes a tree, got {type(t).__name__}")


def postorder(t: Tree) -> list[int]:
    """Labels in left, right, node order."""
    match t:
        case Leaf():
            return []
        case Node(label, left, right):
            return [*postorder(left), *postorder(right), label]
    raise TypeError(f"postorder takes a tree, got {type(t).__name__}")


def mirror(t: Tree) -> Tree:
    """The tree with every node's subtrees swapped."""
    match t:
        case Leaf():
            return Leaf()
        case Node(label, left, right):
            return Node(label, mirror(right), mirror(left))
    raise TypeError(f"mirror takes a tree, got {type(t).__name__}")


FUNCTIONS: dict[str, RecursiveFunction] = {
    f.name: f
    for f in (
        RecursiveFunction("successor", successor, ("bin",), "bin", ("trailing_ones",)),
        RecursiveFunction("predecessor", predecessor, ("bin",), "bin", ("trailing_zeros",)),
        RecursiveFunction("add", add, ("bin", "bin"), "bin", ("trailing_ones", "trailing_ones")),
        RecursiveFunction("preorder", preorder, ("tree",), "labels", ("depth",)),
        RecursiveFunction("inorder", inorder, ("tree",), "labels", ("left_spine",)),
        RecursiveFunction("postorder", postorder, ("tree",), "labels", ("depth",)),
        RecursiveFunction("mirror", mirror, ("tree",), "tree", ("depth",)),
    )
}
"""The built-in functions by name.

Each declares the structure that is rare under uniform sampling *and* hard for it (its ``rare``
feature; the paper, Zhang et al. 2023, finds failures on "structural edge cases rare in
training", and names successor's: the shortcut "flip the ``B1`` run before the first ``B0``" fails
on long runs of trailing ones, probability about ``2^-k``, and on all-ones inputs where the
output grows). The others follow the same reasoning from their definitions:

* successor: ``trailing_ones``, the run it flips (the paper's case);
* predecessor: ``trailing_zeros``, the run it borrows through (``B0 -> B1``), the mirror image of
  successor's carry; all zeros is its edge case (returned unchanged);
* add: ``trailing_ones`` of each argument: two long runs of ``B1`` make a long carry chain;
* preorder, postorder, mirror: ``depth``. The prompt is the tree in prefix order, so preorder is
  the prompt's labels in order and the hard part is nesting: postorder defers a node's label
  past its whole subtree (one deferred label per level on the deepest path), mirror moves each
  right subtree before its left one at every level;
* inorder: ``left_spine``: its first label is the bottom of the left spine, and the spine's
  labels come out in the reverse of their prompt order, so a long left spine is a long reversal.
"""

"""Structural recursion tasks (Zhang et al. 2023): binary numbers, labelled trees, functions.

A user's function file needs only ``from algolens.tasks.recursion import Z, B0, B1, Leaf, Node``.
"""

from algolens.tasks.recursion.functions import FUNCTIONS, RecursiveFunction
from algolens.tasks.recursion.tokens import VOCAB, decode, encode, parse
from algolens.tasks.recursion.values import (
    B0,
    B1,
    N_LABELS,
    Bin,
    Leaf,
    Node,
    Tree,
    Z,
    bits,
    depth,
    from_bits,
    from_int,
    size,
    to_int,
)

__all__ = [
    "B0",
    "B1",
    "FUNCTIONS",
    "N_LABELS",
    "VOCAB",
    "Bin",
    "Leaf",
    "Node",
    "RecursiveFunction",
    "Tree",
    "Z",
    "bits",
    "decode",
    "depth",
    "encode",
    "from_bits",
    "from_int",
    "parse",
    "size",
    "to_int",
]

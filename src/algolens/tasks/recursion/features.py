"""Structural features of recursion inputs, and accuracy broken down by them.

Per argument (``argI_`` prefixed when a function takes several):

* binary number: ``length`` (bits), ``trailing_ones`` (the ``B1`` run before the first ``B0``
  or ``Z``), ``first_b0`` (position of the first ``B0``, -1 if none), ``ones``, ``all_ones``,
  ``trailing_zeros`` (the ``B0`` run before the first ``B1`` or ``Z``: predecessor's borrow),
  ``all_zeros``;
* tree: ``nodes``, ``depth``, ``left_spine`` and ``right_spine`` (nodes on the leftmost and
  rightmost paths), ``root_left`` (nodes in the root's left subtree, -1 for a leaf).

Every rare-structure feature of :mod:`.rarity` is among them, under the same name.

Examples:
    >>> from algolens.tasks.recursion.values import from_bits
    >>> input_features((from_bits([1, 1, 0, 1]),))
    {'length': 4, 'trailing_ones': 2, 'first_b0': 2, 'ones': 3, 'all_ones': False, \
'trailing_zeros': 0, 'all_zeros': False}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from algolens.tasks.recursion.sampling import feature
from algolens.tasks.recursion.values import Leaf, Node, bits, depth, size


def _spine(t: object, side: str) -> int:
    n = 0
    while isinstance(t, Node):
        n += 1
        t = getattr(t, side)
    return n


def value_features(value: object) -> dict[str, Any]:
    """The features of one binary number or tree (see the module docstring)."""
    if isinstance(value, (Leaf, Node)):
        return {
            "nodes": size(value),
            "depth": depth(value),
            "left_spine": _spine(value, "left"),
            "right_spine": _spine(value, "right"),
            "root_left": size(value.left) if isinstance(value, Node) else -1,
        }
    bs = bits(value)  # type: ignore[arg-type]
    run = feature(value, "trailing_ones")  # type: ignore[arg-type]
    zeros = feature(value, "trailing_zeros")  # type: ignore[arg-type]
    return {
        "length": len(bs),
        "trailing_ones": run,
        "first_b0": run if run < len(bs) else -1,
        "ones": sum(bs),
        "all_ones": run == len(bs),
        "trailing_zeros": zeros,
        "all_zeros": zeros == len(bs),
    }


def input_features(args: Sequence[object]) -> dict[str, Any]:
    """The features of one input (its arguments), prefixed ``argI_`` for several arguments."""
    if len(args) == 1:
        return value_features(args[0])
    return {f"arg{i}_{k}": v for i, a in enumerate(args) for k, v in value_features(a).items()}


def accuracy_by_feature(
    correct: Sequence[Sequence[bool]], features: Sequence[dict[str, Any]]
) -> dict[str, dict[Any, dict[str, Any]]]:
    """Accuracy of each instance grouped by each feature's value.

    Args:
        correct: ``[inst][N]`` booleans (a nested list or a bool tensor).
        features: ``[N]`` feature dicts (:func:`input_features`), all with the same keys.

    Returns:
        ``{feature: {value: {"n": count, "acc": [one float per instance]}}}``, values sorted.
    """
    rows = [[bool(x) for x in inst] for inst in correct]
    if any(len(r) != len(features) for r in rows):
        raise ValueError(f"{len(features)} feature rows but {[len(r) for r in rows]} results")
    out: dict[str, dict[Any, dict[str, Any]]] = {}
    for key in features[0] if features else ():
        groups: dict[Any, list[int]] = {}
        for i, f in enumerate(features):
            groups.setdefault(f[key], []).append(i)
        out[key] = {
            v: {"n": len(idx), "acc": [sum(r[i] for i in idx) / len(idx) for r in rows]}
            for v, idx in sorted(groups.items())
        }
    return out

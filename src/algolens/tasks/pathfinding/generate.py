"""Random path-finding trees: the generator of Brinkmann et al. (2024), parameterised by N.

:func:`sample_tree` draws the path length ``L`` uniformly from ``1..N-1`` and builds a chain of
``L + 1`` nodes from the root to the goal; each of the other ``N - L - 1`` nodes is attached, one
after another, to a node drawn uniformly from those with fewer than two children, never to the
goal (so the goal stays a leaf at depth L). Node labels are a uniform random permutation of
``0..N-1``. The edges are listed

* ``"shuffled"``: in uniformly random order;
* ``"reverse-topological"``: deepest child first (ties in random order), so every edge comes
  before the edge leading to its parent;
* ``"mixed"``: each tree picks one of the two with probability 1/2.

Randomness comes from the ``random.Random`` passed in; the dataset that a run trains on is stored
in its folder (:mod:`.dataset`), so no run depends on this code staying the same.

Examples:
    >>> import random
    >>> t = sample_tree(6, random.Random(0))
    >>> len(t.edges), 1 <= len(t.path()) - 1 <= 5
    (5, True)
"""

from __future__ import annotations

import random
from typing import Literal

from algolens.errors import ConfigError
from algolens.tasks.pathfinding.tree import MAX_CHILDREN, PathTree

EdgeOrder = Literal["shuffled", "reverse-topological", "mixed"]
EDGE_ORDERS: tuple[str, ...] = ("shuffled", "reverse-topological", "mixed")
MIN_NODES, MAX_NODES = 2, 80
"""Node counts the task supports (80: stored token ids fit in uint8)."""


def sample_tree(
    n_nodes: int, rng: random.Random, edge_order: EdgeOrder = "shuffled", length: int | None = None
) -> PathTree:
    """One random tree of ``n_nodes`` nodes with a goal leaf at depth ``length`` (default: drawn
    uniformly from ``1..n_nodes-1``)."""
    if not MIN_NODES <= n_nodes <= MAX_NODES:
        raise ConfigError(f"nodes must lie in {MIN_NODES}..{MAX_NODES}, got {n_nodes}")
    if edge_order not in EDGE_ORDERS:
        raise ConfigError(f"edge order must be one of {', '.join(EDGE_ORDERS)}, got {edge_order!r}")
    n = n_nodes
    length = rng.randint(1, n - 1) if length is None else length
    if not 1 <= length <= n - 1:
        raise ConfigError(f"path length must lie in 1..{n - 1}, got {length}")
    # internal nodes: 0 = root, 0..length the chain to the goal `length`, then the others
    parent = {i: i - 1 for i in range(1, length + 1)}
    children = [0] * n
    for i in range(length):
        children[i] = 1
    for new in range(length + 1, n):
        open_ = [i for i in range(new) if i != length and children[i] < MAX_CHILDREN]
        p = rng.choice(open_)
        parent[new] = p
        children[p] += 1
    label = list(range(n))
    rng.shuffle(label)
    depth = [0] * n
    for c in range(1, n):  # parents are numbered before their children
        depth[c] = depth[parent[c]] + 1
    order = list(range(1, n))
    rng.shuffle(order)
    mode = edge_order
    if mode == "mixed":
        mode = "shuffled" if rng.random() < 0.5 else "reverse-topological"
    if mode == "reverse-topological":
        order.sort(key=lambda c: -depth[c])  # stable: ties keep their shuffled order
    edges = tuple((label[parent[c]], label[c]) for c in order)
    return PathTree(n, edges, goal=label[length], root=label[0])

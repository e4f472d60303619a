"""The path-finding generator: every draw is a valid binary tree with a goal leaf at the drawn
depth, encoded at the paper's fixed positions; checked by brute force, independently of
``algolens.tasks.pathfinding.tree``."""

from __future__ import annotations

import random
from collections import Counter, deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algolens.errors import ConfigError
from algolens.tasks.pathfinding.dataset import build_dataset
from algolens.tasks.pathfinding.generate import MAX_NODES, sample_tree
from algolens.tasks.pathfinding.settings import PathfindingArgs
from algolens.tasks.pathfinding.tokens import Vocab, decode_prompt, encode_path, encode_prompt


def bfs_path(edges, root, goal):
    """Root-to-goal path by breadth-first search over the undirected edges (None if none)."""
    adj = {}
    for a, b in edges:
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    prev, todo = {root: None}, deque([root])
    while todo:
        x = todo.popleft()
        for y in adj.get(x, []):
            if y not in prev:
                prev[y] = x
                todo.append(y)
    if goal not in prev:
        return None
    out = [goal]
    while prev[out[-1]] is not None:
        out.append(prev[out[-1]])
    return out[::-1]


def assert_tree(n, edges, root, goal):
    nodes = {x for e in edges for x in e}
    assert nodes == set(range(n))  # every node, nothing else
    assert len(edges) == n - 1 and len(set(edges)) == n - 1
    indeg = Counter(b for _, b in edges)
    outdeg = Counter(a for a, _ in edges)
    assert indeg[root] == 0 and all(indeg[x] == 1 for x in range(n) if x != root)
    assert max(outdeg.values()) <= 2
    assert outdeg[goal] == 0 and goal != root  # the goal is a leaf
    # connected with n-1 edges => acyclic; every node reachable from the root
    for x in range(n):
        assert bfs_path(edges, root, x) is not None


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(2, 40),
    seed=st.integers(0, 2**32),
    order=st.sampled_from(["shuffled", "reverse-topological", "mixed"]),
)
def test_every_draw_is_a_tree_with_the_right_path_and_positions(n, seed, order):
    tree = sample_tree(n, random.Random(seed), order)
    assert_tree(n, tree.edges, tree.root, tree.goal)
    path = bfs_path(tree.edges, tree.root, tree.goal)
    assert tree.path() == path
    # directed: each step of the path is an edge parent -> child
    assert all((a, b) in tree.edges for a, b in zip(path, path[1:]))
    v = Vocab(n)
    row = encode_prompt(tree, v) + encode_path(path, v)
    assert len(row) == 3 * n + len(path) - 1
    for i, (a, b) in enumerate(tree.edges):  # fixed positions
        assert v.text([row[3 * i]]) == str(a) and v.text([row[3 * i + 1]]) == f">{b}"
        assert v.text([row[3 * i + 2]]) == ("," if i < n - 2 else "|")
    assert v.text(row[3 * n - 3 : 3 * n]) == f"{tree.goal} : {tree.root}"
    assert v.text(row[3 * n :]) == " ".join(f">{x}" for x in path[1:])
    assert decode_prompt(row[: 3 * n], v) == tree
    if order == "reverse-topological":  # every edge before the edge into its parent
        place = {b: i for i, (_, b) in enumerate(tree.edges)}
        assert all(place[b] < place[a] for a, b in tree.edges if a in place)


def test_path_lengths_cover_1_to_n_minus_1_uniformly():
    rng = random.Random(0)
    n, draws = 8, 7000
    counts = Counter(len(sample_tree(n, rng).path()) - 1 for _ in range(draws))
    assert sorted(counts) == list(range(1, n))
    for length in range(1, n):  # expected 1000 each; 5 sigma is about 150
        assert abs(counts[length] - draws / (n - 1)) < 150


def test_the_longest_path_is_a_chain():
    tree = sample_tree(6, random.Random(3), length=5)
    assert len(tree.path()) == 6 and sorted(tree.path()) == list(range(6))


def test_paper_sizes():
    v = Vocab(16)
    assert len(v) == 35 and v.bar_pos == 44 and v.goal_pos == 45 and v.root_pos == 47
    assert v.width - 1 == 62  # longest input: 48 prompt tokens + 15 path tokens, minus one


def test_dataset_rows_are_distinct_and_split():
    ds = build_dataset(PathfindingArgs(nodes=6, n_examples=300, test_frac=0.2, data_seed=4))
    assert ds.n_train == 240 and tuple(ds.tokens.shape) == (300, 23)
    prompts = {tuple(r[:18].tolist()) for r in ds.tokens}
    assert len(prompts) == 300
    again = build_dataset(PathfindingArgs(nodes=6, n_examples=300, test_frac=0.2, data_seed=4))
    assert (again.tokens == ds.tokens).all()
    assert set(ds.path_len.tolist()) <= set(range(1, 6))


@pytest.mark.parametrize("n", [1, MAX_NODES + 1])
def test_node_count_out_of_range(n):
    with pytest.raises(ConfigError, match="nodes must lie in"):
        sample_tree(n, random.Random(0))


def test_too_many_examples_for_the_node_count():
    # 2 nodes: the trees 0>1|1:0 and 1>0|0:1 only
    with pytest.raises(ConfigError, match="distinct trees"):
        build_dataset(PathfindingArgs(nodes=2, n_examples=3))

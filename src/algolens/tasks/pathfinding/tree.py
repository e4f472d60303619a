"""Rooted binary trees given as edge lists, the paper's text format, and their validation.

A prompt of Brinkmann et al. (2024) lists the N-1 edges of a tree on the nodes ``0..N-1`` as
``parent>child``, separated by commas, then ``|``, the goal (a leaf), ``:`` and the root::

    12>6,4>5,6>3|3:12

The answer is the path from the root to the goal, written as target tokens: ``>6>3``.

:func:`parse_prompt` reads and validates such text for a given node count and reports every
problem it finds in one :class:`~algolens.errors.SpecError` (a cycle, a node out of range, a
missing goal, two parents, more than two children, a disconnected edge list, a goal that is not a
leaf); :func:`format_prompt` writes a :class:`PathTree` back (the two round-trip).

Examples:
    >>> t = parse_prompt("2>0,2>1,1>3|3:2", 4)
    >>> t.path()
    [2, 1, 3]
    >>> format_prompt(t)
    '2>0,2>1,1>3|3:2'
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from algolens.errors import SpecError, listed, quote

MAX_CHILDREN = 2


@dataclass(frozen=True)
class PathTree:
    """A rooted tree on nodes ``0..n_nodes-1`` with a goal leaf, its edges in prompt order.

    Attributes:
        n_nodes: N.
        edges: ``(parent, child)`` pairs, in the order the prompt lists them (N-1 of them).
        goal: the leaf the path leads to.
        root: the node without a parent.
    """

    n_nodes: int
    edges: tuple[tuple[int, int], ...]
    goal: int
    root: int

    def parent_of(self) -> dict[int, int]:
        """``{child: parent}``."""
        return {c: p for p, c in self.edges}

    def path(self) -> list[int]:
        """Nodes from the root to the goal, both included (assumes a valid tree)."""
        parent = self.parent_of()
        out = [self.goal]
        while out[-1] != self.root:
            out.append(parent[out[-1]])
        return out[::-1]

    def depth(self) -> dict[int, int]:
        """``{node: edges from the root}`` (assumes a valid tree)."""
        children: dict[int, list[int]] = {}
        for p, c in self.edges:
            children.setdefault(p, []).append(c)
        out, todo = {self.root: 0}, [self.root]
        while todo:
            n = todo.pop()
            for c in children.get(n, []):
                out[c] = out[n] + 1
                todo.append(c)
        return out


def tree_problems(tree: PathTree) -> list[str]:
    """Everything that keeps ``tree`` from being a valid prompt tree (empty when valid)."""
    n = tree.n_nodes
    p: list[str] = []
    nodes = [x for e in tree.edges for x in e] + [tree.goal, tree.root]
    bad = sorted({x for x in nodes if not 0 <= x < n})
    if bad:
        p.append(f"node(s) {listed(bad)} out of range 0..{n - 1}")
    if len(tree.edges) != n - 1:
        p.append(f"{len(tree.edges)} edges, but a tree of {n} nodes has {n - 1}")
    parents = Counter(c for _, c in tree.edges)
    two = sorted(c for c, k in parents.items() if k > 1)
    if two:
        p.append(f"node(s) {listed(two)} have two parents")
    kids = Counter(a for a, _ in tree.edges)
    many = sorted(a for a, k in kids.items() if k > MAX_CHILDREN)
    if many:
        p.append(f"node(s) {listed(many)} have more than {MAX_CHILDREN} children")
    loops = sorted(a for a, b in tree.edges if a == b)
    if loops:
        p.append(f"self-loop(s) at {listed(loops)}")
    if tree.root in parents:
        p.append(f"the root {tree.root} has a parent")
    if tree.goal == tree.root:
        p.append("the goal is the root (the path must have at least one edge)")
    elif kids.get(tree.goal):
        p.append(f"the goal {tree.goal} is not a leaf (it has children)")
    if not p:  # well-formed edges: now every node must hang below the root without a cycle
        unreached = sorted(set(range(n)) - set(tree.depth()))
        if unreached:
            p.append(
                f"node(s) {listed(unreached)} are not reachable from the root "
                "(a cycle or a second component)"
            )
    return p


def check_tree(tree: PathTree) -> PathTree:
    """``tree`` if valid, else :class:`SpecError` naming every problem."""
    problems = tree_problems(tree)
    if problems:
        raise SpecError("not a valid path-finding tree: " + "; ".join(problems))
    return tree


def format_prompt(tree: PathTree) -> str:
    """The text ``a>b,c>d,...|goal:root``."""
    edges = ",".join(f"{a}>{b}" for a, b in tree.edges)
    return f"{edges}|{tree.goal}:{tree.root}"


def format_path(path: list[int]) -> str:
    """The answer text for a root-to-goal ``path``: ``>n1>n2...`` (the root is in the prompt)."""
    return "".join(f">{x}" for x in path[1:])


def _int(text: str, what: str) -> int:
    s = text.strip()
    if not (s.isascii() and s.isdigit()):  # "²" and "٤" are digits to str.isdigit
        raise SpecError(
            f"cannot read {what} {quote(text)}: expected a node number; write prompts like "
            "'2>0,2>1,1>3|3:2' (edges, |, goal, :, root)"
        )
    return int(s)


def parse_prompt(text: str, n_nodes: int) -> PathTree:
    """Read ``a>b,c>d,...|goal:root`` as a tree of ``n_nodes`` nodes and validate it.

    Raises:
        SpecError: unreadable text or an invalid tree (all problems in one message).
    """
    edges_text, bar, rest = text.strip().partition("|")
    goal_text, colon, root_text = rest.partition(":")
    if not bar or not colon:
        raise SpecError(
            f"prompt {quote(text)} lacks '|' or ':'; write edges, '|', goal, ':', root, e.g. "
            "'2>0,2>1,1>3|3:2'"
        )
    if not goal_text.strip():
        raise SpecError(f"prompt {quote(text)} has no goal between '|' and ':'")
    edges = []
    for part in edges_text.split(",") if edges_text.strip() else []:
        a, gt, b = part.partition(">")
        if not gt:
            raise SpecError(
                f"cannot read edge {quote(part)}: write an edge as parent>child, e.g. 2>0"
            )
        edges.append((_int(a, "edge source"), _int(b, "edge target")))
    tree = PathTree(n_nodes, tuple(edges), _int(goal_text, "goal"), _int(root_text, "root"))
    return check_tree(tree)

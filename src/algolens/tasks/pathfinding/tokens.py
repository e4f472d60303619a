"""Tokens of the path-finding task: the paper's 2N+3-token vocabulary and fixed positions.

Vocabulary for N nodes (35 tokens for N = 16)::

    0 ','   1 ':'   2 '|'   3..N+2 sources '0'..'N-1'   N+3..2N+2 targets '>0'..'>N-1'

A row of a tree with path length L has ``3N + L`` tokens at fixed positions::

    pos 3i, 3i+1          edge i: source 'a', target '>b'          (i = 0..N-2)
    pos 3i+2              ',' after every edge but the last
    pos 3N-4              '|' (in place of the last edge's ',')
    pos 3N-3              the goal (a source token)
    pos 3N-2              ':'
    pos 3N-1              the root (a source token)   <- predicts the first path token
    pos 3N .. 3N+L-1      the path '>n1' .. '>goal'

(With N = 16: edges 0-43, '|' 44, goal 45, ':' 46, root 47, as in the paper.) The root plays
the part of ``<sep>`` in :mod:`algolens.tasks.sequence`: the loss covers the root position and
the path positions but the last. The path ends at the goal, so there is no ``<eos>``; rows are
right-padded with ',' (never scored, and causal attention keeps it from scored positions).

Examples:
    >>> v = Vocab(4)
    >>> v.text(encode_prompt(PathTree(4, ((2, 0), (2, 1), (1, 3)), 3, 2), v))
    '2 >0 , 2 >1 , 1 >3 | 3 : 2'
    >>> len(v), v.prompt_len, v.width
    (11, 12, 15)
"""

from __future__ import annotations

from dataclasses import dataclass

from algolens.errors import SpecError
from algolens.tasks.pathfinding.tree import PathTree

COMMA, COLON, BAR = 0, 1, 2
SPECIAL = (",", ":", "|")


@dataclass(frozen=True)
class Vocab:
    """Token ids and positions for trees of ``n_nodes`` nodes."""

    n_nodes: int

    def __len__(self) -> int:
        return 2 * self.n_nodes + 3

    def src(self, node: int) -> int:
        """Id of the source token ``'node'``."""
        return 3 + node

    def tgt(self, node: int) -> int:
        """Id of the target token ``'>node'``."""
        return 3 + self.n_nodes + node

    def node_of(self, token: int) -> int | None:
        """The node a source or target token names (``None`` for ',', ':', '|')."""
        if token < 3:
            return None
        return (token - 3) % self.n_nodes

    def is_target(self, token: int) -> bool:
        return token >= 3 + self.n_nodes

    @property
    def prompt_len(self) -> int:
        """Prompt tokens, root included (3N)."""
        return 3 * self.n_nodes

    @property
    def root_pos(self) -> int:
        return 3 * self.n_nodes - 1

    @property
    def goal_pos(self) -> int:
        return 3 * self.n_nodes - 3

    @property
    def bar_pos(self) -> int:
        return 3 * self.n_nodes - 4

    @property
    def width(self) -> int:
        """Longest row: the prompt plus a path of N-1 edges (4N-1 tokens)."""
        return 4 * self.n_nodes - 1

    def edge_positions(self, i: int) -> tuple[int, int]:
        """Positions of edge ``i``'s source and target tokens."""
        return 3 * i, 3 * i + 1

    def token_text(self, token: int) -> str:
        if token < 3:
            return SPECIAL[token]
        node = self.node_of(token)
        return f">{node}" if self.is_target(token) else str(node)

    def text(self, row: list[int]) -> str:
        """Token ids as space-separated token text."""
        return " ".join(self.token_text(int(t)) for t in row)


def encode_prompt(tree: PathTree, vocab: Vocab) -> list[int]:
    """The 3N prompt token ids of ``tree`` (edges in the tree's order)."""
    if tree.n_nodes != vocab.n_nodes:
        raise SpecError(f"a tree of {tree.n_nodes} nodes in a {vocab.n_nodes}-node vocabulary")
    out: list[int] = []
    for a, b in tree.edges:
        out += [vocab.src(a), vocab.tgt(b), COMMA]
    out[-1] = BAR
    return out + [vocab.src(tree.goal), COLON, vocab.src(tree.root)]


def encode_path(path: list[int], vocab: Vocab) -> list[int]:
    """Answer token ids ``'>n1' .. '>goal'`` of a root-to-goal ``path``."""
    return [vocab.tgt(x) for x in path[1:]]


def decode_prompt(row: list[int], vocab: Vocab) -> PathTree:
    """The tree of a prompt's token ids (inverse of :func:`encode_prompt`; not validated)."""
    n = vocab.n_nodes
    edges = tuple((vocab.node_of(row[3 * i]), vocab.node_of(row[3 * i + 1])) for i in range(n - 1))
    goal, root = vocab.node_of(row[vocab.goal_pos]), vocab.node_of(row[vocab.root_pos])
    return PathTree(n, edges, goal, root)  # type: ignore[arg-type]

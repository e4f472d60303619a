"""Threshold circuits: linear threshold gates over one-hot token inputs, stored as layer templates.

A circuit reads a token sequence of ``n_pos`` positions over a vocabulary of ``n_vocab`` tokens.
Its ``N = n_pos · n_vocab`` inputs are the one-hot indicators: input id ``pos · n_vocab + token``
is 1 iff position ``pos`` holds ``token``. Gate ``i`` has id ``N + i`` and fires (value 1) iff
``Σ weight · value(src) ≥ threshold`` with integer weights and threshold, every ``src`` earlier
than the gate. ``outputs`` lists ids whose values, read as a binary number least-significant bit
first, give the predicted token id.

**Layer templates.** Gates are stored in :class:`Layer` s. A layer's gates read only ids before
the layer's first gate, and their weights are stored factorised::

    W = basis · select        # [n_src, n_gates] = [n_src, r] · [r, n_gates]

``basis`` holds a few integer linear forms over the layer's sources (None means the identity),
``select`` (sparse) combines them per gate. A thermometer code of one pre-activation is one basis
column selected by many gates with different thresholds; the pairwise comparisons of an argmax
are differences of the logit columns. The evaluator never expands ``W``; :meth:`Layer.expand`
does so on demand (export, statistics, inspection of one gate), in blocks of gates.

Examples:
    >>> import numpy as np
    >>> b = CircuitBuilder(n_pos=2, n_vocab=2)            # inputs 0..3: x0=0, x0=1, x1=0, x1=1
    >>> g = b.add_gates("and", [[(1, 1), (3, 1)]], [2])    # fires iff both tokens are 1
    >>> c = b.build(outputs=g)
    >>> c.n_inputs, c.n_gates, c.gate_weights(4)
    (4, 1, ([1, 3], [1, 1], 2))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np
import scipy.sparse as sp

OUTPUT_ENCODING = "binary-lsb-first"
"""The only output encoding: ``outputs`` are the bits of the predicted token id, LSB first."""

EXPAND_BLOCK = 1 << 22
"""At most this many weight entries are expanded at once by :meth:`Layer.expand`."""


EXACT_F32 = 1 << 24
EXACT_F64 = 1 << 53
INT64_SAFE = 1 << 62


def exact_matmul(x: np.ndarray, m: np.ndarray, x_max: int = 1) -> np.ndarray:
    """``x · m`` exactly for integer arrays with ``|x| ≤ x_max``: every partial sum is at most
    ``x_max · max_j Σ_i |m_ij|`` in magnitude; below ``2^24`` (float32) or ``2^53`` (float64)
    every intermediate is an exactly representable integer, so BLAS returns the exact result
    whatever its summation order or kernel; above that the product runs in int64."""
    col = np.abs(m).sum(0) if m.size else np.zeros(1, dtype=np.int64)
    bound = int(x_max) * int(col.max(initial=0))
    if bound < EXACT_F32:
        return (x.astype(np.float32) @ m.astype(np.float32)).astype(np.int64)
    if bound < EXACT_F64:
        return (x.astype(np.float64) @ m.astype(np.float64)).astype(np.int64)
    if bound >= INT64_SAFE:
        raise OverflowError(f"integer products may reach {bound}, beyond int64")
    return x.astype(np.int64) @ m.astype(np.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class Layer:
    """Gates that read only earlier ids, with weights ``basis · select``.

    Attributes:
        name: what the layer computes (``"mlp.thermometer"``, ``"argmax.compare"``...).
        first: id of the layer's first gate.
        src: ``[n_src]`` int64 ids read by the layer, each ``< first``.
        basis: ``[n_src, r]`` int64 linear forms, or None for the identity (``r = n_src``).
        select: ``[r, n_gates]`` int64 sparse (CSC) combination of the forms per gate.
        threshold: ``[n_gates]`` int64.
    """

    name: str
    first: int
    src: np.ndarray
    basis: np.ndarray | None
    select: sp.csc_array
    threshold: np.ndarray

    @property
    def n_gates(self) -> int:
        return int(self.threshold.shape[0])

    @property
    def ids(self) -> np.ndarray:
        """``[n_gates]`` ids of the layer's gates."""
        return np.arange(self.first, self.first + self.n_gates, dtype=np.int64)

    def expand(self, block: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(j0, W)`` with ``W [n_src, nb]`` int64 the explicit weights of gates
        ``j0 .. j0+nb-1`` (rows follow :attr:`src`), a block at a time."""
        n_src = max(1, int(self.src.shape[0]))
        nb = block or max(1, EXPAND_BLOCK // n_src)
        for j0 in range(0, self.n_gates, nb):
            sel = self.select[:, j0 : j0 + nb]
            if self.basis is None:
                w = sel.toarray()
            elif sel.nnz:
                w = exact_matmul(sel.toarray().T, self.basis.T, int(abs(sel).max())).T
            else:
                w = np.zeros((n_src, sel.shape[1]))
            yield j0, np.asarray(w, dtype=np.int64)


@dataclasses.dataclass(frozen=True, eq=False)
class Circuit:
    """A threshold circuit (see the module docstring)."""

    n_pos: int
    n_vocab: int
    layers: tuple[Layer, ...]
    outputs: np.ndarray  # [n_out] ids, LSB first
    input_names: tuple[str, ...] = ()

    @property
    def n_inputs(self) -> int:
        return self.n_pos * self.n_vocab

    @property
    def n_gates(self) -> int:
        return sum(layer.n_gates for layer in self.layers)

    @property
    def n_nodes(self) -> int:
        return self.n_inputs + self.n_gates

    def layer_of(self, node: int) -> int:
        """Index of the layer holding gate id ``node`` (ValueError for an input id)."""
        if not self.n_inputs <= node < self.n_nodes:
            raise ValueError(f"{node} is not a gate id ({self.n_inputs}..{self.n_nodes - 1})")
        starts = [layer.first for layer in self.layers]
        return int(np.searchsorted(starts, node, side="right") - 1)

    def gate_weights(self, node: int) -> tuple[list[int], list[int], int]:
        """``(sources, weights, threshold)`` of gate id ``node``, nonzero weights only."""
        layer = self.layers[self.layer_of(node)]
        j = node - layer.first
        _, w = next(iter(_single(layer, j)))
        nz = np.nonzero(w[:, 0])[0]
        srcs = layer.src[nz]
        order = np.argsort(srcs, kind="stable")
        return (
            [int(s) for s in srcs[order]],
            [int(v) for v in w[nz, 0][order]],
            int(layer.threshold[j]),
        )

    def gates(self) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
        """Every gate in id order as ``(sources, weights, threshold)`` (nonzero weights, sources
        ascending), expanded from the templates a block at a time."""
        for layer in self.layers:
            for j0, w in layer.expand():
                for j in range(w.shape[1]):
                    nz = np.nonzero(w[:, j])[0]
                    srcs = layer.src[nz]
                    order = np.argsort(srcs, kind="stable")
                    yield srcs[order], w[nz, j][order], int(layer.threshold[j0 + j])


def _single(layer: Layer, j: int) -> Iterator[tuple[int, np.ndarray]]:
    sub = dataclasses.replace(
        layer, select=layer.select[:, [j]], threshold=layer.threshold[j : j + 1]
    )
    return sub.expand()


class CircuitBuilder:
    """Appends layers to a circuit under construction; ids are assigned in order.

    Args:
        n_pos: positions of the input sequence.
        n_vocab: tokens per position.
        input_names: optional name of every input id (default ``"x<pos>=<token>"``).
    """

    def __init__(self, n_pos: int, n_vocab: int, input_names: Sequence[str] | None = None) -> None:
        self.n_pos, self.n_vocab = int(n_pos), int(n_vocab)
        n = self.n_pos * self.n_vocab
        self.input_names = tuple(
            input_names
            if input_names is not None
            else (f"x{p}={t}" for p in range(self.n_pos) for t in range(self.n_vocab))
        )
        assert len(self.input_names) == n
        self.layers: list[Layer] = []
        self.next_id = n

    def input_id(self, pos: int, token: int) -> int:
        return pos * self.n_vocab + token

    def add_layer(
        self,
        name: str,
        src: np.ndarray,
        basis: np.ndarray | None,
        select: sp.sparray | np.ndarray,
        threshold: np.ndarray,
    ) -> np.ndarray:
        """Append a layer (see :class:`Layer`) and return the ``[n_gates]`` ids of its gates."""
        src = np.asarray(src, dtype=np.int64).reshape(-1)
        threshold = np.asarray(threshold, dtype=np.int64).reshape(-1)
        select = sp.csc_array(select, dtype=np.int64)
        if basis is not None:
            basis = np.ascontiguousarray(basis, dtype=np.int64)
            assert basis.shape[0] == src.shape[0] and basis.shape[1] == select.shape[0]
        else:
            assert select.shape[0] == src.shape[0]
        assert select.shape[1] == threshold.shape[0]
        if src.size and (src.min() < 0 or src.max() >= self.next_id):
            raise ValueError(f"layer {name}: a source is not an earlier id (< {self.next_id})")
        layer = Layer(name, self.next_id, src, basis, select, threshold)
        if layer.n_gates:  # a layer without gates is not recorded
            self.layers.append(layer)
            self.next_id += layer.n_gates
        return layer.ids

    def add_gates(
        self, name: str, weights: Sequence[Sequence[tuple[int, int]]], thresholds: Sequence[int]
    ) -> np.ndarray:
        """Append a layer of explicit gates: ``weights[j]`` lists ``(src, weight)`` of gate j."""
        if len(weights) != len(thresholds):
            raise ValueError("one threshold per gate")
        src = sorted({int(s) for ws in weights for s, _ in ws})
        row = {s: i for i, s in enumerate(src)}
        rows, cols, vals = [], [], []
        for j, ws in enumerate(weights):
            for s, w in ws:
                rows.append(row[int(s)])
                cols.append(j)
                vals.append(int(w))
        select = sp.coo_array(
            (np.asarray(vals, dtype=np.int64), (rows, cols)), shape=(len(src), len(weights))
        )
        return self.add_layer(name, np.asarray(src, dtype=np.int64), None, select, thresholds)

    def constant(self, value: int) -> int:
        """Id of a gate with no sources that is always ``value`` (0 or 1)."""
        ids = self.add_layer(
            f"const{value}", np.zeros(0), None, sp.csc_array((0, 1)), [0 if value else 1]
        )
        return int(ids[0])

    def build(self, outputs: Sequence[int] | np.ndarray) -> Circuit:
        """The finished circuit with ``outputs`` (ids, least-significant bit first)."""
        out = np.asarray(outputs, dtype=np.int64).reshape(-1)
        if out.size and (out.min() < 0 or out.max() >= self.next_id):
            raise ValueError("an output is not a node id")
        return Circuit(self.n_pos, self.n_vocab, tuple(self.layers), out, self.input_names)


@dataclasses.dataclass(frozen=True)
class LayerStats:
    """Size of one layer: gates, wires (nonzero weights), the deepest gate's depth (inputs have
    depth 0), the largest fan-in, and the bits of the largest weight and threshold (signed)."""

    name: str
    gates: int
    wires: int
    depth: int
    max_fan_in: int
    weight_bits: int
    threshold_bits: int

    def to_dict(self) -> dict[str, int | str]:
        return dataclasses.asdict(self)


def signed_bits(m: int) -> int:
    """Bits of a two's-complement integer holding ``-m .. m``: ``bit_length(m) + 1``."""
    return int(m).bit_length() + 1


def layer_stats(circuit: Circuit) -> list[LayerStats]:
    """:class:`LayerStats` of every layer, in order (expands the templates block by block)."""
    depth = np.zeros(circuit.n_nodes, dtype=np.int32)
    out = []
    for layer in circuit.layers:
        d_src = depth[layer.src].astype(np.int64) + 1  # [n_src]
        wires = fan = wmax = dmax = 0
        for j0, w in layer.expand():
            nz = w != 0  # [n_src, nb]
            counts = nz.sum(0)
            d = np.maximum(1, (nz * d_src[:, None]).max(0, initial=0))  # [nb]
            depth[layer.first + j0 : layer.first + j0 + w.shape[1]] = d
            wires += int(counts.sum())
            fan = max(fan, int(counts.max(initial=0)))
            wmax = max(wmax, int(np.abs(w).max(initial=0)))
            dmax = max(dmax, int(d.max(initial=0)))
        tmax = int(np.abs(layer.threshold).max(initial=0))
        out.append(
            LayerStats(
                layer.name, layer.n_gates, wires, dmax, fan, signed_bits(wmax), signed_bits(tmax)
            )
        )
    return out


def circuit_depth(stats: Sequence[LayerStats]) -> int:
    """Depth of the whole circuit from its layer statistics."""
    return max((s.depth for s in stats), default=0)

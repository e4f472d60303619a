"""FO(M) formulas: the syntax tree, its text, and the formula of a threshold circuit.

A formula speaks about an input string ``w`` of ``n`` tokens. Positions are ``0..n-1``;
``Q5(i)`` says "position ``i`` holds token 5". The grammar (docs/logic.md, "FO(M) formulas"):

    program  := { "let" NAME ["(" VAR {"," VAR} ")"] ":=" formula ";" }
                { "out" INT ":=" formula ";" }
    formula  := disj
    disj     := conj { "|" conj }
    conj     := unary { "&" unary }
    unary    := "~" unary | ("E" | "A" | "M") VAR "." unary | atom
    atom     := "true" | "false" | "Q" INT "(" pos ")" | "bit(" pos "," pos ")"
              | pos ("<" | "=") pos | NAME ["(" pos {"," pos} ")"]
              | "[" sum ">=" ["-"] INT "]" | "(" formula ")"
    sum      := ["-"] term { ("+" | "-") term }
    term     := [INT "*"] (unary | "#" VAR "." unary)
    pos      := VAR | INT

Lines starting with ``//`` are comments. ``E``/``A`` are the first-order quantifiers,
``M i. φ`` is Merrill & Sabharwal's majority quantifier (true iff φ holds for at least half
of the positions: ``2·#{i: φ} ≥ n``), ``#i. φ`` counts positions, ``bit(i, j)`` is bit
``j`` of the number ``i``, and ``<``, ``=`` compare positions. ``[w1*φ1 + w2*#i.φ2 >= t]``
is a threshold with constant integer weights: sugar that FO(M) defines (a weight is that
many copies of a count; a sum of a fixed number of counts compared with a constant is
first-order over counting terms, which majority quantifiers express). Numerals ``0, 1, ...``
are definable from ``<`` and ``bit``; they are kept as sugar.

Each gate of a circuit becomes one let-definition ``g<k>`` (gate index ``k``, node id
``n_inputs + k``); each output bit ``j`` (least significant first) becomes ``out j := ...``.
Gates that are an AND, OR or NOT of their sources are written with ``&``, ``|``, ``~``, a
gate on one token's count over all positions with threshold ``⌈n/2⌉`` as ``M i. Qa(i)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from algolens.errors import SizeLimitError, SpecError

MAX_EXPANDED_GATES = 20_000
"""Above this many gates :func:`circuit_to_fom` refuses to write the expanded formula."""


@dataclass(frozen=True)
class Var:
    """A position variable."""

    name: str


@dataclass(frozen=True)
class Num:
    """A position numeral (sugar: definable from ``<`` and ``bit``)."""

    value: int


Pos = Var | Num


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class Tok:
    """``Q<token>(at)``: position ``at`` holds ``token``."""

    token: int
    at: Pos


@dataclass(frozen=True)
class Less:
    left: Pos
    right: Pos


@dataclass(frozen=True)
class Eq:
    left: Pos
    right: Pos


@dataclass(frozen=True)
class Bit:
    """``bit(number, index)``: bit ``index`` of the position ``number`` is 1."""

    number: Pos
    index: Pos


@dataclass(frozen=True)
class Not:
    body: Formula


@dataclass(frozen=True)
class And:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Quant:
    """``E i. φ``, ``A i. φ`` or ``M i. φ`` (kind ``"E"``, ``"A"``, ``"M"``)."""

    kind: str
    var: Var
    body: Formula


@dataclass(frozen=True)
class Count:
    """``#i. φ``: the number of positions where φ holds (a term, only inside a threshold)."""

    var: Var
    body: Formula


@dataclass(frozen=True)
class Threshold:
    """``[w1*x1 + ... >= t]``; each ``x`` is a formula (0/1) or a :class:`Count`."""

    terms: tuple[tuple[int, Formula | Count], ...]
    t: int


@dataclass(frozen=True)
class Call:
    """A let-defined predicate applied to positions."""

    name: str
    args: tuple[Pos, ...] = ()


Formula = Const | Tok | Less | Eq | Bit | Not | And | Or | Quant | Threshold | Call


@dataclass(frozen=True)
class Definition:
    """``let name(params) := body;``"""

    name: str
    params: tuple[Var, ...]
    body: Formula


@dataclass(frozen=True)
class Program:
    """Definitions (each uses only earlier ones) and the output bits, least significant first."""

    definitions: tuple[Definition, ...]
    outputs: tuple[Formula, ...]

    def to_text(self) -> str:
        """The program as text in the grammar of this module (parsed back by ``fom_parse``)."""
        lines = []
        for d in self.definitions:
            params = "(" + ", ".join(v.name for v in d.params) + ")" if d.params else ""
            lines.append(f"let {d.name}{params} := {render(d.body)};")
        lines += [f"out {j} := {render(f)};" for j, f in enumerate(self.outputs)]
        return "\n".join(lines) + "\n"


# -- text -------------------------------------------------------------------------------------

_PREC = {"or": 1, "and": 2, "unary": 3}


def _pos(p: Pos) -> str:
    return p.name if isinstance(p, Var) else str(p.value)


def render(f: Formula | Count, prec: int = 0) -> str:
    """``f`` as text; parentheses only where precedence needs them."""
    if isinstance(f, Const):
        return "true" if f.value else "false"
    if isinstance(f, Tok):
        return f"Q{f.token}({_pos(f.at)})"
    if isinstance(f, Less):
        return f"{_pos(f.left)} < {_pos(f.right)}"
    if isinstance(f, Eq):
        return f"{_pos(f.left)} = {_pos(f.right)}"
    if isinstance(f, Bit):
        return f"bit({_pos(f.number)}, {_pos(f.index)})"
    if isinstance(f, Call):
        return f.name + ("(" + ", ".join(_pos(a) for a in f.args) + ")" if f.args else "")
    if isinstance(f, Threshold):
        return "[" + _sum_text(f.terms) + f" >= {f.t}]"
    if isinstance(f, Not):
        return "~" + render(f.body, _PREC["unary"])
    if isinstance(f, Quant | Count):
        # a quantifier binds like negation: its body is one unary formula
        head = "#" if isinstance(f, Count) else f.kind + " "
        return f"{head}{f.var.name}. " + render(f.body, _PREC["unary"])
    if isinstance(f, And | Or):
        kind = "and" if isinstance(f, And) else "or"
        sep = " & " if kind == "and" else " | "
        inner = sep.join(render(p, _PREC[kind] + 1) for p in f.parts)
        return _wrap(inner, prec > _PREC[kind])
    raise TypeError(f"not a formula: {f!r}")


def _wrap(text: str, paren: bool) -> str:
    return f"({text})" if paren else text


def _sum_text(terms: Sequence[tuple[int, Formula | Count]]) -> str:
    out = []
    for k, (w, x) in enumerate(terms):
        body = render(x, _PREC["unary"])
        coef = "" if abs(w) == 1 else f"{abs(w)}*"
        sign = ("-" if w < 0 else "") if k == 0 else (" - " if w < 0 else " + ")
        out.append(f"{sign}{coef}{body}")
    return "".join(out) if out else "0"


# -- circuit -> formula -----------------------------------------------------------------------


def circuit_gates(circuit: Mapping[str, Any]) -> list[tuple[list[int], list[int], int]]:
    """``(sources, weights, threshold)`` of every gate of a circuit in the export format.

    Raises:
        SpecError: a gate that is not ``{"w": [[src, weight], ...], "t": int}`` or uses a
            source that is not earlier than itself.
    """
    n_inputs = int(circuit["n_inputs"])
    gates = []
    for k, g in enumerate(circuit["gates"]):
        try:
            srcs = [int(s) for s, _ in g["w"]]
            weights = [int(w) for _, w in g["w"]]
            t = int(g["t"])
        except (KeyError, TypeError, ValueError):
            raise SpecError(f"gate {k} is not {{'w': [[src, weight], ...], 't': int}}") from None
        if any(s < 0 or s >= n_inputs + k for s in srcs):
            raise SpecError(f"gate {k} (node {n_inputs + k}) reads a node that is not earlier")
        gates.append((srcs, weights, t))
    return gates


def circuit_to_fom(
    circuit: Any, n_vocab: int | None = None, *, max_gates: int = MAX_EXPANDED_GATES
) -> Program:
    """The FO(M) program of a threshold circuit (fully expanded).

    Args:
        circuit: a :class:`~algolens.logic.circuit.Circuit` or its export dict
            ``{"n_inputs", "gates", "outputs", ...}`` (docs/logic.md, export format).
        n_vocab: tokens per position (read from a ``Circuit``, or from a dict's ``n_vocab``
            field when not given); input node ``pos * n_vocab + token`` is ``Q<token>(pos)``.
        max_gates: refuse larger circuits (their expanded text is too long to read).

    Raises:
        SizeLimitError: more than ``max_gates`` gates.
        SpecError: a malformed gate, or ``n_inputs`` not a multiple of ``n_vocab``.
    """
    if isinstance(circuit, Mapping):
        n_inputs, n_gates = int(circuit["n_inputs"]), len(circuit["gates"])
        outputs = [int(o) for o in circuit["outputs"]]
        if n_vocab is None:  # the format's default: one position of n_inputs tokens
            n_vocab = int(circuit.get("n_vocab", n_inputs))
    else:
        n_inputs, n_gates = circuit.n_inputs, circuit.n_gates
        outputs = [int(o) for o in circuit.outputs]
        n_vocab = circuit.n_vocab
    if n_vocab is None or n_vocab < 1 or n_inputs % n_vocab:
        raise SpecError(f"n_inputs {n_inputs} is not a multiple of n_vocab {n_vocab}")
    if n_gates > max_gates:
        raise SizeLimitError(
            f"the circuit has {n_gates} gates, more than {max_gates} to write out; "
            "use fom_size for its size or a smaller model"
        )
    if isinstance(circuit, Mapping):
        gates = circuit_gates(circuit)
    else:
        gates = [([int(x) for x in s], [int(x) for x in w], t) for s, w, t in circuit.gates()]
    n_pos = n_inputs // n_vocab
    node = NodeFormulas(n_inputs, n_vocab)
    defs = tuple(
        Definition(f"g{k}", (), gate_formula(srcs, ws, t, n_inputs, n_vocab, n_pos, node))
        for k, (srcs, ws, t) in enumerate(gates)
    )
    return Program(defs, tuple(node(o) for o in outputs))


class NodeFormulas:
    """:func:`node_formula` with one shared formula object per node (large circuits read each
    node many times)."""

    def __init__(self, n_inputs: int, n_vocab: int) -> None:
        self.n_inputs, self.n_vocab = n_inputs, n_vocab
        self._cache: dict[int, Formula] = {}

    def __call__(self, src: int) -> Formula:
        f = self._cache.get(src)
        if f is None:
            f = self._cache[src] = node_formula(src, self.n_inputs, self.n_vocab)
        return f


def node_formula(src: int, n_inputs: int, n_vocab: int) -> Formula:
    """Node ``src`` as a formula: ``Q<token>(<pos>)`` for an input, ``g<k>`` for gate k."""
    if src < n_inputs:
        return Tok(src % n_vocab, Num(src // n_vocab))
    return Call(f"g{src - n_inputs}")


def gate_formula(
    srcs: list[int],
    ws: list[int],
    t: int,
    n_inputs: int,
    n_vocab: int,
    n_pos: int,
    node: NodeFormulas | None = None,
) -> Formula:
    """One gate (sources, weights, threshold) as the most readable equivalent formula."""
    node = node or NodeFormulas(n_inputs, n_vocab)
    merged: dict[int, int] = {}
    for s, w in zip(srcs, ws, strict=True):
        merged[s] = merged.get(s, 0) + w
    items = sorted((s, w) for s, w in merged.items() if w != 0)  # sources ascending
    if t <= 0 and all(w >= 0 for _, w in items):
        return Const(True)
    if t > sum(w for _, w in items if w > 0):
        return Const(False)
    nodes = [node(s) for s, _ in items]
    if all(w == 1 for _, w in items):
        if t == len(items):
            return nodes[0] if len(nodes) == 1 else And(tuple(nodes))
        if t == 1:
            return Or(tuple(nodes))
    if len(items) == 1 and items[0][1] == -1 and t == 0:
        return Not(nodes[0])
    terms = _count_terms(items, n_inputs, n_vocab, n_pos, node)
    if len(terms) == 1 and terms[0][0] == 1 and isinstance(terms[0][1], Count):
        if t == (n_pos + 1) // 2:
            return Quant("M", terms[0][1].var, terms[0][1].body)
    return Threshold(tuple(terms), t)


def _count_terms(
    items: list[tuple[int, int]], n_inputs: int, n_vocab: int, n_pos: int, node: NodeFormulas
) -> list[tuple[int, Formula | Count]]:
    """Weighted sources; a token read with one weight at every one of at least three positions
    becomes a count (with two positions an equal weight is more likely chance than structure)."""
    by_token: dict[tuple[int, int], list[int]] = {}
    for s, w in items:
        if s < n_inputs:
            by_token.setdefault((s % n_vocab, w), []).append(s // n_vocab)
    counted = {key for key, ps in by_token.items() if n_pos > 2 and len(ps) == n_pos}
    terms: list[tuple[int, Formula | Count]] = []
    done: set[tuple[int, int]] = set()
    for s, w in items:
        key = (s % n_vocab, w)
        if s < n_inputs and key in counted:
            if key not in done:
                done.add(key)
                terms.append((w, Count(Var("i"), Tok(key[0], Var("i")))))
            continue
        terms.append((w, node(s)))
    return terms


@dataclass(frozen=True)
class FomSize:
    """Size of a program: definitions, quantifiers, atoms, threshold terms, characters."""

    definitions: int
    quantifiers: int
    atoms: int
    threshold_terms: int
    characters: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def fom_size(program: Program) -> FomSize:
    """Counts over the syntax tree of ``program`` (the characters of its text included)."""
    counts = {"quantifiers": 0, "atoms": 0, "threshold_terms": 0}

    def walk(f: Formula | Count) -> None:
        if isinstance(f, Quant | Count):
            counts["quantifiers"] += 1
            walk(f.body)
        elif isinstance(f, Not):
            walk(f.body)
        elif isinstance(f, And | Or):
            for p in f.parts:
                walk(p)
        elif isinstance(f, Threshold):
            counts["threshold_terms"] += len(f.terms)
            for _, x in f.terms:
                walk(x)
        else:
            counts["atoms"] += 1

    for d in program.definitions:
        walk(d.body)
    for o in program.outputs:
        walk(o)
    return FomSize(len(program.definitions), characters=len(program.to_text()), **counts)

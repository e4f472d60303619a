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

The formula of a threshold circuit is written by :mod:`algolens.logic.circuit_to_fom` (its
names are importable from here too, for older callers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


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


_MOVED = frozenset(
    {"MAX_EXPANDED_GATES", "NodeFormulas", "circuit_gates", "circuit_to_fom", "gate_formula",
     "node_formula"}
)  # fmt: skip


def __getattr__(name: str) -> Any:
    """The circuit-to-formula pass moved to :mod:`algolens.logic.circuit_to_fom`; its names are
    still importable from this module (loaded lazily: that module imports this one)."""
    if name in _MOVED:
        from algolens.logic import circuit_to_fom as pass_module

        return getattr(pass_module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

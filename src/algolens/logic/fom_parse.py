"""Parse the text of an FO(M) program (grammar in :mod:`algolens.logic.fom`) into its tree.

``parse_program(program.to_text()) == program`` for every program :mod:`algolens.logic.fom`
writes, so what a user reads is exactly what :mod:`algolens.logic.fom_eval` evaluates.

Example:
    >>> parse_program("out 0 := E i. (Q1(i) & ~i < 1);").outputs[0].kind
    'E'
"""

from __future__ import annotations

import re

from algolens.errors import SpecError
from algolens.logic.fom import (
    And,
    Bit,
    Call,
    Const,
    Count,
    Definition,
    Eq,
    Formula,
    Less,
    Not,
    Num,
    Or,
    Pos,
    Program,
    Quant,
    Threshold,
    Tok,
    Var,
)

_TOKEN = re.compile(r"\s*(:=|>=|[A-Za-z_][A-Za-z_0-9]*|\d+|[;(),\[\]<=~&|+\-*#.])")
_RESERVED = {"let", "out", "true", "false", "bit", "E", "A", "M"}


def _is_number(tok: str) -> bool:
    """An ASCII decimal numeral (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return tok.isascii() and tok.isdigit()


_TOK_NAME = re.compile(r"Q(\d+)")


def _tokenize(text: str) -> list[str]:
    # comment lines start with "//"
    text = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("//"))
    out, at = [], 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None:
            if text[at:].strip() == "":
                break
            raise SpecError(f"FO(M) text: unexpected character {text[at:].lstrip()[:1]!r}")
        out.append(m.group(1))
        at = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokenize(text)
        self.k = 0

    def peek(self, ahead: int = 0) -> str | None:
        j = self.k + ahead
        return self.toks[j] if j < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            want = repr(expected) if expected else "more text"
            raise SpecError(f"FO(M) text: expected {want} at token {self.k}, got {tok!r}")
        self.k += 1
        return tok

    def program(self) -> Program:
        defs: list[Definition] = []
        outs: dict[int, Formula] = {}
        while self.peek() is not None:
            if self.peek() == "let":
                self.take()
                name = self.name()
                params: tuple[Var, ...] = ()
                if self.peek() == "(":
                    self.take()
                    params = (Var(self.name()),)
                    while self.peek() == ",":
                        self.take()
                        params += (Var(self.name()),)
                    self.take(")")
                self.take(":=")
                defs.append(Definition(name, params, self.formula()))
            else:
                self.take("out")
                index = int(self.take())
                self.take(":=")
                outs[index] = self.formula()
            self.take(";")
        if sorted(outs) != list(range(len(outs))):
            raise SpecError(f"FO(M) text: output bits must be 0..k-1, got {sorted(outs)}")
        return Program(tuple(defs), tuple(outs[j] for j in range(len(outs))))

    def name(self) -> str:
        tok = self.take()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", tok) or tok in _RESERVED:
            raise SpecError(f"FO(M) text: {tok!r} is not a usable name")
        return tok

    def formula(self) -> Formula:
        parts = [self.conj()]
        while self.peek() == "|":
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conj(self) -> Formula:
        parts = [self.unary()]
        while self.peek() == "&":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Formula:
        tok = self.peek()
        if tok == "~":
            self.take()
            return Not(self.unary())
        if tok in ("E", "A", "M") and self.peek(2) == ".":
            self.take()
            var = Var(self.name())
            self.take(".")
            return Quant(tok, var, self.unary())
        return self.atom()

    def atom(self) -> Formula:
        tok = self.peek()
        nxt = self.peek(1)
        if tok == "(":
            self.take()
            f = self.formula()
            self.take(")")
            return f
        if tok == "[":
            return self.threshold()
        if tok in ("true", "false"):
            self.take()
            return Const(tok == "true")
        if tok == "bit":
            self.take()
            self.take("(")
            number = self.pos()
            self.take(",")
            index = self.pos()
            self.take(")")
            return Bit(number, index)
        if nxt in ("<", "="):
            left = self.pos()
            op = self.take()
            right = self.pos()
            return Less(left, right) if op == "<" else Eq(left, right)
        m = _TOK_NAME.fullmatch(tok or "")
        if m and nxt == "(":
            self.take()
            self.take("(")
            at = self.pos()
            self.take(")")
            return Tok(int(m.group(1)), at)
        name = self.name()
        args: tuple[Pos, ...] = ()
        if self.peek() == "(":
            self.take()
            args = (self.pos(),)
            while self.peek() == ",":
                self.take()
                args += (self.pos(),)
            self.take(")")
        return Call(name, args)

    def threshold(self) -> Threshold:
        self.take("[")
        terms: list[tuple[int, Formula | Count]] = []
        sign = 1
        if self.peek() == "-":
            self.take()
            sign = -1
        while True:
            terms.append(self.term(sign))
            if self.peek() not in ("+", "-"):
                break
            sign = 1 if self.take() == "+" else -1
        self.take(">=")
        neg = self.peek() == "-"
        if neg:
            self.take()
        t = int(self.take())
        self.take("]")
        return Threshold(tuple(terms), -t if neg else t)

    def term(self, sign: int) -> tuple[int, Formula | Count]:
        weight = 1
        if _is_number(self.peek() or "") and self.peek(1) == "*":
            weight = int(self.take())
            self.take("*")
        if self.peek() == "#":
            self.take()
            var = Var(self.name())
            self.take(".")
            return sign * weight, Count(var, self.unary())
        return sign * weight, self.unary()

    def pos(self) -> Pos:
        tok = self.take()
        return Num(int(tok)) if _is_number(tok) else Var(self.check_var(tok))

    def check_var(self, tok: str) -> str:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", tok) or tok in _RESERVED:
            raise SpecError(f"FO(M) text: {tok!r} is not a position")
        return tok


def parse_program(text: str) -> Program:
    """The program written in ``text``.

    Raises:
        SpecError: text outside the grammar (the message names the token).
    """
    return _Parser(text).program()

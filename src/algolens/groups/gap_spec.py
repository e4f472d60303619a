"""The ``gap:`` spec grammar: a whitelist of GAP group constructors with integer arguments.

A ``gap:`` spec is never pasted into a GAP script. It is parsed into a small AST
(:class:`GapCall`) and the GAP text is regenerated from the AST by :func:`to_gap`, so only
whitelisted names, decimal integers, commas, brackets and parentheses can reach GAP::

    expr  := NAME "(" INT ("," INT)* ")"            NAME and arity from GAP_CONSTRUCTORS
           | "AbelianGroup" "(" "[" INT ("," INT)* "]" ")"
           | "DirectProduct" "(" expr ("," expr)+ ")"
    INT   := decimal digits, at most MAX_GAP_INT

Spaces between tokens are allowed; nothing else is (no newlines, ``;``, strings, operators or other
identifiers). A spec has at most :data:`MAX_GAP_SPEC_CHARS` characters and a list at most
:data:`MAX_GAP_LIST_LEN` integers.

Examples:
    >>> to_gap(parse_gap_spec(" DirectProduct( SmallGroup(8,3), CyclicGroup(3) ) "))
    'DirectProduct(SmallGroup(8,3),CyclicGroup(3))'
    >>> parse_gap_spec('SmallGroup(4,1);Exec("touch pwned")')
    Traceback (most recent call last):
    ...
    algolens.errors.SpecError: gap: spec ...
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from algolens.errors import SpecError, quote

MAX_GAP_INT = 10**9 - 1
"""Largest integer argument (the largest SmallGroup id is 408641062, for order 1536)."""
MAX_GAP_SPEC_CHARS = 400
"""Longest spec text (after ``gap:``) parsed."""
MAX_GAP_LIST_LEN = 32
"""Most integers in one argument list or ``AbelianGroup([...])``."""

GAP_CONSTRUCTORS: dict[str, tuple[str, ...]] = {
    "SmallGroup": ("n", "k"),
    "CyclicGroup": ("n",),
    "SymmetricGroup": ("n",),
    "AlternatingGroup": ("n",),
    "DihedralGroup": ("n",),  # GAP's n is the order
    "QuaternionGroup": ("n",),  # order n
    "DicyclicGroup": ("n",),  # order n
    "ElementaryAbelianGroup": ("n",),  # order n = p^k
    "ExtraspecialGroup": ("n", "e"),  # order p^(2k+1), exponent e (odd p)
    "MathieuGroup": ("n",),
    "PrimitiveGroup": ("n", "k"),  # needs the gap-primgrp package
    "TransitiveGroup": ("n", "k"),  # needs the gap-transgrp package
    "SL": ("d", "q"),
    "GL": ("d", "q"),
    "PSL": ("d", "q"),
    "PGL": ("d", "q"),
}
"""Named constructors with integer arguments; ``AbelianGroup([..])`` and ``DirectProduct``
are the only other forms."""

GAP_GRAMMAR = (
    "allowed: "
    + ", ".join(f"{k}({','.join(v)})" for k, v in GAP_CONSTRUCTORS.items())
    + ", AbelianGroup([n1,n2,...]) and DirectProduct(G,H,...) of these, "
    + f"with integer arguments 0..{MAX_GAP_INT}"
)

_TOKEN = re.compile(r" *(?:(?P<int>[0-9]+)|(?P<name>[A-Za-z]+)|(?P<punct>[(),\[\]]))")


@dataclass(frozen=True)
class GapCall:
    """One constructor call: ``name`` is a key of :data:`GAP_CONSTRUCTORS`, ``AbelianGroup``
    or ``DirectProduct``; ``args`` are ints, one tuple of ints (AbelianGroup) or GapCalls."""

    name: str
    args: tuple[int | tuple[int, ...] | GapCall, ...]


def parse_gap_spec(text: str) -> GapCall:
    """Parse the text after ``gap:`` into a :class:`GapCall`.

    Raises:
        SpecError: anything outside the grammar (one line naming the allowed grammar).
    """
    if len(text) > MAX_GAP_SPEC_CHARS:
        _fail(text, f"longer than {MAX_GAP_SPEC_CHARS} characters")
    tokens = _tokenize(text)
    call, pos = _parse_expr(text, tokens, 0)
    if pos != len(tokens):
        _fail(text, f"unexpected {tokens[pos][1]!r} after the group expression")
    return call


def to_gap(call: GapCall) -> str:
    """GAP source for ``call``, generated from the AST (names come from the whitelist)."""
    parts = []
    for a in call.args:
        if isinstance(a, GapCall):
            parts.append(to_gap(a))
        elif isinstance(a, tuple):
            parts.append("[" + ",".join(str(int(x)) for x in a) + "]")
        else:
            parts.append(str(int(a)))
    return f"{_canonical_name(call.name)}({','.join(parts)})"


# -- private -------------------------------------------------------------------------------


def _canonical_name(name: str) -> str:
    """The whitelist's own string for ``name`` (never the user's text)."""
    known = {k: k for k in (*GAP_CONSTRUCTORS, "AbelianGroup", "DirectProduct")}
    return known[name]


def _fail(text: str, reason: str) -> NoReturn:
    raise SpecError(f"gap: spec {quote(text)} is not allowed ({reason}); {GAP_GRAMMAR}")


def _tokenize(text: str) -> list[tuple[str, str]]:
    """``[(kind, value)]`` with kind ``int``, ``name`` or ``punct``."""
    tokens, pos = [], 0
    end = len(text.rstrip(" "))
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None:
            at = len(text) - len(text[pos:].lstrip(" "))
            _fail(text, f"character {text[at]!r} at position {at}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "int" and (len(value) > len(str(MAX_GAP_INT)) or int(value) > MAX_GAP_INT):
            _fail(text, f"integer {value[:20]} is above {MAX_GAP_INT}")
        tokens.append((kind, value))
        pos = m.end()
    return tokens


def _expect(text: str, tokens: list[tuple[str, str]], pos: int, value: str) -> int:
    if pos >= len(tokens) or tokens[pos] != ("punct", value):
        got = repr(tokens[pos][1]) if pos < len(tokens) else "the end"
        _fail(text, f"expected {value!r} but found {got}")
    return pos + 1


def _parse_int(text: str, tokens: list[tuple[str, str]], pos: int) -> tuple[int, int]:
    if pos >= len(tokens) or tokens[pos][0] != "int":
        got = repr(tokens[pos][1]) if pos < len(tokens) else "the end"
        _fail(text, f"expected an integer but found {got}")
    return int(tokens[pos][1]), pos + 1


def _parse_expr(text: str, tokens: list[tuple[str, str]], pos: int) -> tuple[GapCall, int]:
    if pos >= len(tokens) or tokens[pos][0] != "name":
        got = repr(tokens[pos][1]) if pos < len(tokens) else "nothing"
        _fail(text, f"expected a group constructor but found {got}")
    name = tokens[pos][1]
    pos = _expect(text, tokens, pos + 1, "(")
    if name == "DirectProduct":
        factors = []
        while True:
            factor, pos = _parse_expr(text, tokens, pos)
            factors.append(factor)
            if pos < len(tokens) and tokens[pos] == ("punct", ","):
                pos += 1
                continue
            break
        if len(factors) < 2:
            _fail(text, "DirectProduct needs at least two factors")
        return GapCall("DirectProduct", tuple(factors)), _expect(text, tokens, pos, ")")
    if name == "AbelianGroup":
        pos = _expect(text, tokens, pos, "[")
        values, pos = _parse_ints(text, tokens, pos, "]")
        if len(values) > MAX_GAP_LIST_LEN:
            _fail(text, f"AbelianGroup takes at most {MAX_GAP_LIST_LEN} integers")
        return GapCall("AbelianGroup", (tuple(values),)), _expect(text, tokens, pos, ")")
    if name not in GAP_CONSTRUCTORS:
        _fail(text, f"unknown constructor {quote(name)}")
    values, pos = _parse_ints(text, tokens, pos, ")")
    arity = len(GAP_CONSTRUCTORS[name])
    if len(values) != arity:
        _fail(text, f"{name} takes {arity} integer argument(s), got {len(values)}")
    return GapCall(name, tuple(values)), pos


def _parse_ints(
    text: str, tokens: list[tuple[str, str]], pos: int, close: str
) -> tuple[list[int], int]:
    """``INT ("," INT)*`` followed by ``close``; returns the ints and the position after it."""
    values = []
    while True:
        value, pos = _parse_int(text, tokens, pos)
        values.append(value)
        if len(values) > MAX_GAP_LIST_LEN:
            _fail(text, f"more than {MAX_GAP_LIST_LEN} integers in one list")
        if pos < len(tokens) and tokens[pos] == ("punct", ","):
            pos += 1
            continue
        return values, _expect(text, tokens, pos, close)

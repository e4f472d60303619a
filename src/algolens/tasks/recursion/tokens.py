"""Token serialisation of recursion values: one token per constructor, prefix order.

Vocabulary (ids fixed; :data:`VOCAB`)::

    0 <pad>   1 <sep>   2 <eos>   3 Z   4 B0   5 B1   6 Leaf   7 Node   8.. labels "0".."9"

* A binary number is its constructors outermost first, i.e. least significant bit first:
  5 = ``B1 B0 B1 Z``.
* A tree is written in prefix order, a node as ``Node LABEL LEFT RIGHT``:
  ``Node(3, Leaf(), Node(1, Leaf(), Leaf()))`` = ``Node 3 Leaf Node 1 Leaf Leaf``.
* A list of labels (a traversal's answer) is its labels: ``3 1``; the empty list is no tokens.

Binary numbers and trees are prefix codes (each ends exactly where its constructors are complete),
so several arguments are written one after the other with nothing between them. A list of labels
is not, so it can only be the last thing read. A malformed token sequence raises
:class:`~algolens.errors.SpecError` naming the position and what was expected there.

Examples:
    >>> from algolens.tasks.recursion.values import B0, B1, Z
    >>> encode(B1(B0(B1(Z()))))
    ['B1', 'B0', 'B1', 'Z']
    >>> parse("B1 Z Node 2 Leaf Leaf", ("bin", "tree"))
    (B1(Z()), Node(2, Leaf(), Leaf()))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from algolens.errors import SpecError, quote
from algolens.tasks.recursion.values import B0, B1, N_LABELS, Leaf, Node, Z

Kind = Literal["bin", "tree", "labels"]
"""What a token sequence denotes: a binary number, a tree, or a list of labels."""
KINDS: tuple[str, ...] = ("bin", "tree", "labels")

PAD, SEP, EOS = "<pad>", "<sep>", "<eos>"
VOCAB: tuple[str, ...] = (PAD, SEP, EOS, "Z", "B0", "B1", "Leaf", "Node") + tuple(
    str(i) for i in range(N_LABELS)
)
TOKEN_ID: dict[str, int] = {tok: i for i, tok in enumerate(VOCAB)}
PAD_ID, SEP_ID, EOS_ID = TOKEN_ID[PAD], TOKEN_ID[SEP], TOKEN_ID[EOS]
_LABELS = {str(i): i for i in range(N_LABELS)}
_EXAMPLE = {"bin": "'B1 B0 B1 Z'", "tree": "'Node 3 Leaf Node 1 Leaf Leaf'", "labels": "'3 1 4'"}


def kind_of(value: object) -> Kind:
    """The kind of a value: ``"bin"``, ``"tree"`` or ``"labels"`` (a list or tuple of labels).

    Raises:
        TypeError: anything else, including a list with a non-label entry.
    """
    if isinstance(value, (Z, B0, B1)):
        return "bin"
    if isinstance(value, (Leaf, Node)):
        return "tree"
    if isinstance(value, (list, tuple)):
        for x in value:
            if isinstance(x, bool) or not isinstance(x, int) or not 0 <= x < N_LABELS:
                raise TypeError(f"a list of labels holds ints in 0..{N_LABELS - 1}, got {x!r}")
        return "labels"
    raise TypeError(
        f"expected a binary number (Z, B0, B1), a tree (Leaf, Node) or a list of labels, "
        f"got {type(value).__name__}"
    )


def encode(value: object) -> list[str]:
    """The tokens of a binary number, tree or list of labels (see the module docstring).

    Raises:
        TypeError: a value of none of the three kinds.
    """
    kind = kind_of(value)
    if kind == "labels":
        return [str(x) for x in value]  # type: ignore[union-attr]
    out: list[str] = []
    stack = [value]
    while stack:
        v = stack.pop()
        out.append(type(v).__name__)
        if isinstance(v, (B0, B1)):
            stack.append(v.m)
        elif isinstance(v, Node):
            out.append(str(v.label))
            stack += [v.right, v.left]  # left is popped (written) first
    return out


def encode_args(args: Sequence[object]) -> list[str]:
    """The tokens of several arguments, one after the other."""
    return [tok for a in args for tok in encode(a)]


def ids(tokens: Sequence[str]) -> list[int]:
    """Token ids of ``tokens`` (every token must be in :data:`VOCAB`)."""
    try:
        return [TOKEN_ID[t] for t in tokens]
    except KeyError as exc:
        raise SpecError(
            f"unknown token {quote(exc.args[0])}; tokens are {' '.join(VOCAB)}"
        ) from None


def tokens_of(id_seq: Sequence[int]) -> list[str]:
    """Tokens of a sequence of ids (inverse of :func:`ids`)."""
    bad = [i for i in id_seq if not 0 <= int(i) < len(VOCAB)]
    if bad:
        raise SpecError(f"token id {bad[0]} is out of range 0..{len(VOCAB) - 1}")
    return [VOCAB[int(i)] for i in id_seq]


def decode(tokens: Sequence[str], kind: Kind) -> object:
    """The one value of ``kind`` written by all of ``tokens``.

    Raises:
        SpecError: unknown kind, unknown or misplaced token, too few tokens, or tokens left over.
    """
    return parse(tokens, (kind,))[0]


def parse(text_or_tokens: str | Sequence[str], kinds: Sequence[Kind]) -> tuple[object, ...]:
    """Read one value per entry of ``kinds`` from a token sequence (or a space-separated string),
    consuming all of it.

    Raises:
        SpecError: unknown kind, a ``labels`` kind that is not last, an unknown or misplaced token,
            too few tokens, or tokens left over.
    """
    toks = text_or_tokens.split() if isinstance(text_or_tokens, str) else list(text_or_tokens)
    for i, k in enumerate(kinds):
        if k not in KINDS:
            raise SpecError(f"unknown value kind {k!r}; use one of {', '.join(KINDS)}")
        if k == "labels" and i != len(kinds) - 1:
            raise SpecError("a list of labels can only be the last argument (it has no end token)")
    values: list[object] = []
    pos = 0
    for k in kinds:
        value, pos = _read(toks, pos, k)
        values.append(value)
    if pos != len(toks):
        what = " then ".join(kinds)
        raise SpecError(
            f"{_show(toks)}: tokens left over from position {pos} ({quote(toks[pos])}) after a "
            f"complete {what}; remove them"
        )
    return tuple(values)


def _show(toks: Sequence[str]) -> str:
    return quote(" ".join(toks), limit=60)


def _read(toks: Sequence[str], pos: int, kind: str) -> tuple[object, int]:
    """Read one value of ``kind`` starting at ``pos``; return it and the next position."""
    if kind == "labels":
        out = []
        for i in range(pos, len(toks)):
            if toks[i] not in _LABELS:
                raise _bad(toks, i, "a label 0..9", kind)
            out.append(_LABELS[toks[i]])
        return out, len(toks)
    if kind == "bin":
        n_bits = 0
        while True:
            if pos + n_bits >= len(toks):
                raise _short(toks, kind)
            t = toks[pos + n_bits]
            if t == "Z":
                break
            if t not in ("B0", "B1"):
                raise _bad(toks, pos + n_bits, "Z, B0 or B1", kind)
            n_bits += 1
        n: object = Z()
        for i in range(pos + n_bits - 1, pos - 1, -1):
            n = B1(n) if toks[i] == "B1" else B0(n)  # type: ignore[arg-type]
        return n, pos + n_bits + 1
    # tree, prefix order: a stack of nodes waiting for their subtrees
    pending: list[list] = []  # [label, left-or-None]
    while True:
        if pos >= len(toks):
            raise _short(toks, kind)
        t = toks[pos]
        if t == "Node":
            if pos + 1 >= len(toks):
                raise _short(toks, kind)
            if toks[pos + 1] not in _LABELS:
                raise _bad(toks, pos + 1, "a label 0..9 after Node", kind)
            pending.append([_LABELS[toks[pos + 1]], None])
            pos += 2
            continue
        if t != "Leaf":
            raise _bad(toks, pos, "Leaf or Node", kind)
        pos += 1
        done: object = Leaf()
        while pending:
            top = pending[-1]
            if top[1] is None:
                top[1] = done
                break
            pending.pop()
            done = Node(top[0], top[1], done)  # type: ignore[arg-type]
        else:
            return done, pos


def _bad(toks: Sequence[str], i: int, expected: str, kind: str) -> SpecError:
    return SpecError(
        f"{_show(toks)}: token {i} is {quote(toks[i])}, expected {expected} (a {kind} is "
        f"written like {_EXAMPLE[kind]})"
    )


def _short(toks: Sequence[str], kind: str) -> SpecError:
    return SpecError(
        f"{_show(toks)}: ends before the {kind} is complete (a {kind} is written like "
        f"{_EXAMPLE[kind]})"
    )

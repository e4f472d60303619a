"""Evaluate an FO(M) program on input strings by interpreting its syntax tree.

This evaluator shares no code with the circuit evaluator: it walks the formulas of
:mod:`algolens.logic.fom` (quantifiers loop over positions, let-definitions are memoised per
argument tuple), vectorised only over a batch of input strings.

Example:
    >>> import numpy as np
    >>> from algolens.logic.fom_parse import parse_program
    >>> p = parse_program("let two := [#i. Q1(i) >= 2];\\nout 0 := two;")
    >>> evaluate_program(p, np.array([[1, 0, 1], [1, 0, 0]])).tolist()
    [1, 0]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from algolens.errors import SpecError
from algolens.logic import fom


class FomEvaluator:
    """Evaluates one program on a batch of input strings ``tokens`` ``[batch, n]`` (int).

    Every let-defined predicate is evaluated at most once per argument tuple; its values stay
    available through :meth:`definition_values` (a mismatch report names the first definition
    that differs from a circuit gate).
    """

    def __init__(self, program: fom.Program, tokens: np.ndarray) -> None:
        tokens = np.asarray(tokens)
        if tokens.ndim != 2:
            raise SpecError(f"tokens must be [batch, n], got shape {tokens.shape}")
        self.program = program
        self.tokens = tokens  # [batch, n]
        self.n = tokens.shape[1]
        self._defs: dict[str, fom.Definition] = {}
        for d in program.definitions:
            if d.name in self._defs:
                raise SpecError(f"predicate {d.name} is defined twice")
            self._defs[d.name] = d
        self._memo: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}

    def outputs(self) -> np.ndarray:
        """The output bits ``[batch, n_out]`` (bool), least significant first."""
        for d in self.program.definitions:  # in order: no deep recursion through gates
            if not d.params:
                self._call(d.name, ())
        bits = [self.formula(f, {}) for f in self.program.outputs]
        return np.stack(bits, axis=1) if bits else np.zeros((len(self.tokens), 0), bool)

    def decoded(self) -> np.ndarray:
        """The output bits read as a binary number ``[batch]`` (int64): the predicted token."""
        bits = self.outputs().astype(np.int64)
        return bits @ (np.int64(1) << np.arange(bits.shape[1], dtype=np.int64))

    def definition_values(self, name: str, args: tuple[int, ...] = ()) -> np.ndarray:
        """The values ``[batch]`` (bool) of ``name(args)``."""
        return self._call(name, args)

    # -- interpretation ----------------------------------------------------------------------

    def formula(self, f: fom.Formula, env: Mapping[str, int]) -> np.ndarray:
        """``f`` under the variable assignment ``env`` (variable -> position): ``[batch]`` bool."""
        batch = len(self.tokens)
        if isinstance(f, fom.Const):
            return np.full(batch, f.value)
        if isinstance(f, fom.Tok):
            return self.tokens[:, self._pos(f.at, env)] == f.token
        if isinstance(f, fom.Less):
            return np.full(batch, self._pos(f.left, env) < self._pos(f.right, env))
        if isinstance(f, fom.Eq):
            return np.full(batch, self._pos(f.left, env) == self._pos(f.right, env))
        if isinstance(f, fom.Bit):
            bit = (self._pos(f.number, env) >> self._pos(f.index, env)) & 1
            return np.full(batch, bool(bit))
        if isinstance(f, fom.Not):
            return ~self.formula(f.body, env)
        if isinstance(f, fom.And):
            out = np.ones(batch, bool)
            for p in f.parts:
                out &= self.formula(p, env)
            return out
        if isinstance(f, fom.Or):
            out = np.zeros(batch, bool)
            for p in f.parts:
                out |= self.formula(p, env)
            return out
        if isinstance(f, fom.Quant):
            count = self._count(f.var, f.body, env)
            if f.kind == "E":
                return count >= 1
            if f.kind == "A":
                return count == self.n
            if f.kind == "M":
                return 2 * count >= self.n
            raise SpecError(f"unknown quantifier {f.kind!r}")
        if isinstance(f, fom.Threshold):
            total = np.zeros(batch, np.int64)
            for w, x in f.terms:
                if isinstance(x, fom.Count):
                    v = self._count(x.var, x.body, env)
                elif type(x) is fom.Call and not x.args:  # the common case: a gate, memoised
                    v = self._memo.get((x.name, ()))
                    v = self._call(x.name, ()) if v is None else v
                else:
                    v = self.formula(x, env)
                total += v if w == 1 else w * v.astype(np.int64)
            return total >= f.t
        if isinstance(f, fom.Call):
            return self._call(f.name, tuple(self._pos(a, env) for a in f.args))
        raise SpecError(f"not a formula: {f!r}")

    def _count(self, var: fom.Var, body: fom.Formula, env: Mapping[str, int]) -> np.ndarray:
        """``#var. body``: over positions ``0..n-1``, ``[batch]`` int64."""
        total = np.zeros(len(self.tokens), np.int64)
        for i in range(self.n):
            total += self.formula(body, {**env, var.name: i})
        return total

    def _pos(self, p: fom.Pos, env: Mapping[str, int]) -> int:
        if isinstance(p, fom.Num):
            return p.value
        if p.name not in env:
            raise SpecError(f"variable {p.name} is not bound")
        return env[p.name]

    def _call(self, name: str, args: tuple[int, ...]) -> np.ndarray:
        key = (name, args)
        if key not in self._memo:
            d = self._defs.get(name)
            if d is None:
                raise SpecError(f"predicate {name} is not defined before its use")
            if len(d.params) != len(args):
                raise SpecError(f"{name} takes {len(d.params)} positions, got {len(args)}")
            env = {v.name: a for v, a in zip(d.params, args, strict=True)}
            self._memo[key] = self.formula(d.body, env)
        return self._memo[key]


def evaluate_program(program: fom.Program, tokens: np.ndarray, *, chunk: int = 4096) -> np.ndarray:
    """The decoded output ``[batch]`` (int64) of ``program`` on ``tokens`` ``[batch, n]``."""
    tokens = np.asarray(tokens)
    parts = [
        FomEvaluator(program, tokens[s : s + chunk]).decoded() for s in range(0, len(tokens), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)

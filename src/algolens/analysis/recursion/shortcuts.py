"""Shortcut reconstruction for recursion runs: readable attention rules and input-level
hypotheses of what a model computes.

* **Attention rules.** Rows are ``prompt <sep> answer <eos>``; answer token ``i`` (0-based) is
  predicted at query position ``P + i``, ``P`` the position of ``<sep>``. For every answer index,
  layer and head, :func:`summarise_attention` scores a small fixed library of candidate key
  positions (:data:`RULES`: the same prompt index ``i``, ``i + 1``, ``i - 1``, the first ``B0``,
  the last prompt token, ``<sep>``, the previous answer token, which is the token the query
  position holds) by the mean attention mass they get (``mass``) and how often they are the
  argmax key (``argmax``), over the rows where the rule names a position; the best rule by mass is
  reported, e.g. ``answer token 2, L0H1: attends to prompt token i (84.0 % mass, argmax 90.0 %)``.
  Patterns are read under teacher forcing (the true answers in the row).
* **Hypotheses.** A hypothesis is a plain Python function on input values (``def f(n) -> Bin``).
  :func:`score_hypotheses` compares its answer with the model's greedy answer, on all inputs and
  separately on the inputs the model gets right and wrong: a shortcut the model really uses also
  predicts its mistakes. Built-in families for every built-in function (successor: carries limited
  to the first ``k`` bits; traversals: followed down to depth ``k``, then prompt order; ...) and
  user-written ``FILE.py:NAME`` hypotheses are in
  :mod:`algolens.analysis.recursion.shortcut_hypotheses`.
* :func:`run_shortcuts` does both for every instance of a stored recursion run and stores the
  result as the ``shortcuts`` analysis (``analyses/shortcuts.json``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from algolens.analysis.methods import Options, check_method_run
from algolens.analysis.recursion.failures_run import INPUTS, check_failures
from algolens.analysis.recursion.shortcut_hypotheses import (  # noqa: F401  (carry_limited: re-exported)
    Hypothesis,
    builtin_hypotheses,
    carry_limited,
    load_user_hypotheses,
    table_hypothesis,
)
from algolens.analysis.runs import weights_source
from algolens.analysis.store import cached
from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.tasks.recursion.examples import (
    Example,
    fitting_examples,
    sampled_examples,
    stored_examples,
)
from algolens.tasks.recursion.functions import FUNCTIONS
from algolens.tasks.recursion.settings import RecursionArgs
from algolens.tasks.recursion.tokens import EOS_ID, PAD_ID, SEP_ID, TOKEN_ID, encode, ids
from algolens.tasks.recursion.user import source_sha256
from algolens.tasks.sequence import greedy_decode, pack
from algolens.train.config import TrainConfig
from algolens.train.load import load_run_dataset, load_run_model

METHOD = "shortcuts"
B0_ID = TOKEN_ID["B0"]


def _same(p: list[int], i: int) -> int | None:
    return i if i < len(p) else None


def _next(p: list[int], i: int) -> int | None:
    return i + 1 if i + 1 < len(p) else None


def _prev(p: list[int], i: int) -> int | None:
    return i - 1 if 0 <= i - 1 < len(p) else None


def _first_b0(p: list[int], i: int) -> int | None:
    return p.index(B0_ID) if B0_ID in p else None


def _last(p: list[int], i: int) -> int | None:
    return len(p) - 1 if p else None


def _sep(p: list[int], i: int) -> int | None:
    return len(p)


def _prev_answer(p: list[int], i: int) -> int | None:
    return len(p) + i if i >= 1 else None


RULES: dict[str, Callable[[list[int], int], int | None]] = {
    "prompt token i": _same,
    "prompt token i + 1": _next,
    "prompt token i - 1": _prev,
    "the first B0": _first_b0,
    "the last prompt token": _last,
    "<sep>": _sep,
    "the previous answer token": _prev_answer,
}
"""Candidate rules: ``(prompt ids without <sep>, answer index i) -> key position or None``."""


def summarise_attention(
    pattern: np.ndarray, prompts: Sequence[Sequence[int]], answer_lens: Sequence[int]
) -> list[dict[str, Any]]:
    """The best rule for every answer index and head of one layer.

    Args:
        pattern: ``[N, head, query_pos, key_pos]`` attention probabilities of one instance's layer.
        prompts: ``[N]`` prompt token ids (without ``<sep>``); row n's ``<sep>`` is at
            ``len(prompts[n])``.
        answer_lens: ``[N]`` answer tokens plus ``<eos>`` of each row (answer indices scored).

    Returns:
        one dict per (answer index, head) with rows: ``{"answer_index", "head", "rule", "mass",
        "argmax", "n", "scores": {rule: {"mass", "argmax", "n"}}}``; a rule that names no position
        on any row gets ``None`` scores and is never best.
    """
    pattern = np.asarray(pattern, dtype=np.float64)
    n_rows, n_heads = pattern.shape[:2]
    if len(prompts) != n_rows or len(answer_lens) != n_rows:
        raise ConfigError(f"{n_rows} pattern rows for {len(prompts)} prompts / answer lengths")
    out = []
    for i in range(max(answer_lens, default=0)):
        rows = [r for r in range(n_rows) if i < answer_lens[r]]
        for h in range(n_heads):
            scores: dict[str, dict[str, Any]] = {}
            for name, rule in RULES.items():
                mass, hits = [], []
                for r in rows:
                    p = list(prompts[r])
                    key, q = rule(p, i), len(p) + i
                    if key is None or key > q:
                        continue
                    att = pattern[r, h, q, : q + 1]
                    mass.append(att[key])
                    hits.append(int(np.argmax(att)) == key)
                scores[name] = {
                    "mass": float(np.mean(mass)) if mass else None,
                    "argmax": float(np.mean(hits)) if hits else None,
                    "n": len(mass),
                }
            scored = [k for k, v in scores.items() if v["mass"] is not None]
            if not scored:
                continue
            best = max(scored, key=lambda k: scores[k]["mass"])
            out.append(
                {"answer_index": i, "head": h, "rule": best, **scores[best], "scores": scores}
            )
    return out


def describe(row: dict[str, Any], layer: int) -> str:
    """One readable line for a :func:`summarise_attention` row."""
    return (
        f"answer token {row['answer_index']}, L{layer}H{row['head']}: attends to {row['rule']} "
        f"({row['mass']:.1%} mass, argmax {row['argmax']:.1%}, {row['n']} rows)"
    )


def attention_patterns(model: Any, tokens: torch.Tensor) -> list[np.ndarray]:
    """Per layer, ``[inst, N, head, query_pos, key_pos]`` attention of every instance on
    ``tokens`` ``[N, T]`` (read from the ``blocks.{l}.attn.hook_pattern`` hooks)."""
    n_inst = model.cfg.n_inst
    x = tokens.expand(n_inst, *tokens.shape)
    with torch.no_grad():
        _, cache = model.run_with_cache(x)
    names = [f"blocks.{layer}.attn.hook_pattern" for layer in range(model.cfg.n_layers)]
    return [cache[name].numpy() for name in names]


# ---- hypotheses -------------------------------------------------------------------------


def model_answers(written: np.ndarray) -> list[tuple[int, ...] | None]:
    """``[N, steps]`` greedy tokens → each row's answer ids before the first ``<eos>`` (``None``
    when the model wrote no ``<eos>``)."""
    out: list[tuple[int, ...] | None] = []
    for row in np.asarray(written).tolist():
        out.append(tuple(row[: row.index(EOS_ID)]) if EOS_ID in row else None)
    return out


def score_hypotheses(
    hypotheses: dict[str, Hypothesis],
    inputs: Sequence[tuple[object, ...]],
    model_out: Sequence[tuple[int, ...] | None],
    right: Sequence[bool],
) -> list[dict[str, Any]]:
    """How often each hypothesis's answer equals the model's, best first.

    Args:
        inputs: ``[N]`` argument tuples. model_out: ``[N]`` the model's answer ids
            (:func:`model_answers`). right: ``[N]`` the model's answer is the true one.

    Returns:
        ``[{"name", "match", "match_right", "match_wrong", "n_right", "n_wrong"}]`` sorted by
        ``match_wrong`` then ``match`` (a share with no inputs is ``None``); a hypothesis that
        raises on an input counts as a mismatch there.
    """
    if not len(inputs) == len(model_out) == len(right):
        raise ConfigError(f"{len(inputs)} inputs, {len(model_out)} answers, {len(right)} flags")
    r = np.asarray(right, dtype=bool)
    out = []
    for name, h in hypotheses.items():
        same = np.array([_agrees(h, x, m) for x, m in zip(inputs, model_out)], dtype=bool)
        out.append(
            {
                "name": name,
                "match": _share(same),
                "match_right": _share(same[r]),
                "match_wrong": _share(same[~r]),
                "n_right": int(r.sum()),
                "n_wrong": int((~r).sum()),
            }
        )
    return sorted(out, key=lambda d: (d["match_wrong"] or 0.0, d["match"] or 0.0), reverse=True)


def _agrees(h: Hypothesis, x: tuple[object, ...], m: tuple[int, ...] | None) -> bool:
    try:
        return m is not None and tuple(ids(encode(h(*x)))) == m
    except Exception:  # a hypothesis that fails on an input does not predict the model there
        return False


def _share(a: np.ndarray) -> float | None:
    return float(a.mean()) if a.size else None


# ---- a stored run -----------------------------------------------------------------------


def check_shortcuts_run(
    store: RunStore,
    run: str,
    instance: int | None = None,
    hypotheses: Sequence[str] = (),
    inputs: str | None = None,
) -> tuple[str, TrainConfig]:
    """``(run_id, config)`` of a recursion run with weights, before any work (the shared check
    :func:`algolens.analysis.methods.check_method_run`, then :func:`check_shortcuts`).

    Raises:
        StoreError: unknown run. ConfigError: not a run of a recursive function, ``instance``
        out of range, ``inputs`` unknown or given for a user-function run. CheckpointError: no
        weights. UserFunctionError: a bad hypothesis file.
    """
    opts = Options(instance=instance, inputs=inputs, hypotheses=tuple(hypotheses))
    return check_method_run(store, run, "shortcuts", opts)


def check_shortcuts(store: RunStore, run_id: str, config: TrainConfig, opts: Options) -> None:
    """The shortcuts method's own check (``Method.check``): ``--inputs`` as for ``failures``;
    the hypothesis files loaded (under the user-function guards) and checked against the run's
    arguments."""
    check_failures(store, run_id, config, opts)
    if opts.hypotheses:
        load_user_hypotheses(opts.hypotheses, load_run_dataset(store, run_id).arg_kinds)


def compute_shortcuts(store: RunStore, run_id: str, opts: Options) -> dict[str, Any]:
    """The shortcuts method's ``compute``: :func:`run_shortcuts` with ``opts``' inputs and
    hypotheses."""
    return run_shortcuts(
        store, run_id, hypotheses=list(opts.hypotheses), inputs=opts.inputs or "test",
        force=opts.force,
    )  # fmt: skip


def _examples(
    store: RunStore, run_id: str, config: TrainConfig, n: int, seed: int, split: str
) -> tuple:
    ds = load_run_dataset(store, run_id)
    if config.function in FUNCTIONS:
        train = {tuple(x) for x in ds.splits["train"].inputs}
        how = f"{n} inputs sampled like the {split} split with seed {seed}, no training input"
        return sampled_examples(config, ds.arg_kinds, n, seed, split, exclude=train), how
    return stored_examples(ds.splits["test"], ds.arg_kinds), "the stored test split (user function)"


def run_shortcuts(
    store: RunStore,
    run: str,
    *,
    n: int = 500,
    seed: int = 3,
    n_attn: int = 200,
    inputs: str = "test",
    hypotheses: Sequence[str] = (),
    force: bool = False,
) -> dict[str, Any]:
    """The stored (or freshly computed) ``shortcuts`` analysis of every instance of ``run``.

    A built-in function's inputs are drawn like the run's ``inputs`` split (``test``, ``rare``
    or ``ood``), training inputs left out; a user function's are its stored ``test`` split.
    ``hypotheses`` (``FILE.py:NAME``) are scored beside the built-in ones
    (:mod:`algolens.analysis.recursion.shortcut_hypotheses`); the stored result is recomputed when
    a file
    changes.

    Returns:
        ``{"function", "inputs", "n", "n_attention", "instances": [{"instance", "seed",
        "attention": [{"layer", ...summarise_attention row, "text"}], "hypotheses",
        "best_hypothesis"}]}`` plus the store's stamps.
    """
    run_id, config = check_shortcuts_run(store, run, hypotheses=hypotheses)
    user = load_user_hypotheses(hypotheses, load_run_dataset(store, run_id).arg_kinds)
    if inputs not in INPUTS:
        raise ConfigError(f"inputs {inputs!r} is unknown; use one of {', '.join(INPUTS)}")
    settings = {"n": n, "seed": seed, "n_attn": n_attn, "held_out": True, "inputs": inputs}
    settings["hypotheses"] = {s: source_sha256(Path(s.rpartition(":")[0])) for s in hypotheses}
    max_size = (config.recursion or RecursionArgs()).max_size
    settings["builtin"] = list(builtin_hypotheses(config.function, max_size))  # names: a new
    # built-in family makes a stored result stale

    def compute() -> dict[str, Any]:
        examples, how = _examples(store, run_id, config, n, seed, inputs)
        _, model = load_run_model(store, run_id)
        examples = fitting_examples(examples, model.cfg.n_ctx + 1)
        if not examples:
            raise ConfigError(f"no input of run {run_id} fits its model's context")
        data = _packed(examples, model.cfg.n_ctx + 1)
        with torch.no_grad():
            written = greedy_decode(model, data, config.n_inst).numpy()
        truth = [tuple(ids(a)) for _, _, a in examples]
        args = [x for x, _, _ in examples]
        hyps = builtin_hypotheses(config.function, max_size)
        hyps |= {name: table_hypothesis(f, args) for name, f in user.items()}
        head = examples[:n_attn]
        prompts = [ids(p) for _, p, _ in head]
        alens = [len(a) + 1 for _, _, a in head]
        patterns = attention_patterns(model, _packed(head, model.cfg.n_ctx + 1).inputs)
        instances = []
        for k in range(config.n_inst):
            out_k = model_answers(written[k])
            right = [o == t for o, t in zip(out_k, truth)]
            attention = [
                {"layer": layer, **row, "text": describe(row, layer)}
                for layer, pat in enumerate(patterns)
                for row in summarise_attention(pat[k], prompts, alens)
            ]
            scored = score_hypotheses(hyps, args, out_k, right)
            instances.append(
                {
                    "instance": k,
                    "seed": config.seeds[k],
                    "accuracy": float(np.mean(right)),
                    "attention": attention,
                    "hypotheses": scored,
                    "best_hypothesis": scored[0]["name"] if scored else None,
                }
            )
        return {
            "function": config.function,
            "inputs": how,
            "n": len(examples),
            "n_attention": len(head),
            "instances": instances,
        }

    source = {"weights": weights_source(store, run_id), **settings}
    return cached(store, run_id, METHOD, compute, source=source, force=force)


def _packed(examples: Sequence[Example], width: int) -> Any:
    return pack(
        [ids(p) for _, p, _ in examples],
        [ids(a) for _, _, a in examples],
        sep=SEP_ID,
        eos=EOS_ID,
        pad=PAD_ID,
        width=width,
    )

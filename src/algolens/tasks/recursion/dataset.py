"""A recursion task's sampled data: every split's inputs and answers as tokens, saved as JSON.

A run computes its dataset once, when it starts (:func:`build_dataset` runs the function, a
user's file included), and stores it (:func:`save_dataset`); resuming, evaluating and reporting
read the stored tokens back (:func:`load_dataset`) and never run a function again. Loading checks
that every stored input and answer is a well-formed value of its kind.

File format (``dataset.json``)::

    {"format": "algolens-recursion-dataset/1", "function": "successor",
     "arg_kinds": ["bin"], "out_kind": "bin", "source_sha256": null, "seed": 0,
     "spec": {...SplitSpec...},
     "splits": {"train": {"inputs": ["B1 Z", ...], "answers": ["B0 B1 Z", ...]}, ...}}

Examples:
    >>> from algolens.tasks.recursion.functions import FUNCTIONS
    >>> from algolens.tasks.recursion.sampling import Sampling
    >>> spec = SplitSpec(Sampling(1, 3), n_train=4, n_test=2, n_ood=2, ood_max_size=5)
    >>> ds = build_dataset(FUNCTIONS["successor"], spec, seed=0)
    >>> sorted(ds.splits), len(ds.splits["train"].inputs)
    (['ood', 'rare', 'test', 'train'], 4)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from algolens.errors import CheckpointError, SpecError
from algolens.fileio import write_json_atomic
from algolens.tasks.recursion.functions import FUNCTIONS, RecursiveFunction
from algolens.tasks.recursion.sampling import Sampling
from algolens.tasks.recursion.splits import SPLITS, SplitSpec, shortfall, split_inputs
from algolens.tasks.recursion.tokens import KINDS, Kind, encode, encode_args, parse
from algolens.tasks.recursion.user import call_tokens

FORMAT = "algolens-recursion-dataset/1"


@dataclass(frozen=True)
class SplitData:
    """One split: ``inputs[i]`` and ``answers[i]`` are token lists (prompt and answer)."""

    inputs: list[list[str]]
    answers: list[list[str]]


@dataclass(frozen=True)
class RecursionDataset:
    """The sampled data of one run.

    Attributes:
        function: the function's name (``"successor"`` or ``"FILE.py:NAME"``).
        arg_kinds, out_kind: kinds of the arguments and of the answer.
        seed: the data seed the splits were drawn with.
        spec: the :class:`SplitSpec` they were drawn from.
        splits: ``{"train", "test", "ood", "rare"}`` -> :class:`SplitData`.
        source_sha256: SHA-256 of a user function's file (``None`` for built-ins).
    """

    function: str
    arg_kinds: tuple[Kind, ...]
    out_kind: Kind
    seed: int
    spec: SplitSpec
    splits: dict[str, SplitData]
    source_sha256: str | None = None

    def shortfall(self) -> dict[str, tuple[int, int]]:
        """``{split: (held, asked)}`` for the held-out splits holding fewer distinct inputs than
        the spec asks for (:func:`~.splits.shortfall`)."""
        return shortfall(self.spec, {name: len(s.inputs) for name, s in self.splits.items()})


def build_dataset(
    f: RecursiveFunction,
    spec: SplitSpec,
    seed: int,
    source_sha256: str | None = None,
    **limits: float,
) -> RecursionDataset:
    """Sample every split and compute its answers with ``f``.

    A user function runs in a worker process under
    :func:`algolens.tasks.recursion.user.call_tokens` (``limits`` are its
    ``limit_s``/``total_s``); the built-ins are called directly.

    Raises:
        UserFunctionError: the function raises, runs too long or returns a wrong value.
        ConfigError: the test or rare split finds no input outside train.
    """
    splits: dict[str, SplitData] = {}
    out_kind = f.out_kind
    for split in SPLITS:
        inputs = split_inputs(spec, f.arg_kinds, split, seed, f.rare)
        if f.name in FUNCTIONS and FUNCTIONS[f.name] is f:
            answers = [encode(f.fn(*args)) for args in inputs]
        else:
            answers, kind = call_tokens(f, inputs, **limits)
            out_kind = out_kind or kind
            f = RecursiveFunction(f.name, f.fn, f.arg_kinds, out_kind, f.rare)
        splits[split] = SplitData([encode_args(x) for x in inputs], answers)
    return RecursionDataset(
        f.name, tuple(f.arg_kinds), out_kind or "bin", seed, spec, splits, source_sha256
    )


def dataset_to_json(ds: RecursionDataset) -> dict[str, Any]:
    """The JSON object of ``ds`` (see the module docstring)."""
    spec = asdict(ds.spec)
    return {
        "format": FORMAT,
        "function": ds.function,
        "arg_kinds": list(ds.arg_kinds),
        "out_kind": ds.out_kind,
        "source_sha256": ds.source_sha256,
        "seed": ds.seed,
        "spec": spec,
        "splits": {
            name: {
                "inputs": [" ".join(x) for x in s.inputs],
                "answers": [" ".join(a) for a in s.answers],
            }
            for name, s in ds.splits.items()
        },
    }


def dataset_sha256(ds: RecursionDataset) -> str:
    """SHA-256 of the dataset's canonical JSON (sorted keys, no spaces); a run's config pins it."""
    blob = json.dumps(dataset_to_json(ds), sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def save_dataset(ds: RecursionDataset, path: str | Path) -> None:
    """Write ``ds`` to ``path`` atomically as JSON."""
    write_json_atomic(path, dataset_to_json(ds))


def load_dataset(path: str | Path) -> RecursionDataset:
    """Read a dataset written by :func:`save_dataset`; runs nothing.

    Raises:
        CheckpointError: a missing, unreadable, foreign or malformed file (the message names the
            first wrong field, split or example).
    """
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read dataset {str(path)!r}: {exc}") from None
    try:
        return dataset_from_json(obj)
    except (KeyError, TypeError, ValueError, SpecError) as exc:
        detail = " ".join(str(exc).split())
        raise CheckpointError(f"dataset {str(path)!r} is malformed: {detail}") from None


def dataset_from_json(obj: Any) -> RecursionDataset:
    """Inverse of :func:`dataset_to_json`; checks every example's tokens.

    Raises:
        ValueError, KeyError, TypeError, SpecError: a foreign or malformed object.
    """
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ValueError(f"not an {FORMAT} file")
    arg_kinds = tuple(obj["arg_kinds"])
    out_kind = obj["out_kind"]
    if not arg_kinds or any(k not in ("bin", "tree") for k in arg_kinds) or out_kind not in KINDS:
        raise ValueError(f"bad kinds {list(arg_kinds)} -> {out_kind!r}")
    raw = dict(obj["spec"])
    spec = SplitSpec(**{**raw, "sampling": Sampling(**raw["sampling"])})
    splits: dict[str, SplitData] = {}
    for name in SPLITS:
        s = obj["splits"][name]
        inputs = [x.split() for x in s["inputs"]]
        answers = [a.split() for a in s["answers"]]
        if len(inputs) != len(answers):
            raise ValueError(f"split {name!r} has {len(inputs)} inputs, {len(answers)} answers")
        for i, (x, a) in enumerate(zip(inputs, answers)):
            try:
                parse(x, arg_kinds)
                parse(a, (out_kind,))
            except SpecError as exc:
                raise ValueError(f"split {name!r} example {i}: {exc}") from None
        splits[name] = SplitData(inputs, answers)
    seed = obj["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    sha = obj["source_sha256"]
    if sha is not None and not isinstance(sha, str):
        raise ValueError("source_sha256 must be a string or null")
    return RecursionDataset(obj["function"], arg_kinds, out_kind, seed, spec, splits, sha)

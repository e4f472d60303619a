"""A path-finding run's sampled data: token rows, stored once in the run folder (safetensors).

:func:`build_dataset` draws ``n_examples`` distinct trees (distinct prompts, so no test prompt
is in the training set) from ``random.Random(data_seed)``; the first ``n_train`` rows are the
training split, the rest the test split. :func:`save_dataset` writes ``pathfinding.safetensors``
(tensor ``tokens`` ``[n_examples, 4N-1]`` uint8, right-padded with ','); :func:`dataset_sha256`
pins it in the run's config, and :func:`load_dataset` checks every row's shape and vocabulary
(resuming and analyses read the stored rows, never the generator).

Examples:
    >>> ds = build_dataset(PathfindingArgs(nodes=5, n_examples=20))
    >>> tuple(ds.tokens.shape), ds.n_train
    ((20, 19), 18)
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from algolens.errors import CheckpointError, ConfigError
from algolens.fileio import write_bytes_atomic
from algolens.tasks.pathfinding.generate import sample_tree
from algolens.tasks.pathfinding.settings import PathfindingArgs
from algolens.tasks.pathfinding.tokens import COMMA, Vocab, encode_path, encode_prompt

FORMAT = "algolens-pathfinding-dataset/1"
DATASET_FILE = "pathfinding.safetensors"
MAX_DRAWS_PER_EXAMPLE = 20
MAX_MISSES = 10_000
"""Draws in a row that found no new tree before the node count is declared too small."""


@dataclass(frozen=True)
class PathfindingDataset:
    """Token rows of one run.

    Attributes:
        args: the settings they were drawn with.
        tokens: ``[n_examples, 4N-1]`` int64, prompt then path, padded with ','.
        n_train: rows ``0..n_train-1`` train, the rest test.
    """

    args: PathfindingArgs
    tokens: torch.Tensor
    n_train: int

    @property
    def vocab(self) -> Vocab:
        return Vocab(self.args.nodes)

    @property
    def path_len(self) -> torch.Tensor:
        """``[n_examples]`` path lengths L (answer tokens)."""
        return (self.tokens[:, self.vocab.prompt_len :] != COMMA).sum(1)


def build_dataset(args: PathfindingArgs) -> PathfindingDataset:
    """Draw the dataset of ``args``.

    Raises:
        ConfigError: the node count has fewer distinct trees than ``n_examples`` asks for (seen
            as too many repeated draws).
    """
    rng = random.Random(args.data_seed)
    vocab = Vocab(args.nodes)
    rows: dict[tuple[int, ...], list[int]] = {}
    draws = misses = 0
    while len(rows) < args.n_examples:
        draws += 1
        if draws > MAX_DRAWS_PER_EXAMPLE * args.n_examples or misses > MAX_MISSES:
            raise ConfigError(
                f"found only {len(rows)} distinct trees of {args.nodes} nodes in {draws - 1} "
                f"draws; ask for fewer examples (n_examples) or more nodes"
            )
        tree = sample_tree(args.nodes, rng, args.edge_order)
        prompt = tuple(encode_prompt(tree, vocab))
        misses = misses + 1 if prompt in rows else 0
        if prompt not in rows:
            rows[prompt] = encode_path(tree.path(), vocab)
    tokens = torch.full((args.n_examples, vocab.width), COMMA, dtype=torch.int64)
    for i, (prompt, path) in enumerate(rows.items()):
        row = [*prompt, *path]
        tokens[i, : len(row)] = torch.tensor(row)
    return PathfindingDataset(args, tokens, args.n_train)


def _meta(ds: PathfindingDataset) -> str:
    return json.dumps({"format": FORMAT, "args": ds.args.model_dump(mode="json")}, sort_keys=True)


def dataset_sha256(ds: PathfindingDataset) -> str:
    """SHA-256 of the settings and the token bytes."""
    h = hashlib.sha256(_meta(ds).encode())
    h.update(ds.tokens.to(torch.uint8).contiguous().numpy().tobytes())
    return h.hexdigest()


def save_dataset(ds: PathfindingDataset, path: str | Path) -> None:
    """Write ``ds`` atomically (uint8 tokens, settings in the metadata)."""
    blob = save(
        {"tokens": ds.tokens.to(torch.uint8).contiguous()}, metadata={"algolens": _meta(ds)}
    )
    write_bytes_atomic(path, blob)


def load_dataset(path: str | Path) -> PathfindingDataset:
    """Read a stored dataset back.

    Raises:
        CheckpointError: a missing or unreadable file, another format, or rows of the wrong
            width or outside the vocabulary.
    """
    path = Path(path)
    try:
        from safetensors import safe_open

        with safe_open(str(path), "pt") as fh:
            meta = json.loads((fh.metadata() or {}).get("algolens", "{}"))
        tokens = load_file(str(path))["tokens"].to(torch.int64)
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT}")
        args = PathfindingArgs(**meta["args"])
    except (OSError, SafetensorError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a readable path-finding dataset ({exc})") from None
    vocab = Vocab(args.nodes)
    if tuple(tokens.shape) != (args.n_examples, vocab.width) or int(tokens.max()) >= len(vocab):
        raise CheckpointError(
            f"{path}: tokens {tuple(tokens.shape)} do not fit {args.n_examples} rows of "
            f"{vocab.width} tokens below {len(vocab)}"
        )
    return PathfindingDataset(args, tokens, args.n_train)

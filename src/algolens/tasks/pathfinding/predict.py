"""`predict` for path-finding runs: a trained model's greedy path for one prompt in the paper's
text format (``"2>0,2>1,1>3|3:2"``), beside the true path.

Any valid tree of the run's node count is accepted, including shapes the generator rarely draws
(a single chain). The model writes up to N-1 target tokens; its path ends at the first token that
names the goal.
"""

from __future__ import annotations

from typing import Any

import torch

from algolens.errors import ConfigError
from algolens.store import RunStore
from algolens.tasks.pathfinding.task import pack_rows
from algolens.tasks.pathfinding.tokens import COMMA, Vocab, encode_prompt
from algolens.tasks.pathfinding.tree import format_path, format_prompt, parse_prompt
from algolens.tasks.sequence import greedy_decode
from algolens.train.load import load_run_model, run_config


def predict_pathfinding(
    store: RunStore, run: str, text: str, instance: int = 0, *, epoch: int | None = None
) -> dict[str, Any]:
    """Greedy path of seed ``instance`` of path-finding run ``run`` for prompt ``text``, at the
    final weights or (``epoch``) that checkpoint's.

    Returns:
        ``{"input", "prediction", "expected", "correct"}`` (paths as ``">a>b>goal"`` text).

    Raises:
        SpecError: a malformed prompt or a tree of another node count.
        ConfigError: an instance out of range.
    """
    config = run_config(store, run)
    assert config.pathfinding is not None
    n = config.pathfinding.nodes
    if not 0 <= instance < config.n_inst:
        raise ConfigError(f"--instance must lie in 0..{config.n_inst - 1}, got {instance}")
    tree = parse_prompt(text, n)
    vocab = Vocab(n)
    _, model = load_run_model(store, run, epoch)
    row = torch.full((1, vocab.width), COMMA, dtype=torch.int64)
    row[0, : vocab.prompt_len] = torch.tensor(encode_prompt(tree, vocab))
    data = pack_rows(row, vocab)
    with torch.no_grad():
        written = greedy_decode(model, data, config.n_inst, steps=n - 1)  # [inst, 1, N-1]
    path = [tree.root]
    for t in written[instance, 0].tolist():
        node = vocab.node_of(t) if vocab.is_target(t) else None
        if node is None:  # not a target token: the model's path stops here
            break
        path.append(node)
        if node == tree.goal:
            break
    prediction = format_path(path) + ("" if path[-1] == tree.goal else " (never reaches the goal)")
    expected = format_path(tree.path())
    return {
        "input": format_prompt(tree),
        "prediction": prediction,
        "expected": expected,
        "correct": prediction == expected,
    }

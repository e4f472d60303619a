"""One-step lookahead in path-finding models (Brinkmann et al. 2024), measured at the output.

Brinkmann et al. find that the model looks one step ahead: among the children of the current
node it prefers those that have children of their own. Measured here on the model's answer at
every scored step whose current node ``c`` has two children: the next node ``n`` (on the path)
and its sibling ``s`` (a wrong answer). If the model prefers children with children, ``s`` gets
more log-probability when it has children than when it is a leaf. The steps are split by
whether ``n`` is the goal (a leaf) or not, since that changes what competes with ``s``; the
paper's reproduction module compares the two groups of each stratum.

Examples:
    >>> from algolens.tasks.pathfinding.tokens import Vocab, encode_path, encode_prompt
    >>> from algolens.tasks.pathfinding.tree import parse_prompt
    >>> v = Vocab(5); t = parse_prompt("0>1,0>2,1>3,1>4|3:0", 5)
    >>> row = torch.tensor([encode_prompt(t, v) + encode_path(t.path(), v)])
    >>> logits = torch.zeros(1, v.width - 1, len(v))
    >>> got = sibling_logprobs(logits, row[:, :-1], v)
    >>> [(g["step"], g["next_is_goal"], g["sibling_has_children"]) for g in got]
    [(0, False, False), (1, True, False)]
"""

from __future__ import annotations

from typing import Any

import torch

from algolens.tasks.pathfinding.tokens import Vocab, decode_prompt


def sibling_logprobs(logits: torch.Tensor, tokens: torch.Tensor, vocab: Vocab) -> list[dict]:
    """Per scored step with a sibling: ``{"row", "step", "next_is_goal",
    "sibling_has_children", "logprob"}`` (the sibling's log-probability).

    Args:
        logits: ``[N, T, V]`` of the model on ``tokens [N, T]`` (inputs: prompt and path).
    """
    logp = torch.log_softmax(logits.double(), -1)
    out = []
    for r, row in enumerate(tokens.tolist()):
        tree = decode_prompt(row[: vocab.prompt_len], vocab)
        children: dict[int, list[int]] = {}
        for a, b in tree.edges:
            children.setdefault(a, []).append(b)
        path = tree.path()
        for j in range(len(path) - 1):
            c, n = path[j], path[j + 1]
            sib = [x for x in children.get(c, []) if x != n]
            if len(sib) != 1:
                continue
            s = sib[0]
            out.append(
                {"row": r, "step": j, "next_is_goal": n == tree.goal,
                 "sibling_has_children": s in children,
                 "logprob": float(logp[r, vocab.root_pos + j, vocab.tgt(s)])}
            )  # fmt: skip
    return out


def lookahead(logits: torch.Tensor, tokens: torch.Tensor, vocab: Vocab) -> dict[str, Any]:
    """The sibling's log-probabilities grouped for the lookahead test.

    Returns:
        ``{"inner": {"with_children": [..], "leaf": [..]}, "last": {...}}``: steps whose next
        node is not the goal (``inner``) or is (``last``), by whether the sibling has children.
    """
    groups: dict[str, dict[str, list[float]]] = {
        k: {"with_children": [], "leaf": []} for k in ("inner", "last")
    }
    for g in sibling_logprobs(logits, tokens, vocab):
        kind = "with_children" if g["sibling_has_children"] else "leaf"
        groups["last" if g["next_is_goal"] else "inner"][kind].append(g["logprob"])
    return groups

"""Universality over seeds and runs: tallies of which irreps networks learn (Chughtai et al.).

Input: per-instance metric dicts (:func:`algolens.analysis.runs.run_irreps` ``["instances"]``,
from one run of K seeds or several runs concatenated), optionally with the ``learning_order``
of each (:mod:`algolens.analysis.progress`). Output of :func:`tally`:

* ``key_frequency``: for every irrep label, the number of instances where it is key;
* ``n_key``: the distribution of the number of key irreps (``{count: instances}``);
* ``key_sets``: each distinct key-irrep set with its count, most frequent first;
* ``first_learned``: how often each irrep is the first in the learning order (instances with an
  order only);
* ``logit_fve``, ``W_U_fve``: min, median, max and the sorted values.

:data:`PAPER_S5_MLP` holds the paper's 50-seed S5 MLP tallies (``../shared/papers.md``) and
:func:`compare_with_paper` sets ours beside them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

PAPER_S5_MLP: dict[str, Any] = {
    "instances": 50,
    "key_frequency": {
        "trivial": 0,
        "sign": 49,
        "standard": 49,
        "standard⊗sign": 17,
        "(3,2)": 18,
        "(2,2,1)": 10,
        "(3,1,1)": 0,
    },
    "distinct_key_sets": 9,
    "logit_fve": {"min": 0.31, "max": 0.86},
    "W_U_fve": {"min": 0.90, "max": 0.99},
}
"""Chughtai et al.'s 50 S5 MLP seeds (250k epochs, paper recipe), from their per-seed data."""


def _spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"min": None, "median": None, "max": None, "values": []}
    v = sorted(float(x) for x in values)
    return {"min": v[0], "median": float(np.median(v)), "max": v[-1], "values": v}


def tally(instances: list[dict[str, Any]]) -> dict[str, Any]:
    """The universality tallies of the module docstring over ``instances``."""
    labels: list[str] = []
    for inst in instances:
        labels += [lab for lab in inst["similarity"] if lab not in labels]
    keys = [tuple(inst["key_irreps"]) for inst in instances]
    freq = {lab: sum(lab in k for k in keys) for lab in labels}
    sets = Counter(tuple(sorted(k, key=labels.index)) for k in keys)
    orders = [inst["learning_order"] for inst in instances if inst.get("learning_order")]
    return {
        "instances": len(instances),
        "key_frequency": freq,
        "n_key": dict(sorted(Counter(len(k) for k in keys).items())),
        "key_sets": [
            {"set": list(s), "count": c}
            for s, c in sorted(sets.items(), key=lambda sc: (-sc[1], sc[0]))
        ],
        "first_learned": dict(Counter(o[0] for o in orders).most_common()),
        "logit_fve": _spread([inst["logit_fve"] for inst in instances]),
        "W_U_fve": _spread([inst["weight_fve"]["W_U"] for inst in instances]),
    }


def compare_with_paper(ours: dict[str, Any], paper: dict[str, Any] = PAPER_S5_MLP) -> list[dict]:
    """Rows ``{"quantity", "paper", "ours"}``: each irrep's key frequency as a fraction of the
    instances, the number of distinct key sets, and the logit and W_U FVE ranges."""
    rows = []
    n_ours, n_paper = ours["instances"], paper["instances"]
    for lab, count in paper["key_frequency"].items():
        mine = ours["key_frequency"].get(lab, 0)
        rows.append(
            {
                "quantity": f"{lab} key",
                "paper": f"{count}/{n_paper} ({count / n_paper:.0%})",
                "ours": f"{mine}/{n_ours} ({mine / n_ours:.0%})" if n_ours else "-",
            }
        )
    rows.append(
        {
            "quantity": "distinct key-irrep sets",
            "paper": str(paper["distinct_key_sets"]),
            "ours": str(len(ours["key_sets"])),
        }
    )
    for name in ("logit_fve", "W_U_fve"):
        p, o = paper[name], ours[name]
        rows.append(
            {
                "quantity": f"{name} range",
                "paper": f"{p['min']:.2f}–{p['max']:.2f}",
                "ours": "-" if o["min"] is None else f"{o['min']:.2f}–{o['max']:.2f}",
            }
        )
    return rows

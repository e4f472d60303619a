"""Universality over seeds and runs: tallies of which irreps networks learn (Chughtai et al.).

Input: per-instance metric dicts (:func:`algolens.analysis.runs.run_irreps` ``["instances"]``,
from one run of K seeds or several runs concatenated), optionally with the ``learning_order``
of each (:mod:`algolens.analysis.composition.progress`). Output of :func:`tally`:

* ``key_frequency``: for every irrep label, the number of instances where it is key;
* ``n_key``: the distribution of the number of key irreps (``{count: instances}``);
* ``key_sets``: each distinct key-irrep set with its count, most frequent first;
* ``first_learned``: how often each irrep is the first in the learning order (instances with an
  order only);
* ``logit_fve``, ``W_U_fve``: min, median, max and the sorted values.

:func:`compare_with_paper` sets ours beside a paper's tallies in the same shape (the paper's own
figures live in :mod:`algolens.papers`, e.g. ``algolens.papers.chughtai2023.PAPER_S5_MLP``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np


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


def compare_with_paper(ours: dict[str, Any], paper: dict[str, Any]) -> list[dict]:
    """Rows ``{"quantity", "paper", "ours"}``: each irrep's key frequency as a fraction of the
    instances, the number of distinct key sets, and the logit and W_U FVE ranges.

    ``paper`` has ``instances``, ``key_frequency`` ``{label: count}``, ``distinct_key_sets`` and
    ``logit_fve``, ``W_U_fve`` as ``(min, max)``."""
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
        (p_min, p_max), o = paper[name], ours[name]
        rows.append(
            {
                "quantity": f"{name} range",
                "paper": f"{p_min:.2f}–{p_max:.2f}",
                "ours": "-" if o["min"] is None else f"{o['min']:.2f}–{o['max']:.2f}",
            }
        )
    return rows

"""The built-in analysis methods, registered in :mod:`algolens.analysis.methods` in this order
(the order of ``algolens analyze --help`` and of the run report's method sections).

Each entry names its code by ``module:function`` (:func:`~algolens.analysis.methods.lazy`), so
reading this list imports no analysis code. Schema versions are those of the stored analyses
written so far: bump one only when that method's stored output changes.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from algolens.analysis.methods import InstanceFn, Method, lazy

_COMPOSITION = "(e.g. `algolens train --group S5`)"
_RECURSION = "(e.g. `algolens train --task recursion --function successor`)"
_PATHFINDING = "(e.g. `algolens train --task pathfinding`)"


def coset_method(
    name: str,
    per_instance: str | InstanceFn,
    help_: str = "",
    *,
    combine: str | Callable[[list[dict[str, Any]]], dict[str, Any]] | None = None,
    section: str | None = None,
    show: str | None = None,
) -> Method:
    """A method of the ``cosets`` family: on a group composition MLP run, ``per_instance``
    (``fn(one-instance MLP, group) -> JSON dict``, or its ``module:function``) on every instance,
    stored under ``name`` (:func:`algolens.analysis.runs.run_coset_method`); ``combine`` adds
    entries computed from the per-instance results; ``show`` (``module:function``) prints the
    outputs (default: one row of numbers per instance). Registered once
    (:func:`~algolens.analysis.methods.register_method`), it is an ``analyze`` method, a stored
    schema, a coset method of :func:`algolens.analysis.composition.verdict.run_method` and an
    analysis
    computed before a run's report when missing
    (:func:`algolens.analysis.ensure.ensure_defaults`)."""
    return Method(
        name=name,
        schema=1,
        help=help_,
        family="cosets",
        requires=frozenset({"group"}),
        models=frozenset({"mlp"}),
        needs="a group composition MLP run (separate left and right pre-activations) "
        + _COMPOSITION,
        options=frozenset({"--checkpoint"}),
        check=partial(lazy("algolens.analysis.runs:check_coset"), name),
        compute=partial(lazy("algolens.analysis.runs:compute_coset"), name),
        show=lazy(show or "algolens.cli.analyze:show_coset"),
        section=section,
        per_instance=lazy(per_instance) if isinstance(per_instance, str) else per_instance,
        combine=lazy(combine) if isinstance(combine, str) else combine,
        ensure=partial(lazy("algolens.analysis.runs:ensure_coset"), name),
    )


def _causal(name: str, help_: str = "", options: frozenset[str] = frozenset()) -> Method:
    return Method(
        name=name,
        schema=1,
        help=help_,
        family="causal",
        requires=frozenset({"sequence"}),
        needs=f"a sequence-task run (recursion or pathfinding) {_RECURSION}",
        options=options,
        check=partial(lazy("algolens.analysis.causal.run:check_causal"), name),
        compute=partial(lazy("algolens.analysis.causal.run:compute_causal"), name),
        show=partial(lazy("algolens.cli.analyze_causal:show"), name),
    )


BUILT_IN: tuple[Method, ...] = (
    Method(
        name="irreps",
        schema=2,  # 1: the unstored MLP-only metrics
        help=": Chughtai et al.'s metrics (key irreps, logit/weight/neuron FVE, restricted and "
        "excluded loss), over checkpoints with --checkpoints, tallied over seeds and runs with "
        "--tally.",
        requires=frozenset({"group"}),
        models=frozenset({"mlp", "transformer"}),
        needs=f"a group composition MLP or transformer run {_COMPOSITION}",
        called="the irreps analysis",
        options=frozenset({"--checkpoints", "--tally", "--checkpoint"}),
        check=lazy("algolens.analysis.runs:check_irreps"),
        compute=lazy("algolens.analysis.runs:compute_irreps"),
        cli=lazy("algolens.cli.analyze_irreps:irreps_method"),
        ensure=lazy("algolens.analysis.runs:ensure_irreps"),
    ),
    coset_method(
        "cosets",
        "algolens.analysis.composition.verdict:cosets_json",
        ": Stander et al.'s coset concentration, interventions, and the joint irreps/cosets "
        "verdict (MLP runs).",
        section="algolens.report.cosets",
    ),
    coset_method(
        "interventions",
        "algolens.analysis.composition.verdict:interventions_json",
        combine="algolens.analysis.composition.verdict:interventions_mean",
        show="algolens.cli.analyze:show_interventions",
    ),
    coset_method("verdict", "algolens.analysis.composition.verdict:verdict"),
    Method(
        name="failures",
        schema=1,
        help=" (recursion runs): rules predicting the inputs each seed answers wrong, fitted on "
        "one input set and scored (recall, precision) on a fresh one.",
        requires=frozenset({"recursive-function"}),
        needs=f"a recursion run {_RECURSION}",
        options=frozenset({"--inputs"}),
        check=lazy("algolens.analysis.recursion.failures_run:check_failures"),
        compute=lazy("algolens.analysis.recursion.failures_run:compute_failures"),
        show=lazy("algolens.cli.analyze:show_failures"),
    ),
    Method(
        name="shortcuts",
        schema=1,
        help=" (recursion runs): the best attention rule per answer token and head, and how well "
        "shortcut hypotheses predict each seed's greedy answers, right and wrong.",
        requires=frozenset({"recursive-function"}),
        needs=f"a recursion run {_RECURSION}",
        options=frozenset({"--inputs", "--hypothesis"}),
        check=lazy("algolens.analysis.recursion.shortcuts:check_shortcuts"),
        compute=lazy("algolens.analysis.recursion.shortcuts:compute_shortcuts"),
        show=lazy("algolens.cli.analyze:show_shortcuts"),
    ),
    Method(
        name="mechanism",
        schema=3,  # 2: register_probes; 3: per-prompt goal/probe data, lookahead, patching
        help=" (path-finding runs): edge concatenation, goal mover, deduction heads, tuned-lens "
        "depth, registers and causal scrubbing per layer.",
        requires=frozenset({"tree-paths"}),
        needs=f"a pathfinding run {_PATHFINDING}",
        compute=lazy("algolens.analysis.pathfinding.mechanism_run:compute_mechanism"),
        show=lazy("algolens.cli.analyze_mechanism:show"),
    ),
    _causal(
        "probes",
        " (recursion and path-finding runs): linear probes per layer and position with a "
        "control task, activation patching, logit and tuned lens, causal scrubbing "
        "(docs/causal.md).",
    ),
    _causal("patching"),
    _causal("lens"),
    _causal("scrub", options=frozenset({"--hypothesis"})),
    Method(
        name="logic",
        schema=2,  # 2: requantisation proofs of transformers
        section="algolens.report.logic",
        recompute="delete it: the next `algolens reproduce merrill2023` recomputes it",
    ),
)
"""The built-in methods (``logic`` is stored by ``algolens reproduce merrill2023``, not by
``algolens analyze``: :mod:`algolens.logic.verify_run`)."""

"""Registry of run-report sections: one module per analysis area, imported lazily.

Each registered module exposes ``section(report: HtmlReport, store: RunStore, run_id: str) ->
bool``, which appends that area's section to ``report`` from the run's STORED analyses (never
computing one) and returns True, or adds nothing and returns False when the run has none. A
module that does not exist yet (its analysis has not landed) is skipped; any other import error,
including a missing module that the section module itself imports, is raised.

Examples:
    >>> list(SECTIONS)
    ['cosets', 'recursion', 'pathfinding', 'logic']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from algolens.report.html import HtmlReport
from algolens.store import RunStore

SectionFn = Callable[[HtmlReport, RunStore, str], bool]

SECTIONS: dict[str, str] = {
    "cosets": "algolens.report.cosets",
    "recursion": "algolens.report.recursion",
    "pathfinding": "algolens.report.pathfinding",
    "logic": "algolens.report.logic",
}
"""Section name -> module, in the order the run report shows them."""


def load_section(module: str) -> SectionFn | None:
    """The ``section`` function of ``module``, or None when that exact module does not exist."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise
    return mod.section


def add_sections(
    report: HtmlReport,
    store: RunStore,
    run_id: str,
    sections: dict[str, str] | None = None,
) -> list[str]:
    """Call every registered section (default :data:`SECTIONS`) in order; return the names of
    those that added something."""
    shown = []
    for name, module in (SECTIONS if sections is None else sections).items():
        fn = load_section(module)
        if fn is not None and fn(report, store, run_id):
            shown.append(name)
    return shown

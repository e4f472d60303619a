"""Registry of run-report sections: one module per analysis area, imported lazily.

The sections are the task sections (each task's ``report_section`` in the task registry: what a
task's run summary shows, whatever was analysed) followed by the section of every registered
analysis method that has one (:attr:`algolens.analysis.methods.Method.section`, in registry
order), so a method registered with :func:`~algolens.analysis.methods.register_method` shows in
every run report. Each registered module exposes ``section(report: HtmlReport, store: RunStore,
run_id: str) -> bool``, which appends that area's section to ``report`` from the run's STORED
analyses (never computing one) and returns True, or adds nothing and returns False when the run
has none. A module that does not exist yet (its analysis has not landed) is skipped; any other
import error, including a missing module that the section module itself imports, is raised.

Examples:
    >>> list(SECTIONS)
    ['recursion', 'pathfinding', 'cosets', 'logic']
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping

from algolens.analysis.methods import methods
from algolens.report.html import HtmlReport
from algolens.store import RunStore
from algolens.tasks.registry import report_sections

SectionFn = Callable[[HtmlReport, RunStore, str], bool]


def section_registry() -> dict[str, str | SectionFn]:
    """Section name -> module (or function), in the order the run report shows them: each task's
    (:func:`algolens.tasks.registry.report_sections`, under the task's name), then each
    registered method's (:attr:`~algolens.analysis.methods.Method.section`)
    under the method's name (a module shared by several methods once)."""
    out: dict[str, str | SectionFn] = dict(report_sections())
    for m in methods():
        if m.section is not None and m.section not in out.values():
            out[m.name] = m.section
    return out


class _Sections(Mapping[str, "str | SectionFn"]):
    """:func:`section_registry` as a mapping read at each use (later methods included)."""

    def __getitem__(self, name: str) -> str | SectionFn:
        return section_registry()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(section_registry())

    def __len__(self) -> int:
        return len(section_registry())


SECTIONS: Mapping[str, str | SectionFn] = _Sections()
"""Section name -> module (or function), in the order the run report shows them."""


def load_section(module: str | SectionFn) -> SectionFn | None:
    """The ``section`` function of ``module`` (a function is returned as it is), or None when
    that exact module does not exist."""
    if callable(module):
        return module
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
    sections: Mapping[str, str | SectionFn] | None = None,
) -> list[str]:
    """Call every registered section (default :func:`section_registry`) in order; return the
    names of those that added something."""
    shown = []
    for name, module in (section_registry() if sections is None else sections).items():
        fn = load_section(module)
        if fn is not None and fn(report, store, run_id):
            shown.append(name)
    return shown

"""Where :mod:`algolens.report.sections` finds the path-finding section: it lives with its task,
:mod:`algolens.tasks.pathfinding.report` (this module re-exports it until sections.py names
that)."""

from algolens.tasks.pathfinding.report import PAPER_LENS, section

__all__ = ["PAPER_LENS", "section"]

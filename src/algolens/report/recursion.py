"""Where :mod:`algolens.report.sections` finds the recursion section: it lives with its task,
:mod:`algolens.tasks.recursion.report` (this module re-exports it until sections.py names that)."""

from algolens.report.stored import stored_analysis
from algolens.tasks.recursion.report import section

__all__ = ["section", "stored_analysis"]

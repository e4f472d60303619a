"""Outside ``algolens.tasks``, code asks the task registry (or ``task_traits``) about a task; it
never compares a task's name (``config.task == "recursion"``) or dispatches on one."""

from __future__ import annotations

import ast
from pathlib import Path

from algolens.tasks.registry import task_names

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "algolens"

NOT_YET_CONVERTED: tuple[str, ...] = ()
"""Paths (relative to ``src/algolens``, by prefix) still being moved onto the registry by another
change; empty this once it has landed."""


def task_name_uses(source: str, names: frozenset[str]) -> list[int]:
    """Line numbers where a task name is compared against (``==``, ``!=``, ``in``, a ``match``
    case) or keys a dict literal (a dispatch table by task)."""

    def named(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant):
            return node.value in names
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return any(named(e) for e in node.elts)
        return False

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(named(n) for n in (node.left, *node.comparators)):
            lines.append(node.lineno)
        elif isinstance(node, ast.MatchValue) and named(node.value):
            lines.append(node.lineno)
        elif isinstance(node, ast.Dict) and any(k is not None and named(k) for k in node.keys):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_checker_finds_comparisons_and_dispatch_tables():
    names = frozenset({"recursion"})
    src = (
        'a = config.task == "recursion"\n'
        'b = task in ("x", "recursion")\n'
        'c = {"recursion": f}[task]\n'
        'd = make_config(task="recursion")\n'
        'match task:\n    case "recursion":\n        pass\n'
    )
    assert task_name_uses(src, names) == [1, 2, 3, 6]


def test_no_task_name_comparisons_outside_the_task_packages():
    names = frozenset(task_names())
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.startswith("tasks/") or rel.startswith(NOT_YET_CONVERTED):
            continue
        found += [f"{rel}:{n}" for n in task_name_uses(path.read_text(), names)]
    assert found == [], "ask algolens.tasks.registry instead: " + ", ".join(found)

"""Which packages may import which: the foundations never reach up, and only the top reaches
the paper reproductions. Every ``import algolens.X`` / ``from algolens.X`` in the source is read
with ``ast`` (function-local imports included), so a lazy import cannot hide an upward arrow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "algolens"

MAY_IMPORT: dict[str, set[str]] = {
    # package -> the algolens packages it may import (modules at the top level are shared helpers)
    "papers": set(),
    "store": set(),
    "models": set(),
    "groups": set(),
    "train": {"groups", "models", "store", "tasks"},
    "analysis": {"groups", "models", "store", "tasks", "train"},
    "logic": {"analysis", "models", "store", "tasks", "train"},
    "report": {"analysis", "groups", "logic", "models", "papers", "store", "tasks", "train"},
}
"""Packages with a rule; ``reproductions``, ``sweep``, ``tasks`` and ``cli`` are above or beside
them."""

TOP_LEVEL_HELPERS = {p.stem for p in SRC.glob("*.py")}


def algolens_imports(package: str, src: Path = SRC) -> set[tuple[str, str]]:
    """``(file, imported package)`` for every algolens package ``package``'s files import."""
    found = set()
    for path in (src / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "algolens" and len(parts) > 1 and parts[1] != package:
                    found.add((str(path.relative_to(src)), parts[1]))
    return found


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_package_imports_only_what_lies_below_it(package):
    allowed = MAY_IMPORT[package] | TOP_LEVEL_HELPERS
    upward = sorted(
        f"{f} imports algolens.{t}" for f, t in algolens_imports(package) if t not in allowed
    )
    assert not upward, "\n".join(upward)


def test_only_the_cli_and_sweeps_reach_the_reproductions():
    packages = [p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()]
    reaching = sorted(
        f"{f} imports algolens.reproductions"
        for p in packages
        if p not in {"reproductions", "cli", "sweep"}
        for f, t in algolens_imports(p)
        if t == "reproductions"
    )
    assert not reaching, "\n".join(reaching)


def test_the_rule_catches_an_upward_import(tmp_path):
    bad = tmp_path / "algolens" / "models"
    bad.mkdir(parents=True)
    (bad / "x.py").write_text("def f():\n    from algolens.report.html import HtmlReport\n")
    assert algolens_imports("models", tmp_path / "algolens") == {("models/x.py", "report")}


ANALYSIS_BY_TASK = ("composition", "recursion", "pathfinding")
"""The analysis subpackages of one task kind each; they never import one another."""


def _analysis_imports(path: Path) -> set[str]:
    """The ``algolens.analysis`` subpackages ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[:2] == ["algolens", "analysis"] and len(parts) > 2:
                found.add(parts[2])
    return found


def test_task_analyses_do_not_import_each_other_and_the_causal_toolkit_imports_none():
    wrong = []
    for sub in ANALYSIS_BY_TASK:
        for path in (SRC / "analysis" / sub).rglob("*.py"):
            others = _analysis_imports(path) & (set(ANALYSIS_BY_TASK) - {sub})
            wrong += [f"{path.relative_to(SRC)} imports analysis.{o}" for o in sorted(others)]
    for path in (SRC / "analysis" / "causal").rglob("*.py"):
        if path.name != "run.py":  # run.py: the causal methods on stored runs, by task trait
            tasks = _analysis_imports(path) & set(ANALYSIS_BY_TASK)
            wrong += [f"{path.relative_to(SRC)} imports analysis.{t}" for t in sorted(tasks)]
    assert not wrong, "\n".join(wrong)


TRAIN_MAY_NAME_TASKS = {
    "train/config.py": "a config's task settings tables (RecursionArgs, PathfindingArgs)",
    "train/predict.py": "re-exports the composition parser (parse_pair, predict_composition)",
}
"""The only ``train`` modules that import a task package, and why."""


def _task_packages(src: Path = SRC) -> set[str]:
    return {p.name for p in (src / "tasks").iterdir() if (p / "__init__.py").exists()}


def test_the_trainer_imports_no_task_package():
    """The one trainer reads a task's TrainingData (train/data.py); the task packages build it,
    so no train module but the ones listed imports ``algolens.tasks.<task>``."""
    tasks = _task_packages()
    wrong = []
    for path in sorted((SRC / "train").rglob("*.py")):
        rel = str(path.relative_to(SRC))
        if rel in TRAIN_MAY_NAME_TASKS:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                parts = name.split(".")
                if parts[:2] == ["algolens", "tasks"] and len(parts) > 2 and parts[2] in tasks:
                    wrong.append(f"{rel} imports {name}")
    assert tasks >= {"composition", "recursion", "pathfinding"} and not wrong, "\n".join(wrong)

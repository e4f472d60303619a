"""The section registry: modules imported lazily, a module that does not exist skipped, any other
import error raised, sections called in order."""

from __future__ import annotations

import sys

import pytest

from algolens.report.html import HtmlReport
from algolens.report.sections import SECTIONS, add_sections, load_section


def _module(tmp_path, monkeypatch, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop(name, None)
    return name


def test_missing_module_is_skipped_but_a_broken_one_raises(tmp_path, monkeypatch):
    assert load_section("algolens.report.no_such_section_xyz") is None
    broken = _module(tmp_path, monkeypatch, "broken_sec", "import no_such_dependency_xyz\n")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_xyz"):
        load_section(broken)


def test_sections_run_in_order_and_report_what_they_added(tmp_path, monkeypatch):
    body = (
        "def section(report, store, run_id):\n"
        "    if run_id == 'none':\n        return False\n"
        "    report.paragraph(NAME + ' ' + run_id)\n    return True\n"
    )
    a = _module(tmp_path, monkeypatch, "sec_a", "NAME = 'A'\n" + body)
    b = _module(tmp_path, monkeypatch, "sec_b", "NAME = 'B'\n" + body)
    reg = {"b": b, "missing": "algolens.report.not_there_xyz", "a": a}
    report = HtmlReport("t")
    assert add_sections(report, None, "r1", reg) == ["b", "a"]
    text = report.render()
    assert text.index("<p>B r1</p>") < text.index("<p>A r1</p>")
    assert add_sections(HtmlReport("t"), None, "none", reg) == []


def test_registered_sections_that_exist_have_the_signature():
    import inspect

    for module in SECTIONS.values():
        fn = load_section(module)
        if fn is not None:
            assert list(inspect.signature(fn).parameters) == ["report", "store", "run_id"]

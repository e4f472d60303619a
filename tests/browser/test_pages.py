"""Every kind of page in a real headless Chromium, offline: no console errors, no network, every
plot drawn, tables present, index links resolve, HTML in user strings shown as text."""

from __future__ import annotations

import pytest

from tests.browser.browser import (
    console_errors,
    network_requests,
    open_page,
    screenshot,
    undrawn_views,
)
from tests.report.tiny_store import EVIL_LABEL, EVIL_NAME


def _check(browser, path, artifacts, kind: str, min_plots: int) -> None:
    open_page(browser, path)
    assert console_errors(browser) == []
    assert network_requests(browser) == []
    plots = browser.execute_script("return document.querySelectorAll('.plotly-graph-div').length")
    assert plots >= min_plots
    assert undrawn_views(browser) == []
    assert browser.execute_script("return document.querySelectorAll('table tr').length") > 1
    shot = screenshot(browser, artifacts / f"{kind}.png")
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize(
    "kind, min_plots",
    # composition: curves, similarity, universality, progress, cosets, logic n-scaling if stored
    [("composition", 5), ("recursion", 1), ("pathfinding", 1)],
)
def test_run_reports_render_offline(browser, pages, artifacts, kind, min_plots):
    _, written = pages
    _check(browser, written[kind], artifacts, f"run-{kind}", min_plots)


def test_pathfinding_report_draws_its_attention_view(browser, pages):
    _, written = pages
    open_page(browser, written["pathfinding"])
    views = browser.execute_script("return document.querySelectorAll('.circuitsvis').length")
    assert views >= 1 and undrawn_views(browser) == [] and console_errors(browser) == []
    text = browser.execute_script("return document.body.innerText")
    assert "Path-finding on 4-node trees" in text


def test_recursion_report_shows_its_stored_analyses(browser, pages):
    _, written = pages
    open_page(browser, written["recursion"])
    text = browser.execute_script("return document.body.innerText")
    assert "Structural recursion: successor" in text
    assert "No stored shortcut analysis" not in text and "No stored failure analysis" not in text


def test_user_strings_are_text_not_html(browser, pages):
    _, written = pages
    open_page(browser, written["composition"])
    body = browser.execute_script("return document.body.innerText")
    assert EVIL_LABEL in body and EVIL_NAME in body  # shown literally
    assert browser.execute_script("return document.querySelectorAll('b').length") == 0
    injected = browser.execute_script(
        "return Array.from(document.scripts).filter(s => s.textContent.includes('alert(1)')).length"
    )
    assert injected == 0


def test_index_lists_runs_sorts_filters_and_links_resolve(browser, pages, artifacts):
    from selenium.webdriver.common.by import By

    s, written = pages
    _check(browser, written["index"], artifacts, "index", 0)
    ids = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.sortable tbody tr'))"
        ".map(r => r.cells[0].textContent)"
    )
    runs = [s.composition, s.recursion, s.pathfinding, s.unfinished, *s.sweep_runs]
    assert sorted(ids) == sorted(runs)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "tbody a")]
    assert len(links) == 6  # 4 run reports (not the unfinished run's) and 2 sweep links
    for href in links:
        browser.get(href)
        assert browser.execute_script("return document.querySelector('h1') !== null")
        assert browser.title.startswith("algolens")
        assert console_errors(browser) == []
    open_page(browser, written["index"])
    header = browser.find_elements(By.CSS_SELECTOR, "table.sortable th")
    run_col = next(i for i, h in enumerate(header) if h.text == "run")
    header[run_col].click()
    assert _column(browser, run_col) == sorted(ids)
    header[run_col].click()
    assert _column(browser, run_col) == sorted(ids, reverse=True)
    box = browser.find_element(By.CSS_SELECTOR, "input.filter")
    box.send_keys("RECURSION successor")
    visible = browser.execute_script(
        "return Array.from(document.querySelectorAll('table.sortable tbody tr'))"
        ".filter(r => !r.hidden).map(r => r.cells[0].textContent)"
    )
    assert visible == [s.recursion]


def _column(browser, col: int) -> list[str]:
    return browser.execute_script(
        f"return Array.from(document.querySelectorAll('table.sortable tbody tr'))"
        f".map(r => r.cells[{col}].textContent)"
    )


def test_sortable_table_sorts_numbers_as_numbers_and_blanks_last(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from algolens.report.html import HtmlReport

    report = HtmlReport("sort")
    report.table(["n", "name"], [[10, "b"], ["", "e"], [9, "a"], [100, "c"], ["12%", "d"]],
                 sortable=True)  # fmt: skip
    open_page(browser, report.write(tmp_path / "sort.html"))
    n, name = browser.find_elements(By.CSS_SELECTOR, "table.sortable th")
    n.click()
    assert _column(browser, 1) == ["a", "b", "d", "c", "e"]  # 9 < 10 < 12% < 100, blank last
    n.click()
    assert _column(browser, 1) == ["c", "d", "b", "a", "e"]
    name.click()
    assert _column(browser, 1) == ["a", "b", "c", "d", "e"]
    assert console_errors(browser) == []


def test_sweep_page_renders_and_its_links_resolve(browser, pages, artifacts):
    from selenium.webdriver.common.by import By

    s, written = pages
    _check(browser, written["sweep"], artifacts, "sweep", 2)  # test acc, universality (+ grok)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "tbody a")]
    assert len(links) == 1 and s.sweep_runs[0] in links[0]
    browser.get(links[0])
    assert browser.title == f"algolens: S3 mlp, run {s.sweep_runs[0]}"
    assert console_errors(browser) == []


def test_circuitsvis_views_render_offline_with_tokens_as_text(browser, tmp_path, artifacts):
    import numpy as np

    from algolens.report.html import HtmlReport

    report = HtmlReport("attention")
    report.table(["head", "pattern"], [[0, "causal, uniform"], [1, "the same"]])
    tokens = ["<s>", EVIL_LABEL, "<img src=x onerror=alert(2)>", "c"]
    att = np.tril(np.ones((2, 4, 4)))
    att /= att.sum(-1, keepdims=True)  # [head, dest, src], causal, rows sum to 1
    report.circuitsvis("AttentionPatterns", tokens=tokens, attention=att)
    report.circuitsvis("AttentionPatterns", tokens=["x", "y"], attention=np.eye(2)[None])
    _check(browser, report.write(tmp_path / "attention.html"), artifacts, "circuitsvis", 0)
    views = browser.execute_script("return document.querySelectorAll('.circuitsvis').length")
    assert views == 2
    shown = browser.execute_script("return document.querySelector('.circuitsvis').innerText")
    shown = shown.replace("\xa0", " ")  # circuitsvis shows spaces in tokens as no-break spaces
    assert all(t in shown for t in tokens)  # circuitsvis inserts tokens as HTML: we escape them
    images = "return document.querySelectorAll('.circuitsvis img').length"
    assert browser.execute_script(images) == 0
    assert browser.execute_script("return document.scripts.length") == 3  # bundle + 2 views

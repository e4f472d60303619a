"""Without a browser the page tests skip, except under CI, where they fail (no browser needed)."""

from __future__ import annotations

import pytest

from tests.browser import browser


@pytest.mark.parametrize(
    "ci, outcome", [("", "skip"), ("0", "skip"), ("true", "fail"), ("1", "fail")]
)
def test_missing_browser_skips_or_fails_under_ci(monkeypatch, ci, outcome):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", ci)
    expected = pytest.skip.Exception if outcome == "skip" else pytest.fail.Exception
    with pytest.raises(expected, match="chromium, chromedriver"):
        browser.require_browser()


def test_present_browser_is_found(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: f"/opt/bin/{name}")
    monkeypatch.setenv("CI", "true")
    assert browser.require_browser() == ("/opt/bin/chromium", "/opt/bin/chromedriver")

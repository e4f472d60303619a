"""Headless Chromium through Selenium for the page tests: start it offline, load a page, check it.

The browser is Debian's ``chromium`` driven by ``chromedriver`` (``.ci/run`` installs both). Every
request leaving the machine is refused (a dead proxy and no host resolution), so a page that
needs the network fails its checks. Where the browser, the driver or selenium is missing the
tests skip, except when ``CI`` is set: then they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

BINARIES = ("chromium", "chromium-browser", "google-chrome")
WAIT_S = 20.0


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_browser() -> tuple[str, str]:
    """``(chromium, chromedriver)`` paths; skip (fail under ``CI``) when either or selenium is
    missing."""
    chromium = next((p for p in map(shutil.which, BINARIES) if p), None)
    driver = shutil.which("chromedriver")
    missing = [n for n, p in (("chromium", chromium), ("chromedriver", driver)) if p is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip install -e '.[dev]')")
    if missing:
        need = ", ".join(missing)
        message = f"browser tests need {need} (apt-get install chromium chromium-driver)"
        if _ci():
            pytest.fail(f"{message}; CI is set, so this fails instead of skipping", pytrace=False)
        pytest.skip(message)
    assert chromium is not None and driver is not None
    return chromium, driver


def start_browser(chromium: str, driver: str) -> Any:
    """A headless Chromium with no network that keeps its console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--enable-unsafe-swiftshader", "--window-size=1280,1000", "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND", "--no-first-run", "--disable-extensions",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


def open_page(browser: Any, path: Path) -> None:
    """Load ``path`` and wait until the document and every plotly/circuitsvis view is drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.resolve().as_uri())
    WebDriverWait(browser, WAIT_S).until(
        lambda b: b.execute_script("return document.readyState") == "complete"
    )
    WebDriverWait(browser, WAIT_S).until(lambda b: not undrawn_views(b))


def undrawn_views(browser: Any) -> list[str]:
    """Ids of plotly divs without a drawn trace and circuitsvis views with nothing rendered."""
    return browser.execute_script(
        """
        var bad = [];
        document.querySelectorAll('.plotly-graph-div').forEach(function (d) {
          var marks = d.querySelectorAll('svg.main-svg g.trace path, g.trace rect, canvas');
          if (marks.length === 0) bad.push(d.id);
        });
        document.querySelectorAll('.circuitsvis').forEach(function (d) {
          if (!d.querySelector('svg, canvas, table, span')) bad.push(d.id);
        });
        return bad;
        """
    )


def console_errors(browser: Any) -> list[str]:
    """SEVERE entries of the console log since the page was opened (JS errors, failed loads)."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def network_requests(browser: Any) -> list[str]:
    """Every resource the page fetched or tried to fetch, or referenced by URL, over a network
    (not ``file:``, ``data:`` or ``blob:``)."""
    return browser.execute_script(
        """
        var urls = performance.getEntriesByType('resource').map(function (e) { return e.name; });
        document.querySelectorAll('[src], link[href]').forEach(function (e) {
          urls.push(e.getAttribute('src') || e.getAttribute('href'));
        });
        return urls.filter(function (u) { return /^(https?:)?\\/\\//.test(u); });
        """
    )


def screenshot(browser: Any, out: Path) -> Path:
    """A full-page PNG of the loaded page (window stretched to its height, at most 12000 px)."""
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(int(height), 600), 12000))
    out.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(out))
    browser.set_window_size(1280, 1000)
    return out

"""The README's screenshot: a real report opened by the browser tests' checks, top of the page.

    python -m tests.browser.readme_shot STORE/runs/RUN/report.html docs/img/report.png

Fails (no picture) when the page logs a console error, fetches from a network or leaves a plot
undrawn. The picture is the first 1280 x 900 pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.browser.browser import (
    console_errors,
    network_requests,
    open_page,
    require_browser,
    start_browser,
    undrawn_views,
)


def main(page: str, out: str) -> None:
    browser = start_browser(*require_browser())
    try:
        browser.set_window_size(1280, 900)
        open_page(browser, Path(page))
        problems = console_errors(browser) + network_requests(browser) + undrawn_views(browser)
        if problems:
            raise SystemExit(f"not taking a picture of a broken page: {problems}")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(out)
    finally:
        browser.quit()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(*sys.argv[1:3])

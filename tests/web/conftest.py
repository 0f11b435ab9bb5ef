"""Fixtures of the browser tests: Debian's chromium and a console tab on a live service.

Playwright drives `/usr/bin/chromium` (a downloaded browser build is not used). Without it
the tests skip with the reason locally and fail when CI=true. Tests leave screenshots at a
fixed viewport: in a temporary directory, or where `CREDITGATE_SCREENSHOTS_DIR` says
(`docs/screenshots` renews the README's pictures).
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from creditgate import Engine, ManualClock
from creditgate.app import create_app
from tests.servers import live
from tests.web.browsing import ACCOUNT, CHROMIUM, FEATURE, VIEWPORT, Console


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, for the whole session."""
    if not CHROMIUM.exists():
        reason = (
            f"the browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: `CREDITGATE_SCREENSHOTS_DIR`, else a temporary directory."""
    chosen = os.environ.get("CREDITGATE_SCREENSHOTS_DIR")
    return Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def console(engine: Engine, clock: ManualClock, browser: Browser, shots: Path) -> Iterator[Console]:
    """A live service over the test's engine, a catalog and an account, and a browser tab."""
    engine.create_feature(FEATURE, name="Images", category="media")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "2"})
    engine.create_feature("video.generate", name="Videos", category="media")
    engine.set_price("video.generate", {"rule": "flat", "credits": "10"})
    engine.create_account(ACCOUNT)
    _, admin_key = engine.create_key("admin", name="console")
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    with live(create_app(engine=engine)) as url:
        yield Console(
            url=url, engine=engine, admin_key=admin_key, page=context.new_page(), shots=shots
        )
    context.close()

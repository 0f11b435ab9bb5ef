"""What the browser tests share: the signed-in tab they drive and the catalog they start with."""

from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from creditgate import Engine

ON_SQLITE = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
"""For browser tests of the pages themselves: what the engine does beneath them is proven on
both backends by the engine, service and parity tests, so a browser on one backend is enough
(the analytics page, whose figures are compared with SQL, runs on both)."""

CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1024, "height": 720}
FEATURE = "image.generate"
ACCOUNT = "user_1"

UNLABELLED = """
[...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
  .filter((field) => field.labels.length === 0)
  .map((field) => field.outerHTML)
"""
"""A script that lists the page's form fields without a label."""


@dataclass(frozen=True)
class Console:
    """A browser tab on a live service over the test's engine, with an admin key."""

    url: str
    engine: Engine
    admin_key: str
    page: Page
    shots: Path

    def open(self, path: str) -> None:
        self.page.goto(f"{self.url}{path}")

    def sign_in(self) -> None:
        self.open("/admin/login")
        self.page.get_by_label("Admin API key").fill(self.admin_key)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("heading", name="Features")).to_be_visible()

    def screenshot(self, name: str) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=self.shots / f"{name}.png", full_page=True)

    def unlabelled(self, path: str) -> list[str]:
        """The form fields of the page at `path` that have no label."""
        self.open(path)
        fields: list[str] = self.page.evaluate(UNLABELLED)
        return fields

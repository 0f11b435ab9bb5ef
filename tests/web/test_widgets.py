"""The drop-in widgets on an app's page in Debian's chromium, against a live service.

The app's page is served by a server of its own (another origin on loopback), loads
`widgets.js` from the service, and calls the service across origins with the tokens the
test mints, as an app's back end would. Each state is checked against the engine's
own figures; an expired or altered token must show nothing.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Browser, Page, expect
from pydantic import SecretStr

from creditgate import Engine, ManualClock
from creditgate.app import create_app
from creditgate.settings import Settings
from tests.fakes.stripe_api import FakeStripe
from tests.servers import live
from tests.web.browsing import ON_SQLITE, VIEWPORT

pytestmark = ON_SQLITE

FEATURE = "image.generate"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Studio</title>
<style>
  * {{ box-sizing: border-box; }}
  body {{ font-family: system-ui, sans-serif; margin: 0; }}
  header {{ display: flex; justify-content: space-between; padding: .75rem 1rem;
           background: #111827; color: #fff; }}
  main {{ padding: 1rem; display: grid; gap: 1rem; max-width: 40rem; }}
  section {{ border: 1px solid #ddd; border-radius: .5rem; padding: 1rem; }}
</style>
<script src="{service}/widgets.js" defer></script>
</head><body>
<header><strong>Studio</strong>
  <creditgate-balance id="compact" token="{token}"></creditgate-balance></header>
<main>
  <section><h2>Your credits</h2>
    <creditgate-balance id="full" variant="full" token="{token}"></creditgate-balance>
    <creditgate-packs id="packs" token="{token}"></creditgate-packs></section>
  <section><h2>Generate</h2>
    <form id="generate">
      <creditgate-model-picker id="picker" name="model" feature="{feature}" token="{token}">
      </creditgate-model-picker>
      <p>Cost: <creditgate-cost id="cost" feature="{feature}" model="flux-pro" token="{token}">
      </creditgate-cost></p>
      <p>Upscale: <creditgate-cost id="ultra" feature="{feature}" model="ultra" token="{token}">
      </creditgate-cost></p>
      <p>Quick: <creditgate-cost id="quick" feature="{feature}" token="{token}">
      </creditgate-cost></p>
      <p>As a guest: <creditgate-cost id="guest" feature="{feature}" token="{guest}">
      </creditgate-cost></p>
    </form></section>
</main></body></html>
"""

SHADOW_TEXT = """[...document.querySelectorAll('*')].filter(e => e.shadowRoot)
  .map(e => e.shadowRoot.textContent).join('')"""
"""All the text the widgets draw (in their shadow trees)."""


@dataclass(frozen=True)
class Shop:
    """The app's page in a browser tab, and the service behind its widgets."""

    page: Page
    engine: Engine
    clock: ManualClock
    service: str
    app: str
    """The app's own origin, where its page is served."""
    html: dict[str, str]
    stripe: FakeStripe
    shots: Path

    def show(self, token: str, guest: str | None = None) -> None:
        """Open the app's page with these tokens in its widgets."""
        self.html["/"] = PAGE.format(
            service=self.service, token=token, guest=guest or token, feature=FEATURE
        )
        self.page.goto(f"{self.app}/")

    def part(self, widget: str, part: str) -> str:
        """The text of a part of a widget's shadow tree."""
        text: str = self.page.locator(f"#{widget}").locator(f"[part~='{part}']").inner_text()
        return text

    def screenshot(self, name: str) -> None:
        self.shots.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=self.shots / f"{name}.png", full_page=True)


@pytest.fixture(scope="module")
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as served:
        yield served


@pytest.fixture
def shop(
    engine: Engine, clock: ManualClock, browser: Browser, shots: Path, stripe_fake: FakeStripe
) -> Iterator[Shop]:
    """A catalog of three image models, two packs, and user_1 with 6 credits and a line of 3."""
    engine.create_feature(FEATURE, name="Images")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "2"})
    engine.set_price(FEATURE, {"rule": "flat", "credits": "5"}, model="flux-pro")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "10"}, model="ultra")
    engine.create_pack("creator", name="Creator", credits=110, price_minor=1499, badge="best value")
    engine.create_pack("pro", name="Pro", credits=300, price_minor=2999, sort_order=1)
    engine.create_account("user_1")
    engine.create_account("user_2")
    engine.grant("user_1", "6")
    engine.grant("user_2", "777")
    engine.set_balance_alert("user_1", low="3")
    pages: dict[str, str] = {}
    app_site = FastAPI()

    @app_site.get("/")
    def app_page() -> HTMLResponse:
        return HTMLResponse(pages["/"])

    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    with live(app_site) as app_url:
        settings = Settings(
            widget_origins=(app_url,),
            stripe_secret_key=SecretStr(stripe_fake.secret_key),
            stripe_api_base=stripe_fake.url,
        )
        with live(create_app(settings, engine=engine)) as url:
            yield Shop(
                page=context.new_page(),
                engine=engine,
                clock=clock,
                service=url,
                stripe=stripe_fake,
                shots=shots,
                app=app_url,
                html=pages,
            )
    context.close()


def token(shop: Shop, account_id: str | None = "user_1", **extra: object) -> str:
    made = shop.engine.mint_widget_token(account_id, **extra)  # type: ignore[arg-type]
    return made.token


def test_each_widget_shows_the_accounts_figures_from_the_live_api(shop: Shop) -> None:
    shop.show(token(shop), guest=token(shop, None))

    figures = shop.engine.balance("user_1")
    expect(shop.page.locator("#compact")).to_have_attribute("status", "ready")
    assert shop.part("compact", "available") == str(figures.available)
    assert shop.part("full", "total") == f"{figures.balance} credits"
    assert shop.part("full", "held") == f"{figures.held} credits"
    costs = {o.model: o for o in shop.engine.widget_costs("user_1", FEATURE).options}
    expect(shop.page.locator("#cost")).to_have_attribute("state", "low")
    assert shop.part("cost", "amount") == f"{costs['flux-pro'].amount} credits"
    assert "low after this" in shop.part("cost", "note")
    expect(shop.page.locator("#ultra")).to_have_attribute("state", "insufficient")
    assert shop.part("ultra", "note") == "Not enough credits."
    expect(shop.page.locator("#quick")).to_have_attribute("state", "sufficient")
    assert shop.part("quick", "amount") == f"{costs[None].amount} credits"
    expect(shop.page.locator("#guest")).to_have_attribute("state", "guest")
    assert "Sign in" in shop.part("guest", "note")
    shop.screenshot("widgets")


def test_a_low_balance_is_coloured_and_recovers_after_a_grant(shop: Shop) -> None:
    shop.engine.charge("user_1", feature=FEATURE, model="flux-pro")
    shop.show(token(shop))

    compact = shop.page.locator("#compact")
    expect(compact).to_have_attribute("level", "low")
    low_colour = compact.locator("[part~='figure']").evaluate("e => getComputedStyle(e).color")
    shop.engine.grant("user_1", "50")
    shop.page.evaluate("CreditgateWidgets.refresh()")

    expect(compact).to_have_attribute("level", "ok")
    assert shop.part("compact", "available") == str(shop.engine.balance("user_1").available)
    ok_colour = compact.locator("[part~='figure']").evaluate("e => getComputedStyle(e).color")
    header_colour = shop.page.locator("header").evaluate("e => getComputedStyle(e).color")
    assert (low_colour, ok_colour) == ("rgb(180, 83, 9)", header_colour)


def test_the_model_picker_disables_what_the_account_cannot_afford(shop: Shop) -> None:
    shop.show(token(shop))

    select = shop.page.locator("#picker").locator("select")
    expect(select.locator("option")).to_have_count(3)
    states = select.locator("option").evaluate_all(
        "options => options.map(o => [o.value, o.disabled])"
    )
    select.select_option("flux-pro")
    submitted = shop.page.evaluate(
        "Object.fromEntries(new FormData(document.getElementById('generate')))"
    )

    assert states == [["", False], ["flux-pro", False], ["ultra", True]]
    assert submitted == {"model": "flux-pro"}
    assert shop.page.get_by_label("Model").count() == 1


def test_the_pack_dialog_starts_a_checkout_for_the_tokens_account(shop: Shop) -> None:
    shop.show(token(shop, success_url=f"{shop.app}/paid", cancel_url=f"{shop.app}/"))
    shop.page.evaluate(
        """document.addEventListener("creditgate:checkout", (event) => {
             event.preventDefault();
             window.started = event.detail;
           })"""
    )

    shop.page.get_by_role("button", name="Buy credits").click()
    dialog = shop.page.get_by_role("dialog", name="Buy credits")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button")).to_have_count(3)
    shop.screenshot("widgets_packs")
    dialog.get_by_role("button", name="Creator").click()
    shop.page.wait_for_function("window.started !== undefined")

    started = shop.page.evaluate("window.started")
    purchase = shop.engine.purchases("user_1").items[0]
    sent = shop.stripe.received("POST", "/v1/checkout/sessions")[-1].params
    assert started["url"] == shop.stripe.sessions[purchase.reference]["url"]
    assert (purchase.status, sent["success_url"]) == ("pending", f"{shop.app}/paid")


def test_a_refused_checkout_says_why_in_the_dialog(shop: Shop) -> None:
    shop.show(token(shop))

    shop.page.get_by_role("button", name="Buy credits").click()
    shop.page.get_by_role("dialog").get_by_role("button", name="Pro").click()

    expect(shop.page.get_by_role("alert")).to_contain_text("success_url")
    assert shop.engine.purchases("user_1").items == ()


def test_an_expired_token_shows_nothing_until_the_page_sets_a_new_one(shop: Shop) -> None:
    old = token(shop, ttl_s=60)
    shop.clock.advance(timedelta(seconds=61))
    shop.page.add_init_script(
        "window.refused = [];"
        " document.addEventListener('creditgate:unauthorized',"
        " (e) => window.refused.push(e.detail.code))"
    )

    shop.show(old)

    for widget in ("compact", "full", "picker", "cost", "packs"):
        expect(shop.page.locator(f"#{widget}")).to_have_attribute("status", "unauthorized")
    assert shop.page.evaluate(SHADOW_TEXT) == ""
    assert shop.page.evaluate("window.refused") == ["token_expired"] * 8
    shop.page.evaluate(
        "t => document.querySelectorAll('[token]').forEach(e => e.setAttribute('token', t))",
        token(shop),
    )
    expect(shop.page.locator("#compact")).to_have_attribute("status", "ready")
    assert shop.part("compact", "available") == "6"


def test_an_altered_token_shows_nothing_of_another_account(shop: Shop) -> None:
    ours = token(shop, "user_1")
    theirs = token(shop, "user_2")
    forged = ".".join([*ours.split(".")[:2], theirs.split(".")[2], ours.split(".")[3]])

    shop.show(forged)

    expect(shop.page.locator("#full")).to_have_attribute("status", "unauthorized")
    assert shop.page.evaluate(SHADOW_TEXT) == ""
    assert "777" not in shop.page.content()


def test_widgets_fit_a_phone_screen(shop: Shop) -> None:
    shop.page.set_viewport_size({"width": 375, "height": 740})

    shop.show(token(shop))
    for widget in ("compact", "full", "picker", "cost", "packs"):
        expect(shop.page.locator(f"#{widget}")).to_have_attribute("status", "ready")

    overflow = shop.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    shop.screenshot("widgets_phone")


def test_the_pack_dialog_works_from_the_keyboard(shop: Shop) -> None:
    shop.show(token(shop, success_url=f"{shop.app}/paid", cancel_url=f"{shop.app}/"))
    shop.page.evaluate(
        """document.addEventListener("creditgate:checkout", (event) => {
             event.preventDefault();
             window.started = event.detail;
           })"""
    )
    opener = shop.page.get_by_role("button", name="Buy credits")
    expect(opener).to_be_visible()

    opener.focus()
    shop.page.keyboard.press("Enter")
    dialog = shop.page.get_by_role("dialog", name="Buy credits")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Creator")).to_be_focused()
    shop.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    opener.focus()
    shop.page.keyboard.press("Enter")
    shop.page.keyboard.press("Tab")
    shop.page.keyboard.press("Enter")
    shop.page.wait_for_function("window.started !== undefined")

    purchase = shop.engine.purchases("user_1").items[0]
    assert purchase.pack == "pro"

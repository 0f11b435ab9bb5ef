"""An account's lots, pending holds, plan and purchases, and every account's purchases page.

Each page is driven in a real browser over a live service; what it shows is checked
against what the engine reports.
"""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from creditgate import Credits, HoldStatus, Provider
from creditgate.domain.ids import HoldId
from tests.factories import bought
from tests.web.browsing import ACCOUNT, ON_SQLITE, Console

pytestmark = ON_SQLITE

PACK = "creator"
PRICE_MINOR = 1499
"""The Creator pack: 110 credits for $14.99."""
PLAN = "basic"
PHONE = {"width": 375, "height": 740}


def _shop(console: Console) -> None:
    """A pack for sale, a plan, and a second customer."""
    engine = console.engine
    engine.create_pack(PACK, name="Creator", credits=110, price_minor=PRICE_MINOR)
    engine.create_plan(PLAN, name="Basic", credits=10, prices={"month": 900})
    engine.create_account("user_2")


def _hold(console: Console, amount: int) -> HoldId:
    hold = console.engine.hold(ACCOUNT, amount, ttl=timedelta(minutes=5)).hold
    assert hold is not None
    return hold.id


def test_a_grant_with_an_expiry_shows_in_the_lots_in_burn_order(console: Console) -> None:
    console.engine.grant(ACCOUNT, 10, source="purchase")
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")

    console.page.get_by_label("Credits", exact=True).fill("5")
    console.page.get_by_label("Source").select_option("promo")
    console.page.get_by_label("Expires at").fill("2026-01-08T12:00")
    console.page.get_by_role("button", name="Grant").click()

    expect(console.page.get_by_role("status")).to_contain_text("granted 5")
    rows = console.page.locator("#lots tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("promo")
    expect(rows.nth(0)).to_contain_text("5 of 5")
    expect(rows.nth(0)).to_contain_text("2026-01-08T12:00:00+00:00")
    expect(rows.nth(1)).to_contain_text("purchase")
    expect(rows.nth(1)).to_contain_text("never")
    lots = console.engine.lots(ACCOUNT)
    assert [lot.expires_at for lot in lots] == [datetime(2026, 1, 8, 12, tzinfo=UTC), None]
    console.screenshot("account_lots")


def test_a_bad_priority_is_refused_on_the_page_and_grants_nothing(console: Console) -> None:
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")

    console.page.get_by_label("Credits", exact=True).fill("5")
    console.page.get_by_label("Burn priority").fill("first")
    console.page.get_by_role("button", name="Grant").click()

    expect(console.page.get_by_role("alert")).to_contain_text("priority")
    assert console.engine.lots(ACCOUNT) == ()
    assert console.engine.balance(ACCOUNT).balance == Credits.parse("0")


def test_a_pending_hold_shows_and_leaves_when_released(console: Console) -> None:
    console.engine.grant(ACCOUNT, 10, source="purchase")
    hold_id = _hold(console, 4)
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")
    expect(console.page.locator("#holds")).to_contain_text(str(hold_id))
    expect(console.page.locator("#lots")).to_contain_text("10 of 10")

    console.page.get_by_role("button", name=f"Release hold {hold_id}").click()

    expect(console.page.get_by_role("status")).to_contain_text(f"released hold {hold_id}")
    expect(console.page.locator("#holds")).to_contain_text("No pending holds.")
    assert console.engine.get_hold(hold_id).status is HoldStatus.RELEASED
    assert console.engine.balance(ACCOUNT).available == Credits.parse("10")


def test_a_hold_released_elsewhere_leaves_the_page(console: Console) -> None:
    console.engine.grant(ACCOUNT, 10, source="purchase")
    hold_id = _hold(console, 4)
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")
    expect(console.page.locator("#holds tbody tr")).to_have_count(1)

    console.engine.release(hold_id)
    console.page.reload()

    expect(console.page.locator("#holds")).to_contain_text("No pending holds.")


def test_releasing_a_hold_that_has_ended_is_refused_and_changes_nothing(
    console: Console,
) -> None:
    console.engine.grant(ACCOUNT, 10, source="purchase")
    hold_id = _hold(console, 4)
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")
    console.engine.settle(hold_id, 3)
    before = console.engine.balance(ACCOUNT)

    console.page.get_by_role("button", name=f"Release hold {hold_id}").click()

    expect(console.page.get_by_role("alert")).to_contain_text("settled")
    assert console.engine.get_hold(hold_id).status is HoldStatus.SETTLED
    assert console.engine.balance(ACCOUNT) == before


def test_a_purchase_shows_on_the_purchases_page_and_its_accounts_page(console: Console) -> None:
    _shop(console)
    bought(console.engine, ACCOUNT, PACK, PRICE_MINOR)
    console.engine.open_checkout("user_2", PACK, provider=Provider.STRIPE, reference="cs_user_2")
    console.engine.subscribe("user_2", PLAN)
    console.sign_in()

    console.page.get_by_role("link", name="Purchases").click()

    rows = console.page.locator("#purchases tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("user_2")
    expect(rows.nth(0)).to_contain_text("pending")
    expect(rows.nth(1)).to_contain_text(ACCOUNT)
    expect(rows.nth(1)).to_contain_text("14.99 USD")
    expect(rows.nth(1)).to_contain_text("paid")
    expect(console.page.locator("#subscriptions")).to_contain_text("active")
    console.screenshot("purchases")

    rows.nth(1).get_by_role("link", name=ACCOUNT).click()

    expect(console.page.get_by_role("heading", name=f"Account {ACCOUNT}")).to_be_visible()
    expect(console.page.locator("#purchases")).to_contain_text(PACK)
    expect(console.page.locator("#purchases")).to_contain_text("14.99 USD")
    expect(console.page.locator("#lots")).to_contain_text("110 of 110")
    assert console.engine.purchases(ACCOUNT).items[0].pack == PACK


def test_purchases_and_subscriptions_filter_by_status(console: Console) -> None:
    _shop(console)
    bought(console.engine, ACCOUNT, PACK, PRICE_MINOR)
    console.engine.open_checkout("user_2", PACK, provider=Provider.STRIPE, reference="cs_user_2")
    console.engine.subscribe(ACCOUNT, PLAN)
    console.engine.subscribe("user_2", PLAN)
    console.engine.cancel_subscription("user_2")
    console.sign_in()
    console.open("/admin/purchases")

    console.page.get_by_label("Purchase status").select_option("paid")
    console.page.get_by_role("button", name="Show purchases").click()
    console.page.get_by_label("Subscription status").select_option("cancelling")
    console.page.get_by_role("button", name="Show subscriptions").click()

    purchases = console.page.locator("#purchases tbody tr")
    subscriptions = console.page.locator("#subscriptions tbody tr")
    expect(purchases).to_have_count(1)
    expect(purchases).to_contain_text(ACCOUNT)
    expect(subscriptions).to_have_count(1)
    expect(subscriptions).to_contain_text("user_2")
    expect(console.page.get_by_label("Purchase status")).to_have_value("paid")


def test_an_unknown_status_is_shown_as_refused_over_every_purchase(console: Console) -> None:
    _shop(console)
    bought(console.engine, ACCOUNT, PACK, PRICE_MINOR)
    console.sign_in()

    answer = console.page.goto(f"{console.url}/admin/purchases?status=lost")

    assert answer is not None
    assert answer.status == 422
    expect(console.page.get_by_role("alert")).to_contain_text("status")
    expect(console.page.locator("#purchases tbody tr")).to_have_count(1)


def test_the_account_page_shows_the_live_subscription(console: Console) -> None:
    _shop(console)
    console.engine.subscribe(ACCOUNT, PLAN)
    subscription = console.engine.subscription(ACCOUNT)
    assert subscription is not None
    console.sign_in()

    console.open(f"/admin/accounts/{ACCOUNT}")

    shown = console.page.locator("#subscription")
    expect(shown).to_contain_text(PLAN)
    expect(shown).to_contain_text("active")
    expect(shown).to_contain_text(subscription.period_ends_at.isoformat(timespec="seconds"))


@pytest.mark.parametrize("path", ["/admin/purchases", f"/admin/accounts/{ACCOUNT}"])
def test_every_field_has_a_label(console: Console, path: str) -> None:
    _shop(console)
    console.engine.grant(ACCOUNT, 10, source="purchase")
    _hold(console, 2)
    console.sign_in()

    assert console.unlabelled(path) == []


@pytest.mark.parametrize(
    ("path", "name"),
    [("/admin/purchases", "purchases_phone"), (f"/admin/accounts/{ACCOUNT}", "account_lots_phone")],
)
def test_the_pages_fit_a_phone_screen(console: Console, path: str, name: str) -> None:
    _shop(console)
    bought(console.engine, ACCOUNT, PACK, PRICE_MINOR)
    console.engine.grant(ACCOUNT, 5, source="promo", expires_at=datetime(2026, 2, 1, tzinfo=UTC))
    console.engine.subscribe(ACCOUNT, PLAN)
    _hold(console, 2)
    console.sign_in()
    console.page.set_viewport_size(PHONE)  # type: ignore[arg-type]

    console.open(path)

    overflow = console.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    console.screenshot(name)

"""The console's plans, packs and promo codes pages, in a real browser over both databases."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from creditgate import Credits
from creditgate.domain.plans import Interval, Rollover
from tests.web.browsing import ACCOUNT, ON_SQLITE, Console

pytestmark = ON_SQLITE

PHONE = {"width": 375, "height": 740}
OVERFLOWS = "document.documentElement.scrollWidth > window.innerWidth"
"""A script that tells whether the page is wider than the window (a sideways scroll)."""


def _seed_catalog(console: Console) -> None:
    console.engine.create_plan(
        "pro", name="Pro", credits="500", prices={"month": 1500, "year": 15000}
    )
    console.engine.create_pack(
        "starter", name="Starter", credits="100", price_minor=499, badge="most popular"
    )
    console.engine.create_promo("SPRING-25", credits="5", max_redemptions=100)


# Plans


def test_a_plan_created_through_the_form_is_what_the_engine_holds(console: Console) -> None:
    console.sign_in()
    console.open("/admin/plans")
    page = console.page

    page.get_by_label("Key").fill("pro")
    page.get_by_label("Name", exact=True).fill("Pro")
    page.get_by_label("Credits per cycle").fill("500")
    page.get_by_label("Price per month").fill("1500")
    page.get_by_label("Price per year").fill("15000")
    page.get_by_label("Rollover of unused").select_option("capped")
    page.get_by_label("Rollover cap").fill("100")
    page.get_by_role("button", name="Create plan").click()

    expect(page.get_by_role("status")).to_contain_text("created plan pro")
    expect(page.locator("#plans")).to_contain_text("15.00 USD / month, 150.00 USD / year")
    made = console.engine.get_plan("pro")
    assert (made.name, made.credits, dict(made.prices)) == (
        "Pro",
        Credits.parse("500"),
        {Interval.MONTH: 1500, Interval.YEAR: 15000},
    )
    assert (made.rollover, made.rollover_cap, made.is_active) == (
        Rollover.CAPPED,
        Credits.parse("100"),
        True,
    )
    console.screenshot("plans")


def test_a_taken_plan_key_is_refused_on_the_page_and_changes_nothing(console: Console) -> None:
    console.engine.create_plan("pro", name="Pro", credits="500")
    console.sign_in()
    console.open("/admin/plans")
    page = console.page
    page.get_by_label("Key").fill("pro")
    page.get_by_label("Name", exact=True).fill("Impostor")
    page.get_by_label("Credits per cycle").fill("9")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create plan").click()

    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("plan 'pro' exists already")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Impostor")
    kept = console.engine.get_plan("pro")
    assert (kept.name, kept.credits) == ("Pro", Credits.parse("500"))
    assert len(console.engine.plans(include_inactive=True)) == 1


def test_a_plan_price_that_is_not_a_whole_number_is_refused(console: Console) -> None:
    console.sign_in()
    console.open("/admin/plans")
    page = console.page
    page.get_by_label("Key").fill("pro")
    page.get_by_label("Name", exact=True).fill("Pro")
    page.get_by_label("Credits per cycle").fill("500")
    page.get_by_label("Price per month").fill("15.00")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create plan").click()

    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("price_month: a whole number")
    assert console.engine.plans(include_inactive=True) == ()


def test_a_plan_changed_through_its_form_changes_in_the_engine(console: Console) -> None:
    console.engine.create_plan(
        "pro", name="Pro", credits="500", prices={"month": 1500, "year": 15000}
    )
    console.sign_in()
    console.open("/admin/plans")
    console.page.get_by_role("link", name="pro", exact=True).click()

    console.page.get_by_label("Credits per cycle").fill("800")
    console.page.get_by_label("Price per year").fill("")
    console.page.get_by_role("button", name="Save plan").click()

    expect(console.page.get_by_role("status")).to_contain_text("updated plan pro")
    expect(console.page.locator("#plan-figure-credits")).to_have_text("800")
    changed = console.engine.get_plan("pro")
    assert (changed.credits, dict(changed.prices)) == (
        Credits.parse("800"),
        {Interval.MONTH: 1500},
    )


def test_deactivating_a_plan_takes_it_off_sale_and_keeps_it_listed(console: Console) -> None:
    console.engine.create_plan("pro", name="Pro", credits="500")
    console.sign_in()
    console.open("/admin/plans/pro")

    console.page.get_by_role("button", name="Deactivate").click()

    expect(console.page.get_by_role("status")).to_contain_text("deactivated")
    assert not console.engine.get_plan("pro").is_active
    assert console.engine.plans() == ()
    console.open("/admin/plans")
    expect(console.page.locator("#plans tbody tr")).to_contain_text("pro")


def test_deactivating_the_default_plan_is_refused_on_the_page(console: Console) -> None:
    console.engine.create_plan("free", name="Free", credits="10", is_default=True)
    console.sign_in()
    console.open("/admin/plans/free")

    with console.page.expect_response(lambda r: r.request.method == "POST") as answer:
        console.page.get_by_role("button", name="Deactivate").click()

    assert answer.value.status == 422
    expect(console.page.get_by_role("alert")).to_contain_text("the default plan must stay active")
    assert console.engine.get_plan("free").is_active


# Packs


def test_a_pack_created_through_the_form_is_what_the_engine_holds(console: Console) -> None:
    console.sign_in()
    console.open("/admin/packs")
    page = console.page

    page.get_by_label("Key").fill("starter")
    page.get_by_label("Name", exact=True).fill("Starter")
    page.get_by_label("Credits", exact=True).fill("100")
    page.get_by_label("Bonus credits").fill("20")
    page.get_by_label("Price, in minor units").fill("499")
    page.get_by_label("Badge").fill("best value")
    page.get_by_label("Credits expire after").fill("30")
    page.get_by_label("Sort order").fill("2")
    page.get_by_role("button", name="Create pack").click()

    expect(page.get_by_role("status")).to_contain_text("created pack starter")
    expect(page.locator("#packs")).to_contain_text("4.99 USD")
    made = console.engine.get_pack("starter")
    assert (made.credits, made.bonus_credits, made.price_minor, made.currency) == (
        Credits.parse("100"),
        Credits.parse("20"),
        499,
        "usd",
    )
    assert (made.badge, made.expires_after_days, made.sort_order, made.is_free_once) == (
        "best value",
        30,
        2,
        False,
    )
    console.screenshot("packs")


def test_a_pack_price_written_as_money_is_refused_and_changes_nothing(console: Console) -> None:
    console.sign_in()
    console.open("/admin/packs")
    page = console.page
    page.get_by_label("Key").fill("starter")
    page.get_by_label("Name", exact=True).fill("Starter")
    page.get_by_label("Credits", exact=True).fill("100")
    page.get_by_label("Price, in minor units").fill("4.99")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create pack").click()

    assert answer.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("price_minor: a whole number")
    assert console.engine.packs(include_inactive=True) == ()


def test_a_pack_changed_through_its_form_changes_in_the_engine(console: Console) -> None:
    console.engine.create_pack("starter", name="Starter", credits="100", price_minor=499)
    console.sign_in()
    console.open("/admin/packs")
    console.page.get_by_role("link", name="starter", exact=True).click()

    console.page.get_by_label("Price, in minor units").fill("999")
    console.page.get_by_label("Bonus credits").fill("25")
    console.page.get_by_role("button", name="Save pack").click()

    expect(console.page.get_by_role("status")).to_contain_text("updated pack starter")
    expect(console.page.locator("#pack-figure-price")).to_have_text("9.99 USD")
    changed = console.engine.get_pack("starter")
    assert (changed.price_minor, changed.bonus_credits) == (999, Credits.parse("25"))


def test_a_free_pack_that_is_not_free_once_is_refused_on_its_page(console: Console) -> None:
    console.engine.create_pack("starter", name="Starter", credits="100", price_minor=499)
    console.sign_in()
    console.open("/admin/packs/starter")

    console.page.get_by_label("Price, in minor units").fill("0")
    console.page.get_by_role("button", name="Save pack").click()

    expect(console.page.get_by_role("alert")).to_contain_text("a free-once pack has price 0")
    assert console.engine.get_pack("starter").price_minor == 499


def test_deactivating_a_pack_takes_it_off_sale(console: Console) -> None:
    console.engine.create_pack("starter", name="Starter", credits="100", price_minor=499)
    console.sign_in()
    console.open("/admin/packs/starter")

    console.page.get_by_role("button", name="Deactivate").click()

    expect(console.page.get_by_role("status")).to_contain_text("deactivated")
    expect(console.page.locator("#pack-figure-state")).to_have_text("inactive")
    assert not console.engine.get_pack("starter").is_active
    assert console.engine.packs() == ()


# Promo codes


def test_a_promo_created_through_the_form_is_what_the_engine_holds(console: Console) -> None:
    console.sign_in()
    console.open("/admin/promos")
    page = console.page

    page.get_by_label("Code").fill("spring-25")
    page.get_by_label("Credits per redemption").fill("5")
    page.get_by_label("Most accounts").fill("100")
    page.get_by_label("Redeemable until").fill("2026-02-01T00:00")
    page.get_by_label("Granted credits expire").fill("30")
    page.get_by_role("button", name="Create promo code").click()

    expect(page.get_by_role("status")).to_contain_text("created promo code SPRING-25")
    expect(page.locator("#promos")).to_contain_text("redeemable")
    made = console.engine.get_promo("SPRING-25")
    assert (made.credits, made.max_redemptions, made.expires_after_days) == (
        Credits.parse("5"),
        100,
        30,
    )
    assert (made.starts_at, made.ends_at, made.redeemed) == (
        None,
        datetime(2026, 2, 1, tzinfo=UTC),
        0,
    )
    console.screenshot("promos")


def test_a_taken_promo_code_is_refused_in_any_case(console: Console) -> None:
    console.engine.create_promo("SPRING-25", credits="5")
    console.sign_in()
    console.open("/admin/promos")
    page = console.page
    page.get_by_label("Code").fill("spring-25")
    page.get_by_label("Credits per redemption").fill("500")

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create promo code").click()

    assert answer.value.status == 409
    expect(page.get_by_role("alert")).to_contain_text("promo code 'SPRING-25' exists already")
    assert console.engine.get_promo("SPRING-25").credits == Credits.parse("5")


def test_a_promo_changed_through_its_form_changes_in_the_engine(console: Console) -> None:
    ends_at = datetime(2026, 3, 1, 8, 30, 15, tzinfo=UTC)
    console.engine.create_promo("SPRING-25", credits="5", max_redemptions=100, ends_at=ends_at)
    console.sign_in()
    console.open("/admin/promos")
    console.page.get_by_role("link", name="SPRING-25").click()

    console.page.get_by_label("Credits per redemption").fill("7.5")
    console.page.get_by_label("Most accounts").fill("3")
    console.page.get_by_role("button", name="Save promo code").click()

    expect(console.page.get_by_role("status")).to_contain_text("updated promo code SPRING-25")
    expect(console.page.locator("#promo-figure-redeemed")).to_have_text("0 of 3")
    changed = console.engine.get_promo("SPRING-25")
    assert (changed.credits, changed.max_redemptions, changed.ends_at) == (
        Credits.parse("7.5"),
        3,
        ends_at,
    )


def test_a_promo_limit_below_its_redemptions_is_refused(console: Console) -> None:
    console.engine.create_account("user_2")
    console.engine.create_promo("SPRING-25", credits="5", max_redemptions=100)
    console.engine.redeem(ACCOUNT, "SPRING-25")
    console.engine.redeem("user_2", "spring-25")
    console.sign_in()
    console.open("/admin/promos/SPRING-25")

    console.page.get_by_label("Most accounts").fill("1")
    console.page.get_by_role("button", name="Save promo code").click()

    expect(console.page.get_by_role("alert")).to_contain_text("at least the 2 redemptions")
    assert console.engine.get_promo("SPRING-25").max_redemptions == 100


def test_deactivating_a_promo_stops_its_redemptions(console: Console) -> None:
    console.engine.create_promo("SPRING-25", credits="5")
    console.sign_in()
    console.open("/admin/promos/SPRING-25")

    console.page.get_by_role("button", name="Deactivate").click()

    expect(console.page.get_by_role("status")).to_contain_text("deactivated")
    expect(console.page.locator("#promo-figure-state")).to_have_text("inactive")
    assert not console.engine.get_promo("SPRING-25").is_active


# Every page


CATALOG_PAGES = [
    ("/admin/plans", "/admin/plans/pro"),
    ("/admin/packs", "/admin/packs/starter"),
    ("/admin/promos", "/admin/promos/SPRING-25"),
]
"""Each catalog's list and one of its items, once `_seed_catalog` has run."""


@pytest.mark.parametrize("paths", CATALOG_PAGES, ids=["plans", "packs", "promos"])
def test_every_field_has_a_label(console: Console, paths: tuple[str, str]) -> None:
    _seed_catalog(console)
    console.sign_in()

    unlabelled = {path: console.unlabelled(path) for path in paths}

    assert unlabelled == {path: [] for path in paths}


@pytest.mark.parametrize("paths", CATALOG_PAGES, ids=["plans", "packs", "promos"])
def test_the_pages_fit_a_phone_screen(console: Console, paths: tuple[str, str]) -> None:
    _seed_catalog(console)
    console.sign_in()
    console.page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    overflows: dict[str, bool] = {}

    for path in paths:
        console.open(path)
        expect(console.page.get_by_role("heading", level=1)).to_be_visible()
        overflows[path] = console.page.evaluate(OVERFLOWS)

    assert overflows == dict.fromkeys(paths, False)

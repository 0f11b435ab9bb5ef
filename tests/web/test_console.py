"""The admin console's sign-in, features, accounts and keys, in a real browser."""

from datetime import timedelta

import httpx
from playwright.sync_api import expect

from creditgate import Credits, ManualClock
from creditgate.app import create_app
from creditgate.settings import Settings
from tests.conftest import START
from tests.servers import live
from tests.web.browsing import ACCOUNT, FEATURE, ON_SQLITE, Console

pytestmark = ON_SQLITE


def test_sign_in_opens_the_features_page(console: Console) -> None:
    console.sign_in()

    expect(console.page.get_by_role("link", name=FEATURE)).to_be_visible()
    expect(console.page.get_by_role("link", name="video.generate")).to_be_visible()
    console.screenshot("features")


def test_a_read_key_is_refused_at_sign_in(console: Console) -> None:
    _, read_key = console.engine.create_key("read", name="reader")
    console.open("/admin/login")

    console.page.get_by_label("Admin API key").fill(read_key)
    console.page.get_by_role("button", name="Sign in").click()

    expect(console.page.get_by_role("alert")).to_contain_text("the call needs admin")
    console.screenshot("sign_in_refused")


def test_failed_sign_ins_from_one_address_are_throttled(console: Console) -> None:
    settings = Settings(auth_failures_max=3, auth_failures_window_s=3600)
    page = console.page
    with live(create_app(settings, engine=console.engine)) as url:
        page.goto(f"{url}/admin/login")
        for _ in range(3):
            page.get_by_label("Admin API key").fill("cg_0000000000_not-a-key-at-all-not-a-key")
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("alert")).to_contain_text("API key")

        page.get_by_label("Admin API key").fill(console.admin_key)
        page.get_by_role("button", name="Sign in").click()

        expect(page.get_by_role("alert")).to_contain_text("retry in")
        assert page.url == f"{url}/admin/login"


def test_a_page_that_needs_sign_in_redirects_to_it_when_signed_out(console: Console) -> None:
    answer = httpx.get(f"{console.url}/admin/accounts", follow_redirects=False)

    console.open("/admin/accounts")

    assert (answer.status_code, answer.headers["location"]) == (303, "/admin/login")
    assert console.page.url == f"{console.url}/admin/login"
    console.screenshot("sign_in")


def test_a_new_price_is_what_the_quote_answers(console: Console) -> None:
    console.sign_in()
    console.page.get_by_role("link", name=FEATURE).click()

    console.page.get_by_label("Credits per call").fill("3.5")
    console.page.get_by_role("button", name="Set price").click()

    expect(console.page.get_by_role("status")).to_contain_text("price version 2 set")
    expect(console.page.locator("#prices")).to_contain_text("flat credits=3.5")
    assert console.engine.quote(FEATURE).amount == Credits.parse("3.5")
    console.screenshot("feature")


def test_a_bad_price_is_shown_on_the_page_and_changes_nothing(console: Console) -> None:
    console.sign_in()
    console.open(f"/admin/features/{FEATURE}")

    console.page.get_by_label("Credits per call").fill("lots")
    console.page.get_by_role("button", name="Set price").click()

    expect(console.page.get_by_role("alert")).to_contain_text("credits")
    assert console.engine.quote(FEATURE).amount == Credits.parse("2")


def test_deactivating_a_feature_stops_its_quotes(console: Console) -> None:
    console.sign_in()
    console.open(f"/admin/features/{FEATURE}")

    console.page.get_by_role("button", name="Deactivate").click()

    expect(console.page.get_by_role("status")).to_contain_text("deactivated")
    assert not console.engine.get_feature(FEATURE).is_active


def test_a_grant_appears_in_the_accounts_history(console: Console) -> None:
    console.sign_in()
    console.page.get_by_role("link", name="Accounts").click()
    console.page.get_by_label("Account id").fill(ACCOUNT)
    console.page.get_by_role("button", name="Open").click()

    console.page.get_by_label("Credits", exact=True).fill("12.5")
    console.page.get_by_role("button", name="Grant").click()

    expect(console.page.get_by_role("status")).to_contain_text("granted 12.5")
    expect(console.page.locator("#entries")).to_contain_text("grant")
    expect(console.page.locator("#balance")).to_have_text("12.5")
    assert console.engine.balance(ACCOUNT).balance == Credits.parse("12.5")
    console.screenshot("account")


def test_an_adjustment_beyond_the_balance_is_refused_on_the_page(console: Console) -> None:
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")

    console.page.get_by_label("Credits (signed").fill("-5")
    console.page.get_by_label("Reason", exact=True).fill("goodwill reversal")
    console.page.get_by_role("button", name="Adjust").click()

    expect(console.page.get_by_role("alert")).to_be_visible()
    assert console.engine.balance(ACCOUNT).balance == Credits.parse("0")


def test_history_filters_by_kind(console: Console) -> None:
    console.engine.grant(ACCOUNT, "5")
    console.engine.adjust(ACCOUNT, "-1", reason="typo", actor="test")
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")

    console.page.get_by_label("Kind").select_option("adjust")
    console.page.get_by_role("button", name="Filter").click()

    rows = console.page.locator("#entries tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("adjust")


def test_a_revoked_key_is_refused_by_the_api(console: Console) -> None:
    made, text = console.engine.create_key("write", name="doomed")
    before = httpx.get(
        f"{console.url}/v1/accounts/{ACCOUNT}/balance", headers={"Authorization": f"Bearer {text}"}
    )
    console.sign_in()
    console.page.get_by_role("link", name="API keys").click()

    console.page.get_by_role("button", name=f"Revoke key {made.prefix}").click()

    expect(console.page.get_by_role("status")).to_contain_text(f"revoked key {made.prefix}")
    after = httpx.get(
        f"{console.url}/v1/accounts/{ACCOUNT}/balance", headers={"Authorization": f"Bearer {text}"}
    )
    assert (before.status_code, after.status_code) == (200, 401)
    console.screenshot("keys")


def test_a_new_key_is_shown_once_and_works(console: Console) -> None:
    console.sign_in()
    console.open("/admin/keys")

    console.page.get_by_label("Name").fill("worker")
    console.page.get_by_label("Scope").select_option("read")
    console.page.get_by_role("button", name="Create key").click()

    text = console.page.get_by_label("API key").input_value()
    assert console.engine.authenticate(text).name == "worker"
    console.open("/admin/keys")
    assert text not in console.page.content()


def test_a_post_without_its_csrf_token_answers_403(console: Console) -> None:
    console.sign_in()

    answer = console.page.request.post(
        f"{console.url}/admin/accounts/{ACCOUNT}/grants", form={"amount": "100"}
    )

    assert answer.status == 403
    assert console.engine.balance(ACCOUNT).balance == Credits.parse("0")
    console.page.set_content(answer.text())
    console.screenshot("csrf_refused")


def test_a_sign_in_without_its_csrf_token_answers_403(console: Console) -> None:
    answer = httpx.post(f"{console.url}/admin/login", data={"api_key": console.admin_key})

    assert answer.status_code == 403
    assert "cg_admin=" not in answer.headers.get("set-cookie", "")


def test_sign_out_ends_the_session(console: Console) -> None:
    console.sign_in()

    console.page.get_by_role("button", name="Sign out").click()
    console.open("/admin/keys")

    assert console.page.url == f"{console.url}/admin/login"


def test_the_session_cookie_is_http_only_and_strict(console: Console) -> None:
    console.sign_in()

    cookie = next(c for c in console.page.context.cookies() if c["name"] == "cg_admin")

    assert (cookie.get("httpOnly"), cookie.get("sameSite")) == (True, "Strict")
    assert console.admin_key not in cookie.get("value", "")


def test_pages_fit_a_phone_screen(console: Console) -> None:
    console.sign_in()
    console.page.set_viewport_size({"width": 375, "height": 740})

    console.open(f"/admin/accounts/{ACCOUNT}")

    overflow = console.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    console.screenshot("account_phone")


def test_sign_in_works_from_the_keyboard(console: Console) -> None:
    console.open("/admin/login")
    expect(console.page.get_by_label("Admin API key")).to_be_focused()

    console.page.keyboard.type(console.admin_key)
    console.page.keyboard.press("Enter")

    expect(console.page.get_by_role("heading", name="Features")).to_be_visible()


def test_every_field_has_a_label(console: Console) -> None:
    console.sign_in()
    unlabelled = {}

    for path in (
        "/admin/features",
        f"/admin/features/{FEATURE}",
        "/admin/accounts",
        f"/admin/accounts/{ACCOUNT}",
        "/admin/keys",
    ):
        unlabelled[path] = console.unlabelled(path)

    assert all(fields == [] for fields in unlabelled.values()), unlabelled


def test_a_new_feature_is_created_from_the_features_page(console: Console) -> None:
    console.sign_in()

    console.page.get_by_label("Key (letters").fill("audio.speech")
    console.page.get_by_label("Name").fill("Speech")
    console.page.get_by_label("Category (optional)").fill("audio")
    console.page.get_by_role("button", name="Create feature").click()

    expect(console.page.get_by_role("status")).to_contain_text("feature audio.speech created")
    made = console.engine.get_feature("audio.speech")
    assert (made.name, made.category, made.is_active) == ("Speech", "audio", True)


def test_a_taken_feature_key_is_refused_and_keeps_what_was_typed(console: Console) -> None:
    console.sign_in()
    before = console.engine.features()

    console.page.get_by_label("Key (letters").fill(FEATURE)
    console.page.get_by_label("Name").fill("Again")
    with console.page.expect_navigation() as navigation:
        console.page.get_by_role("button", name="Create feature").click()

    assert navigation.value.status == 409
    expect(console.page.get_by_role("alert")).to_contain_text(FEATURE)
    expect(console.page.get_by_label("Name")).to_have_value("Again")
    assert console.engine.features() == before


def test_a_rule_typed_as_json_prices_the_next_quote(console: Console) -> None:
    console.sign_in()
    console.open(f"/admin/features/{FEATURE}")

    console.page.get_by_label("Rule as JSON").fill(
        '{"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}'
    )
    console.page.get_by_label("Model or family").fill("sdxl")
    console.page.get_by_label("Least a call costs").fill("2")
    console.page.get_by_role("button", name="Set rule").click()

    expect(console.page.get_by_role("status")).to_contain_text("price version")
    quote = console.engine.quote(FEATURE, model="sdxl", quantity=40)
    assert quote.amount == Credits.parse("3")
    assert console.engine.quote(FEATURE, model="sdxl", quantity=1).amount == Credits.parse("2")
    assert console.engine.quote(FEATURE).amount == Credits.parse("2")


def test_a_rule_that_is_not_json_or_not_a_rule_changes_nothing(console: Console) -> None:
    console.sign_in()
    console.open(f"/admin/features/{FEATURE}")
    history = console.engine.price_history(FEATURE)

    for typed in ("per_block please", '{"rule": "auction"}', '["flat"]'):
        console.page.get_by_label("Rule as JSON").fill(typed)
        console.page.get_by_role("button", name="Set rule").click()
        expect(console.page.get_by_role("alert")).to_contain_text("rule")

    assert console.engine.price_history(FEATURE) == history


def test_retiring_a_price_stops_its_quotes(console: Console) -> None:
    console.engine.set_price(FEATURE, {"rule": "flat", "credits": "7"}, model="flux-pro")
    console.sign_in()
    console.open(f"/admin/features/{FEATURE}")

    console.page.get_by_role("button", name="Retire the flux-pro price").click()

    expect(console.page.get_by_role("status")).to_contain_text("retired the flux-pro price")
    assert [p.model for p in console.engine.prices(FEATURE)] == [None]
    assert console.engine.quote(FEATURE, model="flux-pro").amount == Credits.parse("2")


def test_history_filters_by_feature_and_time_and_pages_on(
    console: Console, clock: ManualClock
) -> None:
    console.engine.grant(ACCOUNT, "500")
    clock.advance(timedelta(hours=1))
    console.engine.charge(ACCOUNT, feature=FEATURE)
    console.engine.charge(ACCOUNT, feature="video.generate")
    clock.advance(timedelta(hours=1))
    for _ in range(55):
        console.engine.charge(ACCOUNT, feature=FEATURE)
    console.sign_in()
    console.open(f"/admin/accounts/{ACCOUNT}")
    first_hour = (START + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
    second_hour = (START + timedelta(minutes=90)).strftime("%Y-%m-%dT%H:%M")

    console.page.get_by_label("Feature", exact=True).fill("video.generate")
    console.page.get_by_role("button", name="Filter").click()
    videos = console.page.locator("#entries tbody tr").count()
    console.page.get_by_label("Feature", exact=True).fill(FEATURE)
    console.page.get_by_label("From (UTC)").fill(first_hour)
    console.page.get_by_label("Until (UTC)").fill(second_hour)
    console.page.get_by_role("button", name="Filter").click()
    in_range = console.page.locator("#entries tbody tr").count()
    console.open(f"/admin/accounts/{ACCOUNT}?feature={FEATURE}")
    console.page.get_by_role("link", name="Older entries").click()
    older = console.page.locator("#entries tbody tr").count()

    assert (videos, in_range, older) == (1, 1, 6)


def test_a_bad_history_time_is_refused_on_the_page(console: Console) -> None:
    console.sign_in()

    status = console.page.goto(f"{console.url}/admin/accounts/{ACCOUNT}?since=yesterday")

    assert status is not None
    assert status.status == 422
    expect(console.page.get_by_role("alert")).to_contain_text("since")

"""The console's guest quotas, webhook endpoints with their delivery log, and verify."""

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import text

from creditgate import Credits
from creditgate.domain.catalog import catalog_data
from creditgate.domain.guests import GuestQuota
from creditgate.domain.webhooks import AttemptOutcome, DeliveryStatus
from creditgate.storage.database import Database
from tests.web.browsing import ACCOUNT, FEATURE, ON_SQLITE, Console

pytestmark = ON_SQLITE

HOOK_URL = "https://hooks.example.com/creditgate"


def with_guests(console: Console, *quotas: dict[str, object]) -> None:
    """Give the console's catalog these guest quotas, through a catalog file as apps do."""
    data = catalog_data(console.engine.export_catalog())
    data["guests"] = list(quotas)
    console.engine.apply_catalog(data)


def test_a_guest_quota_set_through_the_form_is_in_force(console: Console) -> None:
    console.sign_in()
    console.page.get_by_role("link", name="Guests").click()

    console.page.get_by_label("Feature", exact=True).select_option(FEATURE)
    console.page.get_by_label("Uses", exact=True).fill("3")
    console.page.get_by_label("Per window").fill("24h")
    console.page.get_by_role("button", name="Set quota").click()
    console.page.get_by_label("Feature", exact=True).select_option("every feature")
    console.page.get_by_label("Uses", exact=True).fill("10")
    console.page.get_by_label("Per window").fill("7d")
    console.page.get_by_role("button", name="Set quota").click()

    expect(console.page.get_by_role("status")).to_contain_text("every feature set")
    expect(console.page.locator("#quotas")).to_contain_text("7d")
    assert console.engine.guest_quotas() == (
        GuestQuota(uses=10, window_s=7 * 86400),
        GuestQuota(uses=3, window_s=86400, feature=FEATURE),
    )
    console.screenshot("guests")


def test_changing_and_removing_a_quota_keeps_the_rest_of_the_catalog(console: Console) -> None:
    with_guests(
        console, {"uses": 5, "window": "1h"}, {"feature": FEATURE, "uses": 2, "window": "1h"}
    )
    before = console.engine.export_catalog()
    console.sign_in()
    console.open("/admin/guests")

    console.page.get_by_label("Feature", exact=True).select_option("every feature")
    console.page.get_by_label("Uses", exact=True).fill("8")
    console.page.get_by_label("Per window").fill("30m")
    console.page.get_by_role("button", name="Set quota").click()
    console.page.get_by_role("button", name=f"Remove the quota for {FEATURE}").click()

    expect(console.page.get_by_role("status")).to_contain_text(f"guest quota for {FEATURE} removed")
    assert console.engine.guest_quotas() == (GuestQuota(uses=8, window_s=1800),)
    after = console.engine.export_catalog()
    assert (after.features, after.plans, after.packs) == (
        before.features,
        before.plans,
        before.packs,
    )
    assert console.engine.quote(FEATURE).amount == Credits.parse("2")


def test_a_bad_window_is_refused_with_the_engines_error_and_changes_nothing(
    console: Console,
) -> None:
    with_guests(console, {"uses": 5, "window": "1h"})
    console.sign_in()
    console.open("/admin/guests")

    console.page.get_by_label("Uses", exact=True).fill("5")
    console.page.get_by_label("Per window").fill("5 parsecs")
    console.page.get_by_role("button", name="Set quota").click()

    expect(console.page.get_by_role("alert")).to_contain_text("a duration such as")
    assert console.engine.guest_quotas() == (GuestQuota(uses=5, window_s=3600),)


def test_a_quota_posted_without_its_csrf_token_answers_403(console: Console) -> None:
    console.sign_in()

    answer = console.page.request.post(
        f"{console.url}/admin/guests", form={"uses": "100", "window": "1h"}
    )

    assert answer.status == 403
    assert console.engine.guest_quotas() == ()


def test_the_default_low_balance_line_is_set_beside_the_quotas(console: Console) -> None:
    console.sign_in()
    console.open("/admin/guests")

    console.page.get_by_label("Credits (empty for none)").fill("4.5")
    console.page.get_by_role("button", name="Set line").click()

    expect(console.page.locator("#low-balance")).to_contain_text("Below 4.5 credits")
    assert console.engine.export_catalog().low_balance == Credits.parse("4.5")


def test_a_new_endpoints_secret_is_shown_once(console: Console) -> None:
    console.sign_in()
    console.page.get_by_role("link", name="Webhooks").click()

    console.page.get_by_label("URL").fill(HOOK_URL)
    console.page.get_by_label("every type, now and to come").uncheck()
    console.page.get_by_label("credits.granted").check()
    console.page.get_by_label("balance.low").check()
    console.page.get_by_role("button", name="Add endpoint").click()

    secret = console.page.get_by_label("Signing secret").input_value()
    (endpoint,) = console.engine.webhook_endpoints()
    assert secret.startswith("whsec_")
    assert (endpoint.url, endpoint.event_types) == (HOOK_URL, ("balance.low", "credits.granted"))
    console.open("/admin/webhooks")
    expect(console.page.locator("#endpoints")).to_contain_text(HOOK_URL)
    assert secret not in console.page.content()
    console.screenshot("webhooks")


def test_the_secret_page_is_never_cached(console: Console) -> None:
    console.sign_in()
    console.open("/admin/webhooks")
    console.page.get_by_label("URL").fill(HOOK_URL)

    with console.page.expect_response(re.compile(r"/admin/webhooks$")) as answered:
        console.page.get_by_role("button", name="Add endpoint").click()

    assert answered.value.headers["cache-control"] == "no-store"


def test_a_bad_url_is_refused_and_adds_nothing(console: Console) -> None:
    console.sign_in()
    console.open("/admin/webhooks")

    console.page.get_by_label("URL").fill("ftp://hooks.example.com/x")
    console.page.get_by_role("button", name="Add endpoint").click()

    expect(console.page.get_by_role("alert")).to_contain_text("url")
    assert console.engine.webhook_endpoints() == ()


def test_a_grant_shows_in_the_endpoints_delivery_log_and_is_redelivered(
    console: Console,
) -> None:
    engine = console.engine
    endpoint, _ = engine.create_webhook_endpoint(HOOK_URL, event_types=["credits.granted"])
    engine.grant(ACCOUNT, "5")
    (claimed,) = engine.claim_webhook_deliveries(limit=10)
    engine.record_webhook_attempt(
        claimed, AttemptOutcome(status_code=503, error=None, duration_ms=12)
    )
    (delivery,) = engine.webhook_deliveries(endpoint.id).items
    retry_at = engine.clock.now() + timedelta(seconds=5)
    assert delivery.next_attempt_at == retry_at
    console.sign_in()
    console.open("/admin/webhooks")
    console.page.get_by_role("link", name=HOOK_URL).click()

    log = console.page.locator("#deliveries")
    expect(log).to_contain_text(delivery.event.id)
    expect(log).to_contain_text("credits.granted")
    expect(log).to_contain_text("pending")
    expect(log).to_contain_text("HTTP 503")
    expect(log).to_contain_text(retry_at.isoformat(timespec="seconds"))
    console.screenshot("webhook")
    console.page.get_by_role("button", name=f"Redeliver {delivery.event.id}").click()

    expect(console.page.get_by_role("status")).to_contain_text(f"delivery {delivery.id} is due now")
    (again,) = engine.webhook_deliveries(endpoint.id).items
    assert (again.status, again.next_attempt_at) == (DeliveryStatus.PENDING, engine.clock.now())


def test_an_endpoint_is_changed_through_its_form(console: Console) -> None:
    endpoint, _ = console.engine.create_webhook_endpoint(HOOK_URL)
    console.sign_in()
    console.open(f"/admin/webhooks/{endpoint.id}")

    console.page.get_by_label("URL").fill(f"{HOOK_URL}/v2")
    console.page.get_by_label("every type, now and to come").uncheck()
    console.page.get_by_label("hold.expired").check()
    console.page.get_by_label("Active").uncheck()
    console.page.get_by_role("button", name="Save endpoint").click()

    expect(console.page.get_by_role("status")).to_contain_text("endpoint updated")
    changed = console.engine.get_webhook_endpoint(endpoint.id)
    assert (changed.url, changed.event_types, changed.is_enabled) == (
        f"{HOOK_URL}/v2",
        ("hold.expired",),
        False,
    )


def test_an_endpoint_without_event_types_is_refused_and_unchanged(console: Console) -> None:
    endpoint, _ = console.engine.create_webhook_endpoint(HOOK_URL)
    console.sign_in()
    console.open(f"/admin/webhooks/{endpoint.id}")

    console.page.get_by_label("every type, now and to come").uncheck()
    console.page.get_by_role("button", name="Save endpoint").click()

    expect(console.page.get_by_role("alert")).to_contain_text("event_types")
    assert console.engine.get_webhook_endpoint(endpoint.id) == endpoint


def test_a_rotated_secret_is_shown_once(console: Console) -> None:
    endpoint, first = console.engine.create_webhook_endpoint(HOOK_URL)
    console.sign_in()
    console.open(f"/admin/webhooks/{endpoint.id}")

    console.page.get_by_role("button", name="Rotate secret").click()

    expect(console.page.get_by_role("heading", name="Signing secret rotated")).to_be_visible()
    second = console.page.get_by_label("Signing secret").input_value()
    assert second.startswith("whsec_")
    assert second != first
    console.page.get_by_role("link", name="Go to the endpoint").click()
    assert second not in console.page.content()


def test_deleting_an_endpoint_removes_it(console: Console) -> None:
    endpoint, _ = console.engine.create_webhook_endpoint(HOOK_URL)
    console.engine.grant(ACCOUNT, "5")
    console.sign_in()
    console.open(f"/admin/webhooks/{endpoint.id}")

    console.page.get_by_role("button", name="Delete endpoint").click()

    expect(console.page.get_by_role("status")).to_contain_text(f"endpoint {endpoint.id} deleted")
    expect(console.page.locator("#endpoints")).to_contain_text("No endpoints yet.")
    assert console.engine.webhook_endpoints() == ()


def test_a_missing_endpoint_answers_404(console: Console) -> None:
    console.sign_in()

    answer = console.page.goto(f"{console.url}/admin/webhooks/999")

    assert answer is not None
    assert answer.status == 404
    expect(console.page.get_by_role("alert")).to_contain_text("webhook endpoint 999")


def test_verify_reports_a_clean_ledger(console: Console) -> None:
    console.engine.grant(ACCOUNT, "5")
    console.engine.charge(ACCOUNT, feature=FEATURE)
    console.sign_in()
    console.page.get_by_role("link", name="Verify").click()

    console.page.get_by_role("button", name="Run verify").click()

    expect(console.page.get_by_role("status")).to_contain_text("every invariant holds")
    expect(console.page.locator("#accounts-checked")).to_have_text("1")
    expect(console.page.locator("#entries-checked")).to_have_text("2")
    expect(console.page.locator("#problem-count")).to_have_text("0")
    console.screenshot("verify")


def test_verify_lists_each_problem_of_a_corrupted_ledger(
    console: Console, database: Database
) -> None:
    console.engine.grant(ACCOUNT, "5")
    edit = text("UPDATE accounts SET balance = balance + 1000 WHERE external_id = :account")
    with database.write() as conn:  # a balance edited behind the engine's back
        conn.execute(edit, {"account": ACCOUNT})
    console.sign_in()
    console.open("/admin/verify")

    console.page.get_by_role("button", name="Run verify").click()

    expect(console.page.get_by_role("alert")).to_contain_text("found")
    problems = console.page.locator("#problems")
    expect(problems).to_contain_text("balance_is_sum_of_entries")
    expect(problems).to_contain_text(ACCOUNT)
    count = len(console.engine.verify().problems)
    expect(console.page.locator("#problem-count")).to_have_text(str(count))


def test_the_webhooks_page_fits_a_phone_screen(console: Console) -> None:
    console.engine.create_webhook_endpoint(f"{HOOK_URL}/{'very-long-path-segment' * 4}")
    console.sign_in()
    console.page.set_viewport_size({"width": 375, "height": 740})

    console.open("/admin/webhooks")

    overflow = console.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    console.screenshot("webhooks_phone")


def test_every_field_of_these_pages_has_a_label(console: Console) -> None:
    endpoint, _ = console.engine.create_webhook_endpoint(HOOK_URL)
    console.engine.grant(ACCOUNT, "5")
    console.sign_in()
    unlabelled = {}

    for path in (
        "/admin/guests",
        "/admin/webhooks",
        f"/admin/webhooks/{endpoint.id}",
        "/admin/verify",
        "/admin/verify?run=1",
    ):
        unlabelled[path] = console.unlabelled(path)

    assert all(fields == [] for fields in unlabelled.values()), unlabelled

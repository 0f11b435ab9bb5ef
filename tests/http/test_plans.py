"""Plans and subscriptions over HTTP: the pricing page, subscribe, cancel and resume.

Tests act on plans and accounts of their own in the module's shared world; the world's
plans grant no credits, so these tests make plans that do.
"""

from creditgate import Credits
from creditgate.schemas import PlanOut, PlanOverviewOut, SubscriptionOut
from tests.factories import funded_account
from tests.http.fixtures import (
    PLAN,
    Service,
    fresh_id,
    service_fixture,  # noqa: F401
    snapshot,
)


def selling(service: Service, credits: str = "500") -> str:
    """A plan of the test's own that grants `credits` per monthly cycle."""
    key = fresh_id("plan").replace("_", "-")
    service.engine.create_plan(key, name="Own", credits=credits, prices={"month": 1500})
    return key


def test_plans_answers_the_plans_on_sale(service: Service) -> None:
    response = service.http.get("/v1/plans", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == [
        PlanOut.of(p).model_dump(mode="json") for p in service.engine.plans()
    ]
    assert PLAN in [p["key"] for p in response.json()]


def test_create_plan_adds_it_with_prices_in_minor_units(service: Service) -> None:
    body = {
        "key": "premium-own",
        "name": "Premium",
        "credits": "1200",
        "prices": {"month": 2900, "year": 29000},
        "rollover": "capped",
        "rollover_cap": "100",
    }

    response = service.http.post("/v1/plans", json=body, headers=service.keys.header("admin"))

    assert response.status_code == 200, response.text
    assert response.json() == PlanOut.of(service.engine.get_plan("premium-own")).model_dump(
        mode="json"
    )
    assert (response.json()["credits"], response.json()["prices"]) == (
        "1200",
        {"month": 2900, "year": 29000},
    )


def test_create_plan_answers_409_and_changes_nothing_when_the_key_is_taken(
    service: Service,
) -> None:
    before = service.engine.plans(include_inactive=True)
    body = {"key": PLAN, "name": "Other", "credits": "5"}

    response = service.http.post("/v1/plans", json=body, headers=service.keys.header("admin"))

    assert (response.status_code, response.json()["code"]) == (409, "plan_exists")
    assert service.engine.plans(include_inactive=True) == before


def test_get_plan_answers_the_engines_plan(service: Service) -> None:
    response = service.http.get(f"/v1/plans/{PLAN}", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == PlanOut.of(service.engine.get_plan(PLAN)).model_dump(mode="json")


def test_update_plan_changes_its_credits_per_cycle(service: Service) -> None:
    key = selling(service)

    response = service.http.patch(
        f"/v1/plans/{key}", json={"credits": "650"}, headers=service.keys.header("admin")
    )

    assert response.status_code == 200, response.text
    assert service.engine.get_plan(key).credits == Credits.parse("650")


def test_deactivate_plan_stops_selling_it(service: Service) -> None:
    key = selling(service)

    response = service.http.post(
        f"/v1/plans/{key}/deactivate", headers=service.keys.header("admin")
    )

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert key not in [p.key for p in service.engine.plans()]


def test_plan_overview_answers_plans_subscription_and_balance(service: Service) -> None:
    account = fresh_id("user")
    funded_account(service.engine, account, 10)
    service.engine.subscribe(account, selling(service))

    response = service.http.get(
        f"/v1/accounts/{account}/plans", headers=service.keys.header("read")
    )

    assert response.status_code == 200
    expected = PlanOverviewOut.of(service.engine.plan_overview(account))
    assert response.json() == expected.model_dump(mode="json")
    assert response.json()["balance"]["balance"] == "510"


def test_subscription_answers_the_live_subscription_or_null(service: Service) -> None:
    account = fresh_id("user")
    funded_account(service.engine, account, 10)
    headers = service.keys.header("read")

    before = service.http.get(f"/v1/accounts/{account}/subscription", headers=headers)
    service.engine.subscribe(account, PLAN)
    after = service.http.get(f"/v1/accounts/{account}/subscription", headers=headers)

    assert (before.status_code, before.json()) == (200, None)
    found = service.engine.subscription(account)
    assert found is not None
    assert after.json() == SubscriptionOut.of(found).model_dump(mode="json")


def test_subscribe_grants_the_first_cycle_and_answers_the_receipt(service: Service) -> None:
    account = fresh_id("user")
    funded_account(service.engine, account, 10)
    key = selling(service, "500")

    response = service.http.post(
        f"/v1/accounts/{account}/subscription",
        json={"plan": key, "interval": "month"},
        headers=service.keys.header("write"),
    )

    assert response.status_code == 200, response.text
    assert response.json()["subscription"]["plan"] == key
    assert response.json()["balance"]["available"] == "510"
    assert service.engine.balance(account).available == Credits.parse("510")


def test_subscribe_answers_404_and_changes_nothing_when_the_plan_is_unknown(
    service: Service,
) -> None:
    before = snapshot(service.engine)

    response = service.http.post(
        f"/v1/accounts/{service.world.ours.account_id}/subscription",
        json={"plan": "no-such-plan"},
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["code"]) == (404, "plan_not_found")
    assert snapshot(service.engine) == before


def test_cancel_subscription_ends_it_at_the_period_end(service: Service) -> None:
    account = fresh_id("user")
    funded_account(service.engine, account, 10)
    service.engine.subscribe(account, selling(service))

    response = service.http.post(
        f"/v1/accounts/{account}/subscription/cancel", headers=service.keys.header("write")
    )

    assert response.status_code == 200, response.text
    assert response.json()["subscription"]["cancel_at_period_end"] is True


def test_resume_subscription_undoes_the_cancellation(service: Service) -> None:
    account = fresh_id("user")
    funded_account(service.engine, account, 10)
    service.engine.subscribe(account, selling(service))
    service.engine.cancel_subscription(account)

    response = service.http.post(
        f"/v1/accounts/{account}/subscription/resume", headers=service.keys.header("write")
    )

    assert response.status_code == 200, response.text
    assert response.json()["subscription"]["cancel_at_period_end"] is False
    sub = service.engine.subscription(account)
    assert sub is not None
    assert not sub.cancel_at_period_end

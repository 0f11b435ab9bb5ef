"""Subscriptions Stripe bills, on real SQLite and PostgreSQL: paid invoices grant cycles.

The engine's provider verbs are called as the Stripe webhook calls them; the manual clock
walks the calendar. A cycle is granted for a period Stripe said is paid, never before.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from creditgate import (
    Credits,
    Engine,
    InvalidInput,
    ManualClock,
    Provider,
    ProviderEvent,
)
from creditgate.domain.events import EventResult, Outcome
from creditgate.domain.plans import add_months
from tests.conftest import START

SUB = "sub_test_1"


def c(value: int | str) -> Credits:
    return Credits.parse(value)


def event(event_id: str, kind: str = "invoice.paid") -> ProviderEvent:
    return ProviderEvent(provider=Provider.STRIPE, event_id=event_id, type=kind)


@pytest.fixture
def billed(engine: Engine) -> Engine:
    """A free default plan, Basic (500 a month, $15 or $210 a year), and a customer on Free."""
    engine.create_plan("free", name="Free", credits=60, prices={"month": 0}, is_default=True)
    engine.create_plan("basic", name="Basic", credits=500, prices={"month": 1500, "year": 21000})
    engine.create_account("user_1")
    return engine


def paid(
    engine: Engine,
    event_id: str,
    start: datetime,
    *,
    months: int = 1,
    interval: str = "month",
    amount: int = 1500,
    currency: str = "usd",
) -> EventResult:
    """Deliver `invoice.paid` for the period of `months` from `start`."""
    return engine.pay_invoice(
        event(event_id),
        account_id="user_1",
        plan="basic",
        interval=interval,
        subscription_ref=SUB,
        period_start=start,
        period_end=add_months(start, months),
        amount_minor=amount,
        currency=currency,
    )


def test_first_paid_invoice_starts_the_plan_anchored_at_its_period(billed: Engine) -> None:
    result = paid(billed, "evt_1", START)
    again = paid(billed, "evt_1", START)

    sub = billed.subscription("user_1")
    assert (result.outcome, again.outcome) == (Outcome.APPLIED, Outcome.DUPLICATE)
    assert sub is not None
    assert (sub.plan, sub.provider_ref, sub.anchor_at, sub.paid_until) == (
        "basic",
        SUB,
        START,
        add_months(START, 1),
    )
    # Free's 60 credits keep their expiry; Basic's 500 arrive.
    assert billed.balance("user_1").balance == c(560)
    assert billed.verify().problems == ()


def test_unpaid_period_waits_and_its_invoice_grants_the_cycle_with_its_carry(
    billed: Engine, clock: ManualClock
) -> None:
    billed.update_plan("basic", rollover="full")
    paid(billed, "evt_1", START)
    clock.advance(timedelta(days=3))
    billed.charge("user_1", 400)  # the Free lot burns first (it expires first)
    boundary = add_months(START, 1)
    clock.set(boundary + timedelta(hours=1))

    waiting = billed.subscription("user_1")
    balance_while_waiting = billed.balance("user_1").balance
    result = paid(billed, "evt_2", boundary)

    assert waiting is not None
    assert waiting.is_awaiting_payment
    assert balance_while_waiting == c(0)
    assert result.outcome is Outcome.APPLIED
    sub = billed.subscription("user_1")
    assert sub is not None
    assert (sub.is_awaiting_payment, sub.cycle_index, sub.cycle_ends_at) == (
        False,
        1,
        add_months(START, 2),
    )
    # 500 - 340 left of the first cycle carried, and the new cycle's 500.
    assert billed.balance("user_1").balance == c(660)
    assert billed.verify().problems == ()


def test_yearly_subscription_grants_every_month_of_its_paid_year(
    billed: Engine, clock: ManualClock
) -> None:
    paid(billed, "evt_1", START, months=12, interval="year", amount=21000)

    clock.set(add_months(START, 11) + timedelta(days=1))
    sub = billed.subscription("user_1")
    clock.set(add_months(START, 12) + timedelta(days=1))
    after_year = billed.subscription("user_1")

    assert sub is not None
    assert (sub.cycle_index, sub.is_awaiting_payment) == (11, False)
    assert after_year is not None
    assert after_year.is_awaiting_payment
    assert billed.balance("user_1").balance == c(0)


def test_invoice_that_does_not_match_the_plan_price_grants_nothing(billed: Engine) -> None:
    results = [
        paid(billed, "evt_1", START, amount=1499),
        paid(billed, "evt_2", START, currency="eur"),
        paid(billed, "evt_3", START, interval="year"),
    ]

    assert [r.outcome for r in results] == [Outcome.MISMATCH] * 3
    sub = billed.subscription("user_1")
    assert sub is not None
    assert sub.plan == "free"
    assert billed.balance("user_1").balance == c(60)


def test_cancel_at_period_end_follows_stripe_and_the_default_plan_takes_over(
    billed: Engine, clock: ManualClock
) -> None:
    paid(billed, "evt_1", START)

    cancelled = billed.update_provider_subscription(
        event("evt_2", "customer.subscription.updated"),
        subscription_ref=SUB,
        status="active",
        cancel_at_period_end=True,
    )
    clock.set(add_months(START, 1) + timedelta(minutes=1))

    assert cancelled.outcome is Outcome.APPLIED
    sub = billed.subscription("user_1")
    assert sub is not None
    assert (sub.plan, sub.provider_ref) == ("free", None)
    assert billed.balance("user_1").balance == c(60)


def test_deleted_subscription_ends_now_and_falls_back_to_the_default_plan(
    billed: Engine,
) -> None:
    paid(billed, "evt_1", START)

    ended = billed.end_provider_subscription(
        event("evt_2", "customer.subscription.deleted"), subscription_ref=SUB
    )
    again = billed.end_provider_subscription(
        event("evt_3", "customer.subscription.deleted"), subscription_ref=SUB
    )

    assert (ended.outcome, again.outcome) == (Outcome.APPLIED, Outcome.NO_CHANGE)
    sub = billed.subscription("user_1")
    assert sub is not None
    assert sub.plan == "free"
    assert billed.verify().problems == ()


@pytest.mark.parametrize("status", ["canceled", "unpaid", "incomplete_expired"])
def test_subscription_status_after_which_nothing_is_paid_ends_it(
    billed: Engine, status: str
) -> None:
    paid(billed, "evt_1", START)

    result = billed.update_provider_subscription(
        event("evt_2", "customer.subscription.updated"),
        subscription_ref=SUB,
        status=status,
        cancel_at_period_end=False,
    )

    assert result.outcome is Outcome.APPLIED
    sub = billed.subscription("user_1")
    assert sub is not None
    assert sub.plan == "free"


def test_subscription_stripe_bills_is_not_changed_by_the_apps_verbs(billed: Engine) -> None:
    paid(billed, "evt_1", START)
    before = billed.subscription("user_1")

    changes: list[Callable[[], object]] = [
        lambda: billed.subscribe("user_1", "free"),
        lambda: billed.cancel_subscription("user_1"),
        lambda: billed.resume_subscription("user_1"),
    ]
    for change in changes:
        with pytest.raises(InvalidInput):
            change()
    assert billed.subscription("user_1") == before


def test_plan_checkout_is_paid_by_its_completion_and_grants_nothing_itself(
    billed: Engine,
) -> None:
    billed.open_plan_checkout(
        "user_1", "basic", "month", provider=Provider.STRIPE, reference="cs_p"
    )

    result = billed.complete_plan_checkout(
        event("evt_1", "checkout.session.completed"), reference="cs_p", subscription_ref=SUB
    )

    purchase = billed.purchases("user_1").items[0]
    assert result.outcome is Outcome.APPLIED
    assert (purchase.kind.value, purchase.plan, purchase.status.value, purchase.payment_ref) == (
        "plan",
        "basic",
        "paid",
        SUB,
    )
    assert (purchase.amount_minor, purchase.credits) == (1500, c(0))
    assert billed.balance("user_1").balance == c(60)


def test_checkout_plan_refuses_a_free_or_unpriced_interval(billed: Engine) -> None:
    billed.create_plan("own", name="Own", credits=5)

    with pytest.raises(InvalidInput):
        billed.checkout_plan("user_1", "free")
    with pytest.raises(InvalidInput):
        billed.checkout_plan("user_1", "own")
    plan, interval = billed.checkout_plan("user_1", "basic", "year")
    assert (plan.key, interval.value) == ("basic", "year")


def test_a_late_payment_catches_up_on_the_cycles_it_paid_for(
    billed: Engine, clock: ManualClock
) -> None:
    paid(billed, "evt_1", START)
    clock.set(add_months(START, 2) + timedelta(days=1))

    result = paid(billed, "evt_2", add_months(START, 1), months=2)

    sub = billed.subscription("user_1")
    assert result.outcome is Outcome.APPLIED
    assert sub is not None
    assert (sub.cycle_index, sub.is_awaiting_payment) == (2, False)
    assert billed.balance("user_1").balance == c(500)
    assert billed.verify().problems == ()


def changed(engine: Engine, event_id: str, *, plan: str, interval: str = "month") -> EventResult:
    """Deliver `customer.subscription.updated` naming another plan in its metadata."""
    return engine.update_provider_subscription(
        event(event_id, "customer.subscription.updated"),
        subscription_ref=SUB,
        status="active",
        cancel_at_period_end=False,
        plan=plan,
        interval=interval,
    )


def test_upgrade_in_stripe_tops_the_cycle_up_now(billed: Engine) -> None:
    billed.create_plan("premium", name="Premium", credits=1200, prices={"month": 2900})
    paid(billed, "evt_1", START)

    result = changed(billed, "evt_2", plan="premium")

    sub = billed.subscription("user_1")
    assert result.outcome is Outcome.APPLIED
    assert sub is not None
    assert sub.plan == "premium"
    assert billed.balance("user_1").balance == c(60 + 500 + 700)


def test_downgrade_in_stripe_waits_for_the_period_end_and_its_invoice(
    billed: Engine, clock: ManualClock
) -> None:
    billed.create_plan("premium", name="Premium", credits=1200, prices={"month": 2900})
    billed.pay_invoice(
        event("evt_1"),
        account_id="user_1",
        plan="premium",
        interval="month",
        subscription_ref=SUB,
        period_start=START,
        period_end=add_months(START, 1),
        amount_minor=2900,
        currency="usd",
    )

    result = changed(billed, "evt_2", plan="basic")
    clock.set(add_months(START, 1) + timedelta(minutes=5))
    waiting = billed.subscription("user_1")
    paid(billed, "evt_3", add_months(START, 1))

    sub = billed.subscription("user_1")
    assert result.outcome is Outcome.APPLIED
    assert waiting is not None
    assert (waiting.plan, waiting.is_awaiting_payment) == ("basic", True)
    assert sub is not None
    assert (sub.plan, sub.is_awaiting_payment) == ("basic", False)
    assert billed.balance("user_1").balance == c(500)
    assert billed.verify().problems == ()


def test_interval_change_in_stripe_is_recorded_not_followed(billed: Engine) -> None:
    paid(billed, "evt_1", START)
    before = billed.subscription("user_1")

    result = changed(billed, "evt_2", plan="basic", interval="year")

    assert result.outcome is Outcome.NO_CHANGE
    assert result.detail is not None
    assert "interval" in result.detail
    assert billed.subscription("user_1") == before

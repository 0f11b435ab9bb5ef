"""Plans and subscriptions through the Engine: the catalog of plans, and what each change does.

The rules are the domain's (`creditgate.domain.plans`): an upgrade takes effect now, a
downgrade or a cancellation at the billing period's end, an ended subscription falls back
to the default plan. Balances here are exact: every figure follows from the plans' credits
and the lots' burn order (soonest expiry first).
"""

from datetime import UTC, datetime, timedelta

import pytest

from creditgate import (
    AccountNotFound,
    Credits,
    Cycle,
    Engine,
    EntryKind,
    IdempotencyConflict,
    Interval,
    InvalidInput,
    ManualClock,
    PlanExists,
    PlanNotFound,
    Rollover,
    SubscriptionNotFound,
    TokenCounts,
)
from tests.conftest import START
from tests.factories import DAY, MINUTE

FEB_1 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
MAR_1 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NEXT_YEAR = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def plans(engine: Engine) -> None:
    """Free (the default, 10 a month), Basic (100, capped at 30), Pro (300, full rollover)."""
    engine.create_plan("free", name="Free", credits=10, is_default=True)
    engine.create_plan(
        "basic",
        name="Basic",
        credits=100,
        prices={"month": 900, "year": 9000},
        rollover="capped",
        rollover_cap=30,
    )
    engine.create_plan(
        "pro", name="Pro", credits=300, prices={"month": 2500, "year": 25000}, rollover="full"
    )


def cycle_grants(engine: Engine, account_id: str) -> list[tuple[datetime, Credits]]:
    """The account's plan-cycle grants, oldest first, as (effective_at, amount)."""
    page = engine.history(account_id, kinds=["grant"], limit=500)
    return [(e.effective_at, e.amount) for e in reversed(page.items) if e.source == "plan_cycle"]


# The catalog of plans


def test_create_plan_stores_every_field(engine: Engine) -> None:
    created = engine.create_plan(
        "team",
        name="Team",
        description="For teams",
        credits="1200.5",
        prices={"month": 4900, "year": 49000},
        currency="eur",
        rollover="capped",
        rollover_cap=200,
        cycle="interval",
    )

    assert created == engine.get_plan("team")
    assert (created.key, created.name, created.description) == ("team", "Team", "For teams")
    assert created.credits == credits("1200.5")
    assert created.prices == {Interval.MONTH: 4900, Interval.YEAR: 49000}
    assert (created.currency, created.rollover, created.rollover_cap, created.cycle) == (
        "eur",
        Rollover.CAPPED,
        credits(200),
        Cycle.INTERVAL,
    )
    assert (created.is_active, created.is_default) == (True, False)
    assert created.created_at == created.updated_at == START


def test_create_plan_refuses_a_key_that_is_taken_even_by_an_inactive_plan(engine: Engine) -> None:
    plans(engine)
    engine.deactivate_plan("basic")

    for key in ("pro", "basic"):
        with pytest.raises(PlanExists) as raised:
            engine.create_plan(key, name="Again", credits=1)
        assert raised.value.key == key
    assert engine.get_plan("basic").name == "Basic"


def test_create_plan_refuses_a_bad_field_and_stores_nothing(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.create_plan("pro", name="Pro", credits=100, rollover="capped")

    assert raised.value.field == "rollover_cap"
    assert engine.plans(include_inactive=True) == ()


def test_get_plan_and_plan_changes_raise_plan_not_found_for_an_unknown_key(
    engine: Engine,
) -> None:
    plans(engine)

    with pytest.raises(PlanNotFound):
        engine.get_plan("gold")
    with pytest.raises(PlanNotFound):
        engine.update_plan("gold", credits=5)
    with pytest.raises(PlanNotFound):
        engine.deactivate_plan("gold")
    engine.create_account("user_1")
    with pytest.raises(PlanNotFound):
        engine.subscribe("user_1", "gold")


def test_plans_lists_the_plans_on_sale_by_credits(engine: Engine) -> None:
    plans(engine)
    engine.create_plan("legacy", name="Legacy", credits=50)
    engine.deactivate_plan("legacy")

    assert [p.key for p in engine.plans()] == ["free", "basic", "pro"]
    assert [p.key for p in engine.plans(include_inactive=True)] == [
        "free",
        "legacy",
        "basic",
        "pro",
    ]


def test_create_plan_as_default_takes_over_from_the_old_default(
    engine: Engine, clock: ManualClock
) -> None:
    """At most one default: the new one clears the old one's flag."""
    plans(engine)
    clock.advance(MINUTE)

    engine.create_plan("starter", name="Starter", credits=20, is_default=True)

    defaults = [p.key for p in engine.plans() if p.is_default]
    assert defaults == ["starter"]
    assert engine.get_plan("free").updated_at == START + MINUTE
    engine.create_account("user_1")
    subscription = engine.subscription("user_1")
    assert subscription is not None
    assert subscription.plan == "starter"
    assert engine.balance("user_1").balance == credits(20)


def test_update_plan_to_default_takes_over_from_the_old_default(engine: Engine) -> None:
    plans(engine)

    engine.update_plan("basic", is_default=True)

    assert [p.key for p in engine.plans() if p.is_default] == ["basic"]


def test_update_plan_refuses_to_leave_the_default_plan_inactive(engine: Engine) -> None:
    plans(engine)

    with pytest.raises(InvalidInput):
        engine.update_plan("free", is_active=False)
    with pytest.raises(InvalidInput) as raised:
        engine.deactivate_plan("free")

    assert raised.value.field == "plan"
    assert engine.get_plan("free").is_active


def test_update_plan_refuses_a_bad_value_and_changes_nothing(engine: Engine) -> None:
    plans(engine)
    before = engine.get_plan("pro")

    with pytest.raises(InvalidInput) as negative:
        engine.update_plan("pro", credits="-5")
    with pytest.raises(InvalidInput) as uncapped:
        engine.update_plan("pro", rollover_cap=50)

    assert (negative.value.field, uncapped.value.field) == ("credits", "rollover_cap")
    assert engine.get_plan("pro") == before


def test_update_plan_drops_the_cap_when_the_rollover_is_no_longer_capped(engine: Engine) -> None:
    plans(engine)

    updated = engine.update_plan("basic", rollover="full")

    assert (updated.rollover, updated.rollover_cap) == (Rollover.FULL, None)
    assert updated.credits == credits(100)


def test_update_plan_credits_apply_from_the_next_cycle(engine: Engine, clock: ManualClock) -> None:
    """A cycle already granted keeps what it granted; the next one grants the new credits."""
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")

    engine.update_plan("basic", credits=150, rollover="none")

    assert engine.balance("user_1").balance == credits(10 + 100)
    clock.set(FEB_1)
    assert engine.balance("user_1").balance == credits(150)
    assert cycle_grants(engine, "user_1")[-1] == (FEB_1, credits(150))
    assert engine.verify().problems == ()


def test_deactivated_plan_cannot_be_subscribed_but_its_subscribers_keep_renewing(
    engine: Engine, clock: ManualClock
) -> None:
    plans(engine)
    engine.create_account("early")
    engine.create_account("late")
    engine.subscribe("early", "basic")

    deactivated = engine.deactivate_plan("basic")

    assert not deactivated.is_active
    assert [p.key for p in engine.plans()] == ["free", "pro"]
    with pytest.raises(PlanNotFound):
        engine.subscribe("late", "basic")
    clock.set(MAR_1)
    subscription = engine.subscription("early")
    assert subscription is not None
    assert (subscription.plan, subscription.cycle_index) == ("basic", 2)
    assert cycle_grants(engine, "early")[-2:] == [(MAR_1, credits(30)), (MAR_1, credits(100))]
    assert engine.verify().problems == ()


# Accounts and the default plan


def test_new_account_starts_on_the_default_plan_with_its_first_cycle(engine: Engine) -> None:
    plans(engine)

    engine.create_account("user_1")

    subscription = engine.subscription("user_1")
    assert subscription is not None
    assert (subscription.plan, subscription.interval, subscription.cycle_index) == (
        "free",
        Interval.MONTH,
        0,
    )
    assert (subscription.anchor_at, subscription.cycle_ends_at) == (START, FEB_1)
    assert subscription.period_ends_at == FEB_1
    balance = engine.balance("user_1")
    assert balance.balance == credits(10)
    assert (balance.usage.starts_at, balance.usage.ends_at) == (START, FEB_1)
    (grant,) = engine.history("user_1").items
    assert (grant.kind, grant.source, grant.amount) == (EntryKind.GRANT, "plan_cycle", credits(10))
    assert grant.metadata == {"plan": "free", "subscription_id": subscription.id, "cycle": 0}
    assert engine.verify().problems == ()


def test_create_account_again_grants_no_second_cycle(engine: Engine) -> None:
    plans(engine)
    engine.create_account("user_1")

    engine.create_account("user_1")

    assert engine.balance("user_1").balance == credits(10)
    assert len(cycle_grants(engine, "user_1")) == 1


def test_new_account_is_on_no_plan_when_there_is_no_default(engine: Engine) -> None:
    engine.create_plan("pro", name="Pro", credits=300)

    engine.create_account("user_1")

    assert engine.subscription("user_1") is None
    assert engine.balance("user_1").balance == Credits(0)
    with pytest.raises(SubscriptionNotFound):
        engine.cancel_subscription("user_1")
    with pytest.raises(SubscriptionNotFound):
        engine.resume_subscription("user_1")


def test_subscription_reads_raise_account_not_found_for_an_unknown_account(
    engine: Engine,
) -> None:
    plans(engine)

    with pytest.raises(AccountNotFound):
        engine.subscription("ghost")
    with pytest.raises(AccountNotFound):
        engine.subscribe("ghost", "pro")
    with pytest.raises(AccountNotFound):
        engine.plan_overview("ghost")


def test_plan_overview_shows_the_plans_on_sale_the_subscription_and_the_balance(
    engine: Engine,
) -> None:
    plans(engine)
    engine.create_plan("legacy", name="Legacy", credits=50, is_active=False)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")

    overview = engine.plan_overview("user_1")

    assert [p.key for p in overview.plans] == ["free", "basic", "pro"]
    assert overview.subscription == engine.subscription("user_1")
    assert overview.balance == engine.balance("user_1")


# Subscribing


def test_subscribe_from_the_default_plan_starts_the_new_plan_now(
    engine: Engine, clock: ManualClock
) -> None:
    """The default's cycle ends now; its credits stay until their own expiry."""
    plans(engine)
    engine.create_account("user_1")
    clock.advance(10 * DAY)

    receipt = engine.subscribe("user_1", "basic")

    subscription = receipt.subscription
    assert (subscription.plan, subscription.interval, subscription.anchor_at) == (
        "basic",
        Interval.MONTH,
        START + 10 * DAY,
    )
    assert subscription.cycle_ends_at == datetime(2026, 2, 11, 12, 0, tzinfo=UTC)
    assert receipt.balance.balance == credits(10 + 100)
    assert receipt.balance == engine.balance("user_1")
    clock.set(FEB_1)
    assert engine.balance("user_1").balance == credits(100)
    assert engine.verify().problems == ()


def test_subscribe_from_no_plan_starts_the_plan_now(engine: Engine) -> None:
    engine.create_plan("pro", name="Pro", credits=300, prices={"year": 25000})
    engine.create_account("user_1")

    receipt = engine.subscribe("user_1", "pro")

    assert (receipt.subscription.interval, receipt.subscription.period_ends_at) == (
        Interval.YEAR,
        NEXT_YEAR,
    )
    assert receipt.subscription.cycle_ends_at == FEB_1
    assert receipt.balance.balance == credits(300)


def test_subscribe_refuses_an_interval_the_plan_is_not_sold_by(engine: Engine) -> None:
    engine.create_plan("pro", name="Pro", credits=300, prices={"month": 2500})
    engine.create_account("user_1")

    with pytest.raises(InvalidInput) as not_sold:
        engine.subscribe("user_1", "pro", interval="year")
    with pytest.raises(InvalidInput) as unknown:
        engine.subscribe("user_1", "pro", interval="week")

    assert (not_sold.value.field, unknown.value.field) == ("interval", "interval")
    assert engine.subscription("user_1") is None
    assert engine.balance("user_1").balance == Credits(0)


def test_subscribe_to_the_same_plan_and_interval_changes_nothing(
    engine: Engine, clock: ManualClock
) -> None:
    plans(engine)
    engine.create_account("user_1")
    first = engine.subscribe("user_1", "basic").subscription
    clock.advance(DAY)

    again = engine.subscribe("user_1", "basic")

    assert again.subscription == first
    assert again.balance.balance == credits(10 + 100)


def test_upgrade_on_the_same_interval_grants_the_difference_now_until_the_cycle_ends(
    engine: Engine, clock: ManualClock
) -> None:
    """Basic -> Pro mid-cycle: 300 - 100 = 200 now, ending with the cycle; the period stays."""
    plans(engine)
    engine.create_account("user_1")
    before = engine.subscribe("user_1", "basic").subscription
    clock.advance(10 * DAY)

    receipt = engine.subscribe("user_1", "pro")

    after = receipt.subscription
    assert after.plan == "pro"
    assert (after.id, after.anchor_at, after.cycle_index, after.cycle_ends_at) == (
        before.id,
        before.anchor_at,
        0,
        FEB_1,
    )
    assert receipt.balance.balance == credits(10 + 100 + 200)
    (extra, *_) = engine.history("user_1", kinds=["grant"]).items
    assert (extra.amount, extra.effective_at) == (credits(200), START + 10 * DAY)
    assert extra.metadata == {
        "plan": "pro",
        "subscription_id": after.id,
        "cycle": 0,
        "upgrade": True,
    }
    clock.set(FEB_1)
    # Pro's full rollover now carries the whole 300 left, and Pro grants its 300.
    assert engine.balance("user_1").balance == credits(300 + 300)
    assert engine.verify().problems == ()


def test_upgrade_to_another_interval_starts_a_new_period_now_with_a_full_cycle(
    engine: Engine, clock: ManualClock
) -> None:
    """Basic monthly -> Pro yearly: a new subscription anchored now, Pro's whole cycle now.

    The ended subscription's credits stay until their own expiry, and are never carried.
    """
    plans(engine)
    engine.create_account("user_1")
    before = engine.subscribe("user_1", "basic").subscription
    clock.advance(10 * DAY)
    now = clock.now()

    receipt = engine.subscribe("user_1", "pro", interval="year")

    after = receipt.subscription
    assert after.id != before.id
    assert (after.plan, after.interval, after.anchor_at, after.cycle_index) == (
        "pro",
        Interval.YEAR,
        now,
        0,
    )
    assert after.period_ends_at == datetime(2027, 1, 11, 12, 0, tzinfo=UTC)
    assert receipt.balance.balance == credits(10 + 100 + 300)
    assert receipt.balance.usage.starts_at == now
    clock.set(FEB_1)
    assert engine.balance("user_1").balance == credits(300)
    clock.set(datetime(2026, 2, 11, 12, 0, tzinfo=UTC))
    assert engine.balance("user_1").balance == credits(300 + 300)
    assert engine.verify().problems == ()


def test_upgrade_to_a_plan_that_grants_once_per_interval_grants_the_year_at_once(
    engine: Engine, clock: ManualClock
) -> None:
    """Pro yearly (monthly cycles) -> Team (one cycle a year): 5,000 now, the next a year on."""
    plans(engine)
    engine.create_plan("team", name="Team", credits=5000, prices={"year": 50000}, cycle="interval")
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro", interval="year")

    receipt = engine.subscribe("user_1", "team", interval="year")

    assert (receipt.subscription.cycle_months, receipt.subscription.cycle_ends_at) == (
        12,
        NEXT_YEAR,
    )
    assert receipt.balance.balance == credits(10 + 300 + 5000)
    clock.set(NEXT_YEAR - MINUTE)
    assert engine.balance("user_1").balance == credits(5000)
    assert cycle_grants(engine, "user_1")[-1] == (START, credits(5000))
    clock.set(NEXT_YEAR)
    assert engine.balance("user_1").balance == credits(5000)
    assert cycle_grants(engine, "user_1")[-1] == (NEXT_YEAR, credits(5000))
    assert engine.verify().problems == ()


def test_downgrade_waits_for_the_end_of_the_billing_period(
    engine: Engine, clock: ManualClock
) -> None:
    """Pro -> Basic is scheduled: Pro's credits and rules last to the period's end."""
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    clock.advance(10 * DAY)

    receipt = engine.subscribe("user_1", "basic")

    scheduled = receipt.subscription
    assert (scheduled.plan, scheduled.next_plan, scheduled.next_interval) == (
        "pro",
        "basic",
        Interval.MONTH,
    )
    assert receipt.balance.balance == credits(10 + 300)
    clock.set(FEB_1)
    switched = engine.subscription("user_1")
    assert switched is not None
    assert (switched.id, switched.plan, switched.next_plan, switched.cycle_index) == (
        scheduled.id,
        "basic",
        None,
        1,
    )
    # The ending plan's full rollover carries 300; Basic grants 100.
    assert engine.balance("user_1").balance == credits(300 + 100)
    clock.set(MAR_1)
    assert engine.balance("user_1").balance == credits(30 + 100)
    assert engine.verify().problems == ()


def test_downgrade_of_a_yearly_subscription_takes_effect_at_the_year_end(
    engine: Engine, clock: ManualClock
) -> None:
    """Pro yearly -> Pro monthly (a shorter interval) at the year's end: a new subscription."""
    plans(engine)
    engine.create_account("user_1")
    yearly = engine.subscribe("user_1", "pro", interval="year").subscription
    clock.advance(40 * DAY)

    scheduled = engine.subscribe("user_1", "pro", interval="month").subscription

    assert (scheduled.interval, scheduled.next_plan, scheduled.next_interval) == (
        Interval.YEAR,
        "pro",
        Interval.MONTH,
    )
    clock.set(NEXT_YEAR - MINUTE)
    last = engine.subscription("user_1")
    assert last is not None
    assert (last.id, last.interval, last.cycle_index, last.next_interval) == (
        yearly.id,
        Interval.YEAR,
        11,
        Interval.MONTH,
    )
    clock.set(NEXT_YEAR)
    monthly = engine.subscription("user_1")
    assert monthly is not None
    assert monthly.id != yearly.id
    assert (monthly.plan, monthly.interval, monthly.anchor_at, monthly.period_ends_at) == (
        "pro",
        Interval.MONTH,
        NEXT_YEAR,
        datetime(2027, 2, 1, 12, 0, tzinfo=UTC),
    )
    # Twelve cycles of 300, all carried (full rollover) into the new subscription, + 300.
    assert engine.balance("user_1").balance == credits(300 * 12 + 300)
    assert cycle_grants(engine, "user_1")[-2:] == [
        (NEXT_YEAR, credits(300 * 12)),
        (NEXT_YEAR, credits(300)),
    ]
    assert engine.verify().problems == ()


def test_cancel_ends_the_subscription_at_the_period_end_and_resume_undoes_it(
    engine: Engine, clock: ManualClock
) -> None:
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")
    clock.advance(10 * DAY)

    cancelled = engine.cancel_subscription("user_1")

    assert cancelled.subscription.cancel_at_period_end
    assert cancelled.balance.balance == credits(10 + 100)
    resumed = engine.resume_subscription("user_1").subscription
    assert not resumed.cancel_at_period_end
    assert engine.resume_subscription("user_1").subscription == resumed
    clock.set(FEB_1)
    kept = engine.subscription("user_1")
    assert kept is not None
    assert (kept.id, kept.plan, kept.cycle_index) == (resumed.id, "basic", 1)
    assert engine.balance("user_1").balance == credits(30 + 100)
    assert engine.verify().problems == ()


def test_cancel_refuses_on_the_default_plan(engine: Engine) -> None:
    plans(engine)
    engine.create_account("user_1")

    with pytest.raises(InvalidInput) as raised:
        engine.cancel_subscription("user_1")

    assert raised.value.field == "account_id"
    subscription = engine.subscription("user_1")
    assert subscription is not None
    assert not subscription.cancel_at_period_end


def test_cancel_drops_a_pending_downgrade_which_resume_does_not_bring_back(
    engine: Engine, clock: ManualClock
) -> None:
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    engine.subscribe("user_1", "basic")

    cancelled = engine.cancel_subscription("user_1").subscription
    resumed = engine.resume_subscription("user_1").subscription

    assert (cancelled.cancel_at_period_end, cancelled.next_plan) == (True, None)
    assert (resumed.cancel_at_period_end, resumed.next_plan) == (False, None)
    clock.set(FEB_1)
    kept = engine.subscription("user_1")
    assert kept is not None
    assert kept.plan == "pro"
    assert engine.balance("user_1").balance == credits(300 + 300)


def test_subscribe_to_the_current_plan_drops_a_pending_cancellation_or_downgrade(
    engine: Engine, clock: ManualClock
) -> None:
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    engine.cancel_subscription("user_1")

    kept = engine.subscribe("user_1", "pro").subscription
    assert (kept.cancel_at_period_end, kept.next_plan) == (False, None)
    engine.subscribe("user_1", "basic")
    kept = engine.subscribe("user_1", "pro").subscription

    assert (kept.cancel_at_period_end, kept.next_plan) == (False, None)
    clock.set(FEB_1)
    renewed = engine.subscription("user_1")
    assert renewed is not None
    assert (renewed.plan, renewed.id) == ("pro", kept.id)


def test_subscribe_to_the_default_plan_from_a_paid_one_is_a_downgrade(
    engine: Engine, clock: ManualClock
) -> None:
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")

    scheduled = engine.subscribe("user_1", "free").subscription

    assert (scheduled.plan, scheduled.next_plan) == ("basic", "free")
    clock.set(FEB_1)
    # Basic (the ending plan) carries 30 of its 100; Free grants 10.
    assert engine.balance("user_1").balance == credits(30 + 10)
    clock.set(MAR_1)
    assert engine.balance("user_1").balance == credits(10)


def test_toggling_the_default_plan_interval_mints_no_credits(engine: Engine) -> None:
    """The same plan on another interval is a billing change, made at the period's end:
    toggling between monthly and yearly grants nothing and leaves the last choice pending.
    """
    plans(engine)
    engine.create_account("user_1")

    for _ in range(4):
        engine.subscribe("user_1", "free", interval="year")
        engine.subscribe("user_1", "free", interval="month")
    scheduled = engine.subscribe("user_1", "free", interval="year").subscription

    assert (scheduled.interval, scheduled.next_plan, scheduled.next_interval) == (
        Interval.MONTH,
        "free",
        Interval.YEAR,
    )
    assert engine.balance("user_1").balance == credits(10)


def test_upgrade_after_a_plan_change_grants_the_difference_to_what_the_cycle_granted(
    engine: Engine, clock: ManualClock
) -> None:
    """A plan change applies from the next cycle: this cycle granted 100, so Pro adds 200."""
    plans(engine)
    engine.create_plan("plus", name="Plus", credits=100, prices={"month": 900})
    engine.create_account("user_1")
    engine.subscribe("user_1", "plus")
    engine.update_plan("plus", credits=50)
    clock.advance(DAY)

    upgraded = engine.subscribe("user_1", "pro")

    assert upgraded.balance.balance == credits(10 + 300)


# Idempotency


def test_subscribe_with_an_idempotency_key_replays_the_first_result(
    engine: Engine, clock: ManualClock
) -> None:
    """A retried upgrade answers the first receipt and grants the difference once."""
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")
    first = engine.subscribe("user_1", "pro", idempotency_key="upgrade-1")
    clock.advance(HOUR)

    again = engine.subscribe("user_1", "pro", idempotency_key="upgrade-1")

    assert again == first
    assert engine.balance("user_1").balance == credits(10 + 100 + 200)
    upgrades = [
        e for e in engine.history("user_1", kinds=["grant"]).items if "upgrade" in e.metadata
    ]
    assert len(upgrades) == 1
    assert engine.verify().problems == ()


def test_subscribe_with_a_used_key_and_another_request_is_a_conflict(engine: Engine) -> None:
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro", idempotency_key="k-1")

    with pytest.raises(IdempotencyConflict):
        engine.subscribe("user_1", "basic", idempotency_key="k-1")
    with pytest.raises(IdempotencyConflict):
        engine.subscribe("user_1", "pro", interval="year", idempotency_key="k-1")

    subscription = engine.subscription("user_1")
    assert subscription is not None
    assert (subscription.plan, subscription.interval, subscription.next_plan) == (
        "pro",
        Interval.MONTH,
        None,
    )


# Spending and usage between cycles


def test_charge_burns_cycle_credits_before_purchased_ones(
    engine: Engine, clock: ManualClock
) -> None:
    """Cycle credits expire at the cycle's end, purchased ones never: the cycle's go first."""
    engine.create_plan("pro", name="Pro", credits=300, prices={"month": 2500})
    engine.create_account("user_1")
    engine.grant("user_1", 50, source="purchase")
    engine.subscribe("user_1", "pro")
    clock.advance(10 * DAY)

    receipt = engine.charge("user_1", 120)

    assert receipt.balance.balance == credits(50 + 300 - 120)
    clock.set(FEB_1)
    # 180 of the cycle expired, the 50 purchased are all there, and 300 more.
    assert engine.balance("user_1").balance == credits(50 + 300)
    assert engine.lifetime("user_1").expired == credits(180)
    engine.charge("user_1", 320)
    assert engine.balance("user_1").balance == credits(30)
    assert engine.verify().problems == ()


def test_period_usage_counts_credits_and_tokens_and_resets_at_each_cycle(
    engine: Engine, clock: ManualClock
) -> None:
    """Usage counts this cycle's spend (and a token-priced call's tokens), from zero each cycle."""
    plans(engine)
    engine.create_feature("code.generate", name="Code generation")
    engine.set_price(
        "code.generate",
        {"rule": "tokens", "input": "1", "output": "1", "per_tokens": 2000},
        minimum="1",
    )
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    clock.advance(DAY)

    priced = engine.charge(
        "user_1", feature="code.generate", quantity={"input": 3000, "output": 1000}
    )
    engine.charge("user_1", 5)
    hold = engine.hold(
        "user_1", ttl=HOUR, feature="code.generate", quantity=TokenCounts(input=1000, output=1500)
    ).hold
    assert hold is not None
    settled = engine.settle(hold.id, quantity=TokenCounts(input=1000, output=1001))

    assert priced.entry.cost == credits(2)
    assert settled.entry.cost == credits("1.001")
    usage = engine.balance("user_1").usage
    assert (usage.starts_at, usage.ends_at) == (START, FEB_1)
    assert (usage.credits, usage.tokens, usage.lifetime_tokens) == (
        credits("8.001"),
        4000 + 2001,
        6001,
    )
    clock.set(FEB_1)
    usage = engine.balance("user_1").usage
    assert (usage.starts_at, usage.ends_at) == (FEB_1, MAR_1)
    assert (usage.credits, usage.tokens, usage.lifetime_tokens) == (Credits(0), 0, 6001)
    engine.charge("user_1", feature="code.generate", quantity={"input": 100, "output": 100})
    usage = engine.balance("user_1").usage
    assert (usage.credits, usage.tokens, usage.lifetime_tokens) == (credits(1), 200, 6201)
    assert engine.verify().problems == ()


def test_refund_in_the_same_cycle_lowers_the_period_usage(engine: Engine) -> None:
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    spend = engine.charge("user_1", 20).entry

    refunded = engine.refund(spend.id, 5)

    assert refunded.balance.usage.credits == credits(15)


def test_refund_of_a_previous_cycle_charge_leaves_this_cycle_usage(
    engine: Engine, clock: ManualClock
) -> None:
    """Usage is what this cycle used: giving back an earlier cycle's spend does not undo it."""
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    earlier = engine.charge("user_1", 50).entry
    clock.set(FEB_1)
    engine.charge("user_1", 30)

    refunded = engine.refund(earlier.id)

    assert refunded.balance.usage.credits == credits(30)


def test_upgrade_on_the_same_interval_keeps_the_period_usage(
    engine: Engine, clock: ManualClock
) -> None:
    """The cycle goes on after an upgrade, and so does its usage; so it does when the
    interval changes, which waits for the period's end."""
    plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")
    engine.charge("user_1", 15)
    clock.advance(DAY)

    upgraded = engine.subscribe("user_1", "pro").balance.usage
    pending = engine.subscribe("user_1", "pro", interval="year")

    assert (upgraded.starts_at, upgraded.credits) == (START, credits(15))
    assert pending.subscription.next_interval is Interval.YEAR
    assert (pending.balance.usage.starts_at, pending.balance.usage.credits) == (
        START,
        credits(15),
    )


def test_period_usage_follows_the_calendar_month_on_no_plan(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_account("user_1")
    engine.grant("user_1", 100, source="purchase")
    clock.advance(10 * DAY)
    engine.charge("user_1", 7)

    usage = engine.balance("user_1").usage

    month = datetime(2026, 1, 1, tzinfo=UTC)
    assert (usage.starts_at, usage.ends_at, usage.credits) == (month, FEB_1 - 12 * HOUR, credits(7))
    clock.set(FEB_1)
    usage = engine.balance("user_1").usage
    assert (usage.starts_at, usage.credits) == (FEB_1 - 12 * HOUR, Credits(0))

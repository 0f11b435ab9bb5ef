"""Queries over plans, subscriptions and the cycles they granted."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId
from creditgate.domain.lots import Lot, LotSource
from creditgate.domain.plans import (
    Cycle,
    Interval,
    Plan,
    PlanSpec,
    Rollover,
    Subscription,
    cycle_bounds,
    period_end,
)
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.lots import lot_from_row
from creditgate.storage.tables import accounts, lots, plan_cycles, plans, subscriptions


def _plan(row: Row[Any]) -> Plan:
    return Plan(
        key=row.key,
        name=row.name,
        description=row.description,
        credits=Credits(row.credits),
        prices={Interval(k): int(v) for k, v in (row.prices or {}).items()},
        currency=row.currency,
        rollover=Rollover(row.rollover),
        rollover_cap=None if row.rollover_cap is None else Credits(row.rollover_cap),
        cycle=Cycle(row.cycle),
        is_active=row.is_active,
        is_default=row.is_default,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _plan_values(spec: PlanSpec) -> dict[str, Any]:
    return {
        "key": spec.key,
        "name": spec.name,
        "description": spec.description,
        "credits": spec.credits.units,
        "prices": {i.value: amount for i, amount in spec.prices.items()},
        "currency": spec.currency,
        "rollover": spec.rollover.value,
        "rollover_cap": None if spec.rollover_cap is None else spec.rollover_cap.units,
        "cycle": spec.cycle.value,
        "is_active": spec.is_active,
        "is_default": spec.is_default,
    }


def find_plan(conn: Connection, key: str, *, lock: bool = False) -> tuple[int, Plan] | None:
    """A plan and its key, by the plan's key; with `lock`, its row lock until commit."""
    stmt = select(plans).where(plans.c.key == key)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    return None if row is None else (row.id, _plan(row))


def plans_by_pk(conn: Connection, pks: set[int]) -> dict[int, Plan]:
    """The named plans, by key."""
    if not pks:
        return {}
    stmt = select(plans).where(plans.c.id.in_(sorted(pks)))
    return {row.id: _plan(row) for row in conn.execute(stmt)}


def default_plan(conn: Connection) -> tuple[int, Plan] | None:
    """The plan an account falls back to, if one is set."""
    row = conn.execute(select(plans).where(plans.c.is_default)).one_or_none()
    return None if row is None else (row.id, _plan(row))


def list_plans(conn: Connection, *, active_only: bool) -> list[Plan]:
    """Plans by credits per cycle, then key (the order of a pricing page)."""
    stmt = select(plans).order_by(plans.c.credits, plans.c.key)
    if active_only:
        stmt = stmt.where(plans.c.is_active)
    return [_plan(row) for row in conn.execute(stmt)]


def insert_plan(conn: Connection, spec: PlanSpec, now: datetime) -> int:
    """Store a new plan; its key must be free."""
    values = {**_plan_values(spec), "created_at": now, "updated_at": now}
    return int(conn.execute(insert(plans).values(values).returning(plans.c.id)).scalar_one())


def save_plan(conn: Connection, pk: int, spec: PlanSpec, now: datetime) -> None:
    """Write a plan's new settings."""
    conn.execute(
        update(plans).where(plans.c.id == pk).values({**_plan_values(spec), "updated_at": now})
    )


def clear_default(conn: Connection, now: datetime) -> None:
    """Make no plan the default (before another becomes it)."""
    conn.execute(update(plans).where(plans.c.is_default).values(is_default=False, updated_at=now))


def is_plan_used(conn: Connection, pk: int) -> bool:
    """Whether any subscription ever named the plan (then it is deactivated, never deleted)."""
    stmt = select(subscriptions.c.id).where(
        (subscriptions.c.plan_id == pk) | (subscriptions.c.next_plan_id == pk)
    )
    return conn.execute(stmt.limit(1)).first() is not None


def delete_plan(conn: Connection, pk: int) -> None:
    """Delete a plan no subscription ever named."""
    conn.execute(plans.delete().where(plans.c.id == pk))


@dataclass(slots=True, kw_only=True)
class SubscriptionRow:
    """A live subscription as stored, with its plans' keys resolved, changed under the lock."""

    pk: int
    account_pk: int
    account_id: AccountId
    plan_pk: int
    interval: Interval
    anchor_at: datetime
    cycle_months: int
    cycle_index: int
    cancel_at_period_end: bool
    next_plan_pk: int | None
    next_interval: Interval | None
    started_at: datetime
    ended_at: datetime | None = None
    provider_ref: str | None = None
    """The payment provider's subscription id, when the provider bills it."""
    paid_until: datetime | None = None
    """The end of the last period the provider said was paid."""
    awaiting_carry: int | None = None
    """Set while the current cycle waits for the provider's payment: what it will carry."""

    @property
    def cycle_started_at(self) -> datetime:
        """The start of the current cycle."""
        return cycle_bounds(self.anchor_at, self.cycle_months, self.cycle_index)[0]

    @property
    def cycle_ends_at(self) -> datetime:
        """The end of the current cycle: the next renewal."""
        return cycle_bounds(self.anchor_at, self.cycle_months, self.cycle_index)[1]

    @property
    def period_ends_at(self) -> datetime:
        """The end of the current billing period."""
        return period_end(self.anchor_at, self.interval, self.cycle_months, self.cycle_index)

    def view(self, plan_keys: dict[int, str]) -> Subscription:
        """The domain's view of this row."""
        return Subscription(
            id=self.pk,
            account_id=self.account_id,
            plan=plan_keys[self.plan_pk],
            interval=self.interval,
            anchor_at=self.anchor_at,
            cycle_months=self.cycle_months,
            cycle_index=self.cycle_index,
            cycle_started_at=self.cycle_started_at,
            cycle_ends_at=self.cycle_ends_at,
            period_ends_at=self.period_ends_at,
            cancel_at_period_end=self.cancel_at_period_end,
            next_plan=None if self.next_plan_pk is None else plan_keys[self.next_plan_pk],
            next_interval=self.next_interval,
            started_at=self.started_at,
            ended_at=self.ended_at,
            provider_ref=self.provider_ref,
            paid_until=self.paid_until,
            is_awaiting_payment=self.awaiting_carry is not None,
        )


def _subscription(row: Row[Any], account_id: AccountId) -> SubscriptionRow:
    return SubscriptionRow(
        pk=row.id,
        account_pk=row.account_id,
        account_id=account_id,
        plan_pk=row.plan_id,
        interval=Interval(row.interval),
        anchor_at=row.anchor_at,
        cycle_months=row.cycle_months,
        cycle_index=row.cycle_index,
        cancel_at_period_end=row.cancel_at_period_end,
        next_plan_pk=row.next_plan_id,
        next_interval=None if row.next_interval is None else Interval(row.next_interval),
        started_at=row.started_at,
        ended_at=row.ended_at,
        provider_ref=row.provider_ref,
        paid_until=row.paid_until,
        awaiting_carry=row.awaiting_carry,
    )


def live_subscription(
    conn: Connection, account_pk: int, account_id: AccountId
) -> SubscriptionRow | None:
    """The account's live subscription, if it has one."""
    stmt = select(subscriptions).where(
        subscriptions.c.account_id == account_pk, subscriptions.c.ended_at.is_(None)
    )
    row = conn.execute(stmt).one_or_none()
    return None if row is None else _subscription(row, account_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionFilter:
    """Which subscriptions a cross-account page shows; None matches either way."""

    is_live: bool | None = None
    is_awaiting_payment: bool | None = None
    cancels_at_period_end: bool | None = None


def page_subscriptions(
    conn: Connection, where: SubscriptionFilter, *, before_id: int | None, limit: int
) -> list[SubscriptionRow]:
    """Every account's subscriptions, live and ended, newest first, below `before_id`."""
    stmt = select(subscriptions, accounts.c.external_id).join(
        accounts, accounts.c.id == subscriptions.c.account_id
    )
    if where.is_live is not None:
        ended = subscriptions.c.ended_at
        stmt = stmt.where(ended.is_(None) if where.is_live else ended.is_not(None))
    if where.is_awaiting_payment is not None:
        awaiting = subscriptions.c.awaiting_carry
        stmt = stmt.where(
            awaiting.is_not(None) if where.is_awaiting_payment else awaiting.is_(None)
        )
    if where.cancels_at_period_end is not None:
        stmt = stmt.where(subscriptions.c.cancel_at_period_end == where.cancels_at_period_end)
    if before_id is not None:
        stmt = stmt.where(subscriptions.c.id < before_id)
    rows = conn.execute(stmt.order_by(subscriptions.c.id.desc()).limit(limit))
    return [_subscription(row, AccountId(row.external_id)) for row in rows]


def live_subscription_by_ref(conn: Connection, provider_ref: str) -> SubscriptionRow | None:
    """The live subscription a payment provider bills under its id, if any."""
    stmt = (
        select(subscriptions, accounts.c.external_id)
        .join(accounts, accounts.c.id == subscriptions.c.account_id)
        .where(subscriptions.c.provider_ref == provider_ref, subscriptions.c.ended_at.is_(None))
    )
    row = conn.execute(stmt).one_or_none()
    return None if row is None else _subscription(row, AccountId(row.external_id))


def insert_subscription(conn: Connection, sub: SubscriptionRow) -> int:
    """Store a new live subscription; the unique index refuses a second live one."""
    values = {
        "account_id": sub.account_pk,
        "plan_id": sub.plan_pk,
        "interval": sub.interval.value,
        "anchor_at": sub.anchor_at,
        "cycle_months": sub.cycle_months,
        "cycle_index": sub.cycle_index,
        "cancel_at_period_end": sub.cancel_at_period_end,
        "next_plan_id": sub.next_plan_pk,
        "next_interval": None if sub.next_interval is None else sub.next_interval.value,
        "started_at": sub.started_at,
        "ended_at": sub.ended_at,
        "provider_ref": sub.provider_ref,
        "paid_until": sub.paid_until,
        "awaiting_carry": sub.awaiting_carry,
    }
    stmt = insert(subscriptions).values(values).returning(subscriptions.c.id)
    return int(conn.execute(stmt).scalar_one())


def save_subscription(conn: Connection, sub: SubscriptionRow) -> None:
    """Write a subscription's state back (under its account's lock)."""
    conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == sub.pk)
        .values(
            plan_id=sub.plan_pk,
            interval=sub.interval.value,
            anchor_at=sub.anchor_at,
            cycle_months=sub.cycle_months,
            cycle_index=sub.cycle_index,
            cancel_at_period_end=sub.cancel_at_period_end,
            next_plan_id=sub.next_plan_pk,
            next_interval=None if sub.next_interval is None else sub.next_interval.value,
            ended_at=sub.ended_at,
            paid_until=sub.paid_until,
            awaiting_carry=sub.awaiting_carry,
        )
    )


def claim_cycle(
    conn: Connection,
    sub: SubscriptionRow,
    *,
    starts_at: datetime,
    ends_at: datetime,
    credits: int,
    carried: int,
    now: datetime,
) -> bool:
    """Record that the subscription's current cycle was granted; False when it already was.

    The primary key (subscription, cycle index) is the claim: written in the grant's own
    transaction, so a cycle is granted once, whoever runs it.
    """
    values = {
        "account_id": sub.account_pk,
        "subscription_id": sub.pk,
        "cycle_index": sub.cycle_index,
        "plan_id": sub.plan_pk,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "credits": credits,
        "carried": carried,
        "created_at": now,
    }
    return insert_if_absent(conn, plan_cycles, values)


def cycle_lots(conn: Connection, account_pk: int, ends_at: datetime) -> list[Lot]:
    """The account's plan-cycle lots with a remainder that expire at `ends_at`."""
    stmt = (
        select(lots)
        .where(
            lots.c.account_id == account_pk,
            lots.c.source == LotSource.PLAN_CYCLE.value,
            lots.c.remaining > 0,
            lots.c.expires_at == ends_at,
        )
        .order_by(lots.c.id)
    )
    return [lot_from_row(row) for row in conn.execute(stmt)]


def _cycle_key(sub: SubscriptionRow) -> Any:
    return (plan_cycles.c.subscription_id == sub.pk) & (
        plan_cycles.c.cycle_index == sub.cycle_index
    )


def cycle_credits(conn: Connection, sub: SubscriptionRow) -> int:
    """What the subscription's current cycle has granted so far (carried credits aside)."""
    stmt = select(plan_cycles.c.credits).where(_cycle_key(sub))
    return int(conn.execute(stmt).scalar_one())


def add_cycle_credits(conn: Connection, sub: SubscriptionRow, units: int) -> None:
    """Record an upgrade's top-up on the current cycle's claim."""
    conn.execute(
        update(plan_cycles).where(_cycle_key(sub)).values(credits=plan_cycles.c.credits + units)
    )

"""Renewals: a subscription's cycles, each granted once, dated at its boundary.

Runs under the account's lock whenever the account's `renews_at` has passed: on the
account's next operation (so no balance waits for a worker) and in the scheduler's pass
(so the ledger is prompt for accounts nobody touches). A worker back after an outage
walks each missed boundary in order, exactly as a worker that never stopped would have:
close the ending cycle (carry its leftover by the plan's rollover rule, expire the rest),
apply a scheduled change or cancellation at a billing boundary, grant the next cycle.

Each cycle's grant is claimed in `plan_cycles` by (subscription, cycle index) in the same
transaction as its entry, so no two runners grant one cycle twice.

A subscription a payment provider bills (Stripe) renews on the same boundaries, but a
boundary that starts a billing period the provider has not said is paid waits: the ending
cycle is closed as usual (its carry computed and kept), and the next cycle is granted when
the provider's payment arrives (`resume_paid`), not before. Credits are never granted for a
period nobody has paid.
"""

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from creditgate.domain.amounts import Credits
from creditgate.domain.limits import CATCH_UP_CYCLES_MAX
from creditgate.domain.lots import LotSource
from creditgate.domain.plans import Interval, Plan
from creditgate.domain.webhooks import EventType
from creditgate.storage import plans as rows
from creditgate.storage.accounts import AccountRow, lower_next_due_at
from creditgate.storage.plans import SubscriptionRow

if TYPE_CHECKING:
    from creditgate.engine.books import Books


class PlanBook:
    """Plans by key, read once per transaction."""

    def __init__(self, books: "Books") -> None:
        self._books = books
        self._plans: dict[int, Plan] = {}

    def __getitem__(self, pk: int) -> Plan:
        if pk not in self._plans:
            self._plans.update(rows.plans_by_pk(self._books.conn, {pk}))
        return self._plans[pk]


def start(
    books: "Books",
    row: AccountRow,
    *,
    plan_pk: int,
    plan: Plan,
    interval: Interval,
    at: datetime,
    carried: int = 0,
    provider_ref: str | None = None,
    paid_until: datetime | None = None,
) -> SubscriptionRow:
    """Start a subscription at `at` (now, or a boundary being caught up) and grant cycle 0."""
    sub = SubscriptionRow(
        pk=0,
        account_pk=row.pk,
        account_id=row.account.id,
        plan_pk=plan_pk,
        interval=interval,
        anchor_at=at,
        cycle_months=plan.cycle_months(interval),
        cycle_index=0,
        cancel_at_period_end=False,
        next_plan_pk=None,
        next_interval=None,
        started_at=at,
        provider_ref=provider_ref,
        paid_until=paid_until,
    )
    sub.pk = rows.insert_subscription(books.conn, sub)
    grant_cycle(books, row, sub, plan, carried=carried)
    return sub


def grant_cycle(
    books: "Books", row: AccountRow, sub: SubscriptionRow, plan: Plan, *, carried: int
) -> None:
    """Grant the subscription's current cycle (and what was carried into it), once.

    Both lots expire at the cycle's end; the account's usage period restarts with it.
    """
    starts_at, ends_at = sub.cycle_started_at, sub.cycle_ends_at
    claimed = rows.claim_cycle(
        books.conn,
        sub,
        starts_at=starts_at,
        ends_at=ends_at,
        credits=plan.credits.units,
        carried=carried,
        now=books.now,
    )
    assert claimed, "a cycle is granted once: its account's lock serializes every renewal"
    meta = {"plan": plan.key, "subscription_id": sub.pk, "cycle": sub.cycle_index}
    if carried:
        books.grant_lot(
            row,
            Credits(carried),
            source=LotSource.PLAN_CYCLE,
            expires_at=ends_at,
            priority=0,
            metadata={**meta, "rollover": True},
            effective_at=starts_at,
        )
    if plan.credits.units:
        books.grant_lot(
            row,
            plan.credits,
            source=LotSource.PLAN_CYCLE,
            expires_at=ends_at,
            priority=0,
            metadata=meta,
            effective_at=starts_at,
        )
    row.renews_at = ends_at
    lower_next_due_at(row, ends_at)
    row.period_started_at = starts_at
    row.period_spent = row.period_tokens = 0
    books.tally.cycles_granted += 1
    if sub.cycle_index > 0:
        books.emit(
            row,
            EventType.SUBSCRIPTION_RENEWED,
            {
                "subscription_id": sub.pk,
                "plan": plan.key,
                "cycle": sub.cycle_index,
                "starts_at": starts_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "credits": str(plan.credits + Credits(carried)),
            },
        )


def grant_difference(books: "Books", row: AccountRow, sub: SubscriptionRow, plan: Plan) -> None:
    """Top the current cycle up to what `plan` grants per cycle, now, expiring with it.

    The difference is to what this cycle has granted so far (recorded on its claim), not to
    the old plan as it stands now: a plan edited since, or two upgrades in one cycle, never
    grant more than the new plan's cycle.
    """
    granted = rows.cycle_credits(books.conn, sub)
    units = plan.credits.units - granted
    if units <= 0:
        return
    rows.add_cycle_credits(books.conn, sub, units)
    meta = {"plan": plan.key, "subscription_id": sub.pk, "cycle": sub.cycle_index}
    books.grant_lot(
        row,
        Credits(units),
        source=LotSource.PLAN_CYCLE,
        expires_at=sub.cycle_ends_at,
        priority=0,
        metadata={**meta, "upgrade": True},
    )


def close_cycle(books: "Books", row: AccountRow, sub: SubscriptionRow) -> int:
    """Expire the subscription's lots that end with its cycle; their free leftover.

    A lot a live hold still pins is left to the expiry that follows the hold (its free
    part withheld meanwhile): an expire entry always takes a lot's whole remainder. Lots
    of another subscription that end at the same instant expire as any lot does, and are
    never carried.
    """
    boundary = sub.cycle_ends_at
    leftover = 0
    for lot in rows.cycle_lots(books.conn, row.pk, boundary):
        if lot.metadata.get("subscription_id") != sub.pk:
            continue
        leftover += lot.free.units
        if lot.held.units == 0:
            books.expire_lot(row, lot, lot.remaining.units, boundary)
    return leftover


def end(books: "Books", row: AccountRow, sub: SubscriptionRow, at: datetime) -> None:
    """End a subscription at `at`; the account is on no plan until another starts."""
    sub.ended_at = at
    rows.save_subscription(books.conn, sub)
    row.renews_at = None
    if books.listening(row, EventType.SUBSCRIPTION_ENDED):
        books.emit(
            row,
            EventType.SUBSCRIPTION_ENDED,
            {
                "subscription_id": sub.pk,
                "plan": PlanBook(books)[sub.plan_pk].key,
                "ended_at": at.isoformat(),
            },
        )


def fall_back(books: "Books", row: AccountRow, at: datetime) -> SubscriptionRow | None:
    """Start the default plan at `at`, when there is one (on its monthly price if sold so)."""
    found = rows.default_plan(books.conn)
    if found is None:
        return None
    pk, plan = found
    return start(books, row, plan_pk=pk, plan=plan, interval=plan.intervals()[0], at=at)


def renew_due(
    books: "Books", row: AccountRow, expire_holds_until: Callable[[datetime], None]
) -> None:
    """Walk every cycle boundary that has passed, in order, once each.

    Before each boundary, `expire_holds_until(boundary)` writes the holds that had expired
    by then: a boundary sees the pins that were live at it, however late it is walked.
    """
    sub = rows.live_subscription(books.conn, row.pk, row.account.id)
    plans = PlanBook(books)
    for _ in range(CATCH_UP_CYCLES_MAX):
        if sub is None or sub.awaiting_carry is not None:
            # On no plan, or waiting for a provider's payment: nothing renews until it comes.
            row.renews_at = None
            return
        if sub.cycle_ends_at > books.now:
            row.renews_at = sub.cycle_ends_at
            return
        expire_holds_until(sub.cycle_ends_at)
        sub = _turn(books, row, sub, plans)
    raise AssertionError("a renewal catches up at most CATCH_UP_CYCLES_MAX cycles")


def _turn(
    books: "Books", row: AccountRow, sub: SubscriptionRow, plans: PlanBook
) -> SubscriptionRow | None:
    """One boundary: close the ending cycle, apply the billing period's end, grant the next.

    Returns the live subscription after the boundary (None when the account is on no plan).
    """
    boundary = sub.cycle_ends_at
    ending = plans[sub.plan_pk]
    leftover = close_cycle(books, row, sub)
    at_period_end = boundary == sub.period_ends_at
    if at_period_end and sub.cancel_at_period_end:
        end(books, row, sub, boundary)
        return fall_back(books, row, boundary)
    carried = ending.carry(leftover)
    if at_period_end and sub.next_plan_pk is not None:
        plan_pk = sub.next_plan_pk
        plan = plans[plan_pk]
        interval = sub.next_interval or sub.interval
        if interval is not sub.interval or plan.cycle_months(interval) != sub.cycle_months:
            # A new billing rhythm: a new subscription anchored at this boundary.
            end(books, row, sub, boundary)
            return start(
                books,
                row,
                plan_pk=plan_pk,
                plan=plan,
                interval=interval,
                at=boundary,
                carried=carried,
            )
        sub.plan_pk, sub.next_plan_pk, sub.next_interval = plan_pk, None, None
    if at_period_end and not is_paid_through(sub, boundary):
        # The period is the provider's to bill: its cycle waits for the payment.
        sub.cycle_index += 1
        sub.awaiting_carry = carried
        rows.save_subscription(books.conn, sub)
        return sub
    sub.cycle_index += 1
    rows.save_subscription(books.conn, sub)
    grant_cycle(books, row, sub, plans[sub.plan_pk], carried=carried)
    return sub


def is_paid_through(sub: SubscriptionRow, boundary: datetime) -> bool:
    """Whether the billing period that starts at `boundary` may be granted.

    An app-managed subscription always may; a provider-billed one once the provider said
    that period is paid.
    """
    if sub.provider_ref is None:
        return True
    return sub.paid_until is not None and sub.paid_until > boundary


def resume_paid(books: "Books", row: AccountRow, sub: SubscriptionRow, plan: Plan) -> bool:
    """Grant the cycle that waited for the provider's payment, once it is paid; True if so."""
    if sub.awaiting_carry is None or not is_paid_through(sub, sub.cycle_started_at):
        return False
    carried, sub.awaiting_carry = sub.awaiting_carry, None
    rows.save_subscription(books.conn, sub)
    grant_cycle(books, row, sub, plan, carried=carried)
    return True

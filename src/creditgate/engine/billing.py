"""Subscriptions a payment provider bills: its events start, renew, cancel and end them.

A Stripe subscription creditgate opened a checkout for carries the account, the plan and
the interval in its metadata. Its first paid invoice starts the plan in creditgate
(replacing whatever plan the account was on), anchored at the invoice's period start, so
the two calendars agree; each later paid invoice extends `paid_until`, and a boundary that
starts an unpaid period waits for it (see `renewals`). Cancelling at the period's end and
ending follow the provider's subscription events. The plan's credits come from the
catalog; an invoice whose amount or currency differs from the plan's price is recorded as
a mismatch and pays for nothing.
"""

from datetime import datetime

from creditgate.domain.events import EventResult, Outcome, ProviderEvent
from creditgate.domain.plans import Interval, is_upgrade
from creditgate.engine import renewals
from creditgate.engine.books import Books
from creditgate.engine.purchases import finish
from creditgate.storage import plans as rows
from creditgate.storage.accounts import AccountRow, find_account

ENDED_STATUSES = frozenset({"canceled", "unpaid", "incomplete_expired"})
"""Stripe subscription statuses after which nothing more will be paid."""


def invoice_paid(
    books: Books,
    event: ProviderEvent,
    *,
    account_id: str,
    plan_key: str,
    interval: Interval,
    subscription_ref: str,
    period_start: datetime,
    period_end: datetime,
    amount_minor: int,
    currency: str,
) -> EventResult:
    """A billing period was paid: start the subscription, or let its waiting cycle in."""
    known = rows.live_subscription_by_ref(books.conn, subscription_ref)
    if known is not None:
        row = books.lock_pk(known.account_pk)
    else:
        target = find_account(books.conn, account_id)
        if target is None:
            return finish(books, event, Outcome.RECORDED, detail=f"no account {account_id!r}")
        row = books.lock_pk(target.pk)
    found = rows.find_plan(books.conn, plan_key)
    if found is None:
        return finish(books, event, Outcome.RECORDED, row=row, detail=f"no plan {plan_key!r}")
    plan_pk, plan = found
    price = plan.prices.get(interval)
    if price is None or (amount_minor, currency) != (price, plan.currency):
        asked = "not sold" if price is None else f"{price} {plan.currency}"
        note = f"paid {amount_minor} {currency} for plan {plan.key} by {interval.value}: {asked}"
        return finish(books, event, Outcome.MISMATCH, row=row, detail=note)
    sub = rows.live_subscription(books.conn, row.pk, row.account.id)
    if sub is not None and sub.provider_ref == subscription_ref:
        return _renewed(books, event, row, sub, period_end)
    if sub is not None:
        renewals.end(books, row, sub, books.now)
    renewals.start(
        books,
        row,
        plan_pk=plan_pk,
        plan=plan,
        interval=interval,
        at=min(period_start, books.now),
        provider_ref=subscription_ref,
        paid_until=period_end,
    )
    return finish(books, event, Outcome.APPLIED, row=row)


def _renewed(
    books: Books, event: ProviderEvent, row: AccountRow, sub: rows.SubscriptionRow, paid: datetime
) -> EventResult:
    """A later period of a known subscription was paid."""
    if sub.paid_until is not None and sub.paid_until >= paid:
        return finish(books, event, Outcome.NO_CHANGE, row=row)
    sub.paid_until = paid
    rows.save_subscription(books.conn, sub)
    plan = renewals.PlanBook(books)[sub.plan_pk]
    if renewals.resume_paid(books, row, sub, plan):
        # A payment that came later than one cycle catches up on the cycles it paid for.
        books.write_due(row, force=True)
    return finish(books, event, Outcome.APPLIED, row=row)


def subscription_updated(
    books: Books,
    event: ProviderEvent,
    *,
    subscription_ref: str,
    status: str,
    cancel_at_period_end: bool,
    plan_key: str | None = None,
    interval: Interval | None = None,
) -> EventResult:
    """The provider's subscription changed: follow its plan, its cancellation, or its end.

    A plan named in the subscription's metadata (`plan`, `interval`) that differs from the
    one it is on is followed as the app's own `subscribe` would: an upgrade on the same
    interval tops the cycle up now, a downgrade waits for the period's end. A change of
    interval re-anchors the provider's billing; it is recorded, not followed.
    """
    known = rows.live_subscription_by_ref(books.conn, subscription_ref)
    if known is None:
        detail = f"no live subscription {subscription_ref!r}"
        return finish(books, event, Outcome.RECORDED, detail=detail)
    row = books.lock_pk(known.account_pk)
    sub = rows.live_subscription_by_ref(books.conn, subscription_ref)
    if sub is None:  # ended by what fell due on the lock
        return finish(books, event, Outcome.NO_CHANGE, row=row)
    if status in ENDED_STATUSES:
        _end_now(books, row, sub)
        return finish(books, event, Outcome.APPLIED, row=row)
    changed = sub.cancel_at_period_end != cancel_at_period_end
    sub.cancel_at_period_end = cancel_at_period_end
    why: str | None = None
    if plan_key is not None:
        followed, why = _follow_plan(books, row, sub, plan_key, interval or sub.interval)
        changed = changed or followed
    if not changed:
        return finish(books, event, Outcome.NO_CHANGE, row=row, detail=why)
    rows.save_subscription(books.conn, sub)
    return finish(books, event, Outcome.APPLIED, row=row, detail=why)


def _follow_plan(
    books: Books, row: AccountRow, sub: rows.SubscriptionRow, plan_key: str, interval: Interval
) -> tuple[bool, str | None]:
    """Put the subscription on the provider's plan; whether it changed, and why not."""
    found = rows.find_plan(books.conn, plan_key)
    if found is None:
        return False, f"no plan {plan_key!r}: the subscription stays on its plan"
    plan_pk, plan = found
    current = renewals.PlanBook(books)[sub.plan_pk]
    if interval is not sub.interval or plan.cycle_months(interval) != sub.cycle_months:
        return False, "a change of interval is not followed: the subscription keeps its own"
    if plan_pk == sub.plan_pk:
        changed = sub.next_plan_pk is not None
        sub.next_plan_pk, sub.next_interval = None, None
        return changed, None
    if is_upgrade(current, sub.interval, plan, interval):
        sub.plan_pk, sub.next_plan_pk, sub.next_interval = plan_pk, None, None
        renewals.grant_difference(books, row, sub, plan)
        return True, None
    if sub.next_plan_pk == plan_pk:
        return False, None
    sub.next_plan_pk, sub.next_interval = plan_pk, None
    return True, None


def subscription_deleted(
    books: Books, event: ProviderEvent, *, subscription_ref: str
) -> EventResult:
    """The provider's subscription ended: end it now; the default plan takes over."""
    known = rows.live_subscription_by_ref(books.conn, subscription_ref)
    if known is None:
        return finish(books, event, Outcome.NO_CHANGE, detail="no live subscription")
    row = books.lock_pk(known.account_pk)
    sub = rows.live_subscription_by_ref(books.conn, subscription_ref)
    if sub is None:
        return finish(books, event, Outcome.NO_CHANGE, row=row)
    _end_now(books, row, sub)
    return finish(books, event, Outcome.APPLIED, row=row)


def _end_now(books: Books, row: AccountRow, sub: rows.SubscriptionRow) -> None:
    """End the subscription now (its granted cycle's credits keep their expiry)."""
    renewals.end(books, row, sub, books.now)
    renewals.fall_back(books, row, books.now)

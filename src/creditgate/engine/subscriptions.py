"""Subscriptions: put an account on a plan, change it, cancel and resume.

`subscribe` says which plan the account should be on; what it does follows from where
the account is (the rules are in `creditgate.domain.plans`):

- on no plan, or on the default plan: the new plan starts now with its first cycle;
- on the same plan and interval: nothing changes, except that a pending cancellation or
  downgrade is dropped (the account stays); on the same plan and another interval, the
  interval changes at the end of the billing period;
- an upgrade takes effect now, a downgrade at the end of the billing period.

Every change runs under the account's lock, after whatever was due on it was written.
"""

from sqlalchemy import Connection

from creditgate.domain.errors import InvalidInput, SubscriptionNotFound
from creditgate.domain.plans import Interval, Plan, Subscription, is_upgrade
from creditgate.domain.results import SubscriptionReceipt
from creditgate.engine import renewals
from creditgate.engine.books import Books
from creditgate.engine.plans import subscribable
from creditgate.storage import plans as rows
from creditgate.storage.accounts import AccountRow
from creditgate.storage.plans import SubscriptionRow


def view(conn: Connection, sub: SubscriptionRow) -> Subscription:
    """The domain's view of a subscription row."""
    pks = {sub.plan_pk} | ({sub.next_plan_pk} if sub.next_plan_pk is not None else set())
    keys = {pk: plan.key for pk, plan in rows.plans_by_pk(conn, pks).items()}
    return sub.view(keys)


def _receipt(books: Books, row: AccountRow, sub: SubscriptionRow) -> SubscriptionReceipt:
    return SubscriptionReceipt(subscription=view(books.conn, sub), balance=books.balance(row))


def _interval(plan: Plan, interval: Interval | None) -> Interval:
    chosen = plan.intervals()[0] if interval is None else interval
    if chosen not in plan.intervals():
        sold = ", ".join(i.value for i in plan.intervals())
        raise InvalidInput(field="interval", reason=f"plan {plan.key} is sold by: {sold}")
    return chosen


def subscribe(
    books: Books, row: AccountRow, plan_key: str, interval: Interval | None
) -> SubscriptionReceipt:
    """Put the account on `plan_key`: start, keep, upgrade now or downgrade at period end.

    Raises:
        PlanNotFound: no active plan has this key.
        InvalidInput: the plan is not sold by this interval.
    """
    plan_pk, plan = subscribable(books.conn, plan_key)
    chosen = _interval(plan, interval)
    sub = rows.live_subscription(books.conn, row.pk, row.account.id)
    now = books.now
    if sub is None:
        return _receipt(books, row, _start(books, row, plan_pk, plan, chosen))
    _check_app_managed(sub)
    current = renewals.PlanBook(books)[sub.plan_pk]
    if sub.plan_pk == plan_pk and sub.interval is chosen:
        sub.cancel_at_period_end, sub.next_plan_pk, sub.next_interval = False, None, None
    elif sub.plan_pk == plan_pk:
        # The same plan on another interval is a billing change: at the period's end.
        sub.cancel_at_period_end, sub.next_plan_pk, sub.next_interval = False, plan_pk, chosen
    elif current.is_default:
        renewals.end(books, row, sub, now)
        return _receipt(books, row, _start(books, row, plan_pk, plan, chosen))
    elif not is_upgrade(current, sub.interval, plan, chosen):
        sub.cancel_at_period_end, sub.next_plan_pk, sub.next_interval = False, plan_pk, chosen
    elif chosen is sub.interval and plan.cycle_months(chosen) == sub.cycle_months:
        sub.plan_pk = plan_pk
        sub.cancel_at_period_end, sub.next_plan_pk, sub.next_interval = False, None, None
        renewals.grant_difference(books, row, sub, plan)
    else:
        renewals.end(books, row, sub, now)
        return _receipt(books, row, _start(books, row, plan_pk, plan, chosen))
    rows.save_subscription(books.conn, sub)
    return _receipt(books, row, sub)


def _start(
    books: Books, row: AccountRow, plan_pk: int, plan: Plan, interval: Interval
) -> SubscriptionRow:
    return renewals.start(books, row, plan_pk=plan_pk, plan=plan, interval=interval, at=books.now)


def live(books: Books, row: AccountRow) -> SubscriptionRow:
    """The account's live subscription, which the app manages.

    Raises:
        SubscriptionNotFound: the account is on no plan.
        InvalidInput: a payment provider bills it (its events change it).
    """
    sub = rows.live_subscription(books.conn, row.pk, row.account.id)
    if sub is None:
        raise SubscriptionNotFound(row.account.id)
    _check_app_managed(sub)
    return sub


def _check_app_managed(sub: SubscriptionRow) -> None:
    """Refuse to change a provider-billed subscription here: it would part from the bill.

    Raises:
        InvalidInput: a payment provider bills it.
    """
    if sub.provider_ref is not None:
        reason = "the subscription is billed by Stripe: change it there, and its events follow"
        raise InvalidInput(field="account_id", reason=reason)


def cancel(books: Books, row: AccountRow) -> SubscriptionReceipt:
    """End the subscription at the end of its billing period (a pending downgrade is dropped).

    Raises:
        SubscriptionNotFound: the account is on no plan.
        InvalidInput: the account is on the default plan, which is what cancelling leads to.
    """
    sub = live(books, row)
    if renewals.PlanBook(books)[sub.plan_pk].is_default:
        reason = "the account is on the default plan: there is nothing to cancel"
        raise InvalidInput(field="account_id", reason=reason)
    sub.cancel_at_period_end, sub.next_plan_pk, sub.next_interval = True, None, None
    rows.save_subscription(books.conn, sub)
    return _receipt(books, row, sub)


def resume(books: Books, row: AccountRow) -> SubscriptionReceipt:
    """Undo a cancellation before it takes effect; a subscription not cancelled is unchanged.

    Raises:
        SubscriptionNotFound: the account is on no plan.
    """
    sub = live(books, row)
    if sub.cancel_at_period_end:
        sub.cancel_at_period_end = False
        rows.save_subscription(books.conn, sub)
    return _receipt(books, row, sub)

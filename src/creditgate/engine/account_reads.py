"""What an account holds, read as of now: its lots in burn order and its holds.

A mixin of `Engine`, beside the ledger reads of `history`. Like them, these reads take no
write lock and see what has fallen due before any write records it: a lot past its
expiry has lost its remainder, a hold past its ttl has expired and let go of what it
pinned. So the lots listed before the expiry pass equal those listed after it, and their
remainders add up to the balance (less any debt).

Also here, for the admin console: the purchases and subscriptions of every account, newest
first. They are reads for whoever runs the engine, not for an app's callers, so no other
face has them.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import Connection

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.ids import LotId
from creditgate.domain.inputs import check_cursor
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.lots import Lot, burn_key
from creditgate.domain.packs import Purchase, PurchaseStatus
from creditgate.domain.plans import Subscription, SubscriptionStatus
from creditgate.domain.results import Page
from creditgate.engine import history
from creditgate.engine.books import plan_account
from creditgate.engine.clock import Clock
from creditgate.storage import holds as hold_rows
from creditgate.storage import lots as lot_rows
from creditgate.storage import packs as purchase_rows
from creditgate.storage import plans as plan_rows
from creditgate.storage.accounts import AccountRow
from creditgate.storage.database import Database

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")


_SUBSCRIPTION_FILTERS = {
    SubscriptionStatus.ACTIVE: plan_rows.SubscriptionFilter(
        is_live=True, is_awaiting_payment=False, cancels_at_period_end=False
    ),
    SubscriptionStatus.CANCELLING: plan_rows.SubscriptionFilter(
        is_live=True, is_awaiting_payment=False, cancels_at_period_end=True
    ),
    SubscriptionStatus.AWAITING_PAYMENT: plan_rows.SubscriptionFilter(
        is_live=True, is_awaiting_payment=True
    ),
    SubscriptionStatus.ENDED: plan_rows.SubscriptionFilter(is_live=False),
}
"""Each status as the columns that decide it, in `subscription_status`'s order."""


def _status(enum: type[E], value: object) -> E | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(member.value for member in enum)
    raise InvalidInput(field="status", reason=f"one of: {allowed}")


def _limit(limit: object) -> int:
    if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
        raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
    return limit


def _page(items: Sequence[T], limit: int, id_of: Callable[[T], int]) -> Page[T]:
    """A page of `limit` from `limit + 1` rows read: a next cursor when there was one more."""
    next_cursor = str(id_of(items[limit - 1])) if len(items) > limit else None
    return Page(items=tuple(items[:limit]), next_cursor=next_cursor)


def lots_now(conn: Connection, row: AccountRow, now: datetime, *, include_spent: bool) -> list[Lot]:
    """The account's lots as of `now`, in burn order.

    What is due applies as the next write will record it: an expired lot's remainder goes
    (its free part only, while a live hold still pins the rest), and a hold past its ttl
    lets go of what it pinned.
    """
    lots = lot_rows.account_lots(conn, row.pk, include_spent=include_spent)
    if row.next_due_at is not None and row.next_due_at <= now:
        due, pins = plan_account(conn, row, now)
        gone: dict[LotId, int] = {e.lot.id: e.units for e in (*due.lots, *due.withheld)}
        freed: dict[LotId, int] = {}
        for hold in due.holds:
            for lot_id, units in pins[hold.id].items():
                freed[lot_id] = freed.get(lot_id, 0) + units
        lots = [
            replace(
                lot,
                remaining=Credits(lot.remaining.units - gone.get(lot.id, 0)),
                held=Credits(lot.held.units - freed.get(lot.id, 0)),
            )
            for lot in lots
        ]
        if not include_spent:
            lots = [lot for lot in lots if lot.remaining.units > 0]
    return sorted(lots, key=burn_key)


class AccountReads:
    """Lots and holds of one account; purchases and subscriptions of all (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def lots(self, account_id: str, *, include_spent: bool = False) -> tuple[Lot, ...]:
        """The account's lots with credits left, in burn order: the order spends take them.

        The order is `domain.lots.burn_key`'s. A lot past its expiry has nothing left,
        whether or not the expiry pass has run; with `include_spent`, the lots with nothing
        left (spent or expired) are listed too.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: `include_spent` is not a boolean.
        """
        checked = check_account_id(account_id)
        if type(include_spent) is not bool:
            raise InvalidInput(field="include_spent", reason="must be true or false")
        return history.read_fresh(
            self.db,
            self.clock,
            checked,
            lambda conn, row, now: tuple(lots_now(conn, row, now, include_spent=include_spent)),
        )

    def holds(
        self,
        account_id: str,
        *,
        status: HoldStatus | str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[Hold]:
        """The account's holds newest first, or those of one status, each as of now.

        A pending hold past its ttl reads (and filters) as expired, ended at its ttl, as the
        next write or expiry pass will record it (`Hold.as_of`).

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad status, limit or cursor.
        """
        checked = check_account_id(account_id)
        wanted = _status(HoldStatus, status)
        size = _limit(limit)
        before = check_cursor(cursor, listing="holds")

        def read(conn: Connection, row: AccountRow, now: datetime) -> Page[Hold]:
            found = hold_rows.page_holds(
                conn,
                row.pk,
                row.account.id,
                status=wanted,
                now=now,
                before_id=before,
                limit=size + 1,
            )
            items = [hold.as_of(now) for hold in found]
            return _page(items, size, lambda hold: hold.id)

        return history.read_fresh(self.db, self.clock, checked, read)

    def recent_purchases(
        self,
        *,
        status: PurchaseStatus | str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[Purchase]:
        """Every account's purchases newest first, or those of one status (the console's list).

        Raises:
            InvalidInput: a bad status, limit or cursor.
        """
        wanted = _status(PurchaseStatus, status)
        size = _limit(limit)
        before = check_cursor(cursor, listing="recent_purchases")
        with self.db.read() as conn:
            items = purchase_rows.recent_purchases(
                conn, status=wanted, before_id=before, limit=size + 1
            )
        return _page(items, size, lambda purchase: purchase.id)

    def subscriptions(
        self,
        *,
        status: SubscriptionStatus | str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[Subscription]:
        """Every account's subscriptions, live and ended, newest first; or those of one status.

        As written: a renewal that fell due shows once it is written (by the renewal pass,
        or by the account's next read or write), so a cancelling subscription may still be
        listed past its period's end until then. `subscription_status` tells each one's.

        Raises:
            InvalidInput: a bad status, limit or cursor.
        """
        wanted = _status(SubscriptionStatus, status)
        where = plan_rows.SubscriptionFilter() if wanted is None else _SUBSCRIPTION_FILTERS[wanted]
        size = _limit(limit)
        before = check_cursor(cursor, listing="subscriptions")
        with self.db.read() as conn:
            found = plan_rows.page_subscriptions(conn, where, before_id=before, limit=size + 1)
            pks = {sub.plan_pk for sub in found}
            pks |= {sub.next_plan_pk for sub in found if sub.next_plan_pk is not None}
            keys = {pk: plan.key for pk, plan in plan_rows.plans_by_pk(conn, pks).items()}
        return _page([sub.view(keys) for sub in found], size, lambda sub: sub.id)

"""Organization members: who may spend from an organization's wallet, and how much."""

from datetime import datetime

from creditgate.domain.accounts import CapPeriod
from creditgate.domain.amounts import Credits
from creditgate.domain.errors import MemberCapExceeded, MemberNotFound
from creditgate.domain.holds import HoldStatus
from creditgate.domain.plans import month_start
from creditgate.engine.books import Books
from creditgate.storage.accounts import AccountRow, add_member_spent, find_member
from creditgate.storage.holds import pending_holds


def cap_period_start(row: AccountRow, period: CapPeriod | None, now: datetime) -> datetime | None:
    """Where the member's current cap period began: None for a cap over all time.

    A `cycle` cap follows the account's plan cycle, or the calendar month on no plan.
    """
    if period is None:
        return None
    if period is CapPeriod.CYCLE and row.renews_at is not None:
        return row.period_started_at
    return month_start(now)


def check_member_spend(
    books: Books, row: AccountRow, member_id: str | None, units: int, *, held_units: int = 0
) -> None:
    """A member may spend from the wallet only while within their cap.

    The cap counts what the member has spent plus what their pending holds set aside
    (`held_units` of a hold being settled is excluded: it turns into spend).

    Raises:
        MemberNotFound: the person is not a member of this account.
        MemberCapExceeded: the spend would pass the member's cap.
    """
    if member_id is None:
        return
    found = find_member(books.conn, row, member_id)
    if found is None:
        raise MemberNotFound(member_id)
    member = found.as_of(cap_period_start(row, found.cap_period, books.now))
    if member.spend_cap is None:
        return
    holding = sum(
        h.amount.units
        for h in pending_holds(books.conn, row.pk, row.account.id)
        if h.member_id == member_id and h.status_at(books.now) is HoldStatus.PENDING
    )
    committed = member.spent.units + holding - held_units
    left = member.spend_cap.units - committed
    if units > left:
        raise MemberCapExceeded(required=Credits(units), available=Credits(max(0, left)))


def count_spend(
    books: Books,
    row: AccountRow,
    member_id: str | None,
    units: int,
    *,
    spent_at: datetime | None = None,
) -> None:
    """Add a spend (or, negative, a refund of one made at `spent_at`) to the member's total.

    A per-period total starts again in each period; a refund of a spend from an earlier
    period gives nothing back to the current one.
    """
    if member_id is None or not units:
        return
    # Both possible period starts go with the one UPDATE, which picks by the member's
    # `cap_period`: no read of the member on a spend's path.
    starts = {period: cap_period_start(row, period, books.now) for period in CapPeriod}
    add_member_spent(books.conn, row, member_id, units, starts=starts, spent_at=spent_at)

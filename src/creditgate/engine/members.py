"""Organization members: who may spend from an organization's wallet, and how much."""

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import MemberCapExceeded, MemberNotFound
from creditgate.domain.holds import HoldStatus
from creditgate.engine.books import Books
from creditgate.storage.accounts import AccountRow, add_member_spent, find_member
from creditgate.storage.holds import pending_holds


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
    member = find_member(books.conn, row, member_id)
    if member is None:
        raise MemberNotFound(member_id)
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


def count_spend(books: Books, row: AccountRow, member_id: str | None, units: int) -> None:
    """Add a spend (or, negative, a refund) to the member's running total."""
    if member_id is not None and units:
        add_member_spent(books.conn, row, member_id, units)

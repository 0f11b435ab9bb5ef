"""Charge: take credits for one use of a feature, atomically, or take nothing."""

from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import EntryKind
from creditgate.domain.results import Receipt
from creditgate.engine.books import Books
from creditgate.engine.members import check_member_spend, count_spend
from creditgate.storage.accounts import AccountRow


def charge(
    books: Books,
    row: AccountRow,
    amount: Credits,
    *,
    member_id: str | None,
    feature: str | None,
    metadata: dict[str, Any],
) -> Receipt:
    """Debit `amount` across the account's lots in burn order, or raise and write nothing.

    The check and the debit happen under the account's row lock, in one transaction: two
    charges of one account never both see the same credits. An unlimited account records
    the charge at its cost and deducts nothing.

    Raises:
        AccountFrozen: the account may not spend.
        MemberNotFound, MemberCapExceeded: the member may not spend this.
        InsufficientCredits: the account cannot cover the amount.
    """
    books.check_can_spend(row)
    check_member_spend(books, row, member_id, amount.units)
    if row.account.is_unlimited:
        entry = books.post(
            row,
            kind=EntryKind.CHARGE,
            cost=amount,
            member_id=member_id,
            feature=feature,
            metadata=metadata,
        )
    else:
        books.require(row, amount.units)
        moves, debt = books.burn(row, amount.units)
        entry = books.post(
            row,
            kind=EntryKind.CHARGE,
            amount=-amount.units,
            moves=moves,
            debt_delta=debt,
            cost=amount,
            member_id=member_id,
            feature=feature,
            metadata=metadata,
        )
    count_spend(books, row, member_id, amount.units)
    return Receipt(entry=entry, balance=books.balance(row))

"""Grant and adjust: credits that arrive as a new lot, and signed corrections."""

from datetime import datetime
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import EntryKind
from creditgate.domain.errors import InvalidInput
from creditgate.domain.lots import LotSource
from creditgate.domain.results import Receipt
from creditgate.engine.books import Books
from creditgate.storage.accounts import AccountRow


def grant(
    books: Books,
    row: AccountRow,
    amount: Credits,
    *,
    source: LotSource,
    expires_at: datetime | None,
    priority: int,
    metadata: dict[str, Any],
) -> Receipt:
    """Add a lot of credits to an account (allowed on a frozen account too).

    Raises:
        InvalidInput: the lot would already have expired.
    """
    if expires_at is not None and expires_at <= books.now:
        raise InvalidInput(field="expires_at", reason="must be in the future")
    entry = books.grant_lot(
        row,
        amount,
        source=source,
        expires_at=expires_at,
        priority=priority,
        metadata=metadata,
    )
    return Receipt(entry=entry, balance=books.balance(row))


def adjust(
    books: Books,
    row: AccountRow,
    amount: Credits,
    *,
    reason: str,
    actor: str,
    metadata: dict[str, Any],
) -> Receipt:
    """A signed correction by an operator, with the reason and the actor on the entry.

    A positive adjustment is a new lot of source `adjustment`; a negative one burns lots
    like a charge and respects the floor (it is not a way to overdraw).

    Raises:
        InvalidInput: the amount is zero.
        InsufficientCredits: a negative adjustment larger than what is available.
    """
    if amount.units == 0:
        raise InvalidInput(field="amount", reason="must not be zero")
    common: dict[str, Any] = {"reason": reason, "actor": actor, "metadata": metadata}
    if amount.units > 0:
        move, repaid = books.new_lot(
            row,
            amount,
            source=LotSource.ADJUSTMENT,
            expires_at=None,
            priority=0,
            metadata=metadata,
        )
        entry = books.post(
            row,
            kind=EntryKind.ADJUST,
            amount=amount.units,
            moves=() if move is None else (move,),
            debt_delta=-repaid,
            source=LotSource.ADJUSTMENT.value,
            **common,
        )
    else:
        units = -amount.units
        books.require(row, units)
        moves, debt = books.burn(row, units)
        entry = books.post(
            row, kind=EntryKind.ADJUST, amount=-units, moves=moves, debt_delta=debt, **common
        )
    return Receipt(entry=entry, balance=books.balance(row))

"""Refunds of a charge or a settled hold: full or partial, never more than was taken.

Where the credits go: back to the lots the spend took them from, most recently burned
first (the debt it ran up, if any, is repaid before any lot). A lot that has expired
since, or expires at the instant of the refund, cannot take credits back (its remainder
left through its one expire entry): that share arrives as a new lot of source `refund`,
with the original lot's priority and no expiry, because a refund for failed work should
not vanish at once.
"""

from creditgate.domain.amounts import ZERO, Credits
from creditgate.domain.entries import SPEND_KINDS, Entry, EntryKind, LotMove
from creditgate.domain.errors import InvalidInput
from creditgate.domain.lots import Lot, LotSource, burn_key
from creditgate.domain.results import Receipt
from creditgate.engine.books import Books
from creditgate.engine.members import count_spend
from creditgate.storage.accounts import AccountRow, lower_next_due_at
from creditgate.storage.entries import refunded_units
from creditgate.storage.lots import insert_lot, lots_by_id


def refund(
    books: Books, row: AccountRow, spend: Entry, amount: Credits | None, reason: str | None
) -> Receipt:
    """Give back `amount` of a spend (all that is left of it when None).

    Raises:
        InvalidInput: the entry is not a charge or settle, or the amount exceeds what is
            left to refund.
    """
    if spend.kind not in SPEND_KINDS:
        raise InvalidInput(field="entry_id", reason="only a charge or a settle can be refunded")
    taken = -spend.amount.units
    left = taken - refunded_units(books.conn, row.pk, spend.id)
    units = left if amount is None else amount.units
    if units <= 0 or units > left:
        raise InvalidInput(
            field="amount", reason=f"{Credits(left)} of this spend is left to refund"
        )
    moves, repaid = _return(books, row, spend, taken - left, units)
    entry = books.post(
        row,
        kind=EntryKind.REFUND,
        amount=units,
        moves=moves,
        debt_delta=-repaid,
        ref_entry_id=spend.id,
        member_id=spend.member_id,
        feature=spend.feature,
        reason=reason,
    )
    count_spend(books, row, spend.member_id, -units, spent_at=spend.created_at)
    if row.period_started_at is not None and spend.created_at >= row.period_started_at:
        # A refund gives back usage of the period its spend was counted in, and no other.
        row.period_spent = max(0, row.period_spent - units)
    return Receipt(entry=entry, balance=books.balance(row))


def _return(
    books: Books, row: AccountRow, spend: Entry, already: int, units: int
) -> tuple[tuple[LotMove, ...], int]:
    """Allocate a refund over the spend's sources, skipping what earlier refunds returned."""
    taken_by_lot = {m.lot_id: -m.amount.units for m in spend.moves if m.amount.units < 0}
    lots = lots_by_id(books.conn, row.pk, taken_by_lot)
    debt_part = -spend.amount.units - sum(taken_by_lot.values())
    order: list[tuple[Lot | None, int]] = [(None, debt_part)]
    order += [
        (lot, taken_by_lot[lot.id]) for lot in sorted(lots.values(), key=burn_key, reverse=True)
    ]
    moves: list[LotMove] = []
    repaid = 0
    skip, give = already, units
    for lot, share in order:
        used = min(skip, share)
        skip -= used
        portion = min(give, share - used)
        give -= portion
        if portion == 0:
            continue
        if lot is None:
            repaid = min(portion, row.debt)
            portion -= repaid
            if portion:
                moves.append(_new_refund_lot(books, row, portion, priority=0))
        elif lot.is_live(books.now):
            moves.append(LotMove(lot_id=lot.id, amount=Credits(portion), held=ZERO))
            # The spend may have emptied this lot, and an empty lot is due for nothing:
            # refilled, its expiry is due again.
            if lot.expires_at is not None:
                lower_next_due_at(row, lot.expires_at)
        else:
            moves.append(_new_refund_lot(books, row, portion, priority=lot.priority))
    assert give == 0
    return tuple(moves), repaid


def _new_refund_lot(books: Books, row: AccountRow, units: int, *, priority: int) -> LotMove:
    lot_id = insert_lot(
        books.conn,
        account_pk=row.pk,
        source=LotSource.REFUND,
        amount=Credits(units),
        priority=priority,
        expires_at=None,
        metadata={},
        now=books.now,
    )
    return LotMove(lot_id=lot_id, amount=Credits(units), held=ZERO)

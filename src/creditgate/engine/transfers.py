"""Transfer: move credits from one account to another (gifting), atomically.

The only operation that spans accounts. Both accounts are locked in id order, so two
transfers in opposite directions cannot deadlock. Credits keep their expiry: each source
lot that gives arrives as a lot of source `transfer` with the same `expires_at`, so a
gift never turns expiring credits into lasting ones. A transfer spends only credits the
sender has: it never draws on an overdraft.
"""

from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import EntryKind, LotMove
from creditgate.domain.errors import AccountNotFound, InvalidInput
from creditgate.domain.lots import LotSource
from creditgate.domain.results import TransferReceipt
from creditgate.engine.books import Books
from creditgate.storage.accounts import AccountRow, find_account
from creditgate.storage.lots import lots_by_id


def lock_pair(books: Books, from_id: str, to_id: str) -> tuple[AccountRow, AccountRow]:
    """Lock both accounts in id order and return them as (sender, receiver).

    Raises:
        InvalidInput: both ids name the same account.
        AccountNotFound: either account does not exist.
    """
    if from_id == to_id:
        raise InvalidInput(field="to_account_id", reason="must differ from the sender")
    found = {}
    for account_id in (from_id, to_id):
        row = find_account(books.conn, account_id)
        if row is None:
            raise AccountNotFound(account_id)
        found[account_id] = row.pk
    for pk in sorted(found.values()):
        books.lock_pk(pk)
    return books.lock_pk(found[from_id]), books.lock_pk(found[to_id])


def transfer(
    books: Books,
    sender: AccountRow,
    receiver: AccountRow,
    amount: Credits,
    metadata: dict[str, Any],
) -> TransferReceipt:
    """Move `amount` from the sender's lots to new lots of the receiver.

    Raises:
        AccountFrozen: the sender may not spend.
        InsufficientCredits: the sender has less than `amount` available (floor ignored).
    """
    books.check_can_spend(sender)
    books.require(sender, amount.units, floor=0)
    moves, debt = books.burn(sender, amount.units)
    assert debt == 0
    debit = books.post(
        sender,
        kind=EntryKind.TRANSFER,
        amount=-amount.units,
        moves=moves,
        counterparty=receiver.account.id,
        metadata=metadata,
    )
    sources = lots_by_id(books.conn, sender.pk, [m.lot_id for m in moves])
    arrivals: list[LotMove] = []
    repaid = 0
    for move in moves:
        lot = sources[move.lot_id]
        arrival, paid = books.new_lot(
            receiver,
            -move.amount,
            source=LotSource.TRANSFER,
            expires_at=lot.expires_at,
            priority=0,
            metadata={"from_lot_id": lot.id},
        )
        # Debt repaid by one arriving lot is no longer owed when the next one arrives.
        receiver.debt -= paid
        repaid += paid
        if arrival is not None:
            arrivals.append(arrival)
    receiver.debt += repaid
    credit = books.post(
        receiver,
        kind=EntryKind.TRANSFER,
        amount=amount.units,
        moves=arrivals,
        debt_delta=-repaid,
        ref_entry_id=debit.id,
        counterparty=sender.account.id,
        source=LotSource.TRANSFER.value,
        metadata=metadata,
    )
    return TransferReceipt(
        debit=debit,
        credit=credit,
        from_balance=books.balance(sender),
        to_balance=books.balance(receiver),
    )

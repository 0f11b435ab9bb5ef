"""Charge: take credits for one use of a feature, atomically, or take nothing."""

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import EntryKind, LotMove
from creditgate.domain.results import Receipt
from creditgate.domain.usage import Outcome
from creditgate.engine.books import Books
from creditgate.engine.members import check_member_spend, count_spend
from creditgate.engine.usage import Call, record
from creditgate.storage.accounts import AccountRow


def charge(books: Books, row: AccountRow, call: Call) -> Receipt:
    """Price the call, debit it across the account's lots in burn order, record its usage.

    The price, the check and the debit happen under the account's row lock, in one
    transaction: two charges of one account never both see the same credits, and the
    entry names the price version it was charged at. An unlimited account records the
    charge at its cost and deducts nothing.

    Raises:
        FeatureNotFound: the feature to price is unknown or inactive.
        InvalidInput: no price covers the model, or the quantity does not fit the rule.
        AccountFrozen: the account may not spend.
        MemberNotFound, MemberCapExceeded: the member may not spend this.
        InsufficientCredits: the account cannot cover the amount.
    """
    amount, quote = call.price(books, row)
    books.check_can_spend(row)
    check_member_spend(books, row, call.member_id, amount.units)
    taken = Credits(0) if row.account.is_unlimited else amount
    moves: tuple[LotMove, ...] = ()
    debt = 0
    if taken:
        books.require(row, taken.units)
        moves, debt = books.burn(row, taken.units)
    entry = books.post(
        row,
        kind=EntryKind.CHARGE,
        amount=-taken.units,
        moves=moves,
        debt_delta=debt,
        cost=amount,
        member_id=call.member_id,
        feature=call.feature,
        model=call.model,
        quantity=call.quantity,
        price_id=None if quote is None else quote.price_id,
        metadata=call.metadata,
    )
    count_spend(books, row, call.member_id, amount.units)
    record(
        books,
        row,
        outcome=Outcome.SUCCEEDED,
        credits=amount,
        feature=call.feature,
        model=call.model,
        quantity=call.quantity,
        member_id=call.member_id,
        price_id=entry.price_id,
        entry_id=entry.id,
        request_id=call.request_id,
        metadata=call.metadata,
    )
    return Receipt(entry=entry, balance=books.balance(row), quote=quote)

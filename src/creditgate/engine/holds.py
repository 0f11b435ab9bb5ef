"""Holds: set credits aside before work, then settle, release, or let them expire.

A hold pins credits on lots (`LotMove.held`), so they stay reserved even when a lot
expires while the work runs. Its terminal state is written once, under the account lock,
by whichever comes first of settle, release or the expiry of its ttl.
"""

from dataclasses import replace
from datetime import timedelta

from creditgate.domain.amounts import ZERO, Credits
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.errors import HoldNotFound, InsufficientCredits, InvalidInput
from creditgate.domain.holds import Hold, HoldStatus, check_pending
from creditgate.domain.ids import HoldId, LotId
from creditgate.domain.lots import Lot, plan_burn, plan_capture
from creditgate.domain.pricing import Quantity, Quote, quote
from creditgate.domain.results import Receipt
from creditgate.domain.usage import Outcome
from creditgate.engine.books import Books
from creditgate.engine.members import check_member_spend, count_spend
from creditgate.engine.usage import Call, End
from creditgate.storage import holds as hold_rows
from creditgate.storage.accounts import AccountRow, lower_next_due_at
from creditgate.storage.catalog import find_price
from creditgate.storage.lots import pinned_lots, spendable_lots


def hold(books: Books, row: AccountRow, call: Call, *, ttl: timedelta) -> Receipt:
    """Price the call and set its cost aside for `ttl`.

    Available drops now, the balance when it settles. A priced hold keeps its price
    version: it settles at that price.

    Raises:
        FeatureNotFound: the feature to price is unknown or inactive.
        InvalidInput: no price covers the model, the quantity does not fit, or it is free.
        AccountFrozen: the account may not spend.
        MemberNotFound, MemberCapExceeded: the member may not spend this.
        InsufficientCredits: less than the cost is available.
    """
    amount, quote = call.price(books, row)
    if not amount:
        raise InvalidInput(
            field="quantity", reason="the call costs nothing: there is nothing to hold"
        )
    member_id, feature, metadata = call.member_id, call.feature, call.metadata
    books.check_can_spend(row)
    check_member_spend(books, row, member_id, amount.units)
    pins: tuple[LotMove, ...] = ()
    if not row.account.is_unlimited:
        books.require(row, amount.units)
        pins = books.pin(row, amount.units)
    draft = Hold(
        id=HoldId(0),
        account_id=row.account.id,
        amount=amount,
        status=HoldStatus.PENDING,
        captured=None,
        member_id=member_id,
        feature=feature,
        metadata=metadata,
        created_at=books.now,
        expires_at=books.now + ttl,
        ended_at=None,
        model=call.model,
        quantity=call.quantity,
        price_id=None if quote is None else quote.price_id,
    )
    made = replace(draft, id=hold_rows.insert_hold(books.conn, row.pk, draft))
    lower_next_due_at(row, made.expires_at)
    entry = books.post(
        row,
        kind=EntryKind.HOLD,
        held_delta=amount.units,
        moves=pins,
        hold_id=made.id,
        member_id=member_id,
        feature=feature,
        model=made.model,
        quantity=made.quantity,
        price_id=made.price_id,
        metadata=metadata,
    )
    return Receipt(entry=entry, balance=books.balance(row), hold=made, quote=quote)


def locate(books: Books, hold_id: HoldId) -> tuple[AccountRow, Hold]:
    """Lock the hold's account, then read the hold under that lock.

    Raises:
        HoldNotFound: no hold has this id.
    """
    pk = hold_rows.account_of_hold(books.conn, hold_id)
    if pk is None:
        raise HoldNotFound(hold_id)
    row = books.lock_pk(pk)
    # Read the hold only under the lock: before it, a concurrent end of this hold may not
    # be visible yet, and locking the account may itself have just expired it.
    return row, _reread(books, hold_id)


def _reread(books: Books, hold_id: HoldId) -> Hold:
    found = hold_rows.find_hold(books.conn, hold_id)
    assert found is not None
    return found[1]


def extend(
    books: Books, row: AccountRow, current: Hold, more: Credits, ttl: timedelta | None
) -> Receipt:
    """Grow a pending hold by `more` (and optionally restart its ttl) from what is available.

    Raises:
        HoldNotPending: the hold has ended.
        AccountFrozen: the account may not spend.
        MemberCapExceeded: the member may not set aside this much more.
        InsufficientCredits: less than `more` is available.
    """
    check_pending(current, books.now)
    books.check_can_spend(row)
    check_member_spend(books, row, current.member_id, more.units)
    pins: tuple[LotMove, ...] = ()
    if not row.account.is_unlimited:
        books.require(row, more.units)
        pins = books.pin(row, more.units)
    expires_at = current.expires_at if ttl is None else max(current.expires_at, books.now + ttl)
    hold_rows.grow_hold(books.conn, current.id, current.amount + more, expires_at)
    entry = books.post(
        row,
        kind=EntryKind.HOLD,
        held_delta=more.units,
        moves=pins,
        hold_id=current.id,
        member_id=current.member_id,
        feature=current.feature,
        model=current.model,
        price_id=current.price_id,
    )
    grown = replace(current, amount=current.amount + more, expires_at=expires_at)
    return Receipt(entry=entry, balance=books.balance(row), hold=grown)


def settle_quote(books: Books, current: Hold, quantity: Quantity | None) -> Quote:
    """The cost of the quantity really used, at the price version the hold was priced at.

    Raises:
        InvalidInput: the hold was set aside as an amount, or the quantity does not fit.
    """
    if current.price_id is None:
        reason = f"hold {current.id} was set aside as an amount: settle it with an amount"
        raise InvalidInput(field="quantity", reason=reason)
    price = find_price(books.conn, current.price_id)
    assert price is not None, "a hold's price version is never deleted"
    assert price.rule is not None, "a hold is priced at a live version"
    return quote(price, model=current.model, quantity=quantity)


def settle(
    books: Books, row: AccountRow, current: Hold, actual: Credits | Quote, end: End
) -> Receipt:
    """Capture the actual cost (an amount, or a quote of the quantity used); release the rest.

    The capture comes from the hold's pinned lots first; an actual above the hold takes
    the extra from what is available, or raises and leaves the hold pending.

    Raises:
        HoldNotPending: the hold has ended (settled, released, or past its ttl).
        AccountFrozen: the extra above the hold may not be spent.
        MemberCapExceeded: the extra would pass the member's cap.
        InsufficientCredits: the extra above the hold is not available.
    """
    check_pending(current, books.now)
    priced = actual if isinstance(actual, Quote) else None
    actual = actual.amount if isinstance(actual, Quote) else actual
    extra = actual.units - current.amount.units
    if extra > 0:
        books.check_can_spend(row)
        check_member_spend(
            books, row, current.member_id, actual.units, held_units=current.amount.units
        )
    pinned = pinned_lots(books.conn, row.pk, current.id)
    moves: tuple[LotMove, ...]
    debt = 0
    if row.account.is_unlimited:
        moves = _unpin(pinned)
        taken = 0
    else:
        released = row.held - current.amount.units
        spendable = row.balance - row.withheld_units - released - row.account.floor.units
        if actual.units > spendable:
            raise InsufficientCredits(required=actual, available=Credits(max(0, spendable)))
        moves, debt = _capture(books, row, pinned, actual.units)
        taken = actual.units
    entry = books.post(
        row,
        kind=EntryKind.SETTLE,
        amount=-taken,
        held_delta=-current.amount.units,
        moves=moves,
        debt_delta=debt,
        cost=actual,
        hold_id=current.id,
        member_id=current.member_id,
        feature=current.feature,
        model=current.model,
        quantity=None if priced is None else priced.quantity,
        price_id=None if priced is None else priced.price_id,
    )
    end.record(books, row, current, entry, Outcome.SUCCEEDED, actual)
    receipt = _ended(books, row, current, entry, pinned, HoldStatus.SETTLED, actual)
    return replace(receipt, quote=priced)


def release(books: Books, row: AccountRow, current: Hold, end: End) -> Receipt:
    """End a hold without spending: everything it set aside is available again.

    Its usage event says `failed` when the end names a failure, else `released`.

    Raises:
        HoldNotPending: the hold has ended (settled, released, or past its ttl).
    """
    check_pending(current, books.now)
    pinned = pinned_lots(books.conn, row.pk, current.id)
    entry = books.post(
        row,
        kind=EntryKind.RELEASE,
        held_delta=-current.amount.units,
        moves=_unpin(pinned),
        hold_id=current.id,
        member_id=current.member_id,
        feature=current.feature,
        model=current.model,
    )
    outcome = Outcome.RELEASED if end.failure is None else Outcome.FAILED
    end.record(books, row, current, entry, outcome, current.amount)
    return _ended(books, row, current, entry, pinned, HoldStatus.RELEASED, None)


def _ended(
    books: Books,
    row: AccountRow,
    current: Hold,
    entry: Entry,
    pinned: list[tuple[Lot, int]],
    status: HoldStatus,
    captured: Credits | None,
) -> Receipt:
    """Write the hold's terminal state once, count the member's spend, free expired lots."""
    hold_rows.end_hold(books.conn, current.id, status, captured, books.now)
    if captured is not None:
        count_spend(books, row, current.member_id, captured.units)
    # A lot that expired while this hold pinned it can expire now that the pin is gone.
    if any(not lot.is_live(books.now) for lot, _ in pinned):
        books.write_due(row, force=True)
    ended = replace(current, status=status, captured=captured, ended_at=books.now)
    return Receipt(entry=entry, balance=books.balance(row), hold=ended)


def _unpin(pinned: list[tuple[Lot, int]]) -> tuple[LotMove, ...]:
    return tuple(
        LotMove(lot_id=lot.id, amount=ZERO, held=Credits(-units))
        for lot, units in sorted(pinned, key=lambda pin: pin[0].id)
    )


def _capture(
    books: Books, row: AccountRow, pinned: list[tuple[Lot, int]], units: int
) -> tuple[tuple[LotMove, ...], int]:
    """Lot moves of a capture: pinned lots first, then free lots, then (within a floor) debt."""
    held = {lot.id: units for lot, units in pinned}
    from_pins = min(units, sum(held.values()))
    captured = dict(plan_capture(pinned, from_pins))
    taken: dict[LotId, int] = {}
    uncovered = 0
    if units > from_pins:
        burn = plan_burn(
            spendable_lots(books.conn, row.pk, books.now), units - from_pins, now=books.now
        )
        assert burn.uncovered_units == 0 or row.account.floor.units < 0, "debt only within a floor"
        taken, uncovered = dict(burn.moves), burn.uncovered_units
    moves = [
        LotMove(
            lot_id=lot_id,
            amount=Credits(-(captured.get(lot_id, 0) + taken.get(lot_id, 0))),
            held=Credits(-held.get(lot_id, 0)),
        )
        for lot_id in sorted(set(held) | set(taken))
    ]
    return tuple(moves), uncovered

"""Purchases: a checkout recorded, paid once, failed, refunded or disputed.

Each provider event is handled in one transaction that first claims the event's id
(`provider_events`), then locks the purchase's account, then acts on the purchase. The
claim makes a redelivered event a no-op; the account lock serializes two different events
about one purchase, and the purchase's status is the business key: only a purchase that is
not yet paid is paid, so a checkout's credits are granted once however many events say so.
Because claim and effect commit together, a failure in between loses neither, and the
provider's retry applies the event.
"""

from datetime import timedelta
from typing import Any

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import Credits
from creditgate.domain.entries import EntryKind, LotMove
from creditgate.domain.errors import PackClaimed
from creditgate.domain.events import EventResult, Outcome, ProviderEvent
from creditgate.domain.ids import LotId
from creditgate.domain.lots import LotSource
from creditgate.domain.packs import (
    Pack,
    Purchase,
    PurchaseKind,
    PurchaseStatus,
    take_back_units,
)
from creditgate.domain.plans import Interval, Plan
from creditgate.domain.webhooks import EventType
from creditgate.engine import referrals
from creditgate.engine.books import Books
from creditgate.storage import packs as rows
from creditgate.storage.accounts import AccountRow, find_account
from creditgate.storage.lots import lots_by_id

FREE = "free"
"""The provider name of a free-once pack's claim (no payment)."""

_UNPAID = frozenset({PurchaseStatus.PENDING, PurchaseStatus.FAILED})
_GRANTED = frozenset({PurchaseStatus.PAID, PurchaseStatus.REFUNDED, PurchaseStatus.DISPUTED})


def open_checkout(
    books: Books, row: AccountRow, pack_pk: int, pack: Pack, *, provider: str, reference: str
) -> Purchase:
    """Record a pending purchase of `pack` for the provider's checkout `reference`.

    The amount and currency are the pack's now: the payment must match them. Recording
    the same reference again answers the purchase already recorded.
    """
    rows.insert_purchase(
        books.conn,
        {
            "account_id": row.pk,
            "kind": PurchaseKind.PACK.value,
            "pack_id": pack_pk,
            "provider": provider,
            "reference": reference,
            "amount_minor": pack.price_minor,
            "currency": pack.currency,
            "status": PurchaseStatus.PENDING.value,
        },
        books.now,
    )
    found = rows.find_purchase(books.conn, provider=provider, reference=reference)
    assert found is not None
    return found.purchase


def open_plan_checkout(
    books: Books,
    row: AccountRow,
    plan_pk: int,
    plan: Plan,
    interval: Interval,
    *,
    provider: str,
    reference: str,
) -> Purchase:
    """Record a pending purchase of a plan subscription for the provider's checkout.

    The purchase grants nothing itself: each paid invoice grants the plan's cycles.
    """
    rows.insert_purchase(
        books.conn,
        {
            "account_id": row.pk,
            "kind": PurchaseKind.PLAN.value,
            "plan_id": plan_pk,
            "interval": interval.value,
            "provider": provider,
            "reference": reference,
            "amount_minor": plan.prices[interval],
            "currency": plan.currency,
            "status": PurchaseStatus.PENDING.value,
        },
        books.now,
    )
    found = rows.find_purchase(books.conn, provider=provider, reference=reference)
    assert found is not None
    return found.purchase


def complete_plan(
    books: Books, event: ProviderEvent, *, reference: str, subscription_ref: str
) -> EventResult:
    """A subscription checkout completed: its purchase is paid (the invoice grants)."""
    provider = event.provider.value
    known = rows.find_purchase(books.conn, provider=provider, reference=reference)
    if known is None:
        return finish(books, event, Outcome.RECORDED, detail=f"no purchase {reference!r}")
    row = books.lock_pk(known.account_pk)
    found = rows.find_purchase(books.conn, provider=provider, reference=reference)
    assert found is not None
    if found.purchase.status not in _UNPAID:
        return finish(books, event, Outcome.NO_CHANGE, row=row, purchase_pk=found.pk)
    values = {
        "status": PurchaseStatus.PAID.value,
        "payment_ref": subscription_ref,
        "paid_at": books.now,
        "note": None,
    }
    rows.save_purchase(books.conn, found.pk, values, books.now)
    completed(books, row, _reread(books, found))
    referrals.reward_first_purchase(books, row)
    return finish(books, event, Outcome.APPLIED, row=row, purchase_pk=found.pk)


def claim_free(books: Books, row: AccountRow, pack_pk: int, pack: Pack) -> Purchase:
    """Grant a free-once pack to an account, once.

    Raises:
        PackClaimed: the account claimed this pack before.
    """
    assert pack.is_free_once
    reference = f"{pack.key}:{row.pk}"
    values = {
        "account_id": row.pk,
        "kind": PurchaseKind.PACK.value,
        "pack_id": pack_pk,
        "provider": FREE,
        "reference": reference,
        "amount_minor": 0,
        "currency": pack.currency,
        "status": PurchaseStatus.PENDING.value,
    }
    if rows.insert_purchase(books.conn, values, books.now) is None:
        raise PackClaimed(key=pack.key)
    found = rows.find_purchase(books.conn, provider=FREE, reference=reference)
    assert found is not None
    return pay(books, row, found, pack, payment_ref=None)


def pay(
    books: Books, row: AccountRow, found: rows.PurchaseRow, pack: Pack, *, payment_ref: str | None
) -> Purchase:
    """Grant a purchase's credits (and bonus, as a lot of its own) and mark it paid."""
    assert found.purchase.status in _UNPAID
    expires_at = None
    if pack.expires_after_days is not None:
        expires_at = books.now + timedelta(days=pack.expires_after_days)
    metadata = {"purchase_id": found.pk, "pack": pack.key}
    lot_ids: list[LotId | None] = []
    for amount, source in (
        (pack.credits, LotSource.PURCHASE),
        (pack.bonus_credits, LotSource.BONUS),
    ):
        if amount.units == 0:
            lot_ids.append(None)
            continue
        entry = books.grant_lot(
            row, amount, source=source, expires_at=expires_at, priority=0, metadata=metadata
        )
        lot_ids.append(entry.moves[0].lot_id if entry.moves else None)
    values: dict[str, Any] = {
        "status": PurchaseStatus.PAID.value,
        "credits": pack.total_credits.units,
        "lot_id": lot_ids[0],
        "bonus_lot_id": lot_ids[1],
        "paid_at": books.now,
        "note": None,
    }
    if payment_ref is not None:
        values["payment_ref"] = payment_ref
    rows.save_purchase(books.conn, found.pk, values, books.now)
    paid = _reread(books, found)
    completed(books, row, paid)
    if found.purchase.provider != FREE:
        # A paid purchase may be what a pending referral of this account waits for.
        referrals.reward_first_purchase(books, row)
    return paid


def completed(books: Books, row: AccountRow, purchase: Purchase) -> None:
    """Tell the endpoints that listen that a purchase was paid (after its credits' grants)."""
    books.emit(
        row,
        EventType.PURCHASE_COMPLETED,
        {
            "purchase_id": purchase.id,
            "kind": purchase.kind.value,
            "pack": purchase.pack,
            "plan": purchase.plan,
            "provider": purchase.provider,
            "reference": purchase.reference,
            "amount_minor": purchase.amount_minor,
            "currency": purchase.currency,
            "credits": str(purchase.credits),
        },
    )


def _reread(books: Books, found: rows.PurchaseRow) -> Purchase:
    again = rows.find_purchase_by_pk(books.conn, found.account_pk, found.pk)
    assert again is not None
    return again.purchase


def finish(
    books: Books,
    event: ProviderEvent,
    outcome: Outcome,
    *,
    row: AccountRow | None = None,
    purchase_pk: int | None = None,
    detail: str | None = None,
) -> EventResult:
    """Write what a claimed event did, and answer it."""
    rows.record_outcome(
        books.conn,
        event,
        outcome=outcome,
        account_pk=None if row is None else row.pk,
        purchase_pk=purchase_pk,
        detail={} if detail is None else {"detail": detail},
    )
    return EventResult(
        event_id=event.event_id,
        type=event.type,
        outcome=outcome,
        account_id=None if row is None else row.account.id,
        purchase_id=purchase_pk,
        detail=detail,
    )


def duplicate(event: ProviderEvent) -> EventResult:
    """The answer to an event claimed before: it did nothing this time."""
    return EventResult(event_id=event.event_id, type=event.type, outcome=Outcome.DUPLICATE)


def complete(
    books: Books,
    event: ProviderEvent,
    *,
    account_id: str,
    pack_key: str,
    reference: str,
    amount_minor: int,
    currency: str,
    payment_ref: str | None,
    is_paid: bool,
) -> EventResult:
    """A checkout completed (or its delayed payment succeeded): pay the purchase once.

    The credits come from the catalog; the amount and currency paid must equal those the
    checkout was opened with (or, when it was never recorded, the pack's price now).
    """
    provider = event.provider.value
    known = rows.find_purchase(books.conn, provider=provider, reference=reference)
    if known is not None:
        row = books.lock_pk(known.account_pk)
    else:
        target = find_account(books.conn, check_account_id(account_id))
        if target is None:
            return finish(books, event, Outcome.RECORDED, detail=f"no account {account_id!r}")
        row = books.lock_pk(target.pk)
    found = rows.find_purchase(books.conn, provider=provider, reference=reference)
    if found is None:
        pack_found = rows.find_pack(books.conn, pack_key)
        if pack_found is None:
            return finish(books, event, Outcome.RECORDED, row=row, detail=f"no pack {pack_key!r}")
        open_checkout(
            books, row, pack_found[0], pack_found[1], provider=provider, reference=reference
        )
        found = rows.find_purchase(books.conn, provider=provider, reference=reference)
        assert found is not None
    purchase = found.purchase
    if purchase.status not in _UNPAID:
        return finish(books, event, Outcome.NO_CHANGE, row=row, purchase_pk=found.pk)
    paid = (amount_minor, currency)
    expected = (purchase.amount_minor, purchase.currency)
    if paid != expected:
        note = f"paid {amount_minor} {currency}, the checkout asked {expected[0]} {expected[1]}"
        rows.save_purchase(
            books.conn, found.pk, {"status": PurchaseStatus.FAILED.value, "note": note}, books.now
        )
        return finish(books, event, Outcome.MISMATCH, row=row, purchase_pk=found.pk, detail=note)
    if not is_paid:
        if payment_ref is not None:
            rows.save_purchase(books.conn, found.pk, {"payment_ref": payment_ref}, books.now)
        detail = "the payment is still processing"
        return finish(books, event, Outcome.RECORDED, row=row, purchase_pk=found.pk, detail=detail)
    assert found.pack_pk is not None
    pack = _pack_of(books, found)
    pay(books, row, found, pack, payment_ref=payment_ref)
    return finish(books, event, Outcome.APPLIED, row=row, purchase_pk=found.pk)


def _pack_of(books: Books, found: rows.PurchaseRow) -> Pack:
    assert found.purchase.pack is not None
    pack = rows.find_pack(books.conn, found.purchase.pack)
    assert pack is not None, "a purchased pack is never deleted"
    return pack[1]


def fail(books: Books, event: ProviderEvent, *, reference: str) -> EventResult:
    """A checkout's delayed payment failed: the pending purchase is failed, nothing granted."""
    provider = event.provider.value
    known = rows.find_purchase(books.conn, provider=provider, reference=reference)
    if known is None:
        return finish(books, event, Outcome.RECORDED, detail=f"no purchase {reference!r}")
    row = books.lock_pk(known.account_pk)
    found = rows.find_purchase(books.conn, provider=provider, reference=reference)
    assert found is not None
    if found.purchase.status is not PurchaseStatus.PENDING:
        return finish(books, event, Outcome.NO_CHANGE, row=row, purchase_pk=found.pk)
    values = {"status": PurchaseStatus.FAILED.value, "note": "the payment failed"}
    rows.save_purchase(books.conn, found.pk, values, books.now)
    return finish(books, event, Outcome.APPLIED, row=row, purchase_pk=found.pk)


def reverse(
    books: Books,
    event: ProviderEvent,
    *,
    payment_ref: str,
    refunded_minor: int,
    is_disputed: bool,
) -> EventResult:
    """A payment was refunded (in part or whole) or disputed: take back by the policy.

    `refunded_minor` is the total refunded so far (Stripe's `amount_refunded`), so events
    that arrive out of order or twice never take back twice. See `domain.packs` for the
    policy: the share refunded of the credits, everything on a dispute; what was spent
    already is recorded as owed.
    """
    provider = event.provider.value
    known = rows.find_purchase_by_payment(books.conn, provider, payment_ref)
    if known is None:
        return finish(books, event, Outcome.RECORDED, detail=f"no purchase paid by {payment_ref!r}")
    row = books.lock_pk(known.account_pk)
    found = rows.find_purchase_by_payment(books.conn, provider, payment_ref)
    assert found is not None
    purchase = found.purchase
    if purchase.status not in _GRANTED:
        detail = f"the purchase is {purchase.status.value}: nothing was granted"
        return finish(books, event, Outcome.RECORDED, row=row, purchase_pk=found.pk, detail=detail)
    refunded = min(max(purchase.refunded_minor, refunded_minor), purchase.amount_minor)
    is_disputed = is_disputed or purchase.status is PurchaseStatus.DISPUTED
    due = take_back_units(
        granted_units=purchase.credits.units,
        price_minor=purchase.amount_minor,
        refunded_minor=refunded,
        is_disputed=is_disputed,
    )
    wanted = max(0, due - purchase.taken_back.units - purchase.owed.units)
    taken = _take_back(books, row, found, wanted, reason="dispute" if is_disputed else "refund")
    status = purchase.status
    if is_disputed:
        status = PurchaseStatus.DISPUTED
    elif refunded >= purchase.amount_minor:
        status = PurchaseStatus.REFUNDED
    values = {
        "status": status.value,
        "refunded_minor": refunded,
        "taken_back": purchase.taken_back.units + taken,
        "owed": purchase.owed.units + wanted - taken,
    }
    rows.save_purchase(books.conn, found.pk, values, books.now)
    changed = wanted > 0 or status is not purchase.status or refunded != purchase.refunded_minor
    outcome = Outcome.APPLIED if changed else Outcome.NO_CHANGE
    return finish(books, event, outcome, row=row, purchase_pk=found.pk)


def _take_back(
    books: Books, row: AccountRow, found: rows.PurchaseRow, wanted: int, *, reason: str
) -> int:
    """Take up to `wanted` units out of the purchase's own live lots, the bonus first.

    Only the free part of a lot (not pinned by a pending hold) and never past the
    account's floor; one adjust entry records it. Returns the units taken.
    """
    spendable = max(0, books.spendable_units(row))
    wanted = min(wanted, spendable)
    lot_ids = [LotId(i) for i in (found.bonus_lot_id, found.lot_id) if i is not None]
    lots = lots_by_id(books.conn, row.pk, lot_ids)
    moves: list[LotMove] = []
    for lot_id in lot_ids:
        lot = lots.get(lot_id)
        if lot is None or wanted == 0 or not lot.is_live(books.now):
            continue
        units = min(wanted, lot.free.units)
        if units > 0:
            moves.append(LotMove(lot_id=lot_id, amount=Credits(-units), held=Credits(0)))
            wanted -= units
    taken = -sum(m.amount.units for m in moves)
    if taken:
        books.post(
            row,
            kind=EntryKind.ADJUST,
            amount=-taken,
            moves=moves,
            reason=reason,
            actor=found.purchase.provider,
            metadata={"purchase_id": found.pk},
        )
    return taken

"""Credits in and out: grants, adjustments, charges, holds, refunds and transfers.

Every route here writes the ledger, so each honours `Idempotency-Key`.
"""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response

from creditgate.domain.errors import (
    AccountNotFound,
    EntryNotFound,
    FeatureNotFound,
    Forbidden,
    HoldNotFound,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
)
from creditgate.domain.ids import EntryId, HoldId
from creditgate.http.deps import (
    Admin,
    Engines,
    IdempotencyKey,
    Reader,
    Writer,
    reach,
    reach_entry,
    reach_hold,
    replays,
)
from creditgate.http.problems import documented
from creditgate.schemas import (
    AdjustIn,
    ChargeIn,
    EntryOut,
    ExtendIn,
    GrantIn,
    HoldIn,
    HoldOut,
    ReceiptOut,
    RefundIn,
    ReleaseIn,
    SettleIn,
    TransferIn,
    TransferReceiptOut,
    engine_quantity,
)

router = APIRouter(prefix="/v1", tags=["ledger"])

HoldPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
EntryPath = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post(
    "/accounts/{account_id}/grants",
    responses=documented(AccountNotFound, IdempotencyConflict),
)
def grant(
    account_id: str,
    body: GrantIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Add a lot of credits from a source (purchase, bonus, welcome…), optionally expiring."""
    with replays(response):
        return ReceiptOut.of(
            engine.grant(
                reach(key, account_id),
                body.amount,
                source=body.source,
                expires_at=body.expires_at,
                priority=body.priority,
                metadata=body.metadata,
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/accounts/{account_id}/adjustments",
    responses=documented(AccountNotFound, InsufficientCredits, IdempotencyConflict),
)
def adjust(
    account_id: str,
    body: AdjustIn,
    engine: Engines,
    key: Admin,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """A signed correction by an operator, recorded with its reason and actor."""
    with replays(response):
        return ReceiptOut.of(
            engine.adjust(
                reach(key, account_id),
                body.amount,
                reason=body.reason,
                actor=body.actor,
                metadata=body.metadata,
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/accounts/{account_id}/charge",
    responses=documented(
        AccountNotFound, FeatureNotFound, InsufficientCredits, IdempotencyConflict
    ),
)
def charge(
    account_id: str,
    body: ChargeIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Take the cost of one call now, or answer 402 and take nothing.

    Give an `amount`, or a `feature` (with `model` and `quantity`) for the catalog to
    price. The receipt says `credits_used` and `credits_remaining`.
    """
    with replays(response):
        return ReceiptOut.of(
            engine.charge(
                reach(key, account_id),
                body.amount,
                feature=body.feature,
                model=body.model,
                quantity=engine_quantity(body.quantity),
                member_id=body.member_id,
                request_id=body.request_id,
                metadata=body.metadata,
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/accounts/{account_id}/holds",
    responses=documented(
        AccountNotFound, FeatureNotFound, InsufficientCredits, IdempotencyConflict
    ),
)
def hold(
    account_id: str,
    body: HoldIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Set the cost of a call aside for `ttl_s` seconds before expensive work.

    Settle it with the actual cost (or quantity) when the work succeeds; release it when
    the work fails. A hold past its ttl expires and its credits are available again.
    """
    with replays(response):
        return ReceiptOut.of(
            engine.hold(
                reach(key, account_id),
                body.amount,
                ttl=timedelta(seconds=body.ttl_s),
                feature=body.feature,
                model=body.model,
                quantity=engine_quantity(body.quantity),
                member_id=body.member_id,
                metadata=body.metadata,
                idempotency_key=idempotency_key,
            )
        )


@router.get("/holds/{hold_id}", responses=documented(HoldNotFound))
def get_hold(hold_id: HoldPath, engine: Engines, key: Reader) -> HoldOut:
    """A hold, with its status as of now (a pending hold past its ttl reads expired)."""
    found = engine.get_hold(HoldId(hold_id))
    reach_hold(key, engine, found.id)
    return HoldOut.of(found)


@router.post(
    "/holds/{hold_id}/extend",
    responses=documented(HoldNotFound, HoldNotPending, InsufficientCredits, IdempotencyConflict),
)
def extend(
    hold_id: HoldPath,
    body: ExtendIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Grow a pending hold from what is available (a stream that outgrew its estimate)."""
    reach_hold(key, engine, HoldId(hold_id))
    with replays(response):
        return ReceiptOut.of(
            engine.extend(
                HoldId(hold_id),
                body.more,
                ttl=None if body.ttl_s is None else timedelta(seconds=body.ttl_s),
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/holds/{hold_id}/settle",
    responses=documented(HoldNotFound, HoldNotPending, InsufficientCredits, IdempotencyConflict),
)
def settle(
    hold_id: HoldPath,
    body: SettleIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Capture the actual cost (or the quantity used) and release the rest of the hold."""
    reach_hold(key, engine, HoldId(hold_id))
    with replays(response):
        return ReceiptOut.of(
            engine.settle(
                HoldId(hold_id),
                body.actual,
                quantity=engine_quantity(body.quantity),
                latency_ms=body.latency_ms,
                request_id=body.request_id,
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/holds/{hold_id}/release",
    responses=documented(HoldNotFound, HoldNotPending, IdempotencyConflict),
)
def release(
    hold_id: HoldPath,
    body: ReleaseIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """End a hold without spending; name the `failure` when the work failed."""
    reach_hold(key, engine, HoldId(hold_id))
    with replays(response):
        return ReceiptOut.of(
            engine.release(
                HoldId(hold_id),
                failure=body.failure,
                latency_ms=body.latency_ms,
                request_id=body.request_id,
                idempotency_key=idempotency_key,
            )
        )


@router.get("/entries/{entry_id}", responses=documented(EntryNotFound))
def get_entry(entry_id: EntryPath, engine: Engines, key: Reader) -> EntryOut:
    """One ledger entry with its lot moves."""
    reach_entry(key, engine, EntryId(entry_id))
    return EntryOut.of(engine.get_entry(EntryId(entry_id)))


@router.post(
    "/entries/{entry_id}/refund",
    responses=documented(EntryNotFound, IdempotencyConflict),
)
def refund(
    entry_id: EntryPath,
    body: RefundIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Give back all (no amount) or part of what a charge or settle took, never more in total."""
    reach_entry(key, engine, EntryId(entry_id))
    with replays(response):
        return ReceiptOut.of(
            engine.refund(
                EntryId(entry_id),
                body.amount,
                reason=body.reason,
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/transfers",
    responses=documented(AccountNotFound, InsufficientCredits, IdempotencyConflict),
)
def transfer(
    body: TransferIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> TransferReceiptOut:
    """Move credits from one account to another (a gift); they keep their expiry.

    A key bound to one account may not transfer: the receipt shows both accounts. Naming
    another account as the sender answers 404 first, as for any id the key may not see.
    """
    sender = reach(key, body.from_account_id)
    if key.account_id is not None:
        raise Forbidden("a key bound to one account cannot transfer: the receipt shows both")
    with replays(response):
        return TransferReceiptOut.of(
            engine.transfer(
                sender,
                body.to_account_id,
                body.amount,
                metadata=body.metadata,
                idempotency_key=idempotency_key,
            )
        )

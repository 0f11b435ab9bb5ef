"""Referrals: record who referred an account, and list the referrals an account made.

Recording a referral may grant the referrer's bonus, a write to another account, so a key
bound to one account may not record one (the app's back end records it, at sign-up); it
answers 404 for another account first, exactly as for a missing one. A key bound to an
account reads that account's referrals: the accounts it referred are its own business.
"""

from fastapi import APIRouter, Response

from creditgate.domain.errors import (
    AccountNotFound,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    ReferralExists,
    ReferralsOff,
)
from creditgate.http.deps import Engines, IdempotencyKey, Reader, Writer, reach, replays
from creditgate.http.problems import documented
from creditgate.schemas import ReferIn, ReferralOut

router = APIRouter(prefix="/v1", tags=["referrals"])


@router.post(
    "/accounts/{account_id}/referral",
    responses=documented(
        AccountNotFound, Forbidden, ReferralExists, ReferralsOff, InvalidInput, IdempotencyConflict
    ),
)
def refer(
    account_id: str,
    body: ReferIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReferralOut:
    """Record that `referrer` referred the account, on the catalog's `[referrals]` terms.

    On the `signup` condition both bonuses are granted now; on `first_purchase` the
    referral stays `pending` until a purchase of the account is paid. An account is
    referred once: 409 `referral_exists` after that, `referrals_off` when the catalog
    offers no referral bonus.
    """
    referee = reach(key, account_id)
    if key.account_id is not None:
        raise Forbidden("a key bound to one account cannot record a referral: it credits another")
    with replays(response):
        return ReferralOut.of(engine.refer(referee, body.referrer, idempotency_key=idempotency_key))


@router.get("/accounts/{account_id}/referrals", responses=documented(AccountNotFound))
def referrals(account_id: str, engine: Engines, key: Reader) -> list[ReferralOut]:
    """The referrals the account made (as the referrer), oldest first, with their state."""
    return [ReferralOut.of(r) for r in engine.referrals(reach(key, account_id))]

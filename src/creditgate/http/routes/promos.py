"""Promo codes: admins create and change them, accounts redeem them.

Admin keys manage codes (a code is worth credits to whoever holds it, so even listing them
is an admin's business). A write key redeems a code for an account it reaches; the
redemption is a ledger write, so it honours `Idempotency-Key`.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from creditgate.domain.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InvalidInput,
    PromoExists,
    PromoNotFound,
    PromoRedeemed,
    PromoUnavailable,
)
from creditgate.http.deps import Admin, Engines, IdempotencyKey, Writer, reach, replays
from creditgate.http.problems import documented
from creditgate.schemas import PromoIn, PromoOut, PromoUpdateIn, ReceiptOut, RedeemIn

router = APIRouter(prefix="/v1", tags=["promos"])

PromoCode = Annotated[str, Path(max_length=64, examples=["SPRING-25"])]


@router.get("/promos", responses=documented())
def promos(engine: Engines, key: Admin, include_inactive: bool = False) -> list[PromoOut]:
    """The active promo codes (or every code), by code."""
    return [PromoOut.of(p) for p in engine.promos(include_inactive=include_inactive)]


@router.post("/promos", responses=documented(PromoExists))
def create_promo(body: PromoIn, engine: Engines, key: Admin) -> PromoOut:
    """Add a promo code; it is stored and shown in upper case."""
    return PromoOut.of(
        engine.create_promo(
            body.code,
            credits=body.credits,
            expires_after_days=body.expires_after_days,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            max_redemptions=body.max_redemptions,
            is_active=body.is_active,
        )
    )


@router.get("/promos/{code}", responses=documented(PromoNotFound))
def get_promo(code: PromoCode, engine: Engines, key: Admin) -> PromoOut:
    """One promo code, active or not, with how many accounts have redeemed it."""
    return PromoOut.of(engine.get_promo(code))


@router.patch("/promos/{code}", responses=documented(PromoNotFound))
def update_promo(code: PromoCode, body: PromoUpdateIn, engine: Engines, key: Admin) -> PromoOut:
    """Change a promo code; absent fields stay, redemptions already made stay."""
    return PromoOut.of(
        engine.update_promo(
            code,
            credits=body.credits,
            expires_after_days=body.expires_after_days,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            max_redemptions=body.max_redemptions,
            is_active=body.is_active,
        )
    )


@router.post(
    "/accounts/{account_id}/redeem",
    responses=documented(
        AccountNotFound,
        PromoNotFound,
        PromoUnavailable,
        PromoRedeemed,
        InvalidInput,
        IdempotencyConflict,
    ),
)
def redeem(
    account_id: str,
    body: RedeemIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ReceiptOut:
    """Grant a promo code's credits to the account, once per account, as a `promo` lot.

    409 with `code` `promo_unavailable` says why in `reason` (`inactive`, `not_started`,
    `ended`, `used_up`); `promo_redeemed` says the account has redeemed it already.
    """
    with replays(response):
        return ReceiptOut.of(
            engine.redeem(reach(key, account_id), body.code, idempotency_key=idempotency_key)
        )

"""Packs and purchases: the purchase page, checkout, free-once claims, purchase history.

Read keys read packs and purchases; admin keys change packs. A write key opens a checkout
or claims a free pack for the accounts it reaches. Paying happens on Stripe's page; its
webhook grants the credits (see `creditgate.integrations.webhooks`).
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from creditgate.domain.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InvalidInput,
    PackClaimed,
    PackExists,
    PackNotFound,
    PlanNotFound,
    ProviderFailed,
    PurchaseNotFound,
    Unavailable,
)
from creditgate.domain.events import Provider
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.engine import Engine
from creditgate.http.deps import Admin, Engines, IdempotencyKey, Reader, Writer, reach, replays
from creditgate.http.problems import documented
from creditgate.integrations.stripe_gateway import StripeGateway
from creditgate.schemas import (
    AutoTopUpIn,
    AutoTopUpOut,
    CheckoutIn,
    CheckoutOut,
    PackIn,
    PackOut,
    PackUpdateIn,
    PurchaseOut,
    PurchasePage,
)

router = APIRouter(prefix="/v1", tags=["packs"])

PackKey = Annotated[str, Path(max_length=64, examples=["creator"])]


@router.get("/packs", responses=documented())
def packs(engine: Engines, key: Reader, include_inactive: bool = False) -> list[PackOut]:
    """The packs on sale (or every pack), in the purchase page's order."""
    return [PackOut.of(p) for p in engine.packs(include_inactive=include_inactive)]


@router.post("/packs", responses=documented(PackExists))
def create_pack(body: PackIn, engine: Engines, key: Admin) -> PackOut:
    """Put a pack on sale."""
    return PackOut.of(
        engine.create_pack(
            body.key,
            name=body.name,
            credits=body.credits,
            price_minor=body.price_minor,
            currency=body.currency,
            bonus_credits=body.bonus_credits,
            description=body.description,
            badge=body.badge,
            is_free_once=body.is_free_once,
            expires_after_days=body.expires_after_days,
            is_active=body.is_active,
            sort_order=body.sort_order,
        )
    )


@router.get("/packs/{pack}", responses=documented(PackNotFound))
def get_pack(pack: PackKey, engine: Engines, key: Reader) -> PackOut:
    """One pack, active or not."""
    return PackOut.of(engine.get_pack(pack))


@router.patch("/packs/{pack}", responses=documented(PackNotFound))
def update_pack(pack: PackKey, body: PackUpdateIn, engine: Engines, key: Admin) -> PackOut:
    """Change a pack for checkouts opened from now on; absent fields stay."""
    return PackOut.of(
        engine.update_pack(
            pack,
            name=body.name,
            credits=body.credits,
            price_minor=body.price_minor,
            currency=body.currency,
            bonus_credits=body.bonus_credits,
            description=body.description,
            badge=body.badge,
            is_free_once=body.is_free_once,
            expires_after_days=body.expires_after_days,
            is_active=body.is_active,
            sort_order=body.sort_order,
        )
    )


@router.post("/packs/{pack}/deactivate", responses=documented(PackNotFound))
def deactivate_pack(pack: PackKey, engine: Engines, key: Admin) -> PackOut:
    """Stop selling a pack; its purchases keep pointing at it."""
    return PackOut.of(engine.deactivate_pack(pack))


@router.post(
    "/accounts/{account_id}/packs/{pack}/claim",
    responses=documented(AccountNotFound, PackNotFound, PackClaimed, IdempotencyConflict),
)
def claim_pack(
    account_id: str,
    pack: PackKey,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PurchaseOut:
    """Grant a free-once pack to the account: once per account, ever."""
    with replays(response):
        return PurchaseOut.of(
            engine.claim_pack(reach(key, account_id), pack, idempotency_key=idempotency_key)
        )


@router.get("/accounts/{account_id}/purchases", responses=documented(AccountNotFound))
def purchases(
    account_id: str,
    engine: Engines,
    key: Reader,
    limit: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> PurchasePage:
    """The account's purchases, newest first."""
    return PurchasePage.of(engine.purchases(reach(key, account_id), limit=limit, cursor=cursor))


@router.get(
    "/accounts/{account_id}/purchases/{purchase_id}",
    responses=documented(AccountNotFound, PurchaseNotFound),
)
def get_purchase(
    account_id: str,
    purchase_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    engine: Engines,
    key: Reader,
) -> PurchaseOut:
    """One of the account's purchases."""
    return PurchaseOut.of(engine.get_purchase(reach(key, account_id), purchase_id))


@router.get("/accounts/{account_id}/auto-top-up", responses=documented(AccountNotFound))
def auto_top_up(account_id: str, engine: Engines, key: Reader) -> AutoTopUpOut | None:
    """The account's auto top-up and where it stands; null when never set."""
    found = engine.auto_top_up(reach(key, account_id))
    return None if found is None else AutoTopUpOut.of(found)


@router.put(
    "/accounts/{account_id}/auto-top-up",
    responses=documented(AccountNotFound, PackNotFound, InvalidInput),
)
def set_auto_top_up(
    account_id: str, body: AutoTopUpIn, engine: Engines, key: Writer
) -> AutoTopUpOut:
    """Buy a pack with the saved card whenever available credits fall below the line.

    One payment per crossing; the credits arrive when Stripe confirms it. Setting it again
    replaces it (and counts failures from zero).
    """
    return AutoTopUpOut.of(
        engine.set_auto_top_up(
            reach(key, account_id),
            pack=body.pack,
            threshold=body.threshold,
            customer_ref=body.customer_ref,
            payment_method_ref=body.payment_method_ref,
            failures_max=body.failures_max,
        )
    )


@router.delete("/accounts/{account_id}/auto-top-up", responses=documented(AccountNotFound))
def disable_auto_top_up(account_id: str, engine: Engines, key: Writer) -> AutoTopUpOut | None:
    """Turn auto top-up off (a payment already started still settles); null when never set."""
    found = engine.disable_auto_top_up(reach(key, account_id))
    return None if found is None else AutoTopUpOut.of(found)


@router.post(
    "/checkout",
    responses=documented(
        AccountNotFound, PackNotFound, PlanNotFound, InvalidInput, ProviderFailed, Unavailable
    ),
)
def checkout(body: CheckoutIn, request: Request, engine: Engines, key: Writer) -> CheckoutOut:
    """Open a Stripe Checkout Session for a pack or a plan and record the pending purchase.

    Send the person to `url`. When Stripe says the payment succeeded, its webhook grants a
    pack's credits once; a plan's subscription starts with its first paid invoice, and each
    paid invoice grants its cycles.
    """
    account_id = reach(key, body.account_id)
    gateway: StripeGateway = request.app.state.stripe
    if (body.pack is None) == (body.plan is None):
        raise InvalidInput(field="pack", reason="name a pack or a plan (with its interval)")
    if body.plan is not None:
        plan, interval = engine.checkout_plan(account_id, body.plan, body.interval)
        session_id, url = gateway.open_plan_checkout(
            account_id=account_id,
            plan=plan,
            interval=interval,
            success_url=body.success_url,
            cancel_url=body.cancel_url,
            customer_email=body.customer_email,
        )
        purchase = engine.open_plan_checkout(
            account_id, plan.key, interval, provider=Provider.STRIPE, reference=session_id
        )
        return CheckoutOut(purchase=PurchaseOut.of(purchase), url=url)
    assert body.pack is not None
    if body.interval is not None:
        raise InvalidInput(field="interval", reason="a pack is paid once: it has no interval")
    return pack_checkout(
        engine,
        gateway,
        account_id,
        body.pack,
        success_url=body.success_url,
        cancel_url=body.cancel_url,
        customer_email=body.customer_email,
    )


def pack_checkout(
    engine: Engine,
    gateway: StripeGateway,
    account_id: str,
    pack_key: str,
    *,
    success_url: str,
    cancel_url: str,
    customer_email: str | None = None,
) -> CheckoutOut:
    """Check the pack, open Stripe's session, then record the pending purchase.

    Shared by the API's checkout and the widgets' purchase dialog, so both sell alike.
    """
    pack = engine.checkout_pack(account_id, pack_key)
    session_id, url = gateway.open_pack_checkout(
        account_id=account_id,
        pack=pack,
        success_url=success_url,
        cancel_url=cancel_url,
        customer_email=customer_email,
    )
    purchase = engine.open_checkout(
        account_id, pack.key, provider=Provider.STRIPE, reference=session_id
    )
    return CheckoutOut(purchase=PurchaseOut.of(purchase), url=url)

"""Plans and subscriptions: the pricing page, subscribe, upgrade, downgrade, cancel.

Read keys read plans; admin keys change them. A write key puts its accounts on a plan
(an app subscribes a user once its own billing says so).
"""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from creditgate.domain.errors import (
    AccountNotFound,
    IdempotencyConflict,
    InvalidInput,
    PlanExists,
    PlanNotFound,
    SubscriptionNotFound,
)
from creditgate.http.deps import Admin, Engines, IdempotencyKey, Reader, Writer, reach, replays
from creditgate.http.problems import documented
from creditgate.schemas import (
    PlanIn,
    PlanOut,
    PlanOverviewOut,
    PlanUpdateIn,
    SubscribeIn,
    SubscriptionOut,
    SubscriptionReceiptOut,
)

router = APIRouter(prefix="/v1", tags=["plans"])

PlanKey = Annotated[str, Path(max_length=64, examples=["basic"])]


@router.get("/plans", responses=documented())
def plans(engine: Engines, key: Reader, include_inactive: bool = False) -> list[PlanOut]:
    """The plans on sale (or every plan), by credits per cycle."""
    return [PlanOut.of(p) for p in engine.plans(include_inactive=include_inactive)]


@router.post("/plans", responses=documented(PlanExists))
def create_plan(body: PlanIn, engine: Engines, key: Admin) -> PlanOut:
    """Add a plan; a new default plan takes over from the old one."""
    return PlanOut.of(
        engine.create_plan(
            body.key,
            name=body.name,
            credits=body.credits,
            prices=body.prices,
            currency=body.currency,
            description=body.description,
            rollover=body.rollover,
            rollover_cap=body.rollover_cap,
            cycle=body.cycle,
            is_active=body.is_active,
            is_default=body.is_default,
        )
    )


@router.get("/plans/{plan}", responses=documented(PlanNotFound))
def get_plan(plan: PlanKey, engine: Engines, key: Reader) -> PlanOut:
    """One plan, active or not."""
    return PlanOut.of(engine.get_plan(plan))


@router.patch("/plans/{plan}", responses=documented(PlanNotFound))
def update_plan(plan: PlanKey, body: PlanUpdateIn, engine: Engines, key: Admin) -> PlanOut:
    """Change a plan from each subscriber's next cycle on; absent fields stay."""
    return PlanOut.of(
        engine.update_plan(
            plan,
            name=body.name,
            credits=body.credits,
            prices=body.prices,
            currency=body.currency,
            description=body.description,
            rollover=body.rollover,
            rollover_cap=body.rollover_cap,
            cycle=body.cycle,
            is_active=body.is_active,
            is_default=body.is_default,
        )
    )


@router.post("/plans/{plan}/deactivate", responses=documented(PlanNotFound))
def deactivate_plan(plan: PlanKey, engine: Engines, key: Admin) -> PlanOut:
    """Stop selling a plan; its subscribers keep renewing on it."""
    return PlanOut.of(engine.deactivate_plan(plan))


@router.get("/accounts/{account_id}/plans", responses=documented(AccountNotFound))
def plan_overview(account_id: str, engine: Engines, key: Reader) -> PlanOverviewOut:
    """The plans on sale, the account's subscription and its balance: a pricing page."""
    return PlanOverviewOut.of(engine.plan_overview(reach(key, account_id)))


@router.get("/accounts/{account_id}/subscription", responses=documented(AccountNotFound))
def subscription(account_id: str, engine: Engines, key: Reader) -> SubscriptionOut | None:
    """The account's live subscription; null when it is on no plan."""
    found = engine.subscription(reach(key, account_id))
    return None if found is None else SubscriptionOut.of(found)


@router.post(
    "/accounts/{account_id}/subscription",
    responses=documented(AccountNotFound, PlanNotFound, InvalidInput, IdempotencyConflict),
)
def subscribe(
    account_id: str,
    body: SubscribeIn,
    engine: Engines,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SubscriptionReceiptOut:
    """Put the account on a plan: start it now, upgrade now, or downgrade at period end."""
    with replays(response):
        return SubscriptionReceiptOut.of(
            engine.subscribe(
                reach(key, account_id),
                body.plan,
                interval=body.interval,
                idempotency_key=idempotency_key,
            )
        )


@router.post(
    "/accounts/{account_id}/subscription/cancel",
    responses=documented(AccountNotFound, SubscriptionNotFound),
)
def cancel_subscription(account_id: str, engine: Engines, key: Writer) -> SubscriptionReceiptOut:
    """End the subscription at the end of its billing period; then the default plan."""
    return SubscriptionReceiptOut.of(engine.cancel_subscription(reach(key, account_id)))


@router.post(
    "/accounts/{account_id}/subscription/resume",
    responses=documented(AccountNotFound, SubscriptionNotFound),
)
def resume_subscription(account_id: str, engine: Engines, key: Writer) -> SubscriptionReceiptOut:
    """Keep a cancelled subscription after all, before its period ends."""
    return SubscriptionReceiptOut.of(engine.resume_subscription(reach(key, account_id)))

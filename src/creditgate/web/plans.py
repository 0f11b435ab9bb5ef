"""Plans: every plan, active or not, a new plan, and one plan's changes and deactivation.

A change applies from each subscriber's next cycle (the engine's rule); deactivating stops
new subscriptions while subscribers keep renewing. The engine has no count of a plan's
subscribers, so the pages show the plan as written.
"""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden
from creditgate.domain.plans import Cycle, Interval, Plan, Rollover
from creditgate.web.catalog_forms import flag, money, text, whole
from creditgate.web.console import (
    Admin,
    engine_of,
    page,
    read_form,
    refused,
    router,
    see,
)
from creditgate.web.sessions import Session

NEW_PLAN = {"currency": "usd", "rollover": Rollover.NONE.value, "cycle": Cycle.MONTH.value}
"""What the new-plan form starts with: the engine's defaults."""


def _choices() -> dict[str, object]:
    return {
        "intervals": [i.value for i in Interval],
        "rollovers": [r.value for r in Rollover],
        "cycles": [c.value for c in Cycle],
        "money": money,
    }


def _values(plan: Plan) -> dict[str, str]:
    """A plan as its edit form's fields."""
    values = {
        "name": plan.name,
        "description": plan.description or "",
        "credits": str(plan.credits),
        "currency": plan.currency,
        "rollover": plan.rollover.value,
        "rollover_cap": "" if plan.rollover_cap is None else str(plan.rollover_cap),
        "cycle": plan.cycle.value,
        **{f"price_{i.value}": str(amount) for i, amount in plan.prices.items()},
    }
    if plan.is_default:
        values["is_default"] = "on"
    return values


def _prices(fields: dict[str, str]) -> dict[str, int]:
    """Minor units by interval; an empty price is an interval the plan is not sold by."""
    prices = {}
    for interval in Interval:
        amount = whole(fields, f"price_{interval.value}")
        if amount is not None:
            prices[interval.value] = amount
    return prices


def _cap(fields: dict[str, str]) -> str | None:
    """The rollover cap, read only for a capped rollover: other rules have none."""
    return text(fields, "rollover_cap") if fields.get("rollover") == "capped" else None


def _plans_page(
    request: Request,
    session: Session,
    *,
    error: CreditgateError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "plans": engine_of(request).plans(include_inactive=True),
        "values": values or NEW_PLAN,
        "error": error,
        **_choices(),
    }
    return page(request, "plans.html", session, context)


def _plan_page(
    request: Request,
    session: Session,
    key: str,
    *,
    error: CreditgateError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        plan = engine_of(request).get_plan(key)
    except CreditgateError as missing:
        return refused(request, missing)
    context = {"plan": plan, "values": values or _values(plan), "error": error, **_choices()}
    return page(request, "plan.html", session, context)


@router.get("/plans")
def plans(request: Request, session: Admin) -> HTMLResponse:
    """Every plan, inactive ones included, and the form for a new one."""
    return _plans_page(request, session)


@router.post("/plans", response_model=None)
async def create_plan(request: Request, session: Admin) -> Response:
    """A new plan; a taken key or a bad field is shown on the list and changes nothing."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        made = engine_of(request).create_plan(
            fields.get("key", "").strip(),
            name=fields.get("name", ""),
            credits=fields.get("credits", "").strip(),
            prices=_prices(fields),
            currency=text(fields, "currency") or "usd",
            description=text(fields, "description"),
            rollover=fields.get("rollover", Rollover.NONE.value),
            rollover_cap=_cap(fields),
            cycle=fields.get("cycle", Cycle.MONTH.value),
            is_default=flag(fields, "is_default"),
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _plans_page(request, session, error=error, values=fields)
    return see("/admin/plans", f"created plan {made.key}")


@router.get("/plans/{key}")
def plan(request: Request, session: Admin, key: str) -> HTMLResponse:
    """One plan: its figures, its edit form and its on-sale switch."""
    return _plan_page(request, session, key)


@router.post("/plans/{key}", response_model=None)
async def update_plan(request: Request, session: Admin, key: str) -> Response:
    """Change the plan; an emptied optional field keeps its value, as the engine's update."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        changed = engine_of(request).update_plan(
            key,
            name=text(fields, "name"),
            credits=text(fields, "credits"),
            prices=_prices(fields),
            currency=text(fields, "currency"),
            description=text(fields, "description"),
            rollover=text(fields, "rollover"),
            rollover_cap=_cap(fields),
            cycle=text(fields, "cycle"),
            is_default=flag(fields, "is_default"),
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _plan_page(request, session, key, error=error, values=fields)
    return see(f"/admin/plans/{quote(changed.key)}", f"updated plan {changed.key}")


@router.post("/plans/{key}/active", response_model=None)
async def set_plan_active(request: Request, session: Admin, key: str) -> Response:
    """Deactivate the plan (not the default one), or put it back on sale."""
    try:
        fields = await read_form(request, session)
        is_active = fields.get("is_active") == "true"
        engine = engine_of(request)
        if is_active:
            engine.update_plan(key, is_active=True)
        else:
            engine.deactivate_plan(key)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _plan_page(request, session, key, error=error)
    return see(f"/admin/plans/{quote(key)}", "activated" if is_active else "deactivated")

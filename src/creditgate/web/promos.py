"""Promo codes: every code with its redemptions, a new code, one code's changes and switch.

Times are written and shown in UTC. Whether a code can be redeemed right now is the
domain's own rule (`refusal`), read at the engine's clock, so the list says why a code
is not taking redemptions (ended, used up) without a call that would change anything.
"""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden
from creditgate.domain.promos import Promo, refusal
from creditgate.web.catalog_forms import instant, local, text, whole
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


def _values(promo: Promo) -> dict[str, str]:
    """A code as its edit form's fields."""
    days, maximum = promo.expires_after_days, promo.max_redemptions
    return {
        "credits": str(promo.credits),
        "expires_after_days": "" if days is None else str(days),
        "starts_at": local(promo.starts_at),
        "ends_at": local(promo.ends_at),
        "max_redemptions": "" if maximum is None else str(maximum),
    }


def _states(request: Request, promos: tuple[Promo, ...]) -> dict[str, str]:
    """Each code's redeemability now: `redeemable`, or why not (`ended`, `used_up`)."""
    now = engine_of(request).clock.now()
    return {p.code: str(refusal(p, now) or "redeemable") for p in promos}


def _promos_page(
    request: Request,
    session: Session,
    *,
    error: CreditgateError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    promos = engine_of(request).promos(include_inactive=True)
    context = {
        "promos": promos,
        "states": _states(request, promos),
        "values": values or {},
        "error": error,
    }
    return page(request, "promos.html", session, context)


def _promo_page(
    request: Request,
    session: Session,
    code: str,
    *,
    error: CreditgateError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        promo = engine_of(request).get_promo(code)
    except CreditgateError as missing:
        return refused(request, missing)
    context = {
        "promo": promo,
        "state": _states(request, (promo,))[promo.code],
        "values": values or _values(promo),
        "error": error,
    }
    return page(request, "promo.html", session, context)


@router.get("/promos")
def promos(request: Request, session: Admin) -> HTMLResponse:
    """Every promo code, inactive ones included, and the form for a new one."""
    return _promos_page(request, session)


@router.post("/promos", response_model=None)
async def create_promo(request: Request, session: Admin) -> Response:
    """A new code; a taken code or a bad field is shown on the list and changes nothing."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        made = engine_of(request).create_promo(
            fields.get("code", "").strip(),
            credits=fields.get("credits", "").strip(),
            expires_after_days=whole(fields, "expires_after_days"),
            starts_at=instant(fields, "starts_at"),
            ends_at=instant(fields, "ends_at"),
            max_redemptions=whole(fields, "max_redemptions"),
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _promos_page(request, session, error=error, values=fields)
    return see("/admin/promos", f"created promo code {made.code}")


@router.get("/promos/{code}")
def promo(request: Request, session: Admin, code: str) -> HTMLResponse:
    """One code: its redemptions, its edit form and its on/off switch."""
    return _promo_page(request, session, code)


@router.post("/promos/{code}", response_model=None)
async def update_promo(request: Request, session: Admin, code: str) -> Response:
    """Change the code; an emptied field keeps its value, as the engine's update."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        changed = engine_of(request).update_promo(
            code,
            credits=text(fields, "credits"),
            expires_after_days=whole(fields, "expires_after_days"),
            starts_at=instant(fields, "starts_at"),
            ends_at=instant(fields, "ends_at"),
            max_redemptions=whole(fields, "max_redemptions"),
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _promo_page(request, session, code, error=error, values=fields)
    return see(f"/admin/promos/{quote(changed.code)}", f"updated promo code {changed.code}")


@router.post("/promos/{code}/active", response_model=None)
async def set_promo_active(request: Request, session: Admin, code: str) -> Response:
    """Switch the code off (redemptions made stay made), or back on."""
    try:
        fields = await read_form(request, session)
        is_active = fields.get("is_active") == "true"
        changed = engine_of(request).update_promo(code, is_active=is_active)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _promo_page(request, session, code, error=error)
    return see(f"/admin/promos/{quote(changed.code)}", "activated" if is_active else "deactivated")

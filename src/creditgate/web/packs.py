"""Packs: every pack, active or not, a new pack, and one pack's changes and deactivation.

Prices are written in minor units, as the engine and the payment provider keep them, and
shown as money with their currency. A change applies to checkouts opened from then on;
deactivating stops sales while past purchases keep pointing at the pack.
"""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden, InvalidInput
from creditgate.domain.packs import Pack
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

NEW_PACK = {"currency": "usd", "bonus_credits": "0", "sort_order": "0"}
"""What the new-pack form starts with: the engine's defaults."""


def _values(pack: Pack) -> dict[str, str]:
    """A pack as its edit form's fields."""
    values = {
        "name": pack.name,
        "description": pack.description or "",
        "credits": str(pack.credits),
        "bonus_credits": str(pack.bonus_credits),
        "price_minor": str(pack.price_minor),
        "currency": pack.currency,
        "badge": pack.badge or "",
        "expires_after_days": ""
        if pack.expires_after_days is None
        else str(pack.expires_after_days),
        "sort_order": str(pack.sort_order),
    }
    if pack.is_free_once:
        values["is_free_once"] = "on"
    return values


def _price(fields: dict[str, str]) -> int:
    """The new pack's price, which it must have.

    Raises:
        InvalidInput: it is empty or not a whole number.
    """
    price = whole(fields, "price_minor")
    if price is None:
        raise InvalidInput(field="price_minor", reason="is required")
    return price


def _packs_page(
    request: Request,
    session: Session,
    *,
    error: CreditgateError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {
        "packs": engine_of(request).packs(include_inactive=True),
        "values": values or NEW_PACK,
        "error": error,
        "money": money,
    }
    return page(request, "packs.html", session, context)


def _pack_page(
    request: Request,
    session: Session,
    key: str,
    *,
    error: CreditgateError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    try:
        pack = engine_of(request).get_pack(key)
    except CreditgateError as missing:
        return refused(request, missing)
    context = {"pack": pack, "values": values or _values(pack), "error": error, "money": money}
    return page(request, "pack.html", session, context)


@router.get("/packs")
def packs(request: Request, session: Admin) -> HTMLResponse:
    """Every pack, inactive ones included, and the form for a new one."""
    return _packs_page(request, session)


@router.post("/packs", response_model=None)
async def create_pack(request: Request, session: Admin) -> Response:
    """A new pack; a taken key or a bad field is shown on the list and changes nothing."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        made = engine_of(request).create_pack(
            fields.get("key", "").strip(),
            name=fields.get("name", ""),
            credits=fields.get("credits", "").strip(),
            price_minor=_price(fields),
            currency=text(fields, "currency") or "usd",
            bonus_credits=text(fields, "bonus_credits") or "0",
            description=text(fields, "description"),
            badge=text(fields, "badge"),
            is_free_once=flag(fields, "is_free_once"),
            expires_after_days=whole(fields, "expires_after_days"),
            sort_order=whole(fields, "sort_order") or 0,
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _packs_page(request, session, error=error, values=fields)
    return see("/admin/packs", f"created pack {made.key}")


@router.get("/packs/{key}")
def pack(request: Request, session: Admin, key: str) -> HTMLResponse:
    """One pack: its figures, its edit form and its on-sale switch."""
    return _pack_page(request, session, key)


@router.post("/packs/{key}", response_model=None)
async def update_pack(request: Request, session: Admin, key: str) -> Response:
    """Change the pack; an emptied optional field keeps its value, as the engine's update."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        changed = engine_of(request).update_pack(
            key,
            name=text(fields, "name"),
            credits=text(fields, "credits"),
            price_minor=whole(fields, "price_minor"),
            currency=text(fields, "currency"),
            bonus_credits=text(fields, "bonus_credits"),
            description=text(fields, "description"),
            badge=text(fields, "badge"),
            is_free_once=flag(fields, "is_free_once"),
            expires_after_days=whole(fields, "expires_after_days"),
            sort_order=whole(fields, "sort_order"),
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _pack_page(request, session, key, error=error, values=fields)
    return see(f"/admin/packs/{quote(changed.key)}", f"updated pack {changed.key}")


@router.post("/packs/{key}/active", response_model=None)
async def set_pack_active(request: Request, session: Admin, key: str) -> Response:
    """Stop selling the pack, or put it back on sale."""
    try:
        fields = await read_form(request, session)
        is_active = fields.get("is_active") == "true"
        engine = engine_of(request)
        if is_active:
            engine.update_pack(key, is_active=True)
        else:
            engine.deactivate_pack(key)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _pack_page(request, session, key, error=error)
    return see(f"/admin/packs/{quote(key)}", "activated" if is_active else "deactivated")

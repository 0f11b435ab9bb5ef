"""Accounts: find by the app's id; figures, lots, pending holds, plan, purchases, history.

An account's page shows what it holds as the engine reads it now: its lots in burn order
(the one a spend takes them in), its pending holds (each can be released from here, when
work is stuck), its live subscription and its purchases. Grant (with an optional expiry
and burn priority) and adjust are its forms.
"""

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditgate.domain.entries import Entry, EntryKind
from creditgate.domain.errors import CreditgateError, Forbidden, HoldNotFound, InvalidInput
from creditgate.domain.holds import HoldStatus
from creditgate.domain.ids import HoldId
from creditgate.domain.lots import GRANTABLE_SOURCES
from creditgate.domain.plans import subscription_status
from creditgate.domain.results import Page
from creditgate.engine import Engine
from creditgate.web.catalog_forms import instant, money, whole
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

HISTORY_PAGE_SIZE = 50
"""History rows on an account's page."""
HOLDS_PAGE_SIZE = 50
"""Pending holds on an account's page, newest first."""
PURCHASES_PAGE_SIZE = 20
"""Purchases on an account's page, newest first (all of them: /admin/purchases)."""


@router.get("/accounts")
def accounts(request: Request, session: Admin, account_id: str = "") -> Response:
    """Find an account by the app's id and open its page."""
    wanted = account_id.strip()
    if not wanted:
        return page(request, "accounts.html", session, {"error": None, "account_id": ""})
    try:
        found = engine_of(request).get_account(wanted)
    except CreditgateError as error:
        context = {"error": error, "account_id": wanted}
        return page(request, "accounts.html", session, context)
    return RedirectResponse(f"/admin/accounts/{quote(found.id)}", status_code=303)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """The history form's fields, as typed: kind, feature, a time range in UTC, a page."""

    kind: str = ""
    feature: str = ""
    since: str = ""
    until: str = ""
    cursor: str = ""


def _history(
    engine: Engine, account_id: str, wanted: HistoryFilter
) -> tuple[Page[Entry], InvalidInput | None]:
    """The filtered history, or the unfiltered one with the error the filter met."""
    times = {"since": wanted.since, "until": wanted.until}
    try:
        found = engine.history(
            account_id,
            kinds=[wanted.kind] if wanted.kind else None,
            feature=wanted.feature.strip() or None,
            since=instant(times, "since"),
            until=instant(times, "until"),
            cursor=wanted.cursor or None,
            limit=HISTORY_PAGE_SIZE,
        )
    except InvalidInput as error:
        return engine.history(account_id, limit=HISTORY_PAGE_SIZE), error
    return found, None


def _account_page(
    request: Request,
    session: Session,
    account_id: str,
    *,
    wanted: HistoryFilter | None = None,
    error: CreditgateError | None = None,
) -> HTMLResponse:
    engine = engine_of(request)
    wanted = wanted or HistoryFilter()
    try:
        entries, filter_error = _history(engine, account_id, wanted)
        error = error or filter_error
        subscription = engine.subscription(account_id)
        context = {
            "account": engine.get_account(account_id),
            "balance": engine.balance(account_id),
            "lots": engine.lots(account_id),
            "holds": engine.holds(
                account_id, status=HoldStatus.PENDING, limit=HOLDS_PAGE_SIZE
            ).items,
            "subscription": subscription,
            "subscription_status": None
            if subscription is None
            else subscription_status(subscription).value.replace("_", " "),
            "purchases": engine.purchases(account_id, limit=PURCHASES_PAGE_SIZE).items,
            "money": money,
            "entries": entries.items,
            "next_cursor": entries.next_cursor,
            "wanted": HistoryFilter() if filter_error else wanted,
            "kinds": [k.value for k in EntryKind],
            "sources": sorted(s.value for s in GRANTABLE_SOURCES),
            "error": error,
        }
    except CreditgateError as missing:
        return refused(request, missing)
    return page(request, "account.html", session, context)


@router.get("/accounts/{account_id}")
def account(
    request: Request,
    session: Admin,
    account_id: str,
    kind: str = "",
    feature: str = "",
    since: str = "",
    until: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """One account: figures, forms, and its history filtered by kind, feature and time."""
    wanted = HistoryFilter(kind=kind, feature=feature, since=since, until=until, cursor=cursor)
    return _account_page(request, session, account_id, wanted=wanted)


@router.post("/accounts/{account_id}/grants", response_model=None)
async def grant(request: Request, session: Admin, account_id: str) -> Response:
    """Grant credits; the form's key makes a double submit take effect once."""
    try:
        fields = await read_form(request, session)
        receipt = engine_of(request).grant(
            account_id,
            fields.get("amount", "").strip(),
            source=fields.get("source", "bonus"),
            expires_at=instant(fields, "expires_at"),
            priority=whole(fields, "priority") or 0,
            metadata={"reason": r} if (r := fields.get("reason", "").strip()) else None,
            idempotency_key=fields.get("form_key") or None,
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _account_page(request, session, account_id, error=error)
    return see(f"/admin/accounts/{quote(account_id)}", f"granted {receipt.entry.amount}")


@router.post("/accounts/{account_id}/adjustments", response_model=None)
async def adjust(request: Request, session: Admin, account_id: str) -> Response:
    """A signed correction with its reason, by the signed-in key."""
    try:
        fields = await read_form(request, session)
        receipt = engine_of(request).adjust(
            account_id,
            fields.get("amount", "").strip(),
            reason=fields.get("reason", ""),
            actor=f"admin key {session.key_prefix}",
            idempotency_key=fields.get("form_key") or None,
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _account_page(request, session, account_id, error=error)
    return see(f"/admin/accounts/{quote(account_id)}", f"adjusted by {receipt.entry.amount}")


@router.post("/accounts/{account_id}/holds/{hold_id}/release", response_model=None)
async def release(request: Request, session: Admin, account_id: str, hold_id: str) -> Response:
    """Release a pending hold of this account (its work is stuck): its credits come back."""
    engine = engine_of(request)
    try:
        fields = await read_form(request, session)
        if not (hold_id.isascii() and hold_id.isdigit()) or len(hold_id) > 19:
            raise InvalidInput(field="hold_id", reason="must be a positive integer id")
        held = HoldId(int(hold_id))
        if engine.get_hold(held).account_id != account_id:
            raise HoldNotFound(held)
        engine.release(held, idempotency_key=fields.get("form_key") or None)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _account_page(request, session, account_id, error=error)
    return see(f"/admin/accounts/{quote(account_id)}", f"released hold {held}")

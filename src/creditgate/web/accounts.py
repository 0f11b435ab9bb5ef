"""Accounts: find by the app's id, figures, history by kind, grant and adjust."""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditgate.domain.entries import EntryKind
from creditgate.domain.errors import CreditgateError, Forbidden
from creditgate.domain.lots import GRANTABLE_SOURCES
from creditgate.web.console import (
    Admin,
    engine_of,
    page,
    read_form,
    refused,
    router,
    see,
    status_of,
)
from creditgate.web.sessions import Session

HISTORY_PAGE_SIZE = 50
"""History rows on an account's page."""


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
        return page(request, "accounts.html", session, context, status=status_of(error))
    return RedirectResponse(f"/admin/accounts/{quote(found.id)}", status_code=303)


def _account_page(
    request: Request,
    session: Session,
    account_id: str,
    *,
    kind: str = "",
    error: CreditgateError | None = None,
) -> HTMLResponse:
    engine = engine_of(request)
    try:
        context = {
            "account": engine.get_account(account_id),
            "balance": engine.balance(account_id),
            "entries": engine.history(
                account_id, kinds=[kind] if kind else None, limit=HISTORY_PAGE_SIZE
            ).items,
            "kind": kind,
            "kinds": [k.value for k in EntryKind],
            "sources": sorted(s.value for s in GRANTABLE_SOURCES),
            "error": error,
        }
    except CreditgateError as missing:
        return refused(request, missing)
    status = 200 if error is None else status_of(error)
    return page(request, "account.html", session, context, status=status)


@router.get("/accounts/{account_id}")
def account(request: Request, session: Admin, account_id: str, kind: str = "") -> HTMLResponse:
    """One account: figures, grant and adjust forms, history filtered by kind."""
    return _account_page(request, session, account_id, kind=kind)


@router.post("/accounts/{account_id}/grants", response_model=None)
async def grant(request: Request, session: Admin, account_id: str) -> Response:
    """Grant credits; the form's key makes a double submit take effect once."""
    try:
        fields = await read_form(request, session)
        receipt = engine_of(request).grant(
            account_id,
            fields.get("amount", "").strip(),
            source=fields.get("source", "bonus"),
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

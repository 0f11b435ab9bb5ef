"""API keys: every key without its secret, a new key shown once, revocation."""

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden
from creditgate.domain.keys import Scope
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


def _keys_page(
    request: Request, session: Session, error: CreditgateError | None = None
) -> HTMLResponse:
    context = {"keys": engine_of(request).api_keys(), "scopes": [s.value for s in Scope]}
    return page(request, "keys.html", session, {**context, "error": error})


@router.get("/keys")
def keys(request: Request, session: Admin) -> HTMLResponse:
    """Every API key, revoked ones included, without secrets."""
    return _keys_page(request, session)


@router.post("/keys", response_model=None)
async def create_key(request: Request, session: Admin) -> Response:
    """Make a key and show its secret on this page only."""
    try:
        fields = await read_form(request, session)
        made, text = engine_of(request).create_key(
            fields.get("scope", ""),
            name=fields.get("name", ""),
            account_id=fields.get("account_id", "").strip() or None,
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _keys_page(request, session, error)
    # The secret is in this response only: never in a URL, never stored, never cached.
    response = page(request, "key_created.html", session, {"key": made, "text": text})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/keys/{key_id}/revoke", response_model=None)
async def revoke_key(request: Request, session: Admin, key_id: int) -> Response:
    """Revoke a key: from now on the API answers it 401."""
    try:
        await read_form(request, session)
        revoked = engine_of(request).revoke_key(key_id)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _keys_page(request, session, error)
    return see("/admin/keys", f"revoked key {revoked.prefix}")

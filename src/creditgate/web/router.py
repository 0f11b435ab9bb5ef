"""The console's routes: each page reads through `Engine`, each form is one `Engine` call.

A form posts, the engine acts, and the browser is redirected (303) to the page that shows
the result; a refused action renders the same page again with the engine's message and
the status the API would answer. Forms are read with the standard library, so the console
needs no multipart parser.
"""

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Protocol
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from creditgate.domain.entries import EntryKind
from creditgate.domain.errors import (
    Conflict,
    CreditgateError,
    Forbidden,
    InsufficientCredits,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from creditgate.domain.guests import Network, client_ip
from creditgate.domain.keys import ApiKey, Scope
from creditgate.domain.lots import GRANTABLE_SOURCES
from creditgate.domain.pricing import rule_data
from creditgate.engine import Engine
from creditgate.web.sessions import Session, Sessions

COOKIE = "cg_admin"
"""The session cookie: a random id, HTTP-only, SameSite=Strict, scoped to /admin."""
LOGIN_COOKIE = "cg_admin_login"
"""The sign-in form's CSRF token (double submit): no session exists yet to hold it."""
FORM_BYTES_MAX = 16_384
"""The largest form the console reads."""
HISTORY_PAGE_SIZE = 50

_HERE = Path(__file__).parent
templates = Jinja2Templates(directory=_HERE / "templates")
router = APIRouter(prefix="/admin", include_in_schema=False)


class SignedOut(Exception):
    """A page that needs a session was asked for without one."""


def install(app: FastAPI) -> None:
    """Serve the console at /admin on `app`, with this worker's session store."""
    app.state.admin_sessions = Sessions()
    app.include_router(router)
    app.mount("/admin/static", StaticFiles(directory=_HERE / "static"), name="admin-static")

    async def signed_out(request: Request, _: Exception) -> Response:
        return RedirectResponse("/admin/login", status_code=303)

    app.add_exception_handler(SignedOut, signed_out)


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _sessions(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.admin_sessions
    return sessions


def _live_key(engine: Engine, key_id: int) -> ApiKey | None:
    """The session's key while it is live: revoking a key ends its console sessions."""
    for key in engine.api_keys():
        if key.id == key_id:
            return None if key.is_revoked else key
    return None


def signed_in(request: Request) -> Session:
    """The request's session, or a redirect to the sign-in page."""
    engine = _engine(request)
    session = _sessions(request).find(request.cookies.get(COOKIE), engine.clock.now())
    if session is None or _live_key(engine, session.key_id) is None:
        raise SignedOut
    return session


Admin = Annotated[Session, Depends(signed_in)]


def status_of(error: CreditgateError) -> int:
    """The status the API answers for this error, for the page that shows it."""
    for kind, status in (
        (Unauthenticated, 401),
        (InsufficientCredits, 402),
        (Forbidden, 403),
        (NotFound, 404),
        (Conflict, 409),
        (InvalidInput, 422),
        (RateLimited, 429),
    ):
        if isinstance(error, kind):
            return status
    return 400


async def read_form(request: Request, session: Session | None) -> dict[str, str]:
    """The posted fields, first value of each; refuses a form without its CSRF token.

    Raises:
        Forbidden: the CSRF token is missing or is not the session's.
    """
    body = await request.body()
    if len(body) > FORM_BYTES_MAX:
        raise InvalidInput(field="form", reason=f"at most {FORM_BYTES_MAX} bytes")
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    if session is None:
        expected = request.cookies.get(LOGIN_COOKIE)
        token = fields.get("csrf")
        if expected is None or token is None or not secrets.compare_digest(token, expected):
            raise Forbidden("the form's CSRF token is missing or stale: reload the page")
    elif not session.is_csrf(fields.get("csrf")):
        raise Forbidden("the form's CSRF token is missing or stale: reload the page")
    return fields


def page(
    request: Request,
    name: str,
    session: Session | None,
    context: Mapping[str, object],
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a template with what every page needs: the session's CSRF token, a form key."""
    full = {
        "csrf": None if session is None else session.csrf,
        "signed_in": session is not None,
        "form_key": secrets.token_hex(16),
        "done": request.query_params.get("done"),
        **context,
    }
    return templates.TemplateResponse(request, name, full, status_code=status)


def refused(request: Request, error: CreditgateError) -> HTMLResponse:
    """A page that says what the engine refused, with the API's status."""
    return page(request, "refused.html", None, {"error": error}, status=status_of(error))


def see(path: str, done: str) -> RedirectResponse:
    """Post/redirect/get: show `path` with a note of what was done."""
    return RedirectResponse(f"{path}?done={quote(done)}", status_code=303)


def price_text(data: Mapping[str, object] | None) -> str:
    """A rule's data form as short text (`flat credits=5`), or `retired`."""
    if data is None:
        return "retired"
    rest = " ".join(f"{k}={v}" for k, v in data.items() if k != "rule")
    return f"{data['rule']} {rest}".strip()


templates.env.filters["rule"] = lambda rule: price_text(None if rule is None else rule_data(rule))


# Sign-in


@router.get("")
def home(_: Admin) -> RedirectResponse:
    """The console's front page: the features."""
    return RedirectResponse("/admin/features", status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    """The sign-in form, with a fresh CSRF token in a cookie and a hidden field."""
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", None, {"login_csrf": token, "error": None})
    _cookie(request, response, LOGIN_COOKIE, token)
    return response


@router.post("/login", response_model=None)
async def login(request: Request) -> Response:
    """Sign in with an admin key: a new session, never the key, goes into the cookie."""
    try:
        fields = await read_form(request, None)
    except CreditgateError as error:
        return refused(request, error)
    engine = _engine(request)
    throttle: Throttle = request.app.state.auth_failures
    address = _address(request)
    try:
        throttle.check(address)
        try:
            key = engine.authenticate(fields.get("api_key", "").strip())
        except Unauthenticated:
            throttle.failed(address)
            raise
        key.require(Scope.ADMIN)
    except (Unauthenticated, Forbidden, RateLimited) as error:
        token = secrets.token_urlsafe(32)
        context = {"login_csrf": token, "error": error}
        response = page(request, "login.html", None, context, status=status_of(error))
        _cookie(request, response, LOGIN_COOKIE, token)
        return response
    session_id, _ = _sessions(request).open(
        key_id=key.id, key_prefix=key.prefix, now=engine.clock.now()
    )
    redirect = RedirectResponse("/admin/features", status_code=303)
    _cookie(request, redirect, COOKIE, session_id)
    redirect.delete_cookie(LOGIN_COOKIE, path="/admin")
    return redirect


@router.post("/logout", response_model=None)
async def logout(request: Request, session: Admin) -> Response:
    """Sign out: the session ends on the server, not only in the browser."""
    try:
        await read_form(request, session)
    except CreditgateError as error:
        return refused(request, error)
    _sessions(request).close(request.cookies.get(COOKIE))
    redirect = RedirectResponse("/admin/login", status_code=303)
    redirect.delete_cookie(COOKIE, path="/admin")
    return redirect


class Throttle(Protocol):
    """The service's guard on failed keys per client address (the API's, shared)."""

    def check(self, address: str) -> None:
        """Raise RateLimited when the address has no failed attempt left."""
        ...

    def failed(self, address: str) -> None:
        """Count one failed attempt from the address."""
        ...


def _address(request: Request) -> str:
    """The client's address, through the service's trusted proxies as the API reads it."""
    peer = request.client.host if request.client is not None else ""
    proxies: tuple[Network, ...] = request.app.state.trusted_proxies
    return client_ip(peer, request.headers.getlist("x-forwarded-for"), proxies)


def _cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


# Features and prices


@router.get("/features")
def features(request: Request, session: Admin) -> HTMLResponse:
    """Every feature, active or not."""
    return page(request, "features.html", session, {"features": _engine(request).features()})


def _feature_page(
    request: Request, session: Session, key: str, error: CreditgateError | None = None
) -> HTMLResponse:
    engine = _engine(request)
    try:
        context = {
            "feature": engine.get_feature(key),
            "prices": engine.prices(key),
            "history": engine.price_history(key),
            "error": error,
        }
    except CreditgateError as missing:
        return refused(request, missing)
    status = 200 if error is None else status_of(error)
    return page(request, "feature.html", session, context, status=status)


@router.get("/features/{key}")
def feature(request: Request, session: Admin, key: str) -> HTMLResponse:
    """One feature: its prices in force, its price history and its forms."""
    return _feature_page(request, session, key)


@router.post("/features/{key}/prices", response_model=None)
async def set_price(request: Request, session: Admin, key: str) -> Response:
    """A new flat price version for the feature (or one model of it)."""
    try:
        fields = await read_form(request, session)
        model = fields.get("model", "").strip() or None
        credits = fields.get("credits", "").strip()
        price = _engine(request).set_price(key, {"rule": "flat", "credits": credits}, model=model)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _feature_page(request, session, key, error)
    return see(f"/admin/features/{quote(key)}", f"price version {price.version} set")


@router.post("/features/{key}/active", response_model=None)
async def set_active(request: Request, session: Admin, key: str) -> Response:
    """Deactivate or reactivate the feature."""
    try:
        fields = await read_form(request, session)
        is_active = fields.get("is_active") == "true"
        _engine(request).update_feature(key, is_active=is_active)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _feature_page(request, session, key, error)
    return see(f"/admin/features/{quote(key)}", "activated" if is_active else "deactivated")


# Accounts


@router.get("/accounts")
def accounts(request: Request, session: Admin, account_id: str = "") -> Response:
    """Find an account by the app's id and open its page."""
    wanted = account_id.strip()
    if not wanted:
        return page(request, "accounts.html", session, {"error": None, "account_id": ""})
    try:
        found = _engine(request).get_account(wanted)
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
    engine = _engine(request)
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
        receipt = _engine(request).grant(
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
        receipt = _engine(request).adjust(
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


# API keys


def _keys_page(
    request: Request, session: Session, error: CreditgateError | None = None
) -> HTMLResponse:
    context = {"keys": _engine(request).api_keys(), "scopes": [s.value for s in Scope]}
    status = 200 if error is None else status_of(error)
    return page(request, "keys.html", session, {**context, "error": error}, status=status)


@router.get("/keys")
def keys(request: Request, session: Admin) -> HTMLResponse:
    """Every API key, revoked ones included, without secrets."""
    return _keys_page(request, session)


@router.post("/keys", response_model=None)
async def create_key(request: Request, session: Admin) -> Response:
    """Make a key and show its secret on this page only."""
    try:
        fields = await read_form(request, session)
        made, text = _engine(request).create_key(
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
        revoked = _engine(request).revoke_key(key_id)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _keys_page(request, session, error)
    return see("/admin/keys", f"revoked key {revoked.prefix}")

"""Sign-in and sign-out: an admin key opens a session; the cookie holds only its id."""

import secrets
from typing import Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden, RateLimited, Unauthenticated
from creditgate.domain.guests import Network, client_ip
from creditgate.domain.keys import Scope
from creditgate.web.console import (
    COOKIE,
    LOGIN_COOKIE,
    Admin,
    engine_of,
    page,
    read_form,
    refused,
    router,
    sessions_of,
)


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
    engine = engine_of(request)
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
        response = page(request, "login.html", None, context)
        _cookie(request, response, LOGIN_COOKIE, token)
        return response
    session_id, _ = sessions_of(request).open(
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
    sessions_of(request).close(request.cookies.get(COOKIE))
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

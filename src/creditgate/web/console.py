"""What every console page shares: the router, templates, the session, forms and errors.

A form posts, the engine acts, and the browser is redirected (303) to the page that shows
the result; a refused action renders the same page again with the engine's message and
the status the API would answer. Forms are read with the standard library, so the console
needs no multipart parser.
"""

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

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
from creditgate.domain.keys import ApiKey
from creditgate.domain.pricing import rule_data
from creditgate.engine import Engine
from creditgate.web.sessions import Session, Sessions

COOKIE = "cg_admin"
"""The session cookie: a random id, HTTP-only, SameSite=Strict, scoped to /admin."""
LOGIN_COOKIE = "cg_admin_login"
"""The sign-in form's CSRF token (double submit): no session exists yet to hold it."""
FORM_BYTES_MAX = 16_384
"""The largest form the console reads."""

HERE = Path(__file__).parent
"""The package folder: templates and static files ship inside it."""
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(prefix="/admin", include_in_schema=False)


class SignedOut(Exception):
    """A page that needs a session was asked for without one."""


def engine_of(request: Request) -> Engine:
    """The service's engine, which every page reads and every form calls."""
    engine: Engine = request.app.state.engine
    return engine


def sessions_of(request: Request) -> Sessions:
    """This worker's console sessions."""
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
    engine = engine_of(request)
    session = sessions_of(request).find(request.cookies.get(COOKIE), engine.clock.now())
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
    status: int | None = None,
) -> HTMLResponse:
    """Render a template with what every page needs: the session's CSRF token, a form key.

    Without a `status`, a page showing an engine error (`context["error"]`) answers the
    status the API answers for it, and any other page 200.
    """
    if status is None:
        shown = context.get("error")
        status = status_of(shown) if isinstance(shown, CreditgateError) else 200
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
    return page(request, "refused.html", None, {"error": error})


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

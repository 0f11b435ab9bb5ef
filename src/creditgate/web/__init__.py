"""The admin console: server-rendered pages at `/admin` over the same `Engine` as the API.

What it owns: sign-in with an admin API key, per-worker sessions held in memory, a CSRF
token on every form, and the pages: features and prices, plans, packs, promo codes,
accounts (lots, holds, subscription, purchases, history), purchases and subscriptions,
guest quotas, webhook endpoints and their deliveries, analytics, API keys and verify.

Invariants it keeps: every action is one `Engine` call and fails with the engine's own
error, shown on the page (never a 500); every POST carries its session's CSRF token or
answers 403; the API key itself is never stored in the cookie, only a random session id.

Boundaries: imports the engine and the domain, never storage; its routes stay out of the
OpenAPI document.
"""

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from creditgate.web import (
    accounts,
    analytics,
    features,
    guests,
    keys,
    packs,
    plans,
    promos,
    purchases,
    signin,
    verify,
    webhooks,
)
from creditgate.web.console import HERE, SignedOut, router
from creditgate.web.sessions import Sessions

__all__ = ["install"]

PAGES = (
    signin,
    features,
    accounts,
    purchases,
    keys,
    plans,
    packs,
    promos,
    guests,
    webhooks,
    verify,
    analytics,
)
"""The modules whose routes `router` holds, imported here so that they register."""


def install(app: FastAPI) -> None:
    """Serve the console at /admin on `app`, with this worker's session store."""
    app.state.admin_sessions = Sessions()
    app.include_router(router)
    app.mount("/admin/static", StaticFiles(directory=HERE / "static"), name="admin-static")

    async def signed_out(request: Request, _: Exception) -> Response:
        return RedirectResponse("/admin/login", status_code=303)

    app.add_exception_handler(SignedOut, signed_out)

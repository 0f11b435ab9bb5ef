"""The admin console: server-rendered pages at `/admin` over the same `Engine` as the API.

What it owns: sign-in with an admin API key, per-worker sessions held in memory, a CSRF
token on every form, and the pages for features and prices, accounts, and API keys.

Invariants it keeps: every action is one `Engine` call and fails with the engine's own
error, shown on the page (never a 500); every POST carries its session's CSRF token or
answers 403; the API key itself is never stored in the cookie, only a random session id.

Boundaries: imports the engine and the domain, never storage; its routes stay out of the
OpenAPI document.
"""

from creditgate.web.router import install

__all__ = ["install"]

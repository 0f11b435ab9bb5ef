"""Verify: recompute every account from its entries, lots and holds, on demand.

Verify only reads, so the page is a GET; it runs when asked (`?run=1`) rather than on every
visit, because it reads a few rows per account of the whole database.
"""

from fastapi import Request
from fastapi.responses import HTMLResponse

from creditgate.web.console import Admin, engine_of, page, router


@router.get("/verify")
def verify(request: Request, session: Admin, run: str = "") -> HTMLResponse:
    """The button that runs verify and, once run, its report: clean, or each problem."""
    report = engine_of(request).verify() if run else None
    return page(request, "verify.html", session, {"report": report})

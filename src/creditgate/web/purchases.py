"""Purchases and subscriptions across every account: newest first, filtered by status.

The one console page that reads across accounts: what was bought lately (and what is
still pending, failed or refunded), and who is on which plan. Each row links to its
account's page. A filter the engine refuses is shown with its error over the unfiltered
lists, with the status the API would answer.
"""

from fastapi import Request
from fastapi.responses import HTMLResponse

from creditgate.domain.errors import CreditgateError
from creditgate.domain.packs import PurchaseStatus
from creditgate.domain.plans import SubscriptionStatus
from creditgate.domain.plans import subscription_status as standing
from creditgate.web.catalog_forms import money
from creditgate.web.console import Admin, engine_of, page, router

PAGE_SIZE = 50
"""Rows of each list on one page; an "older" link pages on."""


def _label(status: SubscriptionStatus) -> str:
    return status.value.replace("_", " ")


@router.get("/purchases")
def purchases(
    request: Request,
    session: Admin,
    status: str = "",
    cursor: str = "",
    subscription_status: str = "",
    subscriptions_cursor: str = "",
) -> HTMLResponse:
    """Recent purchases of every account, and every account's subscriptions."""
    engine = engine_of(request)
    wanted = {
        "status": status,
        "cursor": cursor,
        "subscription_status": subscription_status,
        "subscriptions_cursor": subscriptions_cursor,
    }
    error: CreditgateError | None = None
    try:
        bought = engine.recent_purchases(
            status=status or None, limit=PAGE_SIZE, cursor=cursor or None
        )
        plans = engine.subscriptions(
            status=subscription_status or None,
            limit=PAGE_SIZE,
            cursor=subscriptions_cursor or None,
        )
    except CreditgateError as refused:
        error = refused
        wanted = dict.fromkeys(wanted, "")
        bought = engine.recent_purchases(limit=PAGE_SIZE)
        plans = engine.subscriptions(limit=PAGE_SIZE)
    context = {
        "purchases": bought,
        "subscriptions": [(sub, _label(standing(sub))) for sub in plans.items],
        "subscriptions_next": plans.next_cursor,
        "purchase_statuses": [s.value for s in PurchaseStatus],
        "subscription_statuses": [(s.value, _label(s)) for s in SubscriptionStatus],
        "wanted": wanted,
        "money": money,
        "error": error,
    }
    return page(request, "purchases.html", session, context)

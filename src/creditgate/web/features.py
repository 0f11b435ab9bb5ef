"""Features and prices: the list, one feature's prices and history, new versions."""

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden
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


@router.get("/features")
def features(request: Request, session: Admin) -> HTMLResponse:
    """Every feature, active or not."""
    return page(request, "features.html", session, {"features": engine_of(request).features()})


def _feature_page(
    request: Request, session: Session, key: str, error: CreditgateError | None = None
) -> HTMLResponse:
    engine = engine_of(request)
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
        price = engine_of(request).set_price(key, {"rule": "flat", "credits": credits}, model=model)
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
        engine_of(request).update_feature(key, is_active=is_active)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _feature_page(request, session, key, error)
    return see(f"/admin/features/{quote(key)}", "activated" if is_active else "deactivated")

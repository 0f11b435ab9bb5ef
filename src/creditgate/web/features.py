"""Features and prices: new features, price versions of any rule, retirement, history.

A price of any rule is typed as its data form in JSON, the shape a catalog file and the API
take (`{"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}`), so the console
prices whatever the engine prices without a form per rule; a flat price has a short form.
"""

import json
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from creditgate.domain.errors import CreditgateError, Forbidden, InvalidInput
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


def _features_page(
    request: Request,
    session: Session,
    error: CreditgateError | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    context = {"features": engine_of(request).features(), "error": error, "typed": typed or {}}
    return page(request, "features.html", session, context)


@router.get("/features")
def features(request: Request, session: Admin) -> HTMLResponse:
    """Every feature, active or not, and the form that adds one."""
    return _features_page(request, session)


@router.post("/features", response_model=None)
async def create_feature(request: Request, session: Admin) -> Response:
    """Add a feature to the catalog; its prices are set on its own page."""
    fields: dict[str, str] = {}
    try:
        fields = await read_form(request, session)
        made = engine_of(request).create_feature(
            fields.get("key", "").strip(),
            name=fields.get("name", "").strip(),
            category=fields.get("category", "").strip() or None,
            description=fields.get("description", "").strip() or None,
        )
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _features_page(request, session, error, fields)
    return see(f"/admin/features/{quote(made.key)}", f"feature {made.key} created")


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
    return page(request, "feature.html", session, context)


@router.get("/features/{key}")
def feature(request: Request, session: Admin, key: str) -> HTMLResponse:
    """One feature: its prices in force, its price history and its forms."""
    return _feature_page(request, session, key)


def _rule(fields: dict[str, str]) -> object:
    """The rule a form names: the flat form's credits, or the JSON of any rule.

    Raises:
        InvalidInput: the JSON does not parse (the engine judges the rule itself).
    """
    if "rule" not in fields:
        return {"rule": "flat", "credits": fields.get("credits", "").strip()}
    try:
        rule: object = json.loads(fields["rule"])
    except ValueError:
        raise InvalidInput(field="rule", reason="the rule's data form as JSON") from None
    return rule


@router.post("/features/{key}/prices", response_model=None)
async def set_price(request: Request, session: Admin, key: str) -> Response:
    """A new price version for the feature (or one model of it): flat, or any rule."""
    try:
        fields = await read_form(request, session)
        model = fields.get("model", "").strip() or None
        minimum = fields.get("minimum", "").strip() or None
        rule = _rule(fields)
        if not isinstance(rule, dict):
            raise InvalidInput(field="rule", reason='a JSON object such as {"rule": "flat"}')
        price = engine_of(request).set_price(key, rule, model=model, minimum=minimum)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _feature_page(request, session, key, error)
    return see(f"/admin/features/{quote(key)}", f"price version {price.version} set")


@router.post("/features/{key}/prices/retire", response_model=None)
async def retire_price(request: Request, session: Admin, key: str) -> Response:
    """Retire the price in force for one model (or the default): calls of it stop pricing."""
    try:
        fields = await read_form(request, session)
        model = fields.get("model", "").strip() or None
        engine_of(request).retire_price(key, model=model)
    except Forbidden as error:
        return refused(request, error)
    except CreditgateError as error:
        return _feature_page(request, session, key, error)
    return see(f"/admin/features/{quote(key)}", f"retired the {model or 'default'} price")


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

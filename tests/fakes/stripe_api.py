"""A local fake of Stripe's HTTP API, and builders of the events its webhooks would deliver.

Tests never call the real Stripe. The code under test talks to this fake through the official
`stripe` package, pointed at it with `stripe.StripeClient(key, base_addresses={"api": fake.url})`
(or `fake.client()`). The fake serves the part of the v1 API creditgate uses: Checkout Sessions,
PaymentIntents, Customers, and reads of the objects it keeps. It checks what Stripe checks on
those calls (the key, required and contradictory parameters, idempotency keys) and answers in
Stripe's shapes, errors included, so the package raises the same exceptions it raises in
production.

It also keeps every object's state, so the events built afterwards (a completed checkout, a
renewal, a refund, a dispute) carry objects shaped like Stripe's for API_VERSION and consistent
with what the API answered: the payment intent a completed session names exists, and a refund
raises the stored charge's `amount_refunded`.
"""

import calendar
import copy
import json
import re
import secrets
import string
import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qsl

import stripe
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse

from tests.servers import live

API_VERSION = "2026-02-25.clover"
DEFAULT_SECRET_KEY = "sk_test_fake"

JSON = dict[str, Any]
Outcome = Literal["succeeded", "pending", "failed"]
Handler = Callable[[JSON, str | None], JSON]

_ALPHANUMERIC = string.ascii_letters + string.digits
_INTERVALS = ("day", "week", "month", "year")
# The smallest amount Stripe charges, in minor units, for the currencies tests use.
_MINIMUM_AMOUNTS = {"usd": 50, "eur": 50, "gbp": 30}
_DECLINE_MESSAGES = {
    "insufficient_funds": "Your card has insufficient funds.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
}
_DECLINED = "Your card was declined."
_METADATA_KEY_MAX = 40
_METADATA_VALUE_MAX = 500
_METADATA_KEYS_MAX = 50
_SESSION_LIFETIME = timedelta(hours=24)
_RETRY_DELAY = timedelta(days=3)


def new_id(prefix: str, length: int = 24) -> str:
    """An identifier shaped like Stripe's: `<prefix>_<random letters and digits>`."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


# --- Form decoding -------------------------------------------------------------------------

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_KEY_PART = re.compile(r"\[([^\[\]]*)\]")


def decode_form(text: str) -> JSON:
    """Stripe's form encoding (`a[b][0][c]=v`, `a[]=v`) as nested dicts and lists of strings."""
    root: JSON = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        parts = [match.group(1), *_KEY_PART.findall(match.group(2))] if match else [key]
        node = root
        for part in parts[:-1]:
            step = part or str(len(node))
            child = node.get(step)
            if not isinstance(child, dict):
                child = {}
                node[step] = child
            node = child
        node[parts[-1] or str(len(node))] = value
    return cast(JSON, _listify(root))


def _listify(node: object) -> object:
    """Dicts keyed 0..n (how the package encodes arrays) become lists, at every depth."""
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


# --- Errors ----------------------------------------------------------------------------------


class StripeError(Exception):
    """An error answer in Stripe's shape: `{"error": {"type": ..., "message": ..., ...}}`.

    `saved` says whether an idempotency key keeps the answer: Stripe saves the result of a
    request that reached its endpoint (a card decline) but not one refused by validation.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.saved = saved
        self.error: JSON = {"type": error_type, "message": message}
        if code is not None:
            slug = code.replace("_", "-")
            self.error |= {"code": code, "doc_url": f"https://stripe.com/docs/error-codes/{slug}"}
        if param is not None:
            self.error["param"] = param
        self.error |= extra

    def body(self) -> JSON:
        """The JSON body Stripe answers with."""
        return {"error": copy.deepcopy(self.error)}


def _missing(param: str) -> StripeError:
    return StripeError(
        400, f"Missing required param: {param}.", code="parameter_missing", param=param
    )


def _no_such(kind: str, ident: str, param: str, status: int = 400) -> StripeError:
    return StripeError(status, f"No such {kind}: '{ident}'", code="resource_missing", param=param)


# --- Parameter readers -----------------------------------------------------------------------


def _text(params: JSON, key: str, param: str | None = None) -> str | None:
    value = params.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StripeError(400, f"Invalid string: {value!r}", param=param or key)
    return value


def _required_text(params: JSON, key: str, param: str | None = None) -> str:
    value = _text(params, key, param)
    if value is None:
        raise _missing(param or key)
    return value


def _integer(params: JSON, key: str, param: str, *, minimum: int = 0) -> int:
    raw = params.get(key)
    if raw is None or raw == "":
        raise _missing(param)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise StripeError(
            400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=param
        ) from None
    if value < minimum:
        message = f"This value must be greater than or equal to {minimum}."
        raise StripeError(400, message, code="parameter_invalid_integer", param=param)
    return value


def _flag(params: JSON, key: str, truthy: Iterable[str] = ("true",)) -> bool:
    value = params.get(key)
    if value is None or value in ("", "false"):
        return False
    if value in truthy:
        return True
    raise StripeError(400, f"Invalid boolean: {value}", param=key)


def _mapping(params: JSON, key: str, param: str | None = None) -> JSON:
    value = params.get(key, {})
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param=param or key)
    return value


def _metadata(params: JSON, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata: at most 50 string keys of 40 characters, values of 500."""
    raw = _mapping(params, "metadata", param)
    if len(raw) > _METADATA_KEYS_MAX:
        raise StripeError(400, "Metadata can have at most 50 keys.", param=param)
    metadata: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            raise StripeError(400, "Invalid metadata value: must be a string.", param=param)
        if len(key) > _METADATA_KEY_MAX or len(value) > _METADATA_VALUE_MAX:
            message = "Metadata keys are at most 40 characters; values at most 500."
            raise StripeError(400, message, param=f"{param}[{key}]")
        if value:
            metadata[key] = value
    return metadata


def _timestamp(value: int | datetime) -> int:
    return int(value.timestamp()) if isinstance(value, datetime) else value


def _add_interval(timestamp: int, interval: str, count: int) -> int:
    """`timestamp` moved on by `count` billing intervals, months by the calendar."""
    start = datetime.fromtimestamp(timestamp, UTC)
    if interval in ("day", "week"):
        days = count * (7 if interval == "week" else 1)
        return int((start + timedelta(days=days)).timestamp())
    month_index = start.month - 1 + count * (12 if interval == "year" else 1)
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def _list_object(data: list[JSON], url: str) -> JSON:
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}


def _redact(key: str) -> str:
    """A key as Stripe's errors show it: its kind, then stars, then its last four characters."""
    kind, _, _ = key.rpartition("_")
    return f"{kind}_{'*' * 12}{key[-4:]}" if kind else f"{'*' * 12}{key[-4:]}"


# --- Object builders (shapes of API_VERSION) ---------------------------------------------


def _price(
    currency: str, unit_amount: int, product: str, recurring: JSON | None, created: int
) -> JSON:
    return {
        "id": new_id("price"),
        "object": "price",
        "active": False,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": None,
        "metadata": {},
        "nickname": None,
        "product": product,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def _plan(price: JSON) -> JSON:
    """The legacy `plan` a subscription item still carries beside its `price`."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": {},
        "meter": None,
        "nickname": None,
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def _customer(ident: str, email: str | None, name: str | None, created: int) -> JSON:
    return {
        "id": ident,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": "".join(secrets.choice(string.ascii_uppercase) for _ in range(8)),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def _payment_method(customer: str | None, created: int) -> JSON:
    return {
        "id": new_id("pm"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "card": {
            "brand": "visa",
            "country": "US",
            "exp_month": 12,
            "exp_year": 2034,
            "funding": "credit",
            "last4": "4242",
        },
        "created": created,
        "customer": customer,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def _payment_intent(amount: int, currency: str, customer: str | None, created: int) -> JSON:
    ident = new_id("pi")
    return {
        "id": ident,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{ident}_secret_{new_id('x')[2:]}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer,
        "description": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_options": {},
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def _charge(intent: JSON, created: int) -> JSON:
    return {
        "id": new_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "calculated_statement_descriptor": "CREDITGATE",
        "captured": False,
        "created": created,
        "currency": intent["currency"],
        "customer": intent["customer"],
        "description": intent["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(intent["metadata"]),
        "on_behalf_of": None,
        "outcome": None,
        "paid": False,
        "payment_intent": intent["id"],
        "payment_method": intent["payment_method"],
        "payment_method_details": {
            "card": {"brand": "visa", "country": "US", "funding": "credit", "last4": "4242"},
            "type": "card",
        },
        "receipt_email": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "pending",
        "transfer_data": None,
        "transfer_group": None,
    }


def _card_error(charge_id: str, payment_method: str | None, decline_code: str) -> JSON:
    """A card decline, as `last_payment_error` and the 402 answer carry it."""
    return {
        "charge": charge_id,
        "code": "card_declined",
        "decline_code": decline_code,
        "doc_url": "https://stripe.com/docs/error-codes/card-declined",
        "message": _DECLINE_MESSAGES.get(decline_code, _DECLINED),
        "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
        "type": "card_error",
    }


def _set_outcome(intent: JSON, charge: JSON, outcome: Outcome, decline_code: str) -> None:
    """Settle a charge attempt, and its payment intent with it."""
    intent["latest_charge"] = charge["id"]
    charge["status"] = outcome
    charge["paid"] = charge["captured"] = outcome == "succeeded"
    if outcome == "succeeded":
        charge["amount_captured"] = charge["amount"]
        charge["balance_transaction"] = new_id("txn")
        charge["outcome"] = {
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
        intent |= {"status": "succeeded", "amount_received": intent["amount"]}
        intent["last_payment_error"] = None
    elif outcome == "pending":
        intent["status"] = "processing"
    else:
        error = _card_error(charge["id"], intent["payment_method"], decline_code)
        charge["failure_code"], charge["failure_message"] = error["code"], error["message"]
        charge["outcome"] = {
            "network_status": "declined_by_network",
            "reason": decline_code,
            "risk_level": "normal",
            "seller_message": f"The bank returned the decline code `{decline_code}`.",
            "type": "issuer_declined",
        }
        intent |= {"status": "requires_payment_method", "last_payment_error": error}


def _subscription_item(subscription: str, price: JSON, quantity: int, created: int) -> JSON:
    return {
        "id": new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": created,
        "current_period_end": created,
        "current_period_start": created,
        "discounts": [],
        "metadata": {},
        "plan": _plan(price),
        "price": price,
        "quantity": quantity,
        "subscription": subscription,
        "tax_rates": [],
    }


def _subscription(customer: str, currency: str, metadata: dict[str, str], created: int) -> JSON:
    return {
        "id": new_id("sub"),
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "billing_cycle_anchor_config": None,
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer,
        "days_until_due": None,
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": _list_object([], "/v1/subscription_items"),
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata,
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": None,
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": created,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def _invoice_line(invoice: str, item: JSON, name: str, period: tuple[int, int]) -> JSON:
    """A subscription item's line on an invoice: the service period it pays for is `period`."""
    price, quantity = item["price"], item["quantity"]
    amount = price["unit_amount"] * quantity
    return {
        "id": new_id("il"),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": f"{quantity} \u00d7 {name}",
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice,
        "livemode": False,
        "metadata": {},
        "parent": {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": item["subscription"],
                "subscription_item": item["id"],
            },
            "type": "subscription_item_details",
        },
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": price["unit_amount_decimal"],
        },
        "quantity": quantity,
        "subtotal": amount,
        "taxes": [],
    }


def _invoice(subscription: JSON, lines: list[JSON], reason: str, created: int) -> JSON:
    total = sum(line["amount"] for line in lines)
    return {
        "id": lines[0]["invoice"],
        "object": "invoice",
        "account_country": "US",
        "account_name": "Creditgate Test",
        "amount_due": total,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": total,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 1,
        "attempted": True,
        "auto_advance": True,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_reason": reason,
        "collection_method": "charge_automatically",
        "created": created,
        "currency": subscription["currency"],
        "customer": subscription["customer"],
        "customer_email": None,
        "default_payment_method": None,
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": created,
        "ending_balance": 0,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "last_finalization_error": None,
        "lines": _list_object(lines, f"/v1/invoices/{lines[0]['invoice']}/lines"),
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        },
        "period_end": created,
        "period_start": created,
        "starting_balance": 0,
        "status": "open",
        "status_transitions": {
            "finalized_at": created,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": total,
        "subtotal_excluding_tax": total,
        "total": total,
        "total_discount_amounts": [],
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": created,
    }


# --- The fake ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received; `headers` has lower-case names."""

    method: str
    path: str
    params: JSON
    headers: dict[str, str]


@dataclass
class _Checkout:
    """What a Checkout Session was created with that its object does not show."""

    lines: list[JSON]
    payment_intent_data: JSON
    subscription_data: JSON


@dataclass
class _Replay:
    method: str
    path: str
    params: JSON
    status: int
    body: JSON


@dataclass
class _Routes:
    table: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self.table.append((method, re.compile(pattern), handler))

    def find(self, method: str, path: str) -> tuple[Handler, str | None]:
        for route_method, pattern, handler in self.table:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                return handler, match.group(1) if pattern.groups else None
        message = f"Unrecognized request URL ({method}: {path})."
        raise StripeError(404, message)


class FakeStripe:
    """Stripe's v1 API on a loopback port, served from a thread while the block runs.

    Use it as a context manager (or start()/stop()). `requests` records every request as
    received; `sessions`, `payment_intents`, `charges`, `customers`, `subscriptions`,
    `invoices`, `refunds`, `disputes` and `payment_methods` hold the objects, by id. Event
    builders move those objects on (a checkout completes, a period renews) and answer the
    event Stripe would deliver; `events` keeps every one built.
    """

    def __init__(
        self,
        secret_key: str = DEFAULT_SECRET_KEY,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.secret_key = secret_key
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._stack: ExitStack | None = None
        self._url: str | None = None
        self._routes = _Routes()
        self._add_routes()
        self.reset()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> str:
        """Serve until stop(); answers the base URL to give the stripe package."""
        assert self._stack is None, "the fake is already serving"
        self._stack = ExitStack()
        self._url = self._stack.enter_context(live(self._app()))
        return self._url

    def stop(self) -> None:
        """Stop serving; the recorded requests and objects stay readable."""
        if self._stack is not None:
            self._stack.close()
        self._stack = self._url = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL: what `base_addresses={"api": ...}` takes."""
        assert self._url is not None, "the fake is not serving: start() it first"
        return self._url

    def client(self, api_key: str | None = None) -> stripe.StripeClient:
        """A client of the official package pointed at this fake, without retries."""
        return stripe.StripeClient(
            api_key or self.secret_key, base_addresses={"api": self.url}, max_network_retries=0
        )

    def reset(self) -> None:
        """Forget every request, object, event, pending decline and idempotency key."""
        with self._lock:
            self.requests: list[RecordedRequest] = []
            self.events: list[JSON] = []
            self.sessions: dict[str, JSON] = {}
            self.payment_intents: dict[str, JSON] = {}
            self.charges: dict[str, JSON] = {}
            self.customers: dict[str, JSON] = {}
            self.payment_methods: dict[str, JSON] = {}
            self.subscriptions: dict[str, JSON] = {}
            self.invoices: dict[str, JSON] = {}
            self.invoice_payments: dict[str, JSON] = {}
            self.refunds: dict[str, JSON] = {}
            self.disputes: dict[str, JSON] = {}
            self.products: dict[str, JSON] = {}
            self._checkouts: dict[str, _Checkout] = {}
            self._replays: dict[str, _Replay] = {}
            self._declines: list[str] = []

    def received(self, method: str, path: str) -> list[RecordedRequest]:
        """The requests received for one method and path, oldest first."""
        return [r for r in self.requests if (r.method, r.path) == (method.upper(), path)]

    def decline_next(self, count: int = 1, *, decline_code: str = "insufficient_funds") -> None:
        """Decline the next `count` confirmed payment intents, as the card's bank would."""
        with self._lock:
            self._declines.extend([decline_code] * count)

    def create_customer(
        self, *, email: str | None = None, name: str | None = None, metadata: JSON | None = None
    ) -> JSON:
        """A customer made directly, as if it had existed in the account before the test."""
        with self._lock:
            customer = _customer(new_id("cus", 14), email, name, self._now())
            customer["metadata"] = dict(metadata or {})
            self.customers[customer["id"]] = customer
            return customer

    # -- HTTP -----------------------------------------------------------------------------

    def _app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.get("/c/pay/{session_id}")
        async def checkout_page(session_id: str) -> HTMLResponse:
            return HTMLResponse(f"<p>Fake Stripe Checkout for {session_id}</p>")

        @app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
        async def api(request: Request) -> Response:
            body = (await request.body()).decode()
            status, payload, headers = self.respond(
                request.method, request.url.path, request.url.query, body, dict(request.headers)
            )
            return Response(
                json.dumps(payload, indent=2), status, headers, media_type="application/json"
            )

        return app

    def respond(
        self, method: str, path: str, query: str, body: str, headers: dict[str, str]
    ) -> tuple[int, JSON, dict[str, str]]:
        """Answer one request: (status, JSON body, response headers)."""
        params = decode_form(query) | decode_form(body)
        headers = {name.lower(): value for name, value in headers.items()}
        reply = {"Request-Id": new_id("req", 14), "Stripe-Version": API_VERSION}
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
            try:
                handler, ident = self._admit(method, path, headers)
                key = headers.get("idempotency-key") if method == "POST" else None
                if key is None:
                    return 200, handler(params, ident), reply
                reply["Idempotency-Key"] = key
                return (*self._idempotent(key, method, path, params, handler, ident), reply)
            except StripeError as error:
                return error.status, error.body(), reply

    def _admit(self, method: str, path: str, headers: dict[str, str]) -> tuple[Handler, str | None]:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            message = (
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
            )
            raise StripeError(401, message)
        if key != self.secret_key:
            raise StripeError(401, f"Invalid API Key provided: {_redact(key)}")
        version = headers.get("stripe-version", API_VERSION)
        if version != API_VERSION:
            message = f"This fake renders objects for Stripe API version {API_VERSION} only."
            raise StripeError(400, message, param="Stripe-Version")
        return self._routes.find(method, path)

    def _idempotent(
        self, key: str, method: str, path: str, params: JSON, handler: Handler, ident: str | None
    ) -> tuple[int, JSON]:
        """Stripe's idempotency: one key answers its first result again and does nothing new."""
        replay = self._replays.get(key)
        if replay is not None:
            if (replay.method, replay.path, replay.params) != (method, path, params):
                message = (
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request."
                )
                raise StripeError(400, message, error_type="idempotency_error")
            return replay.status, copy.deepcopy(replay.body)
        try:
            status, body = 200, handler(params, ident)
        except StripeError as error:
            if not error.saved:
                raise
            status, body = error.status, error.body()
        self._replays[key] = _Replay(method, path, params, status, copy.deepcopy(body))
        return status, body

    def _add_routes(self) -> None:
        add = self._routes.add
        add("POST", r"/v1/checkout/sessions", self._create_session)
        add("GET", r"/v1/checkout/sessions/([^/]+)", self._retrieve_session)
        add("GET", r"/v1/checkout/sessions/([^/]+)/line_items", self._list_session_lines)
        add("POST", r"/v1/payment_intents", self._create_payment_intent)
        add("POST", r"/v1/customers", self._create_customer)
        add("GET", r"/v1/invoice_payments", self._list_invoice_payments)
        stores = {
            "payment_intents": ("payment_intent", lambda: self.payment_intents),
            "customers": ("customer", lambda: self.customers),
            "charges": ("charge", lambda: self.charges),
            "payment_methods": ("payment_method", lambda: self.payment_methods),
            "subscriptions": ("subscription", lambda: self.subscriptions),
            "invoices": ("invoice", lambda: self.invoices),
            "refunds": ("refund", lambda: self.refunds),
            "disputes": ("dispute", lambda: self.disputes),
            "products": ("product", lambda: self.products),
        }
        for resource, (kind, store) in stores.items():
            add("GET", rf"/v1/{resource}/([^/]+)", self._retriever(kind, store))

    def _retriever(self, kind: str, store: Callable[[], dict[str, JSON]]) -> Handler:
        def retrieve(params: JSON, ident: str | None) -> JSON:
            found = store().get(ident or "")
            if found is None:
                raise _no_such(kind, ident or "", "id", status=404)
            return self._expand(found, params)

        return retrieve

    def _expand(self, obj: JSON, params: JSON) -> JSON:
        """A copy of `obj` with the ids named in `expand[]` replaced by their objects."""
        answer = copy.deepcopy(obj)
        expand = params.get("expand", [])
        for path in expand if isinstance(expand, list) else [expand]:
            if path == "line_items" and answer.get("object") == "checkout.session":
                answer["line_items"] = self._session_lines(answer["id"])
                continue
            target = answer.get(path)
            if target is None:
                continue
            found = self._find(target) if isinstance(target, str) else None
            if found is None:
                raise StripeError(400, f"This property cannot be expanded ({path}).")
            answer[path] = copy.deepcopy(found)
        return answer

    def _find(self, ident: str) -> JSON | None:
        stores = (
            self.sessions, self.payment_intents, self.charges, self.customers,
            self.payment_methods, self.subscriptions, self.invoices, self.refunds, self.disputes,
            self.products,
        )  # fmt: skip
        return next((store[ident] for store in stores if ident in store), None)

    def _now(self) -> int:
        return int(self._clock().timestamp())

    # -- Checkout Sessions ----------------------------------------------------------------

    def _create_session(self, params: JSON, _: str | None) -> JSON:
        mode = _required_text(params, "mode")
        if mode not in ("payment", "subscription"):
            message = f"Invalid mode: this fake serves `payment` and `subscription`, not `{mode}`."
            raise StripeError(400, message, param="mode")
        success_url = _required_text(params, "success_url")
        created = self._now()
        lines = self._checkout_lines(params, mode, created)
        checkout = _Checkout(lines, *self._mode_data(params, mode))
        customer, customer_email = self._checkout_customer(params)
        creation = _text(params, "customer_creation")
        if creation is not None and (
            mode != "payment" or creation not in ("always", "if_required")
        ):
            raise StripeError(400, "Invalid customer_creation.", param="customer_creation")
        total = sum(line["amount_total"] for line in lines)
        ident = new_id("cs_test", 58)
        session = {
            "id": ident,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": total,
            "amount_total": total,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "billing_address_collection": None,
            "cancel_url": _text(params, "cancel_url"),
            "client_reference_id": _text(params, "client_reference_id"),
            "client_secret": None,
            "created": created,
            "currency": lines[0]["currency"],
            "custom_fields": [],
            "customer": customer,
            "customer_creation": (creation or "if_required") if mode == "payment" else None,
            "customer_details": None,
            "customer_email": customer_email,
            "discounts": [],
            "expires_at": created + int(_SESSION_LIFETIME.total_seconds()),
            "invoice": None,
            "livemode": False,
            "locale": None,
            "metadata": _metadata(params),
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "always" if mode == "subscription" else None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "recovered_from": None,
            "setup_intent": None,
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted",
            "url": f"{self.url}/c/pay/{ident}" if self._url else None,
        }
        self.sessions[ident] = session
        self._checkouts[ident] = checkout
        return self._expand(session, params)

    def _checkout_lines(self, params: JSON, mode: str, created: int) -> list[JSON]:
        raw = params.get("line_items")
        if not raw:
            raise _missing("line_items")
        if not isinstance(raw, list):
            raise StripeError(400, "Invalid array", param="line_items")
        lines = [
            self._checkout_line(entry, f"line_items[{i}]", created) for i, entry in enumerate(raw)
        ]
        if len({line["currency"] for line in lines}) > 1:
            message = "All line items must use one currency; found several."
            raise StripeError(400, message, param="line_items")
        recurring = [line for line in lines if line["price"]["recurring"]]
        if mode == "payment" and recurring:
            message = (
                "You specified `payment` mode but passed a recurring price. Either switch to "
                "`subscription` mode or use only one-time prices."
            )
            raise StripeError(400, message, param="line_items")
        if mode == "subscription" and not recurring:
            message = "You must provide at least one recurring price in `subscription` mode."
            raise StripeError(400, message, param="line_items")
        return lines

    def _checkout_line(self, entry: object, param: str, created: int) -> JSON:
        if not isinstance(entry, dict):
            raise StripeError(400, "Invalid object", param=param)
        if "price" in entry:
            raise _no_such("price", str(entry["price"]), f"{param}[price]")
        data = entry.get("price_data")
        if not isinstance(data, dict):
            raise _missing(f"{param}[price_data]")
        prefix = f"{param}[price_data]"
        currency = _required_text(data, "currency", f"{prefix}[currency]").lower()
        unit_amount = _integer(data, "unit_amount", f"{prefix}[unit_amount]")
        if "product" in data:
            raise _no_such("product", str(data["product"]), f"{prefix}[product]")
        name = _required_text(
            _mapping(data, "product_data"), "name", f"{prefix}[product_data][name]"
        )
        recurring = self._recurring(data, f"{prefix}[recurring]")
        quantity = _integer(entry, "quantity", f"{param}[quantity]", minimum=1)
        product: JSON = {
            "id": new_id("prod", 14),
            "object": "product",
            "active": True,
            "created": created,
            "description": None,
            "images": [],
            "livemode": False,
            "metadata": {},
            "name": name,
            "type": "service",
        }
        self.products[product["id"]] = product
        price = _price(currency, unit_amount, product["id"], recurring, created)
        amount = unit_amount * quantity
        return {
            "id": new_id("li"),
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": currency,
            "description": name,
            "price": price,
            "quantity": quantity,
        }

    @staticmethod
    def _recurring(data: JSON, param: str) -> JSON | None:
        if "recurring" not in data:
            return None
        recurring = _mapping(data, "recurring", param)
        interval = _required_text(recurring, "interval", f"{param}[interval]")
        if interval not in _INTERVALS:
            raise StripeError(400, f"Invalid interval: {interval}", param=f"{param}[interval]")
        count = 1
        if "interval_count" in recurring:
            count = _integer(recurring, "interval_count", f"{param}[interval_count]", minimum=1)
        return {
            "interval": interval,
            "interval_count": count,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }

    @staticmethod
    def _mode_data(params: JSON, mode: str) -> tuple[JSON, JSON]:
        """`payment_intent_data` and `subscription_data`, each allowed in its own mode only."""
        payment = _mapping(params, "payment_intent_data")
        subscription = _mapping(params, "subscription_data")
        for name, data, own_mode in (
            ("payment_intent_data", payment, "payment"),
            ("subscription_data", subscription, "subscription"),
        ):
            if data and mode != own_mode:
                raise StripeError(400, f"You can not pass `{name}` in `{mode}` mode.", param=name)
        usage = _text(payment, "setup_future_usage", "payment_intent_data[setup_future_usage]")
        if usage not in (None, "on_session", "off_session"):
            param = "payment_intent_data[setup_future_usage]"
            raise StripeError(400, f"Invalid setup_future_usage: {usage}", param=param)
        payment_metadata = _metadata(payment, "payment_intent_data[metadata]")
        payment_data = {"metadata": payment_metadata, "setup_future_usage": usage}
        subscription_metadata = _metadata(subscription, "subscription_data[metadata]")
        return payment_data, {"metadata": subscription_metadata}

    def _checkout_customer(self, params: JSON) -> tuple[str | None, str | None]:
        customer = self._customer_param(params)
        email = _text(params, "customer_email")
        if customer is not None and email is not None:
            message = "You may only specify one of these parameters: customer, customer_email."
            raise StripeError(400, message, param="customer_email")
        return customer, email

    def _customer_param(self, params: JSON) -> str | None:
        customer = _text(params, "customer")
        if customer is not None and customer not in self.customers:
            raise _no_such("customer", customer, "customer")
        return customer

    def _retrieve_session(self, params: JSON, ident: str | None) -> JSON:
        return self._expand(self._session(ident or "", status=404), params)

    def _list_session_lines(self, _: JSON, ident: str | None) -> JSON:
        self._session(ident or "", status=404)
        return self._session_lines(ident or "")

    def _session_lines(self, ident: str) -> JSON:
        lines = copy.deepcopy(self._checkouts[ident].lines)
        return _list_object(lines, f"/v1/checkout/sessions/{ident}/line_items")

    def _session(self, ident: str, *, status: int = 400) -> JSON:
        session = self.sessions.get(ident)
        if session is None:
            if status == 404:
                raise _no_such("checkout.session", ident, "session", status=404)
            raise LookupError(f"no checkout session {ident!r} in the fake")
        return session

    # -- PaymentIntents and Customers -----------------------------------------------------

    def _create_payment_intent(self, params: JSON, _: str | None) -> JSON:
        amount = _integer(params, "amount", "amount", minimum=1)
        currency = _required_text(params, "currency").lower()
        if amount < _MINIMUM_AMOUNTS.get(currency, 1):
            message = f"Amount must be at least {_MINIMUM_AMOUNTS[currency]} {currency} cents."
            raise StripeError(400, message, code="amount_too_small", param="amount")
        customer = self._customer_param(params)
        payment_method = self._payment_method_param(params, customer)
        confirm = _flag(params, "confirm")
        if _flag(params, "off_session", ("true", "one_off", "recurring")) and not confirm:
            message = "You can only pass `off_session` when `confirm` is true."
            raise StripeError(400, message, param="off_session")
        if confirm and payment_method is None:
            message = (
                "You cannot confirm this PaymentIntent because it's missing a payment method. "
                "Specify a payment method attached to the customer along with the customer ID."
            )
            raise StripeError(400, message, code="payment_intent_unexpected_state")
        intent = _payment_intent(amount, currency, customer, self._now())
        intent |= {
            "description": _text(params, "description"),
            "metadata": _metadata(params),
            "payment_method": payment_method,
            "receipt_email": _text(params, "receipt_email"),
            "setup_future_usage": _text(params, "setup_future_usage"),
            "status": "requires_confirmation" if payment_method else "requires_payment_method",
        }
        self.payment_intents[intent["id"]] = intent
        if confirm:
            self._confirm(intent)
        return self._expand(intent, params)

    def _payment_method_param(self, params: JSON, customer: str | None) -> str | None:
        payment_method = _text(params, "payment_method")
        known = self.payment_methods.get(payment_method or "")
        if known is not None and known["customer"] not in (None, customer):
            message = f"The PaymentMethod {payment_method} does not belong to the Customer."
            raise StripeError(400, message, param="payment_method")
        return payment_method

    def _confirm(self, intent: JSON) -> None:
        """Charge the intent's card now; a pending decline answers 402 as Stripe does."""
        if not self._declines:
            self._attempt(intent, "succeeded")
            return
        decline_code = self._declines.pop(0)
        charge = self._attempt(intent, "failed", decline_code)
        error = _card_error(charge["id"], intent["payment_method"], decline_code)
        raise StripeError(
            402,
            error.pop("message"),
            error_type=error.pop("type"),
            code=error.pop("code"),
            saved=True,
            payment_intent=copy.deepcopy(intent),
            **{name: value for name, value in error.items() if name != "doc_url"},
        )

    def _attempt(
        self, intent: JSON, outcome: Outcome, decline_code: str = "generic_decline"
    ) -> JSON:
        """Settle a pending charge of `intent`, or make a new charge attempt, as `outcome`."""
        latest = self.charges.get(intent["latest_charge"] or "")
        if latest is None or latest["status"] != "pending":
            latest = _charge(intent, self._now())
            self.charges[latest["id"]] = latest
        _set_outcome(intent, latest, outcome, decline_code)
        return latest

    def _create_customer(self, params: JSON, _: str | None) -> JSON:
        customer = _customer(
            new_id("cus", 14), _text(params, "email"), _text(params, "name"), self._now()
        )
        customer |= {
            "description": _text(params, "description"),
            "metadata": _metadata(params),
            "phone": _text(params, "phone"),
        }
        self.customers[customer["id"]] = customer
        return self._expand(customer, params)

    def _list_invoice_payments(self, params: JSON, _: str | None) -> JSON:
        invoice = _text(params, "invoice")
        intent = _text(_mapping(params, "payment"), "payment_intent")
        found = [
            copy.deepcopy(payment)
            for payment in self.invoice_payments.values()
            if invoice in (None, payment["invoice"])
            and intent in (None, payment["payment"]["payment_intent"])
        ]
        return _list_object(found, "/v1/invoice_payments")

    # -- Events ---------------------------------------------------------------------------

    def event(self, event_type: str, obj: JSON, *, previous_attributes: JSON | None = None) -> JSON:
        """The event a webhook delivers about `obj` as it is now (a snapshot, like Stripe's)."""
        data: JSON = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        built = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": self._now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        with self._lock:
            self.events.append(built)
        return copy.deepcopy(built)

    def complete_session(self, session_id: str, *, paid: bool = True) -> JSON:
        """The buyer finishes Checkout: answers `checkout.session.completed`.

        Payment mode makes a payment intent and its charge; `paid=False` is a delayed
        payment method (a bank debit): the session completes `unpaid` and the charge stays
        pending until async_payment_succeeded() or async_payment_failed(). Subscription mode
        makes the subscription, with the session's `subscription_data[metadata]`, and its
        first invoice.
        """
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            checkout = self._checkouts[session_id]
            customer = session["customer"] or self._checkout_buyer(session, checkout)
            email = session["customer_email"] or (
                self.customers[customer]["email"] if customer else None
            )
            session |= {
                "customer": customer,
                "customer_details": {
                    "address": None,
                    "email": email or "buyer@example.com",
                    "name": None,
                    "phone": None,
                    "tax_exempt": "none",
                    "tax_ids": [],
                },
                "payment_status": "paid" if paid else "unpaid",
                "status": "complete",
                "url": None,
            }
            outcome: Outcome = "succeeded" if paid else "pending"
            if session["mode"] == "payment":
                self._complete_payment(session, checkout, outcome)
            else:
                self._complete_subscription(session, checkout, outcome)
            return self.event("checkout.session.completed", session)

    def _checkout_buyer(self, session: JSON, checkout: _Checkout) -> str | None:
        """The customer Checkout makes: always for a subscription or a saved card."""
        needed = (
            session["mode"] == "subscription"
            or session["customer_creation"] == "always"
            or checkout.payment_intent_data["setup_future_usage"] is not None
        )
        if not needed:
            return None
        email = session["customer_email"] or "buyer@example.com"
        customer = _customer(new_id("cus", 14), email, None, self._now())
        self.customers[customer["id"]] = customer
        return str(customer["id"])

    def _new_payment_method(self, customer: str | None) -> str:
        method = _payment_method(customer, self._now())
        self.payment_methods[method["id"]] = method
        return str(method["id"])

    def _complete_payment(self, session: JSON, checkout: _Checkout, outcome: Outcome) -> None:
        data = checkout.payment_intent_data
        saved_for = session["customer"] if data["setup_future_usage"] else None
        intent = _payment_intent(
            session["amount_total"], session["currency"], session["customer"], self._now()
        )
        intent |= {
            "metadata": dict(data["metadata"]),
            "payment_method": self._new_payment_method(saved_for),
            "setup_future_usage": data["setup_future_usage"],
        }
        self.payment_intents[intent["id"]] = intent
        self._attempt(intent, outcome)
        session["payment_intent"] = intent["id"]

    def _complete_subscription(self, session: JSON, checkout: _Checkout, outcome: Outcome) -> None:
        now = self._now()
        subscription = _subscription(
            session["customer"],
            session["currency"],
            dict(checkout.subscription_data["metadata"]),
            now,
        )
        items = [
            _subscription_item(subscription["id"], line["price"], line["quantity"], now)
            for line in checkout.lines
            if line["price"]["recurring"]
        ]
        subscription["items"] = _list_object(
            items, f"/v1/subscription_items?subscription={subscription['id']}"
        )
        subscription["default_payment_method"] = self._new_payment_method(session["customer"])
        self.subscriptions[subscription["id"]] = subscription
        recurring = items[0]["price"]["recurring"]
        end = _add_interval(now, recurring["interval"], recurring["interval_count"])
        invoice = self._bill(subscription, (now, end), "subscription_create", outcome)
        subscription["status"] = "active" if outcome == "succeeded" else "incomplete"
        session |= {"subscription": subscription["id"], "invoice": invoice["id"]}

    def _bill(
        self, subscription: JSON, period: tuple[int, int], reason: str, outcome: Outcome
    ) -> JSON:
        """Invoice the subscription's items for `period`, pay it as `outcome`, move the period.

        A renewal invoice's own `period_start`/`period_end` are the period that just ended, as
        Stripe's are; the period paid for is on its lines (`lines.data[].period`).
        """
        now = self._now()
        items = subscription["items"]["data"]
        invoice_id = new_id("in")
        lines = [
            _invoice_line(invoice_id, item, self.products[item["price"]["product"]]["name"], period)
            for item in items
        ]
        invoice = _invoice(subscription, lines, reason, now)
        if reason != "subscription_create":
            invoice["period_start"] = items[0]["current_period_start"]
            invoice["period_end"] = items[0]["current_period_end"]
        customer = self.customers.get(subscription["customer"])
        if customer is not None:
            sequence = customer["next_invoice_sequence"]
            customer["next_invoice_sequence"] = sequence + 1
            invoice["customer_email"] = customer["email"]
            invoice["number"] = f"{customer['invoice_prefix']}-{sequence:04d}"
        self.invoices[invoice_id] = invoice
        intent = _payment_intent(
            invoice["total"], invoice["currency"], subscription["customer"], now
        )
        intent |= {
            "description": "Subscription creation"
            if reason == "subscription_create"
            else "Subscription update",
            "payment_method": subscription["default_payment_method"],
        }
        self.payment_intents[intent["id"]] = intent
        payment_id = new_id("inpay")
        self.invoice_payments[payment_id] = {
            "id": payment_id,
            "object": "invoice_payment",
            "amount_paid": None,
            "amount_requested": invoice["total"],
            "created": now,
            "currency": invoice["currency"],
            "invoice": invoice_id,
            "is_default": True,
            "livemode": False,
            "payment": {"payment_intent": intent["id"], "type": "payment_intent"},
            "status": "open",
            "status_transitions": {"canceled_at": None, "paid_at": None},
        }
        for item in items:
            item["current_period_start"], item["current_period_end"] = period
        subscription["latest_invoice"] = invoice_id
        self._settle_invoice(invoice, intent, outcome)
        return invoice

    def _invoice_intent(self, invoice_id: str) -> tuple[JSON, JSON]:
        payment = next(
            p
            for p in self.invoice_payments.values()
            if p["invoice"] == invoice_id and p["is_default"]
        )
        return payment, self.payment_intents[payment["payment"]["payment_intent"]]

    def _settle_invoice(self, invoice: JSON, intent: JSON, outcome: Outcome) -> None:
        self._attempt(intent, outcome)
        payment, _ = self._invoice_intent(invoice["id"])
        now = self._now()
        if outcome == "succeeded":
            invoice |= {
                "amount_paid": invoice["total"],
                "amount_remaining": 0,
                "auto_advance": False,
                "next_payment_attempt": None,
                "status": "paid",
            }
            invoice["status_transitions"]["paid_at"] = now
            payment |= {"amount_paid": invoice["total"], "status": "paid"}
            payment["status_transitions"]["paid_at"] = now
        elif outcome == "failed":
            invoice["next_payment_attempt"] = now + int(_RETRY_DELAY.total_seconds())

    def expire_session(self, session_id: str) -> JSON:
        """The session lapses unpaid: answers `checkout.session.expired`."""
        with self._lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise ValueError(f"checkout session {session_id} is {session['status']}")
            session |= {"status": "expired", "url": None}
            return self.event("checkout.session.expired", session)

    def async_payment_succeeded(self, session_id: str) -> JSON:
        """A delayed payment clears: `checkout.session.async_payment_succeeded`."""
        return self._settle_session(session_id, "succeeded")

    def async_payment_failed(self, session_id: str) -> JSON:
        """A delayed payment fails: `checkout.session.async_payment_failed`."""
        return self._settle_session(session_id, "failed")

    def _settle_session(self, session_id: str, outcome: Outcome) -> JSON:
        with self._lock:
            session = self._session(session_id)
            if (session["status"], session["payment_status"]) != ("complete", "unpaid"):
                raise ValueError(f"checkout session {session_id} awaits no delayed payment")
            if session["mode"] == "payment":
                self._attempt(self.payment_intents[session["payment_intent"]], outcome)
            else:
                invoice = self.invoices[session["invoice"]]
                _, intent = self._invoice_intent(invoice["id"])
                self._settle_invoice(invoice, intent, outcome)
                if outcome == "succeeded":
                    self.subscriptions[session["subscription"]]["status"] = "active"
            if outcome == "succeeded":
                session["payment_status"] = "paid"
                return self.event("checkout.session.async_payment_succeeded", session)
            return self.event("checkout.session.async_payment_failed", session)

    def payment_succeeded(self, payment_intent_id: str) -> JSON:
        """The intent's payment goes through: `payment_intent.succeeded`."""
        with self._lock:
            intent = self._intent(payment_intent_id)
            if intent["status"] != "succeeded":
                self._attempt(intent, "succeeded")
            return self.event("payment_intent.succeeded", intent)

    def payment_failed(
        self, payment_intent_id: str, *, decline_code: str = "insufficient_funds"
    ) -> JSON:
        """The intent's payment is declined: `payment_intent.payment_failed`."""
        with self._lock:
            intent = self._intent(payment_intent_id)
            if intent["status"] == "succeeded":
                raise ValueError(f"payment intent {payment_intent_id} has already succeeded")
            self._attempt(intent, "failed", decline_code)
            return self.event("payment_intent.payment_failed", intent)

    def _intent(self, ident: str) -> JSON:
        intent = self.payment_intents.get(ident)
        if intent is None:
            raise LookupError(f"no payment intent {ident!r} in the fake")
        return intent

    def _charge_of(self, ident: str) -> JSON:
        """The charge `ident` names: a charge id, or a payment intent's latest charge."""
        if ident in self.charges:
            return self.charges[ident]
        latest = self._intent(ident)["latest_charge"]
        if latest is None:
            raise LookupError(f"payment intent {ident!r} has no charge")
        return self.charges[latest]

    def refund(self, charge_or_payment_intent_id: str, amount: int | None = None) -> JSON:
        """Refund `amount` (default: all that is left): answers `charge.refunded`.

        The charge's `amount_refunded` is cumulative over refunds; `refunded` turns true once
        the whole amount is back.
        """
        with self._lock:
            charge = self._charge_of(charge_or_payment_intent_id)
            left = charge["amount"] - charge["amount_refunded"]
            amount = left if amount is None else amount
            if charge["status"] != "succeeded" or not 0 < amount <= left:
                raise ValueError(f"cannot refund {amount} of charge {charge['id']} ({left} left)")
            refund = {
                "id": new_id("re"),
                "object": "refund",
                "amount": amount,
                "balance_transaction": new_id("txn"),
                "charge": charge["id"],
                "created": self._now(),
                "currency": charge["currency"],
                "destination_details": None,
                "metadata": {},
                "payment_intent": charge["payment_intent"],
                "reason": None,
                "receipt_number": None,
                "source_transfer_reversal": None,
                "status": "succeeded",
                "transfer_reversal": None,
            }
            self.refunds[refund["id"]] = refund
            charge["amount_refunded"] += amount
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            return self.event("charge.refunded", charge)

    def dispute(
        self,
        charge_or_payment_intent_id: str,
        *,
        amount: int | None = None,
        reason: str = "fraudulent",
    ) -> JSON:
        """The cardholder disputes the charge: answers `charge.dispute.created`."""
        with self._lock:
            charge = self._charge_of(charge_or_payment_intent_id)
            now = self._now()
            dispute = {
                "id": new_id("du"),
                "object": "dispute",
                "amount": charge["amount"] if amount is None else amount,
                "balance_transactions": [],
                "charge": charge["id"],
                "created": now,
                "currency": charge["currency"],
                "evidence": {},
                "evidence_details": {
                    "due_by": now + int(timedelta(days=7).total_seconds()),
                    "has_evidence": False,
                    "past_due": False,
                    "submission_count": 0,
                },
                "is_charge_refundable": False,
                "livemode": False,
                "metadata": {},
                "network_reason_code": None,
                "payment_intent": charge["payment_intent"],
                "reason": reason,
                "status": "needs_response",
            }
            self.disputes[dispute["id"]] = dispute
            charge["disputed"] = True
            return self.event("charge.dispute.created", dispute)

    def dispute_closed(self, dispute_id: str, *, status: str = "lost") -> JSON:
        """The dispute is decided (`won`, `lost`): answers `charge.dispute.closed`."""
        with self._lock:
            dispute = self.disputes[dispute_id]
            dispute["status"] = status
            return self.event("charge.dispute.closed", dispute)

    # -- Subscriptions --------------------------------------------------------------------

    def _subscription(self, ident: str) -> JSON:
        subscription = self.subscriptions.get(ident)
        if subscription is None:
            raise LookupError(f"no subscription {ident!r} in the fake")
        return subscription

    def invoice_paid(
        self,
        subscription_id: str,
        *,
        period_start: int | datetime,
        period_end: int | datetime,
        billing_reason: str = "subscription_cycle",
    ) -> JSON:
        """The subscription renews for [period_start, period_end): answers `invoice.paid`."""
        with self._lock:
            subscription = self._subscription(subscription_id)
            period = (_timestamp(period_start), _timestamp(period_end))
            invoice = self._bill(subscription, period, billing_reason, "succeeded")
            subscription["status"] = "active"
            return self.event("invoice.paid", invoice)

    def invoice_payment_failed(
        self,
        subscription_id: str,
        *,
        period_start: int | datetime,
        period_end: int | datetime,
        billing_reason: str = "subscription_cycle",
    ) -> JSON:
        """The renewal's payment is declined: answers `invoice.payment_failed`.

        The period moves on anyway, as Stripe's does, and the subscription turns `past_due`.
        """
        with self._lock:
            subscription = self._subscription(subscription_id)
            period = (_timestamp(period_start), _timestamp(period_end))
            invoice = self._bill(subscription, period, billing_reason, "failed")
            subscription["status"] = "past_due"
            return self.event("invoice.payment_failed", invoice)

    def subscription_updated(self, subscription_id: str, **changes: Any) -> JSON:
        """Change the subscription: answers `customer.subscription.updated`.

        `changes` name the subscription's own fields (`status`, `cancel_at_period_end`,
        `metadata`, ...), and `current_period_start`, `current_period_end`, `quantity` or
        `unit_amount`, which live on its items. `data.previous_attributes` holds the values
        they replaced. Setting `cancel_at_period_end` also sets `cancel_at` and `canceled_at`
        as Stripe does.
        """
        with self._lock:
            subscription = self._subscription(subscription_id)
            previous: JSON = {}
            for name, value in changes.items():
                self._change(subscription, name, value, previous)
            if "cancel_at_period_end" in changes:
                self._schedule_cancel(subscription, previous, changes)
            # Stripe lists only the attributes whose values changed.
            previous = {k: v for k, v in previous.items() if v != subscription[k]}
            return self.event(
                "customer.subscription.updated", subscription, previous_attributes=previous
            )

    def _change(self, subscription: JSON, name: str, value: Any, previous: JSON) -> None:
        items = subscription["items"]["data"]
        if name in ("current_period_start", "current_period_end", "quantity", "unit_amount"):
            previous.setdefault("items", copy.deepcopy(subscription["items"]))
            for item in items:
                if name != "unit_amount":
                    item[name] = _timestamp(value) if name.startswith("current") else value
                    continue
                old = item["price"]
                price = _price(
                    old["currency"], value, old["product"], old["recurring"], self._now()
                )
                item |= {"price": price, "plan": _plan(price)}
            return
        if name not in subscription:
            raise KeyError(f"a subscription has no field {name!r}")
        previous[name] = copy.deepcopy(subscription[name])
        subscription[name] = value

    def _schedule_cancel(self, subscription: JSON, previous: JSON, changes: JSON) -> None:
        for name in ("cancel_at", "canceled_at"):
            previous.setdefault(name, subscription[name])
        if subscription["cancel_at_period_end"]:
            end = subscription["items"]["data"][0]["current_period_end"]
            subscription["cancel_at"] = changes.get("cancel_at", end)
            subscription["canceled_at"] = changes.get("canceled_at", self._now())
        else:
            subscription["cancel_at"] = changes.get("cancel_at")
            subscription["canceled_at"] = changes.get("canceled_at")

    def subscription_deleted(self, subscription_id: str) -> JSON:
        """The subscription ends now: answers `customer.subscription.deleted`."""
        with self._lock:
            subscription = self._subscription(subscription_id)
            now = self._now()
            subscription |= {
                "canceled_at": subscription["canceled_at"] or now,
                "ended_at": now,
                "status": "canceled",
            }
            subscription["cancellation_details"]["reason"] = "cancellation_requested"
            return self.event("customer.subscription.deleted", subscription)

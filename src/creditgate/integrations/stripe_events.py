"""Stripe events, read into plain facts and handed to the engine's provider verbs.

Only what creditgate itself put into Stripe is trusted to name an account or a pack: the
`metadata` of the Checkout Session it opened. The amount granted comes from the catalog;
the event's amount and currency are only compared with it. An event of a type creditgate
does not act on, or one about a payment it did not start, is recorded and answered 2xx,
so Stripe stops sending it.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from creditgate.domain.errors import InvalidInput
from creditgate.domain.events import EventResult, Provider, ProviderEvent, check_event
from creditgate.engine import Engine

Handler = Callable[[Engine, ProviderEvent, Mapping[str, Any]], EventResult]


def _text(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    if isinstance(value, Mapping):
        # An expanded object: Stripe writes the id inside.
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    value = obj.get("metadata")
    return value if isinstance(value, Mapping) else {}


def _checkout_paid(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`checkout.session.completed` and `…async_payment_succeeded`: pay the purchase."""
    meta = _metadata(obj)
    account_id, pack, reference = meta.get("account_id"), meta.get("pack"), _text(obj, "id")
    subscription_ref = _text(obj, "subscription")
    if obj.get("mode") == "subscription" and reference is not None and subscription_ref:
        return engine.complete_plan_checkout(
            event, reference=reference, subscription_ref=subscription_ref
        )
    if obj.get("mode") != "payment" or not isinstance(pack, str) or reference is None:
        return engine.record_event(event, detail="not a pack checkout opened by creditgate")
    if not isinstance(account_id, str):
        return engine.record_event(event, detail="the checkout names no account")
    amount, currency = obj.get("amount_total"), obj.get("currency")
    if type(amount) is not int or not isinstance(currency, str):
        return engine.record_event(event, detail="the checkout carries no amount")
    return engine.complete_checkout(
        event,
        account_id=account_id,
        pack=pack,
        reference=reference,
        amount_minor=amount,
        currency=currency,
        payment_ref=_text(obj, "payment_intent"),
        # "no_payment_required" would be a 100 % discount: creditgate never offers one,
        # so only a paid session grants.
        is_paid=obj.get("payment_status") == "paid",
    )


def _checkout_failed(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`checkout.session.async_payment_failed`: the pending purchase fails."""
    reference = _text(obj, "id")
    if reference is None:
        return engine.record_event(event, detail="the checkout has no id")
    return engine.fail_checkout(event, reference=reference)


def _payment_failed(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`payment_intent.payment_failed`: a top-up counts it; any other is kept for an operator."""
    error = obj.get("last_payment_error")
    message = error.get("message") if isinstance(error, Mapping) else None
    detail = message if isinstance(message, str) else "the payment failed"
    reference = _text(obj, "id")
    if reference is None:
        return engine.record_event(event, detail=detail[:500])
    return engine.fail_payment(event, payment_ref=reference, reason=detail[:200])


def _payment_succeeded(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`payment_intent.succeeded`: a top-up's pack is granted; checkouts grant by their own."""
    reference, amount, currency = _text(obj, "id"), obj.get("amount"), obj.get("currency")
    if reference is None or type(amount) is not int or not isinstance(currency, str):
        return engine.record_event(event, detail="the payment carries no id or amount")
    return engine.confirm_payment(
        event, payment_ref=reference, amount_minor=amount, currency=currency
    )


def _refunded(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`charge.refunded`: take back the refunded share (Stripe sends the total so far)."""
    payment_ref, refunded = _text(obj, "payment_intent"), obj.get("amount_refunded")
    if payment_ref is None or type(refunded) is not int:
        return engine.record_event(event, detail="the charge names no payment or amount")
    return engine.reverse_payment(event, payment_ref=payment_ref, refunded_minor=refunded)


def _disputed(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`charge.dispute.created`: take back what is left of the purchase's credits."""
    payment_ref = _text(obj, "payment_intent")
    if payment_ref is None:
        return engine.record_event(event, detail="the dispute names no payment")
    return engine.reverse_payment(event, payment_ref=payment_ref, is_disputed=True)


def _instant(value: object) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if type(value) is int and value >= 0 else None


def _invoice_subscription(obj: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """The subscription an invoice bills and its metadata, in the API's new and old shapes."""
    parent = obj.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
    if not isinstance(details, Mapping):
        details = obj.get("subscription_details")
    if isinstance(details, Mapping):
        return _text(details, "subscription") or _text(obj, "subscription"), _metadata(details)
    return _text(obj, "subscription"), {}


def _invoice_paid(engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]) -> EventResult:
    """`invoice.paid`: a billing period of a plan subscription is paid; grant its cycles."""
    subscription_ref, meta = _invoice_subscription(obj)
    account_id, plan, interval = meta.get("account_id"), meta.get("plan"), meta.get("interval")
    if subscription_ref is None or not isinstance(plan, str) or not isinstance(account_id, str):
        return engine.record_event(event, detail="not a plan subscription opened by creditgate")
    if obj.get("billing_reason") == "subscription_update":
        return engine.record_event(event, detail="a mid-period change: it pays no new period")
    lines = obj.get("lines")
    data = lines.get("data") if isinstance(lines, Mapping) else None
    period = data[0].get("period") if isinstance(data, list) and data else None
    start = _instant(period.get("start")) if isinstance(period, Mapping) else None
    end = _instant(period.get("end")) if isinstance(period, Mapping) else None
    amount, currency = obj.get("amount_paid"), obj.get("currency")
    if start is None or end is None or type(amount) is not int or not isinstance(currency, str):
        return engine.record_event(event, detail="the invoice carries no period or amount")
    return engine.pay_invoice(
        event,
        account_id=account_id,
        plan=plan,
        interval=interval if isinstance(interval, str) else "month",
        subscription_ref=subscription_ref,
        period_start=start,
        period_end=end,
        amount_minor=amount,
        currency=currency,
    )


def _subscription_updated(
    engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]
) -> EventResult:
    """`customer.subscription.updated`: follow its plan (its metadata), cancellation or end."""
    reference, status = _text(obj, "id"), obj.get("status")
    if reference is None or not isinstance(status, str):
        return engine.record_event(event, detail="the subscription has no id or status")
    meta = _metadata(obj)
    plan, interval = meta.get("plan"), meta.get("interval")
    return engine.update_provider_subscription(
        event,
        subscription_ref=reference,
        status=status,
        cancel_at_period_end=obj.get("cancel_at_period_end") is True,
        plan=plan if isinstance(plan, str) else None,
        interval=interval if isinstance(interval, str) else None,
    )


def _subscription_deleted(
    engine: Engine, event: ProviderEvent, obj: Mapping[str, Any]
) -> EventResult:
    """`customer.subscription.deleted`: it ended; the default plan takes over."""
    reference = _text(obj, "id")
    if reference is None:
        return engine.record_event(event, detail="the subscription has no id")
    return engine.end_provider_subscription(event, subscription_ref=reference)


HANDLERS: dict[str, Handler] = {
    "checkout.session.completed": _checkout_paid,
    "checkout.session.async_payment_succeeded": _checkout_paid,
    "checkout.session.async_payment_failed": _checkout_failed,
    "payment_intent.payment_failed": _payment_failed,
    "payment_intent.succeeded": _payment_succeeded,
    "charge.refunded": _refunded,
    "charge.dispute.created": _disputed,
    "invoice.paid": _invoice_paid,
    "customer.subscription.updated": _subscription_updated,
    "customer.subscription.deleted": _subscription_deleted,
}
"""The event types creditgate acts on; any other is recorded."""


def handle(engine: Engine, data: Mapping[str, Any]) -> EventResult:
    """Apply one verified Stripe event.

    Raises:
        InvalidInput: the event has no usable id, type or object (nothing is claimed).
    """
    event = check_event(Provider.STRIPE, data.get("id"), data.get("type"))
    wrapper = data.get("data")
    obj = wrapper.get("object") if isinstance(wrapper, Mapping) else None
    if not isinstance(obj, Mapping):
        raise InvalidInput(field="data.object", reason="an event carries its object")
    handler = HANDLERS.get(event.type)
    if handler is None:
        return engine.record_event(event, detail="an event type creditgate does not act on")
    try:
        return handler(engine, event, obj)
    except InvalidInput as error:
        # Signed by Stripe, but naming something creditgate cannot read (an account id of
        # another app, say): keep it for an operator rather than have Stripe retry forever.
        return engine.record_event(event, detail=error.detail[:500])

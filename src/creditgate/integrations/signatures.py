"""Webhook signatures, checked on the raw bytes by the providers' own packages.

Stripe signs `t.body` with HMAC-SHA256 (`Stripe-Signature: t=…,v1=…`); Svix, which
delivers Clerk's events, signs `id.t.body` (`svix-id`, `svix-timestamp`, `svix-signature`).
Both compare in constant time. The timestamp must lie within the tolerance on either side
of now, so a captured delivery cannot be replayed later, nor one be made for the future.
Every way a header can be wrong (absent, malformed, undecodable, wrong, stale) is a
`SignatureInvalid`, answered 400: a provider retries a 5xx, and a forged request must
never look like our failure.

The window is judged by the wall clock: the providers sign with real time, whatever the
clock the ledger runs on.
"""

import json
from collections.abc import Mapping
from typing import Any

import stripe
from svix.webhooks import Webhook, WebhookVerificationError

from creditgate.domain.errors import SignatureInvalid, Unavailable
from creditgate.engine.clock import SystemClock

_wall = SystemClock()


def _body_object(body: bytes, provider: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        raise SignatureInvalid(provider=provider, reason="the body is not JSON") from None
    if not isinstance(data, dict):
        raise SignatureInvalid(provider=provider, reason="the body is not a JSON object")
    return data


def _stripe_timestamp(header: str) -> int:
    for item in header.split(","):
        name, _, value = item.partition("=")
        if name.strip() == "t":
            return int(value)
    raise ValueError("no timestamp")


def verify_stripe(
    body: bytes, header: str | None, secret: str | None, *, tolerance_s: int
) -> dict[str, Any]:
    """The event a Stripe delivery carries, once its signature and time are proven.

    Raises:
        Unavailable: no webhook secret is configured (every delivery is refused).
        SignatureInvalid: anything wrong with the signature, its time or the body.
    """
    if not secret:
        raise Unavailable(service="stripe webhooks", reason="no webhook secret is configured")
    if not header:
        raise SignatureInvalid(provider="stripe", reason="the Stripe-Signature header is missing")
    try:
        payload = body.decode("utf-8")
        # tolerance=None: the window is judged below, in both directions.
        stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=None)  # type: ignore[no-untyped-call]
        signed_at = _stripe_timestamp(header)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise SignatureInvalid(provider="stripe", reason=_reason(exc)) from None
    if abs(_wall.now().timestamp() - signed_at) > tolerance_s:
        raise SignatureInvalid(provider="stripe", reason="the timestamp is outside the window")
    return _body_object(body, "stripe")


def verify_svix(
    body: bytes, headers: Mapping[str, str], secret: str | None, *, provider: str
) -> dict[str, Any]:
    """The event a Svix delivery carries, once its signature and time are proven.

    Svix's own window is five minutes either side of now.

    Raises:
        Unavailable: no webhook secret is configured (every delivery is refused).
        SignatureInvalid: anything wrong with the signature, its time or the body.
    """
    if not secret:
        raise Unavailable(service=f"{provider} webhooks", reason="no webhook secret is configured")
    wanted = {
        k: headers[k] for k in ("svix-id", "svix-timestamp", "svix-signature") if k in headers
    }
    try:
        Webhook(secret).verify(body, wanted)
    # The package raises its own error for a wrong signature, and plain ones (binascii,
    # ValueError, UnicodeDecodeError) for a header or body it cannot even read.
    except (WebhookVerificationError, ValueError, TypeError) as exc:
        raise SignatureInvalid(provider=provider, reason=_reason(exc)) from None
    return _body_object(body, provider)


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "the body is not UTF-8"
    if isinstance(exc, stripe.SignatureVerificationError | WebhookVerificationError):
        return str(exc).split("\n")[0][:200] or "no matching signature"
    return "the signature header is malformed"

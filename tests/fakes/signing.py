"""How the providers sign a webhook delivery, computed with their own packages' code.

Stripe signs `<timestamp>.<body>` with HMAC-SHA256 and sends `Stripe-Signature: t=..,v1=..`;
Svix (which delivers Clerk's webhooks) signs `<id>.<timestamp>.<body>` and sends three `svix-*`
headers. Both receivers refuse timestamps more than five minutes from their own clock, the real
one: sign with the real time, not a test's manual clock.

The Clerk bodies are shaped like Clerk's `user.created` and `user.deleted` deliveries: an
envelope (`data`, `object: "event"`, `type`, `timestamp` in milliseconds, `instance_id`)
around the user.
"""

import base64
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any

import stripe
from svix.webhooks import Webhook

JSON = dict[str, Any]

CLERK_INSTANCE_ID = "ins_2fakeClerkInstance0000000000"
_SVIX_SECRET_BYTES = 24


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe sends with `payload`, signed at `timestamp`."""
    signed = f"{timestamp}.{payload.decode()}"
    digest: str = stripe.WebhookSignature._compute_signature(signed, secret)  # type: ignore[no-untyped-call]
    return f"t={timestamp},v1={digest}"


def stripe_delivery(
    event: JSON, secret: str, *, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the POST that delivers `event`, signed now unless told."""
    body = json.dumps(event, indent=2).encode()
    at = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Stripe-Signature": stripe_signature(body, secret, at),
    }
    return body, headers


def svix_secret() -> str:
    """A fresh signing secret in Svix's form: `whsec_<base64 of random bytes>`."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(_SVIX_SECRET_BYTES)).decode()


def svix_headers(secret: str, msg_id: str, timestamp: datetime, body: bytes) -> dict[str, str]:
    """The `svix-id`, `svix-timestamp` and `svix-signature` headers Svix sends with `body`.

    A naive `timestamp` is taken as UTC.
    """
    at = timestamp.replace(tzinfo=UTC) if timestamp.tzinfo is None else timestamp.astimezone(UTC)
    return {
        "svix-id": msg_id,
        "svix-timestamp": str(int(at.timestamp())),
        "svix-signature": Webhook(secret).sign(msg_id, at, body.decode()),
    }


def svix_delivery(
    payload: JSON, secret: str, *, msg_id: str | None = None, timestamp: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of the POST that delivers `payload` through Svix, signed now."""
    body = json.dumps(payload).encode()
    message = msg_id or "msg_" + secrets.token_hex(13)
    at = timestamp or datetime.fromtimestamp(time.time(), UTC)
    return body, {"Content-Type": "application/json", **svix_headers(secret, message, at, body)}


def _clerk_envelope(event_type: str, data: JSON, at_ms: int) -> JSON:
    return {
        "data": data,
        "event_attributes": {
            "http_request": {
                "client_ip": "192.0.2.10",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0",
            }
        },
        "instance_id": CLERK_INSTANCE_ID,
        "object": "event",
        "timestamp": at_ms,
        "type": event_type,
    }


def _clerk_email(email: str, at_ms: int) -> JSON:
    return {
        "created_at": at_ms,
        "email_address": email,
        "id": "idn_" + secrets.token_hex(13),
        "linked_to": [],
        "matches_sso_connection": False,
        "object": "email_address",
        "reserved": False,
        "updated_at": at_ms,
        "verification": {
            "attempts": 1,
            "expire_at": None,
            "status": "verified",
            "strategy": "email_code",
        },
    }


def clerk_user_created(user_id: str, email: str | None = "user@example.com", **extra: Any) -> JSON:
    """Clerk's `user.created` body for a user who signed up with `email` (None: no email).

    `extra` overrides fields of the user (`data`): `first_name`, `public_metadata`,
    `created_at`, ...
    """
    at_ms = int(time.time() * 1000)
    emails = [_clerk_email(email, at_ms)] if email is not None else []
    user: JSON = {
        "backup_code_enabled": False,
        "banned": False,
        "birthday": "",
        "create_organization_enabled": True,
        "created_at": at_ms,
        "delete_self_enabled": True,
        "email_addresses": emails,
        "enterprise_accounts": [],
        "external_accounts": [],
        "external_id": None,
        "first_name": None,
        "gender": "",
        "has_image": False,
        "id": user_id,
        "image_url": "https://img.clerk.com/placeholder",
        "last_active_at": at_ms,
        "last_name": None,
        "last_sign_in_at": None,
        "legal_accepted_at": None,
        "locked": False,
        "lockout_expires_in_seconds": None,
        "mfa_disabled_at": None,
        "mfa_enabled_at": None,
        "object": "user",
        "passkeys": [],
        "password_enabled": True,
        "phone_numbers": [],
        "primary_email_address_id": emails[0]["id"] if emails else None,
        "primary_phone_number_id": None,
        "primary_web3_wallet_id": None,
        "private_metadata": {},
        "profile_image_url": "https://www.gravatar.com/avatar?d=mp",
        "public_metadata": {},
        "saml_accounts": [],
        "totp_enabled": False,
        "two_factor_enabled": False,
        "unsafe_metadata": {},
        "updated_at": at_ms,
        "username": None,
        "verification_attempts_remaining": 100,
        "web3_wallets": [],
    }
    user |= extra
    return _clerk_envelope("user.created", user, at_ms)


def clerk_user_deleted(user_id: str) -> JSON:
    """Clerk's `user.deleted` body: Clerk sends only the deleted user's id."""
    at_ms = int(time.time() * 1000)
    return _clerk_envelope(
        "user.deleted", {"deleted": True, "id": user_id, "object": "user"}, at_ms
    )

"""Outgoing webhooks: the events an app may hear of, its endpoints, and their deliveries.

An event is written to the outbox in the transaction of the change that caused it, so it
exists exactly when the change does. Each endpoint that listens to the event's type when
it is written gets a delivery of it, tried until the endpoint answers 2xx: at least once,
and in order per account (an endpoint never gets an account's next event before the one
before it was delivered). A failed attempt is tried again after `retry_delay`; an endpoint
that has failed without a success for long enough is disabled, and its deliveries wait,
in order, until it is enabled again.

Pure: the schedule and the checks; the worker that sends lives in the integrations.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import AccountId


class EventType(StrEnum):
    """What an endpoint may listen to."""

    BALANCE_LOW = "balance.low"
    """Available credits fell below the account's low-balance line."""
    BALANCE_DEPLETED = "balance.depleted"
    """Available credits fell to zero or below."""
    BALANCE_RECOVERED = "balance.recovered"
    """Available credits rose back over a line; the payload's `level` says where they are."""
    CREDITS_GRANTED = "credits.granted"
    """A lot was granted (by the app, a purchase, a plan cycle, a promo code, a referral)."""
    PURCHASE_COMPLETED = "purchase.completed"
    """A purchase was paid (a pack's credits granted, a plan's checkout completed)."""
    HOLD_EXPIRED = "hold.expired"
    """A hold reached its ttl without being settled or released."""
    SUBSCRIPTION_RENEWED = "subscription.renewed"
    """A subscription's next cycle began and was granted."""
    SUBSCRIPTION_ENDED = "subscription.ended"
    """A subscription ended (cancelled, replaced, or ended by the payment provider)."""


ALL_EVENTS = "*"
"""The event types of an endpoint that listens to every type, now and to come."""

ERROR_LENGTH_MAX = 500
"""Characters of an error kept per attempt in the delivery log."""

URL_LENGTH_MAX = 2048
"""The longest endpoint URL (what browsers and proxies reliably carry)."""

_URL = re.compile(r"^https?://[^\s/?#@]+(?:[/?#][^\s]*)?$", re.IGNORECASE)
"""An absolute http(s) URL with a host; no spaces or credentials in it."""

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret
"""Begins every endpoint's signing secret, as in the Standard Webhooks scheme."""

RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(hours=1)
"""A failed delivery waits 5 s, then twice as long after each failure, at most an hour."""

DISABLE_AFTER_DEFAULT = timedelta(days=5)
"""An endpoint that has failed for this long, without one success, is disabled."""

RETENTION_DEFAULT = timedelta(days=30)
"""Events delivered everywhere are pruned after this long."""

LEASE_DEFAULT = timedelta(seconds=60)
"""How long a worker holds a claimed delivery: another may take it after that."""


class DeliveryStatus(StrEnum):
    """Where a delivery stands."""

    PENDING = "pending"
    """Not delivered yet: due at `next_attempt_at`, unless an earlier one of its account waits."""
    DELIVERED = "delivered"
    """The endpoint answered 2xx."""


def check_url(value: object, *, field: str = "url") -> str:
    """An endpoint's URL: absolute http or https, with a host, at most 2048 characters.

    Raises:
        InvalidInput: anything else.
    """
    if not isinstance(value, str) or not value:
        raise InvalidInput(field=field, reason="must be an http or https URL")
    if len(value) > URL_LENGTH_MAX:
        raise InvalidInput(field=field, reason=f"at most {URL_LENGTH_MAX} characters")
    if not value.isprintable() or not value.isascii() or _URL.match(value) is None:
        raise InvalidInput(field=field, reason="must be an http or https URL with a host")
    return value


def check_event_types(value: object, *, field: str = "event_types") -> tuple[str, ...]:
    """The types an endpoint listens to: known types, sorted, or `("*",)` for every type.

    Raises:
        InvalidInput: not a list of strings, empty, an unknown type, or "*" beside others.
    """
    if isinstance(value, str) or not isinstance(value, list | tuple) or not value:
        raise InvalidInput(field=field, reason='a non-empty list of event types, or ["*"]')
    if not all(isinstance(item, str) for item in value):
        raise InvalidInput(field=field, reason="event types are strings")
    chosen = set(value)
    if ALL_EVENTS in chosen:
        if len(chosen) > 1:
            raise InvalidInput(field=field, reason='"*" listens to every type: give it alone')
        return (ALL_EVENTS,)
    known = {t.value for t in EventType}
    unknown = sorted(chosen - known)
    if unknown:
        allowed = ", ".join(sorted(known))
        raise InvalidInput(field=field, reason=f"unknown {unknown[0]!r}; one of: {allowed}")
    return tuple(sorted(chosen))


def listens(event_types: tuple[str, ...], event_type: EventType) -> bool:
    """Whether an endpoint with these types hears `event_type`."""
    return ALL_EVENTS in event_types or event_type.value in event_types


def retry_delay(failures: int) -> timedelta:
    """How long a delivery waits after its `failures`-th failed attempt in a row.

    Exponential from RETRY_FIRST, doubled per failure, capped at RETRY_MAX: a receiver
    that is down for a minute is retried within seconds of its return, one down for a day
    is asked once an hour. No jitter: the schedule is a pure function, and deliveries of
    different accounts fail at different instants anyway.
    """
    assert failures >= 1
    doublings = min(failures - 1, 30)
    return min(RETRY_FIRST * (1 << doublings), RETRY_MAX)


def is_due_for_disabling(failing_since: datetime, now: datetime, disable_after: timedelta) -> bool:
    """Whether an endpoint failing without a success since `failing_since` is to be disabled."""
    return now - failing_since >= disable_after


def is_success(status_code: int | None) -> bool:
    """Whether an answer delivers: any 2xx (a redirect is not followed, so it fails)."""
    return status_code is not None and 200 <= status_code < 300


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEndpoint:
    """Where the app wants events sent, and which. The signing secret is never shown again."""

    id: int
    url: str
    description: str | None
    event_types: tuple[str, ...]
    """Event type values, sorted, or `("*",)` for every type."""
    is_enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    """When the current run of failed attempts began (None: the last attempt succeeded)."""
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    """One event of the outbox: its id is the `webhook-id` every delivery of it carries."""

    id: str
    type: EventType
    account_id: AccountId
    data: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryAttempt:
    """One try of a delivery: when, what came back (a status or an error), how long it took."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One event for one endpoint, and the log of its attempts (newest first)."""

    id: int
    endpoint_id: int
    event: WebhookEvent
    status: DeliveryStatus
    attempts: tuple[DeliveryAttempt, ...]
    next_attempt_at: datetime | None
    """When the next attempt is due (None once delivered)."""
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DueDelivery:
    """A delivery a worker has claimed: everything needed to send it, and its lease."""

    delivery_id: int
    lease: str
    """The claim's token: recording the attempt needs it, so a late worker records nothing."""
    url: str
    secret: str
    event_id: str
    body: str
    """The JSON sent: `{"type", "timestamp", "data"}`, as the Standard Webhooks payload."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptOutcome:
    """What one attempt to send a delivery came to."""

    status_code: int | None
    """The receiver's HTTP status; None when no answer came (a timeout, a refused connection)."""
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    """How a worker claims and retries: its lease, when to give up on an endpoint."""

    lease: timedelta = LEASE_DEFAULT
    disable_after: timedelta = DISABLE_AFTER_DEFAULT

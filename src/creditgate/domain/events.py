"""Provider events: what a payment or sign-up provider told us, and what came of it.

Every delivery a provider signs (a Stripe event, a Svix message from Clerk) is claimed by
its id in the same transaction as its effect. A provider delivers at least once and
retries whatever did not answer 2xx; the claim makes the effect happen at most once, and
because it commits with the effect, a failure loses neither: the redelivery applies it.
Two events may also carry one business fact (a checkout completed, then its delayed
payment succeeded), so each effect is keyed by its business object as well (the purchase,
the account's welcome): the second event finds the work done and records itself.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from creditgate.domain.errors import InvalidInput
from creditgate.domain.limits import EVENT_ID_LENGTH_MAX


class Provider(StrEnum):
    """Who sends events."""

    STRIPE = "stripe"
    CLERK = "clerk"


class Outcome(StrEnum):
    """What an event did."""

    APPLIED = "applied"
    """It changed something (granted, took back, froze, followed a subscription)."""
    DUPLICATE = "duplicate"
    """Its id was seen before: nothing happened again."""
    NO_CHANGE = "no_change"
    """Another event had already done its work (the business key was taken)."""
    RECORDED = "recorded"
    """It is kept for an operator and changed no balance (a failed payment, an unknown type)."""
    MISMATCH = "mismatch"
    """It claimed a payment that does not match the catalog: nothing was granted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderEvent:
    """A verified delivery: who sent it, its id and its type."""

    provider: Provider
    event_id: str
    type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    """A claimed event, as stored."""

    provider: Provider
    event_id: str
    type: str
    outcome: Outcome
    account_id: str | None
    purchase_id: int | None
    detail: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class EventResult:
    """What handling one delivery did: the answer a webhook route logs and returns."""

    event_id: str
    type: str
    outcome: Outcome
    account_id: str | None = None
    purchase_id: int | None = None
    detail: str | None = None


def check_event(provider: Provider, event_id: object, type_: object) -> ProviderEvent:
    """A provider event's identity from a verified body.

    Raises:
        InvalidInput: an id or type that is not short printable text.
    """
    for field, value in (("id", event_id), ("type", type_)):
        if (
            not isinstance(value, str)
            or not value
            or len(value) > EVENT_ID_LENGTH_MAX
            or not value.isprintable()
        ):
            raise InvalidInput(field=field, reason="must be short printable text")
    assert isinstance(event_id, str)
    assert isinstance(type_, str)
    return ProviderEvent(provider=provider, event_id=event_id, type=type_)

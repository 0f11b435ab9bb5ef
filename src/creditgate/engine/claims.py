"""Provider events claimed once: the one transaction shape every provider verb runs in.

A verb claims the event's id first, in the transaction of its effect: a delivery seen
before answers `duplicate` and changes nothing, and a failure rolls the claim back with the
effect, so the provider's retry applies the event once.
"""

from collections.abc import Callable

from creditgate.domain.errors import InvalidInput
from creditgate.domain.events import EventResult, ProviderEvent
from creditgate.engine import purchases
from creditgate.engine.books import Books, transaction
from creditgate.engine.clock import Clock
from creditgate.storage import packs as rows
from creditgate.storage.database import Database


def claimed(
    db: Database, clock: Clock, event: ProviderEvent, effect: Callable[[Books], EventResult]
) -> EventResult:
    """Run `effect` once per event, in the transaction that claims it."""
    with transaction(db, clock) as books:
        if not rows.claim_event(books.conn, event, books.now):
            return purchases.duplicate(event)
        return effect(books)


def provider_ref(value: object, field: str) -> str:
    """A provider's id of something (a checkout, a payment, a subscription).

    Raises:
        InvalidInput: not short printable text.
    """
    if not isinstance(value, str) or not value or len(value) > 255 or not value.isprintable():
        raise InvalidInput(field=field, reason="must be a provider's id (printable text)")
    return value

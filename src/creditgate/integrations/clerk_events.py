"""Clerk's events (delivered by Svix): a sign-up creates the account, a deletion freezes it.

The account id is Clerk's user id, the id an app using Clerk already has in hand. A deleted
user's account is frozen, not deleted: the ledger is append-only and an auditor still reads
it; its credits can no longer be spent.
"""

from collections.abc import Mapping
from typing import Any

from creditgate.domain.errors import InvalidInput
from creditgate.domain.events import EventResult, Provider, check_event
from creditgate.engine import Engine


def handle(engine: Engine, message_id: str, data: Mapping[str, Any]) -> EventResult:
    """Apply one verified Clerk event, claimed by its Svix message id.

    Raises:
        InvalidInput: the event has no usable id or type (nothing is claimed).
    """
    event = check_event(Provider.CLERK, message_id, data.get("type"))
    user = data.get("data")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    if event.type not in ("user.created", "user.deleted"):
        return engine.record_event(event, detail="an event type creditgate does not act on")
    if not isinstance(user_id, str):
        return engine.record_event(event, detail="the event names no user")
    try:
        if event.type == "user.created":
            return engine.sign_up(event, user_id, metadata={"source": "clerk"})
        return engine.close_account(event, user_id)
    except InvalidInput as error:
        return engine.record_event(event, detail=error.detail[:500])

"""The outbox's write side: an event is written with the change that caused it, or not at all.

`Books.emit` calls here from inside the use case's transaction, so the event commits or
rolls back with its change: a charge refused for want of credits, or any exception after
the emit, leaves no event. An event is written only when some enabled endpoint listens to
its type, with one delivery per such endpoint; which endpoints listen is cached per
catalog revision, so a write that nobody listens to costs no query.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from creditgate.domain.webhooks import EventType, listens
from creditgate.storage import webhook_endpoints as endpoint_rows
from creditgate.storage.accounts import AccountRow
from creditgate.storage.outbox import insert_event
from creditgate.storage.revision_cache import RevisionCache

EVENT_ID_PREFIX = "evt_"


def new_event_id() -> str:
    """A fresh event id: random, so ids of two installations never collide at a receiver."""
    return f"{EVENT_ID_PREFIX}{uuid.uuid4().hex}"


def listening(
    conn: Connection, cache: RevisionCache, row: AccountRow, event_type: EventType
) -> tuple[int, ...]:
    """The enabled endpoints that hear `event_type`, as of the revision read with `row`."""
    found = cache.get(conn, row.catalog_revision, "webhook_listeners", endpoint_rows.listeners)
    return tuple(pk for pk, types in found if listens(types, event_type))


def write(
    conn: Connection,
    cache: RevisionCache,
    row: AccountRow,
    *,
    event_type: EventType,
    data: dict[str, Any],
    now: datetime,
) -> str | None:
    """Write the event for its listeners; its id, or None when nobody listens."""
    endpoint_ids = listening(conn, cache, row, event_type)
    if not endpoint_ids:
        return None
    event_id = new_event_id()
    insert_event(
        conn,
        account_pk=row.pk,
        event_id=event_id,
        event_type=event_type,
        data={"account_id": row.account.id, **data},
        endpoint_ids=endpoint_ids,
        now=now,
    )
    return event_id

"""The outgoing webhooks' half of the `Engine`: endpoints, their deliveries, and the worker's verbs.

The app registers endpoints and reads their delivery logs; a worker (any number of them)
claims due deliveries, sends them outside any transaction, and records each attempt. A
delivery is claimed under a lease, so a worker that dies mid-send leaves it to another
once the lease has passed: delivery is at least once, never lost.
"""

import base64
import secrets
import uuid
from collections.abc import Sequence
from datetime import timedelta

from creditgate.domain.errors import InvalidInput, WebhookDeliveryNotFound, WebhookEndpointNotFound
from creditgate.domain.inputs import check_cursor, check_text
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.results import Page
from creditgate.domain.webhooks import (
    ALL_EVENTS,
    DISABLE_AFTER_DEFAULT,
    ERROR_LENGTH_MAX,
    LEASE_DEFAULT,
    RETENTION_DEFAULT,
    SECRET_PREFIX,
    AttemptOutcome,
    DeliveryStatus,
    DueDelivery,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    check_event_types,
    check_url,
    is_due_for_disabling,
    is_success,
    retry_delay,
)
from creditgate.engine.books import transaction
from creditgate.engine.clock import Clock
from creditgate.storage import outbox as rows
from creditgate.storage import webhook_endpoints as endpoint_rows
from creditgate.storage.database import Database

SECRET_BYTES = 24
"""Random bytes of a signing secret (the Standard Webhooks scheme asks 24 to 64)."""

CLAIM_BATCH_MAX = 500
"""The most deliveries one claim leases."""

PRUNE_BATCH_MAX = 500
"""Events deleted per statement of a prune; a prune deletes at most PRUNE_ROUNDS_MAX of them."""

PRUNE_ROUNDS_MAX = 100


def new_secret() -> str:
    """A fresh signing secret in the scheme's form: `whsec_<base64 of random bytes>`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _id(value: object, field: str) -> int:
    if type(value) is not int or not 0 < value < 2**63:
        raise InvalidInput(field=field, reason="must be a positive integer id")
    return value


def _seconds(value: object, field: str) -> timedelta:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidInput(field=field, reason="must be a positive timedelta")
    return value


class WebhookVerbs:
    """Webhook endpoints and deliveries (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def create_webhook_endpoint(
        self,
        url: str,
        *,
        event_types: Sequence[EventType | str] = (ALL_EVENTS,),
        description: str | None = None,
    ) -> tuple[WebhookEndpoint, str]:
        """Send events of `event_types` (`("*",)`: every type) to `url`, signed.

        The second value is the endpoint's signing secret (`whsec_…`), shown this once:
        the receiver verifies each delivery with it (`svix.webhooks.Webhook(secret)`).
        The endpoint hears the events written from now on.

        Raises:
            InvalidInput: a bad URL, event type or description.
        """
        checked = check_url(url)
        types = check_event_types(event_types)
        text = check_text(description, field="description")
        secret = new_secret()
        with transaction(self.db, self.clock) as books:
            endpoint = endpoint_rows.insert_endpoint(
                books.conn,
                url=checked,
                description=text,
                event_types=types,
                secret=secret,
                now=books.now,
            )
        return endpoint, secret

    def webhook_endpoints(self) -> tuple[WebhookEndpoint, ...]:
        """Every webhook endpoint, oldest first."""
        with self.db.read() as conn:
            return tuple(endpoint_rows.list_endpoints(conn))

    def get_webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint:
        """One webhook endpoint.

        Raises:
            WebhookEndpointNotFound: no endpoint has this id.
        """
        checked = _id(endpoint_id, "endpoint_id")
        with self.db.read() as conn:
            found = endpoint_rows.find_endpoint(conn, checked)
        if found is None:
            raise WebhookEndpointNotFound(checked)
        return found

    def update_webhook_endpoint(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        description: str | None = None,
        event_types: Sequence[EventType | str] | None = None,
        is_enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change an endpoint (None keeps a field); `is_enabled=True` enables it again.

        An endpoint enabled again is tried at once: its waiting deliveries are due now, in
        order, with their backoff started afresh.

        Raises:
            WebhookEndpointNotFound: no endpoint has this id.
            InvalidInput: a bad URL, event type, description or flag.
        """
        checked = _id(endpoint_id, "endpoint_id")
        values: dict[str, object] = {}
        if url is not None:
            values["url"] = check_url(url)
        if description is not None:
            values["description"] = check_text(description, field="description")
        if event_types is not None:
            values["event_types"] = check_event_types(event_types)
        if is_enabled is not None:
            if type(is_enabled) is not bool:
                raise InvalidInput(field="is_enabled", reason="must be true or false")
            values["is_enabled"] = is_enabled
        with transaction(self.db, self.clock) as books:
            found = endpoint_rows.find_endpoint(books.conn, checked, lock=True)
            if found is None:
                raise WebhookEndpointNotFound(checked)
            if is_enabled is True and not found.is_enabled:
                values.update(disabled_reason=None, failing_since=None)
                rows.retry_now(books.conn, checked, books.now)
            elif is_enabled is False and found.is_enabled:
                values["disabled_reason"] = "disabled by the app"
            if values:
                endpoint_rows.change_endpoint(books.conn, checked, values, books.now)
            again = endpoint_rows.find_endpoint(books.conn, checked)
        assert again is not None
        return again

    def delete_webhook_endpoint(self, endpoint_id: int) -> None:
        """Stop sending to an endpoint and forget its deliveries (the events stay).

        Raises:
            WebhookEndpointNotFound: no endpoint has this id.
        """
        checked = _id(endpoint_id, "endpoint_id")
        with transaction(self.db, self.clock) as books:
            if endpoint_rows.find_endpoint(books.conn, checked, lock=True) is None:
                raise WebhookEndpointNotFound(checked)
            endpoint_rows.delete_endpoint(books.conn, checked)

    def rotate_webhook_secret(self, endpoint_id: int) -> str:
        """A new signing secret for the endpoint, shown this once; the old one stops now.

        Deliveries a worker claimed before the rotation may still arrive signed with the
        old secret for the next seconds: a receiver that rotates accepts both briefly.

        Raises:
            WebhookEndpointNotFound: no endpoint has this id.
        """
        checked = _id(endpoint_id, "endpoint_id")
        secret = new_secret()
        with transaction(self.db, self.clock) as books:
            if endpoint_rows.find_endpoint(books.conn, checked, lock=True) is None:
                raise WebhookEndpointNotFound(checked)
            endpoint_rows.change_endpoint(books.conn, checked, {"secret": secret}, books.now)
        return secret

    def webhook_deliveries(
        self, endpoint_id: int, *, limit: int = PAGE_SIZE_DEFAULT, cursor: str | None = None
    ) -> Page[WebhookDelivery]:
        """An endpoint's deliveries, newest first, each with its attempts (the delivery log).

        Raises:
            WebhookEndpointNotFound: no endpoint has this id.
            InvalidInput: a bad limit or cursor.
        """
        checked = _id(endpoint_id, "endpoint_id")
        if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
        before = check_cursor(cursor, listing="webhook_deliveries")
        with self.db.read() as conn:
            if endpoint_rows.find_endpoint(conn, checked) is None:
                raise WebhookEndpointNotFound(checked)
            items = rows.list_deliveries(
                conn, endpoint_id=checked, before_id=before, limit=limit + 1
            )
        next_cursor = str(items[limit - 1].id) if len(items) > limit else None
        return Page(items=tuple(items[:limit]), next_cursor=next_cursor)

    def redeliver_webhook(self, delivery_id: int) -> WebhookDelivery:
        """Send a delivery again, delivered or not: it is due now, with a fresh backoff.

        It keeps its place in its account's order: later events of the account that are
        still pending for the endpoint wait for it.

        Raises:
            WebhookDeliveryNotFound: no delivery has this id.
        """
        checked = _id(delivery_id, "delivery_id")
        with transaction(self.db, self.clock) as books:
            if rows.find_delivery(books.conn, checked, lock=True) is None:
                raise WebhookDeliveryNotFound(checked)
            rows.schedule(books.conn, checked, failures=0, at=books.now)
            return rows.list_deliveries(books.conn, delivery_id=checked)[0]

    # The worker's verbs.

    def claim_webhook_deliveries(
        self, *, limit: int, lease: timedelta = LEASE_DEFAULT
    ) -> tuple[DueDelivery, ...]:
        """Lease up to `limit` due deliveries, at most one per endpoint and account.

        Each is the earliest pending delivery of its endpoint and account, so sending
        what one claim returns, in any order, keeps every account's order. Another worker
        may take a delivery once its lease has passed.
        """
        if type(limit) is not int or not 1 <= limit <= CLAIM_BATCH_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {CLAIM_BATCH_MAX}")
        held = _seconds(lease, "lease")
        with transaction(self.db, self.clock) as books:
            return tuple(
                rows.claim_due(
                    books.conn,
                    books.now,
                    limit=limit,
                    lease=uuid.uuid4().hex,
                    leased_until=books.now + held,
                )
            )

    def record_webhook_attempt(
        self,
        delivery: DueDelivery,
        outcome: AttemptOutcome,
        *,
        disable_after: timedelta = DISABLE_AFTER_DEFAULT,
    ) -> DeliveryStatus | None:
        """Log an attempt; a 2xx delivers, anything else schedules the next try.

        An endpoint that has failed without a success for `disable_after` is disabled.
        The attempt counts only while the worker's lease stands: one whose lease passed
        (another worker took the delivery over) is logged and changes nothing. Returns
        the delivery's status after it, or None when the delivery is gone.
        """
        patience = _seconds(disable_after, "disable_after")
        error = None if outcome.error is None else outcome.error[:ERROR_LENGTH_MAX]
        with transaction(self.db, self.clock) as books:
            conn, now = books.conn, books.now
            found = rows.find_delivery(conn, delivery.delivery_id, lock=True)
            if found is None:
                return None
            rows.insert_attempt(
                conn,
                found,
                at=now,
                status_code=outcome.status_code,
                error=error,
                duration_ms=max(0, outcome.duration_ms),
            )
            if found.lease != delivery.lease or found.status is DeliveryStatus.DELIVERED:
                return found.status
            endpoint = endpoint_rows.find_endpoint(conn, found.endpoint_id)
            assert endpoint is not None, "an endpoint is deleted with its deliveries"
            if is_success(outcome.status_code):
                rows.mark_delivered(conn, found.pk, now)
                if endpoint.failing_since is not None:
                    endpoint_rows.set_failing_since(conn, endpoint.id, None)
                return DeliveryStatus.DELIVERED
            failures = found.failures + 1
            rows.schedule(conn, found.pk, failures=failures, at=now + retry_delay(failures))
            if endpoint.failing_since is None:
                endpoint_rows.set_failing_since(conn, endpoint.id, now)
            elif endpoint.is_enabled and is_due_for_disabling(
                endpoint.failing_since, now, patience
            ):
                reason = f"failed without a success since {endpoint.failing_since.isoformat()}"
                endpoint_rows.change_endpoint(
                    conn, endpoint.id, {"is_enabled": False, "disabled_reason": reason}, now
                )
            return DeliveryStatus.PENDING

    def prune_webhook_events(self, *, older_than: timedelta = RETENTION_DEFAULT) -> int:
        """Delete events older than `older_than` that every endpoint has been delivered.

        An event still pending anywhere is kept, however old. Returns how many were deleted.
        """
        age = _seconds(older_than, "older_than")
        pruned = 0
        for _ in range(PRUNE_ROUNDS_MAX):
            with transaction(self.db, self.clock) as books:
                deleted = rows.prune_delivered(books.conn, books.now - age, PRUNE_BATCH_MAX)
            pruned += deleted
            if deleted < PRUNE_BATCH_MAX:
                break
        return pruned

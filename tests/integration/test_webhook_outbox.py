"""The outbox on real databases: each event is written with its change, or not at all.

Events are read back through the endpoints' delivery logs (no worker sends in these
tests); the outbox's own table is read where a test must see that nothing was written.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from creditgate import (
    Credits,
    Engine,
    InsufficientCredits,
    ManualClock,
    WebhookEndpointNotFound,
)
from creditgate.domain.lots import LotSource
from creditgate.engine import grants
from creditgate.engine.books import transaction
from creditgate.storage.database import Database
from creditgate.storage.tables import outbox_events, webhook_deliveries
from tests.factories import DAY, MINUTE, funded_account

URL = "https://hooks.example.com/creditgate"


def listen(engine: Engine, *types: str) -> int:
    endpoint, _ = engine.create_webhook_endpoint(URL, event_types=types or ("*",))
    return endpoint.id


def logged(engine: Engine, endpoint_id: int) -> list[tuple[str, dict[str, Any]]]:
    """The endpoint's events, oldest first: (type, data)."""
    page = engine.webhook_deliveries(endpoint_id, limit=500)
    return [(d.event.type.value, d.event.data) for d in reversed(page.items)]


def types(engine: Engine, endpoint_id: int) -> list[str]:
    return [t for t, _ in logged(engine, endpoint_id)]


def outbox_size(database: Database) -> tuple[int, int]:
    """How many events and deliveries the outbox holds."""
    with database.read() as conn:
        events = conn.execute(select(func.count()).select_from(outbox_events)).scalar_one()
        deliveries = conn.execute(select(func.count()).select_from(webhook_deliveries))
        return events, deliveries.scalar_one()


def test_grant_writes_credits_granted_with_its_entry(engine: Engine) -> None:
    endpoint = listen(engine, "credits.granted")
    engine.create_account("user_1")

    receipt = engine.grant("user_1", "12.5", source="promo", metadata={"campaign": "spring"})

    (found,) = logged(engine, endpoint)
    assert found == (
        "credits.granted",
        {
            "account_id": "user_1",
            "entry_id": receipt.entry.id,
            "amount": "12.5",
            "source": "promo",
            "expires_at": None,
            "balance_after": "12.5",
            "effective_at": receipt.entry.effective_at.isoformat(),
            "metadata": {"campaign": "spring"},
        },
    )


def test_refused_charge_leaves_no_event(engine: Engine, database: Database) -> None:
    listen(engine)
    funded_account(engine, credits=10)
    engine.set_balance_alert("user_1", low=5)
    before = outbox_size(database)

    with pytest.raises(InsufficientCredits):
        engine.charge("user_1", 11)

    assert outbox_size(database) == before
    assert engine.balance_alert("user_1").level.value == "ok"


def grant_then_fail(engine: Engine, events_expected: int) -> None:
    """A use case that grants (so emits), sees its event written, then raises."""
    with transaction(engine.db, engine.clock) as books:
        row = books.lock("user_1")
        grants.grant(
            books, row, Credits.parse(5), source=LotSource.BONUS, expires_at=None, priority=0,
            metadata={},
        )  # fmt: skip
        written = books.conn.execute(select(func.count()).select_from(outbox_events))
        assert written.scalar_one() == events_expected
        raise RuntimeError("the use case fails after its emit")


def test_exception_after_the_emit_rolls_the_event_back(engine: Engine, database: Database) -> None:
    endpoint = listen(engine)
    engine.create_account("user_1")
    before = outbox_size(database)

    with pytest.raises(RuntimeError):
        grant_then_fail(engine, before[0] + 1)

    assert outbox_size(database) == before
    assert types(engine, endpoint) == []
    assert str(engine.balance("user_1").balance) == "0"


def test_event_nobody_listens_to_is_not_written(engine: Engine, database: Database) -> None:
    listen(engine, "hold.expired")

    funded_account(engine, credits=10)

    assert outbox_size(database) == (0, 0)


def test_each_listening_endpoint_gets_its_own_delivery(engine: Engine) -> None:
    every = listen(engine)
    grants_only = listen(engine, "credits.granted")
    holds_only = listen(engine, "hold.expired")

    funded_account(engine, credits=10)

    assert [types(engine, e) for e in (every, grants_only, holds_only)] == [
        ["credits.granted"],
        ["credits.granted"],
        [],
    ]
    assert logged(engine, every)[0][1] == logged(engine, grants_only)[0][1]


def test_endpoint_hears_only_the_events_written_after_it_was_registered(engine: Engine) -> None:
    funded_account(engine, credits=10)

    endpoint = listen(engine)
    engine.grant("user_1", 1)

    assert [d["amount"] for _, d in logged(engine, endpoint)] == ["1"]


def test_disabled_endpoint_gets_no_new_deliveries(engine: Engine) -> None:
    endpoint = listen(engine)
    engine.update_webhook_endpoint(endpoint, is_enabled=False)

    funded_account(engine, credits=10)

    assert types(engine, endpoint) == []


def test_changing_the_event_types_changes_what_is_written_next(engine: Engine) -> None:
    endpoint = listen(engine, "hold.expired")
    funded_account(engine, credits=10)

    engine.update_webhook_endpoint(endpoint, event_types=["credits.granted"])
    engine.grant("user_1", 2)

    assert [d["amount"] for _, d in logged(engine, endpoint)] == ["2"]


def test_claimed_free_pack_writes_its_grant_then_purchase_completed(engine: Engine) -> None:
    endpoint = listen(engine)
    engine.create_pack("starter", name="Starter", credits=50, price_minor=0, is_free_once=True)
    engine.create_account("user_1")

    purchase = engine.claim_pack("user_1", "starter")

    found = logged(engine, endpoint)
    assert [t for t, _ in found] == ["credits.granted", "purchase.completed"]
    assert found[1][1] == {
        "account_id": "user_1",
        "purchase_id": purchase.id,
        "kind": "pack",
        "pack": "starter",
        "plan": None,
        "provider": "free",
        "reference": purchase.reference,
        "amount_minor": 0,
        "currency": "usd",
        "credits": "50",
    }


def test_hold_past_its_ttl_writes_hold_expired(engine: Engine, clock: ManualClock) -> None:
    endpoint = listen(engine, "hold.expired")
    funded_account(engine, credits=10)
    held = engine.hold("user_1", 4, ttl=MINUTE, metadata={"job": "j1"})
    assert held.hold is not None

    clock.advance(2 * MINUTE)
    engine.expire()

    assert logged(engine, endpoint) == [
        (
            "hold.expired",
            {
                "account_id": "user_1",
                "hold_id": held.hold.id,
                "amount": "4",
                "feature": None,
                "member_id": None,
                "expired_at": (held.hold.expires_at).isoformat(),
            },
        )
    ]


def test_renewal_writes_subscription_renewed_and_cancellation_subscription_ended(
    engine: Engine, clock: ManualClock
) -> None:
    endpoint = listen(engine, "subscription.renewed", "subscription.ended")
    engine.create_plan("basic", name="Basic", credits=100, prices={"month": 900})
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")

    clock.set(datetime(2026, 2, 2, tzinfo=UTC))
    engine.expire()
    engine.cancel_subscription("user_1")
    clock.set(datetime(2026, 3, 2, tzinfo=UTC))
    engine.expire()

    found = logged(engine, endpoint)
    assert [t for t, _ in found] == ["subscription.renewed", "subscription.ended"]
    renewed, ended = found[0][1], found[1][1]
    assert (renewed["plan"], renewed["cycle"], renewed["credits"]) == ("basic", 1, "100")
    assert (ended["plan"], ended["ended_at"]) == ("basic", "2026-03-01T12:00:00+00:00")


def test_events_of_one_account_are_written_in_the_order_of_its_changes(engine: Engine) -> None:
    endpoint = listen(engine, "credits.granted")
    engine.create_account("user_1")

    for amount in range(1, 6):
        engine.grant("user_1", amount)

    assert [d["amount"] for _, d in logged(engine, endpoint)] == ["1", "2", "3", "4", "5"]


def test_deleting_an_endpoint_forgets_its_deliveries_and_keeps_other_endpoints(
    engine: Engine, database: Database
) -> None:
    gone = listen(engine)
    kept = listen(engine)
    funded_account(engine, credits=10)

    engine.delete_webhook_endpoint(gone)

    assert outbox_size(database) == (1, 1)
    assert types(engine, kept) == ["credits.granted"]
    with pytest.raises(WebhookEndpointNotFound):
        engine.webhook_deliveries(gone)


def test_prune_deletes_old_events_only_once_every_endpoint_has_them(
    engine: Engine, database: Database, clock: ManualClock
) -> None:
    listen(engine)
    funded_account(engine, credits=10)
    with database.write() as conn:
        conn.execute(
            webhook_deliveries.update().values(status="delivered", delivered_at=clock.now())
        )
    clock.advance(10 * DAY)
    engine.grant("user_1", 1)

    kept_young = engine.prune_webhook_events(older_than=timedelta(days=30))
    clock.advance(40 * DAY)
    pruned = engine.prune_webhook_events(older_than=timedelta(days=30))

    assert (kept_young, pruned) == (0, 1)
    assert outbox_size(database) == (1, 1)

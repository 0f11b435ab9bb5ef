"""Sending the outbox to a real receiver: retries, order, signatures, workers, disabling.

The receiver is an HTTP server on loopback (`tests.fakes.webhook_receiver`) that verifies
each delivery with Svix's package, as an app would. Time that the engine decides with
(backoff, disabling) is the manual clock's: tests move it past a backoff instead of
sleeping.
"""

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from creditgate import DeliveryStatus, Engine, ManualClock, WebhookDeliveryNotFound
from creditgate.domain.webhooks import DeliveryPolicy
from creditgate.integrations.webhook_delivery import DeliveryRun, deliver_due, new_client, send
from creditgate.storage.database import Database
from tests.factories import funded_account
from tests.fakes.webhook_receiver import Arrival, Receiver

SECOND = timedelta(seconds=1)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with new_client(timeout_s=5.0) as made:
        yield made


def endpoint_for(engine: Engine, receiver: Receiver, *types: str) -> int:
    """Register the receiver for `types` (every type when none); it learns the secret."""
    endpoint, secret = engine.create_webhook_endpoint(receiver.url, event_types=types or ("*",))
    receiver.secret = secret
    return endpoint.id


def grants_of(arrivals: list[Arrival], account_id: str) -> list[str]:
    """The amounts of an account's `credits.granted` events, in arrival order."""
    return [
        a.body["data"]["amount"]
        for a in arrivals
        if a.account_id == account_id and a.type == "credits.granted"
    ]


def test_delivery_is_signed_in_the_standard_webhooks_scheme(
    engine: Engine, receiver: Receiver, client: httpx.Client
) -> None:
    endpoint_for(engine, receiver, "credits.granted")
    funded_account(engine, credits=10)

    run = deliver_due(engine, client=client)

    (arrival,) = receiver.arrivals
    assert run == DeliveryRun(delivered=1, failed=0)
    assert arrival.is_verified
    assert arrival.webhook_id.startswith("evt_")
    assert set(arrival.body) == {"type", "timestamp", "data"}
    assert (arrival.type, arrival.body["data"]["amount"]) == ("credits.granted", "10")
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(arrival.headers)


def test_receiver_refuses_a_delivery_signed_with_another_secret(
    engine: Engine, receiver: Receiver, client: httpx.Client
) -> None:
    endpoint = endpoint_for(engine, receiver, "credits.granted")
    engine.rotate_webhook_secret(endpoint)
    funded_account(engine, credits=10)

    run = deliver_due(engine, client=client)

    assert run == DeliveryRun(delivered=0, failed=1)
    assert [a.is_verified for a in receiver.arrivals] == [False]


def test_failed_delivery_arrives_once_the_receiver_recovers_and_the_backoff_passed(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: ManualClock
) -> None:
    endpoint_for(engine, receiver, "credits.granted")
    receiver.failures_left = 2
    funded_account(engine, credits=10)

    first = deliver_due(engine, client=client)
    early = deliver_due(engine, client=client)
    clock.advance(5 * SECOND)
    second = deliver_due(engine, client=client)
    clock.advance(9 * SECOND)
    too_soon = deliver_due(engine, client=client)
    clock.advance(SECOND)
    third = deliver_due(engine, client=client)

    assert [r.failed for r in (first, early, second, too_soon, third)] == [1, 0, 1, 0, 0]
    assert third.delivered == 1
    assert [a.status for a in receiver.arrivals] == [500, 500, 204]
    assert len({a.webhook_id for a in receiver.arrivals}) == 1
    assert all(a.is_verified for a in receiver.arrivals)


def test_account_order_holds_while_an_earlier_event_is_retried(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: ManualClock
) -> None:
    endpoint_for(engine, receiver, "credits.granted")
    engine.create_account("slow")
    engine.create_account("fast")
    for amount in (1, 2, 3):
        engine.grant("slow", amount)
        engine.grant("fast", amount)
    receiver.refuse = lambda body: body["data"]["account_id"] == "slow"

    deliver_due(engine, client=client)
    clock.advance(5 * SECOND)
    deliver_due(engine, client=client)
    receiver.refuse = None
    clock.advance(10 * SECOND)
    deliver_due(engine, client=client)

    slow_tries = grants_of(receiver.arrivals, "slow")
    assert slow_tries == ["1", "1", "1", "2", "3"]
    assert grants_of(receiver.delivered(), "slow") == ["1", "2", "3"]
    assert grants_of(receiver.delivered(), "fast") == ["1", "2", "3"]
    first_slow_success = next(
        i for i, a in enumerate(receiver.arrivals) if a.account_id == "slow" and a.status == 204
    )
    fast_done = max(i for i, a in enumerate(receiver.arrivals) if a.account_id == "fast")
    assert fast_done < first_slow_success


def test_delivery_log_lists_each_attempt_with_its_answer_and_duration(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: ManualClock
) -> None:
    endpoint = endpoint_for(engine, receiver, "credits.granted")
    receiver.failures_left = 1
    funded_account(engine, credits=10)

    deliver_due(engine, client=client)
    clock.advance(5 * SECOND)
    deliver_due(engine, client=client)

    (delivery,) = engine.webhook_deliveries(endpoint).items
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.delivered_at == clock.now()
    assert [(a.status_code, a.attempted_at) for a in delivery.attempts] == [
        (204, clock.now()),
        (500, clock.now() - 5 * SECOND),
    ]
    assert delivery.attempts[1].error is not None
    assert delivery.attempts[1].error.startswith("HTTP 500")
    assert all(a.duration_ms >= 0 for a in delivery.attempts)


def test_unreachable_endpoint_logs_the_error_without_a_status(
    engine: Engine, client: httpx.Client
) -> None:
    receiver = Receiver()
    with receiver:
        url = receiver.url
    endpoint, _ = engine.create_webhook_endpoint(url, event_types=["credits.granted"])
    funded_account(engine, credits=10)

    run = deliver_due(engine, client=client)

    (delivery,) = engine.webhook_deliveries(endpoint.id).items
    (attempt,) = delivery.attempts
    assert run == DeliveryRun(delivered=0, failed=1)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("ConnectError")
    assert delivery.next_attempt_at == engine.clock.now() + 5 * SECOND


def test_endpoint_failing_for_the_configured_time_is_disabled_until_enabled_again(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: ManualClock
) -> None:
    endpoint = endpoint_for(engine, receiver, "credits.granted")
    receiver.refuse = lambda body: True
    policy = DeliveryPolicy(disable_after=timedelta(hours=2))
    funded_account(engine, credits=10)

    deliver_due(engine, client=client, policy=policy)
    clock.advance(timedelta(hours=1))
    deliver_due(engine, client=client, policy=policy)
    still = engine.get_webhook_endpoint(endpoint)
    clock.advance(timedelta(hours=1))
    deliver_due(engine, client=client, policy=policy)
    disabled = engine.get_webhook_endpoint(endpoint)
    clock.advance(timedelta(hours=5))
    while_disabled = deliver_due(engine, client=client, policy=policy)
    receiver.refuse = None
    enabled = engine.update_webhook_endpoint(endpoint, is_enabled=True)
    after = deliver_due(engine, client=client, policy=policy)

    assert (still.is_enabled, still.failing_since) == (True, clock.now() - timedelta(hours=7))
    assert (disabled.is_enabled, disabled.disabled_reason is not None) == (False, True)
    assert while_disabled == DeliveryRun()
    assert (enabled.is_enabled, enabled.failing_since, enabled.disabled_reason) == (
        True,
        None,
        None,
    )
    assert after == DeliveryRun(delivered=1, failed=0)
    assert len(receiver.arrivals) == 4


def test_success_ends_the_run_of_failures_so_the_endpoint_is_not_disabled(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: ManualClock
) -> None:
    endpoint = endpoint_for(engine, receiver, "credits.granted")
    policy = DeliveryPolicy(disable_after=timedelta(hours=2))
    receiver.failures_left = 1
    funded_account(engine, credits=10)
    deliver_due(engine, client=client, policy=policy)
    clock.advance(timedelta(hours=1))
    deliver_due(engine, client=client, policy=policy)

    clock.advance(timedelta(hours=2))
    receiver.failures_left = 1
    engine.grant("user_1", 1)
    deliver_due(engine, client=client, policy=policy)

    found = engine.get_webhook_endpoint(endpoint)
    assert (found.is_enabled, found.failing_since) == (True, clock.now())


def test_redelivery_sends_a_delivered_event_again_with_the_same_id(
    engine: Engine, receiver: Receiver, client: httpx.Client
) -> None:
    endpoint = endpoint_for(engine, receiver, "credits.granted")
    funded_account(engine, credits=10)
    deliver_due(engine, client=client)
    (delivery,) = engine.webhook_deliveries(endpoint).items

    again = engine.redeliver_webhook(delivery.id)
    run = deliver_due(engine, client=client)

    assert (again.status, again.next_attempt_at) == (DeliveryStatus.PENDING, engine.clock.now())
    assert run.delivered == 1
    assert [a.webhook_id for a in receiver.arrivals] == [delivery.event.id] * 2
    assert len(engine.webhook_deliveries(endpoint).items[0].attempts) == 2


def test_redeliver_raises_not_found_for_an_unknown_delivery(engine: Engine) -> None:
    with pytest.raises(WebhookDeliveryNotFound):
        engine.redeliver_webhook(999_999)


def test_late_worker_whose_lease_passed_records_nothing(
    engine: Engine, receiver: Receiver, client: httpx.Client, clock: ManualClock
) -> None:
    endpoint = endpoint_for(engine, receiver, "credits.granted")
    funded_account(engine, credits=10)
    (stale,) = engine.claim_webhook_deliveries(limit=10, lease=timedelta(seconds=30))
    clock.advance(timedelta(seconds=31))

    taken_over = deliver_due(engine, client=client)
    late = engine.record_webhook_attempt(stale, send(client, stale))

    (delivery,) = engine.webhook_deliveries(endpoint).items
    assert taken_over.delivered == 1
    assert late is DeliveryStatus.DELIVERED
    assert len(delivery.attempts) == 2


BACKLOG_ACCOUNTS = 24
GRANTS_PER_ACCOUNT = 4
BACKLOG = BACKLOG_ACCOUNTS * GRANTS_PER_ACCOUNT
WORKERS_S_MAX = 60.0


def _worker(
    url: str,
    clock: ManualClock,
    receiver: Receiver,
    start: threading.Barrier,
    done: list[int],
) -> None:
    """Deliver until the receiver has the whole backlog (or time is up)."""
    engine = Engine(Database(url), clock=clock, upgrade=False)
    deadline = time.monotonic() + WORKERS_S_MAX
    try:
        with new_client(timeout_s=5.0) as client:
            start.wait()
            while len(receiver.delivered()) < BACKLOG and time.monotonic() < deadline:
                done.append(deliver_due(engine, client=client, limit=50).delivered)
    finally:
        engine.close()


def test_two_workers_deliver_a_backlog_exactly_once_in_account_order(
    db_url: str, engine: Engine, receiver: Receiver
) -> None:
    """Two engines on one database, each in its own thread, empty one backlog together.

    Checked once against a naive claim (select the due rows, then lease them, with no
    row lock and no skip): on PostgreSQL both workers leased the same rows and the
    receiver got duplicates; the locked claim (`FOR UPDATE SKIP LOCKED`) and SQLite's
    `BEGIN IMMEDIATE` give each delivery to one worker.
    """
    endpoint_for(engine, receiver, "credits.granted")
    accounts = [f"user_{n}" for n in range(BACKLOG_ACCOUNTS)]
    for account_id in accounts:
        engine.create_account(account_id)
    for amount in range(1, GRANTS_PER_ACCOUNT + 1):
        for account_id in accounts:
            engine.grant(account_id, amount)
    start = threading.Barrier(2)
    done: list[int] = []
    clock = engine.clock
    assert isinstance(clock, ManualClock)

    workers = [
        threading.Thread(target=_worker, args=(db_url, clock, receiver, start, done))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(WORKERS_S_MAX + 5)

    ids = [a.webhook_id for a in receiver.arrivals]
    assert len(ids) == len(set(ids)) == BACKLOG
    assert sum(done) == BACKLOG
    expected = [str(n) for n in range(1, GRANTS_PER_ACCOUNT + 1)]
    assert all(grants_of(receiver.arrivals, a) == expected for a in accounts)

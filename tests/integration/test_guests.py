"""Guest quotas through the engine, counted in the database and in Redis, on both backends.

Every test runs with each keeper of the counts: the database (embedded mode, or a service
without Redis) and Redis. The windows are driven by the manual clock.
"""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from creditgate import (
    AccountNotFound,
    Credits,
    Engine,
    GuestLinked,
    GuestQuota,
    GuestQuotaExceeded,
    GuestsNotAllowed,
    InvalidInput,
    ManualClock,
    Unavailable,
)
from creditgate.engine import DatabaseCounter
from creditgate.integrations.redis_quota import RedisCounter
from creditgate.storage.database import Database
from tests.conftest import START

IP = "203.0.113.5"
DAY = 86_400


def _quota(uses: int = 3, window_s: int = DAY, feature: str | None = None) -> GuestQuota:
    return GuestQuota(uses=uses, window_s=window_s, feature=feature)


@pytest.fixture(params=["database", "redis"])
def guests(request: pytest.FixtureRequest, database: Database, clock: ManualClock) -> Engine:
    """An engine whose guest counts are kept by the database or by Redis."""
    if request.param == "redis":
        counter: RedisCounter | DatabaseCounter = request.getfixturevalue("redis_counter")
    else:
        counter = DatabaseCounter(database)
    engine = Engine(database, clock=clock, upgrade=False, guest_counter=counter)
    engine.apply_catalog({"guests": [{"uses": 3, "window": "24h"}]})
    return engine


def test_fourth_use_in_a_rolling_day_waits_for_the_first_to_leave(
    guests: Engine, clock: ManualClock
) -> None:
    for _ in range(3):
        guests.consume_guest("sess_1", IP)
        clock.advance(timedelta(hours=1))

    with pytest.raises(GuestQuotaExceeded) as refused:
        guests.consume_guest("sess_1", IP)
    clock.set(START + timedelta(hours=24, milliseconds=1))
    again = guests.consume_guest("sess_1", IP)

    assert (refused.value.retry_after_s, refused.value.reset_at) == (
        21 * 3600,
        START + timedelta(hours=24),
    )
    assert (again.remaining, again.reset_at) == (0, START + timedelta(hours=25))


def test_each_use_answers_what_is_left_and_when_the_window_resets(guests: Engine) -> None:
    answers = [guests.consume_guest("sess_1", IP) for _ in range(3)]

    assert [(a.limit, a.remaining, a.reset_at) for a in answers] == [
        (3, 2, START + timedelta(days=1)),
        (3, 1, START + timedelta(days=1)),
        (3, 0, START + timedelta(days=1)),
    ]


def test_rotating_the_session_on_one_address_stops_at_the_address_limit(guests: Engine) -> None:
    allowed = []
    for n in range(5):
        try:
            guests.consume_guest(f"sess_{n}", IP)
            allowed.append(n)
        except GuestQuotaExceeded:
            pass

    assert allowed == [0, 1, 2]


def test_two_ipv6_addresses_in_one_64_share_a_limit_and_another_64_does_not(
    guests: Engine,
) -> None:
    guests.consume_guest("sess_a", "2001:db8:1:2::1")
    guests.consume_guest("sess_b", "2001:db8:1:2:ffff:ffff:ffff:fffe")
    guests.consume_guest("sess_c", "2001:db8:1:2:abcd::9")

    with pytest.raises(GuestQuotaExceeded):
        guests.consume_guest("sess_d", "2001:db8:1:2::77")
    elsewhere = guests.consume_guest("sess_e", "2001:db8:1:3::1")

    assert elsewhere.remaining == 2


def test_one_session_on_many_addresses_stops_at_the_session_limit(guests: Engine) -> None:
    for n in range(3):
        guests.consume_guest("sess_1", f"198.51.100.{n}")

    with pytest.raises(GuestQuotaExceeded):
        guests.consume_guest("sess_1", "198.51.100.99")


def test_an_ipv4_address_written_as_ipv6_counts_as_the_ipv4_address(guests: Engine) -> None:
    for n in range(3):
        guests.consume_guest(f"sess_{n}", IP)

    with pytest.raises(GuestQuotaExceeded):
        guests.consume_guest("sess_9", f"::ffff:{IP}")


def test_fifty_concurrent_guests_against_a_limit_of_three_admit_exactly_three(
    guests: Engine,
) -> None:
    """Checked once against a naive keeper that reads the windows, then writes the use in a
    second transaction: it admitted 50 of the 50 on SQLite and 46 on PostgreSQL."""
    start = threading.Barrier(50)

    def use(n: int) -> bool:
        start.wait()
        try:
            guests.consume_guest(f"sess_{n}", IP)
        except GuestQuotaExceeded:
            return False
        return True

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(use, range(50)))

    assert sum(results) == 3
    assert guests.guest_status("sess_new", IP).remaining == 0


def test_a_retry_with_the_same_key_counts_once(guests: Engine) -> None:
    first = guests.consume_guest("sess_1", IP, idempotency_key="gen-1")
    retry = guests.consume_guest("sess_1", IP, idempotency_key="gen-1")
    other = guests.consume_guest("sess_1", IP, idempotency_key="gen-2")

    assert (first.remaining, retry.remaining, other.remaining) == (2, 2, 1)


def test_status_counts_nothing(guests: Engine) -> None:
    guests.consume_guest("sess_1", IP)

    looks = [guests.guest_status("sess_1", IP) for _ in range(5)]

    assert {(s.remaining, s.reset_at) for s in looks} == {(2, START + timedelta(days=1))}


def test_status_of_a_new_guest_has_the_whole_quota_and_no_reset(guests: Engine) -> None:
    status = guests.guest_status("sess_new", "198.51.100.1")

    assert (status.limit, status.remaining, status.reset_at) == (3, 3, None)


def test_a_feature_quota_and_the_every_feature_quota_both_count(guests: Engine) -> None:
    guests.apply_catalog(
        {
            "features": [{"key": "video.generate", "name": "Video"}],
            "guests": [
                {"uses": 3, "window": "24h"},
                {"feature": "video.generate", "uses": 1, "window": "24h"},
            ],
        }
    )

    video = guests.consume_guest("sess_1", IP, feature="video.generate")
    with pytest.raises(GuestQuotaExceeded):
        guests.consume_guest("sess_1", IP, feature="video.generate")
    image = guests.consume_guest("sess_1", IP, feature="image.generate")

    assert (video.limit, video.remaining) == (1, 0)
    assert (image.limit, image.remaining) == (3, 1)


def test_a_feature_no_quota_covers_is_not_for_guests(guests: Engine) -> None:
    guests.apply_catalog({"guests": [{"feature": "image.generate", "uses": 3, "window": "1h"}]})

    with pytest.raises(GuestsNotAllowed) as refused:
        guests.consume_guest("sess_1", IP, feature="video.generate")
    with pytest.raises(GuestsNotAllowed):
        guests.consume_guest("sess_1", IP)

    assert refused.value.feature == "video.generate"


@pytest.mark.parametrize(
    ("session_id", "ip", "field"),
    [
        ("", IP, "session_id"),
        ("has space", IP, "session_id"),
        ("x" * 129, IP, "session_id"),
        ("sess_1", "203.0.113", "ip"),
        ("sess_1", "not an address", "ip"),
    ],
)
def test_bad_input_is_refused_and_counts_nothing(
    guests: Engine, session_id: str, ip: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        guests.consume_guest(session_id, ip)

    assert refused.value.field == field
    assert guests.guest_status("sess_1", IP).remaining == 3


def test_the_windows_of_a_day_ago_are_pruned_from_the_database(
    engine: Engine, clock: ManualClock
) -> None:
    engine.apply_catalog({"guests": [{"uses": 3, "window": "1h"}]})
    engine.consume_guest("sess_1", IP)
    engine.consume_guest("sess_2", "198.51.100.1")

    kept = engine.prune_guest_windows()
    clock.advance(timedelta(hours=1))
    pruned = engine.prune_guest_windows()

    assert (kept, pruned) == (0, 4)
    assert engine.guest_status("sess_1", IP).remaining == 3


def test_a_guest_who_signs_up_is_linked_once(guests: Engine, clock: ManualClock) -> None:
    guests.consume_guest("sess_1", IP)
    guests.create_account("user_1")
    clock.advance(timedelta(minutes=5))

    linked = guests.link_guest("sess_1", "user_1")
    again = guests.link_guest("sess_1", "user_1")

    assert linked == again
    assert (linked.account_id, linked.first_seen_at, linked.linked_at) == (
        "user_1",
        START,
        START + timedelta(minutes=5),
    )


def test_a_session_linked_to_one_account_is_refused_to_another(guests: Engine) -> None:
    guests.consume_guest("sess_1", IP)
    guests.create_account("user_1")
    guests.create_account("user_2")
    guests.link_guest("sess_1", "user_1")

    with pytest.raises(GuestLinked):
        guests.link_guest("sess_1", "user_2")

    found = guests.get_guest_session("sess_1")
    assert found is not None
    assert found.account_id == "user_1"


def test_linking_to_an_account_that_does_not_exist_changes_nothing(guests: Engine) -> None:
    guests.consume_guest("sess_1", IP)

    with pytest.raises(AccountNotFound):
        guests.link_guest("sess_1", "nobody")

    found = guests.get_guest_session("sess_1")
    assert found is not None
    assert found.account_id is None


def test_the_first_use_of_a_session_records_it_once(guests: Engine, clock: ManualClock) -> None:
    guests.consume_guest("sess_1", IP)
    clock.advance(timedelta(hours=2))
    guests.consume_guest("sess_1", IP)

    found = guests.get_guest_session("sess_1")

    assert found is not None
    assert found.first_seen_at == START
    assert guests.get_guest_session("sess_never") is None


def _silent_port() -> tuple[socket.socket, int]:
    """A port that accepts connections and never answers: a Redis that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    return listener, listener.getsockname()[1]


@pytest.mark.parametrize("failure", ["refused", "hanging"])
def test_a_redis_that_is_down_refuses_guests_and_never_lets_them_through(
    database: Database, clock: ManualClock, failure: str
) -> None:
    listener, port = _silent_port()
    if failure == "refused":
        listener.close()
    counter = RedisCounter.from_url(f"redis://127.0.0.1:{port}/0", timeout_s=0.2)
    engine = Engine(database, clock=clock, upgrade=False, guest_counter=counter)
    engine.apply_catalog({"guests": [{"uses": 3, "window": "24h"}]})
    try:
        refusals = []
        for n in range(5):
            with pytest.raises(Unavailable) as refused:
                engine.consume_guest(f"sess_{n}", IP)
            refusals.append(refused.value.service)
        with pytest.raises(Unavailable):
            engine.guest_status("sess_1", IP)
        engine.create_account("user_1")
        balance = engine.balance("user_1")
    finally:
        listener.close()
        counter.close()

    assert refusals == ["redis"] * 5
    assert balance.balance == Credits(0)
    assert engine.get_guest_session("sess_1") is None

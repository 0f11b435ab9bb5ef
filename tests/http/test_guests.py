"""Guest routes, client addresses behind proxies, and the throttle on failed API keys."""

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from creditgate import Engine, ManualClock
from creditgate.app import create_app
from creditgate.integrations.redis_quota import RedisCounter
from creditgate.settings import Settings
from tests.conftest import REDIS_URL, START
from tests.http.conftest import LENIENT, PEER, Keys

QUOTA = {"guests": [{"uses": 3, "window": "24h"}]}
PROXY = "10.0.0.2"


@contextmanager
def served(
    engine: Engine, settings: Settings = LENIENT, peer: tuple[str, int] = PEER
) -> Iterator[TestClient]:
    """The app over the engine, called from `peer`."""
    app = create_app(settings, engine=engine)
    with TestClient(app, raise_server_exceptions=False, client=peer) as client:
        yield client


def _consume(
    http: TestClient, keys: Keys, session: str, **headers: str
) -> tuple[int, dict[str, Any]]:
    response = http.post(
        "/v1/guests/consume",
        json={"session_id": session, "feature": "image.generate"},
        headers={**keys.header("write"), **headers},
    )
    return response.status_code, response.json()


def test_consume_answers_what_is_left_then_429_with_retry_after_and_reset(
    http: TestClient, engine: Engine, keys: Keys, clock: ManualClock
) -> None:
    engine.apply_catalog(QUOTA)
    answers = []
    for _ in range(3):
        answers.append(_consume(http, keys, "sess_1"))
        clock.advance(timedelta(hours=1))

    refused = http.post(
        "/v1/guests/consume", json={"session_id": "sess_1"}, headers=keys.header("write")
    )

    assert answers == [
        (200, {"limit": 3, "remaining": left, "reset_at": "2026-01-02T12:00:00Z"})
        for left in (2, 1, 0)
    ]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == str(21 * 3600)
    assert {k: refused.json()[k] for k in ("code", "limit", "retry_after_s", "reset_at")} == {
        "code": "guest_quota_exceeded",
        "limit": 3,
        "retry_after_s": 21 * 3600,
        "reset_at": "2026-01-02T12:00:00Z",
    }


def test_status_answers_the_remaining_uses_and_counts_nothing(
    http: TestClient, engine: Engine, keys: Keys
) -> None:
    engine.apply_catalog(QUOTA)
    _consume(http, keys, "sess_1")

    looks = [
        http.get(
            "/v1/guests/status", params={"session_id": "sess_1"}, headers=keys.header("read")
        ).json()
        for _ in range(3)
    ]

    assert looks == [{"limit": 3, "remaining": 2, "reset_at": "2026-01-02T12:00:00Z"}] * 3


def test_quotas_answers_the_catalogs_guest_quotas(
    http: TestClient, engine: Engine, keys: Keys
) -> None:
    engine.apply_catalog(
        {
            "guests": [
                {"uses": 3, "window": "24h"},
                {"feature": "video.generate", "uses": 1, "window": "7d"},
            ]
        }
    )

    answer = http.get("/v1/guests/quotas", headers=keys.header("read"))

    assert answer.json() == [
        {"feature": None, "uses": 3, "window_s": 86400},
        {"feature": "video.generate", "uses": 1, "window_s": 7 * 86400},
    ]


def test_link_records_the_account_a_guest_became(
    http: TestClient, engine: Engine, keys: Keys
) -> None:
    engine.apply_catalog(QUOTA)
    _consume(http, keys, "sess_1")
    engine.create_account("user_1")

    linked = http.post(
        "/v1/guests/link",
        json={"session_id": "sess_1", "account_id": "user_1"},
        headers=keys.header("write"),
    )
    elsewhere = http.post(
        "/v1/guests/link",
        json={"session_id": "sess_1", "account_id": "user_2"},
        headers=keys.header("write"),
    )

    assert linked.status_code == 200
    assert linked.json() == {
        "session_id": "sess_1",
        "first_seen_at": "2026-01-01T12:00:00Z",
        "account_id": "user_1",
        "linked_at": "2026-01-01T12:00:00Z",
    }
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "account_not_found")


def test_a_feature_without_a_guest_quota_answers_403(
    http: TestClient, engine: Engine, keys: Keys
) -> None:
    status, body = _consume(http, keys, "sess_1")

    assert (status, body["code"]) == (403, "guests_not_allowed")


def test_a_forged_forwarded_for_from_an_untrusted_peer_changes_nothing(
    http: TestClient, engine: Engine, keys: Keys
) -> None:
    engine.apply_catalog(QUOTA)

    answers = [
        _consume(http, keys, f"sess_{n}", **{"X-Forwarded-For": f"198.51.100.{n}"})[0]
        for n in range(5)
    ]

    assert answers == [200, 200, 200, 429, 429]
    assert engine.guest_status("sess_new", PEER[0]).remaining == 0
    assert engine.guest_status("sess_new", "198.51.100.0").remaining == 3


def test_a_trusted_proxy_forwards_each_visitors_own_address(engine: Engine, keys: Keys) -> None:
    engine.apply_catalog(QUOTA)
    settings = Settings(trusted_proxies=(PROXY,), auth_failures_max=1000)

    with served(engine, settings, peer=(PROXY, 40000)) as http:
        answers = [
            _consume(
                http,
                keys,
                f"sess_{n}",
                **{"X-Forwarded-For": f"203.0.113.77, 198.51.100.{n}"},
            )[0]
            for n in range(5)
        ]

    assert answers == [200] * 5
    assert engine.guest_status("sess_new", "198.51.100.4").remaining == 2
    assert engine.guest_status("sess_new", PROXY).remaining == 3


def test_a_chain_of_proxies_is_read_back_to_the_first_untrusted_hop(
    engine: Engine, keys: Keys
) -> None:
    engine.apply_catalog(QUOTA)
    settings = Settings(trusted_proxies=("10.0.0.0/8",), auth_failures_max=1000)

    with served(engine, settings, peer=(PROXY, 40000)) as http:
        status, _ = _consume(
            http, keys, "sess_1", **{"X-Forwarded-For": "1.2.3.4, 198.51.100.8, 10.1.1.1"}
        )

    assert status == 200
    assert engine.guest_status("sess_new", "198.51.100.8").remaining == 2
    assert engine.guest_status("sess_new", "1.2.3.4").remaining == 3


@pytest.mark.parametrize("wildcard", ["*", "0.0.0.0/0", "::/0", "10.0.0.1,*"])
def test_a_wildcard_among_the_trusted_proxies_is_refused_at_start(wildcard: str) -> None:
    with pytest.raises(ValidationError, match="wildcard"):
        Settings(trusted_proxies=wildcard)


def test_a_redis_that_is_down_answers_503_to_guests_and_nothing_else_fails(
    engine: Engine, keys: Keys, database: object, clock: ManualClock
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    counter = RedisCounter.from_url(f"redis://127.0.0.1:{port}/0", timeout_s=0.2)
    down = Engine(engine.db, clock=clock, upgrade=False, guest_counter=counter)
    down.apply_catalog(QUOTA)
    down.create_account("user_1")
    down.grant("user_1", 10)

    with served(down) as http:
        guest = http.post(
            "/v1/guests/consume", json={"session_id": "sess_1"}, headers=keys.header("write")
        )
        look = http.get(
            "/v1/guests/status", params={"session_id": "sess_1"}, headers=keys.header("read")
        )
        balance = http.get("/v1/accounts/user_1/balance", headers=keys.header("read"))
        charge = http.post(
            "/v1/accounts/user_1/charge", json={"amount": "1"}, headers=keys.header("write")
        )
    counter.close()

    assert (guest.status_code, guest.json()["code"], guest.json()["service"]) == (
        503,
        "unavailable",
        "redis",
    )
    assert look.status_code == 503
    assert (balance.status_code, charge.status_code) == (200, 200)


def test_guests_counted_in_redis_through_the_service(
    engine: Engine, keys: Keys, redis_counter: RedisCounter, clock: ManualClock
) -> None:
    counted = Engine(engine.db, clock=clock, upgrade=False, guest_counter=redis_counter)
    counted.apply_catalog(QUOTA)

    with served(counted) as http:
        answers = [_consume(http, keys, f"sess_{n}")[0] for n in range(4)]

    assert answers == [200, 200, 200, 429]


def test_failed_keys_from_one_address_are_throttled_and_other_addresses_are_not(
    engine: Engine, keys: Keys
) -> None:
    settings = Settings(auth_failures_max=3, auth_failures_window_s=60)
    app = create_app(settings, engine=engine)
    bad = {"Authorization": "Bearer cg_0000000000_guessedguessedguessedguessedguessed"}

    with (
        TestClient(app, raise_server_exceptions=False, client=("198.51.100.66", 1)) as guesser,
        TestClient(app, raise_server_exceptions=False, client=("198.51.100.67", 1)) as honest,
    ):
        tries = [guesser.get("/v1/features", headers=bad) for _ in range(5)]
        valid_from_guesser = guesser.get("/v1/features", headers=keys.header("read"))
        valid_elsewhere = [
            honest.get("/v1/features", headers=keys.header("read")).status_code for _ in range(20)
        ]
        one_miss_elsewhere = honest.get("/v1/features", headers=bad)

    assert [t.status_code for t in tries] == [401, 401, 401, 429, 429]
    assert int(tries[3].headers["Retry-After"]) >= 1
    assert valid_from_guesser.status_code == 429
    assert valid_elsewhere == [200] * 20
    assert one_miss_elsewhere.status_code == 401


def test_a_request_without_a_key_is_not_a_failed_attempt(engine: Engine, keys: Keys) -> None:
    settings = Settings(auth_failures_max=2)

    with served(engine, settings) as http:
        bare = [http.get("/v1/features").status_code for _ in range(5)]
        keyed = http.get("/v1/features", headers=keys.header("read"))

    assert bare == [401] * 5
    assert keyed.status_code == 200


def test_the_reset_time_is_the_first_uses_age_plus_the_window(
    http: TestClient, engine: Engine, keys: Keys, clock: ManualClock
) -> None:
    engine.apply_catalog({"guests": [{"uses": 2, "window": "30m"}]})
    _consume(http, keys, "sess_1")
    clock.advance(timedelta(minutes=10))

    _, second = _consume(http, keys, "sess_1")

    assert second["reset_at"] == (START + timedelta(minutes=30)).isoformat().replace("+00:00", "Z")


@contextmanager
def logging_kept() -> Iterator[None]:
    """Put back the loggers a service process configures (an owned app logs JSON lines)."""
    names = ("creditgate", "uvicorn", "uvicorn.error", "uvicorn.access")
    kept = [
        (log, log.handlers[:], log.level, log.propagate, log.disabled)
        for log in map(logging.getLogger, names)
    ]
    try:
        yield
    finally:
        for log, handlers, level, propagate, disabled in kept:
            log.handlers[:] = handlers
            log.setLevel(level)
            log.propagate, log.disabled = propagate, disabled


def test_a_service_given_a_redis_counts_guests_there_under_its_prefix(
    db_url: str, redis_counter: RedisCounter, keys: Keys
) -> None:
    settings = Settings(
        database_url=db_url,
        redis_url=REDIS_URL,
        redis_prefix=redis_counter.prefix,
        auth_failures_max=1000,
    )
    setup = Engine(db_url, upgrade=False)
    setup.apply_catalog(QUOTA)
    setup.close()

    with logging_kept(), TestClient(create_app(settings), client=PEER) as http:
        answers = [_consume(http, keys, "sess_1")[0] for _ in range(4)]

    stored = sorted(k.decode() for k in redis_counter.client.scan_iter(f"{redis_counter.prefix}*"))
    assert answers == [200, 200, 200, 429]
    assert stored == [f"{redis_counter.prefix}*|n|{PEER[0]}", f"{redis_counter.prefix}*|s|sess_1"]

"""Balance alerts on real databases: one event per crossing, never one per charge.

The events are read from the outbox through an endpoint that listens to every type and
that no worker sends to, so each test sees exactly what was written, in order.
"""

import json
from dataclasses import replace
from typing import Any

import pytest

from creditgate import Credits, Engine, InvalidInput, ManualClock
from creditgate.domain.alerts import AlertLevel
from creditgate.storage.catalog import set_setting
from creditgate.storage.database import Database
from tests.factories import MINUTE, counting, funded_account

SILENT_URL = "https://hooks.example.com/creditgate"
"""An endpoint nothing delivers to in these tests: its deliveries are the outbox's log."""


def listen(engine: Engine, *types: str) -> int:
    """An endpoint for the given types (every type when none): its id."""
    endpoint, _ = engine.create_webhook_endpoint(SILENT_URL, event_types=types or ("*",))
    return endpoint.id


def events(engine: Engine, endpoint_id: int, prefix: str = "balance.") -> list[tuple[str, Any]]:
    """The endpoint's events whose type starts with `prefix`, oldest first: (type, level)."""
    page = engine.webhook_deliveries(endpoint_id, limit=500)
    return [
        (d.event.type.value, d.event.data.get("level"))
        for d in reversed(page.items)
        if d.event.type.value.startswith(prefix)
    ]


def set_default_low(database: Database, credits: int | None) -> None:
    """The catalog's default line, as the catalog's `[alerts]` section stores it."""
    value = None if credits is None else json.dumps({"low": str(Credits.parse(credits).units)})
    with database.write() as conn:
        set_setting(conn, "alerts", value)


def test_low_line_crossed_twice_raises_two_low_events_with_a_recovery_between(
    engine: Engine,
) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=30)
    engine.set_balance_alert("user_1", low=10)

    engine.charge("user_1", 21)
    for _ in range(20):
        engine.charge("user_1", "0.25")
    engine.grant("user_1", 20)
    engine.charge("user_1", 15)

    assert events(engine, endpoint) == [
        ("balance.low", "low"),
        ("balance.recovered", "ok"),
        ("balance.low", "low"),
    ]


def test_fall_to_zero_in_one_charge_raises_low_then_depleted(engine: Engine) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=30)
    engine.set_balance_alert("user_1", low=10)

    engine.charge("user_1", 30)

    assert events(engine, endpoint) == [
        ("balance.low", "depleted"),
        ("balance.depleted", "depleted"),
    ]
    assert engine.balance_alert("user_1").level is AlertLevel.DEPLETED


def test_recovery_from_depleted_raises_one_event_naming_the_new_level(engine: Engine) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=10)
    engine.set_balance_alert("user_1", low=10)
    engine.charge("user_1", 10)

    engine.grant("user_1", 5)
    engine.grant("user_1", 50)

    assert events(engine, endpoint)[2:] == [
        ("balance.recovered", "low"),
        ("balance.recovered", "ok"),
    ]


def test_low_event_carries_the_line_and_the_figures(engine: Engine) -> None:
    endpoint = listen(engine, "balance.low")
    funded_account(engine, credits=30)
    engine.set_balance_alert("user_1", low="12.5")

    engine.charge("user_1", "20")

    (delivery,) = engine.webhook_deliveries(endpoint).items
    assert delivery.event.data == {
        "account_id": "user_1",
        "level": "low",
        "previous_level": "ok",
        "low": "12.5",
        "available": "10",
        "balance": "10",
        "held": "0",
    }


def test_hold_counts_against_available_credits(engine: Engine) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=30)
    engine.set_balance_alert("user_1", low=10)

    held = engine.hold("user_1", 25, ttl=MINUTE)
    assert held.hold is not None
    engine.release(held.hold.id)

    assert events(engine, endpoint) == [("balance.low", "low"), ("balance.recovered", "ok")]


def test_catalog_default_line_applies_to_accounts_without_their_own(
    engine: Engine, database: Database
) -> None:
    endpoint = listen(engine)
    funded_account(engine, "user_1", credits=30)
    funded_account(engine, "user_2", credits=30)
    set_default_low(database, 10)
    engine.set_balance_alert("user_2", low=5)

    engine.charge("user_1", 25)
    engine.charge("user_2", 23)

    assert events(engine, endpoint) == [("balance.low", "low")]
    assert engine.balance_alert("user_1").default_low == Credits.parse(10)
    assert engine.balance_alert("user_2").low == Credits.parse(5)


def test_clearing_the_own_line_returns_the_account_to_the_default(
    engine: Engine, database: Database
) -> None:
    funded_account(engine, credits=30)
    set_default_low(database, 40)
    engine.set_balance_alert("user_1", low=5)

    cleared = engine.set_balance_alert("user_1", low=None)

    assert (cleared.low, cleared.default_low, cleared.level) == (
        None,
        Credits.parse(40),
        AlertLevel.LOW,
    )


def test_account_without_any_line_raises_nothing(engine: Engine) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=5)

    engine.charge("user_1", 5)

    assert events(engine, endpoint) == []
    assert engine.balance_alert("user_1").level is AlertLevel.OK


def test_line_set_above_the_balance_is_crossed_at_once(engine: Engine) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=5)

    alert = engine.set_balance_alert("user_1", low=10)

    assert alert.level is AlertLevel.LOW
    assert events(engine, endpoint) == [("balance.low", "low")]


def test_expiry_of_a_lot_crosses_the_line_in_the_expiry_pass(
    engine: Engine, clock: ManualClock
) -> None:
    endpoint = listen(engine)
    engine.create_account("user_1")
    engine.grant("user_1", 20, expires_at=clock.now() + MINUTE)
    engine.set_balance_alert("user_1", low=10)

    clock.advance(2 * MINUTE)
    engine.expire()

    assert events(engine, endpoint) == [
        ("balance.low", "depleted"),
        ("balance.depleted", "depleted"),
    ]


def test_set_balance_alert_refuses_a_line_that_is_not_positive(engine: Engine) -> None:
    funded_account(engine, credits=5)

    with pytest.raises(InvalidInput) as raised:
        engine.set_balance_alert("user_1", low=0)

    assert raised.value.field == "low"
    assert engine.balance_alert("user_1").low is None


@pytest.mark.parametrize("line", ["own", "default", "none"])
def test_charge_that_crosses_nothing_runs_no_more_statements_than_with_no_alerts(
    engine: Engine, database: Database, line: str
) -> None:
    """The level is moved from figures already in memory and the default line is cached
    per catalog revision: an account that crosses nothing costs the charge no query."""
    funded_account(engine, credits=100)
    engine.charge("user_1", 1)
    with counting(database) as before:
        engine.charge("user_1", 1)
    listen(engine, "balance.low")
    if line == "own":
        engine.set_balance_alert("user_1", low=10)
    elif line == "default":
        set_default_low(database, 10)
    engine.charge("user_1", 1)

    with counting(database) as after:
        engine.charge("user_1", 1)

    assert len(after) == len(before)


def test_new_account_starts_at_its_level_without_an_event(
    engine: Engine, database: Database
) -> None:
    endpoint = listen(engine)
    set_default_low(database, 10)

    engine.create_account("user_1")
    engine.grant("user_1", 5)

    assert engine.balance_alert("user_1").level is AlertLevel.LOW
    assert events(engine, endpoint) == [("balance.recovered", "low")]


def test_catalog_alerts_section_sets_the_default_line_for_the_next_write(engine: Engine) -> None:
    endpoint = listen(engine)
    funded_account(engine, credits=20)

    engine.apply_catalog(replace(engine.export_catalog(), low_balance=Credits.parse(10)))
    engine.charge("user_1", 15)

    assert engine.balance_alert("user_1").default_low == Credits.parse(10)
    assert events(engine, endpoint) == [("balance.low", "low")]

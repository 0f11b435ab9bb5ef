"""The same bad input raises an equal `InvalidInput` from the engine and from the client.

The engine judges every input at its edge. Over HTTP, some inputs are judged first by the
wire (query and path parameters, the strict request models), and the service words those
refusals as the engine does: the same field, the same reason. The cases at the end of
`EQUAL` are such inputs.

A refused call changes nothing, so every case runs against one scene, set up once per
module on SQLite (bad input is refused before the database is touched): each case also
checks that both sides' books are still the same afterwards.
"""

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from creditgate import Client, Engine, InvalidInput, Ledger, ManualClock
from creditgate.domain.ids import EntryId, HoldId
from tests.conftest import START
from tests.factories import funded_account
from tests.parity.conftest import API_KEY, Faces, Service

MINUTE = timedelta(minutes=1)
NAIVE = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - the bad input under test
LATER = datetime(2027, 1, 1, tzinfo=UTC)

Act = Callable[[Ledger], object]


EQUAL: dict[str, Act] = {
    "charge_amount_not_a_number": lambda ledger: ledger.charge("user_1", "abc"),
    "charge_amount_zero": lambda ledger: ledger.charge("user_1", 0),
    "charge_amount_too_precise": lambda ledger: ledger.charge("user_1", "0.0001"),
    "charge_amount_a_float": lambda ledger: ledger.charge("user_1", 2.5),  # type: ignore[arg-type]
    "charge_neither_amount_nor_feature": lambda ledger: ledger.charge("user_1"),
    "charge_unknown_token_kind": lambda ledger: ledger.charge(
        "user_1", feature="audio.generate", quantity={"tokens": 5}
    ),
    "charge_metadata_not_json": lambda ledger: ledger.charge(
        "user_1", 1, metadata={"at": object()}
    ),
    "charge_key_too_long": lambda ledger: ledger.charge("user_1", 1, idempotency_key="k" * 201),
    "hold_ttl_zero": lambda ledger: ledger.hold("user_1", 1, ttl=timedelta(0)),
    "hold_ttl_too_long": lambda ledger: ledger.hold("user_1", 1, ttl=timedelta(days=8)),
    "extend_more_zero": lambda ledger: ledger.extend(HoldId(1), "0"),
    "settle_actual_and_quantity": lambda ledger: ledger.settle(HoldId(1), 1, quantity=3),
    "settle_latency_negative": lambda ledger: ledger.settle(HoldId(1), 1, latency_ms=-1),
    "release_failure_empty": lambda ledger: ledger.release(HoldId(1), failure=""),
    "refund_a_grant": lambda ledger: ledger.refund(EntryId(1)),
    "transfer_to_itself": lambda ledger: ledger.transfer("user_1", "user_1", 1),
    "adjust_reason_empty": lambda ledger: ledger.adjust("user_1", 1, reason="", actor="ops"),
    "create_account_floor_above_zero": lambda ledger: ledger.create_account("user_9", floor=1),
    "grant_source_not_grantable": lambda ledger: ledger.grant("user_1", 1, source="adjustment"),
    "grant_expires_at_naive": lambda ledger: ledger.grant("user_1", 1, expires_at=NAIVE),
    "grant_priority_too_low": lambda ledger: ledger.grant("user_1", 1, priority=-(10**7)),
    "update_account_floor_above_zero": lambda ledger: ledger.update_account("user_1", floor=5),
    "get_account_id_empty": lambda ledger: ledger.get_account(""),
    "get_account_id_with_a_newline": lambda ledger: ledger.get_account("user\n1"),
    "history_cursor_not_one": lambda ledger: ledger.history("user_1", cursor="abc"),
    "history_since_naive": lambda ledger: ledger.history("user_1", since=NAIVE),
    "balance_at_naive": lambda ledger: ledger.balance_at("user_1", NAIVE),
    "balance_at_in_the_future": lambda ledger: ledger.balance_at("user_1", LATER),
    "usage_account_id_empty": lambda ledger: ledger.usage(""),
    "quote_quantity_negative": lambda ledger: ledger.quote("audio.generate", quantity=-1),
    "get_feature_key_malformed": lambda ledger: ledger.get_feature("Bad Key!"),
    "create_feature_key_malformed": lambda ledger: ledger.create_feature("Bad Key!", name="x"),
    "set_price_rule_unknown": lambda ledger: ledger.set_price("audio.generate", {"rule": "x"}),
    "prices_at_naive": lambda ledger: ledger.prices("audio.generate", at=NAIVE),
    "set_price_minimum_negative": lambda ledger: ledger.set_price(
        "audio.generate", {"rule": "flat", "credits": "1"}, minimum="-1"
    ),
    "set_price_credits_negative": lambda ledger: ledger.set_price(
        "audio.generate", {"rule": "flat", "credits": "-1"}
    ),
    # Judged by the wire before the engine, in the engine's words:
    "create_account_id_empty": lambda ledger: ledger.create_account(""),
    "create_account_owner_kind_unknown": lambda ledger: ledger.create_account(
        "user_9", owner_kind="robot"
    ),
    "grant_source_unknown": lambda ledger: ledger.grant("user_1", 1, source="gift"),
    "history_limit_zero": lambda ledger: ledger.history("user_1", limit=0),
    "usage_limit_too_large": lambda ledger: ledger.usage(limit=501),
    "holds_limit_zero": lambda ledger: ledger.holds("user_1", limit=0),
    "history_kind_unknown": lambda ledger: ledger.history("user_1", kinds=["gift"]),
    "usage_outcome_unknown": lambda ledger: ledger.usage(outcome="lost"),
    "holds_status_unknown": lambda ledger: ledger.holds("user_1", status="won"),
    "get_hold_id_zero": lambda ledger: ledger.get_hold(HoldId(0)),
    "get_entry_id_negative": lambda ledger: ledger.get_entry(EntryId(-1)),
    "update_account_flag_not_a_bool": lambda ledger: ledger.update_account(
        "user_1",
        is_frozen="yes",  # type: ignore[arg-type]
    ),
}
"""Inputs both faces refuse alike."""

CASES = [pytest.param(act, id=name) for name, act in EQUAL.items()]


def _scene(engine: Engine) -> None:
    engine.seed("media-studio")
    funded_account(engine, "user_1", 100)
    engine.hold("user_1", 5, ttl=MINUTE)


@pytest.fixture(scope="module")
def faces(
    service: Service,
    shared_client: Client,
    sqlite_template: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Faces]:
    """Both faces over one scene for the module: an account, a catalog, a pending hold."""
    folder = tmp_path_factory.mktemp("invalid_input")
    clock = ManualClock(START)
    engines: dict[str, Engine] = {}
    for role in ("embedded", "served"):
        shutil.copyfile(sqlite_template, folder / f"{role}.db")
        engines[role] = Engine(f"sqlite:///{folder / role}.db", clock=clock, upgrade=False)
    engines["served"].create_key("admin", name="parity admin", text=API_KEY)
    service.app.state.engine = engines["served"]
    scene = Faces(
        engine=engines["embedded"],
        served=engines["served"],
        client=shared_client,
        clock=clock,
        base_url=service.url,
        api_key=API_KEY,
    )
    scene.arrange(_scene)
    yield scene
    service.app.state.engine = service.idle
    for engine in engines.values():
        engine.close()


@pytest.mark.parametrize("act", CASES)
def test_call_raises_an_equal_invalid_input_when_the_input_is_bad(faces: Faces, act: Act) -> None:
    embedded, remote = faces.each(act)

    assert embedded == remote
    assert isinstance(remote, InvalidInput)
    assert faces.engine.balance("user_1") == faces.served.balance("user_1")

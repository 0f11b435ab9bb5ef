"""Every bad input gets InvalidInput naming its field, and nothing is written.

The cases share one seeded database per backend: a bad input must leave it exactly as it
was, so sharing is safe, and each case checks that it did. Around each call the test reads
every account's settings and balance, the newest entry of the account most cases aim at,
the organization's members and the pending hold; after it, verify must be clean and count
exactly the accounts and entries that were seeded.
"""

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from creditgate import (
    Engine,
    EntryNotFound,
    HoldNotFound,
    InvalidInput,
    ManualClock,
    OwnerKind,
)
from creditgate.domain.ids import EntryId, HoldId
from tests.conftest import BACKENDS, PG_ADMIN_URL, START
from tests.factories import DAY, MINUTE

ACCOUNTS = ("user_1", "user_2", "org_1", "debtor")
NAIVE = datetime(2026, 6, 1)  # noqa: DTZ001 - the naive datetime is the bad input
HUGE_METADATA = {"p": "x" * 9000}


@dataclass(frozen=True)
class World:
    """The seeded database: ids of the objects the cases aim at."""

    engine: Engine
    hold_id: HoldId
    charge_id: EntryId
    grant_id: EntryId
    accounts: int
    entries: int


@pytest.fixture(scope="module", params=BACKENDS)
def shared_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One fresh migrated database per backend for this module, cloned like conftest's."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path_factory.mktemp("bad_inputs") / "creditgate.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    pg_template: str = request.getfixturevalue("pg_template")
    name = f"cg_bad_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def world(shared_url: str) -> Iterator[World]:
    """Accounts with lots, a charge, a pending hold, an organization and one in overdraft."""
    engine = Engine(shared_url, clock=ManualClock(START), upgrade=False)
    engine.create_account("user_1")
    grant = engine.grant("user_1", 100, source="purchase")
    engine.grant("user_1", 5, source="promo", expires_at=START + 30 * DAY)
    charge = engine.charge("user_1", 5, feature="image.generate")
    hold = engine.hold("user_1", 3, ttl=timedelta(days=7)).hold
    assert hold is not None
    engine.create_account("user_2")
    engine.grant("user_2", 10)
    engine.create_account("org_1", owner_kind=OwnerKind.ORGANIZATION)
    engine.grant("org_1", 10)
    engine.add_member("org_1", "alice", spend_cap=5)
    engine.create_account("debtor", floor=-10)
    engine.charge("debtor", 5)
    seeded = engine.verify()
    assert seeded.is_clean
    yield World(
        engine=engine,
        hold_id=hold.id,
        charge_id=charge.entry.id,
        grant_id=grant.entry.id,
        accounts=seeded.accounts,
        entries=seeded.entries,
    )
    engine.close()


def snapshot(world: World) -> tuple[object, ...]:
    """What a reader can see of the seeded database (verify covers every other entry)."""
    engine = world.engine
    return (
        tuple((engine.get_account(a), engine.balance(a)) for a in ACCOUNTS),
        engine.history("user_1", limit=1).items,
        engine.members("org_1"),
        engine.get_hold(world.hold_id),
    )


def assert_nothing_written(world: World, before: tuple[object, ...]) -> None:
    report = world.engine.verify()
    assert snapshot(world) == before
    assert (report.accounts, report.entries, report.problems) == (
        world.accounts,
        world.entries,
        (),
    )


Call = Callable[[World], object]


def case(name: str, field: str, call: Call) -> Any:
    return pytest.param(field, call, id=name)


AMOUNTS: list[tuple[str, object]] = [
    ("float", 1.5),
    ("float-nan", float("nan")),
    ("float-inf", float("inf")),
    ("text-nan", "NaN"),
    ("text-inf", "Infinity"),
    ("decimal-nan", Decimal("NaN")),
    ("four-decimals", "1.2345"),
    ("zero-int", 0),
    ("negative-text", "-1"),
    ("huge-exponent", "1e20"),
    ("huge-int", 10**13),
    ("huge-with-decimals", "123456789012345678901234567890.1234"),
    ("bool", True),
    ("empty", ""),
]

GRANT_AMOUNTS = [
    case(f"grant-amount-{name}", "amount", lambda w, v=value: w.engine.grant("user_1", v))  # type: ignore[misc]
    for name, value in AMOUNTS
]

CASES = [
    *GRANT_AMOUNTS,
    # grant
    case("grant-source-unknown", "source", lambda w: w.engine.grant("user_1", 1, source="gold")),
    case("grant-source-refund", "source", lambda w: w.engine.grant("user_1", 1, source="refund")),
    case(
        "grant-source-transfer", "source", lambda w: w.engine.grant("user_1", 1, source="transfer")
    ),
    case(
        "grant-source-adjustment",
        "source",
        lambda w: w.engine.grant("user_1", 1, source="adjustment"),
    ),
    case(
        "grant-expires-naive", "expires_at", lambda w: w.engine.grant("user_1", 1, expires_at=NAIVE)
    ),
    case(
        "grant-expires-past",
        "expires_at",
        lambda w: w.engine.grant("user_1", 1, expires_at=START - MINUTE),
    ),
    case(
        "grant-expires-now", "expires_at", lambda w: w.engine.grant("user_1", 1, expires_at=START)
    ),
    case(
        "grant-expires-text",
        "expires_at",
        lambda w: w.engine.grant("user_1", 1, expires_at="2027-01-01T00:00:00Z"),  # type: ignore[arg-type]
    ),
    case("grant-priority-float", "priority", lambda w: w.engine.grant("user_1", 1, priority=1.5)),  # type: ignore[arg-type]
    case("grant-priority-text", "priority", lambda w: w.engine.grant("user_1", 1, priority="1")),  # type: ignore[arg-type]
    case("grant-priority-huge", "priority", lambda w: w.engine.grant("user_1", 1, priority=10**7)),
    case("grant-priority-bool", "priority", lambda w: w.engine.grant("user_1", 1, priority=True)),
    case("grant-metadata-list", "metadata", lambda w: w.engine.grant("user_1", 1, metadata=[1])),  # type: ignore[arg-type]
    case(
        "grant-metadata-int-key",
        "metadata",
        lambda w: w.engine.grant("user_1", 1, metadata={1: "a"}),  # type: ignore[dict-item]
    ),
    case(
        "grant-metadata-nan",
        "metadata",
        lambda w: w.engine.grant("user_1", 1, metadata={"x": float("nan")}),
    ),
    case(
        "grant-metadata-object",
        "metadata",
        lambda w: w.engine.grant("user_1", 1, metadata={"x": object()}),
    ),
    case(
        "grant-metadata-huge",
        "metadata",
        lambda w: w.engine.grant("user_1", 1, metadata=HUGE_METADATA),
    ),
    case(
        "grant-key-empty",
        "idempotency_key",
        lambda w: w.engine.grant("user_1", 1, idempotency_key=""),
    ),
    case(
        "grant-key-too-long",
        "idempotency_key",
        lambda w: w.engine.grant("user_1", 1, idempotency_key="k" * 201),
    ),
    case(
        "grant-key-control",
        "idempotency_key",
        lambda w: w.engine.grant("user_1", 1, idempotency_key="a\nb"),
    ),
    case(
        "grant-key-int",
        "idempotency_key",
        lambda w: w.engine.grant("user_1", 1, idempotency_key=5),  # type: ignore[arg-type]
    ),
    case("grant-account-empty", "account_id", lambda w: w.engine.grant("", 1)),
    case("grant-account-spaces", "account_id", lambda w: w.engine.grant(" user_1", 1)),
    case("grant-account-too-long", "account_id", lambda w: w.engine.grant("u" * 201, 1)),
    case("grant-account-control", "account_id", lambda w: w.engine.grant("user\x001", 1)),
    case("grant-account-int", "account_id", lambda w: w.engine.grant(1, 1)),  # type: ignore[arg-type]
    # charge
    case("charge-amount-float", "amount", lambda w: w.engine.charge("user_1", 0.5)),  # type: ignore[arg-type]
    case("charge-amount-decimals", "amount", lambda w: w.engine.charge("user_1", "0.0005")),
    case("charge-amount-zero", "amount", lambda w: w.engine.charge("user_1", "0.000")),
    case("charge-amount-negative", "amount", lambda w: w.engine.charge("user_1", "-2")),
    case("charge-amount-huge", "amount", lambda w: w.engine.charge("user_1", "1e30")),
    case("charge-member-empty", "member_id", lambda w: w.engine.charge("org_1", 1, member_id="")),
    case(
        "charge-member-too-long",
        "member_id",
        lambda w: w.engine.charge("org_1", 1, member_id="m" * 201),
    ),
    case("charge-feature-empty", "feature", lambda w: w.engine.charge("user_1", 1, feature="")),
    case(
        "charge-feature-too-long",
        "feature",
        lambda w: w.engine.charge("user_1", 1, feature="f" * 501),
    ),
    case("charge-feature-tab", "feature", lambda w: w.engine.charge("user_1", 1, feature="a\tb")),
    case("charge-feature-int", "feature", lambda w: w.engine.charge("user_1", 1, feature=5)),  # type: ignore[arg-type]
    case(
        "charge-metadata-huge",
        "metadata",
        lambda w: w.engine.charge("user_1", 1, metadata=HUGE_METADATA),
    ),
    case(
        "charge-key-too-long",
        "idempotency_key",
        lambda w: w.engine.charge("user_1", 1, idempotency_key="k" * 201),
    ),
    # hold
    case("hold-ttl-zero", "ttl", lambda w: w.engine.hold("user_1", 1, ttl=timedelta(0))),
    case("hold-ttl-negative", "ttl", lambda w: w.engine.hold("user_1", 1, ttl=-MINUTE)),
    case("hold-ttl-too-long", "ttl", lambda w: w.engine.hold("user_1", 1, ttl=timedelta(days=8))),
    case("hold-ttl-int", "ttl", lambda w: w.engine.hold("user_1", 1, ttl=60)),  # type: ignore[arg-type]
    case("hold-ttl-none", "ttl", lambda w: w.engine.hold("user_1", 1, ttl=None)),  # type: ignore[arg-type]
    case("hold-amount-zero", "amount", lambda w: w.engine.hold("user_1", 0, ttl=MINUTE)),
    case("hold-amount-float", "amount", lambda w: w.engine.hold("user_1", 2.0, ttl=MINUTE)),  # type: ignore[arg-type]
    case(
        "hold-feature-empty",
        "feature",
        lambda w: w.engine.hold("user_1", 1, ttl=MINUTE, feature=""),
    ),
    case(
        "hold-member-empty",
        "member_id",
        lambda w: w.engine.hold("org_1", 1, ttl=MINUTE, member_id=" "),
    ),
    # extend
    case("extend-hold-id-text", "hold_id", lambda w: w.engine.extend("1", 1)),  # type: ignore[arg-type]
    case("extend-hold-id-zero", "hold_id", lambda w: w.engine.extend(HoldId(0), 1)),
    case("extend-hold-id-negative", "hold_id", lambda w: w.engine.extend(HoldId(-1), 1)),
    case("extend-hold-id-bool", "hold_id", lambda w: w.engine.extend(True, 1)),  # type: ignore[arg-type]
    case("extend-more-zero", "more", lambda w: w.engine.extend(w.hold_id, 0)),
    case("extend-more-negative", "more", lambda w: w.engine.extend(w.hold_id, "-1")),
    case("extend-more-decimals", "more", lambda w: w.engine.extend(w.hold_id, "1.2345")),
    case("extend-more-float", "more", lambda w: w.engine.extend(w.hold_id, 1.0)),  # type: ignore[arg-type]
    case("extend-ttl-zero", "ttl", lambda w: w.engine.extend(w.hold_id, 1, ttl=timedelta(0))),
    # settle
    case("settle-hold-id-text", "hold_id", lambda w: w.engine.settle("1", 1)),  # type: ignore[arg-type]
    case("settle-actual-negative", "actual", lambda w: w.engine.settle(w.hold_id, "-1")),
    case("settle-actual-decimals", "actual", lambda w: w.engine.settle(w.hold_id, "0.0001")),
    case("settle-actual-float", "actual", lambda w: w.engine.settle(w.hold_id, 1.5)),  # type: ignore[arg-type]
    case("settle-actual-nan", "actual", lambda w: w.engine.settle(w.hold_id, "NaN")),
    case("settle-actual-none", "actual", lambda w: w.engine.settle(w.hold_id, None)),
    case(
        "settle-key-empty",
        "idempotency_key",
        lambda w: w.engine.settle(w.hold_id, 1, idempotency_key=""),
    ),
    # release
    case("release-hold-id-float", "hold_id", lambda w: w.engine.release(1.0)),  # type: ignore[arg-type]
    case(
        "release-key-too-long",
        "idempotency_key",
        lambda w: w.engine.release(w.hold_id, idempotency_key="k" * 201),
    ),
    # refund
    case("refund-entry-id-zero", "entry_id", lambda w: w.engine.refund(EntryId(0))),
    case("refund-entry-id-text", "entry_id", lambda w: w.engine.refund("5")),  # type: ignore[arg-type]
    case("refund-entry-id-bool", "entry_id", lambda w: w.engine.refund(True)),  # type: ignore[arg-type]
    case("refund-of-a-grant", "entry_id", lambda w: w.engine.refund(w.grant_id)),
    case("refund-amount-zero", "amount", lambda w: w.engine.refund(w.charge_id, 0)),
    case("refund-amount-negative", "amount", lambda w: w.engine.refund(w.charge_id, "-1")),
    case("refund-amount-float", "amount", lambda w: w.engine.refund(w.charge_id, 1.0)),  # type: ignore[arg-type]
    case("refund-amount-above-charge", "amount", lambda w: w.engine.refund(w.charge_id, "5.001")),
    case("refund-reason-empty", "reason", lambda w: w.engine.refund(w.charge_id, 1, reason="")),
    case(
        "refund-reason-too-long",
        "reason",
        lambda w: w.engine.refund(w.charge_id, 1, reason="r" * 501),
    ),
    # transfer
    case(
        "transfer-same-account", "to_account_id", lambda w: w.engine.transfer("user_1", "user_1", 1)
    ),
    case("transfer-from-empty", "from_account_id", lambda w: w.engine.transfer("", "user_2", 1)),
    case("transfer-to-empty", "to_account_id", lambda w: w.engine.transfer("user_1", "", 1)),
    case("transfer-amount-zero", "amount", lambda w: w.engine.transfer("user_1", "user_2", 0)),
    case("transfer-amount-float", "amount", lambda w: w.engine.transfer("user_1", "user_2", 0.1)),  # type: ignore[arg-type]
    case(
        "transfer-amount-decimals",
        "amount",
        lambda w: w.engine.transfer("user_1", "user_2", "0.0001"),
    ),
    case(
        "transfer-metadata-huge",
        "metadata",
        lambda w: w.engine.transfer("user_1", "user_2", 1, metadata=HUGE_METADATA),
    ),
    # adjust
    case(
        "adjust-amount-zero",
        "amount",
        lambda w: w.engine.adjust("user_1", 0, reason="r", actor="a"),
    ),
    case(
        "adjust-amount-decimals",
        "amount",
        lambda w: w.engine.adjust("user_1", "-1.2345", reason="r", actor="a"),
    ),
    case(
        "adjust-amount-float",
        "amount",
        lambda w: w.engine.adjust("user_1", -1.0, reason="r", actor="a"),  # type: ignore[arg-type]
    ),
    case(
        "adjust-reason-empty",
        "reason",
        lambda w: w.engine.adjust("user_1", 1, reason="", actor="a"),
    ),
    case(
        "adjust-reason-none",
        "reason",
        lambda w: w.engine.adjust("user_1", 1, reason=None, actor="a"),  # type: ignore[arg-type]
    ),
    case(
        "adjust-actor-empty", "actor", lambda w: w.engine.adjust("user_1", 1, reason="r", actor="")
    ),
    case(
        "adjust-actor-too-long",
        "actor",
        lambda w: w.engine.adjust("user_1", 1, reason="r", actor="a" * 501),
    ),
    # accounts
    case("create-account-empty", "account_id", lambda w: w.engine.create_account("")),
    case(
        "create-owner-kind-unknown",
        "owner_kind",
        lambda w: w.engine.create_account("new_1", owner_kind="robot"),
    ),
    case("create-floor-positive", "floor", lambda w: w.engine.create_account("new_1", floor="5")),
    case("create-floor-float", "floor", lambda w: w.engine.create_account("new_1", floor=-1.5)),  # type: ignore[arg-type]
    case(
        "create-floor-decimals",
        "floor",
        lambda w: w.engine.create_account("new_1", floor="-0.0001"),
    ),
    case(
        "create-metadata-huge",
        "metadata",
        lambda w: w.engine.create_account("new_1", metadata=HUGE_METADATA),
    ),
    case("update-floor-positive", "floor", lambda w: w.engine.update_account("user_1", floor=1)),
    case(
        "update-floor-above-balance", "floor", lambda w: w.engine.update_account("debtor", floor=-2)
    ),
    case(
        "update-metadata-list",
        "metadata",
        lambda w: w.engine.update_account("user_1", metadata=[]),  # type: ignore[arg-type]
    ),
    case(
        "update-is-frozen-text",
        "is_frozen",
        lambda w: w.engine.update_account("user_1", is_frozen="yes"),  # type: ignore[arg-type]
    ),
    case(
        "update-is-unlimited-text",
        "is_unlimited",
        lambda w: w.engine.update_account("user_1", is_unlimited="no"),  # type: ignore[arg-type]
    ),
    case("add-member-id-empty", "member_id", lambda w: w.engine.add_member("org_1", "")),
    case(
        "add-member-cap-negative",
        "spend_cap",
        lambda w: w.engine.add_member("org_1", "bob", spend_cap="-1"),
    ),
    case(
        "add-member-cap-float",
        "spend_cap",
        lambda w: w.engine.add_member("org_1", "bob", spend_cap=2.5),  # type: ignore[arg-type]
    ),
    case("add-member-to-user", "account_id", lambda w: w.engine.add_member("user_1", "bob")),
    case("remove-member-id-empty", "member_id", lambda w: w.engine.remove_member("org_1", "")),
    # reads
    case("history-limit-zero", "limit", lambda w: w.engine.history("user_1", limit=0)),
    case("history-limit-too-big", "limit", lambda w: w.engine.history("user_1", limit=501)),
    case("history-limit-text", "limit", lambda w: w.engine.history("user_1", limit="10")),  # type: ignore[arg-type]
    case("history-limit-bool", "limit", lambda w: w.engine.history("user_1", limit=True)),
    case("history-cursor-text", "cursor", lambda w: w.engine.history("user_1", cursor="abc")),
    case("history-cursor-zero", "cursor", lambda w: w.engine.history("user_1", cursor="0")),
    case("history-cursor-negative", "cursor", lambda w: w.engine.history("user_1", cursor="-1")),
    case("history-cursor-huge", "cursor", lambda w: w.engine.history("user_1", cursor="9" * 20)),
    case("history-cursor-int", "cursor", lambda w: w.engine.history("user_1", cursor=5)),  # type: ignore[arg-type]
    case("history-kind-unknown", "kinds", lambda w: w.engine.history("user_1", kinds=["bogus"])),
    case("history-since-naive", "since", lambda w: w.engine.history("user_1", since=NAIVE)),
    case("history-until-naive", "until", lambda w: w.engine.history("user_1", until=NAIVE)),
    case("history-feature-empty", "feature", lambda w: w.engine.history("user_1", feature="")),
    case("balance-at-naive", "at", lambda w: w.engine.balance_at("user_1", NAIVE)),
    case("balance-at-future", "at", lambda w: w.engine.balance_at("user_1", START + DAY)),
    case("balance-at-text", "at", lambda w: w.engine.balance_at("user_1", "2026-01-01")),  # type: ignore[arg-type]
    case("get-hold-id-text", "hold_id", lambda w: w.engine.get_hold("1")),  # type: ignore[arg-type]
    case("get-entry-id-zero", "entry_id", lambda w: w.engine.get_entry(EntryId(0))),
]


@pytest.mark.parametrize(("field", "call"), CASES)
def test_bad_input_raises_invalid_input_naming_the_field_and_writes_nothing(
    world: World, field: str, call: Call
) -> None:
    before = snapshot(world)

    with pytest.raises(InvalidInput) as raised:
        call(world)

    assert raised.value.field == field
    assert_nothing_written(world, before)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(
            lambda w: w.engine.settle(HoldId(10**9), 1), HoldNotFound, id="settle-unknown"
        ),
        pytest.param(
            lambda w: w.engine.get_entry(EntryId(10**9)), EntryNotFound, id="entry-unknown"
        ),
    ],
)
def test_unknown_id_raises_not_found_and_writes_nothing(
    world: World, call: Call, error: type[Exception]
) -> None:
    before = snapshot(world)

    with pytest.raises(error):
        call(world)

    assert_nothing_written(world, before)

"""Renewals: every cycle granted once, dated at its boundary, whoever runs it and whenever.

A renewal runs under the account's lock: on the account's next operation or read (so no
balance lags a boundary) and in the scheduler's pass (`Engine.expire`). These tests drive
a simulated year through a manual clock, race two workers over the same due period, stop
the worker for months and compare with one that never stopped, and hold cycle credits
across a boundary.
"""

import shutil
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from creditgate import (
    Credits,
    Engine,
    Entry,
    EntryKind,
    ExpirePass,
    Interval,
    ManualClock,
)
from creditgate.domain.ids import HoldId
from creditgate.domain.limits import PAGE_SIZE_MAX
from creditgate.storage.tables import accounts, lots, plan_cycles
from tests.conftest import PG_ADMIN_URL, START
from tests.factories import DAY, MINUTE

HOUR = timedelta(hours=1)
RACING_WORKERS = 2
RACED_ACCOUNTS = 80
RACED_PERIODS = 2

Ledger = Counter[tuple[EntryKind, str | None, datetime, Credits]]


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def noon(year: int, month: int, day: int) -> datetime:
    """A date at the time of day the test clock starts (and the subscriptions anchor)."""
    return datetime(year, month, day, START.hour, tzinfo=UTC)


FEB_1, MAR_1, APR_1 = noon(2026, 2, 1), noon(2026, 3, 1), noon(2026, 4, 1)


def entries(engine: Engine, account_id: str) -> list[Entry]:
    """Every entry of the account, oldest first."""
    found: list[Entry] = []
    cursor = None
    while True:
        page = engine.history(account_id, limit=PAGE_SIZE_MAX, cursor=cursor)
        found.extend(page.items)
        if page.next_cursor is None:
            return found[::-1]
        cursor = page.next_cursor


def ledger(engine: Engine, account_id: str) -> Ledger:
    """The account's entries as a multiset of (kind, source, effective_at, amount)."""
    return Counter(
        (e.kind, e.source, e.effective_at, e.amount) for e in entries(engine, account_id)
    )


def cycle_entries(engine: Engine, account_id: str, kind: EntryKind) -> Ledger:
    """The plan-cycle grants or expiries of the account, as a multiset."""
    return Counter(
        {key: n for key, n in ledger(engine, account_id).items() if key[:2] == (kind, "plan_cycle")}
    )


def lot_states(engine: Engine, account_id: str) -> Counter[tuple[Any, ...]]:
    """The account's lots as a multiset of what they are, whenever they were written."""
    stmt = (
        select(
            lots.c.source,
            lots.c.amount,
            lots.c.remaining,
            lots.c.held,
            lots.c.priority,
            lots.c.expires_at,
            lots.c.metadata,
        )
        .join(accounts, accounts.c.id == lots.c.account_id)
        .where(accounts.c.external_id == account_id)
    )
    with engine.db.read() as conn:
        return Counter(
            (
                r.source,
                r.amount,
                r.remaining,
                r.held,
                r.priority,
                r.expires_at,
                tuple(sorted(r.metadata.items())),
            )
            for r in conn.execute(stmt)
        )


def cycles_claimed(engine: Engine) -> dict[str, int]:
    """How many cycles each account's subscriptions claimed, by account id."""
    stmt = (
        select(accounts.c.external_id, func.count())
        .join(plan_cycles, plan_cycles.c.account_id == accounts.c.id)
        .group_by(accounts.c.external_id)
    )
    with engine.db.read() as conn:
        return {row[0]: row[1] for row in conn.execute(stmt)}


def year_plans(engine: Engine) -> None:
    """Free (the default, no rollover), Basic (capped at 30) and Pro (full rollover)."""
    engine.create_plan("free", name="Free", credits=10, is_default=True)
    engine.create_plan(
        "basic",
        name="Basic",
        credits=100,
        prices={"month": 900, "year": 9000},
        rollover="capped",
        rollover_cap=30,
    )
    engine.create_plan(
        "pro", name="Pro", credits=300, prices={"month": 2500, "year": 25000}, rollover="full"
    )


# A year of two subscribers, every day at noon: the day's events, then the worker's pass.
# "monthly" is billed monthly from Jan 1; "yearly" yearly from Jan 31 (its boundaries
# clamp: Feb 28, Mar 31, Apr 30, ...). Both start on Free when their account is made.

YEAR_EVENTS: dict[datetime, list[Callable[[Engine], object]]] = {
    noon(2026, 1, 1): [lambda e: e.subscribe("monthly", "basic")],
    noon(2026, 1, 15): [lambda e: e.charge("monthly", 40)],
    noon(2026, 1, 31): [lambda e: e.subscribe("yearly", "basic", interval="year")],
    noon(2026, 2, 10): [lambda e: e.charge("monthly", 20)],
    noon(2026, 2, 20): [lambda e: e.subscribe("monthly", "pro")],
    noon(2026, 3, 5): [lambda e: e.charge("monthly", 500)],
    noon(2026, 3, 10): [lambda e: e.charge("yearly", 120)],
    noon(2026, 3, 20): [lambda e: e.subscribe("monthly", "basic")],
    noon(2026, 5, 10): [lambda e: e.cancel_subscription("monthly")],
    noon(2026, 5, 15): [lambda e: e.subscribe("yearly", "pro", interval="year")],
    noon(2026, 6, 10): [lambda e: e.charge("yearly", 600)],
    noon(2026, 7, 20): [lambda e: e.cancel_subscription("yearly")],
    noon(2026, 8, 5): [lambda e: e.resume_subscription("yearly")],
    noon(2026, 8, 10): [lambda e: e.subscribe("yearly", "basic", interval="year")],
}
YEAR_END = noon(2027, 2, 15)

# The monthly subscriber, by hand. Jan 1: Free's 10 and Basic's 100 (Free's lot stays to
# its own end). Jan 15: 40 spent, Free's lot first (same expiry, older id): Basic keeps 70.
# Feb 1: 70 left, capped: 30 carried + 100. Feb 10: 20 spent from the carried lot.
# Feb 20: upgrade to Pro, same interval: 300 - 100 = 200 now, ending Mar 1. Mar 1: Pro's
# full rollover carries 10 + 100 + 200 = 310, + 300. Mar 5: 500 spent (310 + 190). Mar 20:
# downgrade to Basic, for Apr 1. Apr 1: Pro (the ending plan) carries all 110, Basic
# grants 100. May 1: Basic carries 30 of 210, + 100. May 10: cancelled. Jun 1: the
# subscription ends, nothing carried; Free starts: 10 a month, none carried.
MONTHLY_GRANTS = [
    (noon(2026, 1, 1), 10),
    (noon(2026, 1, 1), 100),
    (noon(2026, 2, 1), 30),
    (noon(2026, 2, 1), 100),
    (noon(2026, 2, 20), 200),
    (noon(2026, 3, 1), 310),
    (noon(2026, 3, 1), 300),
    (noon(2026, 4, 1), 110),
    (noon(2026, 4, 1), 100),
    (noon(2026, 5, 1), 30),
    (noon(2026, 5, 1), 100),
    *[(noon(2026 + month // 12, month % 12 + 1, 1), 10) for month in range(5, 14)],
]
MONTHLY_EXPIRIES = [
    (noon(2026, 2, 1), 70),
    (noon(2026, 3, 1), 10),
    (noon(2026, 3, 1), 100),
    (noon(2026, 3, 1), 200),
    (noon(2026, 4, 1), 110),
    (noon(2026, 5, 1), 110),
    (noon(2026, 5, 1), 100),
    (noon(2026, 6, 1), 30),
    (noon(2026, 6, 1), 100),
    *[(noon(2026 + month // 12, month % 12 + 1, 1), 10) for month in range(6, 14)],
]
MONTHLY_BALANCES = {
    noon(2026, 1, 1): 110,
    noon(2026, 1, 15): 70,
    noon(2026, 1, 31): 70,
    noon(2026, 2, 1): 130,
    noon(2026, 2, 10): 110,
    noon(2026, 2, 20): 310,
    noon(2026, 2, 28): 310,
    noon(2026, 3, 1): 610,
    noon(2026, 3, 5): 110,
    noon(2026, 3, 20): 110,
    noon(2026, 4, 1): 210,
    noon(2026, 5, 1): 130,
    noon(2026, 5, 10): 130,
    noon(2026, 5, 31): 130,
    noon(2026, 6, 1): 10,
    noon(2026, 7, 1): 10,
    noon(2026, 12, 15): 10,
    noon(2027, 1, 1): 10,
    noon(2027, 2, 15): 10,
}

# The yearly subscriber, by hand. Jan 31: Basic yearly, cycles of one month: 100 (Free's
# 10 ends Feb 1). Feb 28: capped, 30 + 100. Mar 10: 120 spent (30 carried + 90): 10 left.
# Mar 31: 10 carried + 100. Apr 30: 30 of 110 + 100. May 15: upgrade to Pro yearly, same
# interval: 200 now, ending May 31. May 31: Pro's full rollover carries 330, + 300.
# Jun 10: 600 spent (330 + 270). Jun 30: 30 + 300; then all of it carries each month.
# Jul 20 cancelled, Aug 5 resumed, Aug 10 downgrade to Basic for the year's end: Jan 31
# 2027 carries Pro's 2,130 (the ending plan's rule) and Basic grants 100.
YEARLY_GRANTS = [
    (noon(2026, 1, 1), 10),
    (noon(2026, 1, 31), 100),
    (noon(2026, 2, 28), 30),
    (noon(2026, 2, 28), 100),
    (noon(2026, 3, 31), 10),
    (noon(2026, 3, 31), 100),
    (noon(2026, 4, 30), 30),
    (noon(2026, 4, 30), 100),
    (noon(2026, 5, 15), 200),
    (noon(2026, 5, 31), 330),
    (noon(2026, 5, 31), 300),
    (noon(2026, 6, 30), 30),
    (noon(2026, 6, 30), 300),
    (noon(2026, 7, 31), 330),
    (noon(2026, 7, 31), 300),
    (noon(2026, 8, 31), 630),
    (noon(2026, 8, 31), 300),
    (noon(2026, 9, 30), 930),
    (noon(2026, 9, 30), 300),
    (noon(2026, 10, 31), 1230),
    (noon(2026, 10, 31), 300),
    (noon(2026, 11, 30), 1530),
    (noon(2026, 11, 30), 300),
    (noon(2026, 12, 31), 1830),
    (noon(2026, 12, 31), 300),
    (noon(2027, 1, 31), 2130),
    (noon(2027, 1, 31), 100),
]
YEARLY_EXPIRIES = [
    (noon(2026, 2, 1), 10),
    (noon(2026, 2, 28), 100),
    (noon(2026, 3, 31), 10),
    (noon(2026, 4, 30), 10),
    (noon(2026, 4, 30), 100),
    (noon(2026, 5, 31), 30),
    (noon(2026, 5, 31), 100),
    (noon(2026, 5, 31), 200),
    (noon(2026, 6, 30), 30),
    (noon(2026, 7, 31), 30),
    (noon(2026, 7, 31), 300),
    (noon(2026, 8, 31), 330),
    (noon(2026, 8, 31), 300),
    (noon(2026, 9, 30), 630),
    (noon(2026, 9, 30), 300),
    (noon(2026, 10, 31), 930),
    (noon(2026, 10, 31), 300),
    (noon(2026, 11, 30), 1230),
    (noon(2026, 11, 30), 300),
    (noon(2026, 12, 31), 1530),
    (noon(2026, 12, 31), 300),
    (noon(2027, 1, 31), 1830),
    (noon(2027, 1, 31), 300),
]
YEARLY_BALANCES = {
    noon(2026, 1, 1): 10,
    noon(2026, 1, 31): 110,
    noon(2026, 2, 1): 100,
    noon(2026, 2, 27): 100,
    noon(2026, 2, 28): 130,
    noon(2026, 3, 10): 10,
    noon(2026, 3, 31): 110,
    noon(2026, 4, 30): 130,
    noon(2026, 5, 15): 330,
    noon(2026, 5, 31): 630,
    noon(2026, 6, 10): 30,
    noon(2026, 6, 30): 330,
    noon(2026, 7, 31): 630,
    noon(2026, 8, 31): 930,
    noon(2026, 9, 30): 1230,
    noon(2026, 10, 31): 1530,
    noon(2026, 11, 30): 1830,
    noon(2026, 12, 31): 2130,
    noon(2027, 1, 30): 2130,
    noon(2027, 1, 31): 2230,
    noon(2027, 2, 15): 2230,
}
WORKER_CYCLES = 13 + 12
"""Boundaries the daily pass met: the monthly one's Feb 1 to Feb 1 (Jun 1 is Free's first
cycle, granted at the ending subscription's boundary), the yearly one's Feb 28 to Jan 31."""


def _cycle_ledger(rows: list[tuple[datetime, int]], kind: EntryKind) -> Ledger:
    sign = 1 if kind is EntryKind.GRANT else -1
    return Counter((kind, "plan_cycle", when, credits(sign * amount)) for when, amount in rows)


def test_simulated_year_grants_and_expires_every_cycle_exactly_once(
    engine: Engine, clock: ManualClock
) -> None:
    """Thirteen and a half months, day by day, for a monthly and a yearly subscriber.

    Upgrades, downgrades, a cancellation that takes effect and one that is resumed, and
    the three rollover rules: every plan-cycle grant and expiry appears once, with the
    amount and the date worked out by hand above, and the balance matches the hand table
    on the day (after the day's pass) and again afterwards through `balance_at`.
    """
    year_plans(engine)
    engine.create_account("monthly")
    engine.create_account("yearly")
    tables = {"monthly": MONTHLY_BALANCES, "yearly": YEARLY_BALANCES}
    granted_by_worker = 0

    day = clock.now()
    while True:
        for event in YEAR_EVENTS.get(day, []):
            event(engine)
        granted_by_worker += engine.expire().cycles_granted
        for account_id, table in tables.items():
            if day in table:
                assert engine.balance(account_id).balance == credits(table[day]), (account_id, day)
        if day == YEAR_END:
            break
        day = clock.advance(DAY)

    assert granted_by_worker == WORKER_CYCLES
    for account_id, grants, expiries in [
        ("monthly", MONTHLY_GRANTS, MONTHLY_EXPIRIES),
        ("yearly", YEARLY_GRANTS, YEARLY_EXPIRIES),
    ]:
        assert cycle_entries(engine, account_id, EntryKind.GRANT) == _cycle_ledger(
            grants, EntryKind.GRANT
        )
        assert cycle_entries(engine, account_id, EntryKind.EXPIRE) == _cycle_ledger(
            expiries, EntryKind.EXPIRE
        )
        for at, expected in tables[account_id].items():
            assert engine.balance_at(account_id, at) == credits(expected), (account_id, at)
    monthly = engine.subscription("monthly")
    yearly = engine.subscription("yearly")
    assert monthly is not None
    assert (monthly.plan, monthly.anchor_at, monthly.cycle_index) == ("free", noon(2026, 6, 1), 8)
    assert yearly is not None
    assert (yearly.plan, yearly.interval, yearly.anchor_at) == (
        "basic",
        Interval.YEAR,
        noon(2026, 1, 31),
    )
    assert (yearly.cycle_index, yearly.next_plan, yearly.period_ends_at) == (
        12,
        None,
        noon(2028, 1, 31),
    )
    assert engine.verify().problems == ()


# Two workers racing


def _race(workers: int, work: Callable[[int], ExpirePass]) -> list[ExpirePass]:
    """Run `work(i)` on `workers` threads that start together; re-raise any worker's error."""
    barrier = threading.Barrier(workers)

    def started(index: int) -> ExpirePass:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(started, i) for i in range(workers)]
        return [future.result() for future in futures]


def _worker_pass(db_url: str, clock: ManualClock) -> ExpirePass:
    """One scheduler's pass on its own Engine (its own connection pool), as a worker runs."""
    worker = Engine(db_url, clock=clock, upgrade=False)
    try:
        return worker.expire()
    finally:
        worker.close()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_expire_grants_each_due_cycle_once_when_two_workers_race_on_postgresql(
    engine: Engine, clock: ManualClock, db_url: str
) -> None:
    """80 accounts, each two periods behind; two workers on their own Engines pass at once.

    Every account ends with exactly its two missed cycles granted (three claims counting
    the first), the two passes together report exactly 160 cycles, and each account's
    ledger has one grant pair per boundary. What keeps them apart is the account's row
    lock (`SELECT ... FOR UPDATE`), under which the second worker re-reads `renews_at`
    and finds nothing due, and the claim of (subscription, cycle) in `plan_cycles`.

    Naive variant this catches: a pass that reads the account without its row lock. Both
    workers then read the same stale `renews_at` and walk the same boundaries. Checked
    once against it (patched in, never committed), with the claim kept and with the claim
    dropped too: the second worker expired the ended cycle's lot a second time, the lots'
    CHECK refused the negative remainder, and its pass raised. Had nothing refused it,
    each cycle would be granted twice: the claim counts, the reported `cycles_granted`
    (320) and the grant ledger would all fail. SQLite cannot run this race: its writers
    are serialized whole.
    """
    engine.create_plan("pro", name="Pro", credits=100, rollover="capped", rollover_cap=25)
    for n in range(RACED_ACCOUNTS):
        engine.create_account(f"user_{n}")
        engine.subscribe(f"user_{n}", "pro")
    first, second = noon(2026, 2, 1), noon(2026, 3, 1)
    clock.set(second + MINUTE)

    passes = _race(RACING_WORKERS, lambda _: _worker_pass(db_url, clock))

    assert sum(p.cycles_granted for p in passes) == RACED_ACCOUNTS * RACED_PERIODS
    assert cycles_claimed(engine) == {f"user_{n}": 1 + RACED_PERIODS for n in range(RACED_ACCOUNTS)}
    expected = _cycle_ledger(
        [(START, 100), (first, 25), (first, 100), (second, 25), (second, 100)], EntryKind.GRANT
    )
    for n in range(RACED_ACCOUNTS):
        assert cycle_entries(engine, f"user_{n}", EntryKind.GRANT) == expected
        assert engine.balance(f"user_{n}").balance == credits(125)
    assert engine.expire().cycles_granted == 0
    assert engine.verify().problems == ()


# Falling back to the default plan


def test_cancelled_subscription_falls_back_to_the_default_plan_at_its_period_end(
    engine: Engine, clock: ManualClock
) -> None:
    """Cancel, then pass the period's end: nothing carried, Free's first cycle starts there.

    Free's first cycle is granted at the ending subscription's boundary, and its next one a
    month later, by the same rule as any other.
    """
    year_plans(engine)
    engine.create_account("user_1")
    clock.advance(5 * DAY)
    engine.subscribe("user_1", "pro")
    engine.charge("user_1", 50)
    cancelled = engine.cancel_subscription("user_1").subscription
    assert (cancelled.plan, cancelled.cancel_at_period_end) == ("pro", True)
    end = noon(2026, 2, 6)
    assert cancelled.period_ends_at == end

    clock.set(end - MINUTE)
    assert engine.balance("user_1").balance == credits(300 - 50 + 10)
    clock.set(end)
    passed = engine.expire()
    fallen = engine.subscription("user_1")

    assert passed.cycles_granted == 1
    assert fallen is not None
    assert (fallen.plan, fallen.anchor_at, fallen.started_at, fallen.cycle_index) == (
        "free",
        end,
        end,
        0,
    )
    assert fallen.cycle_ends_at == noon(2026, 3, 6)
    assert engine.balance("user_1").balance == credits(10)
    # Pro's full rollover carried nothing: the subscription ended.
    assert cycle_entries(engine, "user_1", EntryKind.EXPIRE) == _cycle_ledger(
        [(end, 300 + 10 - 50)], EntryKind.EXPIRE
    )

    clock.set(noon(2026, 3, 6))
    assert engine.expire().cycles_granted == 1
    renewed = engine.subscription("user_1")
    assert renewed is not None
    assert (renewed.id, renewed.cycle_index) == (fallen.id, 1)
    assert cycle_entries(engine, "user_1", EntryKind.GRANT) == _cycle_ledger(
        [(START, 10), (noon(2026, 1, 6), 300), (end, 10), (noon(2026, 3, 6), 10)],
        EntryKind.GRANT,
    )
    assert engine.balance("user_1").balance == credits(10)
    assert engine.verify().problems == ()


def test_cancelled_subscription_leaves_the_account_on_no_plan_when_there_is_no_default(
    engine: Engine, clock: ManualClock
) -> None:
    engine.create_plan("pro", name="Pro", credits=100, rollover="full")
    engine.create_account("user_1")
    engine.grant("user_1", 7, source="purchase")
    engine.subscribe("user_1", "pro")
    engine.cancel_subscription("user_1")

    clock.set(noon(2026, 2, 1))
    passed = engine.expire()

    assert (passed.cycles_granted, passed.lots_expired) == (0, 1)
    assert engine.subscription("user_1") is None
    balance = engine.balance("user_1")
    assert balance.balance == credits(7)
    assert (balance.usage.starts_at, balance.usage.ends_at) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    clock.set(noon(2026, 5, 1))
    assert engine.expire() == ExpirePass(
        accounts=0, lots_expired=0, holds_expired=0, credits_expired=Credits(0)
    )
    assert engine.verify().problems == ()


# A worker that stopped


@pytest.fixture
def twin_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second empty, migrated database on the test's backend, for a second history."""
    if backend == "sqlite":
        path = tmp_path / "twin.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"cg_twin_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def twin(twin_url: str) -> Iterator[tuple[Engine, ManualClock]]:
    """An engine on the second database with a clock of its own, at the same start."""
    clock = ManualClock(START)
    engine = Engine(twin_url, clock=clock, upgrade=False)
    yield engine, clock
    engine.close()


OUTAGE_ACCOUNTS = ("capped", "full", "cancelled", "downgraded", "free")
STOPPED_AT = noon(2026, 1, 10)
RESTARTED_AT = noon(2026, 4, 10)


# By hand. Capped (Basic): 45 spent, Free's 10 first, so 65 left; 30 carried each month.
# Full (Pro): 120 spent (10 + 110), the hold's 30 back on Jan 7; all carried. Cancelled:
# Pro ends Feb 1, Free from there. Downgraded: Pro's full rollover carries 300 into Basic
# on Feb 1, then Basic's cap. Free: Free's 10 a month; its promo expires on Feb 15.
OUTAGE_FIRST_CYCLES = {"capped": 100, "full": 300, "cancelled": 300, "downgraded": 300, "free": 0}
OUTAGE_GRANTS = {
    "capped": [(FEB_1, 30), (FEB_1, 100), (MAR_1, 30), (MAR_1, 100), (APR_1, 30), (APR_1, 100)],
    "full": [(FEB_1, 190), (FEB_1, 300), (MAR_1, 490), (MAR_1, 300), (APR_1, 790), (APR_1, 300)],
    "cancelled": [(FEB_1, 10), (MAR_1, 10), (APR_1, 10)],
    "downgraded": [
        (FEB_1, 300),
        (FEB_1, 100),
        (MAR_1, 30),
        (MAR_1, 100),
        (APR_1, 30),
        (APR_1, 100),
    ],
    "free": [(FEB_1, 10), (MAR_1, 10), (APR_1, 10)],
}
OUTAGE_BALANCES = {"capped": 130, "full": 1090, "cancelled": 10, "downgraded": 130, "free": 10}


def _before_the_outage(engine: Engine, clock: ManualClock) -> None:
    """Five subscribers in several states, a promo lot ending mid-outage, a hold ending early."""
    year_plans(engine)
    for account_id in OUTAGE_ACCOUNTS:
        engine.create_account(account_id)
    engine.subscribe("capped", "basic")
    engine.subscribe("full", "pro")
    engine.subscribe("cancelled", "pro")
    engine.subscribe("downgraded", "pro")
    engine.grant("free", 5, source="promo", expires_at=noon(2026, 2, 15))
    clock.set(noon(2026, 1, 5))
    engine.charge("capped", 45)
    engine.charge("full", 120)
    engine.hold("full", 30, ttl=2 * DAY)
    engine.cancel_subscription("cancelled")
    engine.subscribe("downgraded", "basic")
    clock.set(STOPPED_AT)


def test_worker_back_after_three_months_writes_what_a_daily_worker_wrote(
    engine: Engine, clock: ManualClock, twin: tuple[Engine, ManualClock]
) -> None:
    """Stopped for three months, then one pass: each missed period granted once, in order.

    The same operations run on two databases. On the twin a worker passed every day; on
    the test's database nothing ran from Jan 10 to Apr 10. After one pass, every account
    has the same balance, the same lots (amount, remainder, expiry, metadata) and the same
    multiset of (kind, source, effective_at, amount) entries on both: late entries are
    dated where they fell due. Each missed boundary (Feb 1, Mar 1, Apr 1) was granted once
    and no lot expired twice; the grants and balances are also those worked out by hand.
    """
    daily, daily_clock = twin
    _before_the_outage(engine, clock)
    _before_the_outage(daily, daily_clock)
    daily_granted = 0
    while daily_clock.now() < RESTARTED_AT:
        daily_granted += daily.expire().cycles_granted
        daily_clock.advance(DAY)
    clock.set(RESTARTED_AT)

    late = engine.expire()
    daily_granted += daily.expire().cycles_granted

    assert late.cycles_granted == daily_granted == 3 * len(OUTAGE_ACCOUNTS)
    assert late.holds_expired == 1
    for account_id in OUTAGE_ACCOUNTS:
        assert engine.balance(account_id) == daily.balance(account_id), account_id
        assert lot_states(engine, account_id) == lot_states(daily, account_id), account_id
        assert ledger(engine, account_id) == ledger(daily, account_id), account_id
        missed = cycle_entries(engine, account_id, EntryKind.GRANT) - _cycle_ledger(
            [(START, 10), (START, OUTAGE_FIRST_CYCLES[account_id])], EntryKind.GRANT
        )
        assert missed == _cycle_ledger(OUTAGE_GRANTS[account_id], EntryKind.GRANT), account_id
        assert engine.balance(account_id).balance == credits(OUTAGE_BALANCES[account_id])
        expired_lots = Counter(
            move.lot_id
            for entry in entries(engine, account_id)
            if entry.kind is EntryKind.EXPIRE
            for move in entry.moves
            if move.amount
        )
        assert all(n == 1 for n in expired_lots.values()), account_id
    claims = {"capped": 5, "full": 5, "cancelled": 5, "downgraded": 5, "free": 4}
    assert cycles_claimed(engine) == cycles_claimed(daily) == claims
    for at in (noon(2026, 1, 31), FEB_1, noon(2026, 2, 15), noon(2026, 3, 10), APR_1):
        for account_id in OUTAGE_ACCOUNTS:
            assert engine.balance_at(account_id, at) == daily.balance_at(account_id, at)
    assert engine.subscription("cancelled") == daily.subscription("cancelled")
    assert engine.verify().problems == ()
    assert daily.verify().problems == ()


def test_balance_shows_the_new_cycle_right_after_a_boundary_with_no_worker(
    engine: Engine, clock: ManualClock
) -> None:
    """No lag: with no worker at all, the first read after a boundary already sees it.

    The read takes the account's lock once and writes the renewal; the pass that comes
    afterwards finds nothing left to grant.
    """
    year_plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")
    engine.charge("user_1", 90)
    boundary = noon(2026, 2, 1)
    clock.set(boundary - MINUTE)
    assert engine.balance("user_1").balance == credits(10 + 100 - 90)

    clock.set(boundary)
    balance = engine.balance("user_1")

    assert balance.balance == credits(20 + 100)
    assert balance.usage.starts_at == boundary
    assert balance.usage.credits == Credits(0)
    subscription = engine.subscription("user_1")
    assert subscription is not None
    assert (subscription.cycle_index, subscription.cycle_started_at) == (1, boundary)
    grants = cycle_entries(engine, "user_1", EntryKind.GRANT)
    assert grants[(EntryKind.GRANT, "plan_cycle", boundary, credits(100))] == 1
    assert engine.expire().cycles_granted == 0
    assert engine.verify().problems == ()


def test_charge_right_after_a_boundary_spends_the_new_cycle_with_no_worker(
    engine: Engine, clock: ManualClock
) -> None:
    """A write takes the lock and renews first: 20 carried + 100 new cover a charge of 110."""
    year_plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "basic")
    engine.charge("user_1", 90)
    clock.set(FEB_1)

    receipt = engine.charge("user_1", 110)

    assert receipt.balance.balance == credits(20 + 100 - 110)
    assert receipt.balance.usage.credits == credits(110)
    assert engine.expire().cycles_granted == 0
    assert engine.verify().problems == ()


def test_every_read_after_a_boundary_sees_the_new_cycle_with_no_worker(
    engine: Engine, clock: ManualClock
) -> None:
    """Reads other than `balance` also write a due renewal first: they agree with it."""
    year_plans(engine)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    boundary = noon(2026, 2, 1)

    clock.set(boundary + MINUTE)
    overview = engine.plan_overview("user_1")

    assert overview.balance.balance == credits(300 + 300)
    assert overview.subscription is not None
    assert overview.subscription.cycle_index == 1
    clock.set(noon(2026, 3, 1))
    assert engine.lifetime("user_1").granted_by_source == {
        "plan_cycle": credits(10 + 300 + 600 + 900)
    }
    clock.set(noon(2026, 4, 1))
    (newest, *_) = engine.history("user_1", kinds=["grant"]).items
    assert (newest.effective_at, newest.amount) == (noon(2026, 4, 1), credits(300))
    clock.set(noon(2026, 5, 1))
    assert engine.balance_at("user_1", noon(2026, 4, 15)) == credits(300 * 4)
    assert engine.balance("user_1").balance == credits(300 * 5)
    assert engine.verify().problems == ()


# Holds across a boundary


def _pro_with_a_hold_across_the_boundary(
    engine: Engine, clock: ManualClock, *, rollover: str = "full"
) -> tuple[datetime, HoldId]:
    """Pro (100 a month) from START; an hour before Feb 1, a hold of 30 for two hours."""
    cap = 50 if rollover == "capped" else None
    engine.create_plan("pro", name="Pro", credits=100, rollover=rollover, rollover_cap=cap)
    engine.create_account("user_1")
    engine.subscribe("user_1", "pro")
    boundary = noon(2026, 2, 1)
    clock.set(boundary - HOUR)
    receipt = engine.hold("user_1", 30, ttl=2 * HOUR)
    assert receipt.hold is not None
    return boundary, receipt.hold.id


def _assert_conserved(engine: Engine, account_id: str) -> None:
    """What came in, less what was spent and what expired, is the balance: nothing made."""
    life = engine.lifetime(account_id)
    balance = engine.balance(account_id)
    assert life.granted - life.spent - life.expired == balance.balance
    assert engine.verify().problems == ()


def test_hold_across_a_boundary_keeps_its_credits_and_the_free_rest_rolls_over(
    engine: Engine, clock: ManualClock
) -> None:
    """The pinned 30 stay the hold's; only the free 70 are carried. Settling 25 later
    takes them from the ended cycle's lot, whose remainder (the 70 already carried and
    the 5 the hold did not use) then leaves through its one expire entry.
    """
    boundary, hold_id = _pro_with_a_hold_across_the_boundary(engine, clock)
    clock.set(boundary + MINUTE)

    across = engine.balance("user_1")
    passed = engine.expire()

    assert (across.balance, across.held, across.available) == (
        credits(100 + 100),
        credits(30),
        credits(70 + 100),
    )
    assert (passed.cycles_granted, passed.lots_expired) == (0, 0)
    clock.set(boundary + 30 * MINUTE)
    settled = engine.settle(hold_id, 25).balance
    assert (settled.balance, settled.held, settled.available) == (
        credits(170),
        Credits(0),
        credits(170),
    )
    assert cycle_entries(engine, "user_1", EntryKind.GRANT) == _cycle_ledger(
        [(START, 100), (boundary, 70), (boundary, 100)], EntryKind.GRANT
    )
    assert cycle_entries(engine, "user_1", EntryKind.EXPIRE) == _cycle_ledger(
        [(boundary, 75)], EntryKind.EXPIRE
    )
    assert engine.lifetime("user_1").expired == credits(75)
    _assert_conserved(engine, "user_1")


def test_hold_released_after_the_boundary_returns_its_credits_to_an_ended_cycle(
    engine: Engine, clock: ManualClock
) -> None:
    """Released after the boundary, the 30 return to a lot that has ended: they expire.

    The carry was decided at the boundary (the free 70), so the ended lot's whole 100
    leaves through one expire entry and nothing is carried twice.
    """
    boundary, hold_id = _pro_with_a_hold_across_the_boundary(engine, clock)
    clock.set(boundary + MINUTE)
    engine.expire()
    clock.set(boundary + 30 * MINUTE)

    released = engine.release(hold_id).balance

    assert (released.balance, released.held) == (credits(170), Credits(0))
    assert cycle_entries(engine, "user_1", EntryKind.EXPIRE) == _cycle_ledger(
        [(boundary, 100)], EntryKind.EXPIRE
    )
    clock.set(noon(2026, 3, 1))
    assert engine.balance("user_1").balance == credits(170 + 100)
    _assert_conserved(engine, "user_1")


def test_hold_expiring_after_the_boundary_lets_its_credits_expire_with_their_cycle(
    engine: Engine, clock: ManualClock
) -> None:
    """A worker passes at the boundary (hold live) and after the hold's ttl: 30 expire."""
    boundary, hold_id = _pro_with_a_hold_across_the_boundary(engine, clock, rollover="capped")
    clock.set(boundary + MINUTE)
    at_boundary = engine.expire()
    clock.set(boundary + 2 * HOUR)

    after_ttl = engine.expire()

    assert (at_boundary.cycles_granted, at_boundary.lots_expired) == (1, 0)
    assert (after_ttl.holds_expired, after_ttl.lots_expired) == (1, 1)
    assert after_ttl.credits_expired == credits(100)
    assert engine.balance("user_1").balance == credits(50 + 100)
    assert cycle_entries(engine, "user_1", EntryKind.GRANT) == _cycle_ledger(
        [(START, 100), (boundary, 50), (boundary, 100)], EntryKind.GRANT
    )
    assert engine.get_hold(hold_id).status.value == "expired"
    _assert_conserved(engine, "user_1")


def test_renewal_after_a_hold_across_the_boundary_has_expired_carries_what_was_free_then(
    engine: Engine, clock: ManualClock, twin: tuple[Engine, ManualClock]
) -> None:
    """The carry is what was free at the boundary, whenever the renewal is written.

    On the twin a worker passes one minute after the boundary, while the hold is live; on
    the test's database nothing runs until the hold's ttl has passed. Both must carry the
    free 70 and expire the hold's 30 with the ended cycle.
    """
    prompt, prompt_clock = twin
    boundary, _ = _pro_with_a_hold_across_the_boundary(engine, clock)
    _pro_with_a_hold_across_the_boundary(prompt, prompt_clock)
    prompt_clock.set(boundary + MINUTE)
    prompt.expire()
    clock.set(boundary + 3 * HOUR)
    prompt_clock.set(boundary + 3 * HOUR)

    engine.expire()
    prompt.expire()

    assert prompt.balance("user_1").balance == credits(170)
    assert ledger(engine, "user_1") == ledger(prompt, "user_1")
    assert engine.balance("user_1").balance == credits(170)
    _assert_conserved(engine, "user_1")

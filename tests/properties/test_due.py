"""Metamorphic property of expiry (`plan_due`): one clock jump == many small steps.

Two engines on two copies of one SQLite file replay the same grants, charges and holds.
Then one clock jumps straight to the end; the other walks there in small steps, and at
each step reads the balance, runs the expiry pass or writes to the account (which writes
what is due first). Expiry is decided at query time, so both must end with the same
balance, held and available credits and the same lifetime expired figure, and both
ledgers must verify clean.
"""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from creditgate import CreditgateError, Credits, Engine, ManualClock
from creditgate.storage.database import Database, SqliteSync

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ACCOUNT = "user_1"
MINUTES = st.sampled_from([1, 5, 30, 60, 61, 360, 1440, 4320])


@dataclass(frozen=True)
class Grant:
    units: int
    expires_in_min: int | None
    priority: int


@dataclass(frozen=True)
class Hold:
    units: int
    ttl_min: int


@dataclass(frozen=True)
class Charge:
    units: int


Setup = Grant | Hold | Charge

setups: st.SearchStrategy[Setup] = st.one_of(
    st.builds(
        Grant,
        units=st.integers(1, 20).map(lambda n: n * 1000) | st.integers(1, 20_000),
        expires_in_min=st.none() | MINUTES,
        priority=st.sampled_from([-10, 0, 0, 5]),
    ),
    st.builds(Hold, units=st.integers(1, 15_000), ttl_min=MINUTES),
    st.builds(Charge, units=st.integers(1, 15_000)),
)
# Each step: how far the clock moves, then what the walking engine does at that instant.
steps = st.lists(
    st.tuples(MINUTES | st.integers(1, 3000), st.sampled_from(["balance", "expire", "write"])),
    min_size=1,
    max_size=12,
)


@contextmanager
def _engine(template: Path, directory: str, name: str) -> Iterator[tuple[Engine, ManualClock]]:
    path = Path(directory) / f"{name}.db"
    shutil.copyfile(template, path)
    clock = ManualClock(START)
    database = Database(f"sqlite:///{path}", sqlite_sync=SqliteSync.NORMAL)
    try:
        yield Engine(database, clock=clock, upgrade=False), clock
    finally:
        database.dispose()


def _replay(engine: Engine, clock: ManualClock, setup: list[Setup]) -> list[str]:
    """Run the setup, one minute apart; returns each call's outcome so both runs can agree."""
    engine.create_account(ACCOUNT)
    outcomes = []
    for item in setup:
        try:
            if isinstance(item, Grant):
                expires_at = (
                    None
                    if item.expires_in_min is None
                    else clock.now() + timedelta(minutes=item.expires_in_min)
                )
                engine.grant(
                    ACCOUNT, Credits(item.units), expires_at=expires_at, priority=item.priority
                )
            elif isinstance(item, Hold):
                engine.hold(ACCOUNT, Credits(item.units), ttl=timedelta(minutes=item.ttl_min))
            else:
                engine.charge(ACCOUNT, Credits(item.units))
            outcomes.append("ok")
        except CreditgateError as exc:
            outcomes.append(type(exc).__name__)
        clock.advance(timedelta(minutes=1))
    return outcomes


@given(st.lists(setups, min_size=1, max_size=8), steps)
def test_one_clock_jump_equals_many_small_steps(
    sqlite_template: Path, setup: list[Setup], walk: list[tuple[int, str]]
) -> None:
    with (
        tempfile.TemporaryDirectory() as directory,
        _engine(sqlite_template, directory, "jump") as (jumper, jump_clock),
        _engine(sqlite_template, directory, "walk") as (walker, walk_clock),
    ):
        assert _replay(jumper, jump_clock, setup) == _replay(walker, walk_clock, setup)

        jump_clock.advance(timedelta(minutes=sum(minutes for minutes, _ in walk)))
        for minutes, action in walk:
            walk_clock.advance(timedelta(minutes=minutes))
            if action == "balance":
                walker.balance(ACCOUNT)
            elif action == "expire":
                walker.expire()
            else:
                walker.update_account(ACCOUNT, is_frozen=False)

        assert walk_clock.now() == jump_clock.now()
        assert walker.balance(ACCOUNT) == jumper.balance(ACCOUNT)
        assert walker.lifetime(ACCOUNT).expired == jumper.lifetime(ACCOUNT).expired
        assert walker.verify().is_clean
        assert jumper.verify().is_clean
        jumper.expire()
        walker.expire()
        assert walker.balance(ACCOUNT) == jumper.balance(ACCOUNT)
        assert walker.lifetime(ACCOUNT) == jumper.lifetime(ACCOUNT)
        assert walker.balance_at(ACCOUNT, walk_clock.now()) == jumper.balance_at(
            ACCOUNT, jump_clock.now()
        )

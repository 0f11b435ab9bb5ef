"""How a charge reaches the database: what it writes, in how many statements.

On PostgreSQL every statement is a round trip, so the write path is shaped for it: an
entry, its lot moves and the lots they move go in one statement, and a use's event goes
with the account's figures. SQLite has no round trips and writes each table on its own.
Either way the rows are the same, which every other test of the ledger checks on both.
"""

import pytest
from sqlalchemy import func, select

from creditgate import Engine
from creditgate.storage.tables import entry_lots, lots, usage_events
from tests.factories import counting, funded_account


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_charge_on_postgresql_makes_four_round_trips_and_writes_every_row(
    engine: Engine,
) -> None:
    funded_account(engine, credits=2)
    engine.grant("user_1", 3, source="welcome")

    with counting(engine.db) as statements:
        receipt = engine.charge("user_1", 4, feature="image.generate")

    lock, spendable, entry, figures = statements
    assert "FOR UPDATE" in lock
    assert spendable.startswith("SELECT")
    assert "FROM lots" in spendable
    assert all(part in entry for part in ("INSERT INTO entries", "INSERT INTO entry_lots"))
    assert "UPDATE lots" in entry
    assert "INSERT INTO usage_events" in figures
    assert "UPDATE accounts" in figures
    assert len(receipt.entry.moves) == 2
    with engine.db.read() as conn:
        moved = conn.execute(
            select(func.count()).where(entry_lots.c.entry_id == receipt.entry.id)
        ).scalar_one()
        remaining = conn.execute(select(func.sum(lots.c.remaining))).scalar_one()
        used = conn.execute(
            select(usage_events.c.entry_id, usage_events.c.credits).where(
                usage_events.c.feature == "image.generate"
            )
        ).all()
    assert (moved, remaining) == (2, 1000)
    assert used == [(receipt.entry.id, 4000)]
    assert engine.verify().is_clean


def test_a_charge_makes_no_more_statements_than_the_rows_it_writes(engine: Engine) -> None:
    funded_account(engine, credits=2)
    engine.grant("user_1", 3, source="welcome")

    with counting(engine.db) as statements:
        engine.charge("user_1", 4, feature="image.generate")

    writes = [s for s in statements if s.startswith(("INSERT", "UPDATE", "WITH"))]
    # Lots, entry, lot moves, usage event, account: five tables, one statement each at most.
    assert len(writes) <= 5
    assert len(statements) <= 8
    assert engine.verify().is_clean

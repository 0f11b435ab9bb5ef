"""`verify` catches each kind of corruption planted with raw SQL in a healthy database.

Each test starts from the same healthy ledger (grants, an expiry that was swept, charges,
holds settled, released and pending, a partial refund, on three accounts), plants one
corruption, and expects the check named for the broken invariant. Where the plant keeps
every other figure consistent (the entry numbered, the account's and the lot's figures
moved with it), that check must be the only one to fire: it, and nothing else, sees it.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from creditgate import Engine, ManualClock, VerifyReport
from creditgate.domain.ids import EntryId, HoldId, LotId
from creditgate.storage.database import Database
from tests.conftest import START
from tests.factories import DAY, funded_account

ENTRY_COLUMNS = (
    "account_id, seq, kind, amount, held_delta, balance_after, held_after, cost, hold_id,"
    " ref_entry_id, counterparty, source, member_id, feature, actor, reason, metadata,"
    " created_at, effective_at"
)


@dataclass(frozen=True)
class Ledger:
    """Ids in the healthy ledger that the plants refer to."""

    first_charge: EntryId
    refunded_charge: EntryId
    refunded_lot: LotId
    settle: EntryId
    settled_hold: HoldId
    last_entry: EntryId
    expiring_grant: EntryId
    expiring_lot: LotId


def _healthy_ledger(engine: Engine, clock: ManualClock) -> Ledger:
    funded_account(engine, "user_1", credits=100)
    engine.grant("user_1", 20, source="promo", expires_at=START + 10 * DAY)
    first = engine.charge("user_1", 30, feature="image.generate")
    refunded = engine.charge("user_1", 5, feature="image.generate")
    settled = engine.hold("user_1", 10, ttl=timedelta(hours=1))
    assert settled.hold is not None
    settle = engine.settle(settled.hold.id, 7)
    released = engine.hold("user_1", 3, ttl=timedelta(hours=1))
    assert released.hold is not None
    engine.release(released.hold.id)
    engine.hold("user_1", 4, ttl=timedelta(days=5))
    last = engine.refund(refunded.entry.id, 2, reason="failed render")
    funded_account(engine, "user_2", credits=50)
    engine.grant("user_2", 10, source="promo", expires_at=START + DAY)
    engine.charge("user_2", 5)
    engine.create_account("user_3")
    expiring = engine.grant("user_3", 10, source="promo", expires_at=START + 30 * DAY)
    clock.advance(2 * DAY)
    engine.expire()
    return Ledger(
        first_charge=first.entry.id,
        refunded_charge=refunded.entry.id,
        refunded_lot=refunded.entry.moves[0].lot_id,
        settle=settle.entry.id,
        settled_hold=settled.hold.id,
        last_entry=last.entry.id,
        expiring_grant=expiring.entry.id,
        expiring_lot=expiring.entry.moves[0].lot_id,
    )


def _plant(database: Database, *statements: str, **params: Any) -> None:
    """Run raw SQL in one transaction, each statement with the parameters it names."""
    with database.write() as conn:
        for statement in statements:
            clause = text(statement)
            conn.execute(clause, {k: v for k, v in params.items() if k in clause.compile().params})


def _disable_append_only(database: Database) -> None:
    """Lift the ledger's append-only triggers, as an attacker with raw access would."""
    if database.is_sqlite:
        _plant(
            database,
            "DROP TRIGGER entries_no_delete",
            "DROP TRIGGER entry_lots_no_delete",
        )
        return
    _plant(
        database,
        "ALTER TABLE entries DISABLE TRIGGER entries_append_only",
        "ALTER TABLE entry_lots DISABLE TRIGGER entry_lots_append_only",
    )


def _checks(report: VerifyReport) -> set[str]:
    return {problem.check for problem in report.problems}


def _accounts(report: VerifyReport) -> set[str | None]:
    return {problem.account_id for problem in report.problems}


def _next_entry(kind: str, units: int, *, created_at: str = "e.created_at") -> str:
    """An INSERT of one entry numbered next on its account, modelled on entry `:model`.

    Its balance after is the account's balance moved by `units`, so the ledger's running
    sums stay consistent; `:hold_id`, `:ref_entry_id` and `:lot` (joined as `l`) may be NULL.
    """
    return (
        f"INSERT INTO entries ({ENTRY_COLUMNS}) "
        f"SELECT e.account_id, a.seq + 1, '{kind}', {units}, 0, a.balance + {units}, a.held,"
        " NULL, CAST(:hold_id AS BIGINT), CAST(:ref_entry_id AS BIGINT), NULL, NULL, NULL,"
        f" e.feature, NULL, NULL, e.metadata, {created_at}, {created_at}"
        " FROM entries e JOIN accounts a ON a.id = e.account_id"
        " LEFT JOIN lots l ON l.id = :lot"
        " WHERE e.id = :model"
    )


MOVE_OF_NEWEST_ENTRY = (
    "INSERT INTO entry_lots (account_id, entry_id, lot_id, amount, held)"
    " SELECT account_id, MAX(id), :lot, :units, 0 FROM entries"
    " WHERE account_id = (SELECT account_id FROM entries WHERE id = :model)"
    " GROUP BY account_id"
)
"""The lot move of the entry just planted: `:units` on lot `:lot`."""


def test_verify_is_clean_on_the_healthy_ledger(engine: Engine, clock: ManualClock) -> None:
    _healthy_ledger(engine, clock)

    report = engine.verify()

    assert report.problems == ()
    assert report.accounts == 3
    assert engine.lifetime("user_2").expired.units > 0


def test_verify_reports_an_edited_balance(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    _healthy_ledger(engine, clock)

    _plant(
        database,
        "UPDATE accounts SET balance = balance + 1000 WHERE external_id = 'user_1'",
    )
    report = engine.verify()

    assert "balance_is_sum_of_entries" in _checks(report)
    assert "balance_is_sum_of_lots" in _checks(report)
    assert _accounts(report) == {"user_1"}


def test_verify_reports_a_removed_entry(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    ledger = _healthy_ledger(engine, clock)
    _disable_append_only(database)

    _plant(
        database,
        "DELETE FROM usage_events WHERE entry_id = :entry",
        "DELETE FROM entry_lots WHERE entry_id = :entry",
        "DELETE FROM entries WHERE id = :entry",
        entry=ledger.first_charge,
    )
    report = engine.verify()

    assert "ledger_is_append_only" in _checks(report)
    assert _accounts(report) == {"user_1"}


def test_verify_reports_a_removed_entry_when_its_figures_are_restored(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    """The last entry goes, and the account's balance and lots are put back as before it.

    Only the account's numbering still remembers it.
    """
    ledger = _healthy_ledger(engine, clock)
    refund = engine.get_entry(ledger.last_entry)
    (move,) = refund.moves
    _disable_append_only(database)

    _plant(
        database,
        "DELETE FROM entry_lots WHERE entry_id = :entry",
        "DELETE FROM entries WHERE id = :entry",
        "UPDATE lots SET remaining = remaining - :units WHERE id = :lot",
        "UPDATE accounts SET balance = balance - :units WHERE external_id = 'user_1'",
        entry=ledger.last_entry,
        units=refund.amount.units,
        lot=move.lot_id,
    )
    report = engine.verify()

    assert _checks(report) == {"ledger_is_append_only"}
    assert _accounts(report) == {"user_1"}


def test_verify_reports_a_hold_ended_twice(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    """A second, empty release of a settled hold: every sum stays right, the hold does not."""
    ledger = _healthy_ledger(engine, clock)

    _plant(
        database,
        _next_entry("release", 0),
        "UPDATE accounts SET seq = seq + 1 WHERE external_id = 'user_1'",
        model=ledger.settle,
        hold_id=ledger.settled_hold,
        ref_entry_id=None,
        lot=None,
    )
    report = engine.verify()

    assert _checks(report) == {"hold_ends_exactly_once"}
    assert _accounts(report) == {"user_1"}


def test_verify_reports_an_over_refund(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    """A 5-credit charge already refunded 2 gets 4 more back, to its lot and its balance."""
    ledger = _healthy_ledger(engine, clock)

    _plant(
        database,
        _next_entry("refund", 4000),
        MOVE_OF_NEWEST_ENTRY,
        "UPDATE lots SET remaining = remaining + :units WHERE id = :lot",
        "UPDATE accounts SET balance = balance + :units, seq = seq + 1"
        " WHERE external_id = 'user_1'",
        model=ledger.refunded_charge,
        hold_id=None,
        ref_entry_id=ledger.refunded_charge,
        lot=ledger.refunded_lot,
        units=4000,
    )
    report = engine.verify()

    assert _checks(report) == {"refunds_within_charge"}
    assert _accounts(report) == {"user_1"}


def test_verify_reports_a_spend_of_an_expired_lot(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    """A charge dated at its lot's expiry takes 3 credits from it; every sum moves with it."""
    ledger = _healthy_ledger(engine, clock)

    _plant(
        database,
        _next_entry("charge", -3000, created_at="l.expires_at"),
        MOVE_OF_NEWEST_ENTRY,
        "UPDATE lots SET remaining = remaining + :units WHERE id = :lot",
        "UPDATE accounts SET balance = balance + :units, seq = seq + 1"
        " WHERE external_id = 'user_3'",
        model=ledger.expiring_grant,
        hold_id=None,
        ref_entry_id=None,
        lot=ledger.expiring_lot,
        units=-3000,
    )
    report = engine.verify()

    assert _checks(report) == {"expired_lot_never_spent"}
    assert _accounts(report) == {"user_3"}


def test_verify_reports_a_renewal_the_account_does_not_schedule(
    engine: Engine, clock: ManualClock, database: Database
) -> None:
    """An account whose `renews_at` drifted from its subscription's cycle end would be
    renewed late or never: verify names it."""
    engine.create_plan("basic", name="Basic", credits=500, prices={"month": 1500})
    engine.create_account("user_9")
    engine.subscribe("user_9", "basic")
    clock.advance(timedelta(days=40))
    engine.expire()
    assert engine.verify().problems == ()

    _plant(
        database,
        "UPDATE accounts SET renews_at = NULL, next_due_at = NULL WHERE external_id = 'user_9'",
    )
    report = engine.verify()

    assert _checks(report) == {"renewal_is_scheduled"}
    assert _accounts(report) == {"user_9"}

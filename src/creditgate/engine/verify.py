"""Verify: recompute every account from its entries, lots and holds; report each mismatch.

Each check is named for the invariant it proves, so a report reads as a list of broken
promises. Verify only reads, in one snapshot, and groups in SQL: it reads a few rows per
account, not the ledger.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from creditgate.domain.ids import AccountId
from creditgate.domain.results import Problem, VerifyReport
from creditgate.storage import audit
from creditgate.storage.database import Database

Report = Callable[[int, str, str], None]


def verify(db: Database) -> VerifyReport:
    """Check the eight invariants over the whole database."""
    problems: list[Problem] = []
    with db.read() as conn:
        stored = audit.account_figures(conn)

        def report(pk: int, check: str, detail: str) -> None:
            name = AccountId(stored[pk].external_id) if pk in stored else None
            problems.append(Problem(account_id=name, check=check, detail=detail))

        entries = _check_accounts(conn, stored, report)
        _check_rows(conn, report)
    return VerifyReport(accounts=len(stored), entries=entries, problems=tuple(problems))


def _check_accounts(conn: Connection, stored: dict[int, Any], report: Report) -> int:
    """Per account: its stored figures against its entries, lots and holds."""
    sums = audit.entry_sums(conn)
    moved = audit.move_sums(conn)
    in_lots = audit.lot_sums(conn)
    pending = audit.pending_hold_sums(conn)
    total = 0
    for pk, acct in stored.items():
        s = sums.get(pk)
        amount, held, count = (0, 0, 0) if s is None else (int(s.amount), int(s.held), s.count)
        total += count
        lots, holds = in_lots.get(pk, 0), pending.get(pk, 0)
        if acct.balance != amount:
            report(pk, "balance_is_sum_of_entries", f"balance {acct.balance}, entries {amount}")
        if acct.balance != lots - acct.debt:
            report(
                pk,
                "balance_is_sum_of_lots",
                f"balance {acct.balance}, lots {lots} - debt {acct.debt}",
            )
        if acct.debt != moved.get(pk, 0) - amount:
            report(
                pk,
                "debt_is_sum_of_entries",
                f"debt {acct.debt}, entries {moved.get(pk, 0) - amount}",
            )
        if acct.held != held or acct.held != holds:
            report(
                pk,
                "held_is_sum_of_pending_holds",
                f"held {acct.held}, entries {held}, holds {holds}",
            )
        if acct.balance < acct.floor:
            report(
                pk, "balance_not_below_floor", f"balance {acct.balance} below floor {acct.floor}"
            )
        seq_ok = acct.seq == count and (s is None or (s.seq_min == 1 and s.seq_max == count))
        if not seq_ok:
            report(
                pk, "ledger_is_append_only", f"{count} entries, account numbered up to {acct.seq}"
            )
    return total


def _check_rows(conn: Connection, report: Report) -> None:
    """Row-level checks: entry chains, lots, hold ends, refunds, expired lots."""
    for row in audit.broken_chains(conn):
        report(
            row.account_id,
            "ledger_is_append_only",
            f"entry {row.seq}: balance_after {row.balance_after}, running sum {row.balance}",
        )
    for row in audit.lots_off_their_moves(conn):
        report(
            row.account_id,
            "balance_is_sum_of_lots",
            f"lot {row.id}: remaining {row.remaining}, held {row.held} do not match its moves",
        )
    for row in audit.hold_ends(conn):
        report(
            row.account_id,
            "hold_ends_exactly_once",
            f"hold {row.id} ({row.status}) has {row.ends} ending entries",
        )
    for row in audit.over_refunds(conn):
        report(
            row.account_id,
            "refunds_within_charge",
            f"entry {row.id} took {-row.amount}, refunds add up to {row.refunded}",
        )
    for row in audit.spends_of_expired_lots(conn):
        report(
            row.account_id,
            "expired_lot_never_spent",
            f"{row.kind} entry {row.id} took from expired lot {row.lot_id}",
        )
    for row in audit.lot_expiries(conn):
        report(
            row.account_id,
            "expired_lot_leaves_once",
            f"lot {row.id}: {row.expiries} expire entries, {row.remaining} left",
        )
    for row in audit.unscheduled_renewals(conn):
        report(
            row.account_id,
            "renewal_is_scheduled",
            f"subscription {row.id}: account renews at {row.renews_at}, due at "
            f"{row.next_due_at}, but its cycle {row.cycle_index} ends otherwise",
        )

"""Queries over the ledger: entries and their lot moves (append-only)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Row,
    Select,
    bindparam,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.ids import AccountId, EntryId, HoldId, LotId
from creditgate.domain.pricing import PriceId, check_quantity, quantity_data
from creditgate.storage.lots import apply_moves
from creditgate.storage.tables import accounts, entries, entry_lots, lots

_insert_entry = insert(entries).returning(entries.c.id)
_insert_moves = insert(entry_lots)


def _entry_values(account_pk: int, entry: Entry) -> dict[str, Any]:
    return {
        "account_id": account_pk,
        "seq": entry.seq,
        "kind": entry.kind.value,
        "amount": entry.amount.units,
        "held_delta": entry.held_delta.units,
        "balance_after": entry.balance_after.units,
        "held_after": entry.held_after.units,
        "cost": None if entry.cost is None else entry.cost.units,
        "hold_id": entry.hold_id,
        "ref_entry_id": entry.ref_entry_id,
        "counterparty": entry.counterparty,
        "source": entry.source,
        "member_id": entry.member_id,
        "feature": entry.feature,
        "model": entry.model,
        "quantity": quantity_data(entry.quantity),
        "price_id": entry.price_id,
        "actor": entry.actor,
        "reason": entry.reason,
        "metadata": entry.metadata,
        "created_at": entry.created_at,
        "effective_at": entry.effective_at,
    }


# PostgreSQL writes an entry in one statement: the entry, its lot moves and the lots they
# move, as one data-modifying CTE (one round trip instead of three). The moves travel as
# three parallel arrays, so the statement is the same whatever their number.
_BIGINTS = ARRAY(BigInteger)
_moves = (
    func.unnest(
        bindparam("move_lot_ids", type_=_BIGINTS),
        bindparam("move_amounts", type_=_BIGINTS),
        bindparam("move_helds", type_=_BIGINTS),
    )
    .table_valued("lot_id", "amount", "held")
    .render_derived(name="moves")
)
_new_entry = (
    insert(entries)
    .values({c.name: bindparam(f"e_{c.name}", type_=c.type) for c in entries.c if c.name != "id"})
    .returning(entries.c.id)
    .cte("new_entry")
)
_new_moves = (
    insert(entry_lots)
    .from_select(
        ["account_id", "entry_id", "lot_id", "amount", "held"],
        select(
            bindparam("e_account_id", type_=entries.c.account_id.type),
            _new_entry.c.id,
            _moves.c.lot_id,
            _moves.c.amount,
            _moves.c.held,
        ).select_from(_new_entry.join(_moves, true())),
    )
    .cte("new_moves")
)
_moved_lots = (
    update(lots)
    .where(lots.c.id == _moves.c.lot_id)
    .values(remaining=lots.c.remaining + _moves.c.amount, held=lots.c.held + _moves.c.held)
    .cte("moved_lots")
)
_write_entry_pg = select(_new_entry.c.id).add_cte(_new_moves, _moved_lots)


def write_entry(conn: Connection, account_pk: int, entry: Entry) -> EntryId:
    """Move the entry's lots and append it with its moves; returns the id it was given.

    The lots' CHECKs refuse a move that would overdraw a lot, and the whole write with it.
    """
    values = _entry_values(account_pk, entry)
    if conn.dialect.name == "postgresql":
        # Parameters named apart from every column: a column's name among them would be
        # taken as a value to set by the CTE's UPDATE.
        params = {f"e_{name}": value for name, value in values.items()}
        params["move_lot_ids"] = [m.lot_id for m in entry.moves]
        params["move_amounts"] = [m.amount.units for m in entry.moves]
        params["move_helds"] = [m.held.units for m in entry.moves]
        return EntryId(conn.execute(_write_entry_pg, params).scalar_one())
    apply_moves(conn, entry.moves)
    entry_id = EntryId(conn.execute(_insert_entry, values).scalar_one())
    if entry.moves:
        conn.execute(
            _insert_moves,
            [
                {
                    "account_id": account_pk,
                    "entry_id": entry_id,
                    "lot_id": m.lot_id,
                    "amount": m.amount.units,
                    "held": m.held.units,
                }
                for m in entry.moves
            ],
        )
    return entry_id


def _entry(row: Row[Any], moves: tuple[LotMove, ...]) -> Entry:
    return Entry(
        id=EntryId(row.id),
        account_id=AccountId(row.external_id),
        seq=row.seq,
        kind=EntryKind(row.kind),
        amount=Credits(row.amount),
        held_delta=Credits(row.held_delta),
        balance_after=Credits(row.balance_after),
        held_after=Credits(row.held_after),
        cost=None if row.cost is None else Credits(row.cost),
        moves=moves,
        hold_id=None if row.hold_id is None else HoldId(row.hold_id),
        ref_entry_id=None if row.ref_entry_id is None else EntryId(row.ref_entry_id),
        counterparty=None if row.counterparty is None else AccountId(row.counterparty),
        source=row.source,
        member_id=row.member_id,
        feature=row.feature,
        actor=row.actor,
        reason=row.reason,
        metadata=row.metadata or {},
        created_at=row.created_at,
        effective_at=row.effective_at,
        model=row.model,
        quantity=check_quantity(row.quantity),
        price_id=None if row.price_id is None else PriceId(row.price_id),
    )


def _with_moves(conn: Connection, rows: Sequence[Row[Any]]) -> list[Entry]:
    if not rows:
        return []
    stmt = (
        select(entry_lots)
        .where(entry_lots.c.entry_id.in_([r.id for r in rows]))
        .order_by(entry_lots.c.entry_id, entry_lots.c.lot_id)
    )
    moves: dict[int, list[LotMove]] = defaultdict(list)
    for m in conn.execute(stmt):
        moves[m.entry_id].append(
            LotMove(lot_id=LotId(m.lot_id), amount=Credits(m.amount), held=Credits(m.held))
        )
    return [_entry(r, tuple(moves[r.id])) for r in rows]


def _entries() -> Select[Any]:
    return select(entries, accounts.c.external_id).join(
        accounts, accounts.c.id == entries.c.account_id
    )


def find_entry(conn: Connection, entry_id: int) -> tuple[int, Entry] | None:
    """An entry and its account's internal key, or None."""
    row = conn.execute(_entries().where(entries.c.id == entry_id)).one_or_none()
    return None if row is None else (row.account_id, _with_moves(conn, [row])[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryFilter:
    """Which entries a history page shows."""

    kinds: frozenset[EntryKind] | None = None
    since: datetime | None = None
    until: datetime | None = None
    feature: str | None = None


def page_entries(
    conn: Connection, account_pk: int, where: EntryFilter, before_seq: int | None, limit: int
) -> list[Entry]:
    """Newest first: entries of one account matching the filter, below a sequence cursor."""
    stmt = _entries().where(entries.c.account_id == account_pk)
    if where.kinds:
        stmt = stmt.where(entries.c.kind.in_(sorted(k.value for k in where.kinds)))
    if where.since is not None:
        stmt = stmt.where(entries.c.effective_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(entries.c.effective_at < where.until)
    if where.feature is not None:
        stmt = stmt.where(entries.c.feature == where.feature)
    if before_seq is not None:
        stmt = stmt.where(entries.c.seq < before_seq)
    rows = conn.execute(stmt.order_by(entries.c.seq.desc()).limit(limit)).all()
    return _with_moves(conn, rows)


def refunded_units(conn: Connection, account_pk: int, entry_id: EntryId) -> int:
    """What refunds of one spend have returned so far."""
    stmt = select(func.coalesce(func.sum(entries.c.amount), 0)).where(
        entries.c.account_id == account_pk,
        entries.c.ref_entry_id == entry_id,
        entries.c.kind == EntryKind.REFUND.value,
    )
    return int(conn.execute(stmt).scalar_one())


def refunded_by_lot(conn: Connection, account_pk: int, entry_id: EntryId) -> dict[LotId, int]:
    """What refunds of one spend have returned to each of its lots so far (original lots only)."""
    stmt = (
        select(entry_lots.c.lot_id, func.sum(entry_lots.c.amount))
        .join(entries, entries.c.id == entry_lots.c.entry_id)
        .where(
            entries.c.account_id == account_pk,
            entries.c.ref_entry_id == entry_id,
            entries.c.kind == EntryKind.REFUND.value,
        )
        .group_by(entry_lots.c.lot_id)
    )
    return {LotId(lot_id): int(units) for lot_id, units in conn.execute(stmt)}


def sum_until(conn: Connection, account_pk: int, at: datetime) -> int:
    """The sum of the account's entries in effect at `at`: its balance then, as written."""
    stmt = select(func.coalesce(func.sum(entries.c.amount), 0)).where(
        entries.c.account_id == account_pk, entries.c.effective_at <= at
    )
    return int(conn.execute(stmt).scalar_one())


def totals_by_kind(conn: Connection, account_pk: int) -> dict[tuple[str, str | None, bool], int]:
    """Sums of amounts per (kind, source, sign), the raw material of lifetime figures.

    A grant's source is the lot source on the entry; positive adjustments, transfers in
    and refund lots are split by their lot's source through the entry's `source` column.
    """
    positive = entries.c.amount > 0
    stmt = (
        select(
            entries.c.kind, entries.c.source, positive.label("positive"), func.sum(entries.c.amount)
        )
        .where(entries.c.account_id == account_pk)
        .group_by(entries.c.kind, entries.c.source, positive)
    )
    return {
        (kind, source, bool(pos)): int(total) for kind, source, pos, total in conn.execute(stmt)
    }


def late_lot_expiries(conn: Connection, account_pk: int, at: datetime) -> dict[LotId, datetime]:
    """Lots whose expire entry took effect by `at` but was written after it, with when."""
    stmt = (
        select(entry_lots.c.lot_id, entries.c.created_at)
        .join(entries, entries.c.id == entry_lots.c.entry_id)
        .where(
            entries.c.account_id == account_pk,
            entries.c.kind == EntryKind.EXPIRE.value,
            entry_lots.c.amount < 0,
            entries.c.effective_at <= at,
            entries.c.created_at > at,
        )
    )
    return {LotId(lot_id): written_at for lot_id, written_at in conn.execute(stmt)}


def still_pinned(conn: Connection, lots_written: dict[LotId, datetime], at: datetime) -> int:
    """The part of the named lots' expire entries that was still in the balance at `at`.

    That is what the lots held for holds at `at`, less what those holds captured from them
    before each lot's expire entry was written.
    """
    if not lots_written:
        return 0
    stmt = (
        select(
            entry_lots.c.lot_id,
            entries.c.kind,
            entries.c.effective_at,
            entry_lots.c.amount,
            entry_lots.c.held,
        )
        .join(entries, entries.c.id == entry_lots.c.entry_id)
        .where(entry_lots.c.lot_id.in_(sorted(lots_written)))
    )
    units = 0
    for lot_id, kind, effective_at, amount, held in conn.execute(stmt):
        if effective_at <= at:
            units += held
        elif kind == EntryKind.SETTLE.value and effective_at <= lots_written[LotId(lot_id)]:
            units += amount
    return units

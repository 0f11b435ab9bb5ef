"""Queries over accounts and organization members."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, case, insert, literal, null, select, update

from creditgate.domain.accounts import Account, CapPeriod, Member, OwnerKind
from creditgate.domain.alerts import AlertLevel
from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId
from creditgate.domain.topups import TopUpState
from creditgate.domain.usage import UsageEvent
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.tables import (
    CATALOG_REVISION,
    accounts,
    catalog_settings,
    members,
    usage_events,
)
from creditgate.storage.usage import event_values, insert_event


@dataclass(slots=True, kw_only=True)
class AccountRow:
    """An account's stored figures, as read (and, under its lock, as changed) in one transaction.

    `balance` is the stored balance: it may still include lots that fell due and are kept
    back by a hold (`withheld_units`, set by the engine after planning what is due).
    """

    pk: int
    account: Account
    balance: int
    held: int
    debt: int
    seq: int
    next_due_at: datetime | None
    renews_at: datetime | None = None
    """When the live subscription's cycle ends (its renewal is due), or None."""
    period_started_at: datetime | None = None
    period_spent: int = 0
    period_tokens: int = 0
    tokens_used: int = 0
    top_up_threshold: int | None = None
    """Auto top-up's line in units (None: off)."""
    top_up_state: TopUpState | None = None
    alert_low: int | None = None
    """The account's own low-balance line in units (None: the catalog's default applies)."""
    alert_level: AlertLevel = AlertLevel.OK
    withheld_units: int = 0
    catalog_revision: str | None = None
    """The catalog's revision when the row was read: a priced call's cache key."""


def _account(row: Row[Any]) -> Account:
    return Account(
        id=AccountId(row.external_id),
        owner_kind=OwnerKind(row.owner_kind),
        floor=Credits(row.floor),
        is_unlimited=row.is_unlimited,
        is_frozen=row.is_frozen,
        created_at=row.created_at,
        metadata=row.metadata or {},
    )


def _account_row(row: Row[Any]) -> AccountRow:
    return AccountRow(
        pk=row.id,
        account=_account(row),
        balance=row.balance,
        held=row.held,
        debt=row.debt,
        seq=row.seq,
        next_due_at=row.next_due_at,
        renews_at=row.renews_at,
        period_started_at=row.period_started_at,
        period_spent=row.period_spent,
        period_tokens=row.period_tokens,
        tokens_used=row.tokens_used,
        top_up_threshold=row.top_up_threshold,
        top_up_state=None if row.top_up_state is None else TopUpState(row.top_up_state),
        alert_low=row.alert_low,
        alert_level=AlertLevel(row.alert_level),
        catalog_revision=row.catalog_revision,
    )


def insert_account(
    conn: Connection,
    *,
    account_id: AccountId,
    owner_kind: OwnerKind,
    floor: Credits,
    is_unlimited: bool,
    metadata: dict[str, Any],
    now: datetime,
) -> bool:
    """Create the account unless its id exists; True when this call created it."""
    values = {
        "external_id": account_id,
        "owner_kind": owner_kind.value,
        "balance": 0,
        "held": 0,
        "debt": 0,
        "floor": floor.units,
        "is_unlimited": is_unlimited,
        "is_frozen": False,
        "seq": 0,
        "next_due_at": None,
        "metadata": metadata,
        "created_at": now,
        "renews_at": None,
        "period_started_at": None,
        "period_spent": 0,
        "period_tokens": 0,
        "tokens_used": 0,
    }
    return insert_if_absent(conn, accounts, values)


# Hot-path statements are built once: constructing one per call costs more than running it.
# The catalog's revision rides along with the account's row: a priced call learns whether
# its cached prices are current without a round trip of its own.
_revision = (
    select(catalog_settings.c.value)
    .where(catalog_settings.c.key == CATALOG_REVISION)
    .scalar_subquery()
    .label("catalog_revision")
)
_by_external_id = select(accounts, _revision).where(
    accounts.c.external_id == bindparam("external_id")
)
_by_external_id_locked = _by_external_id.with_for_update(of=accounts)
_by_pk = select(accounts, _revision).where(accounts.c.id == bindparam("pk"))
_by_pk_locked = _by_pk.with_for_update(of=accounts)
_save_figures = (
    update(accounts)
    .where(accounts.c.id == bindparam("pk"))
    .values(
        balance=bindparam("balance"),
        held=bindparam("held"),
        debt=bindparam("debt"),
        seq=bindparam("seq"),
        next_due_at=bindparam("next_due_at"),
        renews_at=bindparam("renews_at"),
        period_started_at=bindparam("period_started_at"),
        period_spent=bindparam("period_spent"),
        period_tokens=bindparam("period_tokens"),
        tokens_used=bindparam("tokens_used"),
        top_up_threshold=bindparam("top_up_threshold"),
        top_up_state=bindparam("top_up_state"),
        alert_low=bindparam("alert_low"),
        alert_level=bindparam("alert_level"),
    )
)


def find_account(conn: Connection, account_id: str, *, lock: bool = False) -> AccountRow | None:
    """Read an account by the app's id; with `lock`, take its row lock until commit.

    The row lock is what serializes every writer of one account (on SQLite the
    transaction's `BEGIN IMMEDIATE` already serializes all writers).
    """
    stmt = _by_external_id_locked if lock else _by_external_id
    row = conn.execute(stmt, {"external_id": account_id}).one_or_none()
    return None if row is None else _account_row(row)


def find_account_by_pk(conn: Connection, pk: int, *, lock: bool = False) -> AccountRow:
    """Read an account by its internal key (the account of a hold or entry)."""
    stmt = _by_pk_locked if lock else _by_pk
    return _account_row(conn.execute(stmt, {"pk": pk}).one())


# PostgreSQL writes the figures and a use's event in one statement (one round trip).
# The event's parameters are named apart from the columns of `accounts`.
_save_figures_and_event = _save_figures.add_cte(
    insert(usage_events)
    .values(
        {c.name: bindparam(f"u_{c.name}", type_=c.type) for c in usage_events.c if c.name != "id"}
    )
    .cte("new_event")
)


def save_figures(conn: Connection, row: AccountRow, events: Sequence[UsageEvent] = ()) -> None:
    """Write back figures changed under the account's lock, with the usage events of its uses."""
    figures = {
        "pk": row.pk,
        "balance": row.balance,
        "held": row.held,
        "debt": row.debt,
        "seq": row.seq,
        "next_due_at": row.next_due_at,
        "renews_at": row.renews_at,
        "period_started_at": row.period_started_at,
        "period_spent": row.period_spent,
        "period_tokens": row.period_tokens,
        "tokens_used": row.tokens_used,
        "top_up_threshold": row.top_up_threshold,
        "top_up_state": None if row.top_up_state is None else row.top_up_state.value,
        "alert_low": row.alert_low,
        "alert_level": row.alert_level.value,
    }
    if len(events) == 1 and conn.dialect.name == "postgresql":
        values = {f"u_{k}": v for k, v in event_values(row.pk, events[0]).items()}
        conn.execute(_save_figures_and_event, figures | values)
        return
    for event in events:
        insert_event(conn, row.pk, event)
    conn.execute(_save_figures, figures)


def lower_next_due_at(row: AccountRow, at: datetime) -> None:
    """Make the account due no later than `at` (a new lot or hold that will expire)."""
    if row.next_due_at is None or at < row.next_due_at:
        row.next_due_at = at


def save_settings(conn: Connection, pk: int, values: dict[str, Any]) -> None:
    """Write changed settings: frozen, unlimited, floor, metadata."""
    conn.execute(update(accounts).where(accounts.c.id == pk).values(values))


def due_account_pks(conn: Connection, now: datetime, after_pk: int, limit: int) -> list[int]:
    """Accounts with something due at `now`, in key order after `after_pk` (one pass, once each)."""
    stmt = (
        select(accounts.c.id)
        .where(accounts.c.next_due_at <= now, accounts.c.id > after_pk)
        .order_by(accounts.c.id)
        .limit(limit)
    )
    return list(conn.execute(stmt).scalars())


def _member(account_id: AccountId, row: Row[Any]) -> Member:
    cap = None if row.spend_cap is None else Credits(row.spend_cap)
    return Member(
        account_id=account_id,
        member_id=row.member_id,
        spend_cap=cap,
        spent=Credits(row.spent),
        cap_period=None if row.cap_period is None else CapPeriod(row.cap_period),
        period_started_at=row.period_started_at,
    )


def upsert_member(
    conn: Connection,
    row: AccountRow,
    member_id: str,
    spend_cap: Credits | None,
    cap_period: CapPeriod | None,
    now: datetime,
) -> Member:
    """Add a member, or change an existing member's cap and what it counts."""
    cap = None if spend_cap is None else spend_cap.units
    period = None if cap_period is None else cap_period.value
    values = {
        "account_id": row.pk,
        "member_id": member_id,
        "spend_cap": cap,
        "spent": 0,
        "cap_period": period,
    }
    if not insert_if_absent(conn, members, {**values, "created_at": now}):
        conn.execute(
            update(members)
            .where(members.c.account_id == row.pk, members.c.member_id == member_id)
            .values(spend_cap=cap, cap_period=period)
        )
    found = find_member(conn, row, member_id)
    assert found is not None
    return found


def find_member(conn: Connection, row: AccountRow, member_id: str) -> Member | None:
    """One member of an organization's account, or None."""
    stmt = select(members).where(members.c.account_id == row.pk, members.c.member_id == member_id)
    found = conn.execute(stmt).one_or_none()
    return None if found is None else _member(row.account.id, found)


def list_members(conn: Connection, row: AccountRow) -> list[Member]:
    """Every member of an organization's account, by id."""
    stmt = select(members).where(members.c.account_id == row.pk).order_by(members.c.member_id)
    return [_member(row.account.id, found) for found in conn.execute(stmt)]


def delete_member(conn: Connection, row: AccountRow, member_id: str) -> bool:
    """Remove a member; True when there was one."""
    stmt = members.delete().where(members.c.account_id == row.pk, members.c.member_id == member_id)
    return conn.execute(stmt).rowcount == 1


def add_member_spent(
    conn: Connection,
    row: AccountRow,
    member_id: str,
    units: int,
    *,
    starts: Mapping[CapPeriod, datetime | None],
    spent_at: datetime | None,
) -> None:
    """Count a member's spend against their cap (negative for a refund, never below zero).

    `starts` gives where the current period of each kind began; the member's `cap_period`
    picks one. A total kept for an earlier period starts again from zero, and a refund of a
    spend made before the current period began (`spent_at`) gives nothing back.
    """
    when = members.c.period_started_at.type
    start: Any = case(
        *(
            (members.c.cap_period == period.value, literal(at, when))
            for period, at in starts.items()
        ),
        else_=null(),
    )
    delta: Any = units
    if spent_at is not None:
        delta = case((start > literal(spent_at, when), 0), else_=units)
    kept = case(
        (members.c.cap_period.is_(None), members.c.spent),
        (members.c.period_started_at == start, members.c.spent),
        else_=0,
    )
    spent = kept + delta
    conn.execute(
        update(members)
        .where(members.c.account_id == row.pk, members.c.member_id == member_id)
        .values(spent=case((spent < 0, 0), else_=spent), period_started_at=start)
    )

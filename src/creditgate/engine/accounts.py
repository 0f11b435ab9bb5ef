"""Accounts: create or get by the app's id, change settings, manage organization members."""

from typing import Any

from sqlalchemy import Connection

from creditgate.domain.accounts import Account, CapPeriod, Member, OwnerKind
from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput, MemberNotFound
from creditgate.domain.ids import AccountId
from creditgate.domain.lots import LotSource
from creditgate.engine import alerts, renewals
from creditgate.engine.books import Books
from creditgate.engine.catalog import welcome_credits
from creditgate.engine.grants import grant
from creditgate.engine.members import cap_period_start
from creditgate.storage import accounts as rows


def create(
    conn: Connection,
    *,
    account_id: AccountId,
    owner_kind: OwnerKind,
    floor: Credits,
    is_unlimited: bool,
    metadata: dict[str, Any],
    books: Books,
) -> Account:
    """Create the account, or return it unchanged when the id exists (get-or-create).

    Settings of an existing account change only through `update`, so a retried create
    can never reset a wallet. A new account receives the catalog's welcome credits once,
    and starts on the default plan when there is one.
    """
    created = rows.insert_account(
        conn,
        account_id=account_id,
        owner_kind=owner_kind,
        floor=floor,
        is_unlimited=is_unlimited,
        metadata=metadata,
        now=books.now,
    )
    row = books.lock(account_id)
    welcome = welcome_credits(conn) if created else None
    if welcome is not None:
        # Once per account: only the call that created the account grants them.
        grant(
            books,
            row,
            welcome,
            source=LotSource.WELCOME,
            expires_at=None,
            priority=0,
            metadata={},
        )
    if created:
        renewals.fall_back(books, row, books.now)
        alerts.start_level(books, row)
    return row.account


def update(
    books: Books,
    row: rows.AccountRow,
    *,
    is_frozen: bool | None,
    is_unlimited: bool | None,
    floor: Credits | None,
    metadata: dict[str, Any] | None,
) -> Account:
    """Change an account's settings; unnamed settings keep their value.

    Raises:
        InvalidInput: a floor above the current balance (it would already be broken).
    """
    values: dict[str, Any] = {}
    if is_frozen is not None:
        values["is_frozen"] = is_frozen
    if is_unlimited is not None:
        values["is_unlimited"] = is_unlimited
    if floor is not None:
        if row.balance - row.withheld_units < floor.units:
            raise InvalidInput(field="floor", reason="the balance is already below this floor")
        values["floor"] = floor.units
    if metadata is not None:
        values["metadata"] = metadata
    if values:
        rows.save_settings(books.conn, row.pk, values)
    found = rows.find_account_by_pk(books.conn, row.pk)
    return found.account


def add_member(
    books: Books,
    row: rows.AccountRow,
    member_id: str,
    spend_cap: Credits | None,
    cap_period: CapPeriod | None,
) -> Member:
    """Let a person spend from an organization's wallet (or change their cap).

    Raises:
        InvalidInput: the account is not an organization's, or the cap is negative.
    """
    if row.account.owner_kind is not OwnerKind.ORGANIZATION:
        raise InvalidInput(field="account_id", reason="only an organization's account has members")
    if spend_cap is not None and spend_cap.units < 0:
        raise InvalidInput(field="spend_cap", reason="must not be negative")
    member = rows.upsert_member(books.conn, row, member_id, spend_cap, cap_period, books.now)
    return member.as_of(cap_period_start(row, member.cap_period, books.now))


def remove_member(books: Books, row: rows.AccountRow, member_id: str) -> None:
    """Stop a person spending from the wallet; their past usage stays attributed.

    Raises:
        MemberNotFound: the person is not a member.
    """
    if not rows.delete_member(books.conn, row, member_id):
        raise MemberNotFound(member_id)

"""Balance alerts' use cases: move an account's level where its figures are written.

`Books.save` calls `move_level` for every account a transaction locked, from the figures
about to be written (available = balance - withheld - held), as auto top-up does. The
line is the account's own (on its row) or the catalog's default, cached per catalog
revision: an account with no line, or whose level does not change, costs no query. A
change of level emits its crossings (see `domain.alerts`) into the outbox, in the same
transaction.
"""

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from creditgate.domain.alerts import AlertLevel, BalanceAlert, crossings, level_of
from creditgate.domain.amounts import Credits
from creditgate.engine.catalog import low_balance_default
from creditgate.storage.accounts import AccountRow
from creditgate.storage.revision_cache import RevisionCache

if TYPE_CHECKING:
    from creditgate.engine.books import Books


def _default_units(conn: Connection) -> int | None:
    found = low_balance_default(conn)
    return None if found is None else found.units


def default_line(conn: Connection, cache: RevisionCache, row: AccountRow) -> int | None:
    """The catalog's default line in units, as of the revision read with `row`."""
    return cache.get(conn, row.catalog_revision, "alerts_low", _default_units)


def _line(books: "Books", row: AccountRow) -> int | None:
    """The line in force: the account's own, else the catalog's default (cached)."""
    if row.alert_low is not None:
        return row.alert_low
    return default_line(books.conn, books.cache, row)


def start_level(books: "Books", row: AccountRow) -> None:
    """Give a new account the level its first figures are at, silently.

    A new account crossed nothing: one that starts at zero under a default line is
    depleted from the start, not an event on every sign-up.
    """
    available = row.balance - row.withheld_units - row.held
    row.alert_level = level_of(available_units=available, low_units=_line(books, row))


def move_level(books: "Books", row: AccountRow) -> None:
    """Set the account's level from its figures; emit what the move crosses."""
    line = _line(books, row)
    if line is None:
        # No line: nothing to tell, and the next line starts from a clean `ok`.
        row.alert_level = AlertLevel.OK
        return
    available = row.balance - row.withheld_units - row.held
    level = level_of(available_units=available, low_units=line)
    if level is row.alert_level:
        return
    data = {
        "level": level.value,
        "previous_level": row.alert_level.value,
        "low": str(Credits(line)),
        "available": str(Credits(available)),
        "balance": str(Credits(row.balance - row.withheld_units)),
        "held": str(Credits(row.held)),
    }
    for event_type in crossings(row.alert_level, level):
        books.emit(row, event_type, data)
    row.alert_level = level


def view(books: "Books", row: AccountRow) -> BalanceAlert:
    """The account's line, the catalog's default and its level as this transaction leaves it."""
    default = default_line(books.conn, books.cache, row)
    return BalanceAlert(
        account_id=row.account.id,
        low=None if row.alert_low is None else Credits(row.alert_low),
        default_low=None if default is None else Credits(default),
        level=row.alert_level,
    )


def read(conn: Connection, row: AccountRow) -> BalanceAlert:
    """The account's alert as stored (a read: no cache, no lock)."""
    default = _default_units(conn)
    return BalanceAlert(
        account_id=row.account.id,
        low=None if row.alert_low is None else Credits(row.alert_low),
        default_low=None if default is None else Credits(default),
        level=row.alert_level,
    )

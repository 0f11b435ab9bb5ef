"""Balance alerts' half of the `Engine`: an account's own low-balance line, set and read.

The catalog's default line (`[alerts] low = "10"` in a catalog file) covers every account
that sets none; the events of a crossing go to the webhook endpoints that listen to them.
"""

from creditgate.domain.accounts import check_account_id
from creditgate.domain.alerts import BalanceAlert
from creditgate.domain.amounts import AmountLike, Credits
from creditgate.engine import alerts, history
from creditgate.engine.books import transaction
from creditgate.engine.clock import Clock
from creditgate.storage.database import Database


class AlertVerbs:
    """Balance alerts (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def set_balance_alert(self, account_id: str, *, low: AmountLike | None) -> BalanceAlert:
        """Raise `balance.low` when available credits fall below `low` (None: the default).

        With None the account follows the catalog's default line again. The level moves
        at once: a line set above the balance is crossed now, and raises its events.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a line that is not a positive amount.
        """
        checked = check_account_id(account_id)
        line = None if low is None else Credits.positive(low, field="low")
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            row.alert_low = None if line is None else line.units
            alerts.move_level(books, row)
            return alerts.view(books, row)

    def balance_alert(self, account_id: str) -> BalanceAlert:
        """The account's low-balance line, the catalog's default, and the level it is at.

        Raises:
            AccountNotFound: no account has this id.
        """
        checked = check_account_id(account_id)
        with self.db.read() as conn:
            return alerts.read(conn, history.open_account(conn, checked))

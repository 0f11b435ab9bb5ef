"""The expiry pass: write the entries of lots and holds that have fallen due, and renewals.

The pass does not decide anything: expiry is decided at query time from `expires_at`, and
every write on an account writes its own due entries first. The pass makes the ledger
prompt for accounts nobody touches. It lists due accounts in batches and handles each in
its own short transaction, so it never keeps an app's request waiting for more than one
account's expiries; on SQLite, where there is one writer, it also leaves the lock free
between accounts for as long as it held it, so the app's writes go first. Each due account
is visited once per pass; two passes running at once serialize per account on its row lock,
and the second finds nothing left to write.
"""

import time

from creditgate.domain.amounts import Credits
from creditgate.domain.limits import SWEEP_BATCH_MAX
from creditgate.domain.results import ExpirePass
from creditgate.engine.books import Tally, transaction
from creditgate.engine.clock import Clock
from creditgate.storage.accounts import due_account_pks
from creditgate.storage.database import Database


def expire(db: Database, clock: Clock, *, batch_size: int = SWEEP_BATCH_MAX) -> ExpirePass:
    """Write every expiry and renewal due now; returns what this pass wrote."""
    total = Tally()
    accounts = 0
    after_pk = 0
    while True:
        with db.read() as conn:
            pks = due_account_pks(conn, clock.now(), after_pk, batch_size)
        for pk in pks:
            started = time.monotonic()
            with transaction(db, clock) as books:
                books.lock_pk(pk)
            if db.is_sqlite:
                # SQLite has one writer: a pass that takes the lock again the moment it
                # commits leaves the app's writers waiting in their busy handler for the
                # whole pass. Leaving the lock as long as it was held lets them in, at half
                # the pass's speed.
                time.sleep(time.monotonic() - started)
            if books.tally.is_empty:
                continue
            accounts += 1
            for name in ("lots_expired", "units_expired", "holds_expired", "cycles_granted"):
                setattr(total, name, getattr(total, name) + getattr(books.tally, name))
        if len(pks) < batch_size:
            break
        after_pk = pks[-1]
    return ExpirePass(
        accounts=accounts,
        lots_expired=total.lots_expired,
        holds_expired=total.holds_expired,
        credits_expired=Credits(total.units_expired),
        cycles_granted=total.cycles_granted,
    )

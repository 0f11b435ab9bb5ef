"""The referrals' use cases: record who referred an account, and grant both bonuses once.

A referral is recorded in one transaction with both accounts locked in id order (like a
transfer, the other operation that spans two accounts): the referral's row, keyed by the
referee, is the claim that makes an account referred once; on the `signup` condition the
two lots are granted in that same transaction. On `first_purchase` the referral waits,
pending, until a purchase of the referee is paid: `reward_first_purchase`, called in the
purchase's own transaction, grants both lots then and marks the referral granted with a
conditional UPDATE, so however many purchases are paid, the bonuses are paid once.

**Locking when the referee is already locked.** A purchase's transaction has locked the
referee before it learns that a referral is pending, and the referrer must be locked too
to be granted. When the referrer's id is above the referee's, that is id order. When it is
below (the usual case: the referrer is the older account), the lock is taken out of order,
by choice, rather than leaving the referrer's bonus to a later transaction:

- on SQLite nothing can wait in a circle: one writer at a time holds the database;
- on PostgreSQL a wait in a circle needs another transaction that holds the referrer and
  waits for the referee, one that spans these very two accounts: a transfer between them,
  a referral being recorded for this referee (refused anyway), or the mirror reward. The
  server detects the circle within `deadlock_timeout` and aborts one of the two, which
  changes nothing (its transaction rolls back whole) and is retried: a provider redelivers
  its event, a client resends its call with the same idempotency key;
- splitting the referrer's grant into a transaction of its own would need a second claim
  and a sweeper to finish it: more moving parts to guard a collision this rare.

A caller that can lock before it knows may take both locks in id order from the start with
`lock_referee`; `reward_first_purchase` then finds the referrer locked already.
"""

from dataclasses import replace
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import ReferralExists, ReferralsOff
from creditgate.domain.lots import LotSource
from creditgate.domain.referrals import (
    Referral,
    ReferralCondition,
    ReferralStatus,
    ReferralTerms,
    check_referrer,
)
from creditgate.engine import transfers
from creditgate.engine.books import Books
from creditgate.storage import referrals as rows
from creditgate.storage.accounts import AccountRow, find_account


def lock_pair(books: Books, referee_id: str, referrer_id: str) -> tuple[AccountRow, AccountRow]:
    """Lock the referee and the referrer in id order: (referee, referrer).

    Raises:
        InvalidInput: both ids are the same account.
        AccountNotFound: either account does not exist.
    """
    check_referrer(referee_id, referrer_id)
    return transfers.lock_pair(books, referee_id, referrer_id)


def lock_referee(books: Books, account_id: str) -> AccountRow:
    """Lock an account and, when it has a pending referral, its referrer, in id order.

    For a transaction that may pay the account's first purchase: `reward_first_purchase`
    then needs no lock out of order.

    Raises:
        AccountNotFound: no account has this id.
    """
    row = find_account(books.conn, account_id)
    found = None if row is None else rows.find_referral(books.conn, row.pk)
    if row is None or found is None or found.referral.status is not ReferralStatus.PENDING:
        return books.lock(account_id)
    for pk in sorted((found.referee_pk, found.referrer_pk)):
        books.lock_pk(pk)
    return books.lock_pk(found.referee_pk)


def refer(
    books: Books,
    referee: AccountRow,
    referrer: AccountRow,
    terms: ReferralTerms | None,
) -> Referral:
    """Record that `referrer` referred `referee` (both locked), on the catalog's terms.

    On `signup` both lots are granted now; on `first_purchase` the referral waits.

    Raises:
        ReferralsOff: the catalog offers no referral bonus.
        ReferralExists: the referee was referred already (by anyone).
    """
    if terms is None:
        raise ReferralsOff()
    is_now = terms.condition is ReferralCondition.SIGNUP
    referral = Referral(
        referee_id=referee.account.id,
        referrer_id=referrer.account.id,
        condition=terms.condition,
        status=ReferralStatus.GRANTED if is_now else ReferralStatus.PENDING,
        referrer_credits=terms.referrer_credits,
        referee_credits=terms.referee_credits,
        created_at=books.now,
        granted_at=books.now if is_now else None,
    )
    if not rows.insert_referral(
        books.conn, referee_pk=referee.pk, referrer_pk=referrer.pk, referral=referral
    ):
        raise ReferralExists(account_id=referee.account.id)
    if is_now:
        _grant_bonuses(books, referee, referrer, referral)
    return referral


def reward_first_purchase(books: Books, referee_row: AccountRow) -> None:
    """Grant a pending referral's bonuses, in the transaction of a purchase the referee paid.

    Call it whenever a purchase of the (locked) referee is paid: it grants at most once,
    and does nothing for an account that was not referred or whose referral was granted.
    The referrer is locked here when the caller has not locked it (see the module's notes
    on lock order).
    """
    found = rows.find_referral(books.conn, referee_row.pk)
    if found is None or found.referral.status is not ReferralStatus.PENDING:
        return
    referrer = books.lock_pk(found.referrer_pk)
    # Conditional on `pending`: a second writer that also read it pending grants nothing.
    if not rows.mark_granted(books.conn, referee_row.pk, books.now):
        return
    granted = replace(found.referral, status=ReferralStatus.GRANTED, granted_at=books.now)
    _grant_bonuses(books, referee_row, referrer, granted)


def _grant_bonuses(
    books: Books, referee: AccountRow, referrer: AccountRow, referral: Referral
) -> None:
    """A lot of source `referral` to each side offered something; each names the other."""
    sides: tuple[tuple[AccountRow, Credits, dict[str, Any]], ...] = (
        (
            referrer,
            referral.referrer_credits,
            {"referral": "referrer", "referee": referee.account.id},
        ),
        (
            referee,
            referral.referee_credits,
            {"referral": "referee", "referrer": referrer.account.id},
        ),
    )
    for row, amount, metadata in sides:
        if amount:
            books.grant_lot(
                row,
                amount,
                source=LotSource.REFERRAL,
                expires_at=None,
                priority=0,
                metadata=metadata,
            )

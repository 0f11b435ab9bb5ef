"""The promo codes' use cases: create and change a code, and redeem one.

A redemption runs in the account's write transaction, after its lock: the redemption is
claimed there (the code's count, by one conditional UPDATE, and the account's row of
redemptions, by its unique key) and the lot is granted there, so a failure at any step
leaves neither the claim nor the credits. Locks are always taken account first, code
second, and a change to a code takes the code's row alone: no two transactions can wait
for each other in a circle.

A popular code's redemptions queue on its row for the rest of their transactions; a
redemption is one short transaction, so the queue moves at the speed of commits.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from creditgate.domain.errors import PromoExists, PromoNotFound, PromoRedeemed, PromoUnavailable
from creditgate.domain.lots import LotSource
from creditgate.domain.promos import (
    Promo,
    PromoRefusal,
    PromoSpec,
    check_maximum,
    parse_promo,
    promo_data,
    refusal,
)
from creditgate.domain.results import Receipt
from creditgate.engine.books import Books
from creditgate.storage import promos as rows
from creditgate.storage.accounts import AccountRow


def create_promo(conn: Connection, now: datetime, spec: PromoSpec) -> Promo:
    """Add a promo code, redeemed by nobody yet.

    Raises:
        PromoExists: the code is taken (by an active or an inactive code).
    """
    if rows.find_promo(conn, spec.code) is not None:
        raise PromoExists(key=spec.code)
    return rows.insert_promo(conn, spec, now)


def update_promo(
    conn: Connection, now: datetime, code: str, changes: Mapping[str, object]
) -> Promo:
    """Change a code's settings, given as engine keywords; redemptions made stay made.

    The code's row is locked first, so the maximum is checked against a count that no
    redemption can move before this change commits.

    Raises:
        PromoNotFound: no promo code is this code.
        InvalidInput: a bad value, or a maximum below the redemptions already made.
    """
    found = rows.find_promo(conn, code, lock=True)
    if found is None:
        raise PromoNotFound(code)
    pk, promo = found
    spec = parse_promo({**promo_data(promo.spec()), **changes})
    check_maximum(promo, spec.max_redemptions)
    if spec == promo.spec():
        return promo
    return rows.save_promo(conn, pk, spec, now)


def redeem(books: Books, row: AccountRow, code: str) -> Receipt:
    """Grant the code's credits to a locked account, once, as a lot of source `promo`.

    The lot and its entry carry the code in their metadata (`{"promo": code}`).

    Raises:
        PromoNotFound: no promo code is this code.
        PromoUnavailable: it is inactive, outside its window, or used up.
        PromoRedeemed: the account has redeemed it already.
    """
    found = rows.find_promo(books.conn, code)
    if found is None:
        raise PromoNotFound(code)
    pk, promo = found
    # Under the account's lock, no other redemption by this account can commit meanwhile.
    if rows.has_redeemed(books.conn, pk, row.pk):
        raise PromoRedeemed(key=code)
    refused = refusal(promo, books.now)
    if refused is not None:
        raise PromoUnavailable(key=code, reason=refused.value)
    claimed = rows.claim_redemption(books.conn, pk, books.now)
    if claimed is None:
        # The code changed since it was read (used up, switched off): say how it is now.
        found = rows.find_promo(books.conn, code)
        assert found is not None, "a promo code is never deleted"
        refused = refusal(found[1], books.now) or PromoRefusal.USED_UP
        raise PromoUnavailable(key=code, reason=refused.value)
    entry = books.grant_lot(
        row,
        claimed.credits,
        source=LotSource.PROMO,
        expires_at=claimed.lot_expires_at(books.now),
        priority=0,
        metadata={"promo": code},
    )
    # The key is the guard; the check above only answers early. Refused here, the whole
    # transaction rolls back: the count and the grant with it.
    if not rows.record_redemption(
        books.conn, pk=pk, account_pk=row.pk, entry_id=entry.id, now=books.now
    ):
        raise PromoRedeemed(key=code)
    return Receipt(entry=entry, balance=books.balance(row))

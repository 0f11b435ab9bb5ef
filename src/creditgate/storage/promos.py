"""Queries over promo codes and their redemptions.

A redemption is claimed by two writes in the grant's own transaction: `claim_redemption`,
one conditional UPDATE that counts it only while the code is redeemable and below its
maximum (so concurrent redemptions can never count past it), and `record_redemption`, a
row whose key (account, code) makes a code grant once per account.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import EntryId
from creditgate.domain.promos import Promo, PromoSpec
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.tables import promo_codes, promo_redemptions


def _promo(row: Row[Any]) -> Promo:
    return Promo(
        code=row.code,
        credits=Credits(row.credits),
        expires_after_days=row.expires_after_days,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        max_redemptions=row.max_redemptions,
        is_active=row.is_active,
        redeemed=row.redeemed,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _values(spec: PromoSpec) -> dict[str, Any]:
    return {
        "code": spec.code,
        "credits": spec.credits.units,
        "expires_after_days": spec.expires_after_days,
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
        "max_redemptions": spec.max_redemptions,
        "is_active": spec.is_active,
    }


def find_promo(conn: Connection, code: str, *, lock: bool = False) -> tuple[int, Promo] | None:
    """A promo code and its key, by its (upper-case) code; with `lock`, its row lock."""
    stmt = select(promo_codes).where(promo_codes.c.code == code)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    return None if row is None else (row.id, _promo(row))


def list_promos(conn: Connection, *, active_only: bool) -> list[Promo]:
    """Promo codes by code."""
    stmt = select(promo_codes).order_by(promo_codes.c.code)
    if active_only:
        stmt = stmt.where(promo_codes.c.is_active)
    return [_promo(row) for row in conn.execute(stmt)]


def insert_promo(conn: Connection, spec: PromoSpec, now: datetime) -> Promo:
    """Store a new promo code, redeemed by nobody yet; its code must be free."""
    values = {**_values(spec), "redeemed": 0, "created_at": now, "updated_at": now}
    return _promo(conn.execute(insert(promo_codes).values(values).returning(promo_codes)).one())


def save_promo(conn: Connection, pk: int, spec: PromoSpec, now: datetime) -> Promo:
    """Write a promo code's new settings (its count stays as the claims made it)."""
    stmt = (
        update(promo_codes)
        .where(promo_codes.c.id == pk)
        .values({**_values(spec), "updated_at": now})
        .returning(promo_codes)
    )
    return _promo(conn.execute(stmt).one())


def claim_redemption(conn: Connection, pk: int, now: datetime) -> Promo | None:
    """Count one redemption of the code if it is redeemable at `now`; None when it is not.

    One statement decides and counts: the row lock the UPDATE takes makes concurrent
    claims of one code wait for each other, and each re-checks the condition on the row
    as the one before it left it (PostgreSQL re-evaluates the WHERE after the wait;
    SQLite has one writer at a time). The answer is the code as claimed, so the grant
    gives exactly what the counted redemption was for.
    """
    c = promo_codes.c
    stmt = (
        update(promo_codes)
        .where(
            c.id == pk,
            c.is_active,
            or_(c.starts_at.is_(None), c.starts_at <= now),
            or_(c.ends_at.is_(None), c.ends_at > now),
            or_(c.max_redemptions.is_(None), c.redeemed < c.max_redemptions),
        )
        .values(redeemed=c.redeemed + 1)
        .returning(promo_codes)
    )
    row = conn.execute(stmt).one_or_none()
    return None if row is None else _promo(row)


def has_redeemed(conn: Connection, pk: int, account_pk: int) -> bool:
    """Whether the account has redeemed the code."""
    stmt = select(promo_redemptions.c.promo_id).where(
        promo_redemptions.c.account_id == account_pk, promo_redemptions.c.promo_id == pk
    )
    return conn.execute(stmt).first() is not None


def record_redemption(
    conn: Connection, *, pk: int, account_pk: int, entry_id: EntryId, now: datetime
) -> bool:
    """Record the account's redemption of the code; False when it had one already.

    The key (account, code) is the once-per-account claim, written with the grant.
    """
    values = {"account_id": account_pk, "promo_id": pk, "entry_id": entry_id, "created_at": now}
    return insert_if_absent(conn, promo_redemptions, values)

"""Queries over referrals: who referred whom, on which terms, and whether it was granted.

The referral's key is the referee's account: inserting it is the claim that makes an
account referred once, written in the transaction that grants (or will grant) its bonuses.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId
from creditgate.domain.referrals import Referral, ReferralCondition, ReferralStatus
from creditgate.storage.dialects import insert_if_absent
from creditgate.storage.tables import accounts, referrals


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralRow:
    """A referral as stored, with both accounts' keys: what granting it needs."""

    referee_pk: int
    referrer_pk: int
    referral: Referral


_referee = accounts.alias("referee")
_referrer = accounts.alias("referrer")

_joined = (
    select(
        referrals,
        _referee.c.external_id.label("referee_external_id"),
        _referrer.c.external_id.label("referrer_external_id"),
    )
    .join(_referee, _referee.c.id == referrals.c.account_id)
    .join(_referrer, _referrer.c.id == referrals.c.referrer_id)
)


def _row(row: Row[Any]) -> ReferralRow:
    return ReferralRow(
        referee_pk=row.account_id,
        referrer_pk=row.referrer_id,
        referral=Referral(
            referee_id=AccountId(row.referee_external_id),
            referrer_id=AccountId(row.referrer_external_id),
            condition=ReferralCondition(row.condition),
            status=ReferralStatus(row.status),
            referrer_credits=Credits(row.referrer_credits),
            referee_credits=Credits(row.referee_credits),
            created_at=row.created_at,
            granted_at=row.granted_at,
        ),
    )


def insert_referral(
    conn: Connection, *, referee_pk: int, referrer_pk: int, referral: Referral
) -> bool:
    """Record a referral; False when the referee was referred already (nothing is written)."""
    values = {
        "account_id": referee_pk,
        "referrer_id": referrer_pk,
        "condition": referral.condition.value,
        "status": referral.status.value,
        "referrer_credits": referral.referrer_credits.units,
        "referee_credits": referral.referee_credits.units,
        "created_at": referral.created_at,
        "granted_at": referral.granted_at,
    }
    return insert_if_absent(conn, referrals, values)


def find_referral(conn: Connection, referee_pk: int) -> ReferralRow | None:
    """The referral of a referee, if it was referred."""
    row = conn.execute(_joined.where(referrals.c.account_id == referee_pk)).one_or_none()
    return None if row is None else _row(row)


def list_referrals(conn: Connection, referrer_pk: int) -> list[Referral]:
    """The referrals an account made, oldest first."""
    stmt = _joined.where(referrals.c.referrer_id == referrer_pk).order_by(
        referrals.c.created_at, referrals.c.account_id
    )
    return [_row(row).referral for row in conn.execute(stmt)]


def mark_granted(conn: Connection, referee_pk: int, now: datetime) -> bool:
    """Mark a pending referral granted; False when it was not pending.

    Conditional on `pending`, so a referral is marked (and its bonuses paid) once even if
    two writers both saw it pending.
    """
    stmt = (
        update(referrals)
        .where(
            referrals.c.account_id == referee_pk,
            referrals.c.status == ReferralStatus.PENDING.value,
        )
        .values(status=ReferralStatus.GRANTED.value, granted_at=now)
        .returning(referrals.c.account_id)
    )
    return conn.execute(stmt).first() is not None

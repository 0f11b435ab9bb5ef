"""Referrals: a bonus for the account that brought a new one in, and for the new one.

The catalog's `[referrals]` table sets the terms: `referrer_credits` for the account that
referred, `referee_credits` for the account it referred, and the `condition` on which both
are granted. `signup` grants them when the referral is recorded; `first_purchase` leaves
the referral pending until a purchase of the referee is paid after it was recorded (a
customer who bought before being referred cannot earn a referrer a bonus in hindsight).

A referral keeps the terms in force when it was recorded: a pending referral is paid what
was offered when it was made, whatever the catalog says by the time the purchase is paid.

An account is referred once, by one referrer, never by itself; it may refer any number of
accounts. Each side's bonus is one lot of source `referral`; a side offered nothing gets
no lot.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import AccountId


class ReferralCondition(StrEnum):
    """When a referral's bonuses are granted."""

    SIGNUP = "signup"
    """As soon as the referral is recorded."""
    FIRST_PURCHASE = "first_purchase"
    """When the referee's first purchase after the referral is paid."""


class ReferralStatus(StrEnum):
    """Where a referral stands: its bonuses are granted once, when its condition is met."""

    PENDING = "pending"
    GRANTED = "granted"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralTerms:
    """What the catalog offers for a referral, and on which condition."""

    referrer_credits: Credits
    referee_credits: Credits
    condition: ReferralCondition = ReferralCondition.SIGNUP


@dataclass(frozen=True, slots=True, kw_only=True)
class Referral:
    """One account referred by another, with the terms it was recorded under."""

    referee_id: AccountId
    referrer_id: AccountId
    condition: ReferralCondition
    status: ReferralStatus
    referrer_credits: Credits
    referee_credits: Credits
    created_at: datetime
    granted_at: datetime | None


_TERMS_FIELDS = {"referrer_credits", "referee_credits", "condition"}


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _credits(data: Mapping[str, object], name: str, where: str) -> Credits:
    amount = Credits.parse(data.get(name, 0), field=_at(where, name))  # type: ignore[arg-type]
    if amount.units < 0:
        raise InvalidInput(field=_at(where, name), reason="must not be negative")
    return amount


def parse_terms(data: Mapping[str, object], where: str = "referrals") -> ReferralTerms:
    """The referral terms from their data form (a catalog file's `[referrals]` table).

    Either side may be offered nothing (an absent amount is 0), but not both.

    Raises:
        InvalidInput: the first bad field, naming it as `where.field`.
    """
    unknown = sorted(str(k) for k in data if k not in _TERMS_FIELDS)
    if unknown:
        raise InvalidInput(field=_at(where, unknown[0]), reason="is not a field here")
    referrer = _credits(data, "referrer_credits", where)
    referee = _credits(data, "referee_credits", where)
    if not referrer and not referee:
        reason = "a referral must offer one side some credits"
        raise InvalidInput(field=_at(where, "referrer_credits"), reason=reason)
    condition = data.get("condition", ReferralCondition.SIGNUP.value)
    allowed = [c.value for c in ReferralCondition]
    if not isinstance(condition, str) or condition not in allowed:
        raise InvalidInput(field=_at(where, "condition"), reason=f"one of: {', '.join(allowed)}")
    return ReferralTerms(
        referrer_credits=referrer, referee_credits=referee, condition=ReferralCondition(condition)
    )


def terms_data(terms: ReferralTerms) -> dict[str, object]:
    """The data form of the terms: what `parse_terms` reads back to equal terms."""
    return {
        "referrer_credits": str(terms.referrer_credits),
        "referee_credits": str(terms.referee_credits),
        "condition": terms.condition.value,
    }


def check_referrer(referee_id: str, referrer_id: str) -> None:
    """An account is never its own referrer.

    Raises:
        InvalidInput: both ids are the same.
    """
    if referee_id == referrer_id:
        raise InvalidInput(field="referrer", reason="an account cannot refer itself")

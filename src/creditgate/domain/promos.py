"""Promo codes: credits handed out by a code, once per account, to a limited number of accounts.

A **promo code** grants `credits` as one lot of source `promo`, expiring
`expires_after_days` after the redemption when that is set. It can be redeemed while it is
active, inside its window `[starts_at, ends_at)` (an absent end leaves that side open), and
while fewer accounts than `max_redemptions` have redeemed it (no maximum: any number).
Each account redeems a code once.

Codes are case-insensitive: `spring-25` and `SPRING-25` are one code, stored and shown in
upper case. A code is 3 to 64 ASCII letters, digits, `_` and `-`: what a person can read
out and type.

What this module decides is whether a code is redeemable at an instant (`refusal`). The
count it reads may be stale by the time a redemption writes, so the count is never decided
here: the storage claims a redemption with one conditional UPDATE that cannot pass the
maximum, and a row unique per (code, account) makes the once-per-account rule hold.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.inputs import check_instant
from creditgate.domain.limits import (
    PROMO_CODE_LENGTH_MAX,
    PROMO_CODE_LENGTH_MIN,
    PROMO_EXPIRY_DAYS_MAX,
    PROMO_REDEMPTIONS_MAX,
)

PROMO_CODE = re.compile(
    rf"[A-Za-z0-9_-]{{{PROMO_CODE_LENGTH_MIN},{PROMO_CODE_LENGTH_MAX}}}", re.ASCII
)


class PromoRefusal(StrEnum):
    """Why a code cannot be redeemed now (the `reason` of `PromoUnavailable`)."""

    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    ENDED = "ended"
    USED_UP = "used_up"


@dataclass(frozen=True, slots=True, kw_only=True)
class PromoSpec:
    """A promo code as an admin writes it."""

    code: str
    credits: Credits
    expires_after_days: int | None = None
    """The granted lot expires this many days after the redemption; None: never."""
    starts_at: datetime | None = None
    """Redeemable from this instant on; None: from its creation."""
    ends_at: datetime | None = None
    """Redeemable until just before this instant; None: with no end."""
    max_redemptions: int | None = None
    """How many accounts may redeem it in all; None: any number."""
    is_active: bool = True

    def lot_expires_at(self, redeemed_at: datetime) -> datetime | None:
        """When the lot granted by a redemption at `redeemed_at` expires."""
        if self.expires_after_days is None:
            return None
        return redeemed_at + timedelta(days=self.expires_after_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class Promo(PromoSpec):
    """A stored promo code, with how many accounts have redeemed it."""

    redeemed: int
    created_at: datetime
    updated_at: datetime

    def spec(self) -> PromoSpec:
        """The code as written, without its count and timestamps."""
        return PromoSpec(
            code=self.code,
            credits=self.credits,
            expires_after_days=self.expires_after_days,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            max_redemptions=self.max_redemptions,
            is_active=self.is_active,
        )


def check_code(value: object, *, field: str = "code") -> str:
    """A promo code in its one stored form: upper case.

    Raises:
        InvalidInput: not 3 to 64 ASCII letters, digits, `_` and `-`.
    """
    if not isinstance(value, str) or not PROMO_CODE.fullmatch(value):
        reason = f"{PROMO_CODE_LENGTH_MIN} to {PROMO_CODE_LENGTH_MAX} letters, digits, '_' and '-'"
        raise InvalidInput(field=field, reason=reason)
    return value.upper()


def refusal(promo: Promo, now: datetime) -> PromoRefusal | None:
    """Why `promo` cannot be redeemed at `now`, or None when it can.

    The window is half-open: redeemable at `starts_at` itself, no longer at `ends_at`.
    When several reasons hold, the first of inactive, not started, ended, used up is told.
    """
    if not promo.is_active:
        return PromoRefusal.INACTIVE
    if promo.starts_at is not None and now < promo.starts_at:
        return PromoRefusal.NOT_STARTED
    if promo.ends_at is not None and now >= promo.ends_at:
        return PromoRefusal.ENDED
    if promo.max_redemptions is not None and promo.redeemed >= promo.max_redemptions:
        return PromoRefusal.USED_UP
    return None


def _whole(value: object, field: str, high: int) -> int:
    if type(value) is not int or not 1 <= value <= high:
        raise InvalidInput(field=field, reason=f"a whole number from 1 to {high}")
    return value


_PROMO_FIELDS = {
    "code",
    "credits",
    "expires_after_days",
    "starts_at",
    "ends_at",
    "max_redemptions",
    "is_active",
}


def parse_promo(data: Mapping[str, object]) -> PromoSpec:
    """A promo code from the engine's keywords (absent or None: the default).

    Raises:
        InvalidInput: the first bad field, naming it.
    """
    unknown = sorted(k for k in data if k not in _PROMO_FIELDS)
    if unknown:
        raise InvalidInput(field=unknown[0], reason="is not a field here")
    code = check_code(data.get("code"))
    credits = Credits.positive(data.get("credits"), field="credits")  # type: ignore[arg-type]
    days = data.get("expires_after_days")
    if days is not None:
        days = _whole(days, "expires_after_days", PROMO_EXPIRY_DAYS_MAX)
    starts_at, ends_at = data.get("starts_at"), data.get("ends_at")
    starts = None if starts_at is None else check_instant(starts_at, field="starts_at")
    ends = None if ends_at is None else check_instant(ends_at, field="ends_at")
    if starts is not None and ends is not None and ends <= starts:
        raise InvalidInput(field="ends_at", reason="must be after starts_at")
    maximum = data.get("max_redemptions")
    if maximum is not None:
        maximum = _whole(maximum, "max_redemptions", PROMO_REDEMPTIONS_MAX)
    is_active = data.get("is_active", True)
    if type(is_active) is not bool:
        raise InvalidInput(field="is_active", reason="must be true or false")
    return PromoSpec(
        code=code,
        credits=credits,
        expires_after_days=days,
        starts_at=starts,
        ends_at=ends,
        max_redemptions=maximum,
        is_active=is_active,
    )


def promo_data(spec: PromoSpec) -> dict[str, object]:
    """The keyword form of a promo code: what `parse_promo` reads back to an equal spec."""
    return {
        "code": spec.code,
        "credits": spec.credits,
        "expires_after_days": spec.expires_after_days,
        "starts_at": spec.starts_at,
        "ends_at": spec.ends_at,
        "max_redemptions": spec.max_redemptions,
        "is_active": spec.is_active,
    }


def check_maximum(promo: Promo, maximum: int | None) -> None:
    """A new maximum may not be below the redemptions already made.

    Raises:
        InvalidInput: it is.
    """
    if maximum is not None and maximum < promo.redeemed:
        reason = f"at least the {promo.redeemed} redemptions already made"
        raise InvalidInput(field="max_redemptions", reason=reason)

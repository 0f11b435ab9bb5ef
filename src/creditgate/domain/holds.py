"""Holds: credits set aside before work starts, ended exactly once.

A hold pins credits on specific lots (so they stay reserved even if a lot expires while
the work runs) and moves through one of three terminal transitions:

    pending ──settle──▶ settled    (the actual cost is captured, the rest returns)
            ──release─▶ released   (the work failed: everything returns)
            ──expire──▶ expired    (its time-to-live passed: everything returns)

`extend` grows a pending hold. A pending hold whose `expires_at` has passed is expired at
query time, before any pass writes its entry: it can no longer be settled.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import HoldNotPending, InvalidInput
from creditgate.domain.ids import AccountId, HoldId
from creditgate.domain.limits import HOLD_TTL_MAX, HOLD_TTL_MIN
from creditgate.domain.pricing import PriceId, Quantity


class HoldStatus(StrEnum):
    """Where a hold is in its life."""

    PENDING = "pending"
    SETTLED = "settled"
    RELEASED = "released"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """A reservation of credits on one account, as stored."""

    id: HoldId
    account_id: AccountId
    amount: Credits
    status: HoldStatus
    captured: Credits | None
    member_id: str | None
    feature: str | None
    metadata: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    model: str | None = None
    quantity: Quantity | None = None
    price_id: PriceId | None = None
    """A priced hold settles by quantity at this price version, whatever is in force then."""

    def status_at(self, now: datetime) -> HoldStatus:
        """The status as of `now`: a pending hold past its ttl is expired."""
        if self.status is HoldStatus.PENDING and self.expires_at <= now:
            return HoldStatus.EXPIRED
        return self.status

    def as_of(self, now: datetime) -> "Hold":
        """The hold as of `now`: one past its ttl reads as the expiry pass will write it.

        That is expired, ended at its expiry: a read before the pass and one after it
        answer the same hold.
        """
        if self.status_at(now) is self.status:
            return self
        return replace(self, status=HoldStatus.EXPIRED, ended_at=self.expires_at)


def check_pending(hold: Hold, now: datetime) -> None:
    """A hold can be settled, released or extended only while it is pending.

    Raises:
        HoldNotPending: it has ended, or its ttl has passed.
    """
    status = hold.status_at(now)
    if status is not HoldStatus.PENDING:
        raise HoldNotPending(hold_id=hold.id, hold_status=status.value)


def check_ttl(ttl: object) -> timedelta:
    """Validate a hold's time-to-live: whole seconds, within the allowed range.

    Whole seconds on every face: the service carries a ttl as `ttl_s`, and no hold needs a
    finer clock, so the engine refuses what the wire could not say.

    Raises:
        InvalidInput: not a timedelta, outside the allowed range, or a fraction of a second.
    """
    if not isinstance(ttl, timedelta) or not HOLD_TTL_MIN <= ttl <= HOLD_TTL_MAX:
        raise InvalidInput(field="ttl", reason=f"a duration from {HOLD_TTL_MIN} to {HOLD_TTL_MAX}")
    if ttl % timedelta(seconds=1):
        raise InvalidInput(field="ttl", reason="whole seconds")
    return ttl

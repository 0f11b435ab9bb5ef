"""Accounts: wallets owned by a user or an organization."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import AccountId
from creditgate.domain.limits import ACCOUNT_ID_LENGTH_MAX


class OwnerKind(StrEnum):
    """Who owns the wallet: one person, or an organization whose members spend from it."""

    USER = "user"
    ORGANIZATION = "organization"


@dataclass(frozen=True, slots=True, kw_only=True)
class Account:
    """A wallet, as stored. `floor` is 0 or negative (an overdraft limit)."""

    id: AccountId
    owner_kind: OwnerKind
    floor: Credits
    is_unlimited: bool
    is_frozen: bool
    created_at: datetime
    metadata: dict[str, Any]


class CapPeriod(StrEnum):
    """What a member's spending cap counts: a calendar month (UTC), or the plan's cycle."""

    MONTH = "month"
    CYCLE = "cycle"


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A person who spends from an organization's wallet, with an optional cap.

    With a `cap_period`, `spent` counts the current period only (since
    `period_started_at`) and starts again from zero with the next one; without one, the cap
    counts everything the member ever spent.
    """

    account_id: AccountId
    member_id: str
    spend_cap: Credits | None
    spent: Credits
    cap_period: CapPeriod | None = None
    period_started_at: datetime | None = None

    def as_of(self, period_start: datetime | None) -> "Member":
        """This member as seen in the period starting at `period_start`.

        A period that has turned shows nothing spent yet.
        """
        if self.cap_period is None or self.period_started_at == period_start:
            return self
        return replace(self, spent=Credits(0), period_started_at=period_start)


def check_account_id(value: object, *, field: str = "account_id") -> AccountId:
    """Validate an app-supplied id: non-empty printable text of bounded length.

    An id is one segment of the service's paths (`/v1/accounts/{id}`), so it holds no `/`:
    the engine refuses what the wire could not reach, and the id means the same account on
    every face.

    Raises:
        InvalidInput: the id is empty, too long, or holds control characters or a `/`.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field=field, reason="must be a non-empty string")
    if len(value) > ACCOUNT_ID_LENGTH_MAX:
        raise InvalidInput(field=field, reason=f"at most {ACCOUNT_ID_LENGTH_MAX} characters")
    if not value.isprintable() or value != value.strip():
        raise InvalidInput(field=field, reason="must be printable, without surrounding spaces")
    if "/" in value:
        raise InvalidInput(field=field, reason="must not hold '/'")
    return AccountId(value)


def check_floor(value: Credits) -> Credits:
    """An overdraft floor is zero or below: it is how far the balance may go negative.

    Raises:
        InvalidInput: the floor is above zero.
    """
    if value.units > 0:
        raise InvalidInput(field="floor", reason="a floor is zero or negative (an overdraft limit)")
    return value

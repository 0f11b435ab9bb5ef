"""Lots and the one burn order.

**The burn order** (the only place it is defined): a spend takes credits from the account's
live lots sorted by

1. priority, lower first (default 0; give promotional lots -10 to burn them before
   purchased ones);
2. expiry, soonest first, never-expiring last;
3. age, oldest first (then lot id, so the order is total).

A lot whose `expires_at` is at or before now is not live: it is never spent, even before
the expiry pass has written its expire entry. Credits pinned by a pending hold (`held`)
are not free for other spends.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import LotId
from creditgate.domain.limits import LOTS_PER_SPEND_MAX, PRIORITY_MAX


class LotSource(StrEnum):
    """Why a lot exists. Lifetime figures split granted credits by source."""

    WELCOME = "welcome"
    PLAN_CYCLE = "plan_cycle"
    PURCHASE = "purchase"
    BONUS = "bonus"
    PROMO = "promo"
    REFERRAL = "referral"
    ADJUSTMENT = "adjustment"
    TRANSFER = "transfer"
    REFUND = "refund"


GRANTABLE_SOURCES = frozenset(LotSource) - {
    LotSource.ADJUSTMENT,
    LotSource.TRANSFER,
    LotSource.REFUND,
}
"""Sources an app may name in `grant`; the others are written by adjust, transfer, refund."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Lot:
    """One grant of credits. `remaining` includes `held`, the part pinned by holds."""

    id: LotId
    source: LotSource
    amount: Credits
    remaining: Credits
    held: Credits
    priority: int
    expires_at: datetime | None
    created_at: datetime
    metadata: dict[str, Any]

    def is_live(self, now: datetime) -> bool:
        """A lot can be spent until the instant it expires."""
        return self.expires_at is None or self.expires_at > now

    @property
    def free(self) -> Credits:
        """What other spends may take: the remainder not pinned by a hold."""
        return self.remaining - self.held


def burn_key(lot: Lot) -> tuple[int, bool, datetime, datetime, int]:
    """Sort key of the burn order described in this module's docstring."""
    never = lot.expires_at is None
    expires_at = lot.created_at if lot.expires_at is None else lot.expires_at
    return (lot.priority, never, expires_at, lot.created_at, lot.id)


@dataclass(frozen=True, slots=True)
class Burn:
    """How one spend splits: units taken from each lot, and the rest left uncovered."""

    moves: tuple[tuple[LotId, int], ...]
    uncovered_units: int

    @property
    def covered_units(self) -> int:
        """Units the lots cover."""
        return sum(units for _, units in self.moves)


def plan_burn(lots: Iterable[Lot], units: int, *, now: datetime) -> Burn:
    """Split a spend of `units` across the free parts of the live lots, in burn order.

    The uncovered rest is what the lots cannot pay: the caller either refuses the spend
    or, within an overdraft floor, records it as debt.
    """
    assert units >= 0
    ordered = sorted((lot for lot in lots if lot.is_live(now) and lot.free.units > 0), key=burn_key)
    moves: list[tuple[LotId, int]] = []
    left = units
    for lot in ordered[:LOTS_PER_SPEND_MAX]:
        if left == 0:
            break
        take = min(left, lot.free.units)
        moves.append((lot.id, take))
        left -= take
    return Burn(moves=tuple(moves), uncovered_units=left)


def plan_capture(pins: Sequence[tuple[Lot, int]], units: int) -> tuple[tuple[LotId, int], ...]:
    """Split a capture of `units` across a hold's pinned lots, in burn order.

    A pinned lot may have expired since the hold took it: the hold reserved those credits,
    so they are still captured.
    """
    moves: list[tuple[LotId, int]] = []
    left = units
    for lot, pinned in sorted(pins, key=lambda pin: burn_key(pin[0]))[:LOTS_PER_SPEND_MAX]:
        if left == 0:
            break
        take = min(left, pinned)
        moves.append((lot.id, take))
        left -= take
    assert left == 0, "a capture never exceeds what the hold pinned"
    return tuple(moves)


def check_priority(value: object) -> int:
    """Validate a lot priority.

    Raises:
        InvalidInput: not an integer, or outside the allowed range.
    """
    if type(value) is not int or abs(value) > PRIORITY_MAX:
        raise InvalidInput(field="priority", reason=f"an integer within ±{PRIORITY_MAX}")
    return value

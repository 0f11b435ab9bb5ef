"""What falls due at an instant: holds past their ttl and lots past their expiry.

Expiry is decided here, at query time, from `expires_at`: the expiry pass (and every write
on the account) only writes the entries this plan names. Reads apply the same plan in
memory, so a balance is right even when no pass has run.

Rules:
- a pending hold with `expires_at <= now` expires at its `expires_at`, and its pins return;
- a lot with `expires_at <= now` and a remainder expires whole, through one expire entry
  dated at its expiry, once no live hold pins it; until then its free part is withheld
  (counted in no balance) and its pinned part stays reserved for the hold that pinned it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.ids import HoldId, LotId
from creditgate.domain.lots import Lot


@dataclass(frozen=True, slots=True)
class LotExpiry:
    """One expire entry to write: the whole remainder of one lot."""

    lot: Lot
    units: int
    effective_at: datetime


@dataclass(frozen=True, slots=True)
class Due:
    """The work due on one account at one instant.

    `next_due_at` is the earliest instant anything falls due once this plan is written; a
    lot kept back by a live hold keeps it in the past, so every write re-plans the account.
    """

    holds: tuple[Hold, ...]
    lots: tuple[LotExpiry, ...]
    withheld: tuple[LotExpiry, ...]
    next_due_at: datetime | None

    @property
    def is_empty(self) -> bool:
        """Nothing to write."""
        return not self.holds and not self.lots

    @property
    def withheld_units(self) -> int:
        """Free parts of expired lots that a live hold still pins: counted in no balance."""
        return sum(w.units for w in self.withheld)


def plan_due(
    lots: Sequence[Lot],
    holds: Sequence[Hold],
    pins: Mapping[HoldId, Mapping[LotId, int]],
    now: datetime,
) -> Due:
    """Plan the expiries due at `now` for one account's unexpired lots and pending holds."""
    due_holds = tuple(
        sorted(
            (h for h in holds if h.status is HoldStatus.PENDING and h.expires_at <= now),
            key=lambda h: (h.expires_at, h.id),
        )
    )
    live_holds = [h for h in holds if h.status is HoldStatus.PENDING and h.expires_at > now]
    pinned_live: dict[LotId, int] = {}
    for hold in live_holds:
        for lot_id, units in pins.get(hold.id, {}).items():
            pinned_live[lot_id] = pinned_live.get(lot_id, 0) + units
    expiries: list[LotExpiry] = []
    withheld: list[LotExpiry] = []
    for lot in lots:
        if lot.remaining.units == 0 or lot.is_live(now):
            continue
        assert lot.expires_at is not None
        pinned = pinned_live.get(lot.id, 0)
        if pinned:
            if lot.remaining.units > pinned:
                withheld.append(LotExpiry(lot, lot.remaining.units - pinned, lot.expires_at))
            continue
        expiries.append(LotExpiry(lot, lot.remaining.units, lot.expires_at))
    expiries.sort(key=lambda e: (e.effective_at, e.lot.id))
    expiring = {e.lot.id for e in expiries}
    instants = [h.expires_at for h in live_holds]
    instants += [
        lot.expires_at
        for lot in lots
        if lot.expires_at is not None and lot.remaining.units > 0 and lot.id not in expiring
    ]
    return Due(due_holds, tuple(expiries), tuple(withheld), min(instants, default=None))

"""Entries: the append-only ledger.

Every change of an account's balance or held amount is one entry, numbered by a per-account
sequence, carrying the balance and held amount after it and the lot moves it made. Nothing
is ever updated or deleted: a correction is a new entry.

Sign rules: `amount` is the change of the balance (grants and refunds positive, charges,
settles and expiries negative, holds and releases zero); `held_delta` is the change of the
held amount (holds positive, settles, releases and hold expiries negative).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId, EntryId, HoldId, LotId
from creditgate.domain.pricing import PriceId, Quantity


class EntryKind(StrEnum):
    """What an entry records."""

    GRANT = "grant"
    CHARGE = "charge"
    HOLD = "hold"
    SETTLE = "settle"
    RELEASE = "release"
    REFUND = "refund"
    EXPIRE = "expire"
    ADJUST = "adjust"
    TRANSFER = "transfer"


SPEND_KINDS = frozenset({EntryKind.CHARGE, EntryKind.SETTLE})
"""Entries that consume credits for usage: these may be refunded."""

HOLD_END_KINDS = frozenset({EntryKind.SETTLE, EntryKind.RELEASE, EntryKind.EXPIRE})
"""Entries that end a hold; each hold has at most one."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LotMove:
    """What one entry did to one lot: `amount` changes its remainder, `held` its pinned part."""

    lot_id: LotId
    amount: Credits
    held: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One line of the ledger.

    `cost` is what a charge or settle was worth at its price: an unlimited account records
    the cost with an `amount` of zero. A priced use also records its model, quantity and
    the price version (`price_id`) it was charged at. `effective_at` is when the change
    took effect: an expiry written by a late pass is effective at the lot's expiry.
    """

    id: EntryId
    account_id: AccountId
    seq: int
    kind: EntryKind
    amount: Credits
    held_delta: Credits
    balance_after: Credits
    held_after: Credits
    cost: Credits | None
    moves: tuple[LotMove, ...]
    hold_id: HoldId | None
    ref_entry_id: EntryId | None
    counterparty: AccountId | None
    source: str | None
    member_id: str | None
    feature: str | None
    actor: str | None
    reason: str | None
    metadata: dict[str, Any]
    created_at: datetime
    effective_at: datetime
    model: str | None = None
    quantity: Quantity | None = None
    price_id: PriceId | None = None

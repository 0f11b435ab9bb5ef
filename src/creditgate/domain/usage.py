"""Usage events: one record of every use of a feature, whatever became of it.

The ledger says where credits went; usage events say what the app did with its features:
who used which feature and model, how much, what it cost, and how it ended. Analytics
read these. An event is written by every charge, settle and release, and by every spend
the engine refused (insufficient credits, a frozen account, a member's cap), so failure
and refusal rates are counted, not guessed.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId, EntryId, HoldId
from creditgate.domain.pricing import PriceId, Quantity


class Outcome(StrEnum):
    """How one use of a feature ended."""

    SUCCEEDED = "succeeded"
    """Charged, or a hold settled: the work was done and paid for."""
    FAILED = "failed"
    """The work failed and its hold was released with the reason."""
    RELEASED = "released"
    """A hold was released without a failure reason: nothing was spent."""
    REFUSED = "refused"
    """The engine refused the spend (insufficient credits, frozen account, member cap)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageEvent:
    """One use of a feature. `credits` is its cost at its price (what was or would be taken)."""

    id: int
    account_id: AccountId
    member_id: str | None
    feature: str | None
    model: str | None
    quantity: Quantity | None
    credits: Credits
    outcome: Outcome
    latency_ms: int | None
    request_id: str | None
    metadata: dict[str, Any]
    entry_id: EntryId | None
    hold_id: HoldId | None
    price_id: PriceId | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageTotal:
    """Totals of the events of one feature, model and outcome."""

    feature: str | None
    model: str | None
    outcome: Outcome
    events: int
    credits: Credits

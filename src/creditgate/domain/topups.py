"""Auto top-up: buy a pack for the account when its available credits fall below a line.

One payment per crossing: when available credits fall below `threshold` the account's
state turns from `armed` to `pending` and one off-session payment is started for the
saved card; the pack's credits arrive when the provider confirms it. While the balance
stays low nothing more is started. The state turns `spent` when the payment succeeds or
fails, and `armed` again once available credits are back at or above the threshold, so
the next fall is a new crossing. `failures_max` failed payments in a row turn auto top-up
off, with the reason kept.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId


class TopUpState(StrEnum):
    """Where an account's auto top-up stands."""

    ARMED = "armed"
    """The next fall below the threshold starts a payment."""
    PENDING = "pending"
    """A payment was started and has not been settled."""
    SPENT = "spent"
    """This crossing had its attempt; waiting for the balance to rise again."""


def next_state(
    state: TopUpState, *, available_units: int, threshold_units: int
) -> tuple[TopUpState, bool]:
    """The state after a write, and whether it starts a payment now.

    Armed and below: a payment starts (once per crossing). Spent and back at or above the
    threshold: armed again. Pending stays pending until the provider settles it.
    """
    below = available_units < threshold_units
    if state is TopUpState.ARMED and below:
        return TopUpState.PENDING, True
    if state is TopUpState.SPENT and not below:
        return TopUpState.ARMED, False
    return state, False


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoTopUp:
    """An account's auto top-up setting and where it stands."""

    account_id: AccountId
    pack: str
    threshold: Credits
    customer_ref: str
    """The provider's customer (Stripe `cus_…`) whose saved card pays."""
    payment_method_ref: str
    """The saved card (Stripe `pm_…`)."""
    is_enabled: bool
    state: TopUpState | None
    """None while disabled."""
    failures: int
    """Failed payments in a row."""
    failures_max: int
    disabled_reason: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingTopUp:
    """A top-up whose payment is to be started: what the payment provider needs."""

    purchase_id: int
    reference: str
    """The purchase's reference: the provider's idempotency key for this payment."""
    account_id: AccountId
    pack: str
    amount_minor: int
    currency: str
    customer_ref: str
    payment_method_ref: str

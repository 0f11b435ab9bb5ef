"""Frozen results returned by every face: the embedded engine and the HTTP client alike."""

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from creditgate.domain.amounts import Credits
from creditgate.domain.entries import Entry
from creditgate.domain.holds import Hold
from creditgate.domain.ids import AccountId
from creditgate.domain.plans import Plan, Subscription
from creditgate.domain.pricing import Quote

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class PeriodUsage:
    """What an account used in its current usage period, and its lifetime tokens.

    The period is the plan's cycle for a subscriber, else the calendar month (UTC); the
    figures start again from zero when it turns. `credits` counts what charges and settles
    cost (also on an unlimited account, which is not debited), less refunds; `tokens`
    counts the tokens of token-priced calls.
    """

    starts_at: datetime
    ends_at: datetime
    credits: Credits
    tokens: int
    lifetime_tokens: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """An account's figures at one instant. `available = balance - held`."""

    account_id: AccountId
    balance: Credits
    held: Credits
    available: Credits
    floor: Credits
    debt: Credits
    as_of: datetime
    usage: PeriodUsage


@dataclass(frozen=True, slots=True, kw_only=True)
class Receipt:
    """The result of one ledger write: its entry and the account's figures after it.

    `credits_used` and `credits_remaining` are the two numbers every app shows after a spend.
    """

    entry: Entry
    balance: Balance
    hold: Hold | None = None
    quote: Quote | None = None
    """How the catalog priced this write, when it did (a charge, hold or settle by quantity)."""

    @property
    def credits_used(self) -> Credits:
        """Credits this write took from the balance (zero for grants and releases)."""
        return Credits(max(0, -self.entry.amount.units))

    @property
    def credits_remaining(self) -> Credits:
        """Credits still available to spend after this write."""
        return self.balance.available


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferReceipt:
    """Both sides of a transfer: what left one account and what arrived in the other."""

    debit: Entry
    credit: Entry
    from_balance: Balance
    to_balance: Balance


@dataclass(frozen=True, slots=True, kw_only=True)
class Page(Generic[T]):
    """One page of a listing; pass `next_cursor` back to read the next one."""

    items: tuple[T, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lifetime:
    """Lifetime figures of an account, from its ledger.

    `spent` counts charges and settles; `granted_by_source` splits every credit that ever
    arrived (grants, positive adjustments, transfers in) by lot source. Refunds are not
    granted credits: they count in `refunded`.
    """

    account_id: AccountId
    granted: Credits
    granted_by_source: dict[str, Credits]
    spent: Credits
    refunded: Credits
    expired: Credits
    adjusted: Credits
    transferred_in: Credits
    transferred_out: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpirePass:
    """What one pass over due accounts wrote: expiries, and the plan cycles it renewed."""

    accounts: int
    lots_expired: int
    holds_expired: int
    credits_expired: Credits
    cycles_granted: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionReceipt:
    """A subscription after a change to it, and the account's figures after the change."""

    subscription: Subscription
    balance: Balance


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanOverview:
    """What a pricing page shows one account: the plans on sale, its own, its balance."""

    plans: tuple[Plan, ...]
    subscription: Subscription | None
    balance: Balance


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One mismatch `verify` found: which account, which check, what it saw."""

    account_id: AccountId | None
    check: str
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """The result of recomputing every account from its entries, lots and holds."""

    accounts: int
    entries: int
    problems: tuple[Problem, ...]

    @property
    def is_clean(self) -> bool:
        """No invariant is broken."""
        return not self.problems


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """Whether an account can pay for one call now: the shape apps show before the button.

    `available` is what the account could spend (down to its floor); an unlimited account
    always has enough. Nothing is set aside: a charge may still be refused if another
    spend lands first, which is what holds are for.
    """

    has_enough: bool
    required: Credits
    available: Credits
    quote: Quote

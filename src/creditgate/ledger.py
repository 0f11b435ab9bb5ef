"""`Ledger`: the credit operations that the embedded `Engine` and the HTTP `Client` share.

Why it exists: code written against one face runs unchanged against the other. An app
embeds the engine in a prototype and moves to the service by swapping one constructor,
and a test suite can run the same scenario against both. mypy keeps the faces honest:
`tests/typing/` binds `Engine` and `Client` to this protocol, so a signature that drifts
on either side fails the type check, and a runtime test compares them parameter for
parameter (names, kinds, defaults and annotations).

Only the verbs of the ledger are here. Key management, seeding presets, readiness and
monitoring gauges belong to whoever runs the engine, not to its callers.

Boundaries: the domain's types and `HeldWork` only, so that importing the protocol
imports no face.
"""

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from creditgate.domain.accounts import Account, CapPeriod, Member, OwnerKind
from creditgate.domain.alerts import BalanceAlert
from creditgate.domain.amounts import AmountLike, Credits
from creditgate.domain.analytics import (
    AccountSpend,
    FeatureSpend,
    GuestConversion,
    ModelGenerations,
    ModelLatency,
    ModelSpend,
    PackRevenue,
    SourceGrants,
    WelcomeUsage,
)
from creditgate.domain.catalog import Catalog, Change
from creditgate.domain.entries import Entry, EntryKind
from creditgate.domain.guests import GuestAllowance, GuestQuota, GuestSession
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, TOP_ACCOUNTS_DEFAULT
from creditgate.domain.lots import Lot, LotSource
from creditgate.domain.packs import Pack, Purchase
from creditgate.domain.plans import Cycle, Interval, Plan, Rollover, Subscription
from creditgate.domain.pricing import Feature, Price, Quantity, Quote, Rule
from creditgate.domain.promos import Promo
from creditgate.domain.referrals import Referral
from creditgate.domain.results import (
    Balance,
    Check,
    ExpirePass,
    Lifetime,
    Page,
    PlanOverview,
    Receipt,
    SubscriptionReceipt,
    TransferReceipt,
    VerifyReport,
)
from creditgate.domain.topups import AutoTopUp
from creditgate.domain.usage import Outcome, UsageEvent, UsageTotal
from creditgate.domain.webhooks import ALL_EVENTS, EventType, WebhookDelivery, WebhookEndpoint
from creditgate.domain.widgets import TOKEN_TTL_S_DEFAULT, WidgetToken
from creditgate.holding import HeldWork

__all__ = ["Ledger"]


class Ledger(Protocol):
    """Accounts, credits in and out, holds, the ledger, the catalog, usage and operations.

    Each method means what the `Engine` method of the same name means, raises the same
    domain errors and returns equal results.
    """

    # Accounts

    def create_account(
        self,
        account_id: str,
        *,
        owner_kind: OwnerKind | str = OwnerKind.USER,
        floor: AmountLike = 0,
        is_unlimited: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> Account:
        """Create a wallet for the app's id, or return the existing one unchanged."""
        ...

    def get_account(self, account_id: str) -> Account:
        """The account with this id."""
        ...

    def update_account(
        self,
        account_id: str,
        *,
        is_frozen: bool | None = None,
        is_unlimited: bool | None = None,
        floor: AmountLike | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Account:
        """Freeze or unfreeze, make unlimited or not, change the floor or metadata."""
        ...

    def add_member(
        self,
        account_id: str,
        member_id: str,
        *,
        spend_cap: AmountLike | None = None,
        cap_period: CapPeriod | str | None = None,
    ) -> Member:
        """Let `member_id` spend from an organization's wallet, up to an optional cap."""
        ...

    def remove_member(self, account_id: str, member_id: str) -> None:
        """Stop `member_id` spending from the wallet."""
        ...

    def members(self, account_id: str) -> tuple[Member, ...]:
        """The members of an organization's wallet, by id."""
        ...

    def balance(self, account_id: str) -> Balance:
        """Balance, held and available credits now."""
        ...

    # Credits in

    def grant(
        self,
        account_id: str,
        amount: AmountLike,
        *,
        source: LotSource | str = LotSource.BONUS,
        expires_at: datetime | None = None,
        priority: int = 0,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Add a lot of credits from `source`, optionally expiring, with a burn priority."""
        ...

    def adjust(
        self,
        account_id: str,
        amount: AmountLike,
        *,
        reason: str,
        actor: str,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """A signed correction by an operator, recorded with its reason and actor."""
        ...

    # Credits out

    def charge(
        self,
        account_id: str,
        amount: AmountLike | None = None,
        *,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | dict[str, int] | None = None,
        member_id: str | None = None,
        request_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Take the cost of one call now, or raise and take nothing."""
        ...

    def hold(
        self,
        account_id: str,
        amount: AmountLike | None = None,
        *,
        ttl: timedelta,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | dict[str, int] | None = None,
        member_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Set the cost of a call aside for `ttl` before expensive work."""
        ...

    def holding(
        self,
        account_id: str,
        amount: AmountLike | None = None,
        *,
        ttl: timedelta,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | dict[str, int] | None = None,
        member_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> AbstractContextManager[HeldWork]:
        """Hold now; settle when the block succeeds, release (as failed) when it raises."""
        ...

    def extend(
        self,
        hold_id: HoldId,
        more: AmountLike,
        *,
        ttl: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Grow a pending hold by `more`; `ttl` restarts its clock."""
        ...

    def settle(
        self,
        hold_id: HoldId,
        actual: AmountLike | None = None,
        *,
        quantity: Quantity | dict[str, int] | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Capture the actual cost of the held work and release the rest."""
        ...

    def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """End a hold without spending: its credits are available again."""
        ...

    def get_hold(self, hold_id: HoldId) -> Hold:
        """A hold, with its status as of now."""
        ...

    def refund(
        self,
        entry_id: EntryId,
        amount: AmountLike | None = None,
        *,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Give back all (or `amount`) of what a charge or settle took, never more in total."""
        ...

    def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: AmountLike,
        *,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> TransferReceipt:
        """Move credits between accounts; they keep their expiry."""
        ...

    # The ledger

    def history(
        self,
        account_id: str,
        *,
        kinds: Iterable[EntryKind | str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        feature: str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[Entry]:
        """Entries newest first, filtered by kind, time range [since, until) and feature."""
        ...

    def get_entry(self, entry_id: EntryId) -> Entry:
        """One ledger entry with its lot moves."""
        ...

    def balance_at(self, account_id: str, at: datetime) -> Credits:
        """The balance as it stood at a past instant."""
        ...

    def lifetime(self, account_id: str) -> Lifetime:
        """Lifetime figures: granted by source, spent, refunded, expired, adjusted, moved."""
        ...

    def lots(self, account_id: str, *, include_spent: bool = False) -> tuple[Lot, ...]:
        """The account's lots with credits left (or all, `include_spent`), in burn order."""
        ...

    def holds(
        self,
        account_id: str,
        *,
        status: HoldStatus | str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[Hold]:
        """The account's holds newest first, or those of one status, each as of now."""
        ...

    # The catalog

    def check(
        self,
        account_id: str,
        feature: str,
        *,
        model: str | None = None,
        quantity: object = None,
    ) -> Check:
        """Whether the account can pay for one call now."""
        ...

    def quote(
        self,
        feature: str,
        *,
        model: str | None = None,
        quantity: object = None,
        at: datetime | None = None,
    ) -> Quote:
        """What one call costs now (or at `at`), at which price version, and why."""
        ...

    def features(self, *, category: str | None = None) -> tuple[Feature, ...]:
        """Every feature (active or not), by category then key; or one category's."""
        ...

    def get_feature(self, key: str) -> Feature:
        """One feature, active or not."""
        ...

    def create_feature(
        self,
        key: str,
        *,
        name: str,
        category: str | None = None,
        description: str | None = None,
        is_active: bool = True,
    ) -> Feature:
        """Add a feature to the catalog."""
        ...

    def update_feature(
        self,
        key: str,
        *,
        name: str | None = None,
        category: str | None = None,
        description: str | None = None,
        is_active: bool | None = None,
    ) -> Feature:
        """Rename, recategorize, describe, deactivate or reactivate a feature."""
        ...

    def delete_feature(self, key: str) -> bool:
        """Delete a feature never used, or deactivate one that was; True when deleted."""
        ...

    def set_price(
        self,
        feature: str,
        rule: Rule | Mapping[str, object],
        *,
        model: str | None = None,
        minimum: Credits | str | int | None = None,
        effective_from: datetime | None = None,
    ) -> Price:
        """Price a feature (for one model, a `family*`, or by default): a new version."""
        ...

    def retire_price(
        self, feature: str, *, model: str | None = None, effective_from: datetime | None = None
    ) -> Price:
        """Stop pricing a model (or the default): a version that removes the price."""
        ...

    def prices(self, feature: str, *, at: datetime | None = None) -> tuple[Price, ...]:
        """The prices of a feature in force now (or at `at`), one per model."""
        ...

    def price_history(self, feature: str) -> tuple[Price, ...]:
        """Every version of every price of a feature, oldest first."""
        ...

    def export_catalog(self) -> Catalog:
        """The catalog in force: features (active or not), their prices, welcome credits."""
        ...

    def apply_catalog(
        self, desired: Catalog | Mapping[str, object], *, dry_run: bool = False
    ) -> tuple[Change, ...]:
        """Bring the catalog to `desired`; with `dry_run`, only list the changes."""
        ...

    # Usage

    def usage(
        self,
        account_id: str | None = None,
        *,
        feature: str | None = None,
        model: str | None = None,
        outcome: Outcome | str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[UsageEvent]:
        """Usage events newest first, of one account or all."""
        ...

    def usage_totals(
        self,
        account_id: str | None = None,
        *,
        feature: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[UsageTotal, ...]:
        """Events and credits by feature, model and outcome."""
        ...

    # Analytics

    def spend_by_feature(self, *, since: datetime, until: datetime) -> tuple[FeatureSpend, ...]:
        """Credits spent per UTC day and feature, by day then feature."""
        ...

    def spend_by_model(self, *, since: datetime, until: datetime) -> tuple[ModelSpend, ...]:
        """Credits spent per UTC day and model, by day then model."""
        ...

    def generations_by_model(
        self, *, since: datetime, until: datetime
    ) -> tuple[ModelGenerations, ...]:
        """Usage events by model and outcome, with each model's failure rate."""
        ...

    def latency_by_model(self, *, since: datetime, until: datetime) -> tuple[ModelLatency, ...]:
        """Average and nearest-rank p95 latency of each model's successful events."""
        ...

    def grants_by_source(self, *, since: datetime, until: datetime) -> tuple[SourceGrants, ...]:
        """Credits granted by lot source (welcome, plan cycle, purchase, promo, ...)."""
        ...

    def revenue_by_pack(self, *, since: datetime, until: datetime) -> tuple[PackRevenue, ...]:
        """Paid purchases of packs by pack and currency: count, gross, refunded (minor units)."""
        ...

    def top_spenders(
        self, *, since: datetime, until: datetime, limit: int = TOP_ACCOUNTS_DEFAULT
    ) -> tuple[AccountSpend, ...]:
        """The `limit` accounts that spent the most credits, most first."""
        ...

    def guest_conversion(self, *, since: datetime, until: datetime) -> GuestConversion:
        """Guest sessions first seen in the range, and how many have signed up since."""
        ...

    def welcome_usage(self, *, since: datetime, until: datetime) -> WelcomeUsage:
        """What became of the welcome credits granted in the range, as of now."""
        ...

    # Plans and subscriptions

    def plans(self, *, include_inactive: bool = False) -> tuple[Plan, ...]:
        """The plans on sale (or all of them), by credits per cycle."""
        ...

    def get_plan(self, key: str) -> Plan:
        """One plan, active or not."""
        ...

    def create_plan(  # noqa: PLR0913 - a plan has this many facets, all keyword-only
        self,
        key: str,
        *,
        name: str,
        credits: AmountLike,
        prices: Mapping[str, int] | None = None,
        currency: str = "usd",
        description: str | None = None,
        rollover: Rollover | str = Rollover.NONE,
        rollover_cap: AmountLike | None = None,
        cycle: Cycle | str = Cycle.MONTH,
        is_active: bool = True,
        is_default: bool = False,
    ) -> Plan:
        """Add a plan: `credits` per cycle, `prices` in minor units by interval."""
        ...

    def update_plan(  # noqa: PLR0913 - a plan has this many facets, all keyword-only
        self,
        key: str,
        *,
        name: str | None = None,
        credits: AmountLike | None = None,
        prices: Mapping[str, int] | None = None,
        currency: str | None = None,
        description: str | None = None,
        rollover: Rollover | str | None = None,
        rollover_cap: AmountLike | None = None,
        cycle: Cycle | str | None = None,
        is_active: bool | None = None,
        is_default: bool | None = None,
    ) -> Plan:
        """Change a plan's fields (None keeps one); from each subscriber's next cycle on."""
        ...

    def deactivate_plan(self, key: str) -> Plan:
        """Stop selling a plan; its subscribers keep renewing on it."""
        ...

    def plan_overview(self, account_id: str) -> PlanOverview:
        """The plans on sale with the account's subscription and balance."""
        ...

    def subscription(self, account_id: str) -> Subscription | None:
        """The account's live subscription, or None when it is on no plan."""
        ...

    def subscribe(
        self,
        account_id: str,
        plan: str,
        *,
        interval: Interval | str | None = None,
        idempotency_key: str | None = None,
    ) -> SubscriptionReceipt:
        """Put the account on `plan`: start it now, upgrade now, or downgrade at period end."""
        ...

    def cancel_subscription(self, account_id: str) -> SubscriptionReceipt:
        """End the subscription at the end of its billing period; then the default plan."""
        ...

    def resume_subscription(self, account_id: str) -> SubscriptionReceipt:
        """Keep a cancelled subscription after all (before its period ends)."""
        ...

    # Packs and purchases

    def packs(self, *, include_inactive: bool = False) -> tuple[Pack, ...]:
        """The packs on sale (or all of them), in the purchase page's order."""
        ...

    def get_pack(self, key: str) -> Pack:
        """One pack, active or not."""
        ...

    def create_pack(  # noqa: PLR0913 - a pack has this many facets, all keyword-only
        self,
        key: str,
        *,
        name: str,
        credits: AmountLike,
        price_minor: int,
        currency: str = "usd",
        bonus_credits: AmountLike = 0,
        description: str | None = None,
        badge: str | None = None,
        is_free_once: bool = False,
        expires_after_days: int | None = None,
        is_active: bool = True,
        sort_order: int = 0,
    ) -> Pack:
        """Put a pack on sale: `credits` (plus `bonus_credits`) for `price_minor`."""
        ...

    def update_pack(  # noqa: PLR0913 - a pack has this many facets, all keyword-only
        self,
        key: str,
        *,
        name: str | None = None,
        credits: AmountLike | None = None,
        price_minor: int | None = None,
        currency: str | None = None,
        bonus_credits: AmountLike | None = None,
        description: str | None = None,
        badge: str | None = None,
        is_free_once: bool | None = None,
        expires_after_days: int | None = None,
        is_active: bool | None = None,
        sort_order: int | None = None,
    ) -> Pack:
        """Change a pack's fields (None keeps one); checkouts opened before keep their price."""
        ...

    def deactivate_pack(self, key: str) -> Pack:
        """Stop selling a pack; its purchases keep pointing at it."""
        ...

    def claim_pack(
        self, account_id: str, pack: str, *, idempotency_key: str | None = None
    ) -> Purchase:
        """Grant a free-once pack to the account: once per account, ever."""
        ...

    def purchases(
        self, account_id: str, *, limit: int = PAGE_SIZE_DEFAULT, cursor: str | None = None
    ) -> Page[Purchase]:
        """The account's purchases, newest first."""
        ...

    def get_purchase(self, account_id: str, purchase_id: int) -> Purchase:
        """One of the account's purchases."""
        ...

    def set_auto_top_up(
        self,
        account_id: str,
        *,
        pack: str,
        threshold: AmountLike,
        customer_ref: str,
        payment_method_ref: str,
        failures_max: int = 3,
    ) -> AutoTopUp:
        """Buy `pack` with the saved card whenever available credits fall below `threshold`."""
        ...

    def auto_top_up(self, account_id: str) -> AutoTopUp | None:
        """The account's auto top-up setting and where it stands; None when never set."""
        ...

    def disable_auto_top_up(self, account_id: str) -> AutoTopUp | None:
        """Turn the account's auto top-up off; a payment already started still settles."""
        ...

    # Balance alerts and outgoing webhooks

    def set_balance_alert(self, account_id: str, *, low: AmountLike | None) -> BalanceAlert:
        """Raise `balance.low` when available credits fall below `low` (None: the default)."""
        ...

    def balance_alert(self, account_id: str) -> BalanceAlert:
        """The account's low-balance line, the catalog's default, and the level it is at."""
        ...

    def create_webhook_endpoint(
        self,
        url: str,
        *,
        event_types: Sequence[EventType | str] = (ALL_EVENTS,),
        description: str | None = None,
    ) -> tuple[WebhookEndpoint, str]:
        """Send events of `event_types` to `url`, signed; the secret is shown this once."""
        ...

    def webhook_endpoints(self) -> tuple[WebhookEndpoint, ...]:
        """Every webhook endpoint, oldest first."""
        ...

    def get_webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint:
        """One webhook endpoint."""
        ...

    def update_webhook_endpoint(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        description: str | None = None,
        event_types: Sequence[EventType | str] | None = None,
        is_enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change an endpoint (None keeps a field); `is_enabled=True` enables it again."""
        ...

    def delete_webhook_endpoint(self, endpoint_id: int) -> None:
        """Stop sending to an endpoint and forget its deliveries (the events stay)."""
        ...

    def rotate_webhook_secret(self, endpoint_id: int) -> str:
        """A new signing secret for the endpoint, shown this once; the old one stops now."""
        ...

    def webhook_deliveries(
        self, endpoint_id: int, *, limit: int = PAGE_SIZE_DEFAULT, cursor: str | None = None
    ) -> Page[WebhookDelivery]:
        """An endpoint's deliveries, newest first, each with its attempts (the delivery log)."""
        ...

    def redeliver_webhook(self, delivery_id: int) -> WebhookDelivery:
        """Send a delivery again, delivered or not: it is due now, in its account's order."""
        ...

    # Promo codes

    def promos(self, *, include_inactive: bool = False) -> tuple[Promo, ...]:
        """The active promo codes (or all of them), by code."""
        ...

    def get_promo(self, code: str) -> Promo:
        """One promo code, active or not, with how many accounts have redeemed it."""
        ...

    def create_promo(
        self,
        code: str,
        *,
        credits: AmountLike,
        expires_after_days: int | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        max_redemptions: int | None = None,
        is_active: bool = True,
    ) -> Promo:
        """Add a promo code that grants `credits` once to each account that redeems it."""
        ...

    def update_promo(
        self,
        code: str,
        *,
        credits: AmountLike | None = None,
        expires_after_days: int | None = None,
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        max_redemptions: int | None = None,
        is_active: bool | None = None,
    ) -> Promo:
        """Change a code's fields (None keeps one); redemptions already made stay."""
        ...

    def redeem(self, account_id: str, code: str, *, idempotency_key: str | None = None) -> Receipt:
        """Grant a promo code's credits to the account, once, as a lot of source `promo`."""
        ...

    # Guests

    def consume_guest(
        self,
        session_id: str,
        ip: str,
        *,
        feature: str | None = None,
        idempotency_key: str | None = None,
    ) -> GuestAllowance:
        """Count one use by a guest (by session and by address), or refuse it."""
        ...

    def guest_status(
        self, session_id: str, ip: str, *, feature: str | None = None
    ) -> GuestAllowance:
        """What a guest may still do, counting nothing."""
        ...

    def guest_quotas(self) -> tuple[GuestQuota, ...]:
        """The guest quotas in force: every feature's first, then each feature's own."""
        ...

    def link_guest(self, session_id: str, account_id: str) -> GuestSession:
        """Link a guest's session to the account the guest signed up as (once)."""
        ...

    # Referrals

    def refer(
        self, referee_id: str, referrer_id: str, *, idempotency_key: str | None = None
    ) -> Referral:
        """Record that `referrer_id` referred `referee_id`, on the catalog's terms."""
        ...

    def referrals(self, account_id: str) -> tuple[Referral, ...]:
        """The referrals an account made (as the referrer), oldest first, with their state."""
        ...

    # Widgets

    def mint_widget_token(
        self,
        account_id: str | None = None,
        *,
        ttl_s: int = TOKEN_TTL_S_DEFAULT,
        success_url: str | None = None,
        cancel_url: str | None = None,
    ) -> WidgetToken:
        """A short-lived token for one account's widgets (None: a guest's), for the page.

        The widgets read that account with it and nothing else; with `success_url` and
        `cancel_url` they may start a checkout that returns there. Never send an API key
        to a browser: mint one of these per page instead.
        """
        ...

    def rotate_widget_keys(self) -> int:
        """Retire the keys that sign widget tokens: every token so far stops working."""
        ...

    # Operations

    def expire(self) -> ExpirePass:
        """Write the entries of every lot and hold that has fallen due."""
        ...

    def verify(self) -> VerifyReport:
        """Recompute every account from entries, lots and holds; report each mismatch."""
        ...

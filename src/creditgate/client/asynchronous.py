"""`AsyncClient`: the engine's methods over HTTP, awaited (httpx.AsyncClient)."""

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from creditgate.client import attempts, calls
from creditgate.client.calls import Call
from creditgate.client.sync import headers_of
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
from creditgate.holding import AsyncHeldWork

R = TypeVar("R")


class AsyncClient:
    """The creditgate service, awaited: the methods of `Client`, as coroutines.

    >>> async with AsyncClient("https://credits.example.com", api_key) as client:  # doctest: +SKIP
    ...     await client.charge("user_1", feature="audio.generate", quantity=40)

    Results, errors, idempotency keys and retries are those of `Client`; `holding` is an
    async context manager that places the hold when the block is entered.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout_s: float = 10.0,
        retries: int = 2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._retries = attempts.check_retries(retries)
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers=headers_of(api_key),
            timeout=timeout_s,
            transport=transport,
        )

    async def close(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _send(self, call: Call[R]) -> R:
        """Send `call`, again on a failure it is safe to repeat, and read its answer."""
        request = self._http.build_request(
            call.method,
            call.path,
            params=call.query,
            content=call.content(),
            headers=call.headers(),
        )
        for attempt in range(self._retries + 1):
            is_last = attempt == self._retries
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                if is_last or not attempts.may_resend_after_error(call, error):
                    raise
            else:
                if is_last or not attempts.may_resend_after_status(call, response.status_code):
                    return call.answer(
                        response.status_code, response.content, reason_phrase=response.reason_phrase
                    )
            await asyncio.sleep(attempts.backoff_s(attempt))
        raise AssertionError("the last attempt returns or raises")

    # Accounts

    async def create_account(
        self,
        account_id: str,
        *,
        owner_kind: OwnerKind | str = OwnerKind.USER,
        floor: AmountLike = 0,
        is_unlimited: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> Account:
        """Create a wallet for the app's id, or return the existing one unchanged."""
        return await self._send(
            calls.create_account(
                account_id,
                owner_kind=owner_kind,
                floor=floor,
                is_unlimited=is_unlimited,
                metadata=metadata,
            )
        )

    async def get_account(self, account_id: str) -> Account:
        """The account with this id."""
        return await self._send(calls.get_account(account_id))

    async def update_account(
        self,
        account_id: str,
        *,
        is_frozen: bool | None = None,
        is_unlimited: bool | None = None,
        floor: AmountLike | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Account:
        """Freeze or unfreeze, make unlimited or not, change the floor or metadata."""
        return await self._send(
            calls.update_account(
                account_id,
                is_frozen=is_frozen,
                is_unlimited=is_unlimited,
                floor=floor,
                metadata=metadata,
            )
        )

    async def add_member(
        self,
        account_id: str,
        member_id: str,
        *,
        spend_cap: AmountLike | None = None,
        cap_period: CapPeriod | str | None = None,
    ) -> Member:
        """Let `member_id` spend from an organization's wallet, up to an optional cap."""
        return await self._send(
            calls.add_member(account_id, member_id, spend_cap=spend_cap, cap_period=cap_period)
        )

    async def remove_member(self, account_id: str, member_id: str) -> None:
        """Stop `member_id` spending from the wallet."""
        await self._send(calls.remove_member(account_id, member_id))

    async def members(self, account_id: str) -> tuple[Member, ...]:
        """The members of an organization's wallet, by id."""
        return await self._send(calls.members(account_id))

    async def balance(self, account_id: str) -> Balance:
        """Balance, held and available credits now."""
        return await self._send(calls.balance(account_id))

    # Credits in

    async def grant(
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
        return await self._send(
            calls.grant(
                account_id,
                amount,
                source=source,
                expires_at=expires_at,
                priority=priority,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

    async def adjust(
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
        return await self._send(
            calls.adjust(
                account_id,
                amount,
                reason=reason,
                actor=actor,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

    # Credits out

    async def charge(
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
        return await self._send(
            calls.charge(
                account_id,
                amount,
                feature=feature,
                model=model,
                quantity=quantity,
                member_id=member_id,
                request_id=request_id,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

    async def hold(
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
        """Set the cost of a call aside for `ttl` (whole seconds) before expensive work."""
        return await self._send(
            calls.hold(
                account_id,
                amount,
                ttl=ttl,
                feature=feature,
                model=model,
                quantity=quantity,
                member_id=member_id,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

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
    ) -> AbstractAsyncContextManager[AsyncHeldWork]:
        """Hold on entering `async with`; settle when the block succeeds, release when it raises."""
        return AsyncHeldWork(
            self,
            lambda: self.hold(
                account_id,
                amount,
                ttl=ttl,
                feature=feature,
                model=model,
                quantity=quantity,
                member_id=member_id,
                metadata=metadata,
            ),
        )

    async def extend(
        self,
        hold_id: HoldId,
        more: AmountLike,
        *,
        ttl: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Grow a pending hold by `more`; `ttl` restarts its clock."""
        return await self._send(
            calls.extend(hold_id, more, ttl=ttl, idempotency_key=idempotency_key)
        )

    async def settle(
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
        return await self._send(
            calls.settle(
                hold_id,
                actual,
                quantity=quantity,
                latency_ms=latency_ms,
                request_id=request_id,
                idempotency_key=idempotency_key,
            )
        )

    async def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """End a hold without spending: its credits are available again."""
        return await self._send(
            calls.release(
                hold_id,
                failure=failure,
                latency_ms=latency_ms,
                request_id=request_id,
                idempotency_key=idempotency_key,
            )
        )

    async def get_hold(self, hold_id: HoldId) -> Hold:
        """A hold, with its status as of now."""
        return await self._send(calls.get_hold(hold_id))

    async def refund(
        self,
        entry_id: EntryId,
        amount: AmountLike | None = None,
        *,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Give back all (or `amount`) of what a charge or settle took, never more in total."""
        return await self._send(
            calls.refund(entry_id, amount, reason=reason, idempotency_key=idempotency_key)
        )

    async def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: AmountLike,
        *,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> TransferReceipt:
        """Move credits between accounts; they keep their expiry."""
        return await self._send(
            calls.transfer(
                from_account_id,
                to_account_id,
                amount,
                metadata=metadata,
                idempotency_key=idempotency_key,
            )
        )

    # The ledger

    async def history(
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
        return await self._send(
            calls.history(
                account_id,
                kinds=kinds,
                since=since,
                until=until,
                feature=feature,
                limit=limit,
                cursor=cursor,
            )
        )

    async def get_entry(self, entry_id: EntryId) -> Entry:
        """One ledger entry with its lot moves."""
        return await self._send(calls.get_entry(entry_id))

    async def balance_at(self, account_id: str, at: datetime) -> Credits:
        """The balance as it stood at a past instant."""
        return await self._send(calls.balance_at(account_id, at))

    async def lifetime(self, account_id: str) -> Lifetime:
        """Lifetime figures: granted by source, spent, refunded, expired, adjusted, moved."""
        return await self._send(calls.lifetime(account_id))

    async def lots(self, account_id: str, *, include_spent: bool = False) -> tuple[Lot, ...]:
        """The account's lots with credits left (or all, `include_spent`), in burn order."""
        return await self._send(calls.lots(account_id, include_spent=include_spent))

    async def holds(
        self,
        account_id: str,
        *,
        status: HoldStatus | str | None = None,
        limit: int = PAGE_SIZE_DEFAULT,
        cursor: str | None = None,
    ) -> Page[Hold]:
        """The account's holds newest first, or those of one status, each as of now."""
        return await self._send(calls.holds(account_id, status=status, limit=limit, cursor=cursor))

    # The catalog

    async def check(
        self,
        account_id: str,
        feature: str,
        *,
        model: str | None = None,
        quantity: object = None,
    ) -> Check:
        """Whether the account can pay for one call now."""
        return await self._send(calls.check(account_id, feature, model=model, quantity=quantity))

    async def quote(
        self,
        feature: str,
        *,
        model: str | None = None,
        quantity: object = None,
        at: datetime | None = None,
    ) -> Quote:
        """What one call costs now (or at `at`), at which price version, and why."""
        return await self._send(calls.quote(feature, model=model, quantity=quantity, at=at))

    async def features(self, *, category: str | None = None) -> tuple[Feature, ...]:
        """Every feature (active or not), by category then key; or one category's."""
        return await self._send(calls.features(category=category))

    async def get_feature(self, key: str) -> Feature:
        """One feature, active or not."""
        return await self._send(calls.get_feature(key))

    async def create_feature(
        self,
        key: str,
        *,
        name: str,
        category: str | None = None,
        description: str | None = None,
        is_active: bool = True,
    ) -> Feature:
        """Add a feature to the catalog."""
        return await self._send(
            calls.create_feature(
                key, name=name, category=category, description=description, is_active=is_active
            )
        )

    async def update_feature(
        self,
        key: str,
        *,
        name: str | None = None,
        category: str | None = None,
        description: str | None = None,
        is_active: bool | None = None,
    ) -> Feature:
        """Rename, recategorize, describe, deactivate or reactivate a feature."""
        return await self._send(
            calls.update_feature(
                key, name=name, category=category, description=description, is_active=is_active
            )
        )

    async def delete_feature(self, key: str) -> bool:
        """Delete a feature never used, or deactivate one that was; True when deleted."""
        return await self._send(calls.delete_feature(key))

    async def set_price(
        self,
        feature: str,
        rule: Rule | Mapping[str, object],
        *,
        model: str | None = None,
        minimum: Credits | str | int | None = None,
        effective_from: datetime | None = None,
    ) -> Price:
        """Price a feature (for one model, a `family*`, or by default): a new version."""
        return await self._send(
            calls.set_price(
                feature, rule, model=model, minimum=minimum, effective_from=effective_from
            )
        )

    async def retire_price(
        self, feature: str, *, model: str | None = None, effective_from: datetime | None = None
    ) -> Price:
        """Stop pricing a model (or the default): a version that removes the price."""
        return await self._send(
            calls.retire_price(feature, model=model, effective_from=effective_from)
        )

    async def prices(self, feature: str, *, at: datetime | None = None) -> tuple[Price, ...]:
        """The prices of a feature in force now (or at `at`), one per model."""
        return await self._send(calls.prices(feature, at=at))

    async def price_history(self, feature: str) -> tuple[Price, ...]:
        """Every version of every price of a feature, oldest first."""
        return await self._send(calls.price_history(feature))

    async def export_catalog(self) -> Catalog:
        """The catalog in force: features (active or not), their prices, welcome credits."""
        return await self._send(calls.export_catalog())

    async def apply_catalog(
        self, desired: Catalog | Mapping[str, object], *, dry_run: bool = False
    ) -> tuple[Change, ...]:
        """Bring the catalog to `desired`; with `dry_run`, only list the changes.

        Each change carries its kind and detail: the service sends no more of it.
        """
        return await self._send(calls.apply_catalog(desired, dry_run=dry_run))

    # Usage

    async def usage(
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
        return await self._send(
            calls.usage(
                account_id,
                feature=feature,
                model=model,
                outcome=outcome,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )
        )

    async def usage_totals(
        self,
        account_id: str | None = None,
        *,
        feature: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> tuple[UsageTotal, ...]:
        """Events and credits by feature, model and outcome."""
        return await self._send(
            calls.usage_totals(account_id, feature=feature, model=model, since=since, until=until)
        )

    # Analytics

    async def spend_by_feature(
        self, *, since: datetime, until: datetime
    ) -> tuple[FeatureSpend, ...]:
        """Credits spent per UTC day and feature, by day then feature."""
        return await self._send(calls.spend_by_feature(since=since, until=until))

    async def spend_by_model(self, *, since: datetime, until: datetime) -> tuple[ModelSpend, ...]:
        """Credits spent per UTC day and model, by day then model."""
        return await self._send(calls.spend_by_model(since=since, until=until))

    async def generations_by_model(
        self, *, since: datetime, until: datetime
    ) -> tuple[ModelGenerations, ...]:
        """Usage events by model and outcome, with each model's failure rate."""
        return await self._send(calls.generations_by_model(since=since, until=until))

    async def latency_by_model(
        self, *, since: datetime, until: datetime
    ) -> tuple[ModelLatency, ...]:
        """Average and nearest-rank p95 latency of each model's successful events."""
        return await self._send(calls.latency_by_model(since=since, until=until))

    async def grants_by_source(
        self, *, since: datetime, until: datetime
    ) -> tuple[SourceGrants, ...]:
        """Credits granted by lot source (welcome, plan cycle, purchase, promo, ...)."""
        return await self._send(calls.grants_by_source(since=since, until=until))

    async def revenue_by_pack(self, *, since: datetime, until: datetime) -> tuple[PackRevenue, ...]:
        """Paid purchases of packs by pack and currency: count, gross, refunded (minor units)."""
        return await self._send(calls.revenue_by_pack(since=since, until=until))

    async def top_spenders(
        self, *, since: datetime, until: datetime, limit: int = TOP_ACCOUNTS_DEFAULT
    ) -> tuple[AccountSpend, ...]:
        """The `limit` accounts that spent the most credits, most first."""
        return await self._send(calls.top_spenders(since=since, until=until, limit=limit))

    async def guest_conversion(self, *, since: datetime, until: datetime) -> GuestConversion:
        """Guest sessions first seen in the range, and how many have signed up since."""
        return await self._send(calls.guest_conversion(since=since, until=until))

    async def welcome_usage(self, *, since: datetime, until: datetime) -> WelcomeUsage:
        """What became of the welcome credits granted in the range, as of now."""
        return await self._send(calls.welcome_usage(since=since, until=until))

    # Plans and subscriptions

    async def plans(self, *, include_inactive: bool = False) -> tuple[Plan, ...]:
        """The plans on sale (or all of them), by credits per cycle."""
        return await self._send(calls.plans(include_inactive=include_inactive))

    async def get_plan(self, key: str) -> Plan:
        """One plan, active or not."""
        return await self._send(calls.get_plan(key))

    async def create_plan(  # noqa: PLR0913 - a plan has this many facets, all keyword-only
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
        return await self._send(
            calls.create_plan(
                key,
                name=name,
                credits=credits,
                prices=prices or {},
                currency=currency,
                description=description,
                rollover=rollover,
                rollover_cap=rollover_cap,
                cycle=cycle,
                is_active=is_active,
                is_default=is_default,
            )
        )

    async def update_plan(  # noqa: PLR0913 - a plan has this many facets, all keyword-only
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
        return await self._send(
            calls.update_plan(
                key,
                name=name,
                credits=credits,
                prices=prices,
                currency=currency,
                description=description,
                rollover=rollover,
                rollover_cap=rollover_cap,
                cycle=cycle,
                is_active=is_active,
                is_default=is_default,
            )
        )

    async def deactivate_plan(self, key: str) -> Plan:
        """Stop selling a plan; its subscribers keep renewing on it."""
        return await self._send(calls.deactivate_plan(key))

    async def plan_overview(self, account_id: str) -> PlanOverview:
        """The plans on sale with the account's subscription and balance."""
        return await self._send(calls.plan_overview(account_id))

    async def subscription(self, account_id: str) -> Subscription | None:
        """The account's live subscription, or None when it is on no plan."""
        return await self._send(calls.subscription(account_id))

    async def subscribe(
        self,
        account_id: str,
        plan: str,
        *,
        interval: Interval | str | None = None,
        idempotency_key: str | None = None,
    ) -> SubscriptionReceipt:
        """Put the account on `plan`: start it now, upgrade now, or downgrade at period end."""
        return await self._send(
            calls.subscribe(account_id, plan, interval=interval, idempotency_key=idempotency_key)
        )

    async def cancel_subscription(self, account_id: str) -> SubscriptionReceipt:
        """End the subscription at the end of its billing period; then the default plan."""
        return await self._send(calls.cancel_subscription(account_id))

    async def resume_subscription(self, account_id: str) -> SubscriptionReceipt:
        """Keep a cancelled subscription after all (before its period ends)."""
        return await self._send(calls.resume_subscription(account_id))

    # Packs and purchases

    async def packs(self, *, include_inactive: bool = False) -> tuple[Pack, ...]:
        """The packs on sale (or all of them), in the purchase page's order."""
        return await self._send(calls.packs(include_inactive=include_inactive))

    async def get_pack(self, key: str) -> Pack:
        """One pack, active or not."""
        return await self._send(calls.get_pack(key))

    async def create_pack(  # noqa: PLR0913 - a pack has this many facets, all keyword-only
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
        return await self._send(
            calls.create_pack(
                key,
                name=name,
                credits=credits,
                price_minor=price_minor,
                currency=currency,
                bonus_credits=bonus_credits,
                description=description,
                badge=badge,
                is_free_once=is_free_once,
                expires_after_days=expires_after_days,
                is_active=is_active,
                sort_order=sort_order,
            )
        )

    async def update_pack(  # noqa: PLR0913 - a pack has this many facets, all keyword-only
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
        return await self._send(
            calls.update_pack(
                key,
                name=name,
                credits=credits,
                price_minor=price_minor,
                currency=currency,
                bonus_credits=bonus_credits,
                description=description,
                badge=badge,
                is_free_once=is_free_once,
                expires_after_days=expires_after_days,
                is_active=is_active,
                sort_order=sort_order,
            )
        )

    async def deactivate_pack(self, key: str) -> Pack:
        """Stop selling a pack; its purchases keep pointing at it."""
        return await self._send(calls.deactivate_pack(key))

    async def claim_pack(
        self, account_id: str, pack: str, *, idempotency_key: str | None = None
    ) -> Purchase:
        """Grant a free-once pack to the account: once per account, ever."""
        return await self._send(calls.claim_pack(account_id, pack, idempotency_key=idempotency_key))

    async def purchases(
        self, account_id: str, *, limit: int = PAGE_SIZE_DEFAULT, cursor: str | None = None
    ) -> Page[Purchase]:
        """The account's purchases, newest first."""
        return await self._send(calls.purchases(account_id, limit=limit, cursor=cursor))

    async def get_purchase(self, account_id: str, purchase_id: int) -> Purchase:
        """One of the account's purchases."""
        return await self._send(calls.get_purchase(account_id, purchase_id))

    async def set_auto_top_up(
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
        return await self._send(
            calls.set_auto_top_up(
                account_id,
                pack=pack,
                threshold=threshold,
                customer_ref=customer_ref,
                payment_method_ref=payment_method_ref,
                failures_max=failures_max,
            )
        )

    async def auto_top_up(self, account_id: str) -> AutoTopUp | None:
        """The account's auto top-up setting and where it stands; None when never set."""
        return await self._send(calls.auto_top_up(account_id))

    async def disable_auto_top_up(self, account_id: str) -> AutoTopUp | None:
        """Turn the account's auto top-up off; a payment already started still settles."""
        return await self._send(calls.disable_auto_top_up(account_id))

    # Balance alerts and outgoing webhooks

    async def set_balance_alert(self, account_id: str, *, low: AmountLike | None) -> BalanceAlert:
        """Raise `balance.low` when available credits fall below `low` (None: the default)."""
        return await self._send(calls.set_balance_alert(account_id, low=low))

    async def balance_alert(self, account_id: str) -> BalanceAlert:
        """The account's low-balance line, the catalog's default, and the level it is at."""
        return await self._send(calls.balance_alert(account_id))

    async def create_webhook_endpoint(
        self,
        url: str,
        *,
        event_types: Sequence[EventType | str] = (ALL_EVENTS,),
        description: str | None = None,
    ) -> tuple[WebhookEndpoint, str]:
        """Send events of `event_types` to `url`, signed; the secret is shown this once."""
        return await self._send(
            calls.create_webhook_endpoint(url, event_types=event_types, description=description)
        )

    async def webhook_endpoints(self) -> tuple[WebhookEndpoint, ...]:
        """Every webhook endpoint, oldest first."""
        return await self._send(calls.webhook_endpoints())

    async def get_webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint:
        """One webhook endpoint."""
        return await self._send(calls.get_webhook_endpoint(endpoint_id))

    async def update_webhook_endpoint(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        description: str | None = None,
        event_types: Sequence[EventType | str] | None = None,
        is_enabled: bool | None = None,
    ) -> WebhookEndpoint:
        """Change an endpoint (None keeps a field); `is_enabled=True` enables it again."""
        return await self._send(
            calls.update_webhook_endpoint(
                endpoint_id,
                url=url,
                description=description,
                event_types=event_types,
                is_enabled=is_enabled,
            )
        )

    async def delete_webhook_endpoint(self, endpoint_id: int) -> None:
        """Stop sending to an endpoint and forget its deliveries (the events stay)."""
        await self._send(calls.delete_webhook_endpoint(endpoint_id))

    async def rotate_webhook_secret(self, endpoint_id: int) -> str:
        """A new signing secret for the endpoint, shown this once; the old one stops now."""
        return await self._send(calls.rotate_webhook_secret(endpoint_id))

    async def webhook_deliveries(
        self, endpoint_id: int, *, limit: int = PAGE_SIZE_DEFAULT, cursor: str | None = None
    ) -> Page[WebhookDelivery]:
        """An endpoint's deliveries, newest first, each with its attempts (the delivery log)."""
        return await self._send(calls.webhook_deliveries(endpoint_id, limit=limit, cursor=cursor))

    async def redeliver_webhook(self, delivery_id: int) -> WebhookDelivery:
        """Send a delivery again, delivered or not: it is due now, in its account's order."""
        return await self._send(calls.redeliver_webhook(delivery_id))

    async def checkout(
        self,
        account_id: str,
        *,
        pack: str | None = None,
        plan: str | None = None,
        interval: Interval | str | None = None,
        success_url: str,
        cancel_url: str,
        customer_email: str | None = None,
    ) -> tuple[Purchase, str]:
        """Open a Stripe Checkout Session for a pack or a plan: the pending purchase and its URL.

        Send the person to the URL; the service's Stripe webhook grants a pack's credits
        once paid, and a plan's cycles as its invoices are paid. A service verb: the
        embedded engine has no Stripe account of its own.
        """
        return await self._send(
            calls.checkout(
                account_id,
                pack=pack,
                plan=plan,
                interval=interval,
                success_url=success_url,
                cancel_url=cancel_url,
                customer_email=customer_email,
            )
        )

    # Promo codes

    async def promos(self, *, include_inactive: bool = False) -> tuple[Promo, ...]:
        """The active promo codes (or all of them), by code."""
        return await self._send(calls.promos(include_inactive=include_inactive))

    async def get_promo(self, code: str) -> Promo:
        """One promo code, active or not, with how many accounts have redeemed it."""
        return await self._send(calls.get_promo(code))

    async def create_promo(
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
        return await self._send(
            calls.create_promo(
                code,
                credits=credits,
                expires_after_days=expires_after_days,
                starts_at=starts_at,
                ends_at=ends_at,
                max_redemptions=max_redemptions,
                is_active=is_active,
            )
        )

    async def update_promo(
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
        return await self._send(
            calls.update_promo(
                code,
                credits=credits,
                expires_after_days=expires_after_days,
                starts_at=starts_at,
                ends_at=ends_at,
                max_redemptions=max_redemptions,
                is_active=is_active,
            )
        )

    async def redeem(
        self, account_id: str, code: str, *, idempotency_key: str | None = None
    ) -> Receipt:
        """Grant a promo code's credits to the account, once, as a lot of source `promo`."""
        return await self._send(calls.redeem(account_id, code, idempotency_key=idempotency_key))

    # Guests

    async def consume_guest(
        self,
        session_id: str,
        ip: str,
        *,
        feature: str | None = None,
        idempotency_key: str | None = None,
    ) -> GuestAllowance:
        """Count one use by a guest (by session and by address), or refuse it (429).

        The guest's address travels as `X-Forwarded-For`: the service believes it only
        when this client's address is one of its trusted proxies.
        """
        return await self._send(
            calls.consume_guest(session_id, ip, feature=feature, idempotency_key=idempotency_key)
        )

    async def guest_status(
        self, session_id: str, ip: str, *, feature: str | None = None
    ) -> GuestAllowance:
        """What a guest may still do, counting nothing."""
        return await self._send(calls.guest_status(session_id, ip, feature=feature))

    async def guest_quotas(self) -> tuple[GuestQuota, ...]:
        """The guest quotas in force: every feature's first, then each feature's own."""
        return await self._send(calls.guest_quotas())

    async def link_guest(self, session_id: str, account_id: str) -> GuestSession:
        """Link a guest's session to the account the guest signed up as (once)."""
        return await self._send(calls.link_guest(session_id, account_id))

    # Referrals

    async def refer(
        self, referee_id: str, referrer_id: str, *, idempotency_key: str | None = None
    ) -> Referral:
        """Record that `referrer_id` referred `referee_id`, on the catalog's terms."""
        return await self._send(
            calls.refer(referee_id, referrer_id, idempotency_key=idempotency_key)
        )

    async def referrals(self, account_id: str) -> tuple[Referral, ...]:
        """The referrals an account made (as the referrer), oldest first, with their state."""
        return await self._send(calls.referrals(account_id))

    # Widgets

    async def mint_widget_token(
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
        return await self._send(
            calls.mint_widget_token(
                account_id, ttl_s=ttl_s, success_url=success_url, cancel_url=cancel_url
            )
        )

    async def rotate_widget_keys(self) -> int:
        """Retire the keys that sign widget tokens: every token so far stops working."""
        return await self._send(calls.rotate_widget_keys())

    # Operations

    async def expire(self) -> ExpirePass:
        """Write the entries of every lot and hold that has fallen due."""
        return await self._send(calls.expire())

    async def verify(self) -> VerifyReport:
        """Recompute every account from entries, lots and holds; report each mismatch."""
        return await self._send(calls.verify())

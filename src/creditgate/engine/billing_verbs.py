"""Billing the providers drive, as the `Engine`'s verbs: plan subscriptions and top-ups.

A plan bought through a checkout is a subscription the provider bills: its paid invoices
grant the cycles (`engine.billing`), and its cancellation and end are followed. An auto
top-up's payment is started by the worker and confirmed by the provider's event
(`engine.topups`). Event verbs claim the event's id in the transaction of their effect.
"""

from datetime import datetime

from creditgate.domain.accounts import check_account_id
from creditgate.domain.errors import InvalidInput, PurchaseNotFound
from creditgate.domain.events import EventResult, Outcome, Provider, ProviderEvent
from creditgate.domain.inputs import check_instant
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.packs import (
    Purchase,
    PurchaseKind,
    PurchaseStatus,
    check_currency,
)
from creditgate.domain.plans import Interval, Plan, check_interval, check_plan_key
from creditgate.domain.topups import PendingTopUp
from creditgate.engine import billing, history, plans, purchases, topups
from creditgate.engine.books import Books, transaction
from creditgate.engine.claims import claimed, provider_ref
from creditgate.engine.clock import Clock
from creditgate.storage import packs as rows
from creditgate.storage import plans as plan_rows
from creditgate.storage import topups as topup_rows
from creditgate.storage.database import Database


class BillingVerbs:
    """Plan subscriptions and auto top-ups as providers bill them (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def checkout_plan(
        self, account_id: str, plan: str, interval: Interval | str | None = None
    ) -> tuple[Plan, Interval]:
        """The plan and interval an account may subscribe to through a checkout now.

        Raises:
            AccountNotFound: no account has this id.
            PlanNotFound: no active plan has this key.
            InvalidInput: the plan has no price on that interval (or a zero one), or the
                account's subscription is already billed by the provider.
        """
        checked = check_account_id(account_id)
        key = check_plan_key(plan)
        chosen = None if interval is None else check_interval(interval)
        with self.db.read() as conn:
            row = history.open_account(conn, checked)
            _, found = plans.subscribable(conn, key)
            live = plan_rows.live_subscription(conn, row.pk, row.account.id)
        chosen = chosen or found.intervals()[0]
        if not found.prices.get(chosen):
            reason = f"plan {found.key} has no price by {chosen.value} to check out"
            raise InvalidInput(field="interval", reason=reason)
        if live is not None and live.provider_ref is not None:
            reason = "the subscription is billed by Stripe already: change it there"
            raise InvalidInput(field="account_id", reason=reason)
        return found, chosen

    def open_plan_checkout(
        self,
        account_id: str,
        plan: str,
        interval: Interval | str,
        *,
        provider: Provider,
        reference: str,
    ) -> Purchase:
        """Record a pending plan purchase for a subscription checkout the provider opened.

        Raises:
            AccountNotFound: no account has this id.
            PlanNotFound: no active plan has this key.
            InvalidInput: the plan has no price on that interval.
        """
        checked = check_account_id(account_id)
        key = check_plan_key(plan)
        chosen = check_interval(interval)
        ref = provider_ref(reference, "reference")
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            plan_pk, found = plans.subscribable(books.conn, key)
            if not found.prices.get(chosen):
                reason = f"plan {found.key} has no price by {chosen.value} to check out"
                raise InvalidInput(field="interval", reason=reason)
            return purchases.open_plan_checkout(
                books, row, plan_pk, found, chosen, provider=provider.value, reference=ref
            )

    def complete_plan_checkout(
        self, event: ProviderEvent, *, reference: str, subscription_ref: str
    ) -> EventResult:
        """A subscription checkout completed: its purchase is paid; invoices grant."""
        ref = provider_ref(reference, "reference")
        sub_ref = provider_ref(subscription_ref, "subscription_ref")
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: purchases.complete_plan(
                books, event, reference=ref, subscription_ref=sub_ref
            ),
        )

    def pay_invoice(
        self,
        event: ProviderEvent,
        *,
        account_id: str,
        plan: str,
        interval: Interval | str,
        subscription_ref: str,
        period_start: datetime,
        period_end: datetime,
        amount_minor: int,
        currency: str,
    ) -> EventResult:
        """A billing period of a provider-billed subscription was paid: grant its cycles.

        The first paid invoice starts the plan; a later one lets a cycle that waited for
        it in. Once per event, and once per cycle.

        Raises:
            InvalidInput: a fact of the event is malformed (nothing is claimed).
        """
        checked = check_account_id(account_id)
        key = check_plan_key(plan)
        chosen = check_interval(interval)
        sub_ref = provider_ref(subscription_ref, "subscription_ref")
        start = check_instant(period_start, field="period_start")
        end = check_instant(period_end, field="period_end")
        if end <= start:
            raise InvalidInput(field="period_end", reason="must be after period_start")
        if type(amount_minor) is not int or amount_minor < 0:
            raise InvalidInput(field="amount_minor", reason="must be a whole number of minor units")
        money = check_currency(currency)
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: billing.invoice_paid(
                books,
                event,
                account_id=checked,
                plan_key=key,
                interval=chosen,
                subscription_ref=sub_ref,
                period_start=start,
                period_end=end,
                amount_minor=amount_minor,
                currency=money,
            ),
        )

    def update_provider_subscription(
        self,
        event: ProviderEvent,
        *,
        subscription_ref: str,
        status: str,
        cancel_at_period_end: bool,
        plan: str | None = None,
        interval: Interval | str | None = None,
    ) -> EventResult:
        """The provider's subscription changed: follow it.

        Its plan (`plan`, `interval`, from the subscription's metadata) is followed like the
        app's own `subscribe`: an upgrade tops the cycle up now, a downgrade waits for the
        period's end. Its cancellation at the period's end is mirrored; a status after which
        nothing more will be paid (canceled, unpaid, incomplete_expired) ends it now.
        """
        sub_ref = provider_ref(subscription_ref, "subscription_ref")
        key = None if plan is None else check_plan_key(plan)
        chosen = None if interval is None else check_interval(interval)
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: billing.subscription_updated(
                books,
                event,
                subscription_ref=sub_ref,
                status=status,
                cancel_at_period_end=cancel_at_period_end,
                plan_key=key,
                interval=chosen,
            ),
        )

    def end_provider_subscription(
        self, event: ProviderEvent, *, subscription_ref: str
    ) -> EventResult:
        """The provider's subscription ended: end it now; the default plan takes over."""
        sub_ref = provider_ref(subscription_ref, "subscription_ref")
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: billing.subscription_deleted(books, event, subscription_ref=sub_ref),
        )

    def pending_top_ups(self, *, limit: int = PAGE_SIZE_DEFAULT) -> tuple[PendingTopUp, ...]:
        """Top-ups whose payment is to be started (by `creditgate worker`), oldest first."""
        if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
        with self.db.read() as conn:
            return tuple(topup_rows.pending_top_ups(conn, limit))

    def top_up_started(self, purchase_id: int, *, payment_ref: str) -> Purchase:
        """Record the payment a top-up started; Stripe's event settles it.

        Raises:
            PurchaseNotFound: no pending top-up has this id.
        """
        ref = provider_ref(payment_ref, "payment_ref")
        with transaction(self.db, self.clock) as books:
            found = _pending_top_up(books, purchase_id)
            books.lock_pk(found.account_pk)
            rows.save_purchase(books.conn, found.pk, {"payment_ref": ref}, books.now)
            again = rows.find_purchase_by_pk(books.conn, found.account_pk, found.pk)
            assert again is not None
            return again.purchase

    def top_up_failed(
        self, purchase_id: int, *, reason: str, payment_ref: str | None = None
    ) -> Purchase:
        """A top-up's payment could not be made (the card was declined): count the failure.

        Raises:
            PurchaseNotFound: no pending top-up has this id.
        """
        ref = None if payment_ref is None else provider_ref(payment_ref, "payment_ref")
        with transaction(self.db, self.clock) as books:
            found = _pending_top_up(books, purchase_id)
            if ref is not None:
                rows.save_purchase(books.conn, found.pk, {"payment_ref": ref}, books.now)
            topups.failed(books, found, str(reason)[:200])
            again = rows.find_purchase_by_pk(books.conn, found.account_pk, found.pk)
            assert again is not None
            return again.purchase

    def confirm_payment(
        self, event: ProviderEvent, *, payment_ref: str, amount_minor: int, currency: str
    ) -> EventResult:
        """Stripe confirmed a payment (`payment_intent.succeeded`).

        A top-up's pack is granted once; any other payment is recorded (its checkout's
        own events grant it).
        """
        ref = provider_ref(payment_ref, "payment_ref")
        money = check_currency(currency)

        def effect(books: Books) -> EventResult:
            done = topups.succeeded(
                books, event, payment_ref=ref, amount_minor=amount_minor, currency=money
            )
            if done is not None:
                return done
            return purchases.finish(books, event, Outcome.RECORDED, detail="not a top-up")

        return claimed(self.db, self.clock, event, effect)

    def fail_payment(self, event: ProviderEvent, *, payment_ref: str, reason: str) -> EventResult:
        """A payment failed (`payment_intent.payment_failed`).

        A top-up counts the failure (once, however it is reported); anything else is
        recorded.
        """
        ref = provider_ref(payment_ref, "payment_ref")

        def effect(books: Books) -> EventResult:
            found = rows.find_purchase_by_payment(books.conn, topups.PROVIDER, ref)
            if found is None or found.purchase.kind is not PurchaseKind.TOP_UP:
                return purchases.finish(books, event, Outcome.RECORDED, detail=reason[:500])
            counted = topups.failed(books, found, reason)
            row = books.lock_pk(found.account_pk)
            outcome = Outcome.APPLIED if counted else Outcome.NO_CHANGE
            return purchases.finish(books, event, outcome, row=row, purchase_pk=found.pk)

        return claimed(self.db, self.clock, event, effect)


def _pending_top_up(books: Books, purchase_id: int) -> rows.PurchaseRow:
    """A pending top-up purchase by id.

    Raises:
        PurchaseNotFound: no pending top-up has this id.
    """
    if type(purchase_id) is not int or purchase_id <= 0:
        raise InvalidInput(field="purchase_id", reason="must be a positive integer id")
    found = rows.find_purchase_by_id(books.conn, purchase_id)
    if (
        found is None
        or found.purchase.kind is not PurchaseKind.TOP_UP
        or found.purchase.status is not PurchaseStatus.PENDING
    ):
        raise PurchaseNotFound(purchase_id)
    return found

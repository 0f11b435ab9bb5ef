"""The engine: creditgate's use cases, each one transaction, behind the `Engine` facade.

What it owns: validating every input at the edge (so a bad request changes nothing),
running each use case in one write transaction (`books.transaction`), idempotency keys
claimed in that same transaction, and the clock every decision reads.

Invariants it keeps: an account's writers serialize on its row lock (transfers lock both
in id order); whatever has fallen due is written before anything else on the account;
every entry moves lots, figures and the ledger together; a key takes effect once.

Boundaries: imports the domain and storage; faces (CLI, HTTP, client) import only
`Engine` and the domain's public types.
"""

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from creditgate.domain.accounts import (
    Account,
    CapPeriod,
    Member,
    OwnerKind,
    check_account_id,
    check_floor,
)
from creditgate.domain.amounts import SCALE, AmountLike, Credits
from creditgate.domain.entries import Entry, EntryKind
from creditgate.domain.errors import (
    EntryNotFound,
    Forbidden,
    HoldNotFound,
    InsufficientCredits,
    InvalidInput,
    MemberNotFound,
)
from creditgate.domain.holds import Hold, check_ttl
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.inputs import (
    check_instant,
    check_key,
    check_metadata,
    check_required_text,
    check_text,
)
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.lots import GRANTABLE_SOURCES, LotSource, check_priority
from creditgate.domain.pricing import Quantity, check_quantity, quantity_data
from creditgate.domain.results import (
    Balance,
    ExpirePass,
    Lifetime,
    Page,
    Receipt,
    TransferReceipt,
    VerifyReport,
)
from creditgate.engine import accounts, charges, grants, history, holds, refunds, transfers
from creditgate.engine.account_reads import AccountReads
from creditgate.engine.alert_verbs import AlertVerbs
from creditgate.engine.analytics_verbs import AnalyticsVerbs
from creditgate.engine.billing_verbs import BillingVerbs
from creditgate.engine.books import transaction
from creditgate.engine.catalog_verbs import CatalogVerbs
from creditgate.engine.clock import Clock, ManualClock, SystemClock
from creditgate.engine.guest_verbs import GuestVerbs
from creditgate.engine.guests import DatabaseCounter, GuestCounter, QuotaCache
from creditgate.engine.idempotency import once
from creditgate.engine.key_verbs import KeyVerbs
from creditgate.engine.members import cap_period_start
from creditgate.engine.pack_verbs import PackVerbs
from creditgate.engine.plan_verbs import PlanVerbs
from creditgate.engine.promo_verbs import PromoVerbs
from creditgate.engine.provider_verbs import ProviderVerbs
from creditgate.engine.referral_verbs import ReferralVerbs
from creditgate.engine.sweeper import expire
from creditgate.engine.usage import Call, End, check_latency, read_call, record_refusal
from creditgate.engine.usage_verbs import UsageVerbs
from creditgate.engine.verify import verify
from creditgate.engine.webhook_verbs import WebhookVerbs
from creditgate.engine.widget_verbs import WidgetVerbs
from creditgate.engine.widgets import KeyRing
from creditgate.holding import HeldWork
from creditgate.settings import Settings
from creditgate.storage import migrate
from creditgate.storage.accounts import AccountRow, list_members
from creditgate.storage.database import Database
from creditgate.storage.entries import EntryFilter, find_entry
from creditgate.storage.holds import count_pending, find_hold

__all__ = ["Clock", "DatabaseCounter", "Engine", "GuestCounter", "ManualClock", "SystemClock"]

E = TypeVar("E", bound=StrEnum)


def _enum(enum: type[E], value: object, field: str) -> E:
    try:
        return enum(value) if isinstance(value, str) else enum(str(value))
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise InvalidInput(field=field, reason=f"one of: {allowed}") from None


def _flag(value: object, field: str) -> bool:
    if type(value) is not bool:
        raise InvalidInput(field=field, reason="must be true or false")
    return value


def _id(value: object, field: str) -> int:
    if type(value) is not int or value <= 0:
        raise InvalidInput(field=field, reason="must be a positive integer id")
    return value


class Engine(
    AccountReads,
    CatalogVerbs,
    UsageVerbs,
    AnalyticsVerbs,
    KeyVerbs,
    PlanVerbs,
    PackVerbs,
    ProviderVerbs,
    BillingVerbs,
    PromoVerbs,
    ReferralVerbs,
    GuestVerbs,
    AlertVerbs,
    WebhookVerbs,
    WidgetVerbs,
):
    """The embedded credit engine: open a SQLite file or a PostgreSQL URL and call it.

    >>> engine = Engine("sqlite:///credits.db")  # doctest: +SKIP
    >>> engine.seed("media-studio")              # doctest: +SKIP
    >>> engine.create_account("user_1")          # 60 welcome credits  # doctest: +SKIP
    >>> receipt = engine.charge("user_1", feature="audio.generate", quantity=40)  # doctest: +SKIP
    >>> receipt.credits_remaining                                               # doctest: +SKIP
    Credits('57')

    Every mutating method takes an optional `idempotency_key`: the same key and request
    answer the first result again without a second effect.
    """

    def __init__(
        self,
        database: Database | str | None = None,
        *,
        clock: Clock | None = None,
        upgrade: bool = True,
        guest_counter: GuestCounter | None = None,
    ) -> None:
        if not isinstance(database, Database):
            settings = Settings() if database is None else Settings(database_url=database)
            database = Database(
                settings.database_url,
                sqlite_sync=settings.sqlite_synchronous,
                pool_size=settings.pool_size,
            )
        self.db = database
        self.clock: Clock = clock or SystemClock()
        self.guest_counter = guest_counter or DatabaseCounter(database)
        """Who counts guests' uses: the database, unless a Redis counter is given."""
        self.guest_quota_cache = QuotaCache()
        self.widget_keys = KeyRing()
        """The keys that sign widget tokens, cached."""
        if upgrade:
            migrate.upgrade(self.db)
        # Amounts are stored as units of 1/SCALE credit: a database made with another scale
        # would be misread by a factor, so refuse it outright.
        scale = migrate.recorded_scale(self.db)
        assert scale in (None, SCALE), f"database counts {scale} units per credit, not {SCALE}"

    def close(self) -> None:
        """Release the database's connections."""
        self.db.dispose()

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
        """Create a wallet for the app's id, or return the existing one unchanged.

        `floor` is 0 or negative: how far the balance may go below zero (an overdraft).

        Raises:
            InvalidInput: a bad id, kind, floor or metadata.
        """
        checked = check_account_id(account_id)
        kind = _enum(OwnerKind, owner_kind, "owner_kind")
        floor_c = check_floor(Credits.parse(floor, field="floor"))
        meta = check_metadata(metadata)
        with transaction(self.db, self.clock) as books:
            return accounts.create(
                books.conn,
                account_id=checked,
                owner_kind=kind,
                floor=floor_c,
                is_unlimited=_flag(is_unlimited, "is_unlimited"),
                metadata=meta,
                books=books,
            )

    def get_account(self, account_id: str) -> Account:
        """The account with this id.

        Raises:
            AccountNotFound: no account has this id.
        """
        with self.db.read() as conn:
            return history.open_account(conn, check_account_id(account_id)).account

    def update_account(
        self,
        account_id: str,
        *,
        is_frozen: bool | None = None,
        is_unlimited: bool | None = None,
        floor: AmountLike | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Account:
        """Freeze or unfreeze, make unlimited or not, change the floor or metadata.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a floor above zero or above the current balance.
        """
        checked = check_account_id(account_id)
        for field, flag in (("is_frozen", is_frozen), ("is_unlimited", is_unlimited)):
            if flag is not None and type(flag) is not bool:
                raise InvalidInput(field=field, reason="must be true or false")
        floor_c = None if floor is None else check_floor(Credits.parse(floor, field="floor"))
        meta = None if metadata is None else check_metadata(metadata)
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return accounts.update(
                books,
                row,
                is_frozen=is_frozen,
                is_unlimited=is_unlimited,
                floor=floor_c,
                metadata=meta,
            )

    def add_member(
        self,
        account_id: str,
        member_id: str,
        *,
        spend_cap: AmountLike | None = None,
        cap_period: CapPeriod | str | None = None,
    ) -> Member:
        """Let `member_id` spend from an organization's wallet, up to an optional cap.

        The cap counts everything the member spends, or with `cap_period` what they spend
        per calendar `month` or per plan `cycle` (starting again with each).

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: not an organization's account, a bad member id or cap, or a
                period without a cap.
        """
        checked = check_account_id(account_id)
        member = check_account_id(member_id, field="member_id")
        cap = None if spend_cap is None else Credits.parse(spend_cap, field="spend_cap")
        period = None if cap_period is None else _enum(CapPeriod, cap_period, "cap_period")
        if period is not None and cap is None:
            raise InvalidInput(field="cap_period", reason="a cap period needs a spend_cap")
        with transaction(self.db, self.clock) as books:
            return accounts.add_member(books, books.lock(checked), member, cap, period)

    def remove_member(self, account_id: str, member_id: str) -> None:
        """Stop `member_id` spending from the wallet.

        Raises:
            AccountNotFound: no account has this id.
            MemberNotFound: the person is not a member.
        """
        checked = check_account_id(account_id)
        member = check_account_id(member_id, field="member_id")
        with transaction(self.db, self.clock) as books:
            accounts.remove_member(books, books.lock(checked), member)

    def members(self, account_id: str) -> tuple[Member, ...]:
        """The members of an organization's wallet, by id, with what they spent this period."""

        def read(conn: Connection, row: AccountRow, now: datetime) -> tuple[Member, ...]:
            return tuple(
                m.as_of(cap_period_start(row, m.cap_period, now)) for m in list_members(conn, row)
            )

        return history.read_fresh(self.db, self.clock, account_id, read)

    def balance(self, account_id: str) -> Balance:
        """Balance, held and available credits now.

        Raises:
            AccountNotFound: no account has this id.
        """
        return history.read_fresh(self.db, self.clock, account_id, history.balance)

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
        """Add a lot of credits from `source`, optionally expiring, with a burn priority.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad amount, source, expiry, priority or metadata.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        units = Credits.positive(amount)
        lot_source = _enum(LotSource, source, "source")
        if lot_source not in GRANTABLE_SOURCES:
            raise InvalidInput(
                field="source", reason=f"{lot_source} lots are written by {lot_source} itself"
            )
        expiry = None if expires_at is None else check_instant(expires_at, field="expires_at")
        prio = check_priority(priority)
        meta = check_metadata(metadata)
        key = check_key(idempotency_key)
        request = {
            "amount": units.units,
            "source": lot_source.value,
            "expires_at": None if expiry is None else expiry.isoformat(),
            "priority": prio,
            "metadata": meta,
        }
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return once(
                books,
                row,
                operation="grant",
                key=key,
                request=request,
                result_type=Receipt,
                effect=lambda: grants.grant(
                    books,
                    row,
                    units,
                    source=lot_source,
                    expires_at=expiry,
                    priority=prio,
                    metadata=meta,
                ),
            )

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
        """A signed correction by an operator, recorded with its reason and actor.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a zero or malformed amount, or a missing reason or actor.
            InsufficientCredits: a negative adjustment beyond what is available.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        units = Credits.parse(amount)
        why = check_required_text(reason, field="reason")
        who = check_required_text(actor, field="actor")
        meta = check_metadata(metadata)
        key = check_key(idempotency_key)
        request = {"amount": units.units, "reason": why, "actor": who, "metadata": meta}
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return once(
                books,
                row,
                operation="adjust",
                key=key,
                request=request,
                result_type=Receipt,
                effect=lambda: grants.adjust(
                    books, row, units, reason=why, actor=who, metadata=meta
                ),
            )

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
        """Take the cost of one call now, or raise and take nothing.

        Give an `amount`, or a `feature` (with `model` and `quantity`) for the catalog to
        price: `receipt.quote` then says which price version it used. Every charge writes
        a usage event; a refused one writes a `refused` event.

        Raises:
            AccountNotFound: no account has this id.
            FeatureNotFound: the feature to price is unknown or inactive.
            InvalidInput: a bad amount, feature, model, quantity, member id or metadata.
            AccountFrozen: the account may not spend.
            MemberNotFound, MemberCapExceeded: the member may not spend this.
            InsufficientCredits: the account cannot cover it (with required, available, shortfall).
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        call = read_call(
            amount,
            feature=feature,
            model=model,
            quantity=quantity,
            member_id=member_id,
            request_id=request_id,
            metadata=metadata,
        )
        key = check_key(idempotency_key)
        with self._refusals(checked, call), transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return once(
                books,
                row,
                operation="charge",
                key=key,
                request=call.request(),
                result_type=Receipt,
                effect=lambda: charges.charge(books, row, call),
            )

    @contextmanager
    def _refusals(self, account_id: str, call: Call) -> Iterator[None]:
        """Record a `refused` usage event when the spend inside is refused, then re-raise."""
        try:
            yield
        except (InsufficientCredits, Forbidden, MemberNotFound) as refused:
            required = refused.required if isinstance(refused, InsufficientCredits) else None
            with transaction(self.db, self.clock) as books:
                record_refusal(books, account_id, call, required)
            raise

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
        """Set the cost of a call aside for `ttl` before expensive work; `receipt.hold` is it.

        Give an `amount`, or a `feature` with `model` and the most `quantity` the work may
        use (an LLM call's max tokens): `settle(hold, quantity=...)` then charges what was
        really used, at the price version of the hold.

        Raises:
            AccountNotFound: no account has this id.
            FeatureNotFound: the feature to price is unknown or inactive.
            InvalidInput: a bad amount, ttl, feature, model, quantity, member id or metadata.
            AccountFrozen: the account may not spend.
            MemberNotFound, MemberCapExceeded: the member may not spend this.
            InsufficientCredits: less than the cost is available.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        life = check_ttl(ttl)
        call = read_call(
            amount,
            feature=feature,
            model=model,
            quantity=quantity,
            member_id=member_id,
            request_id=None,
            metadata=metadata,
        )
        key = check_key(idempotency_key)
        with self._refusals(checked, call), transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return once(
                books,
                row,
                operation="hold",
                key=key,
                request={**call.request(), "ttl_s": life.total_seconds()},
                result_type=Receipt,
                effect=lambda: holds.hold(books, row, call, ttl=life),
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
    ) -> AbstractContextManager[HeldWork]:
        """Hold now; settle when the block succeeds, release (as failed) when it raises.

        Raises:
            The errors of `hold`, before the block runs.
        """
        receipt = self.hold(
            account_id,
            amount,
            ttl=ttl,
            feature=feature,
            model=model,
            quantity=quantity,
            member_id=member_id,
            metadata=metadata,
        )
        assert receipt.hold is not None
        return HeldWork(self, receipt.hold)

    def extend(
        self,
        hold_id: HoldId,
        more: AmountLike,
        *,
        ttl: timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Grow a pending hold by `more`, from what is available; `ttl` restarts its clock.

        Raises:
            HoldNotFound: no hold has this id.
            HoldNotPending: the hold has ended.
            InvalidInput: a bad amount or ttl.
            InsufficientCredits: less than `more` is available.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = HoldId(_id(hold_id, "hold_id"))
        units = Credits.positive(more, field="more")
        life = None if ttl is None else check_ttl(ttl)
        key = check_key(idempotency_key)
        request = {
            "hold_id": checked,
            "more": units.units,
            "ttl_s": None if life is None else life.total_seconds(),
        }
        with transaction(self.db, self.clock) as books:
            row, current = holds.locate(books, checked)
            return once(
                books,
                row,
                operation="extend",
                key=key,
                request=request,
                result_type=Receipt,
                effect=lambda: holds.extend(books, row, current, units, life),
            )

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
        """Capture the actual cost of the held work and release the rest.

        Give the `actual` amount, or (for a priced hold) the `quantity` really used: it is
        priced at the hold's price version, whatever price is in force now. An actual above
        the hold takes the extra only if it is available; otherwise it raises and the hold
        stays pending (settle for less, or release it).

        Raises:
            HoldNotFound: no hold has this id.
            HoldNotPending: the hold has ended (settled, released or expired).
            InvalidInput: a negative or malformed amount, both or neither of actual and
                quantity, or a quantity for a hold that was not priced.
            InsufficientCredits: the extra above the hold is not available.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = HoldId(_id(hold_id, "hold_id"))
        if (actual is None) == (quantity is None):
            raise InvalidInput(field="actual", reason="give the actual amount or the quantity")
        units = None if actual is None else Credits.parse(actual, field="actual")
        if units is not None and units.units < 0:
            raise InvalidInput(field="actual", reason="must not be negative")
        used = check_quantity(quantity)
        end = End(
            request_id=check_text(request_id, field="request_id"),
            latency_ms=check_latency(latency_ms),
        )
        key = check_key(idempotency_key)
        request = {
            "hold_id": checked,
            "actual": None if units is None else units.units,
            "quantity": quantity_data(used),
            "latency_ms": end.latency_ms,
            "request_id": end.request_id,
        }
        with transaction(self.db, self.clock) as books:
            row, current = holds.locate(books, checked)
            return once(
                books,
                row,
                operation="settle",
                key=key,
                request=request,
                result_type=Receipt,
                effect=lambda: holds.settle(
                    books,
                    row,
                    current,
                    units if units is not None else holds.settle_quote(books, current, used),
                    end,
                ),
            )

    def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """End a hold without spending: its credits are available again.

        Name a `failure` when the work failed: the usage event then says `failed` (with
        the reason) instead of `released`, so failure rates are counted.

        Raises:
            HoldNotFound: no hold has this id.
            HoldNotPending: the hold has ended (settled, released or expired).
            InvalidInput: a bad failure text, latency or request id.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = HoldId(_id(hold_id, "hold_id"))
        end = End(
            request_id=check_text(request_id, field="request_id"),
            latency_ms=check_latency(latency_ms),
            failure=check_text(failure, field="failure"),
        )
        key = check_key(idempotency_key)
        request = {
            "hold_id": checked,
            "failure": end.failure,
            "latency_ms": end.latency_ms,
            "request_id": end.request_id,
        }
        with transaction(self.db, self.clock) as books:
            row, current = holds.locate(books, checked)
            return once(
                books,
                row,
                operation="release",
                key=key,
                request=request,
                result_type=Receipt,
                effect=lambda: holds.release(books, row, current, end),
            )

    def get_hold(self, hold_id: HoldId) -> Hold:
        """A hold, with its status as of now (a pending hold past its ttl reads expired).

        Raises:
            HoldNotFound: no hold has this id.
        """
        checked = HoldId(_id(hold_id, "hold_id"))
        with self.db.read() as conn:
            found = find_hold(conn, checked)
        if found is None:
            raise HoldNotFound(checked)
        hold = found[1]
        return hold.as_of(self.clock.now())

    def refund(
        self,
        entry_id: EntryId,
        amount: AmountLike | None = None,
        *,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Receipt:
        """Give back all (or `amount`) of what a charge or settle took, never more in total.

        Raises:
            EntryNotFound: no entry has this id.
            InvalidInput: not a charge or settle, or more than is left to refund.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = EntryId(_id(entry_id, "entry_id"))
        units = None if amount is None else Credits.positive(amount)
        why = check_text(reason, field="reason")
        key = check_key(idempotency_key)
        request = {
            "entry_id": checked,
            "amount": None if units is None else units.units,
            "reason": why,
        }
        with transaction(self.db, self.clock) as books:
            found = find_entry(books.conn, checked)
            if found is None:
                raise EntryNotFound(checked)
            row = books.lock_pk(found[0])
            return once(
                books,
                row,
                operation="refund",
                key=key,
                request=request,
                result_type=Receipt,
                effect=lambda: refunds.refund(books, row, found[1], units, why),
            )

    def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: AmountLike,
        *,
        metadata: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> TransferReceipt:
        """Move credits between accounts (a gift); they keep their expiry.

        Raises:
            AccountNotFound: either account does not exist.
            InvalidInput: the same account twice, or a bad amount.
            AccountFrozen: the sender may not spend.
            InsufficientCredits: the sender has less than `amount` available.
            IdempotencyConflict: the key was used for a different request.
        """
        sender = check_account_id(from_account_id, field="from_account_id")
        receiver = check_account_id(to_account_id, field="to_account_id")
        units = Credits.positive(amount)
        meta = check_metadata(metadata)
        key = check_key(idempotency_key)
        request = {"to": receiver, "amount": units.units, "metadata": meta}
        with transaction(self.db, self.clock) as books:
            sent, received = transfers.lock_pair(books, sender, receiver)
            return once(
                books,
                sent,
                operation="transfer",
                key=key,
                request=request,
                result_type=TransferReceipt,
                effect=lambda: transfers.transfer(books, sent, received, units, meta),
            )

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
        """Entries newest first, filtered by kind, time range [since, until) and feature.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad kind, time, limit or cursor.
        """
        checked = check_account_id(account_id)
        if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
        where = EntryFilter(
            kinds=None if kinds is None else frozenset(_enum(EntryKind, k, "kinds") for k in kinds),
            since=None if since is None else check_instant(since, field="since"),
            until=None if until is None else check_instant(until, field="until"),
            feature=check_text(feature, field="feature"),
        )
        return history.read_fresh(
            self.db,
            self.clock,
            checked,
            lambda conn, row, _: history.history(conn, row, where, cursor, limit),
        )

    def get_entry(self, entry_id: EntryId) -> Entry:
        """One ledger entry with its lot moves.

        Raises:
            EntryNotFound: no entry has this id.
        """
        checked = EntryId(_id(entry_id, "entry_id"))
        with self.db.read() as conn:
            found = find_entry(conn, checked)
        if found is None:
            raise EntryNotFound(checked)
        return found[1]

    def balance_at(self, account_id: str, at: datetime) -> Credits:
        """The balance as it stood at a past instant.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: `at` is naive or in the future.
        """
        checked = check_account_id(account_id)
        when = check_instant(at, field="at")
        return history.read_fresh(
            self.db,
            self.clock,
            checked,
            lambda conn, row, now: history.balance_at(conn, row, when, now),
        )

    def lifetime(self, account_id: str) -> Lifetime:
        """Lifetime figures: granted by source, spent, refunded, expired, adjusted, transferred.

        Raises:
            AccountNotFound: no account has this id.
        """
        return history.read_fresh(self.db, self.clock, account_id, history.lifetime)

    # Operations

    def expire(self) -> ExpirePass:
        """Write the entries of every lot and hold that has fallen due (the expiry pass)."""
        return expire(self.db, self.clock)

    def verify(self) -> VerifyReport:
        """Recompute every account from entries, lots and holds; report each mismatch."""
        return verify(self.db)

    def pending_holds(self) -> int:
        """How many holds are pending now, across every account (a gauge for monitoring)."""
        with self.db.read() as conn:
            return count_pending(conn, self.clock.now())

    def is_ready(self) -> bool:
        """Whether the database answers and its schema is at this version's head.

        A service whose database lags its code would misread rows: it should not take calls.
        """
        try:
            return migrate.current(self.db) == migrate.head()
        except OperationalError:
            return False

"""Usage: what one call of a feature is, what it cost, and the event that records it.

A `Call` is the app's description of one use: a raw amount, or a feature (with model and
quantity) that the catalog prices. Its usage event is written in the same transaction as
the entry it explains, so the two never disagree; a refused spend rolls its transaction
back, so its event is written afterwards in a transaction of its own.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import AmountLike, Credits
from creditgate.domain.entries import Entry
from creditgate.domain.errors import CreditgateError, InvalidInput
from creditgate.domain.holds import Hold
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.inputs import check_metadata, check_text
from creditgate.domain.pricing import (
    PriceId,
    Quantity,
    Quote,
    check_feature_key,
    check_model,
    check_quantity,
    quantity_data,
)
from creditgate.domain.usage import Outcome, UsageEvent
from creditgate.engine.books import Books
from creditgate.engine.catalog import price_call
from creditgate.storage.accounts import AccountRow, find_account
from creditgate.storage.usage import insert_event


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """One use of a feature as the app describes it.

    With an `amount`, the feature, model and quantity are labels; without one, the catalog
    prices the feature (which must exist and be active) for the model and quantity.
    """

    amount: Credits | None
    feature: str | None
    model: str | None
    quantity: Quantity | None
    member_id: str | None
    request_id: str | None
    metadata: dict[str, Any]

    @property
    def is_priced(self) -> bool:
        """The catalog decides what this call costs."""
        return self.amount is None

    def request(self) -> dict[str, Any]:
        """The call's fields for an idempotency fingerprint (what was asked, not what it cost)."""
        return {
            "amount": None if self.amount is None else self.amount.units,
            "feature": self.feature,
            "model": self.model,
            "quantity": quantity_data(self.quantity),
            "member_id": self.member_id,
            "request_id": self.request_id,
            "metadata": self.metadata,
        }

    def price(self, books: Books, row: AccountRow | None = None) -> tuple[Credits, Quote | None]:
        """What the call costs now, and the quote when the catalog priced it.

        With the account's `row` (locked in this transaction), the prices come from the
        database's cache when the catalog's revision read with the row still matches.

        Raises:
            FeatureNotFound: the feature is unknown or inactive.
            InvalidInput: no price covers the model, or the quantity does not fit.
        """
        if self.amount is not None:
            return self.amount, None
        assert self.feature is not None
        priced = price_call(
            books.conn,
            self.feature,
            self.model,
            self.quantity,
            books.now,
            cache=None if row is None else books.prices,
            revision=None if row is None else row.catalog_revision,
        )
        return priced.amount, priced


def read_call(
    amount: AmountLike | None,
    *,
    feature: object,
    model: object,
    quantity: object,
    member_id: object,
    request_id: object,
    metadata: object,
) -> Call:
    """Check the parts of a call at the edge, so a bad one changes nothing.

    Raises:
        InvalidInput: no amount and no feature, or a bad amount, key, model, quantity,
            member id, request id or metadata.
    """
    if amount is None:
        if feature is None:
            raise InvalidInput(field="amount", reason="give an amount, or a feature to price")
        label: str | None = check_feature_key(feature)
        units = None
    else:
        units = Credits.positive(amount)
        label = check_text(feature, field="feature")
    return Call(
        amount=units,
        feature=label,
        model=check_model(model),
        quantity=check_quantity(quantity),
        member_id=None if member_id is None else check_account_id(member_id, field="member_id"),
        request_id=check_text(request_id, field="request_id"),
        metadata=check_metadata(metadata),
    )


def check_latency(value: object) -> int | None:
    """An optional duration of the work in milliseconds.

    Raises:
        InvalidInput: not a non-negative integer.
    """
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= 10**10:
        raise InvalidInput(field="latency_ms", reason="a whole number of milliseconds, 0 or more")
    return value


def record(  # noqa: PLR0913 - an event has this many facets, all keyword-only
    books: Books,
    row: AccountRow,
    *,
    outcome: Outcome,
    credits: Credits,
    feature: str | None,
    model: str | None,
    quantity: Quantity | None,
    member_id: str | None,
    price_id: PriceId | None,
    entry_id: EntryId | None = None,
    hold_id: HoldId | None = None,
    request_id: str | None = None,
    latency_ms: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write the usage event of a use, in the transaction of its effect."""
    books.record(
        row,
        UsageEvent(
            id=0,
            account_id=row.account.id,
            member_id=member_id,
            feature=feature,
            model=model,
            quantity=quantity,
            credits=credits,
            outcome=outcome,
            latency_ms=latency_ms,
            request_id=request_id,
            metadata=metadata or {},
            entry_id=entry_id,
            hold_id=hold_id,
            price_id=price_id,
            created_at=books.now,
        ),
    )


def record_refusal(books: Books, account_id: str, call: Call, required: Credits | None) -> None:
    """Write the event of a refused spend (its own transaction: the spend's rolled back).

    `required` is what the refusal named; without it, the call is priced again, and a
    call that cannot be priced is recorded at zero.
    """
    row = find_account(books.conn, account_id, lock=False)
    if row is None:
        return
    credits, price_id = required, None
    if credits is None or call.is_priced:
        try:
            cost, priced = call.price(books)
        except CreditgateError:
            cost, priced = Credits(0), None
        credits = cost if credits is None else credits
        price_id = None if priced is None else priced.price_id
    insert_event(
        books.conn,
        row.pk,
        UsageEvent(
            id=0,
            account_id=row.account.id,
            member_id=call.member_id,
            feature=call.feature,
            model=call.model,
            quantity=call.quantity,
            credits=credits,
            outcome=Outcome.REFUSED,
            latency_ms=None,
            request_id=call.request_id,
            metadata=call.metadata,
            entry_id=None,
            hold_id=None,
            price_id=price_id,
            created_at=books.now,
        ),
    )


def account_pk(conn: Connection, account_id: str) -> int | None:
    """The internal key of an account, for filtering events by account."""
    row = find_account(conn, account_id, lock=False)
    return None if row is None else row.pk


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    """How the app says a hold's work ended: its request, how long it took, why it failed."""

    request_id: str | None = None
    latency_ms: int | None = None
    failure: str | None = None

    def record(
        self,
        books: Books,
        row: AccountRow,
        hold: Hold,
        entry: Entry,
        outcome: Outcome,
        credits: Credits,
    ) -> None:
        """Write the usage event of the hold's end, in the transaction of its entry."""
        record(
            books,
            row,
            outcome=outcome,
            credits=credits,
            feature=hold.feature,
            model=hold.model,
            # A settle records what was used; a release what was at stake.
            quantity=entry.quantity if outcome is Outcome.SUCCEEDED else hold.quantity,
            member_id=hold.member_id,
            price_id=entry.price_id or hold.price_id,
            entry_id=entry.id,
            hold_id=hold.id,
            request_id=self.request_id,
            latency_ms=self.latency_ms,
            metadata=hold.metadata
            if self.failure is None
            else {**hold.metadata, "failure": self.failure},
        )

"""The payment and sign-up providers' half of the `Engine`: what their events may do.

The faces that receive a provider's webhook (the service's Stripe and Clerk routes) verify
its signature, read the event, and call one of these verbs with plain facts. Each verb is
one transaction that claims the event's id first: a delivery seen before answers
`duplicate` and changes nothing, and a failure rolls the claim back with the effect, so the
provider's retry applies the event once. An embedding app that receives webhooks itself
calls the same verbs.
"""

from typing import Any

from creditgate.domain.accounts import OwnerKind, check_account_id
from creditgate.domain.amounts import ZERO
from creditgate.domain.errors import InvalidInput
from creditgate.domain.events import EventRecord, EventResult, Outcome, Provider, ProviderEvent
from creditgate.domain.inputs import check_metadata
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX
from creditgate.domain.packs import (
    Pack,
    Purchase,
    check_currency,
    check_pack_key,
)
from creditgate.engine import accounts, history, packs, purchases
from creditgate.engine.books import Books, transaction
from creditgate.engine.claims import claimed, provider_ref
from creditgate.engine.clock import Clock
from creditgate.storage import packs as rows
from creditgate.storage.accounts import find_account, save_settings
from creditgate.storage.database import Database


class ProviderVerbs:
    """Checkouts, provider events and sign-ups (mixed into `Engine`)."""

    db: Database
    clock: Clock

    def checkout_pack(self, account_id: str, pack: str) -> Pack:
        """The pack an account may buy now, checked before a checkout is opened.

        Raises:
            AccountNotFound: no account has this id.
            PackNotFound: no active pack has this key.
            InvalidInput: the pack is free (claim it instead).
        """
        checked = check_account_id(account_id)
        key = check_pack_key(pack)
        with self.db.read() as conn:
            history.open_account(conn, checked)
            _, found = packs.on_sale(conn, key)
        if found.is_free_once:
            raise InvalidInput(field="pack", reason="a free pack is claimed, not bought")
        return found

    def open_checkout(
        self, account_id: str, pack: str, *, provider: Provider, reference: str
    ) -> Purchase:
        """Record a pending purchase for a checkout the provider opened.

        Raises:
            AccountNotFound: no account has this id.
            PackNotFound: no active pack has this key.
        """
        checked = check_account_id(account_id)
        key = check_pack_key(pack)
        ref = provider_ref(reference, "reference")
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            pack_pk, found = packs.on_sale(books.conn, key)
            return purchases.open_checkout(
                books, row, pack_pk, found, provider=provider.value, reference=ref
            )

    def complete_checkout(
        self,
        event: ProviderEvent,
        *,
        account_id: str,
        pack: str,
        reference: str,
        amount_minor: int,
        currency: str,
        payment_ref: str | None,
        is_paid: bool,
    ) -> EventResult:
        """A checkout completed: grant the pack's credits once, when paid and matching.

        Raises:
            InvalidInput: a fact of the event is malformed (nothing is claimed).
        """
        checked = check_account_id(account_id)
        key = check_pack_key(pack)
        ref = provider_ref(reference, "reference")
        if type(amount_minor) is not int or amount_minor < 0:
            raise InvalidInput(field="amount_minor", reason="must be a whole number of minor units")
        money = check_currency(currency)
        paid_by = None if payment_ref is None else provider_ref(payment_ref, "payment_ref")
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: purchases.complete(
                books,
                event,
                account_id=checked,
                pack_key=key,
                reference=ref,
                amount_minor=amount_minor,
                currency=money,
                payment_ref=paid_by,
                is_paid=is_paid,
            ),
        )

    def fail_checkout(self, event: ProviderEvent, *, reference: str) -> EventResult:
        """A checkout's delayed payment failed: its purchase fails, nothing is granted."""
        ref = provider_ref(reference, "reference")
        return claimed(
            self.db, self.clock, event, lambda books: purchases.fail(books, event, reference=ref)
        )

    def reverse_payment(
        self,
        event: ProviderEvent,
        *,
        payment_ref: str,
        refunded_minor: int = 0,
        is_disputed: bool = False,
    ) -> EventResult:
        """A payment was refunded (`refunded_minor` in all so far) or disputed.

        Takes back the purchase's credits by the policy in `creditgate.domain.packs`.
        """
        ref = provider_ref(payment_ref, "payment_ref")
        if type(refunded_minor) is not int or refunded_minor < 0:
            raise InvalidInput(
                field="refunded_minor", reason="must be a whole number of minor units"
            )
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: purchases.reverse(
                books,
                event,
                payment_ref=ref,
                refunded_minor=refunded_minor,
                is_disputed=is_disputed,
            ),
        )

    def record_event(self, event: ProviderEvent, *, detail: str | None = None) -> EventResult:
        """Keep an event that changes no balance (a failed payment, an unknown type)."""
        return claimed(
            self.db,
            self.clock,
            event,
            lambda books: purchases.finish(books, event, Outcome.RECORDED, detail=detail),
        )

    def sign_up(
        self, event: ProviderEvent, account_id: str, *, metadata: dict[str, Any] | None = None
    ) -> EventResult:
        """A person signed up: create their account, whose creation grants the welcome once.

        However many times the event is delivered, and whether or not the app created the
        account first, the welcome credits arrive once: only the call that creates the
        account grants them.
        """
        checked = check_account_id(account_id)
        meta = check_metadata(metadata)

        def effect(books: Books) -> EventResult:
            existed = find_account(books.conn, checked) is not None
            accounts.create(
                books.conn,
                account_id=checked,
                owner_kind=OwnerKind.USER,
                floor=ZERO,
                is_unlimited=False,
                metadata=meta,
                books=books,
            )
            found = find_account(books.conn, checked)
            assert found is not None
            row = books.lock_pk(found.pk)
            outcome = Outcome.NO_CHANGE if existed else Outcome.APPLIED
            return purchases.finish(books, event, outcome, row=row)

        return claimed(self.db, self.clock, event, effect)

    def close_account(self, event: ProviderEvent, account_id: str) -> EventResult:
        """A person's identity was deleted: freeze their account (its ledger stays)."""
        checked = check_account_id(account_id)

        def effect(books: Books) -> EventResult:
            if find_account(books.conn, checked) is None:
                return purchases.finish(books, event, Outcome.NO_CHANGE, detail="no such account")
            row = books.lock(checked)
            if row.account.is_frozen:
                return purchases.finish(books, event, Outcome.NO_CHANGE, row=row)
            save_settings(books.conn, row.pk, {"is_frozen": True})
            return purchases.finish(books, event, Outcome.APPLIED, row=row)

        return claimed(self.db, self.clock, event, effect)

    def provider_events(
        self, *, provider: Provider | str | None = None, limit: int = PAGE_SIZE_DEFAULT
    ) -> tuple[EventRecord, ...]:
        """The newest provider events and what each did, for an operator."""
        if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
        chosen = None
        if provider is not None:
            try:
                chosen = Provider(provider)
            except ValueError:
                raise InvalidInput(field="provider", reason="one of: stripe, clerk") from None
        with self.db.read() as conn:
            return tuple(rows.list_events(conn, provider=chosen, limit=limit))

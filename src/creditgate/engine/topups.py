"""Auto top-up's use cases: set it, notice a crossing, settle its payment.

The crossing is noticed where the balance is written (`Books.save`), in the transaction
that lowered it, from figures already on the locked account row: no other read on the
spend path. It records a pending purchase of the pack (kind `top_up`): the outbox the
payment is started from, outside any transaction, by whoever runs the top-ups (the
worker). Stripe's idempotency key is the purchase's reference, so a retried start charges
once.
"""

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.events import EventResult, Outcome, ProviderEvent
from creditgate.domain.packs import Pack, PurchaseKind, PurchaseStatus
from creditgate.domain.topups import AutoTopUp, TopUpState
from creditgate.engine import purchases
from creditgate.engine.books import Books
from creditgate.storage import packs as pack_rows
from creditgate.storage import topups as rows
from creditgate.storage.accounts import AccountRow

PROVIDER = "stripe"
"""Who charges the saved card."""


def _pack(books: Books, key: str) -> Pack:
    found = pack_rows.find_pack(books.conn, key)
    assert found is not None, "a pack named by a setting is never deleted"
    return found[1]


def configure(
    books: Books,
    row: AccountRow,
    *,
    pack_pk: int,
    pack: Pack,
    threshold: Credits,
    customer_ref: str,
    payment_method_ref: str,
    failures_max: int,
) -> AutoTopUp:
    """Set (or replace) the account's auto top-up; it is armed unless a payment is pending.

    Raises:
        InvalidInput: the pack is free.
    """
    if pack.is_free_once:
        raise InvalidInput(field="pack", reason="a free pack cannot top an account up")
    rows.save_top_up(
        books.conn,
        row.pk,
        {
            "pack_id": pack_pk,
            "customer_ref": customer_ref,
            "payment_method_ref": payment_method_ref,
            "last_threshold": threshold.units,
            "failures": 0,
            "failures_max": failures_max,
            "disabled_reason": None,
        },
        books.now,
    )
    row.top_up_threshold = threshold.units
    if row.top_up_state is not TopUpState.PENDING:
        row.top_up_state = TopUpState.ARMED
    return view(books, row)


def disable(books: Books, row: AccountRow, reason: str | None) -> None:
    """Turn the account's auto top-up off (a payment already started still settles)."""
    row.top_up_threshold = None
    row.top_up_state = None
    if rows.find_top_up(books.conn, row.pk) is not None:
        rows.change_top_up(books.conn, row.pk, {"disabled_reason": reason}, books.now)


def view(books: Books, row: AccountRow) -> AutoTopUp:
    """The setting as stored, with the state of this transaction."""
    found = rows.find_top_up(books.conn, row.pk)
    assert found is not None
    setting = found[1]
    return AutoTopUp(
        account_id=setting.account_id,
        pack=setting.pack,
        threshold=setting.threshold,
        customer_ref=setting.customer_ref,
        payment_method_ref=setting.payment_method_ref,
        is_enabled=row.top_up_threshold is not None,
        state=row.top_up_state,
        failures=setting.failures,
        failures_max=setting.failures_max,
        disabled_reason=setting.disabled_reason,
        updated_at=setting.updated_at,
    )


def _settled(row: AccountRow) -> None:
    """The crossing's payment is over: wait for the balance to rise before the next."""
    if row.top_up_state is TopUpState.PENDING:
        row.top_up_state = TopUpState.SPENT


def succeeded(
    books: Books, event: ProviderEvent, *, payment_ref: str, amount_minor: int, currency: str
) -> EventResult | None:
    """Stripe confirmed a top-up's payment: grant the pack once. None: not a top-up."""
    known = pack_rows.find_purchase_by_payment(books.conn, PROVIDER, payment_ref)
    if known is None or known.purchase.kind is not PurchaseKind.TOP_UP:
        return None
    row = books.lock_pk(known.account_pk)
    found = pack_rows.find_purchase_by_pk(books.conn, row.pk, known.pk)
    assert found is not None
    purchase = found.purchase
    if purchase.status not in (PurchaseStatus.PENDING, PurchaseStatus.FAILED):
        return purchases.finish(books, event, Outcome.NO_CHANGE, row=row, purchase_pk=found.pk)
    if (amount_minor, currency) != (purchase.amount_minor, purchase.currency):
        note = f"paid {amount_minor} {currency}, the top-up asked {purchase.amount_minor}"
        return purchases.finish(
            books, event, Outcome.MISMATCH, row=row, purchase_pk=found.pk, detail=note
        )
    assert purchase.pack is not None
    purchases.pay(books, row, found, _pack(books, purchase.pack), payment_ref=payment_ref)
    rows.change_top_up(books.conn, row.pk, {"failures": 0}, books.now)
    _settled(row)
    return purchases.finish(books, event, Outcome.APPLIED, row=row, purchase_pk=found.pk)


def failed(books: Books, found: pack_rows.PurchaseRow, reason: str) -> bool:
    """A top-up's payment failed: count it, and turn auto top-up off after too many.

    False when the purchase had already been settled (a second report of one failure).
    """
    row = books.lock_pk(found.account_pk)
    again = pack_rows.find_purchase_by_pk(books.conn, row.pk, found.pk)
    assert again is not None
    if again.purchase.status is not PurchaseStatus.PENDING:
        return False
    note = f"the payment failed: {reason}"[:500]
    values = {"status": PurchaseStatus.FAILED.value, "note": note}
    pack_rows.save_purchase(books.conn, found.pk, values, books.now)
    setting = rows.find_top_up(books.conn, row.pk)
    _settled(row)
    if setting is not None:
        failures = setting[1].failures + 1
        rows.change_top_up(books.conn, row.pk, {"failures": failures}, books.now)
        if failures >= setting[1].failures_max:
            disable(books, row, f"{failures} payments failed in a row; the last: {reason}"[:500])
    return True

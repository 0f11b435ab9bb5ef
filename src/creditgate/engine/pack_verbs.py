"""The packs' half of the `Engine`: packs for sale, free-once claims, and purchases.

A mixin, like the plans', so `Engine` stays one object with one vocabulary. Paying for a
pack happens through a payment provider (`provider_verbs`); these are the admin's and the
app's verbs.
"""

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import AmountLike, Credits
from creditgate.domain.errors import InvalidInput, PackNotFound, PurchaseNotFound
from creditgate.domain.inputs import check_cursor, check_key
from creditgate.domain.limits import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, TOP_UP_FAILURES_MAX
from creditgate.domain.packs import Pack, Purchase, check_pack_key, parse_pack
from creditgate.domain.results import Page
from creditgate.domain.topups import AutoTopUp
from creditgate.engine import history, packs, purchases, topups
from creditgate.engine.books import transaction
from creditgate.engine.claims import provider_ref
from creditgate.engine.clock import Clock
from creditgate.engine.idempotency import once
from creditgate.storage import packs as rows
from creditgate.storage import topups as topup_rows
from creditgate.storage.database import Database

_DATA_NAMES = {
    "price_minor": "price",
    "is_free_once": "free_once",
    "is_active": "active",
}


def _pack_fields(values: dict[str, object]) -> dict[str, object]:
    """Engine keywords in the data form `parse_pack` reads (`price_minor` -> `price`)."""
    return {
        _DATA_NAMES.get(name, name): str(value) if isinstance(value, Credits) else value
        for name, value in values.items()
    }


class PackVerbs:
    """Packs and purchases (mixed into `Engine`)."""

    db: Database
    clock: Clock

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
        """Put a pack on sale: `credits` (plus `bonus_credits`) for `price_minor`.

        `price_minor` is in minor units of `currency` (499 is $4.99). A free-once pack has
        price 0 and each account may claim it once.

        Raises:
            InvalidInput: a bad key or field.
            PackExists: the key is taken.
        """
        data = _pack_fields(
            {
                "key": key,
                "name": name,
                "credits": credits,
                "price_minor": price_minor,
                "currency": currency,
                "bonus_credits": bonus_credits,
                "description": description,
                "badge": badge,
                "is_free_once": is_free_once,
                "expires_after_days": expires_after_days,
                "is_active": is_active,
                "sort_order": sort_order,
            }
        )
        spec = parse_pack({k: v for k, v in data.items() if v is not None})
        with transaction(self.db, self.clock) as books:
            return packs.create_pack(books.conn, books.now, spec)

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
        """Change a pack's fields (None keeps one); checkouts opened before keep their price.

        Raises:
            PackNotFound: no pack has this key.
            InvalidInput: a bad value.
        """
        checked = check_pack_key(key, field="key")
        given: dict[str, object] = {
            "name": name,
            "credits": credits,
            "price_minor": price_minor,
            "currency": currency,
            "bonus_credits": bonus_credits,
            "description": description,
            "badge": badge,
            "is_free_once": is_free_once,
            "expires_after_days": expires_after_days,
            "is_active": is_active,
            "sort_order": sort_order,
        }
        changes = _pack_fields({k: v for k, v in given.items() if v is not None})
        with transaction(self.db, self.clock) as books:
            return packs.update_pack(books.conn, books.now, checked, changes)

    def deactivate_pack(self, key: str) -> Pack:
        """Stop selling a pack; its purchases keep pointing at it.

        Raises:
            PackNotFound: no pack has this key.
        """
        checked = check_pack_key(key, field="key")
        with transaction(self.db, self.clock) as books:
            return packs.update_pack(books.conn, books.now, checked, {"active": False})

    def get_pack(self, key: str) -> Pack:
        """One pack, active or not.

        Raises:
            PackNotFound: no pack has this key.
        """
        checked = check_pack_key(key, field="key")
        with self.db.read() as conn:
            found = rows.find_pack(conn, checked)
        if found is None:
            raise PackNotFound(checked)
        return found[1]

    def packs(self, *, include_inactive: bool = False) -> tuple[Pack, ...]:
        """The packs on sale (or all of them), in the purchase page's order."""
        with self.db.read() as conn:
            return tuple(rows.list_packs(conn, active_only=not include_inactive))

    def claim_pack(
        self, account_id: str, pack: str, *, idempotency_key: str | None = None
    ) -> Purchase:
        """Grant a free-once pack to the account: once per account, ever.

        Raises:
            AccountNotFound: no account has this id.
            PackNotFound: no active pack has this key.
            InvalidInput: the pack is not free (buy it through a checkout).
            PackClaimed: the account claimed it before.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        key = check_pack_key(pack)
        idem = check_key(idempotency_key)
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            pack_pk, found = packs.on_sale(books.conn, key)
            if not found.is_free_once:
                reason = "this pack is sold through a checkout, not claimed"
                raise InvalidInput(field="pack", reason=reason)
            return once(
                books,
                row,
                operation="claim_pack",
                key=idem,
                request={"pack": key},
                result_type=Purchase,
                effect=lambda: purchases.claim_free(books, row, pack_pk, found),
            )

    def purchases(
        self, account_id: str, *, limit: int = PAGE_SIZE_DEFAULT, cursor: str | None = None
    ) -> Page[Purchase]:
        """The account's purchases, newest first.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: a bad limit or cursor.
        """
        checked = check_account_id(account_id)
        if type(limit) is not int or not 1 <= limit <= PAGE_SIZE_MAX:
            raise InvalidInput(field="limit", reason=f"an integer from 1 to {PAGE_SIZE_MAX}")
        after = check_cursor(cursor, listing="purchases")

        with self.db.read() as conn:
            row = history.open_account(conn, checked)
            items = rows.list_purchases(conn, row.pk, after_id=after, limit=limit + 1)
        next_cursor = str(items[limit - 1].id) if len(items) > limit else None
        return Page(items=tuple(items[:limit]), next_cursor=next_cursor)

    def get_purchase(self, account_id: str, purchase_id: int) -> Purchase:
        """One of the account's purchases.

        Raises:
            AccountNotFound: no account has this id.
            PurchaseNotFound: the account has no purchase with this id.
        """
        checked = check_account_id(account_id)
        if type(purchase_id) is not int or purchase_id <= 0:
            raise InvalidInput(field="purchase_id", reason="must be a positive integer id")
        with self.db.read() as conn:
            row = history.open_account(conn, checked)
            found = rows.find_purchase_by_pk(conn, row.pk, purchase_id)
        if found is None:
            raise PurchaseNotFound(purchase_id)
        return found.purchase

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
        """Buy `pack` with the saved card whenever available credits fall below `threshold`.

        One payment per crossing; its credits arrive when Stripe confirms it. After
        `failures_max` failed payments in a row it turns itself off.

        Raises:
            AccountNotFound: no account has this id.
            PackNotFound: no active pack has this key.
            InvalidInput: a bad threshold, reference or count, or a free pack.
        """
        checked = check_account_id(account_id)
        key = check_pack_key(pack)
        line = Credits.positive(threshold, field="threshold")
        customer = provider_ref(customer_ref, "customer_ref")
        card = provider_ref(payment_method_ref, "payment_method_ref")
        if type(failures_max) is not int or not 1 <= failures_max <= TOP_UP_FAILURES_MAX:
            reason = f"an integer from 1 to {TOP_UP_FAILURES_MAX}"
            raise InvalidInput(field="failures_max", reason=reason)
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            pack_pk, found = packs.on_sale(books.conn, key)
            return topups.configure(
                books,
                row,
                pack_pk=pack_pk,
                pack=found,
                threshold=line,
                customer_ref=customer,
                payment_method_ref=card,
                failures_max=failures_max,
            )

    def auto_top_up(self, account_id: str) -> AutoTopUp | None:
        """The account's auto top-up setting and where it stands; None when never set.

        Raises:
            AccountNotFound: no account has this id.
        """
        checked = check_account_id(account_id)
        with self.db.read() as conn:
            found = topup_rows.find_top_up(conn, history.open_account(conn, checked).pk)
        return None if found is None else found[1]

    def disable_auto_top_up(self, account_id: str) -> AutoTopUp | None:
        """Turn the account's auto top-up off; a payment already started still settles.

        Raises:
            AccountNotFound: no account has this id.
        """
        checked = check_account_id(account_id)
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            if topup_rows.find_top_up(books.conn, row.pk) is None:
                return None
            topups.disable(books, row, "turned off")
            return topups.view(books, row)

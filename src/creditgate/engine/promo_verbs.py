"""The promo codes' half of the `Engine`: admins create and change codes, accounts redeem them.

A mixin, like the plans', so `Engine` stays one object with one vocabulary.
"""

from datetime import datetime

from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import AmountLike
from creditgate.domain.errors import PromoNotFound
from creditgate.domain.inputs import check_key
from creditgate.domain.promos import Promo, check_code, parse_promo
from creditgate.domain.results import Receipt
from creditgate.engine import promos
from creditgate.engine.books import transaction
from creditgate.engine.clock import Clock
from creditgate.engine.idempotency import once
from creditgate.storage import promos as rows
from creditgate.storage.database import Database


class PromoVerbs:
    """Promo codes (mixed into `Engine`)."""

    db: Database
    clock: Clock

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
        """Add a promo code that grants `credits` once to each account that redeems it.

        The code is stored in upper case. It can be redeemed from `starts_at` until just
        before `ends_at` (either may be absent), by at most `max_redemptions` accounts (or
        any number); the lot it grants expires `expires_after_days` after the redemption
        (or never).

        Raises:
            InvalidInput: a bad code or field.
            PromoExists: the code is taken.
        """
        spec = parse_promo(
            {
                "code": code,
                "credits": credits,
                "expires_after_days": expires_after_days,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "max_redemptions": max_redemptions,
                "is_active": is_active,
            }
        )
        with transaction(self.db, self.clock) as books:
            return promos.create_promo(books.conn, books.now, spec)

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
        """Change a code's fields (None keeps one); redemptions already made stay.

        Raises:
            PromoNotFound: no promo code is this code.
            InvalidInput: a bad value, or a maximum below the redemptions already made.
        """
        checked = check_code(code)
        given = {
            "credits": credits,
            "expires_after_days": expires_after_days,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "max_redemptions": max_redemptions,
            "is_active": is_active,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        with transaction(self.db, self.clock) as books:
            return promos.update_promo(books.conn, books.now, checked, changes)

    def get_promo(self, code: str) -> Promo:
        """One promo code, active or not, with how many accounts have redeemed it.

        Raises:
            InvalidInput: not a well-formed code.
            PromoNotFound: no promo code is this code.
        """
        checked = check_code(code)
        with self.db.read() as conn:
            found = rows.find_promo(conn, checked)
        if found is None:
            raise PromoNotFound(checked)
        return found[1]

    def promos(self, *, include_inactive: bool = False) -> tuple[Promo, ...]:
        """The active promo codes (or all of them), by code."""
        with self.db.read() as conn:
            return tuple(rows.list_promos(conn, active_only=not include_inactive))

    def redeem(self, account_id: str, code: str, *, idempotency_key: str | None = None) -> Receipt:
        """Grant a promo code's credits to the account, once, as a lot of source `promo`.

        Codes are case-insensitive. A refused redemption changes nothing: neither the
        code's count nor the account.

        Raises:
            AccountNotFound: no account has this id.
            InvalidInput: not a well-formed code.
            PromoNotFound: no promo code is this code.
            PromoUnavailable: the code is inactive, not valid yet, ended or used up.
            PromoRedeemed: the account has redeemed the code already.
            IdempotencyConflict: the key was used for a different request.
        """
        checked = check_account_id(account_id)
        promo = check_code(code)
        key = check_key(idempotency_key)
        with transaction(self.db, self.clock) as books:
            row = books.lock(checked)
            return once(
                books,
                row,
                operation="redeem",
                key=key,
                request={"code": promo},
                result_type=Receipt,
                effect=lambda: promos.redeem(books, row, promo),
            )

"""Packs and purchases: credits sold once, paid through a payment provider.

A **pack** sells `credits` (plus `bonus_credits`) for a price in a currency's minor units.
It may carry a badge for the purchase page ("most popular", "best value"), a sort order,
and a lifetime for the credits it grants (`expires_after_days`, counted from payment). A
**free-once** pack costs nothing and each account may claim it once (a starter pack); a
free pack that is not free-once would be a tap anyone could open, so there is none.

A **purchase** is one checkout: pending until the provider says it is paid, then paid with
its lots (the credits, and the bonus as a lot of its own so lifetime figures tell them
apart). The credits granted always come from the catalog, never from the provider's event;
a paid amount or currency that differs from the pack's grants nothing.

**Refunds and disputes** (the policy, in one place): a refund of part of the price takes
back the same share of the purchase's credits, rounded up; a full refund or a dispute takes
back all of them. What is taken back comes out of what is left of the purchase's own lots
(the bonus first), never out of credits a pending hold has pinned, and never below the
account's floor. What was already spent cannot be taken back: it is recorded on the
purchase as `owed_credits` for an operator, and nobody's balance goes negative for it.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from creditgate.domain.amounts import ZERO, Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.ids import AccountId
from creditgate.domain.limits import (
    BADGE_LENGTH_MAX,
    PACK_EXPIRY_DAYS_MAX,
    PLAN_PRICE_MINOR_MAX,
    SORT_ORDER_MAX,
)
from creditgate.domain.pricing import check_label

PACK_KEY = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
CURRENCY = re.compile(r"[a-z]{3}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PackSpec:
    """A pack as an admin or a catalog file writes it."""

    key: str
    name: str
    credits: Credits
    price_minor: int
    """The price in minor units of `currency` (499 is $4.99); 0 only for a free-once pack."""
    currency: str = "usd"
    bonus_credits: Credits = ZERO
    description: str | None = None
    badge: str | None = None
    is_free_once: bool = False
    expires_after_days: int | None = None
    """The granted credits expire this many days after payment; None: never."""
    is_active: bool = True
    sort_order: int = 0
    """The purchase page lists packs by this, then by key."""

    @property
    def total_credits(self) -> Credits:
        """What one purchase grants: the credits and the bonus."""
        return self.credits + self.bonus_credits


@dataclass(frozen=True, slots=True, kw_only=True)
class Pack(PackSpec):
    """A stored pack."""

    created_at: datetime
    updated_at: datetime

    def spec(self) -> PackSpec:
        """The pack as written, without its timestamps."""
        return PackSpec(
            key=self.key,
            name=self.name,
            credits=self.credits,
            price_minor=self.price_minor,
            currency=self.currency,
            bonus_credits=self.bonus_credits,
            description=self.description,
            badge=self.badge,
            is_free_once=self.is_free_once,
            expires_after_days=self.expires_after_days,
            is_active=self.is_active,
            sort_order=self.sort_order,
        )


class PurchaseKind(StrEnum):
    """What a purchase buys."""

    PACK = "pack"
    PLAN = "plan"
    TOP_UP = "top_up"


class PurchaseStatus(StrEnum):
    """Where a purchase stands.

    Only `pending -> paid` (or `failed -> paid`, a delayed payment that succeeded after
    all) grants credits, and it happens once.
    """

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Purchase:
    """One checkout and what came of it."""

    id: int
    account_id: AccountId
    kind: PurchaseKind
    pack: str | None
    plan: str | None
    provider: str
    """`stripe`, or `free` for a free-once pack's claim."""
    reference: str
    """The provider's id of the checkout (a Stripe Checkout Session id)."""
    payment_ref: str | None
    """The provider's id of the payment (a Stripe PaymentIntent id), once known."""
    amount_minor: int
    currency: str
    status: PurchaseStatus
    credits: Credits
    """Credits granted (the pack's credits and bonus); zero until paid."""
    refunded_minor: int
    taken_back: Credits
    """Credits taken back by refunds and disputes."""
    owed: Credits
    """Credits a refund or dispute should have taken back but had already been spent."""
    note: str | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None


def check_pack_key(value: object, *, field: str = "pack") -> str:
    """A pack key: lowercase letters, digits, `_`, `.` and `-`, at most 64.

    Raises:
        InvalidInput: not such a key.
    """
    if not isinstance(value, str) or not PACK_KEY.fullmatch(value):
        raise InvalidInput(
            field=field,
            reason="a key of lowercase letters, digits, '_', '.' and '-' (at most 64 characters)",
        )
    return value


def check_currency(value: object, *, field: str = "currency") -> str:
    """A currency: a lowercase ISO 4217 code, as Stripe writes it.

    Raises:
        InvalidInput: not three lowercase letters.
    """
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise InvalidInput(field=field, reason="a lowercase ISO 4217 code (usd)")
    return value


def _at(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _int_field(data: Mapping[str, object], name: str, where: str, low: int, high: int) -> int:
    value = data.get(name)
    if type(value) is not int or not low <= value <= high:
        raise InvalidInput(field=_at(where, name), reason=f"a whole number from {low} to {high}")
    return value


def _flag(data: Mapping[str, object], name: str, where: str, default: bool) -> bool:
    value = data.get(name, default)
    if type(value) is not bool:
        raise InvalidInput(field=_at(where, name), reason="must be true or false")
    return value


_PACK_FIELDS = {
    "key",
    "name",
    "description",
    "credits",
    "bonus_credits",
    "price",
    "currency",
    "badge",
    "free_once",
    "expires_after_days",
    "active",
    "sort_order",
}


def parse_pack(data: Mapping[str, object], where: str = "") -> PackSpec:
    """A pack from its data form (a catalog file's `[[packs]]` table or a request body).

    `price` is in minor units. Fields are named as `where.field` (`packs[1].price`), or
    bare with no `where`.

    Raises:
        InvalidInput: the first bad field, naming it.
    """
    unknown = sorted(str(k) for k in data if k not in _PACK_FIELDS)
    if unknown:
        raise InvalidInput(field=_at(where, unknown[0]), reason="is not a field here")
    key = check_pack_key(data.get("key"), field=_at(where, "key"))
    name = check_label(data.get("name"), field=_at(where, "name"), required=True)
    assert name is not None
    credits = Credits.positive(data.get("credits"), field=_at(where, "credits"))  # type: ignore[arg-type]
    bonus = Credits.parse(data.get("bonus_credits", 0), field=_at(where, "bonus_credits"))  # type: ignore[arg-type]
    if bonus.units < 0:
        raise InvalidInput(field=_at(where, "bonus_credits"), reason="must not be negative")
    price = _int_field(data, "price", where, 0, PLAN_PRICE_MINOR_MAX)
    is_free_once = _flag(data, "free_once", where, False)
    if is_free_once != (price == 0):
        reason = "a free-once pack has price 0, and only a free-once pack may"
        raise InvalidInput(field=_at(where, "price" if price == 0 else "free_once"), reason=reason)
    badge = check_label(data.get("badge"), field=_at(where, "badge"))
    if badge is not None and len(badge) > BADGE_LENGTH_MAX:
        reason = f"at most {BADGE_LENGTH_MAX} characters"
        raise InvalidInput(field=_at(where, "badge"), reason=reason)
    days = None
    if data.get("expires_after_days") is not None:
        days = _int_field(data, "expires_after_days", where, 1, PACK_EXPIRY_DAYS_MAX)
    sort_order = 0
    if data.get("sort_order") is not None:
        sort_order = _int_field(data, "sort_order", where, -SORT_ORDER_MAX, SORT_ORDER_MAX)
    return PackSpec(
        key=key,
        name=name,
        credits=credits,
        price_minor=price,
        currency=check_currency(data.get("currency", "usd"), field=_at(where, "currency")),
        bonus_credits=bonus,
        description=check_label(data.get("description"), field=_at(where, "description")),
        badge=badge,
        is_free_once=is_free_once,
        expires_after_days=days,
        is_active=_flag(data, "active", where, True),
        sort_order=sort_order,
    )


def pack_data(spec: PackSpec) -> dict[str, object]:
    """The data form of a pack: what `parse_pack` reads back to an equal spec."""
    data: dict[str, object] = {"key": spec.key, "name": spec.name}
    if spec.description is not None:
        data["description"] = spec.description
    data["credits"] = str(spec.credits)
    if spec.bonus_credits:
        data["bonus_credits"] = str(spec.bonus_credits)
    data["price"] = spec.price_minor
    if spec.currency != "usd":
        data["currency"] = spec.currency
    if spec.badge is not None:
        data["badge"] = spec.badge
    if spec.is_free_once:
        data["free_once"] = True
    if spec.expires_after_days is not None:
        data["expires_after_days"] = spec.expires_after_days
    if not spec.is_active:
        data["active"] = False
    if spec.sort_order:
        data["sort_order"] = spec.sort_order
    return data


def take_back_units(
    *,
    granted_units: int,
    price_minor: int,
    refunded_minor: int,
    is_disputed: bool,
) -> int:
    """How many units a purchase should have given back in all, by the refund policy.

    A dispute or a full refund: everything granted. A partial refund: the refunded share
    of the price, rounded up (a customer who got 30 % of the money back gives up at least
    30 % of the credits).
    """
    assert refunded_minor >= 0
    if is_disputed or price_minor == 0 or refunded_minor >= price_minor:
        return granted_units
    return -(-granted_units * refunded_minor // price_minor)

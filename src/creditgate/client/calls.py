"""Every verb as one HTTP call: the request it sends, and how its answer becomes a result.

Both clients, blocking and async, send these same calls, so each verb's wire form is
written once. A call is plain data: method, path, query, JSON body, idempotency key, a
reader that turns the answer back into the engine's result (`XxxOut.to_domain()`), and
whether it may be sent again when its outcome is unknown.

What is converted here, and why: the wire cannot carry every value the engine takes, so
those values go through the domain's own checks on the way out, which raise the very
`InvalidInput` the engine would raise. Amounts become decimal strings (`Credits.parse`),
datetimes ISO 8601 (`check_instant`), a hold's ttl whole seconds (`check_ttl`), token
counts objects (`check_quantity`), metadata JSON (`check_metadata`); ids and keys in a path
are checked (an empty id has no URL) and percent-encoded; an idempotency key must fit in a
header (`check_key`, and ASCII). Everything else goes as given, and the service judges it.

Every ledger write carries an `Idempotency-Key`: the caller's, or one made here, once per
call, so that sending the call again after a lost answer cannot take effect twice.
"""

import json
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Generic, TypeVar

from creditgate.client.problems import error_of
from creditgate.domain.accounts import Account, Member, OwnerKind, check_account_id
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
from creditgate.domain.catalog import Catalog, Change, catalog_data, parse_catalog
from creditgate.domain.entries import Entry, EntryKind
from creditgate.domain.errors import InvalidInput
from creditgate.domain.guests import (
    GuestAllowance,
    GuestQuota,
    GuestSession,
    check_session_id,
    network_of,
)
from creditgate.domain.holds import Hold, HoldStatus, check_ttl
from creditgate.domain.ids import EntryId, HoldId
from creditgate.domain.inputs import check_instant, check_key, check_metadata
from creditgate.domain.lots import Lot, LotSource
from creditgate.domain.packs import Pack, Purchase, check_pack_key
from creditgate.domain.plans import Plan, Subscription, check_plan_key
from creditgate.domain.pricing import (
    Feature,
    Flat,
    PerBlock,
    Price,
    Quote,
    Rule,
    Tiered,
    Tokens,
    check_feature_key,
    check_quantity,
    quantity_data,
    rule_data,
)
from creditgate.domain.promos import Promo, check_code
from creditgate.domain.referrals import Referral, check_referrer
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
from creditgate.domain.webhooks import (
    WebhookDelivery,
    WebhookEndpoint,
    check_event_types,
    check_url,
)
from creditgate.domain.widgets import WidgetToken, check_return_url, check_ttl_s
from creditgate.schemas import (
    AccountOut,
    AccountSpendOut,
    AutoTopUpOut,
    BalanceAlertOut,
    BalanceAtOut,
    BalanceOut,
    ChangeOut,
    CheckOut,
    CheckoutOut,
    Deleted,
    EntryOut,
    EntryPage,
    ExpirePassOut,
    FeatureOut,
    FeatureSpendOut,
    GuestAllowanceOut,
    GuestConversionOut,
    GuestQuotaOut,
    GuestSessionOut,
    HoldOut,
    HoldPage,
    LifetimeOut,
    LotOut,
    MemberOut,
    ModelGenerationsOut,
    ModelLatencyOut,
    ModelSpendOut,
    Out,
    PackOut,
    PackRevenueOut,
    PlanOut,
    PlanOverviewOut,
    PriceOut,
    PromoOut,
    PurchaseOut,
    PurchasePage,
    QuoteOut,
    ReceiptOut,
    ReferralOut,
    SourceGrantsOut,
    SubscriptionOut,
    SubscriptionReceiptOut,
    TransferReceiptOut,
    UsagePage,
    UsageTotalOut,
    VerifyReportOut,
    WebhookDeliveryOut,
    WebhookDeliveryPage,
    WebhookEndpointCreatedOut,
    WebhookEndpointOut,
    WebhookSecretOut,
    WelcomeUsageOut,
    WidgetKeysRotatedOut,
    WidgetTokenOut,
)

R = TypeVar("R")

Query = tuple[tuple[str, str], ...]
"""Query parameters in order; a name may repeat (`kinds=charge&kinds=settle`)."""

KEY_PREFIX = "cgc_"
"""Begins every idempotency key the client makes, so logs tell them from the app's own."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Call(Generic[R]):
    """One verb over HTTP: what to send, and how to read the answer."""

    method: str
    path: str
    read: Callable[[object], R]
    query: Query = ()
    body: dict[str, object] | None = None
    key: str | None = None
    """The `Idempotency-Key` header, on every ledger write."""
    is_repeatable: bool = True
    """Whether sending it again, when its outcome is unknown, cannot take effect twice."""
    forwarded_for: str | None = None
    """A guest's address, sent as `X-Forwarded-For` (believed from trusted proxies only)."""

    def content(self) -> bytes | None:
        """The JSON body as sent."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":")).encode()

    def headers(self) -> dict[str, str]:
        """The headers of this call (the client adds its key and user agent)."""
        headers = {} if self.body is None else {"Content-Type": "application/json"}
        if self.key is not None:
            headers["Idempotency-Key"] = self.key
        if self.forwarded_for is not None:
            headers["X-Forwarded-For"] = self.forwarded_for
        return headers

    def answer(self, status: int, content: bytes, *, reason_phrase: str = "") -> R:
        """The result of a 2xx answer.

        Raises:
            CreditgateError: the domain error a problem answer stands for.
        """
        if not 200 <= status < 300:
            raise error_of(status, content, reason_phrase=reason_phrase)
        return self.read(json.loads(content) if content else None)


# Readers: the answer's JSON back into the engine's result.


def _one(out: type[Out], result: type[R]) -> Callable[[object], R]:
    def read(data: object) -> R:
        value = out.model_validate(data).to_domain()
        assert isinstance(value, result), f"{out.__name__} read as {type(value).__name__}"
        return value

    return read


def _many(out: type[Out], result: type[R]) -> Callable[[object], tuple[R, ...]]:
    one = _one(out, result)

    def read(data: object) -> tuple[R, ...]:
        assert isinstance(data, list), f"a list of {out.__name__} was expected"
        return tuple(one(item) for item in data)

    return read


def _nothing(data: object) -> None:
    assert data is None, "an empty answer was expected"


def _balance_at(data: object) -> Credits:
    return BalanceAtOut.model_validate(data).balance


def _deleted(data: object) -> bool:
    return Deleted.model_validate(data).deleted


def _catalog(data: object) -> Catalog:
    assert isinstance(data, dict), "a catalog object was expected"
    return parse_catalog(data)


def _changes(data: object) -> tuple[Change, ...]:
    assert isinstance(data, list), "a list of changes was expected"
    return tuple(ChangeOut.model_validate(item).to_domain() for item in data)


# Writers: the engine's inputs into what the wire carries.


def _segment(text: str) -> str:
    """One path segment, percent-encoded; `.` and `..` too, which URLs would resolve."""
    quoted = urllib.parse.quote(text, safe="")
    return quoted.replace(".", "%2E") if quoted in {".", ".."} else quoted


def _account(value: object, field: str = "account_id") -> str:
    return _segment(check_account_id(value, field=field))


def _feature(value: object, field: str) -> str:
    return _segment(check_feature_key(value, field=field))


def _id(value: object) -> str:
    return _segment(str(value))


def _amount(value: AmountLike, field: str = "amount") -> str:
    return str(Credits.parse(value, field=field))


def _maybe_amount(value: AmountLike | None, field: str = "amount") -> str | None:
    return None if value is None else _amount(value, field)


def _instant(value: object, field: str) -> str:
    return check_instant(value, field=field).isoformat()


def _maybe_instant(value: datetime | None, field: str) -> str | None:
    return None if value is None else _instant(value, field)


def _quantity(value: object) -> object:
    return quantity_data(check_quantity(value))


def _metadata(value: object) -> dict[str, Any] | None:
    return None if value is None else check_metadata(value)


def _seconds(ttl: object) -> int:
    """A ttl as the service takes it: whole seconds.

    Raises:
        InvalidInput: not a timedelta in the allowed range, or a fraction of a second.
    """
    return check_ttl(ttl) // timedelta(seconds=1)


def _key(given: str | None) -> str:
    """The caller's idempotency key, or a new one for this call (and its retries).

    Raises:
        InvalidInput: not a key the engine takes.
    """
    if given is None:
        return f"{KEY_PREFIX}{uuid.uuid4().hex}"
    checked = check_key(given)
    assert checked is not None
    return checked


def _body(**fields: object) -> dict[str, object]:
    """A JSON body; an absent (None) field takes the service's default, as in the engine."""
    return {name: value for name, value in fields.items() if value is not None}


def _text(value: object) -> str:
    """A query value: booleans as JSON writes them, the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _query(**params: object) -> Query:
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((name, _text(item)) for item in values)
    return tuple(pairs)


def _plain(value: object) -> object:
    """A catalog or rule value as JSON: amounts as decimal text, the rest as it is."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Credits | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _rule(rule: Rule | Mapping[str, object]) -> dict[str, object]:
    if isinstance(rule, Flat | PerBlock | Tiered | Tokens):
        return rule_data(rule)
    plain = _plain(rule)
    if not isinstance(plain, dict):
        raise InvalidInput(field="rule", reason="a rule object or its data form")
    return plain


# Accounts


def create_account(
    account_id: str,
    *,
    owner_kind: OwnerKind | str,
    floor: AmountLike,
    is_unlimited: bool,
    metadata: dict[str, Any] | None,
) -> Call[Account]:
    """`POST /v1/accounts`: safe to repeat, it answers the existing account."""
    return Call(
        method="POST",
        path="/v1/accounts",
        body=_body(
            account_id=account_id,
            owner_kind=owner_kind,
            floor=_amount(floor, "floor"),
            is_unlimited=is_unlimited,
            metadata=_metadata(metadata),
        ),
        read=_one(AccountOut, Account),
    )


def get_account(account_id: str) -> Call[Account]:
    """`GET /v1/accounts/{account_id}`."""
    return Call(
        method="GET", path=f"/v1/accounts/{_account(account_id)}", read=_one(AccountOut, Account)
    )


def update_account(
    account_id: str,
    *,
    is_frozen: bool | None,
    is_unlimited: bool | None,
    floor: AmountLike | None,
    metadata: dict[str, Any] | None,
) -> Call[Account]:
    """`PATCH /v1/accounts/{account_id}`: it sets values, so repeating it changes nothing."""
    return Call(
        method="PATCH",
        path=f"/v1/accounts/{_account(account_id)}",
        body=_body(
            is_frozen=is_frozen,
            is_unlimited=is_unlimited,
            floor=_maybe_amount(floor, "floor"),
            metadata=_metadata(metadata),
        ),
        read=_one(AccountOut, Account),
    )


def add_member(
    account_id: str, member_id: str, *, spend_cap: AmountLike | None, cap_period: object
) -> Call[Member]:
    """`PUT /v1/accounts/{account_id}/members/{member_id}`."""
    return Call(
        method="PUT",
        path=f"/v1/accounts/{_account(account_id)}/members/{_account(member_id, 'member_id')}",
        body=_body(spend_cap=_maybe_amount(spend_cap, "spend_cap"), cap_period=cap_period),
        read=_one(MemberOut, Member),
    )


def remove_member(account_id: str, member_id: str) -> Call[None]:
    """`DELETE /v1/accounts/{account_id}/members/{member_id}`: a second one finds no member."""
    return Call(
        method="DELETE",
        path=f"/v1/accounts/{_account(account_id)}/members/{_account(member_id, 'member_id')}",
        read=_nothing,
        is_repeatable=False,
    )


def members(account_id: str) -> Call[tuple[Member, ...]]:
    """`GET /v1/accounts/{account_id}/members`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/members",
        read=_many(MemberOut, Member),
    )


def balance(account_id: str) -> Call[Balance]:
    """`GET /v1/accounts/{account_id}/balance`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/balance",
        read=_one(BalanceOut, Balance),
    )


# Credits in


def grant(
    account_id: str,
    amount: AmountLike,
    *,
    source: LotSource | str,
    expires_at: datetime | None,
    priority: int,
    metadata: dict[str, Any] | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/accounts/{account_id}/grants`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/grants",
        body=_body(
            amount=_amount(amount),
            source=source,
            expires_at=_maybe_instant(expires_at, "expires_at"),
            priority=priority,
            metadata=_metadata(metadata),
        ),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def adjust(
    account_id: str,
    amount: AmountLike,
    *,
    reason: str,
    actor: str,
    metadata: dict[str, Any] | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/accounts/{account_id}/adjustments`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/adjustments",
        body=_body(
            amount=_amount(amount),
            reason=reason,
            actor=actor,
            metadata=_metadata(metadata),
        ),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


# Credits out


def charge(
    account_id: str,
    amount: AmountLike | None,
    *,
    feature: str | None,
    model: str | None,
    quantity: object,
    member_id: str | None,
    request_id: str | None,
    metadata: dict[str, Any] | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/accounts/{account_id}/charge`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/charge",
        body=_body(
            amount=_maybe_amount(amount),
            feature=feature,
            model=model,
            quantity=_quantity(quantity),
            member_id=member_id,
            request_id=request_id,
            metadata=_metadata(metadata),
        ),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def hold(
    account_id: str,
    amount: AmountLike | None,
    *,
    ttl: timedelta,
    feature: str | None,
    model: str | None,
    quantity: object,
    member_id: str | None,
    metadata: dict[str, Any] | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/accounts/{account_id}/holds`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/holds",
        body=_body(
            amount=_maybe_amount(amount),
            ttl_s=_seconds(ttl),
            feature=feature,
            model=model,
            quantity=_quantity(quantity),
            member_id=member_id,
            metadata=_metadata(metadata),
        ),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def extend(
    hold_id: HoldId, more: AmountLike, *, ttl: timedelta | None, idempotency_key: str | None
) -> Call[Receipt]:
    """`POST /v1/holds/{hold_id}/extend`."""
    return Call(
        method="POST",
        path=f"/v1/holds/{_id(hold_id)}/extend",
        body=_body(more=_amount(more, "more"), ttl_s=None if ttl is None else _seconds(ttl)),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def settle(
    hold_id: HoldId,
    actual: AmountLike | None,
    *,
    quantity: object,
    latency_ms: int | None,
    request_id: str | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/holds/{hold_id}/settle`."""
    return Call(
        method="POST",
        path=f"/v1/holds/{_id(hold_id)}/settle",
        body=_body(
            actual=_maybe_amount(actual, "actual"),
            quantity=_quantity(quantity),
            latency_ms=latency_ms,
            request_id=request_id,
        ),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def release(
    hold_id: HoldId,
    *,
    failure: str | None,
    latency_ms: int | None,
    request_id: str | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/holds/{hold_id}/release`."""
    return Call(
        method="POST",
        path=f"/v1/holds/{_id(hold_id)}/release",
        body=_body(failure=failure, latency_ms=latency_ms, request_id=request_id),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def get_hold(hold_id: HoldId) -> Call[Hold]:
    """`GET /v1/holds/{hold_id}`."""
    return Call(method="GET", path=f"/v1/holds/{_id(hold_id)}", read=_one(HoldOut, Hold))


def refund(
    entry_id: EntryId,
    amount: AmountLike | None,
    *,
    reason: str | None,
    idempotency_key: str | None,
) -> Call[Receipt]:
    """`POST /v1/entries/{entry_id}/refund`."""
    return Call(
        method="POST",
        path=f"/v1/entries/{_id(entry_id)}/refund",
        body=_body(amount=_maybe_amount(amount), reason=reason),
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def transfer(
    from_account_id: str,
    to_account_id: str,
    amount: AmountLike,
    *,
    metadata: dict[str, Any] | None,
    idempotency_key: str | None,
) -> Call[TransferReceipt]:
    """`POST /v1/transfers`."""
    return Call(
        method="POST",
        path="/v1/transfers",
        body=_body(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=_amount(amount),
            metadata=_metadata(metadata),
        ),
        key=_key(idempotency_key),
        read=_one(TransferReceiptOut, TransferReceipt),
    )


# The ledger


def history(
    account_id: str,
    *,
    kinds: Iterable[EntryKind | str] | None,
    since: datetime | None,
    until: datetime | None,
    feature: str | None,
    limit: int,
    cursor: str | None,
) -> Call[Page[Entry]]:
    """`GET /v1/accounts/{account_id}/entries`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/entries",
        query=_query(
            kinds=None if kinds is None else list(kinds),
            since=_maybe_instant(since, "since"),
            until=_maybe_instant(until, "until"),
            feature=feature,
            limit=limit,
            cursor=cursor,
        ),
        read=_one(EntryPage, Page),
    )


def get_entry(entry_id: EntryId) -> Call[Entry]:
    """`GET /v1/entries/{entry_id}`."""
    return Call(method="GET", path=f"/v1/entries/{_id(entry_id)}", read=_one(EntryOut, Entry))


def balance_at(account_id: str, at: datetime) -> Call[Credits]:
    """`GET /v1/accounts/{account_id}/balance_at?at=…`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/balance_at",
        query=_query(at=_instant(at, "at")),
        read=_balance_at,
    )


def lots(account_id: str, *, include_spent: bool) -> Call[tuple[Lot, ...]]:
    """`GET /v1/accounts/{account_id}/lots`.

    Raises:
        InvalidInput: `include_spent` is not a boolean (the wire would read "1" as true).
    """
    if type(include_spent) is not bool:
        raise InvalidInput(field="include_spent", reason="must be true or false")
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/lots",
        query=_query(include_spent=include_spent or None),
        read=_many(LotOut, Lot),
    )


def holds(
    account_id: str, *, status: HoldStatus | str | None, limit: int, cursor: str | None
) -> Call[Page[Hold]]:
    """`GET /v1/accounts/{account_id}/holds`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/holds",
        query=_query(status=status, limit=limit, cursor=cursor),
        read=_one(HoldPage, Page),
    )


def lifetime(account_id: str) -> Call[Lifetime]:
    """`GET /v1/accounts/{account_id}/lifetime`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/lifetime",
        read=_one(LifetimeOut, Lifetime),
    )


# The catalog


def check(account_id: str, feature: str, *, model: str | None, quantity: object) -> Call[Check]:
    """`POST /v1/accounts/{account_id}/check`: a read, whatever its method."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/check",
        body=_body(feature=feature, model=model, quantity=_quantity(quantity)),
        read=_one(CheckOut, Check),
    )


def quote(feature: str, *, model: str | None, quantity: object, at: datetime | None) -> Call[Quote]:
    """`POST /v1/quote`: a read, whatever its method."""
    return Call(
        method="POST",
        path="/v1/quote",
        body=_body(
            feature=feature,
            model=model,
            quantity=_quantity(quantity),
            at=_maybe_instant(at, "at"),
        ),
        read=_one(QuoteOut, Quote),
    )


def features(*, category: str | None) -> Call[tuple[Feature, ...]]:
    """`GET /v1/features`."""
    return Call(
        method="GET",
        path="/v1/features",
        query=_query(category=category),
        read=_many(FeatureOut, Feature),
    )


def get_feature(key: str) -> Call[Feature]:
    """`GET /v1/features/{key}`."""
    return Call(
        method="GET", path=f"/v1/features/{_feature(key, 'key')}", read=_one(FeatureOut, Feature)
    )


def create_feature(
    key: str,
    *,
    name: str,
    category: str | None,
    description: str | None,
    is_active: bool,
) -> Call[Feature]:
    """`POST /v1/features`: a second one finds the key taken."""
    return Call(
        method="POST",
        path="/v1/features",
        body=_body(
            key=key, name=name, category=category, description=description, is_active=is_active
        ),
        read=_one(FeatureOut, Feature),
        is_repeatable=False,
    )


def update_feature(
    key: str,
    *,
    name: str | None,
    category: str | None,
    description: str | None,
    is_active: bool | None,
) -> Call[Feature]:
    """`PATCH /v1/features/{key}`: it sets values, so repeating it changes nothing."""
    return Call(
        method="PATCH",
        path=f"/v1/features/{_feature(key, 'key')}",
        body=_body(name=name, category=category, description=description, is_active=is_active),
        read=_one(FeatureOut, Feature),
    )


def delete_feature(key: str) -> Call[bool]:
    """`DELETE /v1/features/{key}`: a second one answers differently from the first."""
    return Call(
        method="DELETE",
        path=f"/v1/features/{_feature(key, 'key')}",
        read=_deleted,
        is_repeatable=False,
    )


def set_price(
    feature: str,
    rule: Rule | Mapping[str, object],
    *,
    model: str | None,
    minimum: Credits | str | int | None,
    effective_from: datetime | None,
) -> Call[Price]:
    """`POST /v1/features/{feature}/prices`: each one is a new version."""
    return Call(
        method="POST",
        path=f"/v1/features/{_feature(feature, 'feature')}/prices",
        body=_body(
            model=model,
            rule=_rule(rule),
            minimum=_maybe_amount(minimum, "minimum"),
            effective_from=_maybe_instant(effective_from, "effective_from"),
        ),
        read=_one(PriceOut, Price),
        is_repeatable=False,
    )


def retire_price(
    feature: str, *, model: str | None, effective_from: datetime | None
) -> Call[Price]:
    """`POST /v1/features/{feature}/prices/retire`: each one is a new version."""
    return Call(
        method="POST",
        path=f"/v1/features/{_feature(feature, 'feature')}/prices/retire",
        body=_body(model=model, effective_from=_maybe_instant(effective_from, "effective_from")),
        read=_one(PriceOut, Price),
        is_repeatable=False,
    )


def prices(feature: str, *, at: datetime | None) -> Call[tuple[Price, ...]]:
    """`GET /v1/features/{feature}/prices`."""
    return Call(
        method="GET",
        path=f"/v1/features/{_feature(feature, 'feature')}/prices",
        query=_query(at=_maybe_instant(at, "at")),
        read=_many(PriceOut, Price),
    )


def price_history(feature: str) -> Call[tuple[Price, ...]]:
    """`GET /v1/features/{feature}/prices/history`."""
    return Call(
        method="GET",
        path=f"/v1/features/{_feature(feature, 'feature')}/prices/history",
        read=_many(PriceOut, Price),
    )


def export_catalog() -> Call[Catalog]:
    """`GET /v1/catalog`: the catalog file's form, read back with `parse_catalog`."""
    return Call(method="GET", path="/v1/catalog", read=_catalog)


def apply_catalog(
    desired: Catalog | Mapping[str, object], *, dry_run: bool
) -> Call[tuple[Change, ...]]:
    """`PUT /v1/catalog`: applying a catalog twice changes nothing the second time."""
    data = catalog_data(desired) if isinstance(desired, Catalog) else _plain(desired)
    if not isinstance(data, dict):
        raise InvalidInput(field="catalog", reason="must be a table")
    return Call(
        method="PUT",
        path="/v1/catalog",
        query=_query(dry_run=dry_run),
        body=data,
        read=_changes,
    )


# Usage


def usage(
    account_id: str | None,
    *,
    feature: str | None,
    model: str | None,
    outcome: Outcome | str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Call[Page[UsageEvent]]:
    """`GET /v1/usage`."""
    return Call(
        method="GET",
        path="/v1/usage",
        query=_query(
            account_id=account_id,
            feature=feature,
            model=model,
            outcome=outcome,
            since=_maybe_instant(since, "since"),
            until=_maybe_instant(until, "until"),
            limit=limit,
            cursor=cursor,
        ),
        read=_one(UsagePage, Page),
    )


def usage_totals(
    account_id: str | None,
    *,
    feature: str | None,
    model: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Call[tuple[UsageTotal, ...]]:
    """`GET /v1/usage/totals`."""
    return Call(
        method="GET",
        path="/v1/usage/totals",
        query=_query(
            account_id=account_id,
            feature=feature,
            model=model,
            since=_maybe_instant(since, "since"),
            until=_maybe_instant(until, "until"),
        ),
        read=_many(UsageTotalOut, UsageTotal),
    )


# Analytics


def _figure(
    figure: str, since: datetime, until: datetime, read: Callable[[object], R], **more: object
) -> Call[R]:
    """`GET /v1/analytics/<figure>` over [since, until), as JSON."""
    return Call(
        method="GET",
        path=f"/v1/analytics/{figure}",
        query=_query(since=_instant(since, "since"), until=_instant(until, "until"), **more),
        read=read,
    )


def spend_by_feature(*, since: datetime, until: datetime) -> Call[tuple[FeatureSpend, ...]]:
    """`GET /v1/analytics/spend_by_feature`."""
    return _figure("spend_by_feature", since, until, _many(FeatureSpendOut, FeatureSpend))


def spend_by_model(*, since: datetime, until: datetime) -> Call[tuple[ModelSpend, ...]]:
    """`GET /v1/analytics/spend_by_model`."""
    return _figure("spend_by_model", since, until, _many(ModelSpendOut, ModelSpend))


def generations_by_model(*, since: datetime, until: datetime) -> Call[tuple[ModelGenerations, ...]]:
    """`GET /v1/analytics/generations_by_model`."""
    read = _many(ModelGenerationsOut, ModelGenerations)
    return _figure("generations_by_model", since, until, read)


def latency_by_model(*, since: datetime, until: datetime) -> Call[tuple[ModelLatency, ...]]:
    """`GET /v1/analytics/latency_by_model`."""
    return _figure("latency_by_model", since, until, _many(ModelLatencyOut, ModelLatency))


def grants_by_source(*, since: datetime, until: datetime) -> Call[tuple[SourceGrants, ...]]:
    """`GET /v1/analytics/grants_by_source`."""
    return _figure("grants_by_source", since, until, _many(SourceGrantsOut, SourceGrants))


def revenue_by_pack(*, since: datetime, until: datetime) -> Call[tuple[PackRevenue, ...]]:
    """`GET /v1/analytics/revenue_by_pack`."""
    return _figure("revenue_by_pack", since, until, _many(PackRevenueOut, PackRevenue))


def top_spenders(*, since: datetime, until: datetime, limit: int) -> Call[tuple[AccountSpend, ...]]:
    """`GET /v1/analytics/top_spenders`."""
    read = _many(AccountSpendOut, AccountSpend)
    return _figure("top_spenders", since, until, read, limit=limit)


def guest_conversion(*, since: datetime, until: datetime) -> Call[GuestConversion]:
    """`GET /v1/analytics/guest_conversion`."""
    return _figure("guest_conversion", since, until, _one(GuestConversionOut, GuestConversion))


def welcome_usage(*, since: datetime, until: datetime) -> Call[WelcomeUsage]:
    """`GET /v1/analytics/welcome_usage`."""
    return _figure("welcome_usage", since, until, _one(WelcomeUsageOut, WelcomeUsage))


# Operations


# Plans and subscriptions


def _plan(value: object, field: str = "plan") -> str:
    return _segment(check_plan_key(value, field=field))


def _plan_body(**fields: object) -> dict[str, object]:
    """A plan's fields: amounts as decimal strings, enums and prices as JSON writes them."""
    body = _body(**fields)
    for name in ("credits", "rollover_cap"):
        if name in body:
            body[name] = _amount(body[name], name)  # type: ignore[arg-type]
    if "prices" in body:
        prices = body["prices"]
        body["prices"] = {str(k): v for k, v in prices.items()}  # type: ignore[attr-defined]
    return {name: _plain(value) for name, value in body.items()}


def plans(*, include_inactive: bool) -> Call[tuple[Plan, ...]]:
    """`GET /v1/plans`."""
    return Call(
        method="GET",
        path="/v1/plans",
        query=_query(include_inactive=include_inactive),
        read=_many(PlanOut, Plan),
    )


def get_plan(key: str) -> Call[Plan]:
    """`GET /v1/plans/{key}`."""
    return Call(method="GET", path=f"/v1/plans/{_plan(key, 'key')}", read=_one(PlanOut, Plan))


def create_plan(key: str, **fields: object) -> Call[Plan]:
    """`POST /v1/plans`: a second one finds the key taken."""
    return Call(
        method="POST",
        path="/v1/plans",
        body={"key": key, **_plan_body(**fields)},
        read=_one(PlanOut, Plan),
        is_repeatable=False,
    )


def update_plan(key: str, **fields: object) -> Call[Plan]:
    """`PATCH /v1/plans/{key}`: it sets values, so repeating it changes nothing."""
    return Call(
        method="PATCH",
        path=f"/v1/plans/{_plan(key, 'key')}",
        body=_plan_body(**fields),
        read=_one(PlanOut, Plan),
    )


def deactivate_plan(key: str) -> Call[Plan]:
    """`POST /v1/plans/{key}/deactivate`."""
    return Call(
        method="POST",
        path=f"/v1/plans/{_plan(key, 'key')}/deactivate",
        read=_one(PlanOut, Plan),
    )


def plan_overview(account_id: str) -> Call[PlanOverview]:
    """`GET /v1/accounts/{account_id}/plans`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/plans",
        read=_one(PlanOverviewOut, PlanOverview),
    )


def _maybe_subscription(data: object) -> Subscription | None:
    return None if data is None else _one(SubscriptionOut, Subscription)(data)


def subscription(account_id: str) -> Call[Subscription | None]:
    """`GET /v1/accounts/{account_id}/subscription`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/subscription",
        read=_maybe_subscription,
    )


def subscribe(
    account_id: str, plan: str, *, interval: object, idempotency_key: str | None
) -> Call[SubscriptionReceipt]:
    """`POST /v1/accounts/{account_id}/subscription`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/subscription",
        body=_body(plan=check_plan_key(plan), interval=_plain(interval)),
        key=_key(idempotency_key),
        read=_one(SubscriptionReceiptOut, SubscriptionReceipt),
    )


def cancel_subscription(account_id: str) -> Call[SubscriptionReceipt]:
    """`POST /v1/accounts/{account_id}/subscription/cancel`: repeating it changes nothing."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/subscription/cancel",
        read=_one(SubscriptionReceiptOut, SubscriptionReceipt),
    )


def resume_subscription(account_id: str) -> Call[SubscriptionReceipt]:
    """`POST /v1/accounts/{account_id}/subscription/resume`: repeating it changes nothing."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/subscription/resume",
        read=_one(SubscriptionReceiptOut, SubscriptionReceipt),
    )


# Packs and purchases


def _pack(value: object, field: str = "pack") -> str:
    return _segment(check_pack_key(value, field=field))


def _pack_body(**fields: object) -> dict[str, object]:
    """A pack's fields: amounts as decimal strings."""
    body = _body(**fields)
    for name in ("credits", "bonus_credits"):
        if name in body:
            body[name] = _amount(body[name], name)  # type: ignore[arg-type]
    return {name: _plain(value) for name, value in body.items()}


def packs(*, include_inactive: bool) -> Call[tuple[Pack, ...]]:
    """`GET /v1/packs`."""
    return Call(
        method="GET",
        path="/v1/packs",
        query=_query(include_inactive=include_inactive),
        read=_many(PackOut, Pack),
    )


def get_pack(key: str) -> Call[Pack]:
    """`GET /v1/packs/{key}`."""
    return Call(method="GET", path=f"/v1/packs/{_pack(key, 'key')}", read=_one(PackOut, Pack))


def create_pack(key: str, **fields: object) -> Call[Pack]:
    """`POST /v1/packs`: a second one finds the key taken."""
    return Call(
        method="POST",
        path="/v1/packs",
        body={"key": key, **_pack_body(**fields)},
        read=_one(PackOut, Pack),
        is_repeatable=False,
    )


def update_pack(key: str, **fields: object) -> Call[Pack]:
    """`PATCH /v1/packs/{key}`: it sets values, so repeating it changes nothing."""
    return Call(
        method="PATCH",
        path=f"/v1/packs/{_pack(key, 'key')}",
        body=_pack_body(**fields),
        read=_one(PackOut, Pack),
    )


def deactivate_pack(key: str) -> Call[Pack]:
    """`POST /v1/packs/{key}/deactivate`."""
    return Call(
        method="POST", path=f"/v1/packs/{_pack(key, 'key')}/deactivate", read=_one(PackOut, Pack)
    )


def claim_pack(account_id: str, pack: str, *, idempotency_key: str | None) -> Call[Purchase]:
    """`POST /v1/accounts/{account_id}/packs/{pack}/claim`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/packs/{_pack(pack)}/claim",
        key=_key(idempotency_key),
        read=_one(PurchaseOut, Purchase),
    )


def purchases(account_id: str, *, limit: int, cursor: str | None) -> Call[Page[Purchase]]:
    """`GET /v1/accounts/{account_id}/purchases`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/purchases",
        query=_query(limit=limit, cursor=cursor),
        read=_one(PurchasePage, Page),
    )


def get_purchase(account_id: str, purchase_id: int) -> Call[Purchase]:
    """`GET /v1/accounts/{account_id}/purchases/{purchase_id}`."""
    if type(purchase_id) is not int or purchase_id <= 0:
        raise InvalidInput(field="purchase_id", reason="must be a positive integer id")
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/purchases/{purchase_id}",
        read=_one(PurchaseOut, Purchase),
    )


def _maybe_top_up(data: object) -> AutoTopUp | None:
    return None if data is None else _one(AutoTopUpOut, AutoTopUp)(data)


def auto_top_up(account_id: str) -> Call[AutoTopUp | None]:
    """`GET /v1/accounts/{account_id}/auto-top-up`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/auto-top-up",
        read=_maybe_top_up,
    )


def set_auto_top_up(account_id: str, **fields: object) -> Call[AutoTopUp]:
    """`PUT /v1/accounts/{account_id}/auto-top-up`: it sets values, so repeating it is safe."""
    body = _body(**fields)
    if "threshold" in body:
        body["threshold"] = _amount(body["threshold"], "threshold")  # type: ignore[arg-type]
    return Call(
        method="PUT",
        path=f"/v1/accounts/{_account(account_id)}/auto-top-up",
        body=body,
        read=_one(AutoTopUpOut, AutoTopUp),
    )


def disable_auto_top_up(account_id: str) -> Call[AutoTopUp | None]:
    """`DELETE /v1/accounts/{account_id}/auto-top-up`: repeating it changes nothing."""
    return Call(
        method="DELETE",
        path=f"/v1/accounts/{_account(account_id)}/auto-top-up",
        read=_maybe_top_up,
    )


# Balance alerts and outgoing webhooks


def balance_alert(account_id: str) -> Call[BalanceAlert]:
    """`GET /v1/accounts/{account_id}/balance-alert`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/balance-alert",
        read=_one(BalanceAlertOut, BalanceAlert),
    )


def set_balance_alert(account_id: str, *, low: AmountLike | None) -> Call[BalanceAlert]:
    """`PUT /v1/accounts/{account_id}/balance-alert`: it sets a value, so repeating is safe."""
    line = None if low is None else str(Credits.positive(low, field="low"))
    return Call(
        method="PUT",
        path=f"/v1/accounts/{_account(account_id)}/balance-alert",
        body={"low": line},
        read=_one(BalanceAlertOut, BalanceAlert),
    )


def _positive_id(value: object, field: str) -> int:
    if type(value) is not int or not 0 < value < 2**63:
        raise InvalidInput(field=field, reason="must be a positive integer id")
    return value


def _endpoint_path(endpoint_id: object) -> str:
    return f"/v1/webhook-endpoints/{_positive_id(endpoint_id, 'endpoint_id')}"


def webhook_endpoints() -> Call[tuple[WebhookEndpoint, ...]]:
    """`GET /v1/webhook-endpoints`."""
    return Call(
        method="GET",
        path="/v1/webhook-endpoints",
        read=_many(WebhookEndpointOut, WebhookEndpoint),
    )


def create_webhook_endpoint(
    url: str, *, event_types: object, description: str | None
) -> Call[tuple[WebhookEndpoint, str]]:
    """`POST /v1/webhook-endpoints`: each call registers another endpoint."""

    def read(data: object) -> tuple[WebhookEndpoint, str]:
        made = WebhookEndpointCreatedOut.model_validate(data)
        endpoint = made.endpoint.to_domain()
        assert isinstance(endpoint, WebhookEndpoint)
        return endpoint, made.secret

    return Call(
        method="POST",
        path="/v1/webhook-endpoints",
        body=_body(
            url=check_url(url),
            event_types=list(check_event_types(event_types)),
            description=description,
        ),
        read=read,
        is_repeatable=False,
    )


def get_webhook_endpoint(endpoint_id: int) -> Call[WebhookEndpoint]:
    """`GET /v1/webhook-endpoints/{endpoint_id}`."""
    return Call(
        method="GET",
        path=_endpoint_path(endpoint_id),
        read=_one(WebhookEndpointOut, WebhookEndpoint),
    )


def update_webhook_endpoint(
    endpoint_id: int,
    *,
    url: str | None,
    description: str | None,
    event_types: object,
    is_enabled: bool | None,
) -> Call[WebhookEndpoint]:
    """`PATCH /v1/webhook-endpoints/{endpoint_id}`: it sets values, so repeating is safe."""
    return Call(
        method="PATCH",
        path=_endpoint_path(endpoint_id),
        body=_body(
            url=None if url is None else check_url(url),
            description=description,
            event_types=None if event_types is None else list(check_event_types(event_types)),
            is_enabled=is_enabled,
        ),
        read=_one(WebhookEndpointOut, WebhookEndpoint),
    )


def delete_webhook_endpoint(endpoint_id: int) -> Call[None]:
    """`DELETE /v1/webhook-endpoints/{endpoint_id}`: a second one finds no endpoint."""
    return Call(
        method="DELETE", path=_endpoint_path(endpoint_id), read=_nothing, is_repeatable=False
    )


def rotate_webhook_secret(endpoint_id: int) -> Call[str]:
    """`POST /v1/webhook-endpoints/{endpoint_id}/rotate-secret`: each call makes a new one."""

    def read(data: object) -> str:
        return WebhookSecretOut.model_validate(data).secret

    return Call(
        method="POST",
        path=f"{_endpoint_path(endpoint_id)}/rotate-secret",
        read=read,
        is_repeatable=False,
    )


def webhook_deliveries(
    endpoint_id: int, *, limit: int, cursor: str | None
) -> Call[Page[WebhookDelivery]]:
    """`GET /v1/webhook-endpoints/{endpoint_id}/deliveries`."""
    return Call(
        method="GET",
        path=f"{_endpoint_path(endpoint_id)}/deliveries",
        query=_query(limit=limit, cursor=cursor),
        read=_one(WebhookDeliveryPage, Page),
    )


def redeliver_webhook(delivery_id: int) -> Call[WebhookDelivery]:
    """`POST /v1/webhook-deliveries/{delivery_id}/redeliver`: it makes the delivery due now."""
    return Call(
        method="POST",
        path=f"/v1/webhook-deliveries/{_positive_id(delivery_id, 'delivery_id')}/redeliver",
        read=_one(WebhookDeliveryOut, WebhookDelivery),
    )


def checkout(
    account_id: str,
    *,
    pack: str | None,
    plan: str | None,
    interval: object,
    success_url: str,
    cancel_url: str,
    customer_email: str | None,
) -> Call[tuple[Purchase, str]]:
    """`POST /v1/checkout`: each call opens a new session at Stripe."""

    def read(data: object) -> tuple[Purchase, str]:
        opened = CheckoutOut.model_validate(data)
        purchase = opened.purchase.to_domain()
        assert isinstance(purchase, Purchase)
        return purchase, opened.url

    return Call(
        method="POST",
        path="/v1/checkout",
        body=_body(
            account_id=check_account_id(account_id),
            pack=None if pack is None else check_pack_key(pack),
            plan=None if plan is None else check_plan_key(plan),
            interval=_plain(interval),
            success_url=success_url,
            cancel_url=cancel_url,
            customer_email=customer_email,
        ),
        read=read,
        is_repeatable=False,
    )


# Promo codes and referrals


def _promo_body(**fields: object) -> dict[str, object]:
    """A promo code's fields: credits as a decimal string, times as ISO 8601 text."""
    body = _body(**fields)
    if "credits" in body:
        body["credits"] = _amount(body["credits"], "credits")  # type: ignore[arg-type]
    for name in ("starts_at", "ends_at"):
        if name in body:
            body[name] = _instant(body[name], name)
    return body


def promos(*, include_inactive: bool) -> Call[tuple[Promo, ...]]:
    """`GET /v1/promos`."""
    return Call(
        method="GET",
        path="/v1/promos",
        query=_query(include_inactive=include_inactive),
        read=_many(PromoOut, Promo),
    )


def get_promo(code: str) -> Call[Promo]:
    """`GET /v1/promos/{code}`."""
    return Call(
        method="GET", path=f"/v1/promos/{_segment(check_code(code))}", read=_one(PromoOut, Promo)
    )


def create_promo(code: str, **fields: object) -> Call[Promo]:
    """`POST /v1/promos`: a second one finds the code taken."""
    return Call(
        method="POST",
        path="/v1/promos",
        body={"code": check_code(code), **_promo_body(**fields)},
        read=_one(PromoOut, Promo),
        is_repeatable=False,
    )


def update_promo(code: str, **fields: object) -> Call[Promo]:
    """`PATCH /v1/promos/{code}`: it sets values, so repeating it changes nothing."""
    return Call(
        method="PATCH",
        path=f"/v1/promos/{_segment(check_code(code))}",
        body=_promo_body(**fields),
        read=_one(PromoOut, Promo),
    )


def redeem(account_id: str, code: str, *, idempotency_key: str | None) -> Call[Receipt]:
    """`POST /v1/accounts/{account_id}/redeem`."""
    return Call(
        method="POST",
        path=f"/v1/accounts/{_account(account_id)}/redeem",
        body={"code": check_code(code)},
        key=_key(idempotency_key),
        read=_one(ReceiptOut, Receipt),
    )


def refer(referee_id: str, referrer_id: str, *, idempotency_key: str | None) -> Call[Referral]:
    """`POST /v1/accounts/{account_id}/referral`."""
    referee = check_account_id(referee_id, field="referee_id")
    referrer = check_account_id(referrer_id, field="referrer")
    check_referrer(referee, referrer)
    return Call(
        method="POST",
        path=f"/v1/accounts/{_segment(referee)}/referral",
        body={"referrer": referrer},
        key=_key(idempotency_key),
        read=_one(ReferralOut, Referral),
    )


def referrals(account_id: str) -> Call[tuple[Referral, ...]]:
    """`GET /v1/accounts/{account_id}/referrals`."""
    return Call(
        method="GET",
        path=f"/v1/accounts/{_account(account_id)}/referrals",
        read=_many(ReferralOut, Referral),
    )


def expire() -> Call[ExpirePass]:
    """`POST /v1/expire`: a second pass finds nothing more due."""
    return Call(method="POST", path="/v1/expire", body={}, read=_one(ExpirePassOut, ExpirePass))


def verify() -> Call[VerifyReport]:
    """`GET /v1/verify`."""
    return Call(method="GET", path="/v1/verify", read=_one(VerifyReportOut, VerifyReport))


# Guests


def _guest_ip(ip: str) -> str:
    """The guest's address, checked as the engine checks it before it is forwarded."""
    network_of(ip)
    return ip


def consume_guest(
    session_id: str, ip: str, *, feature: str | None, idempotency_key: str | None
) -> Call[GuestAllowance]:
    """`POST /v1/guests/consume`, forwarding the guest's address."""
    body: dict[str, object] = {"session_id": check_session_id(session_id)}
    if feature is not None:
        body["feature"] = check_feature_key(feature)
    return Call(
        method="POST",
        path="/v1/guests/consume",
        body=body,
        key=_key(idempotency_key),
        forwarded_for=_guest_ip(ip),
        read=_one(GuestAllowanceOut, GuestAllowance),
    )


def guest_status(session_id: str, ip: str, *, feature: str | None) -> Call[GuestAllowance]:
    """`GET /v1/guests/status`, forwarding the guest's address."""
    return Call(
        method="GET",
        path="/v1/guests/status",
        query=_query(
            session_id=check_session_id(session_id),
            feature=None if feature is None else check_feature_key(feature),
        ),
        forwarded_for=_guest_ip(ip),
        read=_one(GuestAllowanceOut, GuestAllowance),
    )


def guest_quotas() -> Call[tuple[GuestQuota, ...]]:
    """`GET /v1/guests/quotas`."""
    return Call(method="GET", path="/v1/guests/quotas", read=_many(GuestQuotaOut, GuestQuota))


def link_guest(session_id: str, account_id: str) -> Call[GuestSession]:
    """`POST /v1/guests/link`: linking again to the same account changes nothing."""
    return Call(
        method="POST",
        path="/v1/guests/link",
        body={
            "session_id": check_session_id(session_id),
            "account_id": check_account_id(account_id),
        },
        read=_one(GuestSessionOut, GuestSession),
    )


def mint_widget_token(
    account_id: str | None,
    *,
    ttl_s: int,
    success_url: str | None,
    cancel_url: str | None,
) -> Call[WidgetToken]:
    """`POST /v1/widget-tokens`: each call mints another token, so it is not repeated."""
    return Call(
        method="POST",
        path="/v1/widget-tokens",
        body={
            "account_id": None if account_id is None else check_account_id(account_id),
            "ttl_s": check_ttl_s(ttl_s),
            "success_url": check_return_url(success_url, field="success_url"),
            "cancel_url": check_return_url(cancel_url, field="cancel_url"),
        },
        read=_one(WidgetTokenOut, WidgetToken),
    )


def rotate_widget_keys() -> Call[int]:
    """`POST /v1/widget-keys/rotate`: a second rotation retires the key the first made."""

    def read(data: object) -> int:
        retired: int = WidgetKeysRotatedOut.model_validate(data).retired
        return retired

    return Call(method="POST", path="/v1/widget-keys/rotate", read=read, is_repeatable=False)

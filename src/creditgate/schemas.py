"""The wire: Pydantic models shared by the HTTP service and the client.

Each response model mirrors one frozen domain result field for field: `of(result)` builds
it on the server, `to_domain()` rebuilds the very same result in the client, so code
written against the embedded engine runs unchanged against the service. Amounts travel as
decimal strings ("12.5"): exact, and free of the float rounding JSON numbers invite.
Requests accept an amount as a decimal string or a whole number of credits, never a float.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StrictInt,
    WithJsonSchema,
    computed_field,
)
from pydantic_core import PydanticCustomError

from creditgate.domain.accounts import Account, CapPeriod, Member, OwnerKind, check_account_id
from creditgate.domain.alerts import AlertLevel, BalanceAlert
from creditgate.domain.amounts import Credits
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
from creditgate.domain.catalog import Change, ChangeKind, feature_data, parse_feature
from creditgate.domain.entries import Entry, EntryKind, LotMove
from creditgate.domain.errors import InvalidInput
from creditgate.domain.events import EventRecord, EventResult, Provider
from creditgate.domain.events import Outcome as EventOutcome
from creditgate.domain.guests import (
    GuestAllowance,
    GuestQuota,
    GuestSession,
    guest_quota_data,
    parse_guest_quotas,
)
from creditgate.domain.holds import Hold, HoldStatus
from creditgate.domain.limits import HOLD_TTL_MAX
from creditgate.domain.lots import Lot, LotSource
from creditgate.domain.packs import (
    Pack,
    Purchase,
    PurchaseKind,
    PurchaseStatus,
    pack_data,
    parse_pack,
)
from creditgate.domain.plans import (
    Cycle,
    Interval,
    Plan,
    Rollover,
    Subscription,
    parse_plan,
    plan_data,
)
from creditgate.domain.pricing import (
    Feature,
    Flat,
    PerBlock,
    Price,
    Quote,
    Rule,
    Tiered,
    TokenCounts,
    Tokens,
    check_quantity,
    parse_price,
    parse_rule,
    price_data,
    rule_data,
)
from creditgate.domain.promos import Promo
from creditgate.domain.referrals import (
    Referral,
    ReferralCondition,
    ReferralStatus,
    parse_terms,
    terms_data,
)
from creditgate.domain.results import (
    Balance,
    Check,
    ExpirePass,
    Lifetime,
    Page,
    PeriodUsage,
    PlanOverview,
    Problem,
    Receipt,
    SubscriptionReceipt,
    TransferReceipt,
    VerifyReport,
)
from creditgate.domain.topups import AutoTopUp, TopUpState
from creditgate.domain.usage import Outcome, UsageEvent, UsageTotal
from creditgate.domain.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from creditgate.domain.widgets import (
    TOKEN_TTL_S_DEFAULT,
    CostOption,
    Costs,
    CostState,
    WidgetBalance,
    WidgetToken,
)

_TTL_S_MAX = int(HOLD_TTL_MAX.total_seconds())

_AMOUNT_PATTERN = r"^-?[0-9]{1,16}(\.[0-9]{1,3})?$"


def judged_by(check: Callable[[object], object]) -> BeforeValidator:
    """Judge a request field by the engine's own check, so the wire refuses it alike.

    The service answers a bad body before the engine sees it; running the domain's check
    here makes that answer the engine's: its reason, and its field (`quantity.input`),
    which the problem handler reads from the error's context. A value the check accepts
    goes on unchanged to the field's own type.
    """

    def judge(value: object) -> object:
        try:
            check(value)
        except InvalidInput as error:
            context = {"reason": error.reason, "field": error.field}
            raise PydanticCustomError(InvalidInput.code, "{reason}", context) from None
        return value

    return BeforeValidator(judge)


def _read_credits(value: object) -> Credits:
    if isinstance(value, Credits):
        return value
    if isinstance(value, bool | float) or not isinstance(value, str | int):
        raise ValueError("an amount is a decimal string ('2.5') or a whole number of credits")
    try:
        return Credits.parse(value)
    except InvalidInput as error:
        raise ValueError(error.reason) from None


WireCredits = Annotated[
    Credits,
    PlainValidator(_read_credits),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": _AMOUNT_PATTERN, "examples": ["12.5"]},
        mode="serialization",
    ),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": _AMOUNT_PATTERN},
                {"type": "integer"},
            ],
            "description": "Credits: a decimal string (at most 3 places) or a whole number.",
            "examples": ["12.5", 10],
        },
        mode="validation",
    ),
]
"""An amount of credits on the wire: a decimal string out, a string or integer in."""


def _read_rule(value: object) -> Rule:
    if isinstance(value, Flat | PerBlock | Tiered | Tokens):
        return value
    if not isinstance(value, dict):
        raise ValueError("a rule is an object such as {'rule': 'flat', 'credits': '5'}")
    try:
        return parse_rule(value)
    except InvalidInput as error:
        raise ValueError(f"{error.field}: {error.reason}") from None


_RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "A price rule. `flat`: credits per call. `per_block`: credits per started block of"
        " `block` units. `tiered`: the first tier whose `up_to` holds the quantity (the last"
        " may omit it). `tokens`: credits per `per_tokens` input, cached-input and output"
        " tokens. `rounding` is up (default), down or nearest, applied once per call."
    ),
    "required": ["rule"],
    "properties": {
        "rule": {"type": "string", "enum": ["flat", "per_block", "tiered", "tokens"]},
        "credits": {"type": "string", "pattern": _AMOUNT_PATTERN},
        "block": {"type": "integer", "minimum": 1},
        "unit": {"type": "string"},
        "tiers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "up_to": {"type": "integer", "minimum": 1},
                    "credits": {"type": "string", "pattern": _AMOUNT_PATTERN},
                },
                "required": ["credits"],
            },
        },
        "input": {"type": "string", "pattern": _AMOUNT_PATTERN},
        "cached_input": {"type": "string", "pattern": _AMOUNT_PATTERN},
        "output": {"type": "string", "pattern": _AMOUNT_PATTERN},
        "per_tokens": {"type": "integer", "minimum": 1},
        "rounding": {"type": "string", "enum": ["up", "down", "nearest"]},
    },
    "examples": [
        {"rule": "per_block", "credits": "1", "block": 15, "unit": "s"},
        {"rule": "tokens", "input": "1", "output": "3", "per_tokens": 1000},
    ],
}

WireRule = Annotated[
    Rule,
    PlainValidator(_read_rule),
    PlainSerializer(rule_data, return_type=dict[str, object]),
    WithJsonSchema(_RULE_SCHEMA),
]
"""A price rule on the wire: its data form, the same as in a catalog file."""


def _instant(value: object) -> object:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("an ISO 8601 time with its zone, e.g. 2027-01-01T00:00:00Z") from None
    return value


WireInstant = Annotated[datetime, BeforeValidator(_instant)]
"""A time in a request: ISO 8601 text. Requests are validated strictly (no coercion of
numbers or booleans), and JSON carries times and enum values as text, so these two are
read from text explicitly."""


def _from_text(enum: type[OwnerKind] | type[LotSource]) -> BeforeValidator:
    def read(value: object) -> object:
        if isinstance(value, str):
            try:
                return enum(value)
            except ValueError:
                allowed = ", ".join(member.value for member in enum)
                raise ValueError(f"one of: {allowed}") from None
        return value

    return BeforeValidator(read)


WireOwnerKind = Annotated[OwnerKind, _from_text(OwnerKind)]
WireSource = Annotated[LotSource, _from_text(LotSource)]

Metadata = Annotated[dict[str, Any], Field(description="The app's own JSON object, at most 8 KiB.")]


def _back(value: object) -> object:
    """A wire value turned back into its domain value."""
    if isinstance(value, Out):
        return value.to_domain()
    if isinstance(value, tuple | list):
        return tuple(_back(item) for item in value)
    return value


class Out(BaseModel):
    """A response: one domain result, field for field."""

    model_config = ConfigDict(from_attributes=True, frozen=True)
    domain: ClassVar[type[Any]]

    @classmethod
    def of(cls, result: object) -> Self:
        """The wire form of a domain result."""
        return cls.model_validate(result, from_attributes=True)

    def to_domain(self) -> Any:
        """The domain result this wire form carries."""
        return self.domain(**{name: _back(getattr(self, name)) for name in type(self).model_fields})


class TokenCountsWire(Out):
    """The tokens of one LLM call, by kind."""

    model_config = ConfigDict(from_attributes=True, frozen=True, extra="forbid", strict=True)
    domain = TokenCounts
    input: int = Field(default=0, ge=0, examples=[1200])
    cached_input: int = Field(default=0, ge=0, examples=[0])
    output: int = Field(default=0, ge=0, examples=[300])


WireQuantity = Annotated[
    StrictInt | TokenCountsWire,
    Field(description="A whole number (seconds, images) or token counts by kind.", examples=[40]),
]


QuantityIn = Annotated[WireQuantity, judged_by(check_quantity)]
"""A quantity in a request, refused in the engine's words (`quantity.output`: …)."""


def engine_quantity(value: int | TokenCountsWire | None) -> int | TokenCounts | None:
    """A wire quantity as the engine takes it."""
    if isinstance(value, TokenCountsWire):
        return TokenCounts(input=value.input, cached_input=value.cached_input, output=value.output)
    return value


class AccountOut(Out):
    """A wallet, by the app's own id."""

    domain = Account
    id: str = Field(examples=["user_1"])
    owner_kind: OwnerKind
    floor: WireCredits
    is_unlimited: bool
    is_frozen: bool
    created_at: datetime
    metadata: dict[str, Any]


class MemberOut(Out):
    """A person who spends from an organization's wallet."""

    domain = Member
    account_id: str = Field(examples=["org_acme"])
    member_id: str = Field(examples=["user_7"])
    spend_cap: WireCredits | None
    spent: WireCredits
    cap_period: CapPeriod | None
    period_started_at: datetime | None


class PeriodUsageOut(Out):
    """Usage of the current period (the plan's cycle, else the calendar month)."""

    domain = PeriodUsage
    starts_at: datetime
    ends_at: datetime
    credits: WireCredits
    tokens: int
    lifetime_tokens: int


class BalanceOut(Out):
    """An account's figures now: `available = balance - held`, and this period's usage."""

    domain = Balance
    account_id: str = Field(examples=["user_1"])
    balance: WireCredits
    held: WireCredits
    available: WireCredits
    floor: WireCredits
    debt: WireCredits
    as_of: datetime
    usage: PeriodUsageOut


class LotMoveOut(Out):
    """What one entry did to one lot."""

    domain = LotMove
    lot_id: int
    amount: WireCredits
    held: WireCredits


class EntryOut(Out):
    """One line of the ledger."""

    domain = Entry
    id: int
    account_id: str
    seq: int
    kind: EntryKind
    amount: WireCredits
    held_delta: WireCredits
    balance_after: WireCredits
    held_after: WireCredits
    cost: WireCredits | None
    moves: tuple[LotMoveOut, ...]
    hold_id: int | None
    ref_entry_id: int | None
    counterparty: str | None
    source: str | None
    member_id: str | None
    feature: str | None
    actor: str | None
    reason: str | None
    metadata: dict[str, Any]
    created_at: datetime
    effective_at: datetime
    model: str | None = None
    quantity: WireQuantity | None = None
    price_id: int | None = None


class HoldOut(Out):
    """Credits set aside for work in progress."""

    domain = Hold
    id: int
    account_id: str
    amount: WireCredits
    status: HoldStatus
    captured: WireCredits | None
    member_id: str | None
    feature: str | None
    metadata: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    model: str | None = None
    quantity: WireQuantity | None = None
    price_id: int | None = None


class HoldPage(Out):
    """One page of an account's holds, newest first; pass `next_cursor` back for the next."""

    domain = Page
    items: tuple[HoldOut, ...]
    next_cursor: str | None


class LotOut(Out):
    """One grant of credits: what is left of it, and where it stands in the burn order.

    `remaining` includes `held`, the part pinned by pending holds.
    """

    domain = Lot
    id: int
    source: LotSource
    amount: WireCredits
    remaining: WireCredits
    held: WireCredits
    priority: int
    expires_at: datetime | None
    created_at: datetime
    metadata: dict[str, Any]


class QuoteOut(Out):
    """What one call costs, at which price version, and why."""

    domain = Quote
    feature: str = Field(examples=["audio.generate"])
    model: str | None
    quantity: WireQuantity | None
    amount: WireCredits
    price_id: int
    price_version: int
    breakdown: str = Field(examples=["40 s = 3 x 15 s x 1 credit = 3 credits"])


class ReceiptOut(Out):
    """One ledger write: its entry, the account after it, and the hold or quote it made."""

    domain = Receipt
    entry: EntryOut
    balance: BalanceOut
    hold: HoldOut | None = None
    quote: QuoteOut | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def credits_used(self) -> WireCredits:
        """Credits this write took from the balance."""
        return Credits(max(0, -self.entry.amount.units))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def credits_remaining(self) -> WireCredits:
        """Credits still available after this write."""
        return self.balance.available


class TransferReceiptOut(Out):
    """Both sides of a transfer."""

    domain = TransferReceipt
    debit: EntryOut
    credit: EntryOut
    from_balance: BalanceOut
    to_balance: BalanceOut


class EntryPage(Out):
    """One page of history, newest first; pass `next_cursor` back for the next."""

    domain = Page
    items: tuple[EntryOut, ...]
    next_cursor: str | None


class LifetimeOut(Out):
    """Lifetime figures of an account."""

    domain = Lifetime
    account_id: str
    granted: WireCredits
    granted_by_source: dict[str, WireCredits]
    spent: WireCredits
    refunded: WireCredits
    expired: WireCredits
    adjusted: WireCredits
    transferred_in: WireCredits
    transferred_out: WireCredits


class BalanceAtOut(BaseModel):
    """The balance as it stood at one past instant."""

    account_id: str
    at: datetime
    balance: WireCredits


class ExpirePassOut(Out):
    """What one expiry pass wrote."""

    domain = ExpirePass
    accounts: int
    lots_expired: int
    holds_expired: int
    credits_expired: WireCredits
    cycles_granted: int


class PlanOut(Out):
    """A plan: credits per cycle, prices in minor units by interval, rollover rule."""

    domain = Plan
    key: str = Field(examples=["basic"])
    name: str = Field(examples=["Basic"])
    description: str | None
    credits: WireCredits
    prices: dict[Interval, int] = Field(examples=[{"month": 1500, "year": 21000}])
    currency: str = Field(examples=["usd"])
    rollover: Rollover
    rollover_cap: WireCredits | None
    cycle: Cycle
    is_active: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime


class SubscriptionOut(Out):
    """An account's subscription as of its current cycle."""

    domain = Subscription
    id: int
    account_id: str = Field(examples=["user_1"])
    plan: str = Field(examples=["basic"])
    interval: Interval
    anchor_at: datetime
    cycle_months: int
    cycle_index: int
    cycle_started_at: datetime
    cycle_ends_at: datetime
    period_ends_at: datetime
    cancel_at_period_end: bool
    next_plan: str | None
    next_interval: Interval | None
    started_at: datetime
    ended_at: datetime | None
    provider_ref: str | None = Field(
        default=None, description="The payment provider's subscription id when it bills it."
    )
    paid_until: datetime | None = None
    is_awaiting_payment: bool = False


class SubscriptionReceiptOut(Out):
    """A subscription after a change, with the account's figures after it."""

    domain = SubscriptionReceipt
    subscription: SubscriptionOut
    balance: BalanceOut


class PlanOverviewOut(Out):
    """The plans on sale, the account's subscription (null: on no plan) and its balance."""

    domain = PlanOverview
    plans: tuple[PlanOut, ...]
    subscription: SubscriptionOut | None
    balance: BalanceOut


class PackOut(Out):
    """A pack for sale: credits and bonus for a price in minor units."""

    domain = Pack
    key: str = Field(examples=["creator"])
    name: str = Field(examples=["Creator"])
    credits: WireCredits
    price_minor: int = Field(examples=[1499], description="Minor units of `currency`.")
    currency: str = Field(examples=["usd"])
    bonus_credits: WireCredits
    description: str | None
    badge: str | None = Field(examples=["best value"])
    is_free_once: bool
    expires_after_days: int | None
    is_active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime


class PurchaseOut(Out):
    """One checkout and what came of it: pending, paid, failed, refunded or disputed."""

    domain = Purchase
    id: int
    account_id: str
    kind: PurchaseKind
    pack: str | None
    plan: str | None
    provider: str
    reference: str
    payment_ref: str | None
    amount_minor: int
    currency: str
    status: PurchaseStatus
    credits: WireCredits
    refunded_minor: int
    taken_back: WireCredits
    owed: WireCredits
    note: str | None
    created_at: datetime
    updated_at: datetime
    paid_at: datetime | None


class PurchasePage(Out):
    """One page of an account's purchases, newest first."""

    domain = Page
    items: tuple[PurchaseOut, ...]
    next_cursor: str | None


class AutoTopUpOut(Out):
    """An account's auto top-up: the pack bought when available credits fall below the line."""

    domain = AutoTopUp
    account_id: str
    pack: str = Field(examples=["creator"])
    threshold: WireCredits
    customer_ref: str = Field(examples=["cus_…"])
    payment_method_ref: str = Field(examples=["pm_…"])
    is_enabled: bool
    state: TopUpState | None
    failures: int
    failures_max: int
    disabled_reason: str | None
    updated_at: datetime


class BalanceAlertOut(Out):
    """An account's low-balance line (null: the catalog's default) and its level."""

    domain = BalanceAlert
    account_id: str
    low: WireCredits | None
    default_low: WireCredits | None
    level: AlertLevel


class WebhookEndpointOut(Out):
    """Where events are sent, and which (`["*"]`: every type); its secret is never shown."""

    domain = WebhookEndpoint
    id: int
    url: str = Field(examples=["https://app.example/hooks/creditgate"])
    description: str | None
    event_types: tuple[str, ...] = Field(examples=[["balance.low", "balance.depleted"]])
    is_enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreatedOut(BaseModel):
    """A new endpoint and its signing secret (`whsec_…`), shown this once."""

    endpoint: WebhookEndpointOut
    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class WebhookSecretOut(BaseModel):
    """An endpoint's new signing secret, shown this once."""

    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class WebhookEventOut(Out):
    """One event of the outbox; `id` is the `webhook-id` header of each delivery of it."""

    domain = WebhookEvent
    id: str = Field(examples=["evt_5f0c3e0a9b2d4c61a8e7f1d2c3b4a596"])
    type: EventType
    account_id: str
    data: dict[str, Any]
    created_at: datetime


class DeliveryAttemptOut(Out):
    """One try of a delivery: the status that came back, or the error, and its duration."""

    domain = DeliveryAttempt
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class WebhookDeliveryOut(Out):
    """One event for one endpoint, with its attempts (newest first)."""

    domain = WebhookDelivery
    id: int
    endpoint_id: int
    event: WebhookEventOut
    status: DeliveryStatus
    attempts: tuple[DeliveryAttemptOut, ...]
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


class WebhookDeliveryPage(Out):
    """One page of an endpoint's deliveries, newest first."""

    domain = Page
    items: tuple[WebhookDeliveryOut, ...]
    next_cursor: str | None


class CheckoutOut(BaseModel):
    """A checkout opened at the payment provider: send the person to `url`."""

    purchase: PurchaseOut
    url: str = Field(examples=["https://checkout.stripe.com/c/pay/cs_test_…"])


class EventResultOut(Out):
    """What one webhook delivery did."""

    domain = EventResult
    event_id: str
    type: str
    outcome: EventOutcome
    account_id: str | None
    purchase_id: int | None
    detail: str | None


class EventRecordOut(Out):
    """A provider event as kept for an operator."""

    domain = EventRecord
    provider: Provider
    event_id: str
    type: str
    outcome: EventOutcome
    account_id: str | None
    purchase_id: int | None
    detail: dict[str, Any]
    received_at: datetime


class ProblemOut(Out):
    """One mismatch `verify` found."""

    domain = Problem
    account_id: str | None
    check: str
    detail: str


class VerifyReportOut(Out):
    """Every account recomputed from its entries, lots and holds."""

    domain = VerifyReport
    accounts: int
    entries: int
    problems: tuple[ProblemOut, ...]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def is_clean(self) -> bool:
        """No invariant is broken."""
        return not self.problems


class CheckOut(Out):
    """Whether an account can pay for one call now."""

    domain = Check
    has_enough: bool
    required: WireCredits
    available: WireCredits
    quote: QuoteOut


class FeatureOut(Out):
    """Something the app charges for."""

    domain = Feature
    key: str = Field(examples=["image.generate"])
    name: str = Field(examples=["Image generation"])
    category: str | None
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class PriceOut(Out):
    """One version of a feature's price; `rule` null marks a retired price."""

    domain = Price
    id: int
    feature: str
    model: str | None
    version: int
    rule: WireRule | None
    minimum: WireCredits | None
    effective_from: datetime
    created_at: datetime


class UsageEventOut(Out):
    """One use of a feature, and how it ended."""

    domain = UsageEvent
    id: int
    account_id: str
    member_id: str | None
    feature: str | None
    model: str | None
    quantity: WireQuantity | None
    credits: WireCredits
    outcome: Outcome
    latency_ms: int | None
    request_id: str | None
    metadata: dict[str, Any]
    entry_id: int | None
    hold_id: int | None
    price_id: int | None
    created_at: datetime


class UsagePage(Out):
    """One page of usage events, newest first."""

    domain = Page
    items: tuple[UsageEventOut, ...]
    next_cursor: str | None


class UsageTotalOut(Out):
    """Events and credits of one feature, model and outcome."""

    domain = UsageTotal
    feature: str | None
    model: str | None
    outcome: Outcome
    events: int
    credits: WireCredits


class ChangeOut(BaseModel):
    """One change a catalog apply made (or, in a dry run, would make).

    Besides what it says (`detail`), the change carries what it was made from, in the
    catalog file's own form: the feature (with its prices), the price and model, the
    welcome credits, the referral terms, the plan, the pack, the guest quotas (a
    `set_guests` change) or the default low-balance line.
    """

    kind: ChangeKind
    detail: str
    feature: dict[str, Any] | None = None
    price: dict[str, Any] | None = None
    model: str | None = None
    welcome: WireCredits | None = None
    referrals: dict[str, Any] | None = None
    plan: dict[str, Any] | None = None
    pack: dict[str, Any] | None = None
    guests: list[dict[str, Any]] | None = None
    low_balance: WireCredits | None = None

    @classmethod
    def of(cls, change: Change) -> Self:
        """The wire form of a change."""
        return cls(
            kind=change.kind,
            detail=change.detail,
            feature=None if change.feature is None else feature_data(change.feature),
            price=None if change.price is None else price_data(change.price),
            model=change.model,
            welcome=change.welcome,
            referrals=None if change.referrals is None else terms_data(change.referrals),
            plan=None if change.plan is None else plan_data(change.plan),
            pack=None if change.pack is None else pack_data(change.pack),
            guests=(
                [guest_quota_data(q) for q in change.guests]
                if change.kind is ChangeKind.SET_GUESTS
                else None
            ),
            low_balance=change.low_balance,
        )

    def to_domain(self) -> Change:
        """The engine's change this wire form carries, read back through the file parsers."""
        return Change(
            kind=self.kind,
            detail=self.detail,
            feature=None if self.feature is None else parse_feature(self.feature, "feature"),
            price=None if self.price is None else parse_price(self.price),
            model=self.model,
            welcome=self.welcome,
            referrals=None if self.referrals is None else parse_terms(self.referrals),
            plan=None if self.plan is None else parse_plan(self.plan, "plan"),
            pack=None if self.pack is None else parse_pack(self.pack, "pack"),
            guests=() if self.guests is None else parse_guest_quotas(self.guests),
            low_balance=self.low_balance,
        )


class Deleted(BaseModel):
    """What deleting a feature did: deleted when never used, otherwise deactivated."""

    deleted: bool


# Requests


class In(BaseModel):
    """A request body: unknown fields are refused, and no type is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class AccountIn(In):
    """Create an account for the app's id, or get the existing one unchanged."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"account_id": "user_1", "owner_kind": "user"}]},
    )

    account_id: Annotated[str, judged_by(check_account_id)] = Field(
        min_length=1, max_length=200, examples=["user_1"]
    )
    owner_kind: WireOwnerKind = OwnerKind.USER
    floor: WireCredits = Credits(0)
    is_unlimited: bool = False
    metadata: Metadata | None = None


class AccountUpdateIn(In):
    """Freeze, make unlimited, change the floor or the metadata; absent fields stay."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"is_frozen": True}]}
    )

    is_frozen: bool | None = None
    is_unlimited: bool | None = None
    floor: WireCredits | None = None
    metadata: Metadata | None = None


class MemberIn(In):
    """Let a person spend from the organization's wallet, up to an optional cap."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"spend_cap": "40"}, {"spend_cap": "40", "cap_period": "month"}]
        },
    )

    spend_cap: WireCredits | None = None
    cap_period: str | None = Field(
        default=None, description="Count the cap per calendar `month` or per plan `cycle`."
    )


class GrantIn(In):
    """A new lot of credits."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"amount": "100", "source": "purchase", "expires_at": "2027-01-01T00:00:00Z"}
            ]
        },
    )

    amount: WireCredits
    source: WireSource = LotSource.BONUS
    expires_at: WireInstant | None = None
    priority: int = 0
    metadata: Metadata | None = None


class AdjustIn(In):
    """A signed correction by an operator."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"amount": "-5", "reason": "duplicate purchase", "actor": "support@example.com"}
            ]
        },
    )

    amount: WireCredits = Field(examples=["-5"])
    reason: str = Field(examples=["duplicate purchase"])
    actor: str = Field(examples=["support@example.com"])
    metadata: Metadata | None = None


class SpendIn(In):
    """An amount, or a feature (with model and quantity) for the catalog to price."""

    amount: WireCredits | None = None
    feature: str | None = Field(default=None, examples=["audio.generate"])
    model: str | None = None
    quantity: QuantityIn | None = None
    member_id: str | None = None
    metadata: Metadata | None = None


class ChargeIn(SpendIn):
    """Take the cost of one call now."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"feature": "audio.speech", "quantity": 40}]},
    )

    request_id: str | None = None


class HoldIn(SpendIn):
    """Set the cost of a call aside for `ttl_s` seconds."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"feature": "video.generate", "quantity": 10, "ttl_s": 300}]
        },
    )

    ttl_s: StrictInt = Field(ge=1, le=_TTL_S_MAX, examples=[300])


class ExtendIn(In):
    """Grow a pending hold; `ttl_s` restarts its clock."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"more": "2", "ttl_s": 300}]}
    )

    more: WireCredits
    ttl_s: StrictInt | None = Field(default=None, ge=1, le=_TTL_S_MAX)


class SettleIn(In):
    """The actual cost, or the quantity really used (priced at the hold's version)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"quantity": 4, "latency_ms": 8200}]},
    )

    actual: WireCredits | None = None
    quantity: QuantityIn | None = None
    latency_ms: StrictInt | None = None
    request_id: str | None = None


class ReleaseIn(In):
    """End a hold without spending; name the failure when the work failed."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"failure": "upstream timeout", "latency_ms": 30000}]},
    )

    failure: str | None = Field(default=None, examples=["upstream timeout"])
    latency_ms: StrictInt | None = None
    request_id: str | None = None


class RefundIn(In):
    """Give back all of a charge (no amount) or part of it."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"amount": "2.5", "reason": "generation failed"}]},
    )

    amount: WireCredits | None = None
    reason: str | None = None


class TransferIn(In):
    """Move credits from one account to another."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"from_account_id": "user_1", "to_account_id": "user_2", "amount": "10"}]
        },
    )

    from_account_id: str = Field(examples=["user_1"])
    to_account_id: str = Field(examples=["user_2"])
    amount: WireCredits
    metadata: Metadata | None = None


class CheckIn(In):
    """Could the account pay for this call now?"""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"feature": "video.generate", "quantity": 8}]},
    )

    feature: str = Field(examples=["audio.generate"])
    model: str | None = None
    quantity: QuantityIn | None = None


class QuoteIn(CheckIn):
    """What would this call cost (now, or at `at`)?"""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "feature": "chat.complete",
                    "model": "gpt-4o-mini",
                    "quantity": {"input": 1200, "output": 300},
                }
            ]
        },
    )

    at: WireInstant | None = None


class FeatureIn(In):
    """A new feature."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"key": "image.upscale", "name": "Image upscaling", "category": "Image"}]
        },
    )

    key: str = Field(examples=["image.upscale"])
    name: str = Field(examples=["Image upscaling"])
    category: str | None = None
    description: str | None = None
    is_active: bool = True


class FeatureUpdateIn(In):
    """Rename, recategorize, or (de)activate a feature; absent fields stay."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"is_active": False}]}
    )

    name: str | None = None
    category: str | None = None
    description: str | None = None
    is_active: bool | None = None


class PriceIn(In):
    """A new price version for a model, a family (`gpt-4o*`) or every model (null)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"model": "flux-pro", "rule": {"rule": "flat", "credits": "4"}}]
        },
    )

    model: str | None = None
    rule: dict[str, Any] = Field(
        json_schema_extra=_RULE_SCHEMA, examples=[{"rule": "flat", "credits": "5"}]
    )
    minimum: WireCredits | None = None
    effective_from: WireInstant | None = None


class PlanIn(In):
    """A new plan. `prices` in minor units by interval; none: the app bills it itself."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "key": "basic",
                    "name": "Basic",
                    "credits": "500",
                    "prices": {"month": 1500, "year": 21000},
                    "rollover": "capped",
                    "rollover_cap": "100",
                }
            ]
        },
    )

    key: str = Field(examples=["basic"])
    name: str = Field(examples=["Basic"])
    credits: WireCredits
    prices: dict[str, int] = Field(default_factory=dict, examples=[{"month": 1500}])
    currency: str = "usd"
    description: str | None = None
    rollover: str = Field(default="none", examples=["none", "capped", "full"])
    rollover_cap: WireCredits | None = None
    cycle: str = Field(default="month", examples=["month", "interval"])
    is_active: bool = True
    is_default: bool = False


class PlanUpdateIn(In):
    """Change a plan from each subscriber's next cycle on; absent fields stay."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"credits": "600"}]}
    )

    name: str | None = None
    credits: WireCredits | None = None
    prices: dict[str, int] | None = None
    currency: str | None = None
    description: str | None = None
    rollover: str | None = None
    rollover_cap: WireCredits | None = None
    cycle: str | None = None
    is_active: bool | None = None
    is_default: bool | None = None


class SubscribeIn(In):
    """Put the account on a plan: start now, upgrade now, or downgrade at period end."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"plan": "basic", "interval": "month"}]},
    )

    plan: str = Field(examples=["basic"])
    interval: str | None = Field(default=None, examples=["month", "year"])


class PackIn(In):
    """A new pack. `price_minor` in minor units of `currency`; 0 only for a free-once pack."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "key": "creator",
                    "name": "Creator",
                    "credits": "110",
                    "price_minor": 1499,
                    "badge": "best value",
                }
            ]
        },
    )

    key: str = Field(examples=["creator"])
    name: str = Field(examples=["Creator"])
    credits: WireCredits
    price_minor: int = Field(examples=[1499])
    currency: str = "usd"
    bonus_credits: WireCredits = Credits(0)
    description: str | None = None
    badge: str | None = None
    is_free_once: bool = False
    expires_after_days: int | None = None
    is_active: bool = True
    sort_order: int = 0


class PackUpdateIn(In):
    """Change a pack for checkouts opened from now on; absent fields stay."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"price_minor": 1299}]}
    )

    name: str | None = None
    credits: WireCredits | None = None
    price_minor: int | None = None
    currency: str | None = None
    bonus_credits: WireCredits | None = None
    description: str | None = None
    badge: str | None = None
    is_free_once: bool | None = None
    expires_after_days: int | None = None
    is_active: bool | None = None
    sort_order: int | None = None


class AutoTopUpIn(In):
    """Buy `pack` with the saved card whenever available credits fall below `threshold`."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "pack": "creator",
                    "threshold": "10",
                    "customer_ref": "cus_123",
                    "payment_method_ref": "pm_123",
                }
            ]
        },
    )

    pack: str = Field(examples=["creator"])
    threshold: WireCredits
    customer_ref: str = Field(max_length=255)
    payment_method_ref: str = Field(max_length=255)
    failures_max: int = 3


class BalanceAlertIn(In):
    """The account's own low-balance line; null follows the catalog's default again."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"low": "10"}]}
    )

    low: WireCredits | None


class WebhookEndpointIn(In):
    """Send events of `event_types` (`["*"]`: every type) to `url`, signed."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://app.example/hooks/creditgate",
                    "event_types": ["balance.low", "balance.depleted"],
                    "description": "low-balance emails",
                }
            ]
        },
    )

    url: str = Field(max_length=2048)
    event_types: list[str] = Field(default_factory=lambda: ["*"], max_length=50)
    description: str | None = Field(default=None, max_length=500)


class WebhookEndpointUpdateIn(In):
    """Change an endpoint; absent fields stay. `is_enabled: true` enables it again."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"is_enabled": True}]}
    )

    url: str | None = Field(default=None, max_length=2048)
    event_types: list[str] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    is_enabled: bool | None = None


class CheckoutIn(In):
    """Open a checkout for a pack (one payment) or a plan (a subscription, by `interval`).

    The person pays on the provider's page, then returns to `success_url`.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "account_id": "user_123",
                    "pack": "creator",
                    "success_url": "https://app.example/credits?paid=1",
                    "cancel_url": "https://app.example/credits",
                }
            ]
        },
    )

    account_id: str = Field(examples=["user_123"])
    pack: str | None = Field(default=None, examples=["creator"])
    plan: str | None = Field(default=None, examples=["basic"])
    interval: str | None = Field(default=None, examples=["month", "year"])
    success_url: str = Field(max_length=2048)
    cancel_url: str = Field(max_length=2048)
    customer_email: str | None = Field(default=None, max_length=320)


class RetireIn(In):
    """Retire a model's price (null: the feature-wide default)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"model": "flux-pro"}]}
    )

    model: str | None = None
    effective_from: WireInstant | None = None


# Promo codes and referrals


class PromoOut(Out):
    """A promo code: what it grants, when and how often it may be redeemed, how often it was."""

    domain = Promo
    code: str = Field(examples=["SPRING-25"])
    credits: WireCredits
    expires_after_days: int | None = Field(examples=[30])
    starts_at: datetime | None
    ends_at: datetime | None
    max_redemptions: int | None = Field(examples=[1000])
    is_active: bool
    redeemed: int = Field(examples=[12])
    created_at: datetime
    updated_at: datetime


class PromoIn(In):
    """A new promo code: credits granted once per account, in a window, up to a maximum."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "code": "SPRING-25",
                    "credits": "25",
                    "expires_after_days": 30,
                    "ends_at": "2027-06-01T00:00:00Z",
                    "max_redemptions": 1000,
                }
            ]
        },
    )

    code: str = Field(examples=["SPRING-25"])
    credits: WireCredits
    expires_after_days: int | None = None
    starts_at: WireInstant | None = None
    ends_at: WireInstant | None = None
    max_redemptions: int | None = None
    is_active: bool = True


class PromoUpdateIn(In):
    """Change a promo code; absent fields stay."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"is_active": False}]}
    )

    credits: WireCredits | None = None
    expires_after_days: int | None = None
    starts_at: WireInstant | None = None
    ends_at: WireInstant | None = None
    max_redemptions: int | None = None
    is_active: bool | None = None


class RedeemIn(In):
    """Redeem a promo code (any case)."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"code": "spring-25"}]}
    )

    code: str = Field(examples=["spring-25"])


class ReferralOut(Out):
    """One account referred by another: the terms it was recorded under, and its state."""

    domain = Referral
    referee_id: str = Field(examples=["user_2"])
    referrer_id: str = Field(examples=["user_1"])
    condition: ReferralCondition
    status: ReferralStatus
    referrer_credits: WireCredits
    referee_credits: WireCredits
    created_at: datetime
    granted_at: datetime | None


class ReferIn(In):
    """Record who referred the account."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"referrer": "user_1"}]}
    )

    referrer: str = Field(examples=["user_1"])


# Guests


class GuestUseIn(In):
    """One use by a guest: the app's session id, and what the guest uses (None: anything)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"session_id": "sess_7f3a", "feature": "image.generate"}]},
    )

    session_id: str = Field(examples=["sess_7f3a"])
    feature: str | None = Field(default=None, examples=["image.generate"])


class GuestLinkIn(In):
    """A guest signed up: the guest's session and the account it became."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"session_id": "sess_7f3a", "account_id": "user_1"}]},
    )

    session_id: str = Field(examples=["sess_7f3a"])
    account_id: str = Field(examples=["user_1"])


class GuestAllowanceOut(Out):
    """What a guest may still do: uses left in the strictest window, and when it resets."""

    domain = GuestAllowance
    limit: int = Field(examples=[3])
    remaining: int = Field(examples=[2])
    reset_at: datetime | None = Field(description="When the strictest window gets a use back.")


class GuestSessionOut(Out):
    """A guest session as first seen, and the account it became when the guest signed up."""

    domain = GuestSession
    session_id: str = Field(examples=["sess_7f3a"])
    first_seen_at: datetime
    account_id: str | None = Field(examples=["user_1"])
    linked_at: datetime | None


class GuestQuotaOut(Out):
    """A guest quota: `uses` per rolling `window_s` seconds, for a feature or (None) all."""

    domain = GuestQuota
    feature: str | None = Field(examples=["image.generate"])
    uses: int = Field(examples=[3])
    window_s: int = Field(examples=[86400])


# Analytics


class FeatureSpendOut(Out):
    """Credits spent on one feature on one UTC day (`feature` null: uses of no feature)."""

    domain = FeatureSpend
    day: date = Field(examples=["2026-01-31"])
    feature: str | None = Field(examples=["image.generate"])
    events: int = Field(examples=[120])
    credits: WireCredits


class ModelSpendOut(Out):
    """Credits spent on one model on one UTC day (`model` null: uses that named none)."""

    domain = ModelSpend
    day: date = Field(examples=["2026-01-31"])
    model: str | None = Field(examples=["flux-pro"])
    events: int = Field(examples=[80])
    credits: WireCredits


class ModelGenerationsOut(Out):
    """A model's usage events by outcome, and the share of its generations that failed."""

    domain = ModelGenerations
    model: str | None = Field(examples=["flux-pro"])
    succeeded: int = Field(examples=[95])
    failed: int = Field(examples=[4])
    released: int = Field(examples=[1])
    refused: int = Field(examples=[7])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def generations(self) -> int:
        """Events that started work: succeeded + failed + released (refused ones did not)."""
        found: int = self.to_domain().generations
        return found

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failure_rate(self) -> float:
        """The share of generations that failed: failed / generations (0 when none)."""
        found: float = self.to_domain().failure_rate
        return found


class ModelLatencyOut(Out):
    """Latency of a model's successful events that recorded one: mean and nearest-rank p95."""

    domain = ModelLatency
    model: str | None = Field(examples=["flux-pro"])
    events: int = Field(examples=[95])
    total_ms: int = Field(examples=[406600])
    p95_ms: int = Field(examples=[9100], description="The nearest-rank 95th percentile.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def average_ms(self) -> float:
        """The mean latency: total_ms / events (0 when none)."""
        found: float = self.to_domain().average_ms
        return found


class SourceGrantsOut(Out):
    """Grant entries of one lot source in the range, and the credits they granted."""

    domain = SourceGrants
    source: LotSource
    grants: int = Field(examples=[40])
    credits: WireCredits


class PackRevenueOut(Out):
    """Paid purchases of one pack in one currency, in its minor units (499 is 4.99)."""

    domain = PackRevenue
    pack: str = Field(examples=["creator"])
    currency: str = Field(examples=["usd"])
    purchases: int = Field(examples=[12])
    gross_minor: int = Field(examples=[17988])
    refunded_minor: int = Field(examples=[1499])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def net_minor(self) -> int:
        """What the purchases kept: gross_minor - refunded_minor."""
        found: int = self.to_domain().net_minor
        return found


class AccountSpendOut(Out):
    """Credits one account spent in the range (its usage events that succeeded)."""

    domain = AccountSpend
    account_id: str = Field(examples=["user_1"])
    events: int = Field(examples=[310])
    credits: WireCredits


class GuestConversionOut(Out):
    """Guest sessions first seen in the range, and how many signed up (linked an account)."""

    domain = GuestConversion
    sessions: int = Field(examples=[400])
    linked: int = Field(examples=[36])

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rate(self) -> float:
        """The share of sessions that signed up: linked / sessions (0 when none)."""
        found: float = self.to_domain().rate
        return found


class WelcomeUsageOut(Out):
    """What became of the welcome credits granted in the range: spent, expired, unused."""

    domain = WelcomeUsage
    lots: int = Field(examples=[36])
    granted: WireCredits
    spent: WireCredits
    expired: WireCredits
    unused: WireCredits

    @computed_field  # type: ignore[prop-decorator]
    @property
    def spent_share(self) -> float:
        """The share of the welcome credits spent: spent / granted (0 when none)."""
        found: float = self.to_domain().spent_share
        return found


class WidgetTokenIn(In):
    """Mint a widget token for one account (or, without `account_id`, for a guest)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "account_id": "user_123",
                    "ttl_s": 900,
                    "success_url": "https://app.example/credits?paid=1",
                    "cancel_url": "https://app.example/credits",
                }
            ]
        },
    )

    account_id: str | None = Field(default=None, examples=["user_123"])
    ttl_s: StrictInt = Field(default=TOKEN_TTL_S_DEFAULT, examples=[900])
    success_url: str | None = Field(default=None, max_length=2048)
    cancel_url: str | None = Field(default=None, max_length=2048)


class WidgetTokenOut(Out):
    """A token for the page: put it in the widgets' `token` attribute, never an API key."""

    domain = WidgetToken
    token: str = Field(examples=["cgw.1.eyJhIjoidXNlcl8xMjMiLCJ4IjoxNzk1MDAwMDAwfQ.…"])
    account_id: str | None
    expires_at: datetime


class WidgetBalanceOut(Out):
    """The token's account: its figures and its level against the low-balance line."""

    domain = WidgetBalance
    account_id: str
    balance: WireCredits
    held: WireCredits
    available: WireCredits
    low_line: WireCredits | None
    level: AlertLevel


class CostOptionOut(Out):
    """One model's price for the call, and whether the person can pay it."""

    domain = CostOption
    model: str | None
    amount: WireCredits
    state: CostState


class CostsOut(Out):
    """A feature's cost per model for the token's account (or guest)."""

    domain = Costs
    feature: str = Field(examples=["image.generate"])
    account_id: str | None
    spendable: WireCredits | None
    options: tuple[CostOptionOut, ...]


class WidgetKeysRotatedOut(BaseModel):
    """How many signing keys were retired: every token they signed now answers 401."""

    retired: int


class WidgetCheckoutIn(In):
    """Start a checkout of a pack for the token's account."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [{"pack": "creator"}]}
    )

    pack: str = Field(examples=["creator"])

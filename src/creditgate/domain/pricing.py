"""Pricing: features, their versioned prices, and the rules that turn one use into credits.

A feature (`video.generate`) has prices, each for one model (`veo2`), a model family written
as a prefix and a trailing star (`gpt-4o*`), or every model (the feature-wide default, with
no model). A call's price is the most specific one that matches: the exact model, then the
longest matching family, then the default; with none of them the call is refused, never free.

Rules compute the exact cost as a fraction of units and round once per call, in the
direction the rule names (up unless it says otherwise):

    flat        credits per call                        image 5; a model at 0.5
    per_block   credits per block of units, last block  audio 1 per 15 s: 40 s -> 3
                rounded up                              lipsync 20 per 10 s: 25 s -> 60
    tiered      a flat amount by the first tier whose   video up to 5 s = 25, up to 10 s = 50
                bound holds; beyond the last, refused
                unless the last tier has no bound
    tokens      credits per `per_tokens` input, cached  0.25 per 1,000 input, 1 per 1,000 output;
                input and output tokens                 2,000 tokens per credit: per_tokens 2000

A price may also set a minimum charge per call. Prices are never edited: a change is a new
version with an effective-from time, so a quote at time T uses the version in force at T and
every charge records the version it used.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import ClassVar, NewType

from creditgate.domain.amounts import SCALE, Credits
from creditgate.domain.errors import FeatureNotFound, InvalidInput
from creditgate.domain.limits import (
    AMOUNT_UNITS_MAX,
    PER_TOKENS_MAX,
    QUANTITY_MAX,
    TEXT_LENGTH_MAX,
    TIERS_MAX,
)

PriceId = NewType("PriceId", int)

FEATURE_KEY = re.compile(r"[a-z0-9][a-z0-9_.]{0,99}")
"""Feature keys: lowercase letters, digits, `_` and `.`, at most 100 characters."""

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}")
"""Model names as the app's providers spell them; a price may add a trailing `*`."""

UNIT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _.-]{0,31}")
"""What a quantity counts, for the breakdown: `s`, `seconds`, `images`."""


class Rounding(StrEnum):
    """Which way a rule rounds its exact cost, once per call."""

    UP = "up"
    DOWN = "down"
    NEAREST = "nearest"
    """Half a unit rounds up."""


def rounded(value: Fraction, rounding: Rounding) -> int:
    """`value` rounded to an integer in the given direction (exact: no floats)."""
    if rounding is Rounding.UP:
        return -(-value.numerator // value.denominator)
    if rounding is Rounding.DOWN:
        return value.numerator // value.denominator
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenCounts:
    """The tokens of one LLM call, by kind: the quantity a `tokens` rule prices."""

    input: int = 0
    cached_input: int = 0
    output: int = 0

    @property
    def total(self) -> int:
        """All tokens of the call."""
        return self.input + self.cached_input + self.output

    def __str__(self) -> str:
        return f"{self.input} input, {self.cached_input} cached input, {self.output} output"


Quantity = int | TokenCounts
"""How much of a feature one call used: seconds, images, or the tokens of an LLM call."""

_TOKEN_KINDS = ("input", "cached_input", "output")


def _count(value: object, field: str) -> int:
    if type(value) is not int or not 0 <= value <= QUANTITY_MAX:
        raise InvalidInput(field=field, reason=f"an integer from 0 to {QUANTITY_MAX}")
    return value


def check_quantity(value: object, *, field: str = "quantity") -> Quantity | None:
    """A quantity: a whole number, or token counts by kind (a mapping or `TokenCounts`).

    Raises:
        InvalidInput: a negative, fractional or oversized count, or an unknown token kind.
    """
    if value is None:
        return None
    if isinstance(value, TokenCounts):
        value = {kind: getattr(value, kind) for kind in _TOKEN_KINDS}
    if isinstance(value, Mapping):
        unknown = sorted(str(k) for k in value if k not in _TOKEN_KINDS)
        if unknown:
            reason = f"unknown token kind {unknown[0]!r}; kinds are {', '.join(_TOKEN_KINDS)}"
            raise InvalidInput(field=field, reason=reason)
        counts = {str(k): _count(v, f"{field}.{k}") for k, v in value.items()}
        return TokenCounts(**counts)
    return _count(value, field)


def quantity_data(quantity: Quantity | None) -> int | dict[str, int] | None:
    """The stored form of a quantity: a number, or token counts by kind."""
    if isinstance(quantity, TokenCounts):
        return {kind: getattr(quantity, kind) for kind in _TOKEN_KINDS}
    return quantity


def _whole(quantity: Quantity | None, unit: str) -> int:
    if quantity is None:
        raise InvalidInput(field="quantity", reason=f"required: how many {unit}")
    if isinstance(quantity, TokenCounts):
        raise InvalidInput(field="quantity", reason=f"a whole number of {unit}, not token counts")
    return quantity


def _shown(amount: Credits) -> str:
    return f"{amount} credit" if amount.units == SCALE else f"{amount} credits"


def _exact_text(units: Fraction) -> str:
    """An exact cost in credits, before rounding: every decimal it has, up to twelve."""
    credits = units / SCALE
    for places in range(13):
        scaled = credits * 10**places
        if scaled.denominator == 1:
            return format(Decimal(scaled.numerator).scaleb(-places), "f")
    return "~" + format(Decimal(credits.numerator) / Decimal(credits.denominator), ".12f")


@dataclass(frozen=True, slots=True, kw_only=True)
class Flat:
    """A fixed amount per call; a quantity, if given, is recorded but not priced."""

    kind: ClassVar[str] = "flat"
    credits: Credits

    def cost(self, quantity: Quantity | None) -> tuple[Fraction, str]:
        """The exact cost in units and how it was reached."""
        del quantity
        return Fraction(self.credits.units), f"{_shown(self.credits)} per call"


@dataclass(frozen=True, slots=True, kw_only=True)
class PerBlock:
    """`credits` for every started block of `block` units (a partial block rounds up)."""

    kind: ClassVar[str] = "per_block"
    credits: Credits
    block: int
    unit: str = "units"
    rounding: Rounding = Rounding.UP

    def cost(self, quantity: Quantity | None) -> tuple[Fraction, str]:
        """The exact cost in units and how it was reached."""
        amount = _whole(quantity, self.unit)
        blocks = rounded(Fraction(amount, self.block), self.rounding)
        total = Fraction(blocks * self.credits.units)
        text = (
            f"{amount} {self.unit} = {blocks} x {self.block} {self.unit}"
            f" x {_shown(self.credits)} = {_exact_text(total)} credits"
        )
        return total, text


@dataclass(frozen=True, slots=True, kw_only=True)
class Tier:
    """Calls of a quantity up to `up_to` (inclusive) cost `credits`; no bound on the last."""

    up_to: int | None
    credits: Credits


@dataclass(frozen=True, slots=True, kw_only=True)
class Tiered:
    """The amount of the first tier whose bound holds the quantity."""

    kind: ClassVar[str] = "tiered"
    tiers: tuple[Tier, ...]
    unit: str = "units"

    def cost(self, quantity: Quantity | None) -> tuple[Fraction, str]:
        """The exact cost in units and how it was reached.

        Raises:
            InvalidInput: the quantity is above the last tier's bound.
        """
        amount = _whole(quantity, self.unit)
        for tier in self.tiers:
            if tier.up_to is None or amount <= tier.up_to:
                bound = "any" if tier.up_to is None else f"up to {tier.up_to} {self.unit}"
                text = f"{amount} {self.unit}: tier {bound} = {_shown(tier.credits)}"
                return Fraction(tier.credits.units), text
        last = self.tiers[-1].up_to
        raise InvalidInput(
            field="quantity", reason=f"{amount} {self.unit} is above the last tier ({last})"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Tokens:
    """Credits per `per_tokens` tokens of each kind; cached input costs as input unless set."""

    kind: ClassVar[str] = "tokens"
    input: Credits
    output: Credits
    cached_input: Credits | None = None
    per_tokens: int = 1000
    rounding: Rounding = Rounding.UP

    @property
    def is_uniform(self) -> bool:
        """Every kind of token costs the same, so a plain token count can be priced."""
        cached = self.input if self.cached_input is None else self.cached_input
        return self.input == self.output == cached

    def cost(self, quantity: Quantity | None) -> tuple[Fraction, str]:
        """The exact cost in units and how it was reached.

        Raises:
            InvalidInput: no quantity, or a plain count where kinds are priced differently.
        """
        if quantity is None:
            raise InvalidInput(field="quantity", reason="required: the call's token counts")
        if not isinstance(quantity, TokenCounts):
            if not self.is_uniform:
                raise InvalidInput(
                    field="quantity",
                    reason="token counts by kind (input, cached_input, output) are required",
                )
            exact = Fraction(quantity * self.input.units, self.per_tokens)
            text = f"{quantity} tokens x {self.input}/{self.per_tokens}"
            return exact, f"{text} = {_exact_text(exact)} credits"
        cached = self.input if self.cached_input is None else self.cached_input
        parts = (
            ("input", quantity.input, self.input),
            ("cached input", quantity.cached_input, cached),
            ("output", quantity.output, self.output),
        )
        exact = sum(
            (Fraction(count * rate.units, self.per_tokens) for _, count, rate in parts),
            start=Fraction(0),
        )
        terms = " + ".join(
            f"{count} {name} x {rate}/{self.per_tokens}" for name, count, rate in parts if count
        )
        return exact, f"{terms or '0 tokens'} = {_exact_text(exact)} credits"


Rule = Flat | PerBlock | Tiered | Tokens
"""Every kind of price rule."""

RULE_KINDS: dict[str, type[Rule]] = {r.kind: r for r in (Flat, PerBlock, Tiered, Tokens)}


@dataclass(frozen=True, slots=True, kw_only=True)
class Feature:
    """Something the app charges for, found by its key."""

    key: str
    name: str
    category: str | None
    description: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Price:
    """One version of a feature's price for one model, family or (model None) all models.

    `rule` None marks a retired price: from `effective_from` on, it no longer applies.
    """

    id: PriceId
    feature: str
    model: str | None
    version: int
    rule: Rule | None
    minimum: Credits | None
    effective_from: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """What one call costs, at which price version, and why.

    `amount` is already rounded and raised to the minimum: it is exactly what a charge
    of this call takes.
    """

    feature: str
    model: str | None
    quantity: Quantity | None
    amount: Credits
    price_id: PriceId
    price_version: int
    breakdown: str


def check_feature_key(value: object, *, field: str = "feature") -> str:
    """A feature key: lowercase letters, digits, `_` and `.`.

    Raises:
        InvalidInput: not such a key.
    """
    if not isinstance(value, str) or not FEATURE_KEY.fullmatch(value):
        raise InvalidInput(
            field=field,
            reason="a key of lowercase letters, digits, '_' and '.' (at most 100 characters)",
        )
    return value


def check_model(value: object, *, field: str = "model", pattern: bool = False) -> str | None:
    """A model name, or (for a price) a family prefix ending in `*`.

    Raises:
        InvalidInput: not a model name.
    """
    if value is None:
        return None
    name = value[:-1] if pattern and isinstance(value, str) and value.endswith("*") else value
    if not isinstance(name, str) or not MODEL_NAME.fullmatch(name):
        family = " (a family ends in '*')" if pattern else ""
        reason = f"a model name of letters, digits and ._:/@+- (at most 100){family}"
        raise InvalidInput(field=field, reason=reason)
    assert isinstance(value, str)
    return value


def matches(pattern: str, model: str) -> bool:
    """Whether a price's model (exact, or a family ending in `*`) covers `model`."""
    if pattern.endswith("*"):
        return model.startswith(pattern[:-1])
    return model == pattern


def select_price(feature: str, prices: Sequence[Price], model: str | None) -> Price:
    """The most specific price in force for `model`: exact, longest family, then default.

    `prices` are the versions in force, one per model; retired ones are skipped.

    Raises:
        InvalidInput: no price covers the model (or, without a model, there is no default).
    """
    live = [p for p in prices if p.rule is not None]
    default = next((p for p in live if p.model is None), None)
    if model is not None:
        covering = [p for p in live if p.model is not None and matches(p.model, model)]
        exact = [p for p in covering if p.model == model]
        if exact:
            return exact[0]
        if covering:
            return max(covering, key=lambda p: len(p.model or ""))
    if default is not None:
        return default
    priced = ", ".join(sorted(p.model for p in live if p.model is not None)) or "none"
    if model is None:
        reason = f"required: {feature} is priced per model ({priced})"
    else:
        reason = f"{feature} has no price for model {model!r} (priced: {priced})"
    raise InvalidInput(field="model", reason=reason)


def quote(price: Price, *, model: str | None, quantity: Quantity | None) -> Quote:
    """Price one call: the rule's exact cost, rounded once, raised to the price's minimum.

    Raises:
        InvalidInput: the quantity does not fit the rule, or the cost is out of range.
    """
    assert price.rule is not None, "a retired price is never selected"
    exact, text = price.rule.cost(quantity)
    rounding = getattr(price.rule, "rounding", Rounding.UP)
    units = rounded(exact, rounding)
    if units != exact:
        text += f", rounded {rounding} to {Credits(units)}"
    if price.minimum is not None and units < price.minimum.units:
        units = price.minimum.units
        text += f", raised to the minimum of {price.minimum}"
    if units > AMOUNT_UNITS_MAX:
        raise InvalidInput(field="quantity", reason="the cost is larger than the largest amount")
    return Quote(
        feature=price.feature,
        model=model,
        quantity=quantity,
        amount=Credits(units),
        price_id=price.id,
        price_version=price.version,
        breakdown=text,
    )


# Rules as data: the catalog file and the database hold a rule as a small mapping.


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceSpec:
    """A price as a catalog file writes it: the model it covers, its rule and minimum."""

    model: str | None
    rule: Rule
    minimum: Credits | None = None


def _field(data: Mapping[str, object], name: str, where: str) -> object:
    if name not in data:
        raise InvalidInput(field=f"{where}.{name}", reason="is required")
    return data[name]


def _credits(value: object, where: str) -> Credits:
    if isinstance(value, float):
        raise InvalidInput(field=where, reason="write amounts as text ('0.5') or integers")
    amount = Credits.parse(value, field=where)  # type: ignore[arg-type]
    if amount.units < 0:
        raise InvalidInput(field=where, reason="a price must not be negative")
    return amount


def _positive_int(value: object, where: str, most: int) -> int:
    if type(value) is not int or not 1 <= value <= most:
        raise InvalidInput(field=where, reason=f"an integer from 1 to {most}")
    return value


def _unit(data: Mapping[str, object], where: str) -> str:
    value = data.get("unit", "units")
    if not isinstance(value, str) or not UNIT_NAME.fullmatch(value):
        raise InvalidInput(field=f"{where}.unit", reason="a short name such as 's' or 'images'")
    return value


def _rounding(data: Mapping[str, object], where: str) -> Rounding:
    value = data.get("rounding", Rounding.UP.value)
    try:
        return Rounding(str(value)) if isinstance(value, str) else Rounding(repr(value))
    except ValueError:
        allowed = ", ".join(r.value for r in Rounding)
        raise InvalidInput(field=f"{where}.rounding", reason=f"one of: {allowed}") from None


def _tiers(value: object, where: str) -> tuple[Tier, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidInput(field=where, reason="a non-empty list of {up_to, credits}")
    if len(value) > TIERS_MAX:
        raise InvalidInput(field=where, reason=f"at most {TIERS_MAX} tiers")
    tiers: list[Tier] = []
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(field=at, reason="a table of up_to and credits")
        refuse_unknown(item, {"up_to", "credits"}, at)
        bound = item.get("up_to")
        up_to = None if bound is None else _positive_int(bound, f"{at}.up_to", QUANTITY_MAX)
        tier = Tier(up_to=up_to, credits=_credits(_field(item, "credits", at), f"{at}.credits"))
        if tiers:
            before = tiers[-1]
            if before.up_to is None:
                raise InvalidInput(field=at, reason="only the last tier may have no bound")
            if up_to is not None and up_to <= before.up_to:
                raise InvalidInput(
                    field=f"{at}.up_to",
                    reason=f"tiers must rise: {up_to} overlaps the tier up to {before.up_to}",
                )
            if tier.credits < before.credits:
                raise InvalidInput(field=f"{at}.credits", reason="a larger tier must not cost less")
        tiers.append(tier)
    return tuple(tiers)


def refuse_unknown(data: Mapping[str, object], allowed: set[str], where: str) -> None:
    """Refuse a field that is not one of `allowed`: a typo must not pass as a default.

    Raises:
        InvalidInput: naming the first unknown field.
    """
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise InvalidInput(field=f"{where}.{unknown[0]}", reason="is not a field here")


_RULE_FIELDS = {
    "flat": {"credits"},
    "per_block": {"credits", "block", "unit", "rounding"},
    "tiered": {"tiers", "unit"},
    "tokens": {"input", "cached_input", "output", "per_tokens", "rounding"},
}
_PRICE_FIELDS = {"model", "rule", "minimum"}


def parse_rule(data: Mapping[str, object], where: str = "price") -> Rule:
    """A rule from its data form (`{"rule": "per_block", "credits": "1", "block": 15}`).

    Raises:
        InvalidInput: an unknown rule or field, or a bad value, naming where it is.
    """
    kind = data.get("rule")
    if not isinstance(kind, str) or kind not in _RULE_FIELDS:
        raise InvalidInput(field=f"{where}.rule", reason=f"one of: {', '.join(_RULE_FIELDS)}")
    refuse_unknown(data, _RULE_FIELDS[kind] | _PRICE_FIELDS, where)
    if kind == "flat":
        return Flat(credits=_credits(_field(data, "credits", where), f"{where}.credits"))
    if kind == "per_block":
        return PerBlock(
            credits=_credits(_field(data, "credits", where), f"{where}.credits"),
            block=_positive_int(_field(data, "block", where), f"{where}.block", QUANTITY_MAX),
            unit=_unit(data, where),
            rounding=_rounding(data, where),
        )
    if kind == "tiered":
        return Tiered(
            tiers=_tiers(_field(data, "tiers", where), f"{where}.tiers"), unit=_unit(data, where)
        )
    cached = data.get("cached_input")
    return Tokens(
        input=_credits(_field(data, "input", where), f"{where}.input"),
        output=_credits(_field(data, "output", where), f"{where}.output"),
        cached_input=None if cached is None else _credits(cached, f"{where}.cached_input"),
        per_tokens=_positive_int(
            data.get("per_tokens", 1000), f"{where}.per_tokens", PER_TOKENS_MAX
        ),
        rounding=_rounding(data, where),
    )


def parse_price(data: Mapping[str, object], where: str = "price") -> PriceSpec:
    """A price from its data form: the rule's fields plus `model` and `minimum`.

    Raises:
        InvalidInput: a bad model, rule or minimum, naming where it is.
    """
    model = check_model(data.get("model"), field=f"{where}.model", pattern=True)
    minimum = data.get("minimum")
    return PriceSpec(
        model=model,
        rule=parse_rule(data, where),
        minimum=None if minimum is None else _credits(minimum, f"{where}.minimum"),
    )


def rule_data(rule: Rule) -> dict[str, object]:
    """The data form of a rule: amounts as decimal text, a default rounding left out."""
    data: dict[str, object] = {"rule": rule.kind}
    if isinstance(rule, Flat):
        data["credits"] = str(rule.credits)
    elif isinstance(rule, PerBlock):
        data.update(credits=str(rule.credits), block=rule.block, unit=rule.unit)
    elif isinstance(rule, Tiered):
        data["tiers"] = [
            {"credits": str(t.credits)}
            if t.up_to is None
            else {"up_to": t.up_to, "credits": str(t.credits)}
            for t in rule.tiers
        ]
        data["unit"] = rule.unit
    else:
        data.update(input=str(rule.input), output=str(rule.output), per_tokens=rule.per_tokens)
        if rule.cached_input is not None:
            data["cached_input"] = str(rule.cached_input)
    rounding = getattr(rule, "rounding", Rounding.UP)
    if rounding is not Rounding.UP:
        data["rounding"] = rounding.value
    return data


def price_data(spec: PriceSpec) -> dict[str, object]:
    """The data form of a price: model first, then the rule, then the minimum."""
    data: dict[str, object] = {} if spec.model is None else {"model": spec.model}
    data.update(rule_data(spec.rule))
    if spec.minimum is not None:
        data["minimum"] = str(spec.minimum)
    return data


def check_label(value: object, *, field: str, required: bool = False) -> str | None:
    """A feature's name, category or description: short printable text.

    Raises:
        InvalidInput: empty when required, too long, or not printable.
    """
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise InvalidInput(field=field, reason="must be non-empty printable text")
    if len(value) > TEXT_LENGTH_MAX:
        raise InvalidInput(field=field, reason=f"at most {TEXT_LENGTH_MAX} characters")
    return value


def in_force(prices: Sequence[Price], at: datetime) -> list[Price]:
    """The version of each model's price in force at `at` (retired ones included)."""
    latest: dict[str | None, Price] = {}
    for price in prices:
        if price.effective_from > at:
            continue
        seen = latest.get(price.model)
        if seen is None or price.version > seen.version:
            latest[price.model] = price
    return list(latest.values())


def require_active(feature: Feature | None, key: str) -> Feature:
    """The feature, if it exists and is active: an inactive one is never charged.

    Raises:
        FeatureNotFound: no feature has this key, or it is inactive.
    """
    if feature is None or not feature.is_active:
        raise FeatureNotFound(key)
    return feature

"""The catalog as data: what a catalog file holds, and the changes that bring a database to it.

A team keeps its prices in git as a file (TOML) of features, each with its prices, its
plans, its packs, the welcome credits every new account receives, the referral terms, the
guest quotas and the default low-balance line.
`parse_catalog` checks a whole file before anything is written, so a bad file changes
nothing; `plan_changes` compares the catalog in force with the file and lists what applying
it does. Prices change only by new
versions: a changed price is a new version, a price the file no longer has is retired by one.
Plans change in place (from each subscriber's next cycle); a plan the file lacks is removed.
Packs change in place too (for checkouts opened from then on); a pack the file lacks is
removed (deleted if nobody bought it, else deactivated).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput
from creditgate.domain.guests import GuestQuota, guest_quota_data, parse_guest_quotas, window_text
from creditgate.domain.limits import FEATURES_MAX, PACKS_MAX, PLANS_MAX, PRICES_PER_FEATURE_MAX
from creditgate.domain.packs import PackSpec, pack_data, parse_pack
from creditgate.domain.plans import PlanSpec, parse_plan, plan_data
from creditgate.domain.pricing import (
    PriceSpec,
    check_feature_key,
    check_label,
    parse_price,
    price_data,
    refuse_unknown,
)
from creditgate.domain.referrals import ReferralTerms, parse_terms, terms_data


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpec:
    """A feature as a catalog file writes it, with the prices in force."""

    key: str
    name: str
    category: str | None = None
    description: str | None = None
    is_active: bool = True
    prices: tuple[PriceSpec, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """A whole catalog: features, plans and packs in key order, the welcome credits (None: none).

    `guests` are the guest quotas (every feature's first); `low_balance` is the line below
    which an account's balance is low, for accounts that set none of their own.
    """

    features: tuple[FeatureSpec, ...] = ()
    welcome: Credits | None = None
    referrals: ReferralTerms | None = None
    plans: tuple[PlanSpec, ...] = ()
    packs: tuple[PackSpec, ...] = ()
    guests: tuple[GuestQuota, ...] = ()
    low_balance: Credits | None = None


def _table(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidInput(field=where, reason="must be a table")
    return value


def _list(value: object, where: str) -> Sequence[object]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidInput(field=where, reason="must be a list of tables")
    return value


_FEATURE_FIELDS = {"key", "name", "category", "description", "active", "prices"}


def parse_feature(value: object, where: str) -> FeatureSpec:
    """One `[[features]]` table.

    Raises:
        InvalidInput: a bad key, label, flag or price, or two prices for one model.
    """
    data = _table(value, where)
    refuse_unknown(data, _FEATURE_FIELDS, where)
    key = check_feature_key(data.get("key"), field=f"{where}.key")
    active = data.get("active", True)
    if type(active) is not bool:
        raise InvalidInput(field=f"{where}.active", reason="must be true or false")
    raw_prices = _list(data.get("prices", []), f"{where}.prices")
    if len(raw_prices) > PRICES_PER_FEATURE_MAX:
        raise InvalidInput(field=f"{where}.prices", reason=f"at most {PRICES_PER_FEATURE_MAX}")
    prices: dict[str | None, PriceSpec] = {}
    for i, item in enumerate(raw_prices):
        at = f"{where}.prices[{i}]"
        spec = parse_price(_table(item, at), at)
        if spec.model in prices:
            model = "the default price" if spec.model is None else f"model {spec.model!r}"
            raise InvalidInput(field=f"{at}.model", reason=f"{key} prices {model} twice")
        prices[spec.model] = spec
    name = check_label(data.get("name"), field=f"{where}.name", required=True)
    assert name is not None
    return FeatureSpec(
        key=key,
        name=name,
        category=check_label(data.get("category"), field=f"{where}.category"),
        description=check_label(data.get("description"), field=f"{where}.description"),
        is_active=active,
        prices=tuple(sorted(prices.values(), key=_model_order)),
    )


def _model_order(spec: PriceSpec) -> tuple[bool, str]:
    return (spec.model is not None, spec.model or "")


def parse_catalog(data: Mapping[str, object]) -> Catalog:
    """A whole catalog file, checked before anything is written.

    Raises:
        InvalidInput: the first problem found, naming where it is (`features[2].prices[0]`).
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(field="catalog", reason="must be a table (a parsed catalog file)")
    refuse_unknown(
        data,
        {"features", "welcome", "referrals", "plans", "packs", "guests", "alerts"},
        "catalog",
    )
    raw = _list(data.get("features", []), "features")
    if len(raw) > FEATURES_MAX:
        raise InvalidInput(field="features", reason=f"at most {FEATURES_MAX} features")
    features: dict[str, FeatureSpec] = {}
    for i, item in enumerate(raw):
        spec = parse_feature(item, f"features[{i}]")
        if spec.key in features:
            raise InvalidInput(field=f"features[{i}].key", reason=f"{spec.key} appears twice")
        features[spec.key] = spec
    welcome = None
    if "welcome" in data:
        table = _table(data["welcome"], "welcome")
        refuse_unknown(table, {"credits"}, "welcome")
        welcome = Credits.positive(table.get("credits"), field="welcome.credits")  # type: ignore[arg-type]
    referrals = None
    if "referrals" in data:
        referrals = parse_terms(_table(data["referrals"], "referrals"), "referrals")
    low_balance = None
    if "alerts" in data:
        table = _table(data["alerts"], "alerts")
        refuse_unknown(table, {"low"}, "alerts")
        low_balance = Credits.parse(table.get("low"), field="alerts.low")  # type: ignore[arg-type]
        if low_balance.units < 0:
            raise InvalidInput(field="alerts.low", reason="must not be negative")
    return Catalog(
        features=tuple(sorted(features.values(), key=lambda f: f.key)),
        welcome=welcome,
        referrals=referrals,
        plans=_parse_plans(data.get("plans", [])),
        packs=_parse_packs(data.get("packs", [])),
        guests=parse_guest_quotas(data.get("guests", [])),
        low_balance=low_balance,
    )


def _parse_plans(value: object) -> tuple[PlanSpec, ...]:
    raw = _list(value, "plans")
    if len(raw) > PLANS_MAX:
        raise InvalidInput(field="plans", reason=f"at most {PLANS_MAX} plans")
    plans: dict[str, PlanSpec] = {}
    for i, item in enumerate(raw):
        spec = parse_plan(_table(item, f"plans[{i}]"), f"plans[{i}]")
        if spec.key in plans:
            raise InvalidInput(field=f"plans[{i}].key", reason=f"{spec.key} appears twice")
        plans[spec.key] = spec
    defaults = [p.key for p in plans.values() if p.is_default]
    if len(defaults) > 1:
        raise InvalidInput(field="plans", reason=f"one default plan at most, not {defaults}")
    return tuple(sorted(plans.values(), key=lambda p: p.key))


def _parse_packs(value: object) -> tuple[PackSpec, ...]:
    raw = _list(value, "packs")
    if len(raw) > PACKS_MAX:
        raise InvalidInput(field="packs", reason=f"at most {PACKS_MAX} packs")
    packs: dict[str, PackSpec] = {}
    for i, item in enumerate(raw):
        spec = parse_pack(_table(item, f"packs[{i}]"), f"packs[{i}]")
        if spec.key in packs:
            raise InvalidInput(field=f"packs[{i}].key", reason=f"{spec.key} appears twice")
        packs[spec.key] = spec
    return tuple(sorted(packs.values(), key=lambda p: p.key))


def catalog_data(catalog: Catalog) -> dict[str, object]:
    """The file form of a catalog: what `parse_catalog` reads back to an equal catalog."""
    data: dict[str, object] = {}
    if catalog.welcome is not None:
        data["welcome"] = {"credits": str(catalog.welcome)}
    if catalog.referrals is not None:
        data["referrals"] = terms_data(catalog.referrals)
    if catalog.low_balance is not None:
        data["alerts"] = {"low": str(catalog.low_balance)}
    if catalog.guests:
        data["guests"] = [guest_quota_data(q) for q in catalog.guests]
    data["features"] = [feature_data(feature) for feature in catalog.features]
    if catalog.plans:
        data["plans"] = [plan_data(p) for p in catalog.plans]
    if catalog.packs:
        data["packs"] = [pack_data(p) for p in catalog.packs]
    return data


def feature_data(feature: FeatureSpec) -> dict[str, object]:
    """The file form of one feature: what `parse_feature` reads back to an equal spec."""
    item: dict[str, object] = {"key": feature.key, "name": feature.name}
    if feature.category is not None:
        item["category"] = feature.category
    if feature.description is not None:
        item["description"] = feature.description
    if not feature.is_active:
        item["active"] = False
    item["prices"] = [price_data(p) for p in feature.prices]
    return item


class ChangeKind(StrEnum):
    """What applying a catalog file does to one thing."""

    CREATE_FEATURE = "create_feature"
    UPDATE_FEATURE = "update_feature"
    REMOVE_FEATURE = "remove_feature"
    """Deleted when never used, otherwise deactivated."""
    SET_PRICE = "set_price"
    """A new price version (the first, or one that replaces the price in force)."""
    RETIRE_PRICE = "retire_price"
    SET_WELCOME = "set_welcome"
    SET_REFERRALS = "set_referrals"
    """The referral terms replaced (or, with none, referrals turned off)."""
    CREATE_PLAN = "create_plan"
    UPDATE_PLAN = "update_plan"
    REMOVE_PLAN = "remove_plan"
    """Deleted when never subscribed to, otherwise deactivated."""
    CREATE_PACK = "create_pack"
    UPDATE_PACK = "update_pack"
    REMOVE_PACK = "remove_pack"
    """Deleted when never bought, otherwise deactivated."""
    SET_GUESTS = "set_guests"
    """The guest quotas replaced (with none, guests may use nothing)."""
    SET_ALERTS = "set_alerts"
    """The default low-balance line replaced (or, with none, removed)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One change of a catalog apply, with what the engine needs to make it."""

    kind: ChangeKind
    feature: FeatureSpec | None = None
    price: PriceSpec | None = None
    model: str | None = None
    welcome: Credits | None = None
    referrals: ReferralTerms | None = None
    plan: PlanSpec | None = None
    pack: PackSpec | None = None
    guests: tuple[GuestQuota, ...] = ()
    low_balance: Credits | None = None
    detail: str

    def __str__(self) -> str:
        return self.detail


def _label(feature: str, model: str | None) -> str:
    return feature if model is None else f"{feature} [{model}]"


def _describe(spec: PriceSpec) -> str:
    parts = []
    for name, value in price_data(spec).items():
        if name == "tiers" and isinstance(value, list):
            value = "; ".join(
                f"up to {t['up_to']}: {t['credits']}" if "up_to" in t else f"above: {t['credits']}"
                for t in value
            )
            parts.append(f"tiers=[{value}]")
        elif name != "model":
            parts.append(f"{name}={value}")
    return ", ".join(parts)


def _feature_changes(now: FeatureSpec, want: FeatureSpec) -> list[Change]:
    changes: list[Change] = []
    facets = ("name", "category", "description", "is_active")
    differ = [f for f in facets if getattr(now, f) != getattr(want, f)]
    if differ:
        what = ", ".join(f"{f} {getattr(now, f)!r} -> {getattr(want, f)!r}" for f in differ)
        detail = f"~ feature {want.key}: {what}"
        changes.append(Change(kind=ChangeKind.UPDATE_FEATURE, feature=want, detail=detail))
    current = {p.model: p for p in now.prices}
    wanted = {p.model: p for p in want.prices}
    for model, spec in wanted.items():
        if current.get(model) != spec:
            sign = "+" if model not in current else "~"
            detail = f"{sign} price {_label(want.key, model)}: {_describe(spec)}"
            changes.append(
                Change(
                    kind=ChangeKind.SET_PRICE, feature=want, price=spec, model=model, detail=detail
                )
            )
    for model in sorted(current.keys() - wanted.keys(), key=lambda m: (m is not None, m or "")):
        detail = f"- price {_label(want.key, model)}"
        changes.append(
            Change(kind=ChangeKind.RETIRE_PRICE, feature=want, model=model, detail=detail)
        )
    return changes


def _referral_change(terms: ReferralTerms | None) -> Change:
    shown = "off"
    if terms is not None:
        shown = (
            f"{terms.referrer_credits} credits to the referrer, {terms.referee_credits} to the"
            f" referee, on {terms.condition.value}"
        )
    return Change(kind=ChangeKind.SET_REFERRALS, referrals=terms, detail=f"~ referrals: {shown}")


def _guests_change(quotas: tuple[GuestQuota, ...]) -> Change:
    shown = "none (guests may use nothing)"
    if quotas:
        shown = "; ".join(
            f"{q.uses} per {window_text(q.window_s)} for {q.feature or 'every feature'}"
            for q in quotas
        )
    return Change(kind=ChangeKind.SET_GUESTS, guests=quotas, detail=f"~ guest quotas: {shown}")


def plan_changes(current: Catalog, desired: Catalog) -> tuple[Change, ...]:
    """What applying `desired` over `current` does, in the order it is done.

    Features the file lacks are removed (deleted if never used, else deactivated); prices it
    lacks are retired by a new version; changed prices get a new version.
    """
    changes: list[Change] = []
    if current.welcome != desired.welcome:
        shown = "none" if desired.welcome is None else f"{desired.welcome} credits"
        changes.append(
            Change(
                kind=ChangeKind.SET_WELCOME, welcome=desired.welcome, detail=f"~ welcome: {shown}"
            )
        )
    if current.referrals != desired.referrals:
        changes.append(_referral_change(desired.referrals))
    if current.guests != desired.guests:
        changes.append(_guests_change(desired.guests))
    if current.low_balance != desired.low_balance:
        shown = "none" if desired.low_balance is None else f"below {desired.low_balance} credits"
        changes.append(
            Change(
                kind=ChangeKind.SET_ALERTS,
                low_balance=desired.low_balance,
                detail=f"~ low balance: {shown}",
            )
        )
    have = {f.key: f for f in current.features}
    for want in desired.features:
        now = have.pop(want.key, None)
        if now is None:
            changes.append(
                Change(
                    kind=ChangeKind.CREATE_FEATURE,
                    feature=want,
                    detail=f"+ feature {want.key} ({want.name})",
                )
            )
            now = FeatureSpec(
                key=want.key,
                name=want.name,
                category=want.category,
                description=want.description,
                is_active=want.is_active,
            )
        changes.extend(_feature_changes(now, want))
    # An inactive feature the file lacks is already as removed as a used feature gets.
    for gone in (f for f in have.values() if f.is_active):
        changes.append(
            Change(kind=ChangeKind.REMOVE_FEATURE, feature=gone, detail=f"- feature {gone.key}")
        )
    changes.extend(_plan_changes(current.plans, desired.plans))
    changes.extend(_pack_changes(current.packs, desired.packs))
    return tuple(changes)


def _plan_changes(current: Sequence[PlanSpec], desired: Sequence[PlanSpec]) -> list[Change]:
    """Plans the file adds, changes or lacks; the file's default plan goes first.

    Making the new default first means there is never a moment with two defaults or, when
    the file has one, with none.
    """
    changes: list[Change] = []
    have = {p.key: p for p in current}
    for want in sorted(desired, key=lambda p: (not p.is_default, p.key)):
        now = have.pop(want.key, None)
        if now is None:
            detail = f"+ plan {want.key} ({want.name}, {want.credits} credits per cycle)"
            changes.append(Change(kind=ChangeKind.CREATE_PLAN, plan=want, detail=detail))
        elif plan_data(now) != plan_data(want):
            old, new = plan_data(now), plan_data(want)
            differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            what = ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in differ)
            changes.append(
                Change(kind=ChangeKind.UPDATE_PLAN, plan=want, detail=f"~ plan {want.key}: {what}")
            )
    for gone in (p for p in have.values() if p.is_active):
        changes.append(Change(kind=ChangeKind.REMOVE_PLAN, plan=gone, detail=f"- plan {gone.key}"))
    return changes


def _pack_changes(current: Sequence[PackSpec], desired: Sequence[PackSpec]) -> list[Change]:
    """Packs the file adds, changes or lacks."""
    changes: list[Change] = []
    have = {p.key: p for p in current}
    for want in desired:
        now = have.pop(want.key, None)
        if now is None:
            detail = f"+ pack {want.key} ({want.name}, {want.total_credits} credits)"
            changes.append(Change(kind=ChangeKind.CREATE_PACK, pack=want, detail=detail))
        elif now != want:
            old, new = pack_data(now), pack_data(want)
            differ = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            what = ", ".join(f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in differ)
            changes.append(
                Change(kind=ChangeKind.UPDATE_PACK, pack=want, detail=f"~ pack {want.key}: {what}")
            )
    for gone in (p for p in have.values() if p.is_active):
        changes.append(Change(kind=ChangeKind.REMOVE_PACK, pack=gone, detail=f"- pack {gone.key}"))
    return changes

"""The catalog's use cases: features, versioned prices, quotes, and catalog files.

Catalog writes lock the feature's row (SQLite's BEGIN IMMEDIATE serializes them anyway),
so two admins changing one price get versions n+1 and n+2, never two n+1. A price version
is never edited: it takes effect at its `effective_from`, which is never in the past, so
a quote at any past instant is reproducible from the table.
"""

import json
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Connection

from creditgate.domain.amounts import Credits
from creditgate.domain.catalog import Catalog, Change, ChangeKind, FeatureSpec, plan_changes
from creditgate.domain.errors import FeatureExists, FeatureNotFound, InvalidInput
from creditgate.domain.guests import GuestQuota, guest_quota_data, parse_guest_quotas
from creditgate.domain.packs import PackSpec
from creditgate.domain.plans import PlanSpec
from creditgate.domain.pricing import (
    Feature,
    Price,
    PriceSpec,
    Quantity,
    Quote,
    in_force,
    quote,
    select_price,
)
from creditgate.domain.referrals import ReferralTerms, parse_terms, terms_data
from creditgate.engine import packs, plans
from creditgate.storage import catalog as rows
from creditgate.storage import packs as pack_rows
from creditgate.storage import plans as plan_rows

WELCOME = "welcome_credits"
"""The catalog setting that holds the welcome credits (in units) of every new account."""


def welcome_credits(conn: Connection) -> Credits | None:
    """The credits every new account is granted once, or None."""
    value = rows.get_setting(conn, WELCOME)
    return None if value is None else Credits(int(value))


REFERRALS = "referrals"
"""The catalog setting that holds the referral terms, as JSON of their catalog-file form."""


def referral_terms(conn: Connection) -> ReferralTerms | None:
    """What the catalog offers for a referral now, or None when referrals are off."""
    value = rows.get_setting(conn, REFERRALS)
    return None if value is None else parse_terms(json.loads(value))


ALERTS = "alerts"
"""The catalog setting that holds the default low-balance line (in units) of every account."""


def low_balance_default(conn: Connection) -> Credits | None:
    """The line below which an account's balance is low, unless the account sets its own."""
    value = rows.get_setting(conn, ALERTS)
    return None if value is None else Credits(int(json.loads(value)["low"]))


GUESTS = "guest_quotas"
"""The catalog setting that holds the guest quotas, as JSON of their catalog-file form."""


def guest_quotas(conn: Connection) -> tuple[GuestQuota, ...]:
    """The guest quotas in force (none: guests may use nothing)."""
    value = rows.get_setting(conn, GUESTS)
    return () if value is None else parse_guest_quotas(json.loads(value))


def create_feature(conn: Connection, now: datetime, spec: FeatureSpec) -> Feature:
    """Add a feature (without prices).

    Raises:
        FeatureExists: the key is taken (by an active or an inactive feature).
    """
    if rows.find_feature(conn, spec.key) is not None:
        raise FeatureExists(key=spec.key)
    feature = Feature(
        key=spec.key,
        name=spec.name,
        category=spec.category,
        description=spec.description,
        is_active=spec.is_active,
        created_at=now,
        updated_at=now,
    )
    rows.insert_feature(conn, feature)
    return feature


def locked_feature(conn: Connection, key: str) -> tuple[int, Feature]:
    """The feature's row, locked for a catalog write.

    Raises:
        FeatureNotFound: no feature has this key.
    """
    found = rows.find_feature(conn, key, lock=True)
    if found is None:
        raise FeatureNotFound(key)
    return found


def update_feature(
    conn: Connection, now: datetime, key: str, changes: Mapping[str, object]
) -> Feature:
    """Change a feature's name, category, description or active flag.

    Raises:
        FeatureNotFound: no feature has this key.
    """
    pk, feature = locked_feature(conn, key)
    updated = Feature(
        key=key,
        name=str(changes.get("name", feature.name)),
        category=_optional(changes, "category", feature.category),
        description=_optional(changes, "description", feature.description),
        is_active=bool(changes.get("is_active", feature.is_active)),
        created_at=feature.created_at,
        updated_at=now,
    )
    if updated != feature:
        rows.save_feature(conn, pk, updated)
    return updated


def _optional(changes: Mapping[str, object], name: str, current: str | None) -> str | None:
    value = changes.get(name, current)
    return None if value is None else str(value)


def remove_feature(conn: Connection, now: datetime, key: str) -> bool:
    """Delete a never-used feature, or deactivate a used one; True when it was deleted.

    Raises:
        FeatureNotFound: no feature has this key.
    """
    pk, feature = locked_feature(conn, key)
    if not rows.is_used(conn, pk, key):
        rows.delete_feature(conn, pk)
        return True
    if feature.is_active:
        update_feature(conn, now, key, {"is_active": False})
    return False


def set_price(
    conn: Connection,
    now: datetime,
    key: str,
    spec: PriceSpec | None,
    *,
    model: str | None,
    effective_from: datetime | None,
) -> Price:
    """Write the next version of a model's price; `spec` None retires it.

    Raises:
        FeatureNotFound: no feature has this key.
        InvalidInput: an effective time in the past, or nothing to retire.
    """
    pk, _ = locked_feature(conn, key)
    start = now if effective_from is None else effective_from
    if start < now:
        reason = "must not be in the past: a price in force is never rewritten"
        raise InvalidInput(field="effective_from", reason=reason)
    if spec is None:
        live = {p.model for p in in_force(rows.feature_prices(conn, pk, key), start) if p.rule}
        if model not in live:
            shown = "the default price" if model is None else f"a price for model {model!r}"
            raise InvalidInput(field="model", reason=f"{key} has no {shown} to retire")
    return rows.insert_price(
        conn,
        feature_pk=pk,
        feature_key=key,
        model=model,
        rule=None if spec is None else spec.rule,
        minimum=None if spec is None else spec.minimum,
        effective_from=start,
        now=now,
    )


def live_prices(conn: Connection, key: str, at: datetime) -> list[Price]:
    """The prices of a feature in force at `at`, retired ones left out; the default first.

    Raises:
        FeatureNotFound: no feature has this key.
    """
    found = rows.find_feature(conn, key)
    if found is None:
        raise FeatureNotFound(key)
    current = in_force(rows.feature_prices(conn, found[0], key), at)
    return sorted((p for p in current if p.rule is not None), key=lambda p: p.model or "")


def price_call(
    conn: Connection,
    key: str,
    model: str | None,
    quantity: Quantity | None,
    at: datetime,
    *,
    cache: rows.PriceCache | None = None,
    revision: str | None = None,
) -> Quote:
    """What one call of an active feature costs at `at`, and at which price version.

    Raises:
        FeatureNotFound: no feature has this key, or it is inactive.
        InvalidInput: no price covers the model, or the quantity does not fit the rule.
    """
    found = (
        rows.prices_for_call(conn, key)
        if cache is None
        else cache.prices_for_call(conn, key, revision)
    )
    if found is None:
        raise FeatureNotFound(key)
    is_active, versions = found
    if not is_active:
        raise FeatureNotFound(key)
    price = select_price(key, in_force(versions, at), model)
    return quote(price, model=model, quantity=quantity)


def current_catalog(conn: Connection, at: datetime) -> Catalog:
    """The catalog in force at `at`, as a catalog file would write it."""
    features = []
    for feature in rows.list_features(conn, None):
        prices = [
            PriceSpec(model=p.model, rule=p.rule, minimum=p.minimum)
            for p in live_prices(conn, feature.key, at)
            if p.rule is not None  # live_prices leaves retired ones out; this tells mypy
        ]
        features.append(
            FeatureSpec(
                key=feature.key,
                name=feature.name,
                category=feature.category,
                description=feature.description,
                is_active=feature.is_active,
                prices=tuple(prices),
            )
        )
    return Catalog(
        features=tuple(sorted(features, key=lambda f: f.key)),
        welcome=welcome_credits(conn),
        referrals=referral_terms(conn),
        guests=guest_quotas(conn),
        low_balance=low_balance_default(conn),
        plans=tuple(
            p.spec()
            for p in sorted(plan_rows.list_plans(conn, active_only=False), key=lambda p: p.key)
        ),
        packs=tuple(
            p.spec()
            for p in sorted(pack_rows.list_packs(conn, active_only=False), key=lambda p: p.key)
        ),
    )


def apply(
    conn: Connection, now: datetime, desired: Catalog, *, dry_run: bool
) -> tuple[Change, ...]:
    """Bring the catalog to `desired`; with `dry_run`, only say what that would change."""
    changes = plan_changes(current_catalog(conn, now), desired)
    if dry_run:
        return changes
    for change in changes:
        _make(conn, now, change)
    return changes


_SETTINGS = frozenset(
    {ChangeKind.SET_WELCOME, ChangeKind.SET_REFERRALS, ChangeKind.SET_GUESTS, ChangeKind.SET_ALERTS}
)
"""Changes of a catalog setting rather than of a feature, a plan or a pack."""


def _setting(change: Change) -> tuple[str, str | None]:
    """The catalog setting a change writes, and its stored text (None: removed)."""
    if change.kind is ChangeKind.SET_WELCOME:
        return WELCOME, None if change.welcome is None else str(change.welcome.units)
    if change.kind is ChangeKind.SET_REFERRALS:
        terms = change.referrals
        return REFERRALS, None if terms is None else json.dumps(terms_data(terms))
    if change.kind is ChangeKind.SET_GUESTS:
        data = [guest_quota_data(q) for q in change.guests]
        return GUESTS, json.dumps(data) if data else None
    line = change.low_balance
    return ALERTS, None if line is None else json.dumps({"low": line.units})


def _make(conn: Connection, now: datetime, change: Change) -> None:
    feature = change.feature
    if change.plan is not None:
        _make_plan(conn, now, change.kind, change.plan)
        return
    if change.pack is not None:
        _make_pack(conn, now, change.kind, change.pack)
        return
    if change.kind in _SETTINGS:
        rows.set_setting(conn, *_setting(change))
        return
    assert feature is not None
    if change.kind is ChangeKind.CREATE_FEATURE:
        create_feature(conn, now, feature)
    elif change.kind is ChangeKind.UPDATE_FEATURE:
        fields = {
            "name": feature.name,
            "category": feature.category,
            "description": feature.description,
            "is_active": feature.is_active,
        }
        update_feature(conn, now, feature.key, fields)
    elif change.kind is ChangeKind.REMOVE_FEATURE:
        remove_feature(conn, now, feature.key)
    elif change.kind is ChangeKind.SET_PRICE:
        assert change.price is not None
        set_price(conn, now, feature.key, change.price, model=change.model, effective_from=None)
    else:
        set_price(conn, now, feature.key, None, model=change.model, effective_from=None)


def _make_plan(conn: Connection, now: datetime, kind: ChangeKind, spec: PlanSpec) -> None:
    if kind is ChangeKind.CREATE_PLAN:
        plans.create_plan(conn, now, spec)
    elif kind is ChangeKind.UPDATE_PLAN:
        plans.replace_plan(conn, now, spec)
    else:
        plans.remove_plan(conn, now, spec.key)


def _make_pack(conn: Connection, now: datetime, kind: ChangeKind, spec: PackSpec) -> None:
    if kind is ChangeKind.CREATE_PACK:
        packs.create_pack(conn, now, spec)
    elif kind is ChangeKind.UPDATE_PACK:
        packs.replace_pack(conn, now, spec)
    else:
        packs.remove_pack(conn, now, spec.key)

"""Queries over the catalog: features, their price versions, and catalog settings.

Every catalog write renews the catalog's revision. Price rows never change once written,
so a cache of them is right for as long as the revision it was filled under: a priced call
reads the revision with its account's row and prices from the cache when it matches.
"""

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, exists, func, insert, select, update

from creditgate.domain.amounts import Credits
from creditgate.domain.pricing import Feature, Price, PriceId, Rule, parse_rule, rule_data
from creditgate.storage.tables import (
    CATALOG_REVISION,
    DEFAULT_MODEL,
    catalog_settings,
    features,
    holds,
    prices,
    usage_events,
)


def _feature(row: Row[Any]) -> Feature:
    return Feature(
        key=row.key,
        name=row.name,
        category=row.category,
        description=row.description,
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _price(feature_key: str, row: Row[Any]) -> Price:
    return Price(
        id=PriceId(row.id),
        feature=feature_key,
        model=None if row.model == DEFAULT_MODEL else row.model,
        version=row.version,
        rule=None if row.rule is None else parse_rule(row.rule),
        minimum=None if row.minimum is None else Credits(row.minimum),
        effective_from=row.effective_from,
        created_at=row.created_at,
    )


def find_feature(conn: Connection, key: str, *, lock: bool = False) -> tuple[int, Feature] | None:
    """A feature (active or not) and its internal key; `lock` serializes catalog writers."""
    stmt = select(features).where(features.c.key == key)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    return None if row is None else (row.id, _feature(row))


def list_features(conn: Connection, category: str | None) -> list[Feature]:
    """Every feature, by category then key, or those of one category."""
    stmt = select(features).order_by(features.c.category.asc().nulls_first(), features.c.key)
    if category is not None:
        stmt = stmt.where(features.c.category == category)
    return [_feature(row) for row in conn.execute(stmt)]


def insert_feature(conn: Connection, feature: Feature) -> int:
    """Write a new feature; returns its internal key."""
    values = {
        "key": feature.key,
        "name": feature.name,
        "category": feature.category,
        "description": feature.description,
        "is_active": feature.is_active,
        "created_at": feature.created_at,
        "updated_at": feature.updated_at,
    }
    pk: int = conn.execute(insert(features).returning(features.c.id), values).scalar_one()
    renew_revision(conn)
    return pk


def save_feature(conn: Connection, pk: int, feature: Feature) -> None:
    """Write a feature's labels and active flag."""
    conn.execute(
        update(features)
        .where(features.c.id == pk)
        .values(
            name=feature.name,
            category=feature.category,
            description=feature.description,
            is_active=feature.is_active,
            updated_at=feature.updated_at,
        )
    )
    renew_revision(conn)


def is_used(conn: Connection, pk: int, key: str) -> bool:
    """Whether anything refers to the feature: a usage event, or a hold at one of its prices."""
    used_by_event = exists().where(usage_events.c.feature == key)
    held_at_price = exists().where(
        holds.c.price_id.in_(select(prices.c.id).where(prices.c.feature_id == pk))
    )
    return bool(conn.execute(select(used_by_event | held_at_price)).scalar())


def delete_feature(conn: Connection, pk: int) -> None:
    """Delete a never-used feature and its prices."""
    conn.execute(delete(prices).where(prices.c.feature_id == pk))
    conn.execute(delete(features).where(features.c.id == pk))
    renew_revision(conn)


def insert_price(
    conn: Connection,
    *,
    feature_pk: int,
    feature_key: str,
    model: str | None,
    rule: Rule | None,
    minimum: Credits | None,
    effective_from: datetime,
    now: datetime,
) -> Price:
    """Write the next version of a model's price (the feature row is locked by the caller)."""
    stored_model = DEFAULT_MODEL if model is None else model
    latest = conn.execute(
        select(func.max(prices.c.version)).where(
            prices.c.feature_id == feature_pk, prices.c.model == stored_model
        )
    ).scalar()
    values = {
        "feature_id": feature_pk,
        "model": stored_model,
        "version": (latest or 0) + 1,
        "rule": None if rule is None else rule_data(rule),
        "minimum": None if minimum is None else minimum.units,
        "effective_from": effective_from,
        "created_at": now,
    }
    row = conn.execute(insert(prices).returning(*prices.c), values).one()
    renew_revision(conn)
    return _price(feature_key, row)


def feature_prices(conn: Connection, pk: int, key: str) -> list[Price]:
    """Every version of every price of a feature, oldest first."""
    stmt = select(prices).where(prices.c.feature_id == pk).order_by(prices.c.id)
    return [_price(key, row) for row in conn.execute(stmt)]


# A priced call's lookup: the feature and every version of its prices, in one query.
_priced = (
    select(features.c.is_active, prices)
    .select_from(features)
    .outerjoin(prices, prices.c.feature_id == features.c.id)
    .where(features.c.key == bindparam("key"))
)

Priced = tuple[bool, list[Price]] | None
"""Whether a feature is active and every version of its prices; None when it is absent."""


def prices_for_call(conn: Connection, key: str) -> Priced:
    """The feature's active flag and every version of its prices (in force or not yet)."""
    rows: Sequence[Row[Any]] = conn.execute(_priced, {"key": key}).all()
    if not rows:
        return None
    return rows[0].is_active, [_price(key, row) for row in rows if row.id is not None]


class PriceCache:
    """Features' price versions as of one catalog revision, shared by a database's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: str | None = None
        self._features: dict[str, Priced] = {}

    def prices_for_call(self, conn: Connection, key: str, revision: str | None) -> Priced:
        """`prices_for_call` through the cache; `revision` is the one read with the account.

        Rows read after the revision are at least as new as it, so what is cached under a
        revision is never older than that revision's catalog.
        """
        with self._lock:
            if revision != self._revision:
                self._revision, self._features = revision, {}
            elif key in self._features:
                return self._features[key]
        found = prices_for_call(conn, key)
        with self._lock:
            if revision == self._revision:
                self._features[key] = found
        return found


def renew_revision(conn: Connection) -> None:
    """Mark the catalog changed: every cache of it is stale from this commit on."""
    set_setting(conn, CATALOG_REVISION, uuid.uuid4().hex)


def find_price(conn: Connection, price_id: int) -> Price | None:
    """One price version by id (a hold settles at the version it was priced at)."""
    row = conn.execute(
        select(prices, features.c.key.label("feature_key"))
        .join(features, features.c.id == prices.c.feature_id)
        .where(prices.c.id == price_id)
    ).one_or_none()
    return None if row is None else _price(row.feature_key, row)


def get_setting(conn: Connection, key: str) -> str | None:
    """A catalog setting's stored text, or None."""
    value: str | None = conn.execute(
        select(catalog_settings.c.value).where(catalog_settings.c.key == key)
    ).scalar_one_or_none()
    return value


def set_setting(conn: Connection, key: str, value: str | None) -> None:
    """Store (or, with None, remove) a catalog setting."""
    conn.execute(delete(catalog_settings).where(catalog_settings.c.key == key))
    if value is not None:
        conn.execute(insert(catalog_settings), {"key": key, "value": value})
    if key != CATALOG_REVISION:
        renew_revision(conn)

"""The catalog's half of the `Engine`: features, prices, quotes, checks and catalog files.

A mixin, so that `Engine` stays one object with one vocabulary while each half of it
stays a module of readable size.
"""

from collections.abc import Mapping
from datetime import datetime

from creditgate import presets
from creditgate.domain.accounts import check_account_id
from creditgate.domain.amounts import Credits
from creditgate.domain.catalog import Catalog, Change, FeatureSpec, parse_catalog
from creditgate.domain.errors import FeatureNotFound, InvalidInput
from creditgate.domain.inputs import check_instant
from creditgate.domain.pricing import (
    Feature,
    Price,
    PriceSpec,
    Quote,
    Rule,
    check_feature_key,
    check_label,
    check_model,
    check_quantity,
    parse_price,
    rule_data,
)
from creditgate.domain.results import Check
from creditgate.engine import catalog, history
from creditgate.engine.books import transaction
from creditgate.engine.clock import Clock
from creditgate.engine.guests import QuotaCache
from creditgate.storage import catalog as rows
from creditgate.storage.database import Database


def _flag(value: object, field: str) -> bool:
    if type(value) is not bool:
        raise InvalidInput(field=field, reason="must be true or false")
    return value


def _minimum(value: object) -> Credits:
    floor = Credits.parse(value, field="minimum")  # type: ignore[arg-type]
    if floor.units < 0:
        raise InvalidInput(field="minimum", reason="must not be negative")
    return floor


def _price_spec(rule: Rule | Mapping[str, object], model: object, minimum: object) -> PriceSpec:
    """A price from a rule object or its data form (`{"rule": "flat", "credits": "5"}`).

    An error names the parameter at fault as the caller wrote it: `model`, `minimum`, or a
    field inside `rule` (`rule.credits`). The service's body has the same three fields, so
    a bad price is refused with the same field by the engine and over HTTP.
    """
    # A rule object is re-read from its data form: the same checks as a catalog file.
    data = dict(rule) if isinstance(rule, Mapping) else rule_data(rule)
    for name, value in (("model", model), ("minimum", minimum)):
        if value is not None and name in data:
            raise InvalidInput(field=name, reason="given twice: in the rule and apart")
    checked_model = check_model(model, pattern=True)
    floor = None if minimum is None else _minimum(minimum)
    spec = parse_price(data, where="rule")
    return PriceSpec(
        model=spec.model if model is None else checked_model,
        rule=spec.rule,
        minimum=spec.minimum if minimum is None else floor,
    )


class CatalogVerbs:
    """Features, versioned prices, quotes and catalog files (mixed into `Engine`)."""

    db: Database
    clock: Clock
    guest_quota_cache: QuotaCache

    def create_feature(
        self,
        key: str,
        *,
        name: str,
        category: str | None = None,
        description: str | None = None,
        is_active: bool = True,
    ) -> Feature:
        """Add a feature to the catalog; price it with `set_price`.

        Raises:
            InvalidInput: a bad key or label.
            FeatureExists: the key is taken.
        """
        label = check_label(name, field="name", required=True)
        assert label is not None
        spec = FeatureSpec(
            key=check_feature_key(key, field="key"),
            name=label,
            category=check_label(category, field="category"),
            description=check_label(description, field="description"),
            is_active=_flag(is_active, "is_active"),
        )
        with transaction(self.db, self.clock) as books:
            return catalog.create_feature(books.conn, books.now, spec)

    def update_feature(
        self,
        key: str,
        *,
        name: str | None = None,
        category: str | None = None,
        description: str | None = None,
        is_active: bool | None = None,
    ) -> Feature:
        """Rename, recategorize, describe, deactivate or reactivate a feature.

        Raises:
            FeatureNotFound: no feature has this key.
            InvalidInput: a bad label.
        """
        changes: dict[str, object] = {}
        for field, value in (("name", name), ("category", category), ("description", description)):
            if value is not None:
                changes[field] = check_label(value, field=field)
        if is_active is not None:
            changes["is_active"] = _flag(is_active, "is_active")
        with transaction(self.db, self.clock) as books:
            return catalog.update_feature(
                books.conn, books.now, check_feature_key(key, field="key"), changes
            )

    def delete_feature(self, key: str) -> bool:
        """Delete a feature never used, or deactivate one that was; True when deleted.

        History must keep naming what was charged, so a used feature is only deactivated.

        Raises:
            FeatureNotFound: no feature has this key.
        """
        with transaction(self.db, self.clock) as books:
            return catalog.remove_feature(
                books.conn, books.now, check_feature_key(key, field="key")
            )

    def get_feature(self, key: str) -> Feature:
        """One feature, active or not.

        Raises:
            FeatureNotFound: no feature has this key.
        """
        checked = check_feature_key(key, field="key")
        with self.db.read() as conn:
            found = rows.find_feature(conn, checked)
        if found is None:
            raise FeatureNotFound(checked)
        return found[1]

    def features(self, *, category: str | None = None) -> tuple[Feature, ...]:
        """Every feature (active or not), by category then key; or one category's."""
        wanted = check_label(category, field="category")
        with self.db.read() as conn:
            return tuple(rows.list_features(conn, wanted))

    def set_price(
        self,
        feature: str,
        rule: Rule | Mapping[str, object],
        *,
        model: str | None = None,
        minimum: Credits | str | int | None = None,
        effective_from: datetime | None = None,
    ) -> Price:
        """Price a feature (for one model, a `family*`, or by default): a new version.

        `rule` is a rule object (`Flat(credits=Credits.parse(5))`) or its data form
        (`{"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}`). The version
        takes effect at `effective_from` (now by default, never in the past).

        Raises:
            FeatureNotFound: no feature has this key.
            InvalidInput: a bad rule, model, minimum or effective time.
        """
        spec = _price_spec(rule, model, minimum)
        start = (
            None
            if effective_from is None
            else check_instant(effective_from, field="effective_from")
        )
        key = check_feature_key(feature)
        with transaction(self.db, self.clock) as books:
            return catalog.set_price(
                books.conn, books.now, key, spec, model=spec.model, effective_from=start
            )

    def retire_price(
        self, feature: str, *, model: str | None = None, effective_from: datetime | None = None
    ) -> Price:
        """Stop pricing a model (or the default): a version that removes the price.

        Raises:
            FeatureNotFound: no feature has this key.
            InvalidInput: no such price in force, or an effective time in the past.
        """
        key = check_feature_key(feature)
        checked = check_model(model, pattern=True)
        start = (
            None
            if effective_from is None
            else check_instant(effective_from, field="effective_from")
        )
        with transaction(self.db, self.clock) as books:
            return catalog.set_price(
                books.conn, books.now, key, None, model=checked, effective_from=start
            )

    def prices(self, feature: str, *, at: datetime | None = None) -> tuple[Price, ...]:
        """The prices of a feature in force now (or at `at`), one per model.

        Raises:
            FeatureNotFound: no feature has this key.
        """
        key = check_feature_key(feature)
        when = self.clock.now() if at is None else check_instant(at, field="at")
        with self.db.read() as conn:
            return tuple(catalog.live_prices(conn, key, when))

    def price_history(self, feature: str) -> tuple[Price, ...]:
        """Every version of every price of a feature, oldest first (retirements included).

        Raises:
            FeatureNotFound: no feature has this key.
        """
        key = check_feature_key(feature)
        with self.db.read() as conn:
            found = rows.find_feature(conn, key)
            if found is None:
                raise FeatureNotFound(key)
            return tuple(rows.feature_prices(conn, found[0], key))

    def quote(
        self,
        feature: str,
        *,
        model: str | None = None,
        quantity: object = None,
        at: datetime | None = None,
    ) -> Quote:
        """What one call costs now (or at `at`), at which price version, and why.

        `quantity` is a whole number (seconds, images) or token counts by kind
        (`{"input": 1200, "output": 300}` or `TokenCounts`).

        Raises:
            FeatureNotFound: the feature is unknown or inactive.
            InvalidInput: no price covers the model, or the quantity does not fit the rule.
        """
        key = check_feature_key(feature)
        checked_model = check_model(model)
        amount = check_quantity(quantity)
        when = self.clock.now() if at is None else check_instant(at, field="at")
        with self.db.read() as conn:
            return catalog.price_call(conn, key, checked_model, amount, when)

    def check(
        self,
        account_id: str,
        feature: str,
        *,
        model: str | None = None,
        quantity: object = None,
    ) -> Check:
        """Whether the account can pay for one call now: has_enough, required, available.

        Raises:
            AccountNotFound: no account has this id.
            FeatureNotFound: the feature is unknown or inactive.
            InvalidInput: no price covers the model, or the quantity does not fit the rule.
        """
        priced = self.quote(feature, model=model, quantity=quantity)
        with self.db.read() as conn:
            row = history.open_account(conn, check_account_id(account_id))
            balance = history.balance(conn, row, self.clock.now())
        spendable = balance.available - balance.floor
        return Check(
            has_enough=row.account.is_unlimited or priced.amount <= spendable,
            required=priced.amount,
            available=Credits(max(0, spendable.units)),
            quote=priced,
        )

    def export_catalog(self) -> Catalog:
        """The catalog in force: features (active or not), their prices, welcome credits."""
        with self.db.read() as conn:
            return catalog.current_catalog(conn, self.clock.now())

    def apply_catalog(
        self, desired: Catalog | Mapping[str, object], *, dry_run: bool = False
    ) -> tuple[Change, ...]:
        """Bring the catalog to `desired` (a `Catalog` or a parsed catalog file).

        All in one transaction; with `dry_run`, only list the changes. Applying twice
        changes nothing.

        Raises:
            InvalidInput: the file is not a valid catalog (nothing is changed).
        """
        wanted = desired if isinstance(desired, Catalog) else parse_catalog(desired)
        with transaction(self.db, self.clock) as books:
            changes = catalog.apply(
                books.conn, books.now, wanted, dry_run=_flag(dry_run, "dry_run")
            )
        self.guest_quota_cache.clear()
        return changes

    def seed(self, preset: str, *, dry_run: bool = False) -> tuple[Change, ...]:
        """Load a shipped preset catalog (see `creditgate.presets.PRESETS`).

        Raises:
            InvalidInput: no preset has this name.
        """
        return self.apply_catalog(presets.load(preset), dry_run=dry_run)

"""The pricing catalog: features, versioned prices, quotes at an instant, catalog files."""

import shutil
import tomllib
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from creditgate import (
    ChangeKind,
    Credits,
    Engine,
    EntryKind,
    FeatureExists,
    FeatureNotFound,
    Flat,
    InvalidInput,
    ManualClock,
)
from creditgate.domain.catalog import catalog_data
from tests.conftest import PG_ADMIN_URL
from tests.factories import MINUTE, funded_account

HOUR = timedelta(hours=1)
TICK = timedelta(microseconds=1)


def credits(value: int | str) -> Credits:
    return Credits.parse(value)


def flat(amount: int | str) -> dict[str, object]:
    """The data form of a flat price."""
    return {"rule": "flat", "credits": str(amount)}


def priced_feature(
    engine: Engine, key: str = "image.generate", amount: int | str = 5, **feature: Any
) -> None:
    """A feature with a flat default price."""
    engine.create_feature(key, name=feature.pop("name", "Image generation"), **feature)
    engine.set_price(key, flat(amount))


def feature_table(key: str, amount: int | str = 5, **fields: object) -> dict[str, object]:
    """One `[[features]]` table of a catalog file, with a flat default price."""
    return {"key": key, "name": key.replace(".", " ").title(), "prices": [flat(amount)], **fields}


def catalog_file(*features: dict[str, object], welcome: str | None = None) -> dict[str, object]:
    """A catalog file as `tomllib` reads it."""
    data: dict[str, object] = {"features": list(features)}
    if welcome is not None:
        data["welcome"] = {"credits": welcome}
    return data


def state(engine: Engine, account_id: str = "user_1") -> tuple[object, ...]:
    """Everything a reader can see of an account and its usage."""
    return (
        engine.balance(account_id),
        engine.history(account_id).items,
        engine.usage(account_id).items,
    )


@pytest.fixture
def fresh_engine(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> Iterator[Engine]:
    """A second engine on an empty, migrated database of the same backend."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "fresh.db"
        shutil.copyfile(template, path)
        other = Engine(f"sqlite:///{path}", clock=clock, upgrade=False)
        yield other
        other.close()
        return
    pg_template: str = request.getfixturevalue("pg_template")
    name = f"cg_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    other = Engine(url, clock=clock, upgrade=False)
    yield other
    other.close()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# Features


def test_create_feature_returns_the_feature_that_get_feature_reads_back(
    engine: Engine, clock: ManualClock
) -> None:
    created = engine.create_feature(
        "video.generate", name="Video", category="Video", description="A short clip."
    )

    assert (created.key, created.name, created.category, created.description) == (
        "video.generate",
        "Video",
        "Video",
        "A short clip.",
    )
    assert created.is_active
    assert created.created_at == created.updated_at == clock.now()
    assert engine.get_feature("video.generate") == created


def test_features_lists_every_feature_by_category_then_key(engine: Engine) -> None:
    engine.create_feature("video.generate", name="Video", category="Video")
    engine.create_feature("image.upscale", name="Upscale", category="Image")
    engine.create_feature("audio.speech", name="Speech", category="Audio")
    engine.create_feature("image.generate", name="Image", category="Image")

    listed = engine.features()

    assert [f.key for f in listed] == [
        "audio.speech",
        "image.generate",
        "image.upscale",
        "video.generate",
    ]


def test_features_lists_uncategorized_features_first_on_every_backend(engine: Engine) -> None:
    engine.create_feature("video.generate", name="Video", category="Video")
    engine.create_feature("chat.complete", name="Chat")
    engine.create_feature("audio.speech", name="Speech", category="Audio")

    listed = engine.features()

    assert [f.key for f in listed] == ["chat.complete", "audio.speech", "video.generate"]


def test_features_lists_only_the_category_asked_for(engine: Engine) -> None:
    engine.create_feature("video.generate", name="Video", category="Video")
    engine.create_feature("image.upscale", name="Upscale", category="Image")
    engine.create_feature("image.generate", name="Image", category="Image")
    engine.create_feature("chat.complete", name="Chat")

    listed = engine.features(category="Image")

    assert [f.key for f in listed] == ["image.generate", "image.upscale"]


def test_update_feature_changes_the_labels_it_is_given_and_keeps_the_rest(
    engine: Engine, clock: ManualClock
) -> None:
    created = engine.create_feature("image.generate", name="Image", category="Image")
    clock.advance(MINUTE)

    updated = engine.update_feature("image.generate", name="Pictures", description="One image.")

    assert (updated.name, updated.category, updated.description) == (
        "Pictures",
        "Image",
        "One image.",
    )
    assert (updated.created_at, updated.updated_at) == (created.created_at, clock.now())
    assert engine.get_feature("image.generate") == updated


def test_update_feature_with_is_active_false_deactivates_and_keeps_it_listed(
    engine: Engine,
) -> None:
    engine.create_feature("image.generate", name="Image")

    updated = engine.update_feature("image.generate", is_active=False)

    assert not updated.is_active
    assert [(f.key, f.is_active) for f in engine.features()] == [("image.generate", False)]


def test_update_feature_with_is_active_true_reactivates_it_for_quotes(engine: Engine) -> None:
    priced_feature(engine, amount=5)
    engine.update_feature("image.generate", is_active=False)

    engine.update_feature("image.generate", is_active=True)

    assert engine.quote("image.generate").amount == credits(5)


def test_update_feature_raises_feature_not_found_for_an_unknown_key(engine: Engine) -> None:
    with pytest.raises(FeatureNotFound):
        engine.update_feature("image.generate", name="Image")

    assert engine.features() == ()


@pytest.mark.parametrize("taken_by", ["active", "inactive"])
def test_create_feature_raises_feature_exists_and_changes_nothing_when_the_key_is_taken(
    engine: Engine, taken_by: str
) -> None:
    engine.create_feature("image.generate", name="Image", category="Image")
    engine.update_feature("image.generate", is_active=taken_by == "active")
    before = engine.features()

    with pytest.raises(FeatureExists) as raised:
        engine.create_feature("image.generate", name="Other", category="Other")

    assert raised.value.key == "image.generate"
    assert engine.features() == before


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("Image.generate", id="uppercase"),
        pytest.param("image-generate", id="dash"),
        pytest.param("image generate", id="space"),
        pytest.param(".image", id="leading-dot"),
        pytest.param("_image", id="leading-underscore"),
        pytest.param("a" * 101, id="too-long"),
        pytest.param(5, id="not-text"),
    ],
)
def test_create_feature_raises_invalid_input_for_a_bad_key(engine: Engine, key: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        engine.create_feature(key, name="Image")

    assert raised.value.field == "key"
    assert engine.features() == ()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("name", "", id="empty-name"),
        pytest.param("name", "   ", id="blank-name"),
        pytest.param("name", "a\nb", id="unprintable-name"),
        pytest.param("name", "x" * 501, id="too-long-name"),
        pytest.param("category", "", id="empty-category"),
        pytest.param("category", "a\tb", id="unprintable-category"),
        pytest.param("description", "x" * 501, id="too-long-description"),
    ],
)
def test_create_feature_raises_invalid_input_for_a_bad_label(
    engine: Engine, field: str, value: str
) -> None:
    labels: dict[str, Any] = {"name": "Image", field: value}

    with pytest.raises(InvalidInput) as raised:
        engine.create_feature("image.generate", **labels)

    assert raised.value.field == field
    assert engine.features() == ()


def test_update_feature_raises_invalid_input_for_a_bad_label_and_changes_nothing(
    engine: Engine,
) -> None:
    created = engine.create_feature("image.generate", name="Image")

    with pytest.raises(InvalidInput) as raised:
        engine.update_feature("image.generate", name=" ")

    assert raised.value.field == "name"
    assert engine.get_feature("image.generate") == created


def test_delete_feature_deletes_a_feature_that_was_never_used(engine: Engine) -> None:
    priced_feature(engine)
    engine.create_feature("video.generate", name="Video")

    deleted = engine.delete_feature("image.generate")

    assert deleted is True
    with pytest.raises(FeatureNotFound):
        engine.get_feature("image.generate")
    with pytest.raises(FeatureNotFound):
        engine.price_history("image.generate")
    assert [f.key for f in engine.features()] == ["video.generate"]


@pytest.mark.parametrize("use", ["charge", "hold"])
def test_delete_feature_only_deactivates_a_feature_that_was_used(engine: Engine, use: str) -> None:
    priced_feature(engine, amount=5)
    funded_account(engine, credits=10)
    if use == "charge":
        engine.charge("user_1", feature="image.generate")
    else:
        engine.hold("user_1", feature="image.generate", ttl=5 * MINUTE)

    deleted = engine.delete_feature("image.generate")

    assert deleted is False
    assert [(f.key, f.is_active) for f in engine.features()] == [("image.generate", False)]
    assert [p.version for p in engine.price_history("image.generate")] == [1]


def test_delete_feature_raises_feature_not_found_for_an_unknown_key(engine: Engine) -> None:
    with pytest.raises(FeatureNotFound):
        engine.delete_feature("image.generate")


# Unknown and inactive features

VERBS: dict[str, Callable[[Engine], object]] = {
    "quote": lambda e: e.quote("image.generate"),
    "check": lambda e: e.check("user_1", "image.generate"),
    "charge": lambda e: e.charge("user_1", feature="image.generate"),
    "hold": lambda e: e.hold("user_1", feature="image.generate", ttl=5 * MINUTE),
}


@pytest.mark.parametrize("verb", list(VERBS))
@pytest.mark.parametrize("feature", ["unknown", "inactive"])
def test_priced_call_raises_feature_not_found_and_writes_nothing_for_a_feature_not_in_service(
    engine: Engine, feature: str, verb: str
) -> None:
    funded_account(engine, credits=10)
    if feature == "inactive":
        priced_feature(engine, amount=5)
        engine.update_feature("image.generate", is_active=False)
    before = state(engine)

    with pytest.raises(FeatureNotFound) as raised:
        VERBS[verb](engine)

    assert raised.value.id == "image.generate"
    assert state(engine) == before
    assert engine.verify().is_clean


# Price versions


def test_set_price_numbers_the_versions_of_each_model_from_one(engine: Engine) -> None:
    engine.create_feature("image.generate", name="Image")

    versions = [
        (p.model, p.version)
        for p in (
            engine.set_price("image.generate", flat(1)),
            engine.set_price("image.generate", flat(2), model="flux-pro"),
            engine.set_price("image.generate", flat(3)),
            engine.set_price("image.generate", flat(4), model="flux-pro"),
            engine.set_price("image.generate", flat(5)),
        )
    ]

    assert versions == [
        (None, 1),
        ("flux-pro", 1),
        (None, 2),
        ("flux-pro", 2),
        (None, 3),
    ]


def test_set_price_accepts_a_rule_object_like_its_data_form(engine: Engine) -> None:
    engine.create_feature("image.generate", name="Image")

    price = engine.set_price("image.generate", Flat(credits=credits("1.5")), minimum="2")

    assert (price.rule, price.minimum) == (Flat(credits=credits("1.5")), credits(2))
    assert engine.quote("image.generate").amount == credits(2)


def test_price_history_keeps_every_version_oldest_first(engine: Engine, clock: ManualClock) -> None:
    engine.create_feature("image.generate", name="Image")
    written = [engine.set_price("image.generate", flat(1))]
    clock.advance(HOUR)
    written.append(engine.set_price("image.generate", flat(2), model="flux-pro"))
    written.append(engine.set_price("image.generate", flat(3)))
    clock.advance(HOUR)
    written.append(engine.retire_price("image.generate", model="flux-pro"))

    history = engine.price_history("image.generate")

    assert history == tuple(written)
    assert [(p.model, p.version, p.rule) for p in history] == [
        (None, 1, Flat(credits=credits(1))),
        ("flux-pro", 1, Flat(credits=credits(2))),
        (None, 2, Flat(credits=credits(3))),
        ("flux-pro", 2, None),
    ]


@pytest.mark.parametrize(
    ("offset", "amount", "version"),
    [
        (timedelta(0), 1, 1),
        (30 * MINUTE, 1, 1),
        (HOUR - TICK, 1, 1),
        (HOUR, 2, 2),
        (90 * MINUTE, 2, 2),
        (2 * HOUR, 3, 3),
    ],
)
def test_quote_at_an_instant_uses_the_version_in_force_then(
    engine: Engine, clock: ManualClock, offset: timedelta, amount: int, version: int
) -> None:
    start = clock.now()
    engine.create_feature("image.generate", name="Image")
    for credit in (1, 2, 3):
        engine.set_price("image.generate", flat(credit))
        clock.advance(HOUR)

    quote = engine.quote("image.generate", at=start + offset)

    assert (quote.amount, quote.price_version) == (credits(amount), version)


def test_quote_before_the_first_version_raises_invalid_input(
    engine: Engine, clock: ManualClock
) -> None:
    start = clock.now()
    clock.advance(HOUR)
    priced_feature(engine)

    with pytest.raises(InvalidInput) as raised:
        engine.quote("image.generate", at=start)

    assert raised.value.field == "model"


def test_set_price_with_a_future_effective_from_applies_only_from_then(
    engine: Engine, clock: ManualClock
) -> None:
    priced_feature(engine, amount=1)
    starts = clock.now() + HOUR

    scheduled = engine.set_price("image.generate", flat(2), effective_from=starts)
    clock.advance(HOUR - TICK)
    before = engine.quote("image.generate")
    listed_before = engine.prices("image.generate")
    clock.advance(TICK)
    after = engine.quote("image.generate")

    assert (scheduled.version, scheduled.effective_from) == (2, starts)
    assert (before.amount, before.price_version) == (credits(1), 1)
    assert [p.version for p in listed_before] == [1]
    assert (after.amount, after.price_id) == (credits(2), scheduled.id)
    assert [p.version for p in engine.prices("image.generate")] == [2]


def test_set_price_raises_invalid_input_for_an_effective_from_in_the_past(
    engine: Engine, clock: ManualClock
) -> None:
    priced_feature(engine, amount=1)
    clock.advance(HOUR)
    before = engine.price_history("image.generate")

    with pytest.raises(InvalidInput) as raised:
        engine.set_price("image.generate", flat(2), effective_from=clock.now() - TICK)

    assert raised.value.field == "effective_from"
    assert engine.price_history("image.generate") == before
    assert engine.quote("image.generate").amount == credits(1)


def test_set_price_raises_feature_not_found_for_an_unknown_feature(engine: Engine) -> None:
    with pytest.raises(FeatureNotFound):
        engine.set_price("image.generate", flat(1))

    assert engine.features() == ()


def test_retire_price_makes_the_model_fall_back_to_the_default(engine: Engine) -> None:
    priced_feature(engine, amount=2)
    engine.set_price("image.generate", flat(4), model="flux-pro")

    retired = engine.retire_price("image.generate", model="flux-pro")

    quote = engine.quote("image.generate", model="flux-pro")
    assert (retired.model, retired.version, retired.rule) == ("flux-pro", 2, None)
    assert (quote.amount, quote.price_version) == (credits(2), 1)
    assert [p.model for p in engine.prices("image.generate")] == [None]


def test_retire_price_of_the_only_price_refuses_the_model_afterwards(engine: Engine) -> None:
    engine.create_feature("video.generate", name="Video")
    engine.set_price("video.generate", flat(8), model="hailuo")
    engine.set_price("video.generate", flat(15), model="veo2")

    engine.retire_price("video.generate", model="hailuo")

    with pytest.raises(InvalidInput) as raised:
        engine.quote("video.generate", model="hailuo")
    assert raised.value.field == "model"
    assert engine.quote("video.generate", model="veo2").amount == credits(15)


def test_retire_price_of_the_default_refuses_models_without_a_price_of_their_own(
    engine: Engine,
) -> None:
    priced_feature(engine, amount=2)
    engine.set_price("image.generate", flat(4), model="flux-pro")

    engine.retire_price("image.generate")

    with pytest.raises(InvalidInput):
        engine.quote("image.generate", model="sdxl")
    assert engine.quote("image.generate", model="flux-pro").amount == credits(4)


@pytest.mark.parametrize("model", ["never-priced", "retired"])
def test_retire_price_raises_invalid_input_when_no_such_price_is_in_force(
    engine: Engine, model: str
) -> None:
    priced_feature(engine, amount=2)
    engine.set_price("image.generate", flat(4), model="retired")
    engine.retire_price("image.generate", model="retired")
    before = engine.price_history("image.generate")

    with pytest.raises(InvalidInput) as raised:
        engine.retire_price("image.generate", model=model)

    assert raised.value.field == "model"
    assert engine.price_history("image.generate") == before


# Which price a model pays

PRECEDENCE = [
    ("gpt-4o-mini", "gpt-4o-mini", 4),
    ("gpt-4o-mini-2024-07-18", "gpt-4o-mini*", 3),
    ("gpt-4o-2024-08-06", "gpt-4o*", 2),
    ("gpt-4o", "gpt-4o*", 2),
    ("claude-3", None, 1),
    (None, None, 1),
]


@pytest.mark.parametrize(("model", "priced_as", "amount"), PRECEDENCE)
def test_charge_pays_the_exact_model_then_the_longest_family_then_the_default(
    engine: Engine, model: str | None, priced_as: str | None, amount: int
) -> None:
    funded_account(engine, credits=10)
    engine.create_feature("chat.complete", name="Chat")
    ids = {
        price_model: engine.set_price("chat.complete", flat(credit), model=price_model).id
        for price_model, credit in (
            (None, 1),
            ("gpt-4o*", 2),
            ("gpt-4o-mini*", 3),
            ("gpt-4o-mini", 4),
        )
    }

    receipt = engine.charge("user_1", feature="chat.complete", model=model)

    assert receipt.credits_used == credits(amount)
    assert receipt.entry.price_id == ids[priced_as]


@pytest.mark.parametrize("model", ["sora", None])
def test_charge_raises_invalid_input_and_takes_nothing_for_a_model_without_a_price(
    engine: Engine, model: str | None
) -> None:
    funded_account(engine, credits=10)
    engine.create_feature("video.generate", name="Video")
    engine.set_price("video.generate", flat(8), model="hailuo")
    before = state(engine)

    with pytest.raises(InvalidInput) as raised:
        engine.charge("user_1", feature="video.generate", model=model)

    assert raised.value.field == "model"
    assert state(engine) == before


# Catalog files

GOOD = feature_table("image.generate", 6)
NEW = feature_table("audio.speech", 1)
BAD_FILES = [
    pytest.param(catalog_file(GOOD, NEW, NEW), "features[2].key", id="duplicate-key"),
    pytest.param(
        catalog_file(GOOD, feature_table("Video Generate")), "features[1].key", id="bad-key"
    ),
    pytest.param(
        catalog_file(GOOD, feature_table("video.generate", "-1")),
        "features[1].prices[0].credits",
        id="negative-price",
    ),
    pytest.param(
        catalog_file(
            GOOD,
            {
                "key": "video.generate",
                "name": "Video",
                "prices": [
                    {
                        "rule": "tiered",
                        "tiers": [{"up_to": 5, "credits": "25"}, {"up_to": 5, "credits": "50"}],
                    }
                ],
            },
        ),
        "features[1].prices[0].tiers[1].up_to",
        id="overlapping-tiers",
    ),
    pytest.param(
        catalog_file(
            GOOD,
            {
                "key": "video.generate",
                "name": "Video",
                "prices": [
                    {
                        "rule": "tiered",
                        "tiers": [{"up_to": 10, "credits": "25"}, {"up_to": 5, "credits": "50"}],
                    }
                ],
            },
        ),
        "features[1].prices[0].tiers[1].up_to",
        id="unordered-tiers",
    ),
    pytest.param(
        catalog_file(
            GOOD, {"key": "video.generate", "name": "Video", "prices": [flat(1) | {"credits": 0.5}]}
        ),
        "features[1].prices[0].credits",
        id="float-amount",
    ),
    pytest.param(
        catalog_file(
            GOOD, {"key": "video.generate", "name": "Video", "prices": [flat(1) | {"amount": "1"}]}
        ),
        "features[1].prices[0].amount",
        id="unknown-price-field",
    ),
    pytest.param(
        catalog_file(GOOD, feature_table("video.generate", enabled=True)),
        "features[1].enabled",
        id="unknown-feature-field",
    ),
    pytest.param(
        {**catalog_file(GOOD), "currency": "EUR"}, "catalog.currency", id="unknown-catalog-field"
    ),
    pytest.param(
        catalog_file(GOOD, {"key": "video.generate", "prices": [flat(1)]}),
        "features[1].name",
        id="missing-name",
    ),
    pytest.param(
        catalog_file(GOOD, NEW, welcome="0"), "welcome.credits", id="zero-welcome-credits"
    ),
]


@pytest.mark.parametrize(("bad", "field"), BAD_FILES)
def test_apply_catalog_raises_invalid_input_and_changes_nothing_for_a_bad_file(
    engine: Engine, bad: dict[str, object], field: str
) -> None:
    engine.apply_catalog(catalog_file(feature_table("image.generate", 5), welcome="10"))
    before = engine.export_catalog()

    with pytest.raises(InvalidInput) as raised:
        engine.apply_catalog(bad)

    assert raised.value.field == field
    assert engine.export_catalog() == before
    assert [p.version for p in engine.price_history("image.generate")] == [1]


def test_apply_catalog_dry_run_lists_the_changes_and_writes_nothing(engine: Engine) -> None:
    engine.apply_catalog(catalog_file(feature_table("image.generate", 5)))
    before = engine.export_catalog()
    wanted = catalog_file(feature_table("image.generate", 6), NEW, welcome="10")

    planned = engine.apply_catalog(wanted, dry_run=True)

    assert [(c.kind, c.feature.key if c.feature else None) for c in planned] == [
        (ChangeKind.SET_WELCOME, None),
        (ChangeKind.CREATE_FEATURE, "audio.speech"),
        (ChangeKind.SET_PRICE, "audio.speech"),
        (ChangeKind.SET_PRICE, "image.generate"),
    ]
    assert engine.export_catalog() == before
    assert [p.version for p in engine.price_history("image.generate")] == [1]
    assert engine.apply_catalog(wanted) == planned


def test_apply_catalog_writes_the_features_prices_and_welcome_of_the_file(
    engine: Engine,
) -> None:
    wanted = catalog_file(
        feature_table("image.generate", 5, category="Image", description="One image."),
        feature_table("audio.speech", "0.5", active=False),
        welcome="10",
    )

    engine.apply_catalog(wanted)

    exported = engine.export_catalog()
    assert exported.welcome == credits(10)
    assert [(f.key, f.category, f.description, f.is_active) for f in exported.features] == [
        ("audio.speech", None, None, False),
        ("image.generate", "Image", "One image.", True),
    ]
    assert engine.quote("image.generate").amount == credits(5)
    assert [p.rule for p in engine.prices("audio.speech")] == [Flat(credits=credits("0.5"))]


def test_apply_catalog_returns_no_changes_when_applied_a_second_time(engine: Engine) -> None:
    wanted = catalog_file(feature_table("image.generate", 5), NEW, welcome="10")
    engine.apply_catalog(wanted)
    before = engine.export_catalog()

    again = engine.apply_catalog(wanted)

    assert again == ()
    assert engine.export_catalog() == before
    assert [p.version for p in engine.price_history("image.generate")] == [1]


def test_apply_catalog_gives_a_changed_price_a_new_version_and_old_charges_keep_theirs(
    engine: Engine,
) -> None:
    engine.apply_catalog(catalog_file(feature_table("image.generate", 5)))
    funded_account(engine, credits=20)
    old = engine.charge("user_1", feature="image.generate")

    changes = engine.apply_catalog(catalog_file(feature_table("image.generate", 6)))
    new = engine.charge("user_1", feature="image.generate")

    first, second = engine.price_history("image.generate")
    assert [(c.kind, c.model) for c in changes] == [(ChangeKind.SET_PRICE, None)]
    assert [(p.version, p.rule) for p in (first, second)] == [
        (1, Flat(credits=credits(5))),
        (2, Flat(credits=credits(6))),
    ]
    assert engine.get_entry(old.entry.id).price_id == first.id
    assert (new.credits_used, new.entry.price_id) == (credits(6), second.id)


def test_apply_catalog_retires_a_price_the_file_dropped(engine: Engine) -> None:
    two_prices = feature_table("image.generate", 2)
    two_prices["prices"] = [flat(2), {"model": "flux-pro", **flat(4)}]
    engine.apply_catalog(catalog_file(two_prices))

    changes = engine.apply_catalog(catalog_file(feature_table("image.generate", 2)))

    assert [(c.kind, c.model) for c in changes] == [(ChangeKind.RETIRE_PRICE, "flux-pro")]
    assert engine.quote("image.generate", model="flux-pro").amount == credits(2)


def test_apply_catalog_deletes_an_unused_feature_the_file_dropped(engine: Engine) -> None:
    engine.apply_catalog(catalog_file(feature_table("image.generate"), NEW))

    changes = engine.apply_catalog(catalog_file(feature_table("image.generate")))

    assert [(c.kind, c.feature.key if c.feature else None) for c in changes] == [
        (ChangeKind.REMOVE_FEATURE, "audio.speech")
    ]
    with pytest.raises(FeatureNotFound):
        engine.get_feature("audio.speech")
    assert [f.key for f in engine.export_catalog().features] == ["image.generate"]


def test_apply_catalog_deactivates_a_used_feature_the_file_dropped(engine: Engine) -> None:
    engine.apply_catalog(catalog_file(feature_table("image.generate"), NEW))
    funded_account(engine, credits=10)
    engine.charge("user_1", feature="audio.speech")

    changes = engine.apply_catalog(catalog_file(feature_table("image.generate")))

    assert [c.kind for c in changes] == [ChangeKind.REMOVE_FEATURE]
    assert not engine.get_feature("audio.speech").is_active
    with pytest.raises(FeatureNotFound):
        engine.quote("audio.speech")
    assert engine.apply_catalog(catalog_file(feature_table("image.generate"))) == ()


def test_apply_catalog_of_an_export_reproduces_it_on_a_fresh_engine(
    engine: Engine, fresh_engine: Engine
) -> None:
    engine.seed("demo")
    engine.create_feature("legacy.tool", name="Legacy tool", category="Old")
    engine.set_price("legacy.tool", flat("0.25"), minimum="1")
    engine.update_feature("legacy.tool", is_active=False)
    exported = engine.export_catalog()
    written = tomli_w.dumps(catalog_data(exported))

    fresh_engine.apply_catalog(tomllib.loads(written))

    assert fresh_engine.export_catalog() == exported
    assert fresh_engine.apply_catalog(tomllib.loads(written)) == ()


# Welcome credits


def test_create_account_grants_the_welcome_credits_of_the_catalog(engine: Engine) -> None:
    engine.apply_catalog(catalog_file(welcome="10"))

    engine.create_account("user_1")

    grants = engine.history("user_1").items
    assert [(e.kind, e.amount, e.source) for e in grants] == [
        (EntryKind.GRANT, credits(10), "welcome")
    ]
    assert engine.balance("user_1").balance == credits(10)


def test_create_account_grants_welcome_credits_only_when_it_creates_the_account(
    engine: Engine,
) -> None:
    engine.apply_catalog(catalog_file(welcome="10"))
    engine.create_account("user_1")

    engine.create_account("user_1")

    assert len(engine.history("user_1").items) == 1
    assert engine.balance("user_1").balance == credits(10)


def test_create_account_grants_nothing_to_an_account_made_before_the_welcome_setting(
    engine: Engine,
) -> None:
    engine.create_account("user_1")
    engine.apply_catalog(catalog_file(welcome="10"))

    engine.create_account("user_1")

    assert engine.history("user_1").items == ()
    assert engine.balance("user_1").balance == Credits(0)


def test_create_account_grants_nothing_once_the_welcome_setting_is_removed(
    engine: Engine,
) -> None:
    engine.apply_catalog(catalog_file(welcome="10"))
    engine.apply_catalog(catalog_file())

    engine.create_account("user_1")

    assert engine.balance("user_1").balance == Credits(0)

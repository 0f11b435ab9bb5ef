"""Features, versioned prices, quotes, checks and catalog files: equal on both faces."""

from datetime import timedelta

from creditgate import (
    Credits,
    Feature,
    FeatureExists,
    FeatureNotFound,
    Flat,
    InvalidInput,
    Ledger,
    PerBlock,
    Price,
    TokenCounts,
)
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

STUDIO = {
    "welcome": {"credits": "10"},
    "features": [
        {
            "key": "image.generate",
            "name": "Image generation",
            "category": "Image",
            "prices": [
                {"rule": "flat", "credits": "5"},
                {"model": "flux-pro", "rule": "flat", "credits": "12", "minimum": "12"},
            ],
        },
        {
            "key": "chat.complete",
            "name": "Chat",
            "prices": [{"rule": "tokens", "input": "1", "output": "3", "per_tokens": 1000}],
        },
    ],
}


def _feature_life(ledger: Ledger) -> tuple[object, ...]:
    created = ledger.create_feature("image.upscale", name="Upscale", category="Image")
    updated = ledger.update_feature("image.upscale", description="4x", is_active=False)
    return created, updated, ledger.get_feature("image.upscale"), ledger.features()


def test_create_feature_answers_equal_features_through_update_and_get(faces: Faces) -> None:
    embedded, remote = faces.both(_feature_life)

    assert embedded == remote
    assert isinstance(remote[1], Feature)
    assert remote[1].is_active is False


def test_features_answers_equal_features_of_one_category(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))

    embedded, remote = faces.both(lambda ledger: ledger.features(category="Video"))

    assert embedded == remote
    assert [feature.key for feature in remote] == ["lipsync.generate", "video.generate"]


@ON_SQLITE_ONLY
def test_create_feature_raises_equal_feature_exists_when_the_key_is_taken(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_feature("image.upscale", name="Upscale"))

    embedded, remote = faces.each(
        lambda ledger: ledger.create_feature("image.upscale", name="Again")
    )

    assert embedded == remote == FeatureExists(key="image.upscale")


def test_delete_feature_answers_equally_when_unused_and_when_used(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))
    faces.arrange(lambda engine: funded_account(engine, "user_1", 100))
    faces.arrange(lambda engine: engine.charge("user_1", feature="image.upscale"))

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.delete_feature("image.upscale"),
            ledger.delete_feature("image.text_to_image"),
            ledger.features(category="Image"),
        )
    )

    assert embedded == remote
    assert remote[:2] == (False, True)


@ON_SQLITE_ONLY
def test_get_feature_raises_equal_feature_not_found(faces: Faces) -> None:
    embedded, remote = faces.each(lambda ledger: ledger.get_feature("image.nothing"))

    assert embedded == remote == FeatureNotFound("image.nothing")


@ON_SQLITE_ONLY
def test_charge_raises_equal_feature_not_found_when_the_feature_is_unknown(
    faces: Faces,
) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 100))

    embedded, remote = faces.each(
        lambda ledger: ledger.charge("user_1", feature="image.nothing", quantity=1)
    )

    assert embedded == remote == FeatureNotFound("image.nothing")


def _pricing(ledger: Ledger) -> tuple[object, ...]:
    ledger.create_feature("audio.generate", name="Audio")
    first = ledger.set_price(
        "audio.generate", PerBlock(credits=Credits.parse(1), block=15, unit="s")
    )
    model = ledger.set_price(
        "audio.generate", {"rule": "flat", "credits": "2"}, model="tts-*", minimum="2"
    )
    retired = ledger.retire_price("audio.generate", model="tts-*")
    return first, model, retired, ledger.prices("audio.generate")


def test_set_price_answers_equal_prices_through_retire(faces: Faces) -> None:
    embedded, remote = faces.both(_pricing)

    assert embedded == remote
    assert isinstance(remote[2], Price)
    assert remote[2].rule is None


def test_price_history_answers_equal_versions(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))
    faces.arrange(lambda engine: engine.set_price("image.upscale", Flat(credits=Credits.parse(6))))

    embedded, remote = faces.both(lambda ledger: ledger.price_history("image.upscale"))

    assert embedded == remote
    assert [price.version for price in remote] == [1, 2]


def test_set_price_answers_equal_prices_when_it_takes_effect_later(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))
    later = faces.clock.now() + timedelta(days=1)

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.set_price(
                "image.upscale", {"rule": "flat", "credits": "6"}, effective_from=later
            ),
            ledger.retire_price("image.upscale", effective_from=later + timedelta(days=1)),
            ledger.prices("image.upscale"),
            ledger.price_history("image.upscale"),
        )
    )

    assert embedded == remote
    assert [price.version for price in remote[3]] == [1, 2, 3]


def test_prices_answers_equal_prices_at_an_instant(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))
    at = faces.clock.now() + timedelta(hours=1)

    embedded, remote = faces.both(lambda ledger: ledger.prices("video.generate", at=at))

    assert embedded == remote
    assert len(remote) == 1


def test_quote_answers_equal_quotes(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.apply_catalog(STUDIO))

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.quote("image.generate", model="flux-pro"),
            ledger.quote("chat.complete", quantity=TokenCounts(input=1200, output=300)),
            ledger.quote("chat.complete", quantity={"input": 10, "output": 1}),
        )
    )

    assert embedded == remote
    assert remote[1].amount == Credits.parse("2.1")


def test_quote_answers_equal_quotes_at_an_instant(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.apply_catalog(STUDIO))
    at = faces.clock.now() + timedelta(hours=1)

    embedded, remote = faces.both(lambda ledger: ledger.quote("image.generate", at=at))

    assert embedded == remote
    assert remote.amount == Credits.parse(5)


@ON_SQLITE_ONLY
def test_quote_raises_equal_invalid_input_when_no_price_covers_the_model(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_feature("image.generate", name="Image"))

    embedded, remote = faces.each(lambda ledger: ledger.quote("image.generate", model="x"))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)


def test_check_answers_equal_checks(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.apply_catalog(STUDIO))
    faces.arrange(lambda engine: engine.create_account("user_1"))

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.check("user_1", "image.generate"),
            ledger.check("user_1", "image.generate", model="flux-pro"),
        )
    )

    assert embedded == remote
    assert [check.has_enough for check in remote] == [True, False]


def test_export_catalog_answers_equal_catalogs(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.seed("media-studio"))
    faces.arrange(lambda engine: engine.update_feature("image.upscale", is_active=False))

    embedded, remote = faces.both(lambda ledger: ledger.export_catalog())

    assert embedded == remote
    assert [(p.key, p.credits) for p in remote.plans] == [
        ("basic", Credits.parse(500)),
        ("free", Credits.parse(60)),
        ("premium", Credits.parse(1200)),
    ]


def test_apply_catalog_makes_equal_catalogs(faces: Faces) -> None:
    embedded, remote = faces.both(
        lambda ledger: (
            ledger.apply_catalog(STUDIO, dry_run=True),
            ledger.features(),
            ledger.apply_catalog(STUDIO),
            ledger.export_catalog(),
            ledger.apply_catalog(ledger.export_catalog()),
        )
    )

    assert [(c.kind, c.detail) for c in embedded[0]] == [(c.kind, c.detail) for c in remote[0]]
    assert [(c.kind, c.detail) for c in embedded[2]] == [(c.kind, c.detail) for c in remote[2]]
    assert embedded[1] == remote[1] == ()
    assert embedded[3] == remote[3]
    assert embedded[4] == remote[4] == ()


def test_apply_catalog_answers_equal_changes(faces: Faces) -> None:
    embedded, remote = faces.both(lambda ledger: ledger.apply_catalog(STUDIO))

    assert embedded == remote


@ON_SQLITE_ONLY
def test_apply_catalog_raises_equal_invalid_input_when_the_file_is_bad(faces: Faces) -> None:
    bad = {"features": [{"key": "image.generate", "name": "Image", "prices": [{"rule": "x"}]}]}

    embedded, remote = faces.each(lambda ledger: ledger.apply_catalog(bad))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)

"""Presets: shipped catalogs that load, round-trip, and quote the numbers their sources give."""

from datetime import UTC, datetime
from importlib import resources

import pytest

from creditgate import Credits, InvalidInput
from creditgate.domain.catalog import Catalog, catalog_data, parse_catalog
from creditgate.domain.pricing import (
    RULE_KINDS,
    Flat,
    PerBlock,
    Price,
    PriceId,
    Quantity,
    Rounding,
    Tiered,
    TokenCounts,
    Tokens,
    quote,
    select_price,
)
from creditgate.presets import PRESETS, load, text

START = datetime(2026, 1, 1, tzinfo=UTC)


def quoted(
    catalog: Catalog, feature: str, *, model: str | None = None, quantity: Quantity | None = None
) -> Credits:
    """What one call of `feature` costs under the catalog, through the pure pricing domain."""
    spec = next(f for f in catalog.features if f.key == feature)
    prices = [
        Price(
            id=PriceId(i),
            feature=feature,
            model=p.model,
            version=1,
            rule=p.rule,
            minimum=p.minimum,
            effective_from=START,
            created_at=START,
        )
        for i, p in enumerate(spec.prices, start=1)
    ]
    return quote(select_price(feature, prices, model), model=model, quantity=quantity).amount


def test_presets_are_sorted_and_match_the_shipped_files() -> None:
    shipped = {
        entry.name.removesuffix(".toml")
        for entry in resources.files("creditgate.presets").iterdir()
        if entry.name.endswith(".toml")
    }

    assert list(PRESETS) == sorted(PRESETS)
    assert set(PRESETS) == shipped


@pytest.mark.parametrize("name", PRESETS)
def test_load_reads_a_catalog_with_features(name: str) -> None:
    catalog = load(name)

    assert catalog.features
    assert all(feature.prices for feature in catalog.features)


@pytest.mark.parametrize("name", PRESETS)
def test_catalog_data_reads_back_to_an_equal_catalog(name: str) -> None:
    catalog = load(name)

    again = parse_catalog(catalog_data(catalog))

    assert again == catalog


@pytest.mark.parametrize("name", PRESETS)
def test_text_opens_with_a_comment_naming_the_app(name: str) -> None:
    shown = text(name)

    assert shown.startswith("# ")
    assert ":" in shown.splitlines()[0]


@pytest.mark.parametrize("name", ["missing", "", "demo.toml", "../demo", "Demo", "__init__"])
def test_load_refuses_an_unknown_name(name: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        load(name)

    assert raised.value.field == "preset"
    assert raised.value.reason == f"one of: {', '.join(PRESETS)}"


def test_text_refuses_an_unknown_name() -> None:
    with pytest.raises(InvalidInput) as raised:
        text("missing")

    assert raised.value.field == "preset"


@pytest.mark.parametrize(
    ("name", "welcome"),
    [
        ("media-studio", None),
        ("image-models", "50"),
        ("org-features", None),
        ("video-models", "50"),
        ("token-credits", None),
        ("demo", "25"),
    ],
)
def test_welcome_credits_are_the_source_numbers(name: str, welcome: str | None) -> None:
    catalog = load(name)

    assert catalog.welcome == (None if welcome is None else Credits.parse(welcome))


# Each plan: key, credits per cycle, prices in cents by interval, and whether it is the default.
SEED_PLANS = {
    "media-studio": [
        ("basic", "500", {"month": 1500, "year": 21000}, False),
        ("free", "60", {"month": 0}, True),
        ("premium", "1200", {"month": 2900, "year": 29000}, False),
    ],
    "token-credits": [
        ("free", "5", {"month": 0}, True),
        ("pro", "100", {}, False),
    ],
}


@pytest.mark.parametrize("name", PRESETS)
def test_plans_are_the_source_numbers(name: str) -> None:
    catalog = load(name)

    found = [
        (p.key, str(p.credits), {i.value: cents for i, cents in p.prices.items()}, p.is_default)
        for p in catalog.plans
    ]
    assert found == SEED_PLANS.get(name, [])
    assert all(p.rollover.value == "none" and p.cycle.value == "month" for p in catalog.plans)


SEED_PACKS: dict[str, list[tuple[str, str, int, str | None, bool]]] = {
    "image-models": [
        ("starter", "25", 499, None, False),
        ("creator", "110", 1499, "best value", False),
        ("pro", "300", 2999, None, False),
        ("enterprise", "650", 4999, None, False),
    ],
    "video-models": [
        ("starter", "50", 0, None, True),
        ("pro", "200", 2999, "most popular", False),
        ("enterprise", "1000", 9999, None, False),
    ],
}
"""The packs each source sold: key, credits, price in cents, badge, free once."""


@pytest.mark.parametrize("name", PRESETS)
def test_packs_are_the_source_numbers_in_price_order(name: str) -> None:
    catalog = load(name)

    found = [
        (p.key, str(p.total_credits), p.price_minor, p.badge, p.is_free_once)
        for p in sorted(catalog.packs, key=lambda p: p.price_minor)
    ]
    assert found == SEED_PACKS.get(name, [])
    assert all(p.currency == "usd" and p.expires_after_days is None for p in catalog.packs)


SEED_GUESTS = {"image-models": [(None, 3, 24 * 3600)]}
"""The guest quotas each source had: feature (None: every one), uses, window in seconds."""

SEED_LOW_BALANCE = {"image-models": "10"}
"""The line below which each source warned its users."""


@pytest.mark.parametrize("name", PRESETS)
def test_guest_quotas_and_low_balance_lines_are_the_source_numbers(name: str) -> None:
    catalog = load(name)

    found = [(q.feature, q.uses, q.window_s) for q in catalog.guests]
    assert found == SEED_GUESTS.get(name, [])
    low = SEED_LOW_BALANCE.get(name)
    assert catalog.low_balance == (None if low is None else Credits.parse(low))


@pytest.mark.parametrize(
    ("name", "feature", "model", "quantity", "expected"),
    [
        ("media-studio", "image.text_to_image", None, None, "5"),
        ("media-studio", "image.image_to_image", None, None, "5"),
        ("media-studio", "image.upscale", None, None, "5"),
        ("media-studio", "video.generate", None, 5, "25"),
        ("media-studio", "video.generate", None, 1, "25"),
        ("media-studio", "video.generate", None, 8, "50"),
        ("media-studio", "video.generate", None, 10, "50"),
        ("media-studio", "audio.generate", None, 40, "3"),
        ("media-studio", "audio.generate", None, 15, "1"),
        ("media-studio", "audio.generate", None, 16, "2"),
        ("media-studio", "lipsync.generate", None, 25, "60"),
        ("media-studio", "lipsync.generate", None, 10, "20"),
        ("image-models", "image.generate", "nano-banana", None, "0.5"),
        ("image-models", "image.generate", "flux-dev", None, "1"),
        ("image-models", "image.generate", "lora-normal", None, "1"),
        ("image-models", "image.generate", "lora-context", None, "1"),
        ("image-models", "image.generate", "gemini-flash", None, "1"),
        ("image-models", "image.generate", "nano-banana-pro", None, "2"),
        ("video-models", "video.generate", "hailuo", None, "8"),
        ("video-models", "video.generate", "veo2", None, "15"),
        ("video-models", "map.animate", "hailuo", None, "5"),
        ("video-models", "map.animate", "veo2", None, "10"),
        ("video-models", "image.generate", None, None, "3"),
        ("video-models", "image.generate", "any-image-model", None, "3"),
        ("token-credits", "code.generate", None, 2_000, "1"),
        ("token-credits", "code.generate", None, 10_000, "5"),
        ("token-credits", "code.generate", None, 200_000, "100"),
        ("token-credits", "code.generate", None, 1, "1"),
        ("token-credits", "code.generate", None, 0, "1"),
        ("token-credits", "code.generate", None, 2_001, "1.001"),
        ("token-credits", "code.review", None, 2_000, "1"),
        ("token-credits", "code.review", None, TokenCounts(input=1_500, output=500), "1"),
        ("token-credits", "code.review", None, TokenCounts(input=6_000, output=4_000), "5"),
    ],
)
def test_quote_gives_the_source_numbers(
    name: str, feature: str, model: str | None, quantity: Quantity | None, expected: str
) -> None:
    catalog = load(name)

    amount = quoted(catalog, feature, model=model, quantity=quantity)

    assert amount == Credits.parse(expected)


@pytest.mark.parametrize(
    ("name", "feature", "model", "quantity", "field"),
    [
        ("media-studio", "video.generate", None, 11, "quantity"),
        ("image-models", "image.generate", "dall-e-3", None, "model"),
        ("image-models", "image.generate", None, None, "model"),
        ("video-models", "video.generate", "sora", None, "model"),
        ("video-models", "video.generate", None, None, "model"),
        ("video-models", "map.animate", "hailuo-02", None, "model"),
    ],
)
def test_quote_refuses_what_the_source_does_not_price(
    name: str, feature: str, model: str | None, quantity: Quantity | None, field: str
) -> None:
    catalog = load(name)

    with pytest.raises(InvalidInput) as raised:
        quoted(catalog, feature, model=model, quantity=quantity)

    assert raised.value.field == field


def test_two_half_credit_images_sum_to_exactly_one_credit() -> None:
    catalog = load("image-models")

    first = quoted(catalog, "image.generate", model="nano-banana")
    second = quoted(catalog, "image.generate", model="nano-banana")

    assert first + second == Credits.parse("1")


def test_org_features_keep_the_source_keys_and_categories() -> None:
    expected = {
        "seedream_text_to_image": "Image Generation",
        "seedream_image_to_image": "Image Generation",
        "seedream_text_to_video": "Video Generation",
        "seedream_image_to_video": "Video Generation",
        "kling_text_to_video": "Video Generation",
        "kling_image_to_video": "Video Generation",
        "kling_multi_image_to_video": "Video Generation",
        "kling_motion_control": "Video Generation",
        "ai_voice_generation": "AI Voice",
        "face_swap": "Advanced Tools",
        "skin_enhancer": "Advanced Tools",
        "fps_boost": "Advanced Tools",
    }

    catalog = load("org-features")

    assert {f.key: f.category for f in catalog.features} == expected
    assert all(
        len(f.prices) == 1 and f.prices[0].model is None and isinstance(f.prices[0].rule, Flat)
        for f in catalog.features
    )


def test_demo_shows_every_rule_kind_and_option() -> None:
    catalog = load("demo")

    prices = [p for f in catalog.features for p in f.prices]
    rules = [p.rule for p in prices]

    assert {r.kind for r in rules} == set(RULE_KINDS)
    assert any(p.minimum is not None for p in prices)
    assert any(isinstance(r, PerBlock) and r.rounding is not Rounding.UP for r in rules)
    assert any(isinstance(r, Tiered) and r.tiers[-1].up_to is None for r in rules)
    assert any(isinstance(r, Tokens) and r.cached_input is not None for r in rules)
    assert {p.model for p in prices if isinstance(p.rule, Tokens)} == {
        None,
        "gpt-4o*",
        "gpt-4o-mini*",
    }
    assert any(isinstance(p.rule, Flat) and p.model is not None for p in prices)


@pytest.mark.parametrize(
    ("feature", "model", "quantity", "expected"),
    [
        ("image.generate", None, None, "2"),
        ("image.generate", "some-model", None, "2"),
        ("image.generate", "flux-schnell", None, "0.5"),
        ("image.generate", "flux-pro", None, "4"),
        ("video.generate", None, 5, "20"),
        ("video.generate", None, 10, "40"),
        ("video.generate", None, 11, "80"),
        ("video.generate", None, 600, "80"),
        ("audio.speech", None, 40, "3"),
        ("audio.transcribe", None, 89, "0.5"),
        ("audio.transcribe", None, 90, "1"),
        ("audio.transcribe", None, 29, "0.5"),
        (
            "chat.complete",
            "gpt-4o-2024-08-06",
            TokenCounts(input=2_000, cached_input=1_000, output=500),
            "1.125",
        ),
        (
            "chat.complete",
            "gpt-4o-mini-2024-07-18",
            TokenCounts(input=1_000, cached_input=1_000, output=1_000),
            "0.083",
        ),
        ("chat.complete", "gpt-4o-mini", TokenCounts(input=1), "0.001"),
        ("chat.complete", "claude-sonnet", TokenCounts(input=1_000, output=1_000), "4"),
        ("chat.complete", None, TokenCounts(input=500, output=100), "0.8"),
        ("chat.complete", "claude-sonnet", TokenCounts(input=1), "0.01"),
    ],
)
def test_demo_quotes_pick_the_most_specific_price(
    feature: str, model: str | None, quantity: Quantity | None, expected: str
) -> None:
    catalog = load("demo")

    amount = quoted(catalog, feature, model=model, quantity=quantity)

    assert amount == Credits.parse(expected)

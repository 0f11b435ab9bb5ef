"""The catalog file: checking it whole, writing it back, and planning the changes it makes."""

from dataclasses import replace

import pytest

from creditgate import Credits, InvalidInput
from creditgate.domain.catalog import (
    Catalog,
    ChangeKind,
    FeatureSpec,
    catalog_data,
    parse_catalog,
    plan_changes,
)
from creditgate.domain.pricing import Flat, PerBlock, PriceSpec, Tier, Tiered, Tokens

FILE: dict[str, object] = {
    "welcome": {"credits": "10"},
    "features": [
        {
            "key": "video.generate",
            "name": "Video",
            "category": "media",
            "prices": [
                {
                    "model": "veo2",
                    "rule": "tiered",
                    "unit": "s",
                    "tiers": [{"up_to": 5, "credits": 25}, {"up_to": 10, "credits": 50}],
                },
                {"rule": "flat", "credits": "30"},
            ],
        },
        {
            "key": "audio.tts",
            "name": "Speech",
            "description": "Text to speech",
            "active": False,
            "prices": [{"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}],
        },
        {
            "key": "llm.chat",
            "name": "Chat",
            "prices": [
                {"model": "gpt-4o*", "rule": "tokens", "input": "0.25", "output": "1"},
                {
                    "model": "gpt-4o-mini",
                    "rule": "tokens",
                    "input": "0.1",
                    "output": "0.4",
                    "minimum": "0.001",
                },
            ],
        },
    ],
}
"""A small catalog file as `tomllib` would read it."""

VIDEO = FeatureSpec(
    key="video.generate",
    name="Video",
    category="media",
    prices=(
        PriceSpec(model=None, rule=Flat(credits=Credits(30_000))),
        PriceSpec(
            model="veo2",
            rule=Tiered(
                tiers=(
                    Tier(up_to=5, credits=Credits(25_000)),
                    Tier(up_to=10, credits=Credits(50_000)),
                ),
                unit="s",
            ),
        ),
    ),
)
AUDIO = FeatureSpec(
    key="audio.tts",
    name="Speech",
    description="Text to speech",
    is_active=False,
    prices=(PriceSpec(model=None, rule=PerBlock(credits=Credits(1000), block=15, unit="s")),),
)
CHAT = FeatureSpec(
    key="llm.chat",
    name="Chat",
    prices=(
        PriceSpec(model="gpt-4o*", rule=Tokens(input=Credits(250), output=Credits(1000))),
        PriceSpec(
            model="gpt-4o-mini",
            rule=Tokens(input=Credits(100), output=Credits(400)),
            minimum=Credits(1),
        ),
    ),
)
CATALOG = Catalog(features=(AUDIO, CHAT, VIDEO), welcome=Credits(10_000))
"""What FILE means, written out by hand."""


def feature(key: str, **fields: object) -> dict[str, object]:
    return {"key": key, "name": key.title(), **fields}


def flat(credits: str, model: str | None = None) -> dict[str, object]:
    price: dict[str, object] = {"rule": "flat", "credits": credits}
    if model is not None:
        price["model"] = model
    return price


def spec(key: str, *prices: PriceSpec, active: bool = True) -> FeatureSpec:
    return FeatureSpec(key=key, name=key.title(), is_active=active, prices=prices)


def flat_spec(units: int, model: str | None = None) -> PriceSpec:
    return PriceSpec(model=model, rule=Flat(credits=Credits(units)))


# Reading a file


def test_parse_catalog_reads_a_valid_file() -> None:
    catalog = parse_catalog(FILE)

    assert catalog == CATALOG


def test_parse_catalog_orders_features_by_key_and_default_prices_first() -> None:
    catalog = parse_catalog(FILE)

    assert [f.key for f in catalog.features] == ["audio.tts", "llm.chat", "video.generate"]
    assert [p.model for p in catalog.features[2].prices] == [None, "veo2"]


def test_parse_catalog_reads_an_empty_file_as_an_empty_catalog() -> None:
    catalog = parse_catalog({})

    assert catalog == Catalog()


BAD_FILES: list[tuple[str, dict[str, object], str]] = [
    (
        "duplicate_key",
        {"features": [feature("a.b"), feature("a.b")]},
        "features[1].key",
    ),
    (
        "duplicate_model",
        {"features": [feature("a", prices=[flat("1", "m1"), flat("2", "m1")])]},
        "features[0].prices[1].model",
    ),
    (
        "duplicate_default",
        {"features": [feature("a", prices=[flat("1"), flat("2", "m1"), flat("3")])]},
        "features[0].prices[2].model",
    ),
    ("unknown_top_level", {"features": [], "pricing": {}}, "catalog.pricing"),
    ("unknown_feature_field", {"features": [feature("a", price=[])]}, "features[0].price"),
    ("bad_key", {"features": [feature("a"), {"key": "B", "name": "B"}]}, "features[1].key"),
    ("no_name", {"features": [{"key": "a"}]}, "features[0].name"),
    ("active_text", {"features": [feature("a", active="yes")]}, "features[0].active"),
    ("features_not_a_list", {"features": {"key": "a"}}, "features"),
    ("feature_not_a_table", {"features": [feature("a"), "b"]}, "features[1]"),
    ("prices_not_a_list", {"features": [feature("a", prices=flat("1"))]}, "features[0].prices"),
    (
        "bad_price",
        {"features": [feature("a", prices=[flat("1"), flat("0.0005", "m")])]},
        "features[0].prices[1].credits",
    ),
    (
        "float_price",
        {"features": [feature("a", prices=[{"rule": "flat", "credits": 0.5}])]},
        "features[0].prices[0].credits",
    ),
    (
        "bad_tier",
        {
            "features": [
                feature(
                    "a",
                    prices=[
                        {
                            "rule": "tiered",
                            "tiers": [{"up_to": 5, "credits": "2"}, {"up_to": 5, "credits": "3"}],
                        }
                    ],
                )
            ]
        },
        "features[0].prices[0].tiers[1].up_to",
    ),
    ("welcome_zero", {"welcome": {"credits": "0"}}, "welcome.credits"),
    ("welcome_negative", {"welcome": {"credits": -5}}, "welcome.credits"),
    ("welcome_float", {"welcome": {"credits": 0.5}}, "welcome.credits"),
    ("welcome_missing", {"welcome": {}}, "welcome.credits"),
    ("welcome_not_a_table", {"welcome": 10}, "welcome"),
    ("welcome_unknown_field", {"welcome": {"credits": "1", "days": 3}}, "welcome.days"),
]


@pytest.mark.parametrize(
    ("data", "field"), [(d, f) for _, d, f in BAD_FILES], ids=[n for n, _, _ in BAD_FILES]
)
def test_parse_catalog_refuses_a_bad_file_naming_the_place(
    data: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_catalog(data)

    assert raised.value.field == field


def test_parse_catalog_reports_a_duplicate_key_with_both_spellings_valid() -> None:
    features = FILE["features"]
    assert isinstance(features, list)
    data = {**FILE, "features": [*features, feature("llm.chat")]}

    with pytest.raises(InvalidInput) as raised:
        parse_catalog(data)

    assert raised.value.field == "features[3].key"
    assert "llm.chat" in raised.value.reason


def test_parse_catalog_refuses_a_rule_written_as_an_array() -> None:
    data = {"features": [feature("a", prices=[{"rule": ["flat"], "credits": "1"}])]}

    with pytest.raises(InvalidInput) as raised:
        parse_catalog(data)

    assert raised.value.field == "features[0].prices[0].rule"


# Writing a catalog back


def test_catalog_data_round_trips_through_parse_catalog() -> None:
    data = catalog_data(CATALOG)

    assert parse_catalog(data) == CATALOG


def test_catalog_data_round_trips_an_empty_catalog() -> None:
    data = catalog_data(Catalog())

    assert parse_catalog(data) == Catalog()


def test_catalog_data_writes_amounts_as_text_and_inactive_features_as_active_false() -> None:
    data = catalog_data(CATALOG)

    features = data["features"]
    assert isinstance(features, list)
    assert data["welcome"] == {"credits": "10"}
    assert features[0]["key"] == "audio.tts"
    assert features[0]["active"] is False
    assert "active" not in features[1]


# Planning changes


def test_plan_changes_does_nothing_when_the_catalogs_are_equal() -> None:
    changes = plan_changes(CATALOG, parse_catalog(FILE))

    assert changes == ()


def test_plan_changes_creates_a_new_feature_with_each_of_its_prices() -> None:
    new = spec("image.edit", flat_spec(5000), flat_spec(1000, "sdxl"))

    changes = plan_changes(Catalog(), Catalog(features=(new,)))

    assert [c.kind for c in changes] == [
        ChangeKind.CREATE_FEATURE,
        ChangeKind.SET_PRICE,
        ChangeKind.SET_PRICE,
    ]
    assert all(c.feature == new for c in changes)
    assert [c.price for c in changes[1:]] == list(new.prices)
    assert [c.model for c in changes[1:]] == [None, "sdxl"]


def test_plan_changes_sets_one_new_version_of_a_changed_price() -> None:
    before = spec("image.edit", flat_spec(5000), flat_spec(1000, "sdxl"))
    after = spec("image.edit", flat_spec(5000), flat_spec(1500, "sdxl"))

    changes = plan_changes(Catalog(features=(before,)), Catalog(features=(after,)))

    assert len(changes) == 1
    assert changes[0].kind is ChangeKind.SET_PRICE
    assert (changes[0].model, changes[0].price) == ("sdxl", flat_spec(1500, "sdxl"))


def test_plan_changes_sets_a_new_version_when_only_the_minimum_changes() -> None:
    before = spec("a", flat_spec(5000))
    after = spec("a", replace(flat_spec(5000), minimum=Credits(6000)))

    changes = plan_changes(Catalog(features=(before,)), Catalog(features=(after,)))

    assert [c.kind for c in changes] == [ChangeKind.SET_PRICE]


def test_plan_changes_retires_a_price_the_file_dropped() -> None:
    before = spec("image.edit", flat_spec(5000), flat_spec(1000, "sdxl"))
    after = spec("image.edit", flat_spec(5000))

    changes = plan_changes(Catalog(features=(before,)), Catalog(features=(after,)))

    assert len(changes) == 1
    assert changes[0].kind is ChangeKind.RETIRE_PRICE
    assert (changes[0].model, changes[0].price) == ("sdxl", None)


def test_plan_changes_removes_an_active_feature_the_file_dropped() -> None:
    gone = spec("image.edit", flat_spec(5000))

    changes = plan_changes(Catalog(features=(gone,)), Catalog())

    assert [(c.kind, c.feature) for c in changes] == [(ChangeKind.REMOVE_FEATURE, gone)]


def test_plan_changes_leaves_an_inactive_feature_the_file_dropped() -> None:
    gone = spec("image.edit", flat_spec(5000), active=False)

    changes = plan_changes(Catalog(features=(gone,)), Catalog())

    assert changes == ()


def test_plan_changes_updates_a_feature_whose_name_changed() -> None:
    before = spec("a", flat_spec(5000))
    after = replace(before, name="Another name")

    changes = plan_changes(Catalog(features=(before,)), Catalog(features=(after,)))

    assert [(c.kind, c.feature) for c in changes] == [(ChangeKind.UPDATE_FEATURE, after)]
    assert "'Another name'" in changes[0].detail


def test_plan_changes_updates_a_feature_the_file_deactivates() -> None:
    before = spec("a", flat_spec(5000))
    after = replace(before, is_active=False)

    changes = plan_changes(Catalog(features=(before,)), Catalog(features=(after,)))

    assert [c.kind for c in changes] == [ChangeKind.UPDATE_FEATURE]


@pytest.mark.parametrize(
    ("before", "after"),
    [(None, Credits(10_000)), (Credits(10_000), Credits(5_000)), (Credits(10_000), None)],
    ids=["added", "changed", "removed"],
)
def test_plan_changes_sets_the_welcome_when_it_changed(
    before: Credits | None, after: Credits | None
) -> None:
    changes = plan_changes(Catalog(welcome=before), Catalog(welcome=after))

    assert [(c.kind, c.welcome) for c in changes] == [(ChangeKind.SET_WELCOME, after)]


def test_plan_changes_from_empty_builds_the_whole_catalog() -> None:
    changes = plan_changes(Catalog(), CATALOG)

    kinds = [c.kind for c in changes]
    assert kinds.count(ChangeKind.SET_WELCOME) == 1
    assert kinds.count(ChangeKind.CREATE_FEATURE) == len(CATALOG.features)
    assert kinds.count(ChangeKind.SET_PRICE) == sum(len(f.prices) for f in CATALOG.features)


@pytest.mark.parametrize(
    ("before", "after", "sign"),
    [
        (Catalog(), Catalog(features=(spec("a", flat_spec(1)),)), "+"),
        (Catalog(welcome=Credits(1)), Catalog(welcome=Credits(2)), "~"),
        (
            Catalog(features=(spec("a", flat_spec(1)),)),
            Catalog(features=(spec("a", flat_spec(2)),)),
            "~",
        ),
        (
            Catalog(features=(spec("a"),)),
            Catalog(features=(replace(spec("a"), category="x"),)),
            "~",
        ),
        (
            Catalog(features=(spec("a", flat_spec(1), flat_spec(1, "m")),)),
            Catalog(features=(spec("a", flat_spec(1)),)),
            "-",
        ),
        (Catalog(features=(spec("a"),)), Catalog(), "-"),
    ],
    ids=["create", "welcome", "price", "update", "retire", "remove"],
)
def test_plan_changes_starts_each_detail_with_its_sign(
    before: Catalog, after: Catalog, sign: str
) -> None:
    changes = plan_changes(before, after)

    assert changes
    assert all(c.detail.startswith(f"{sign} ") for c in changes)
    assert all(str(c) == c.detail for c in changes)


def test_plan_changes_names_the_feature_and_model_of_a_price() -> None:
    before = spec("image.edit", flat_spec(1000, "sdxl"))
    after = spec("image.edit", flat_spec(1500, "sdxl"))

    changes = plan_changes(Catalog(features=(before,)), Catalog(features=(after,)))

    assert changes[0].detail == "~ price image.edit [sdxl]: rule=flat, credits=1.5"

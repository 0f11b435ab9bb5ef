"""Checks of free-form input at the engine's edge: ids, text, keys, metadata, times, floors."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from creditgate import Credits, InvalidInput
from creditgate.domain.accounts import check_account_id, check_floor
from creditgate.domain.inputs import (
    check_instant,
    check_key,
    check_metadata,
    check_required_text,
    check_text,
)
from creditgate.domain.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    IDEMPOTENCY_KEY_LENGTH_MAX,
    METADATA_BYTES_MAX,
    TEXT_LENGTH_MAX,
)


@pytest.mark.parametrize("value", ["user_1", "a", "org 1", "x" * ACCOUNT_ID_LENGTH_MAX, "ünï"])
def test_check_account_id_accepts_printable_text(value: str) -> None:
    checked = check_account_id(value)

    assert checked == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        " user_1",
        "user_1 ",
        "user\n1",
        "user\x001",
        "x" * (ACCOUNT_ID_LENGTH_MAX + 1),
        5,
        None,
        b"user_1",
    ],
)
def test_check_account_id_refuses_a_bad_id(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_account_id(value, field="member_id")

    assert raised.value.field == "member_id"


@pytest.mark.parametrize("value", [Credits(0), Credits(-1), Credits(-10_000)])
def test_check_floor_accepts_zero_or_below(value: Credits) -> None:
    checked = check_floor(value)

    assert checked == value


def test_check_floor_refuses_a_floor_above_zero() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_floor(Credits(1))

    assert raised.value.field == "floor"


def test_check_text_passes_none_when_optional() -> None:
    checked = check_text(None, field="feature")

    assert checked is None


@pytest.mark.parametrize("value", ["image.generate", "x" * TEXT_LENGTH_MAX, "a b"])
def test_check_text_accepts_printable_text(value: str) -> None:
    checked = check_text(value, field="feature")

    assert checked == value


@pytest.mark.parametrize("value", ["", "  ", "a\tb", "x" * (TEXT_LENGTH_MAX + 1), 3, ["a"]])
def test_check_text_refuses_bad_text(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_text(value, field="feature")

    assert raised.value.field == "feature"


def test_check_required_text_refuses_none() -> None:
    with pytest.raises(InvalidInput) as raised:
        check_required_text(None, field="reason")

    assert raised.value.field == "reason"
    assert raised.value.reason == "is required"


def test_check_required_text_returns_the_text() -> None:
    checked = check_required_text("refund for outage", field="reason")

    assert checked == "refund for outage"


@pytest.mark.parametrize("value", [None, "k", "order-42:retry", "x" * IDEMPOTENCY_KEY_LENGTH_MAX])
def test_check_key_accepts_none_or_printable_keys(value: str | None) -> None:
    checked = check_key(value)

    assert checked == value


@pytest.mark.parametrize(
    "value", ["", "x" * (IDEMPOTENCY_KEY_LENGTH_MAX + 1), "a\nb", "a\x00", 5, b"k"]
)
def test_check_key_refuses_a_bad_key(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_key(value)

    assert raised.value.field == "idempotency_key"


def test_check_metadata_turns_none_into_an_empty_object() -> None:
    checked = check_metadata(None)

    assert checked == {}


def test_check_metadata_returns_json_values() -> None:
    value: dict[str, Any] = {"model": "sdxl", "size": [1024, 1024], "n": 1, "x": None}

    checked = check_metadata(value)

    assert checked == value


def test_check_metadata_normalizes_tuples_to_lists() -> None:
    checked = check_metadata({"size": (512, 512)})

    assert checked == {"size": [512, 512]}


def test_check_metadata_accepts_an_object_of_exactly_the_largest_size() -> None:
    padding = METADATA_BYTES_MAX - len('{"p":""}')
    value = {"p": "x" * padding}

    checked = check_metadata(value)

    assert checked == value


@pytest.mark.parametrize(
    "value",
    [
        [],
        "{}",
        {1: "a"},
        {"x": float("nan")},
        {"x": float("inf")},
        {"x": object()},
        {"x": {1, 2}},
        {"p": "x" * METADATA_BYTES_MAX},
    ],
)
def test_check_metadata_refuses_a_bad_object(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_metadata(value)

    assert raised.value.field == "metadata"


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_check_instant_accepts_an_aware_datetime(value: datetime) -> None:
    checked = check_instant(value, field="at")

    assert checked == value


def test_check_instant_converts_to_utc() -> None:
    eastern = datetime(2026, 1, 1, 7, 0, tzinfo=timezone(timedelta(hours=-5)))

    checked = check_instant(eastern, field="at")

    assert checked.utcoffset() == timedelta(0)
    assert checked == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 1, 1), "2026-01-01T00:00:00Z", 1_767_225_600, None],  # noqa: DTZ001
)
def test_check_instant_refuses_a_naive_or_non_datetime(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_instant(value, field="since")

    assert raised.value.field == "since"

"""Outgoing webhooks' pure rules: the retry schedule, URLs and event types an endpoint takes."""

from datetime import UTC, datetime, timedelta

import pytest

from creditgate import InvalidInput
from creditgate.domain.webhooks import (
    EventType,
    check_event_types,
    check_url,
    is_due_for_disabling,
    is_success,
    listens,
    retry_delay,
)


def test_retry_delay_doubles_from_five_seconds_up_to_an_hour() -> None:
    delays = [retry_delay(n) for n in range(1, 14)]

    assert delays[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert delays == sorted(delays)
    assert delays[-1] == timedelta(hours=1)


def test_retry_delay_stays_at_an_hour_after_many_failures() -> None:
    delay = retry_delay(10_000)

    assert delay == timedelta(hours=1)


def test_is_due_for_disabling_once_the_failures_have_lasted_long_enough() -> None:
    since = datetime(2026, 1, 1, tzinfo=UTC)
    window = timedelta(days=5)

    assert not is_due_for_disabling(since, since + window - timedelta(seconds=1), window)
    assert is_due_for_disabling(since, since + window, window)


@pytest.mark.parametrize(("status", "delivers"), [(200, True), (204, True), (299, True),
                                                   (301, False), (404, False), (500, False),
                                                   (None, False)])  # fmt: skip
def test_is_success_takes_any_2xx_and_nothing_else(status: int | None, delivers: bool) -> None:
    assert is_success(status) is delivers


@pytest.mark.parametrize(
    "url",
    ["https://hooks.example.com/creditgate", "http://127.0.0.1:8080/h?x=1", "HTTPS://A.B"],
)
def test_check_url_takes_absolute_http_urls(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://example.com/x",
        "example.com/hooks",
        "https://",
        "https://user:pass@example.com/",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://éxample.com/",
        "https://example.com/" + "a" * 2048,
        5,
        None,
    ],
)
def test_check_url_refuses_anything_else(url: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_url(url)

    assert raised.value.field == "url"


def test_check_event_types_sorts_and_deduplicates() -> None:
    found = check_event_types(["hold.expired", "balance.low", "hold.expired"])

    assert found == ("balance.low", "hold.expired")


def test_check_event_types_takes_the_wildcard_alone() -> None:
    assert check_event_types(["*"]) == ("*",)


@pytest.mark.parametrize(
    "types", [[], "balance.low", ["balance.lo"], ["*", "balance.low"], [5], None]
)
def test_check_event_types_refuses_unknown_empty_or_mixed_lists(types: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_event_types(types)

    assert raised.value.field == "event_types"


def test_listens_hears_its_own_types_or_every_type_with_the_wildcard() -> None:
    assert listens(("*",), EventType.HOLD_EXPIRED)
    assert listens(("balance.low",), EventType.BALANCE_LOW)
    assert not listens(("balance.low",), EventType.BALANCE_DEPLETED)

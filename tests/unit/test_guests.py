"""The guest quota's rules: windows, networks, proxies, the verdict, the catalog form."""

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditgate import InvalidInput
from creditgate.domain.catalog import ChangeKind, parse_catalog, plan_changes
from creditgate.domain.guests import (
    Counter,
    GuestQuota,
    Window,
    client_ip,
    counters,
    judge,
    network_of,
    parse_guest_quotas,
    parse_trusted_proxies,
    parse_window,
    quotas_for,
    window_text,
)

HOUR_MS = 3_600_000
DAY = Counter("*|s|a", 3, 24 * HOUR_MS, True)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("48h", 172800), ("7d", 604800)],
)
def test_a_window_is_read_in_its_unit_and_written_back_alike(text: str, seconds: int) -> None:
    assert parse_window(text, field="w") == seconds
    assert window_text(seconds) == text


@given(st.integers(min_value=1, max_value=366 * 86400))
def test_every_window_reads_back_from_its_text(seconds: int) -> None:
    assert parse_window(window_text(seconds), field="w") == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "0h", "1.5h", "24 h", "-1h", "367d", 24])
def test_a_bad_window_is_refused(text: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_window(text, field="guests[0].window")

    assert refused.value.field == "guests[0].window"


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::", "2001:db8:1:2::/64"),
        ("::1", "::/64"),
    ],
)
def test_an_address_is_counted_by_its_ipv4_address_or_its_ipv6_64(
    address: str, network: str
) -> None:
    assert network_of(address) == network


@given(st.ip_addresses(v=6))
def test_every_ipv6_address_lies_in_the_64_it_is_counted_by(address: ipaddress.IPv6Address) -> None:
    counted = network_of(str(address))

    if address.ipv4_mapped is None:
        assert address in ipaddress.IPv6Network(counted)
    else:
        assert counted == str(address.ipv4_mapped)


PROXIES = parse_trusted_proxies(["10.0.0.0/8", "2001:db8:ffff::1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("198.51.100.1", ["1.2.3.4"], "198.51.100.1"),
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", ["1.2.3.4, 10.9.9.9"], "1.2.3.4"),
        ("10.0.0.2", ["5.6.7.8, 1.2.3.4, 10.9.9.9"], "1.2.3.4"),
        ("10.0.0.2", ["5.6.7.8", "1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", ["10.1.1.1, 10.2.2.2"], "10.1.1.1"),
        ("2001:db8:ffff::1", ["2001:db8::7"], "2001:db8::7"),
        ("::ffff:10.0.0.2", ["1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", ["garbage, 1.2.3.4"], "1.2.3.4"),
        ("10.0.0.2", ["1.2.3.4, garbage"], "garbage"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert client_ip(peer, forwarded, PROXIES) == client


@pytest.mark.parametrize("entry", ["*", "0.0.0.0/0", "::/0", "not-an-address", "10.0.0.0/33"])
def test_trusted_proxies_refuse_wildcards_and_what_is_not_an_address(entry: str) -> None:
    with pytest.raises(InvalidInput):
        parse_trusted_proxies(["127.0.0.1", entry])


def test_a_use_counts_on_the_session_and_the_network_of_each_quota_that_covers_it() -> None:
    quotas = parse_guest_quotas(
        [{"uses": 3, "window": "24h"}, {"feature": "video.generate", "uses": 1, "window": "1h"}]
    )

    video = counters(quotas_for(quotas, "video.generate"), "s1", "203.0.113.5")
    image = counters(quotas_for(quotas, "image.generate"), "s1", "203.0.113.5")

    assert [(c.key, c.limit) for c in video] == [
        ("*|n|203.0.113.5", 3),
        ("*|s|s1", 3),
        ("video.generate|n|203.0.113.5", 1),
        ("video.generate|s|s1", 1),
    ]
    assert [c.key for c in image] == ["*|n|203.0.113.5", "*|s|s1"]


def test_a_full_window_refuses_until_its_oldest_use_leaves() -> None:
    verdict = judge([(DAY, Window(3, 0))], now_ms=3 * HOUR_MS)

    assert (verdict.allowed, verdict.retry_after_ms, verdict.reset_at_ms) == (
        False,
        21 * HOUR_MS,
        24 * HOUR_MS,
    )


def test_the_strictest_counter_gives_the_figures() -> None:
    network = Counter("*|n|x", 3, 24 * HOUR_MS, False)

    verdict = judge([(DAY, Window(0, None)), (network, Window(1, HOUR_MS))], now_ms=2 * HOUR_MS)

    assert (verdict.allowed, verdict.remaining, verdict.reset_at_ms) == (True, 1, 25 * HOUR_MS)


def test_a_refusal_waits_for_the_last_of_the_counters_that_refused() -> None:
    hourly = Counter("v|s|a", 1, HOUR_MS, True)

    verdict = judge([(DAY, Window(3, 0)), (hourly, Window(1, 5 * HOUR_MS))], now_ms=5 * HOUR_MS)

    assert (verdict.allowed, verdict.limit, verdict.retry_after_ms) == (False, 1, 19 * HOUR_MS)


def test_a_look_takes_nothing_and_a_fresh_guest_has_no_reset() -> None:
    verdict = judge([(DAY, Window(0, None))], now_ms=0, taking=False)

    assert (verdict.remaining, verdict.reset_at_ms) == (3, None)


@pytest.mark.parametrize(
    ("guests", "field"),
    [
        ([{"uses": 0, "window": "1h"}], "guests[0].uses"),
        ([{"uses": 1001, "window": "1h"}], "guests[0].uses"),
        ([{"uses": True, "window": "1h"}], "guests[0].uses"),
        ([{"uses": 3}], "guests[0].window"),
        ([{"uses": 3, "window": "1h", "per": "ip"}], "guests[0].per"),
        ([{"uses": 3, "window": "1h", "feature": "Bad Key"}], "guests[0].feature"),
        ([{"uses": 3, "window": "1h"}, {"uses": 5, "window": "2h"}], "guests[1].feature"),
        ({"uses": 3}, "guests"),
    ],
)
def test_a_bad_guest_quota_in_a_catalog_names_where_it_is(guests: object, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_catalog({"guests": guests})

    assert refused.value.field.startswith(field)


def test_changing_the_guest_quotas_or_the_low_line_is_one_change_each() -> None:
    before = parse_catalog({"guests": [{"uses": 3, "window": "24h"}], "alerts": {"low": "10"}})
    after = parse_catalog({"guests": [{"uses": 5, "window": "24h"}], "alerts": {"low": "2.5"}})

    changes = plan_changes(before, after)

    assert [(c.kind, c.detail) for c in changes] == [
        (ChangeKind.SET_GUESTS, "~ guest quotas: 5 per 24h for every feature"),
        (ChangeKind.SET_ALERTS, "~ low balance: below 2.5 credits"),
    ]
    assert plan_changes(after, after) == ()
    assert changes[0].guests == (GuestQuota(uses=5, window_s=86400),)


@pytest.mark.parametrize("low", ["-1", "x", 1.5])
def test_a_bad_low_balance_line_is_refused(low: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_catalog({"alerts": {"low": low}})

    assert refused.value.field == "alerts.low"

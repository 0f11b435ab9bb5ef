import pytest

from creditgate.domain.rates import Bucket, take


def test_take_allows_a_burst_then_refuses_with_the_wait() -> None:
    bucket: Bucket | None = None
    waits = []

    for _ in range(4):
        bucket, wait_s = take(bucket, now_s=100.0, rate_per_s=0.5, burst=3)
        waits.append(wait_s)

    assert waits == [None, None, None, 2]


def test_take_refills_at_the_rate() -> None:
    bucket, _ = take(None, now_s=0.0, rate_per_s=2.0, burst=1)
    refused, wait_s = take(bucket, now_s=0.1, rate_per_s=2.0, burst=1)

    again, allowed = take(refused, now_s=0.6, rate_per_s=2.0, burst=1)

    assert wait_s == 1
    assert allowed is None
    assert again.tokens == pytest.approx(0.0)


def test_take_never_fills_beyond_the_burst() -> None:
    bucket, _ = take(None, now_s=0.0, rate_per_s=10.0, burst=2)

    later, _ = take(bucket, now_s=1000.0, rate_per_s=10.0, burst=2)

    assert later.tokens == pytest.approx(1.0)


def test_take_ignores_a_clock_that_steps_back() -> None:
    bucket = Bucket(tokens=0.0, at_s=50.0)

    after, wait_s = take(bucket, now_s=40.0, rate_per_s=1.0, burst=5)

    assert wait_s == 1
    assert after.tokens == 0.0

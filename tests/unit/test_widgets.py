"""Widget tokens and cost states: signing, checking, and where a cost leaves a person."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput, Unauthenticated
from creditgate.domain.ids import AccountId
from creditgate.domain.widgets import (
    TOKEN_TTL_S_MAX,
    CostState,
    WidgetClaims,
    check_return_url,
    check_ttl_s,
    cost_state,
    key_id_of,
    sign,
    verify,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SECRET = bytes(range(32))
CLAIMS = WidgetClaims(
    account_id=AccountId("user_1"),
    expires_at=NOW + timedelta(minutes=15),
    success_url="https://app.example/ok",
    cancel_url=None,
)


@given(
    account=st.one_of(st.none(), st.text(min_size=1, max_size=200)),
    ttl_s=st.integers(min_value=1, max_value=TOKEN_TTL_S_MAX),
    key_id=st.integers(min_value=1, max_value=10**9),
)
def test_a_signed_token_verifies_to_its_claims(
    account: str | None, ttl_s: int, key_id: int
) -> None:
    claims = WidgetClaims(
        account_id=None if account is None else AccountId(account),
        expires_at=NOW + timedelta(seconds=ttl_s),
        success_url=None,
        cancel_url="https://app.example/no",
    )

    token = sign(claims, key_id=key_id, secret=SECRET)

    assert key_id_of(token) == key_id
    assert verify(token, secrets={key_id: SECRET}, now=NOW) == claims


def test_a_token_is_refused_from_its_expiry_on() -> None:
    token = sign(CLAIMS, key_id=1, secret=SECRET)

    verify(token, secrets={1: SECRET}, now=CLAIMS.expires_at - timedelta(seconds=1))
    with pytest.raises(Unauthenticated, match="expired"):
        verify(token, secrets={1: SECRET}, now=CLAIMS.expires_at)


def test_another_key_or_an_unknown_key_id_is_refused() -> None:
    token = sign(CLAIMS, key_id=1, secret=SECRET)

    with pytest.raises(Unauthenticated, match="not valid"):
        verify(token, secrets={1: bytes(32)}, now=NOW)
    with pytest.raises(Unauthenticated, match="not valid"):
        verify(token, secrets={2: SECRET}, now=NOW)


@pytest.mark.parametrize("position", [0, 4, 6, 20, -1])
def test_any_changed_character_is_refused(position: int) -> None:
    token = sign(CLAIMS, key_id=1, secret=SECRET)
    swapped = "A" if token[position] != "A" else "B"
    at = position % len(token)
    changed = token[:at] + swapped + token[at + 1 :]

    with pytest.raises(Unauthenticated):
        verify(changed, secrets={1: SECRET}, now=NOW)


@pytest.mark.parametrize(
    "text", ["", "cgw", "cg_0123456789_secret", "cgw.0.e30." + "A" * 43, "cgw.1.e30.short"]
)
def test_malformed_text_is_refused_before_any_key_is_read(text: str) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        key_id_of(text)


@pytest.mark.parametrize(
    ("amount", "spendable", "line", "unlimited", "state"),
    [
        ("2", "6", None, False, CostState.SUFFICIENT),
        ("6", "6", None, False, CostState.SUFFICIENT),
        ("6.001", "6", None, False, CostState.INSUFFICIENT),
        ("3", "6", "3", False, CostState.SUFFICIENT),
        ("3.001", "6", "3", False, CostState.LOW),
        ("100", "0", None, True, CostState.SUFFICIENT),
        ("1", None, "3", False, CostState.GUEST),
    ],
)
def test_cost_states(
    amount: str, spendable: str | None, line: str | None, unlimited: bool, state: CostState
) -> None:
    found = cost_state(
        Credits.parse(amount),
        spendable=None if spendable is None else Credits.parse(spendable),
        low_line=None if line is None else Credits.parse(line),
        is_unlimited=unlimited,
    )

    assert found == state


@pytest.mark.parametrize("value", [0, TOKEN_TTL_S_MAX + 1, 1.5, "60", True, None])
def test_a_bad_lifetime_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="ttl_s"):
        check_ttl_s(value)


@pytest.mark.parametrize(
    "value", ["javascript:alert(1)", "/relative", "https://", "https://a b", 5, "x" * 3000]
)
def test_a_bad_return_url_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="success_url"):
        check_return_url(value, field="success_url")

"""Widget tokens and what a widget shows: the browser's short-lived, one-account pass.

An app's pages show credits with creditgate's web components, which call the service from
the person's browser. An API key must never reach a browser, so the app's back end mints a
widget token instead: it names one account (or none, for a guest), ends within minutes,
reads only that account, and may start a checkout that returns to the URLs the back end
chose. The token is signed, not stored: minting one writes nothing (but the very first,
which makes the signing key), and checking one costs an HMAC. The service keeps its
signing keys in the database, so every worker checks every token, and a token names the
key that signed it.

Token text: `cgw.<key id>.<claims>.<signature>`, where the claims are compact JSON in
unpadded base64url and the signature is HMAC-SHA256 of everything before its dot.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from creditgate.domain.alerts import AlertLevel
from creditgate.domain.amounts import Credits
from creditgate.domain.errors import InvalidInput, TokenExpired, Unauthenticated
from creditgate.domain.ids import AccountId

TOKEN_TTL_S_DEFAULT = 900
"""A token lasts 15 minutes unless the back end asks otherwise: a page mints on each load."""
TOKEN_TTL_S_MAX = 3600
"""No token outlives an hour: a token copied out of a page stops working soon."""
RETURN_URL_LENGTH_MAX = 2048
"""The longest checkout return address a token carries (Stripe's own limit)."""

_TOKEN = re.compile(r"cgw\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{1,4096})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetClaims:
    """What a valid token says: whose figures it reads, until when, where checkout returns."""

    account_id: AccountId | None
    """None: a guest, who sees prices and quotas but no account."""
    expires_at: datetime
    success_url: str | None
    cancel_url: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetToken:
    """A minted token: the text to hand to the page, and what it allows."""

    token: str
    account_id: AccountId | None
    expires_at: datetime


class CostState(StrEnum):
    """How a call's cost stands against what the person has."""

    SUFFICIENT = "sufficient"
    """Affordable, with more than the low-balance line left after it."""
    LOW = "low"
    """Affordable, but it leaves the balance below the low-balance line."""
    INSUFFICIENT = "insufficient"
    """Not affordable now (or the account may not spend)."""
    GUEST = "guest"
    """No account: the person is a guest, limited by guest quotas instead."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CostOption:
    """One model's price for the call and whether the person can pay it."""

    model: str | None
    amount: Credits
    state: CostState


@dataclass(frozen=True, slots=True, kw_only=True)
class Costs:
    """A feature's cost per model for one person: what a cost label and a model picker show."""

    feature: str
    account_id: AccountId | None
    spendable: Credits | None
    """What the account may spend now (None for a guest); unlimited accounts show None too."""
    options: tuple[CostOption, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class WidgetBalance:
    """What a balance widget shows: the figures, and how they stand against the low line."""

    account_id: AccountId
    balance: Credits
    held: Credits
    available: Credits
    low_line: Credits | None
    """The account's own line, else the catalog's default; None when neither is set."""
    level: AlertLevel
    """The balance alerts' own level (`domain.alerts.level_of`): the widget's colour."""


def check_ttl_s(value: object) -> int:
    """A token's lifetime in seconds: 1 to `TOKEN_TTL_S_MAX`.

    Raises:
        InvalidInput: not an integer in range.
    """
    if type(value) is not int or not 1 <= value <= TOKEN_TTL_S_MAX:
        raise InvalidInput(field="ttl_s", reason=f"an integer from 1 to {TOKEN_TTL_S_MAX}")
    return value


def check_return_url(value: object, *, field: str) -> str | None:
    """A checkout return address: absent, or an absolute http(s) URL.

    Raises:
        InvalidInput: not an http(s) URL, or too long.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s]+", value):
        raise InvalidInput(field=field, reason="an absolute http or https URL")
    if len(value) > RETURN_URL_LENGTH_MAX:
        raise InvalidInput(field=field, reason=f"at most {RETURN_URL_LENGTH_MAX} characters")
    return value


def cost_state(
    amount: Credits,
    *,
    spendable: Credits | None,
    low_line: Credits | None,
    is_unlimited: bool,
) -> CostState:
    """Where one call's cost leaves the person.

    `spendable` is None for a guest. An unlimited account can always pay; a frozen one is
    given `spendable` zero by the caller, so anything priced is insufficient.
    """
    if spendable is None:
        return CostState.GUEST
    if is_unlimited:
        return CostState.SUFFICIENT
    if amount > spendable:
        return CostState.INSUFFICIENT
    left = spendable - amount
    if low_line is not None and left < low_line:
        return CostState.LOW
    return CostState.SUFFICIENT


def sign(claims: WidgetClaims, *, key_id: int, secret: bytes) -> str:
    """The token text for `claims`, signed with the key `key_id`."""
    body: dict[str, object] = {
        "a": claims.account_id,
        "x": int(claims.expires_at.timestamp()),
    }
    if claims.success_url is not None:
        body["s"] = claims.success_url
    if claims.cancel_url is not None:
        body["c"] = claims.cancel_url
    packed = json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()
    head = f"cgw.{key_id}.{_b64(packed)}"
    return f"{head}.{_b64(_mac(secret, head))}"


def key_id_of(text: str) -> int:
    """The id of the key that signed a token, read before the signature is checked.

    Raises:
        Unauthenticated: the text is not shaped like a widget token.
    """
    match = _TOKEN.fullmatch(text)
    if match is None:
        raise Unauthenticated("the widget token is malformed")
    return int(match.group(1))


def verify(text: str, *, secrets: Mapping[int, bytes], now: datetime) -> WidgetClaims:
    """The claims of a token signed by one of `secrets` that has not expired.

    Raises:
        Unauthenticated: malformed, signed by no live key, or altered.
        TokenExpired: the token was valid until its expiry, which has passed.
    """
    match = _TOKEN.fullmatch(text)
    if match is None:
        raise Unauthenticated("the widget token is malformed")
    secret = secrets.get(int(match.group(1)))
    head = text[: match.start(3) - 1]
    if secret is None or not hmac.compare_digest(_b64(_mac(secret, head)), match.group(3)):
        raise Unauthenticated("the widget token is not valid")
    try:
        body = json.loads(_unb64(match.group(2)))
        expires_at = datetime.fromtimestamp(int(body["x"]), UTC)
        account = body["a"]
    except (ValueError, KeyError, TypeError, OverflowError):  # binascii.Error is a ValueError
        raise Unauthenticated("the widget token is malformed") from None
    if expires_at <= now:
        raise TokenExpired("the widget token has expired: the page should mint a new one")
    return WidgetClaims(
        account_id=None if account is None else AccountId(str(account)),
        expires_at=expires_at,
        success_url=body.get("s"),
        cancel_url=body.get("c"),
    )


def _mac(secret: bytes, head: str) -> bytes:
    return hmac.new(secret, head.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

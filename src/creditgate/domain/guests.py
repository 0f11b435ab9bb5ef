"""Guest quotas: N uses per rolling window for people who have not signed up.

A quota is `uses` per `window` seconds, for one feature or for every feature. A guest is
counted twice, by the app's session id and by the client's network (the IPv4 address, or
the /64 an IPv6 address lies in, since one home or phone is handed a whole /64), and the
stricter count wins: rotating the session id on one address stops at the address's limit.
A feature with its own quota is also counted by the every-feature quota when there is one.

The window rolls: a use leaves it exactly `window` after it was made, so the first use's
age decides when the guest may go again ("resets from the first use").

This module owns the rule and nothing else. Whoever keeps the counts (Redis with one
atomic script, or a database row locked per counter) reads each counter's live uses,
lets `judge` decide, and records the use on every counter only when it is allowed.
"""

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from creditgate.domain.errors import InvalidInput
from creditgate.domain.limits import (
    GUEST_QUOTAS_MAX,
    GUEST_USES_MAX,
    GUEST_WINDOW_MAX_S,
    SESSION_ID_LENGTH_MAX,
)
from creditgate.domain.pricing import check_feature_key, refuse_unknown

EVERY_FEATURE = "*"
"""The scope of the quota that counts every feature's uses."""

_WINDOW = re.compile(r"([1-9][0-9]{0,8})([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestQuota:
    """`uses` per rolling `window_s` seconds, for `feature` (None: every feature)."""

    uses: int
    window_s: int
    feature: str | None = None

    @property
    def scope(self) -> str:
        """The quota's part of a counter's key: the feature, or `*`."""
        return self.feature or EVERY_FEATURE


def parse_window(value: object, *, field: str) -> int:
    """A window as catalog files write it (`90s`, `30m`, `24h`, `7d`) in seconds.

    Raises:
        InvalidInput: not such a duration, or longer than GUEST_WINDOW_MAX_S.
    """
    match = _WINDOW.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(field=field, reason="a duration such as '90s', '30m', '24h' or '7d'")
    seconds = int(match[1]) * _UNIT_S[match[2]]
    if seconds > GUEST_WINDOW_MAX_S:
        raise InvalidInput(field=field, reason=f"at most {GUEST_WINDOW_MAX_S // 86400} days")
    return seconds


def window_text(seconds: int) -> str:
    """A window's catalog form, as people say it: `24h` and `48h`, but `7d`.

    What `parse_window` reads back to `seconds`.
    """
    if seconds % 86400 == 0 and seconds >= 7 * 86400:
        return f"{seconds // 86400}d"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_guest_quota(data: Mapping[str, object], where: str) -> GuestQuota:
    """One `[[guests]]` table: `uses`, `window` and an optional `feature`.

    Raises:
        InvalidInput: an unknown field, a bad feature key, count or window.
    """
    refuse_unknown(data, {"feature", "uses", "window"}, where)
    uses = data.get("uses")
    if type(uses) is not int or not 1 <= uses <= GUEST_USES_MAX:
        raise InvalidInput(field=f"{where}.uses", reason=f"an integer from 1 to {GUEST_USES_MAX}")
    feature = data.get("feature")
    return GuestQuota(
        uses=uses,
        window_s=parse_window(data.get("window"), field=f"{where}.window"),
        feature=None if feature is None else check_feature_key(feature, field=f"{where}.feature"),
    )


def guest_quota_data(quota: GuestQuota) -> dict[str, object]:
    """The file form of a quota: what `parse_guest_quota` reads back to an equal quota."""
    data: dict[str, object] = {}
    if quota.feature is not None:
        data["feature"] = quota.feature
    data["uses"] = quota.uses
    data["window"] = window_text(quota.window_s)
    return data


def parse_guest_quotas(value: object, where: str = "guests") -> tuple[GuestQuota, ...]:
    """A catalog's `[[guests]]` list: at most one quota per feature and one for all.

    Raises:
        InvalidInput: not a list of tables, too many, a bad quota or a scope twice.
    """
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidInput(field=where, reason="must be a list of tables")
    if len(value) > GUEST_QUOTAS_MAX:
        raise InvalidInput(field=where, reason=f"at most {GUEST_QUOTAS_MAX} guest quotas")
    quotas: dict[str, GuestQuota] = {}
    for i, item in enumerate(value):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(field=at, reason="must be a table")
        quota = parse_guest_quota(item, at)
        if quota.scope in quotas:
            shown = "every feature" if quota.feature is None else quota.feature
            raise InvalidInput(field=f"{at}.feature", reason=f"a second quota for {shown}")
        quotas[quota.scope] = quota
    return tuple(sorted(quotas.values(), key=_quota_order))


def _quota_order(quota: GuestQuota) -> tuple[bool, str]:
    return (quota.feature is not None, quota.feature or "")


def quotas_for(quotas: Sequence[GuestQuota], feature: str | None) -> tuple[GuestQuota, ...]:
    """The quotas a use of `feature` counts against: every feature's, then its own."""
    return tuple(q for q in quotas if q.feature is None or q.feature == feature)


def check_session_id(value: object) -> str:
    """The app's id of a guest's session: printable ASCII without spaces.

    Raises:
        InvalidInput: missing, too long, or not such text.
    """
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= SESSION_ID_LENGTH_MAX
        or not value.isascii()
        or not value.isprintable()
        or " " in value
    ):
        reason = f"printable ASCII without spaces, 1 to {SESSION_ID_LENGTH_MAX} characters"
        raise InvalidInput(field="session_id", reason=reason)
    return value


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def network_of(address: object) -> str:
    """The network a client is counted by: its IPv4 address, or its IPv6 address's /64.

    An IPv4 address written as IPv6 (`::ffff:203.0.113.5`) counts as the IPv4 address.

    Raises:
        InvalidInput: not an IP address.
    """
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else None
    except ValueError:
        ip = None
    if ip is None:
        raise InvalidInput(field="ip", reason="must be an IPv4 or IPv6 address")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))


def parse_trusted_proxies(values: Sequence[str]) -> tuple[Network, ...]:
    """The proxies whose `X-Forwarded-For` is believed: addresses or networks.

    A wildcard (`*`, `0.0.0.0/0`, `::/0`) is refused: trusting every peer would let any
    client write its own address and pass as a new guest with every call.

    Raises:
        InvalidInput: a wildcard, or not an address or network.
    """
    networks = []
    for i, value in enumerate(values):
        field = f"trusted_proxies[{i}]"
        if value.strip() == "*":
            raise InvalidInput(field=field, reason="a wildcard would trust every client")
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            raise InvalidInput(field=field, reason="an IP address or network") from None
        if network.prefixlen == 0:
            raise InvalidInput(field=field, reason="a wildcard would trust every client")
        networks.append(network)
    return tuple(networks)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in proxies if network.version == ip.version)


def client_ip(peer: str, forwarded_for: Sequence[str], proxies: Sequence[Network]) -> str:
    """The client's address: the peer's, or the one a chain of trusted proxies forwarded.

    `X-Forwarded-For` is read from the right (each proxy appends the address it saw), only
    while the hop that wrote it is trusted: the first untrusted address is the client. A
    peer that is not a trusted proxy is the client, whatever the header says.
    """
    if not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",")]
    client = peer
    for hop in reversed([h for h in hops if h]):
        client = hop
        if not _trusted(hop, proxies):
            break
    return client


@dataclass(frozen=True, slots=True)
class Counter:
    """One count a use is judged by: a quota's scope and a session or a network."""

    key: str
    limit: int
    window_ms: int
    by_session: bool


def counters(quotas: Sequence[GuestQuota], session_id: str, network: str) -> tuple[Counter, ...]:
    """Each quota's two counters, by session and by network, in key order (the lock order)."""
    found = []
    for quota in quotas:
        window_ms = quota.window_s * 1000
        found.append(Counter(f"{quota.scope}|s|{session_id}", quota.uses, window_ms, True))
        found.append(Counter(f"{quota.scope}|n|{network}", quota.uses, window_ms, False))
    return tuple(sorted(found, key=lambda c: c.key))


@dataclass(frozen=True, slots=True)
class Window:
    """A counter's uses still in its window: how many, and when the oldest was made."""

    count: int
    oldest_ms: int | None


def live(uses: Sequence[int], counter: Counter, now_ms: int) -> Window:
    """The window of a counter from the instants of its uses (older ones have left it)."""
    kept = [t for t in uses if t > now_ms - counter.window_ms]
    return Window(len(kept), min(kept) if kept else None)


def admits(counted: Sequence[tuple[Counter, Window]]) -> bool:
    """Whether a use fits: every counter is below its limit (the use then counts on all)."""
    return all(window.count < counter.limit for counter, window in counted)


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What a use (or a look) finds: allowed or not, what is left, and when it resets."""

    allowed: bool
    limit: int
    remaining: int
    """Uses left after this one (for a look: left now)."""
    reset_at_ms: int | None
    """When the strictest counter gets a use back (None: it has no use to give back)."""
    retry_after_ms: int = 0
    """A refused use: how long until every counter that refused it has room."""


def judge(
    counted: Sequence[tuple[Counter, Window]], now_ms: int, *, taking: bool = True
) -> Verdict:
    """Decide a use from each counter's live window; `taking=False` only looks.

    A use is allowed when every counter is below its limit; it then counts on every one.
    The strictest counter (fewest left; on a tie, the one that resets last) gives the
    figures a guest sees.
    """
    assert counted, "a use is judged by at least one counter"
    taken = 1 if taking else 0
    if taking and not admits(counted):
        blocked = [(c, w) for c, w in counted if w.count >= c.limit]
        waits = [w.oldest_ms + c.window_ms - now_ms for c, w in blocked if w.oldest_ms is not None]
        retry_ms = max(1, max(waits))
        return Verdict(
            allowed=False,
            limit=min(c.limit for c, _ in blocked),
            remaining=0,
            reset_at_ms=now_ms + retry_ms,
            retry_after_ms=retry_ms,
        )

    def after(counter: Counter, window: Window) -> tuple[int, int | None]:
        left = max(0, counter.limit - window.count - taken)
        oldest = window.oldest_ms if window.oldest_ms is not None else (now_ms if taking else None)
        return left, None if oldest is None else oldest + counter.window_ms

    figures = [(after(c, w), c) for c, w in counted]
    (left, reset), counter = min(figures, key=lambda f: (f[0][0], -(f[0][1] or 0)))
    return Verdict(allowed=True, limit=counter.limit, remaining=left, reset_at_ms=reset)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(at: datetime) -> int:
    """An instant in whole milliseconds since the epoch (rounded down): how counters store it."""
    return (at - _EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The instant of a counter's milliseconds."""
    return _EPOCH + ms * _MS


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestAllowance:
    """What a guest may still do: uses left in the strictest window, and when it resets."""

    limit: int
    remaining: int
    reset_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GuestSession:
    """A guest's session as first seen, and the account it became when the guest signed up."""

    session_id: str
    first_seen_at: datetime
    account_id: str | None
    linked_at: datetime | None

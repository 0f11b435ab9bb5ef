"""Balance alerts: one event each time available credits cross a line, never one per charge.

An account has a low-balance line: its own, or else the catalog's default; with neither,
it has no alerts at all. Its level is `ok` at or above the line, `low` below it, and
`depleted` at zero or below (a depleted account may still be above its floor when it has
an overdraft). The level is kept on the account row and moved where the figures are
written, from the figures about to be written, so noticing a crossing costs no read.

Each change of level raises events:

- down, one event per line crossed: `ok -> depleted` raises `balance.low` and then
  `balance.depleted`, because an endpoint that listens to `balance.low` alone must hear
  that the balance went low however far it fell in one write;
- up, one `balance.recovered`, whose payload names the new level (`low` or `ok`): one
  type says "better now", and the level says how much better.

Staying at a level raises nothing, so twenty charges below the line raise one
`balance.low` between them: the one of the crossing. A change of the line itself (a new
own line, a new catalog default) moves the level on the account's next write, and raises
what that move crosses. With no line the level rests at `ok`, silently.
"""

from dataclasses import dataclass
from enum import StrEnum

from creditgate.domain.amounts import Credits
from creditgate.domain.ids import AccountId
from creditgate.domain.webhooks import EventType


class AlertLevel(StrEnum):
    """Where an account's available credits stand against its lines."""

    OK = "ok"
    LOW = "low"
    DEPLETED = "depleted"


_RANK = {AlertLevel.OK: 0, AlertLevel.LOW: 1, AlertLevel.DEPLETED: 2}


def level_of(*, available_units: int, low_units: int | None) -> AlertLevel:
    """The level of these available credits against a low line (None: no line, `ok`)."""
    if low_units is None:
        return AlertLevel.OK
    if available_units <= 0:
        return AlertLevel.DEPLETED
    if available_units < low_units:
        return AlertLevel.LOW
    return AlertLevel.OK


def crossings(old: AlertLevel, new: AlertLevel) -> tuple[EventType, ...]:
    """The events a move from `old` to `new` raises, in the order they happened."""
    if _RANK[new] == _RANK[old]:
        return ()
    if _RANK[new] < _RANK[old]:
        return (EventType.BALANCE_RECOVERED,)
    passed: list[EventType] = []
    if _RANK[old] < _RANK[AlertLevel.LOW]:
        passed.append(EventType.BALANCE_LOW)
    if new is AlertLevel.DEPLETED:
        passed.append(EventType.BALANCE_DEPLETED)
    return tuple(passed)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceAlert:
    """An account's low-balance line and where its balance stands against it."""

    account_id: AccountId
    low: Credits | None
    """The account's own line (None: it follows the catalog's default)."""
    default_low: Credits | None
    """The catalog's default line (None: no default)."""
    level: AlertLevel
    """The level as of the account's last write."""

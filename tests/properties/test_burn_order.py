"""Properties of `plan_burn`: the one documented burn order, checked against a plain model.

The order (domain/lots.py): priority (lower first), then soonest expiry with never-expiring
lots last, then oldest, then lot id. Expired lots and pinned (held) credits are never taken.
"""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from creditgate import Credits, LotSource
from creditgate.domain.ids import LotId
from creditgate.domain.lots import Lot, plan_burn

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# Few distinct values, so ties on every part of the order are common.
PRIORITIES = st.sampled_from([-10, 0, 0, 0, 5])
EXPIRIES = st.one_of(
    st.none(),
    st.sampled_from([-60, 0, 1, 60, 3600]).map(lambda s: NOW + timedelta(seconds=s)),
)
CREATED = st.sampled_from([-7200, -60, 0]).map(lambda s: NOW + timedelta(seconds=s))


@st.composite
def lot_sets(draw: st.DrawFn) -> list[Lot]:
    """Up to 8 lots with distinct ids, in no particular order."""
    count = draw(st.integers(0, 8))
    ids = draw(st.lists(st.integers(1, 100), min_size=count, max_size=count, unique=True))
    lots = []
    for lot_id in ids:
        amount = draw(st.integers(1, 5000))
        remaining = draw(st.integers(0, amount))
        held = draw(st.integers(0, remaining))
        lots.append(
            Lot(
                id=LotId(lot_id),
                source=draw(st.sampled_from(LotSource)),
                amount=Credits(amount),
                remaining=Credits(remaining),
                held=Credits(held),
                priority=draw(PRIORITIES),
                expires_at=draw(EXPIRIES),
                created_at=draw(CREATED),
                metadata={},
            )
        )
    return lots


def _burns_before(a: Lot, b: Lot) -> bool:
    """Whether `a` burns before `b`, rule by rule as the docstring states them."""
    if a.priority != b.priority:
        return a.priority < b.priority
    if (a.expires_at is None) != (b.expires_at is None):
        return b.expires_at is None  # never-expiring burns last
    if a.expires_at is not None and b.expires_at is not None and a.expires_at != b.expires_at:
        return a.expires_at < b.expires_at
    if a.created_at != b.created_at:
        return a.created_at < b.created_at
    return a.id < b.id


def _reference_burn(lots: list[Lot], units: int, now: datetime) -> list[tuple[int, int]]:
    """Pick the first lot by the order again and again (a selection sort), taking greedily."""
    candidates = [
        lot
        for lot in lots
        if (lot.expires_at is None or lot.expires_at > now) and lot.remaining.units > lot.held.units
    ]
    moves: list[tuple[int, int]] = []
    left = units
    while candidates and left > 0:
        first = candidates[0]
        for lot in candidates[1:]:
            if _burns_before(lot, first):
                first = lot
        candidates.remove(first)
        take = min(left, first.remaining.units - first.held.units)
        moves.append((first.id, take))
        left -= take
    return moves


def _after(lots: list[Lot], moves: tuple[tuple[LotId, int], ...]) -> list[Lot]:
    """The lots once `moves` have been taken from them."""
    taken = dict(moves)
    return [
        Lot(
            id=lot.id,
            source=lot.source,
            amount=lot.amount,
            remaining=lot.remaining - Credits(taken.get(lot.id, 0)),
            held=lot.held,
            priority=lot.priority,
            expires_at=lot.expires_at,
            created_at=lot.created_at,
            metadata=lot.metadata,
        )
        for lot in lots
    ]


def _per_lot(*burns: tuple[tuple[LotId, int], ...]) -> dict[int, int]:
    total: dict[int, int] = {}
    for moves in burns:
        for lot_id, units in moves:
            total[lot_id] = total.get(lot_id, 0) + units
    return total


@given(lot_sets(), st.integers(0, 30_000))
def test_plan_burn_takes_lots_in_the_documented_order(lots: list[Lot], units: int) -> None:
    burn = plan_burn(lots, units, now=NOW)

    assert list(burn.moves) == _reference_burn(lots, units, NOW)


@given(lot_sets(), st.integers(0, 30_000))
def test_plan_burn_covered_and_uncovered_add_up_to_the_request(lots: list[Lot], units: int) -> None:
    burn = plan_burn(lots, units, now=NOW)

    free = sum(lot.free.units for lot in lots if lot.is_live(NOW))
    assert burn.covered_units + burn.uncovered_units == units
    assert burn.covered_units == min(units, free)
    assert burn.uncovered_units >= 0


@given(lot_sets(), st.integers(0, 30_000))
def test_plan_burn_takes_only_free_credits_of_live_lots(lots: list[Lot], units: int) -> None:
    by_id = {lot.id: lot for lot in lots}

    burn = plan_burn(lots, units, now=NOW)

    assert len({lot_id for lot_id, _ in burn.moves}) == len(burn.moves)
    for lot_id, taken in burn.moves:
        lot = by_id[lot_id]
        assert 0 < taken <= lot.remaining.units - lot.held.units
        assert lot.expires_at is None or lot.expires_at > NOW


@given(lot_sets(), st.integers(0, 15_000), st.integers(0, 15_000))
def test_plan_burn_of_a_plus_b_equals_a_then_b(lots: list[Lot], a: int, b: int) -> None:
    first = plan_burn(lots, a, now=NOW)
    second = plan_burn(_after(lots, first.moves), b, now=NOW)

    together = plan_burn(lots, a + b, now=NOW)

    assert _per_lot(together.moves) == _per_lot(first.moves, second.moves)
    assert together.uncovered_units == first.uncovered_units + second.uncovered_units

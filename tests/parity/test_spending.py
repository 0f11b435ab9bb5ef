"""Credits in and out: grants, charges, holds, refunds, transfers, idempotency."""

from datetime import timedelta

from creditgate import (
    Account,
    AccountFrozen,
    Credits,
    Engine,
    HoldNotPending,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidInput,
    Ledger,
    Receipt,
)
from creditgate.domain.ids import EntryId, HoldId
from tests.factories import funded_account
from tests.parity.conftest import ON_SQLITE_ONLY, Faces

MINUTE = timedelta(minutes=1)


def _funded(engine: Engine) -> Account:
    return funded_account(engine, "user_1", 100)


def _hold_of(receipt: Receipt) -> HoldId:
    assert receipt.hold is not None
    return receipt.hold.id


def test_grant_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1"))

    embedded, remote = faces.both(lambda ledger: ledger.grant("user_1", "10.5"))

    assert embedded == remote
    assert remote.entry.source == "bonus"


def test_grant_answers_equal_receipts_when_the_lot_expires(faces: Faces) -> None:
    faces.arrange(lambda engine: engine.create_account("user_1"))
    expires_at = faces.clock.now() + timedelta(days=30)

    embedded, remote = faces.both(
        lambda ledger: (
            ledger.grant("user_1", 10, source="purchase", expires_at=expires_at, priority=-1),
            ledger.grant("user_1", 5, source="promo", metadata={"campaign": "spring"}),
            ledger.charge("user_1", 12),
        )
    )

    assert embedded == remote
    assert [move.amount for move in remote[2].entry.moves] == [
        Credits.parse(-10),
        Credits.parse(-2),
    ]


def test_adjust_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(_funded)

    embedded, remote = faces.both(
        lambda ledger: ledger.adjust("user_1", "-2.5", reason="duplicate", actor="ops@example.com")
    )

    assert embedded == remote
    assert remote.balance.balance == Credits.parse("97.5")


def test_charge_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(_funded)

    embedded, remote = faces.both(
        lambda ledger: ledger.charge("user_1", "2.5", request_id="r1", metadata={"job": 7})
    )

    assert embedded == remote
    assert (remote.credits_used, remote.credits_remaining) == (
        Credits.parse("2.5"),
        Credits.parse("97.5"),
    )


def test_charge_answers_equal_priced_receipts_when_priced_by_feature(faces: Faces) -> None:
    faces.arrange(lambda engine: (engine.seed("media-studio"), _funded(engine)))

    embedded, remote = faces.both(
        lambda ledger: ledger.charge("user_1", feature="audio.generate", quantity=40)
    )

    assert embedded == remote
    assert remote.quote is not None
    assert remote.credits_used == Credits.parse(3)


def test_charge_answers_equal_receipts_when_priced_by_tokens(faces: Faces) -> None:
    faces.arrange(lambda engine: (engine.seed("token-credits"), _funded(engine)))

    embedded, remote = faces.both(
        lambda ledger: ledger.charge(
            "user_1", feature="code.generate", quantity={"input": 3000, "output": 1000}
        )
    )

    assert embedded == remote
    assert remote.entry.quantity is not None


@ON_SQLITE_ONLY
def test_charge_raises_equal_insufficient_credits(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 1))

    embedded, remote = faces.each(lambda ledger: ledger.charge("user_1", "2.5"))

    assert embedded == remote
    assert remote == InsufficientCredits(required=Credits.parse("2.5"), available=Credits.parse(1))


@ON_SQLITE_ONLY
def test_charge_raises_equal_account_frozen_when_the_account_is_frozen(faces: Faces) -> None:
    faces.arrange(lambda engine: (_funded(engine), engine.update_account("user_1", is_frozen=True)))

    embedded, remote = faces.each(lambda ledger: ledger.charge("user_1", 1))

    assert embedded == remote == AccountFrozen(account_id="user_1")


def test_charge_replays_the_first_receipt_when_the_key_is_used_again(faces: Faces) -> None:
    faces.arrange(_funded)
    faces.both(lambda ledger: ledger.charge("user_1", 3, idempotency_key="job-1"))
    faces.clock.advance(timedelta(seconds=5))

    embedded, remote = faces.both(
        lambda ledger: ledger.charge("user_1", 3, idempotency_key="job-1")
    )

    assert embedded == remote
    assert faces.client.balance("user_1").balance == Credits.parse(97)


@ON_SQLITE_ONLY
def test_charge_raises_equal_idempotency_conflict_when_the_key_was_used_for_another_request(
    faces: Faces,
) -> None:
    faces.arrange(_funded)
    faces.both(lambda ledger: ledger.charge("user_1", 3, idempotency_key="job-1"))

    embedded, remote = faces.each(
        lambda ledger: ledger.charge("user_1", 4, idempotency_key="job-1")
    )

    assert embedded == remote == IdempotencyConflict(key="job-1")


@ON_SQLITE_ONLY
def test_charge_raises_equal_invalid_input_when_the_key_is_not_ascii(faces: Faces) -> None:
    """A header carries ASCII only, so no face takes a key the service could not be sent."""
    faces.arrange(_funded)

    embedded, remote = faces.each(
        lambda ledger: ledger.charge("user_1", 3, idempotency_key="ключ-1")
    )

    assert (
        embedded
        == remote
        == InvalidInput(field="idempotency_key", reason="must be printable ASCII")
    )


def _hold_extend_settle(ledger: Ledger) -> tuple[Receipt, Receipt, Receipt, object]:
    held = ledger.hold("user_1", 5, ttl=MINUTE, metadata={"job": 1})
    grown = ledger.extend(_hold_of(held), 2, ttl=2 * MINUTE)
    settled = ledger.settle(_hold_of(held), "6.5", latency_ms=900, request_id="r9")
    return held, grown, settled, ledger.get_hold(_hold_of(held))


def test_settle_answers_equal_receipts_after_hold_and_extend(faces: Faces) -> None:
    faces.arrange(_funded)

    embedded, remote = faces.both(_hold_extend_settle)

    assert embedded == remote
    assert remote[2].balance.balance == Credits.parse("93.5")


def test_settle_answers_equal_receipts_when_priced_by_quantity(faces: Faces) -> None:
    faces.arrange(lambda engine: (engine.seed("media-studio"), _funded(engine)))

    def act(ledger: Ledger) -> tuple[Receipt, Receipt]:
        held = ledger.hold("user_1", feature="audio.generate", quantity=60, ttl=MINUTE)
        return held, ledger.settle(_hold_of(held), quantity=20)

    embedded, remote = faces.both(act)

    assert embedded == remote
    assert remote[1].credits_used == Credits.parse(2)


def test_release_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(_funded)

    def act(ledger: Ledger) -> Receipt:
        held = ledger.hold("user_1", 5, ttl=MINUTE)
        return ledger.release(_hold_of(held), failure="upstream timeout", latency_ms=30)

    embedded, remote = faces.both(act)

    assert embedded == remote
    assert remote.balance.available == Credits.parse(100)


@ON_SQLITE_ONLY
def test_settle_raises_equal_hold_not_pending_when_the_hold_was_released(faces: Faces) -> None:
    faces.arrange(_funded)
    faces.arrange(lambda engine: engine.release(_hold_of(engine.hold("user_1", 5, ttl=MINUTE))))

    embedded, remote = faces.each(lambda ledger: ledger.settle(HoldId(1), 5))

    assert embedded == remote == HoldNotPending(hold_id=1, hold_status="released")


@ON_SQLITE_ONLY
def test_hold_raises_equal_invalid_input_when_the_ttl_has_a_fraction_of_a_second(
    faces: Faces,
) -> None:
    """The service counts a ttl in whole seconds, and so does every face."""
    faces.arrange(_funded)

    embedded, remote = faces.each(
        lambda ledger: ledger.hold("user_1", 1, ttl=timedelta(seconds=1.5))
    )

    assert embedded == remote == InvalidInput(field="ttl", reason="whole seconds")


@ON_SQLITE_ONLY
def test_hold_raises_equal_insufficient_credits(faces: Faces) -> None:
    faces.arrange(lambda engine: funded_account(engine, "user_1", 2))

    embedded, remote = faces.each(lambda ledger: ledger.hold("user_1", 5, ttl=MINUTE))

    assert embedded == remote
    assert isinstance(remote, InsufficientCredits)


def test_get_hold_answers_equal_expired_holds_when_the_ttl_has_passed(faces: Faces) -> None:
    faces.arrange(_funded)
    faces.arrange(lambda engine: engine.hold("user_1", 5, ttl=MINUTE))
    faces.clock.advance(2 * MINUTE)

    embedded, remote = faces.both(lambda ledger: ledger.get_hold(HoldId(1)))

    assert embedded == remote
    assert remote.status == "expired"


def _holding_succeeds(ledger: Ledger) -> tuple[Receipt | None, object]:
    with ledger.holding("user_1", 5, ttl=MINUTE) as work:
        work.actual = Credits.parse(4)
    return work.receipt, ledger.balance("user_1")


def test_holding_settles_equally_when_the_block_succeeds(faces: Faces) -> None:
    faces.arrange(_funded)

    embedded, remote = faces.both(_holding_succeeds)

    assert embedded == remote
    assert remote[0] is not None
    assert remote[0].entry.amount == Credits.parse(-4)


class WorkFailed(Exception):
    """The work inside a hold failed."""


def _holding_fails(ledger: Ledger) -> tuple[str, object]:
    try:
        with ledger.holding("user_1", 5, ttl=MINUTE):
            raise WorkFailed("model overloaded")
    except WorkFailed as error:
        return str(error), ledger.history("user_1", limit=1).items
    raise AssertionError("the block's error must propagate")


def test_holding_releases_equally_when_the_block_raises(faces: Faces) -> None:
    faces.arrange(_funded)

    embedded, remote = faces.both(_holding_fails)

    assert embedded == remote
    assert remote[0] == "model overloaded"


def test_refund_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(_funded)
    faces.arrange(lambda engine: engine.charge("user_1", 10))

    embedded, remote = faces.both(
        lambda ledger: ledger.refund(EntryId(2), 4, reason="generation failed")
    )

    assert embedded == remote
    assert remote.balance.balance == Credits.parse(94)


@ON_SQLITE_ONLY
def test_refund_raises_equal_invalid_input_when_more_than_was_charged(faces: Faces) -> None:
    faces.arrange(_funded)
    faces.arrange(lambda engine: engine.charge("user_1", 10))

    embedded, remote = faces.each(lambda ledger: ledger.refund(EntryId(2), 11))

    assert embedded == remote
    assert isinstance(remote, InvalidInput)


def test_transfer_answers_equal_receipts(faces: Faces) -> None:
    faces.arrange(lambda engine: (_funded(engine), engine.create_account("user_2")))

    embedded, remote = faces.both(
        lambda ledger: ledger.transfer("user_1", "user_2", "12.5", metadata={"note": "gift"})
    )

    assert embedded == remote
    assert remote.to_balance.balance == Credits.parse("12.5")


@ON_SQLITE_ONLY
def test_transfer_raises_equal_insufficient_credits(faces: Faces) -> None:
    faces.arrange(lambda engine: (_funded(engine), engine.create_account("user_2")))

    embedded, remote = faces.each(lambda ledger: ledger.transfer("user_1", "user_2", 101))

    assert embedded == remote
    assert isinstance(remote, InsufficientCredits)

"""Packs and purchases through both faces: equal packs, equal purchases, equal refusals."""

from creditgate import (
    Engine,
    InvalidInput,
    PackClaimed,
    PackExists,
    PackNotFound,
    Provider,
    PurchaseNotFound,
)
from tests.parity.conftest import ON_SQLITE_ONLY, Faces


def _shop(engine: Engine) -> None:
    """A customer, a paid pack with one pending checkout, and a free-once pack."""
    engine.create_account("user_1")
    engine.create_account("user_2")
    engine.create_pack("creator", name="Creator", credits=110, bonus_credits=10, price_minor=1499)
    engine.create_pack("starter", name="Starter", credits=50, price_minor=0, is_free_once=True)
    engine.open_checkout("user_1", "creator", provider=Provider.STRIPE, reference="cs_1")


def test_create_and_change_packs_answer_equal_packs(faces: Faces) -> None:
    embedded, remote = faces.both(
        lambda ledger: (
            ledger.create_pack(
                "pro",
                name="Pro",
                credits="300",
                price_minor=2999,
                bonus_credits="0.5",
                badge="most popular",
                expires_after_days=365,
                sort_order=2,
            ),
            ledger.update_pack("pro", price_minor=2499, description="Three hundred"),
            ledger.deactivate_pack("pro"),
            ledger.get_pack("pro"),
            ledger.packs(),
            ledger.packs(include_inactive=True),
        )
    )

    assert embedded == remote
    assert remote[-1][0].badge == "most popular"


def test_claim_and_purchases_answer_equally(faces: Faces) -> None:
    faces.arrange(_shop)

    embedded, remote = faces.each(
        lambda ledger: (
            ledger.claim_pack("user_2", "starter", idempotency_key="claim-1"),
            ledger.claim_pack("user_2", "starter", idempotency_key="claim-1"),
            ledger.purchases("user_2"),
            ledger.purchases("user_1", limit=1),
            ledger.get_purchase("user_1", 1),
            ledger.balance("user_2"),
        )
    )

    assert embedded == remote


def test_pack_refusals_are_equal(faces: Faces) -> None:
    faces.arrange(_shop)
    faces.arrange(lambda engine: engine.claim_pack("user_1", "starter"))

    cases = [
        lambda ledger: ledger.claim_pack("user_1", "starter"),
        lambda ledger: ledger.claim_pack("user_1", "creator"),
        lambda ledger: ledger.claim_pack("user_1", "nothing"),
        lambda ledger: ledger.get_pack("nothing"),
        lambda ledger: ledger.get_purchase("user_2", 1),
        lambda ledger: ledger.create_pack("creator", name="Again", credits=1, price_minor=1),
        lambda ledger: ledger.create_pack("gift", name="Gift", credits=1, price_minor=0),
    ]
    outcomes = [faces.each(case) for case in cases]

    assert [embedded == remote for embedded, remote in outcomes] == [True] * len(cases)
    assert [type(embedded) for embedded, _ in outcomes] == [
        PackClaimed,
        InvalidInput,
        PackNotFound,
        PackNotFound,
        PurchaseNotFound,
        PackExists,
        InvalidInput,
    ]


@ON_SQLITE_ONLY
def test_bad_pack_inputs_are_refused_equally_before_the_wire(faces: Faces) -> None:
    faces.arrange(_shop)

    outcomes = [
        faces.each(lambda ledger: ledger.get_pack("Bad Key")),
        faces.each(lambda ledger: ledger.get_purchase("user_1", 0)),
        faces.each(lambda ledger: ledger.purchases("user_1", cursor="x")),
    ]

    assert [(e, r) for e, r in outcomes if e != r] == []
    assert all(isinstance(embedded, InvalidInput) for embedded, _ in outcomes)

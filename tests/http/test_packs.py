"""Packs and purchases over HTTP: the purchase page, admin changes, free claims, history.

Tests act on packs and accounts of their own in the module's shared world.
"""

from creditgate import Credits, Provider
from creditgate.schemas import AutoTopUpOut, PackOut, PurchaseOut
from tests.http.fixtures import (
    PACK,
    PAID_PACK,
    Service,
    fresh_id,
    own_account,
    service_fixture,  # noqa: F401
    snapshot,
)


def own_pack(service: Service, price_minor: int = 999) -> str:
    """A pack of the test's own."""
    key = fresh_id("pack").replace("_", "-")
    service.engine.create_pack(key, name="Own", credits=10, price_minor=price_minor)
    return key


def test_packs_answers_the_packs_on_sale_in_page_order(service: Service) -> None:
    response = service.http.get("/v1/packs", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == [
        PackOut.of(p).model_dump(mode="json") for p in service.engine.packs()
    ]
    keys = [p["key"] for p in response.json()]
    assert keys.index(PACK) < keys.index(PAID_PACK), "the free pack costs less"


def test_create_pack_adds_it_with_its_price_in_minor_units(service: Service) -> None:
    body = {
        "key": "creator-own",
        "name": "Creator",
        "credits": "110",
        "bonus_credits": "10",
        "price_minor": 1499,
        "badge": "best value",
        "expires_after_days": 365,
    }

    response = service.http.post("/v1/packs", json=body, headers=service.keys.header("admin"))

    assert response.status_code == 200, response.text
    stored = service.engine.get_pack("creator-own")
    assert response.json() == PackOut.of(stored).model_dump(mode="json")
    assert (stored.price_minor, stored.total_credits, stored.badge) == (
        1499,
        Credits.parse(120),
        "best value",
    )


def test_create_pack_answers_409_and_changes_nothing_when_the_key_is_taken(
    service: Service,
) -> None:
    before = service.engine.packs(include_inactive=True)
    body = {"key": PAID_PACK, "name": "Other", "credits": "5", "price_minor": 100}

    response = service.http.post("/v1/packs", json=body, headers=service.keys.header("admin"))

    assert (response.status_code, response.json()["code"]) == (409, "pack_exists")
    assert service.engine.packs(include_inactive=True) == before


def test_create_pack_answers_422_naming_the_field_of_a_free_pack_that_is_not_free_once(
    service: Service,
) -> None:
    before = service.engine.packs(include_inactive=True)
    body = {"key": "gift-own", "name": "Gift", "credits": "5", "price_minor": 0}

    response = service.http.post("/v1/packs", json=body, headers=service.keys.header("admin"))

    assert (response.status_code, response.json()["field"]) == (422, "price")
    assert service.engine.packs(include_inactive=True) == before


def test_get_pack_answers_the_engines_pack(service: Service) -> None:
    response = service.http.get(f"/v1/packs/{PAID_PACK}", headers=service.keys.header("read"))

    assert response.status_code == 200
    assert response.json() == PackOut.of(service.engine.get_pack(PAID_PACK)).model_dump(mode="json")


def test_update_pack_changes_its_price(service: Service) -> None:
    key = own_pack(service)

    response = service.http.patch(
        f"/v1/packs/{key}", json={"price_minor": 1299}, headers=service.keys.header("admin")
    )

    assert response.status_code == 200, response.text
    assert response.json()["price_minor"] == 1299
    assert service.engine.get_pack(key).price_minor == 1299


def test_deactivate_pack_stops_selling_it(service: Service) -> None:
    key = own_pack(service)

    response = service.http.post(
        f"/v1/packs/{key}/deactivate", headers=service.keys.header("admin")
    )

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert key not in [p.key for p in service.engine.packs()]
    assert key in [p.key for p in service.engine.packs(include_inactive=True)]


def test_claim_pack_grants_a_free_pack_once(service: Service) -> None:
    ids = own_account(service.engine)
    before = service.engine.balance(ids.account_id).balance
    headers = service.keys.header("write")

    first = service.http.post(f"/v1/accounts/{ids.account_id}/packs/{PACK}/claim", headers=headers)
    after_first = snapshot(service.engine, ids.account_id)
    again = service.http.post(f"/v1/accounts/{ids.account_id}/packs/{PACK}/claim", headers=headers)

    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["credits"]) == ("paid", "50")
    assert service.engine.balance(ids.account_id).balance == before + Credits.parse(50)
    assert (again.status_code, again.json()["code"]) == (409, "pack_claimed")
    assert snapshot(service.engine, ids.account_id) == after_first


def test_claim_pack_replays_with_the_same_idempotency_key(service: Service) -> None:
    ids = own_account(service.engine)
    headers = {**service.keys.header("write"), "Idempotency-Key": f"claim-{ids.account_id}"}
    url = f"/v1/accounts/{ids.account_id}/packs/{PACK}/claim"

    first = service.http.post(url, headers=headers)
    again = service.http.post(url, headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()


def test_claim_pack_answers_422_for_a_pack_sold_by_checkout(service: Service) -> None:
    ids = own_account(service.engine)
    before = snapshot(service.engine, ids.account_id)

    response = service.http.post(
        f"/v1/accounts/{ids.account_id}/packs/{PAID_PACK}/claim",
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["field"]) == (422, "pack")
    assert snapshot(service.engine, ids.account_id) == before


def test_purchases_answers_the_accounts_purchases_newest_first(service: Service) -> None:
    ids = own_account(service.engine)
    service.engine.claim_pack(ids.account_id, PACK)
    service.engine.open_checkout(
        ids.account_id, PAID_PACK, provider=Provider.STRIPE, reference=fresh_id("cs")
    )

    response = service.http.get(
        f"/v1/accounts/{ids.account_id}/purchases?limit=2", headers=service.keys.header("read")
    )

    assert response.status_code == 200
    page = service.engine.purchases(ids.account_id, limit=2)
    assert response.json() == {
        "items": [PurchaseOut.of(p).model_dump(mode="json") for p in page.items],
        "next_cursor": page.next_cursor,
    }
    assert [p["status"] for p in response.json()["items"]] == ["pending", "paid"]
    assert page.next_cursor is not None, "own_account opened a checkout of its own first"


def test_get_purchase_answers_one_purchase_of_the_account(service: Service) -> None:
    ids = own_account(service.engine)

    response = service.http.get(
        f"/v1/accounts/{ids.account_id}/purchases/{ids.purchase_id}",
        headers=service.keys.header("read"),
    )

    assert response.status_code == 200
    assert response.json() == PurchaseOut.of(
        service.engine.get_purchase(ids.account_id, ids.purchase_id)
    ).model_dump(mode="json")
    assert (response.json()["pack"], response.json()["amount_minor"]) == (PAID_PACK, 1499)


def test_get_purchase_answers_404_for_another_accounts_purchase(service: Service) -> None:
    ids = own_account(service.engine)

    response = service.http.get(
        f"/v1/accounts/{ids.account_id}/purchases/{service.world.theirs.purchase_id}",
        headers=service.keys.header("read"),
    )

    assert (response.status_code, response.json()["code"]) == (404, "purchase_not_found")


def test_checkout_answers_503_and_records_nothing_when_stripe_is_not_configured(
    service: Service,
) -> None:
    ids = own_account(service.engine)
    before = service.engine.purchases(ids.account_id).items
    body = {
        "account_id": ids.account_id,
        "pack": PAID_PACK,
        "success_url": "https://app.example/ok",
        "cancel_url": "https://app.example/cancel",
    }

    response = service.http.post("/v1/checkout", json=body, headers=service.keys.header("write"))

    assert (response.status_code, response.json()["code"]) == (503, "unavailable")
    assert service.engine.purchases(ids.account_id).items == before


def test_auto_top_up_is_set_read_and_disabled(service: Service) -> None:
    ids = own_account(service.engine)
    account = ids.account_id
    read, write = service.keys.header("read"), service.keys.header("write")
    body = {
        "pack": PAID_PACK,
        "threshold": "10",
        "customer_ref": "cus_1",
        "payment_method_ref": "pm_1",
    }

    never = service.http.get(f"/v1/accounts/{account}/auto-top-up", headers=read)
    made = service.http.put(f"/v1/accounts/{account}/auto-top-up", json=body, headers=write)
    shown = service.http.get(f"/v1/accounts/{account}/auto-top-up", headers=read)
    off = service.http.delete(f"/v1/accounts/{account}/auto-top-up", headers=write)

    assert (never.status_code, never.json()) == (200, None)
    assert made.status_code == 200, made.text
    assert (made.json()["state"], made.json()["threshold"], made.json()["is_enabled"]) == (
        "armed",
        "10",
        True,
    )
    assert shown.json() == made.json()
    assert (off.json()["is_enabled"], off.json()["state"]) == (False, None)
    found = service.engine.auto_top_up(account)
    assert found is not None
    assert AutoTopUpOut.of(found).model_dump(mode="json") == off.json()


def test_auto_top_up_refuses_a_free_pack(service: Service) -> None:
    ids = own_account(service.engine)
    body = {"pack": PACK, "threshold": "10", "customer_ref": "c", "payment_method_ref": "p"}

    response = service.http.put(
        f"/v1/accounts/{ids.account_id}/auto-top-up",
        json=body,
        headers=service.keys.header("write"),
    )

    assert (response.status_code, response.json()["field"]) == (422, "pack")
    assert service.engine.auto_top_up(ids.account_id) is None

"""The widgets' routes: tokens minted by a key, reads and a checkout made with a token.

A token reads the account it names and nothing else; a forged, altered, expired or retired
token reads nothing; an API key is not a token, nor a token an API key; only the widget
routes answer a browser on another origin.
"""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from creditgate import Credits, Engine, ManualClock
from creditgate.app import create_app
from creditgate.domain.widgets import TOKEN_TTL_S_MAX
from creditgate.settings import Settings
from tests.fakes.stripe_api import FakeStripe
from tests.http.conftest import LENIENT, PEER, Keys

APP = "https://app.example"
FEATURE = "image.generate"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as served:
        yield served


@pytest.fixture
def http(engine: Engine, stripe_fake: FakeStripe) -> Iterator[TestClient]:
    """The service with widget origins, Stripe at the fake, a catalog, packs and two accounts."""
    settings = LENIENT.model_copy(
        update={
            "widget_origins": (APP,),
            "stripe_secret_key": SecretStr(stripe_fake.secret_key),
            "stripe_api_base": stripe_fake.url,
        }
    )
    engine.create_feature(FEATURE, name="Images")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "2"})
    engine.set_price(FEATURE, {"rule": "flat", "credits": "5"}, model="flux-pro")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "10"}, model="ultra")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "1"}, model="sd-*")
    engine.create_pack("starter", name="Starter", credits=50, price_minor=0, is_free_once=True)
    engine.create_pack("creator", name="Creator", credits=110, price_minor=1499, sort_order=1)
    engine.create_account("user_1")
    engine.create_account("user_2")
    engine.grant("user_1", "6")
    engine.grant("user_2", "500")
    with TestClient(
        create_app(settings, engine=engine), raise_server_exceptions=False, client=PEER
    ) as client:
        yield client


def mint(http: TestClient, keys: Keys, **body: object) -> str:
    answer = http.post("/v1/widget-tokens", json=body, headers=keys.header("write"))
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def test_a_minted_token_reads_its_account_and_expires(
    http: TestClient, keys: Keys, clock: ManualClock
) -> None:
    minted = http.post(
        "/v1/widget-tokens",
        json={"account_id": "user_1", "ttl_s": 60},
        headers=keys.header("write"),
    )
    token = minted.json()["token"]

    fresh = http.get("/v1/widget/balance", headers=bearer(token))
    clock.advance(timedelta(seconds=59))
    last = http.get("/v1/widget/balance", headers=bearer(token))
    clock.advance(timedelta(seconds=1))
    expired = http.get("/v1/widget/balance", headers=bearer(token))

    assert minted.json()["account_id"] == "user_1"
    assert minted.json()["expires_at"] == (clock.now()).isoformat().replace("+00:00", "Z")
    assert (fresh.status_code, last.status_code, expired.status_code) == (200, 200, 401)
    assert fresh.json()["account_id"] == "user_1"
    assert "expired" in expired.json()["detail"]


def test_rotating_the_keys_refuses_every_token_so_far(http: TestClient, keys: Keys) -> None:
    old = mint(http, keys, account_id="user_1")

    rotated = http.post("/v1/widget-keys/rotate", headers=keys.header("admin"))
    new = mint(http, keys, account_id="user_1")

    assert rotated.json() == {"retired": 1}
    assert http.get("/v1/widget/balance", headers=bearer(old)).status_code == 401
    assert http.get("/v1/widget/balance", headers=bearer(new)).status_code == 200


def test_balance_answers_the_figures_and_the_low_level(
    http: TestClient, keys: Keys, engine: Engine
) -> None:
    engine.hold("user_1", "1", ttl=timedelta(minutes=5))
    engine.set_balance_alert("user_1", low="20")
    token = mint(http, keys, account_id="user_1")

    answer = http.get("/v1/widget/balance", headers=bearer(token))

    figures = engine.balance("user_1")
    assert answer.json() == {
        "account_id": "user_1",
        "balance": str(figures.balance),
        "held": str(figures.held),
        "available": str(figures.available),
        "low_line": "20",
        "level": "low",
    }
    assert (figures.balance, figures.held) == (Credits.parse("6"), Credits.parse("1"))


def test_costs_answer_each_models_state_for_the_account(
    http: TestClient, keys: Keys, engine: Engine
) -> None:
    engine.set_balance_alert("user_1", low="3")
    token = mint(http, keys, account_id="user_1")
    guest = mint(http, keys)

    answer = http.get("/v1/widget/costs", params={"feature": FEATURE}, headers=bearer(token))
    as_guest = http.get("/v1/widget/costs", params={"feature": FEATURE}, headers=bearer(guest))

    assert answer.status_code == 200, answer.text
    assert answer.json()["spendable"] == "6"
    # 6 available, a low line of 3: 2 leaves 4, 5 leaves 1, 10 is out of reach; the family
    # price names no model to pick, so it is not listed.
    assert [(o["model"], o["amount"], o["state"]) for o in answer.json()["options"]] == [
        (None, "2", "sufficient"),
        ("flux-pro", "5", "low"),
        ("ultra", "10", "insufficient"),
    ]
    assert {o["state"] for o in as_guest.json()["options"]} == {"guest"}
    assert as_guest.json()["account_id"] is None
    assert as_guest.json()["spendable"] is None


def test_costs_of_named_models_include_a_familys_model(http: TestClient, keys: Keys) -> None:
    token = mint(http, keys, account_id="user_1")

    answer = http.get(
        "/v1/widget/costs",
        params=[("feature", FEATURE), ("models", "sd-xl"), ("models", "flux-pro")],
        headers=bearer(token),
    )

    assert [(o["model"], o["amount"]) for o in answer.json()["options"]] == [
        ("sd-xl", "1"),
        ("flux-pro", "5"),
    ]


def test_a_frozen_account_can_afford_nothing_and_an_unlimited_one_everything(
    http: TestClient, keys: Keys, engine: Engine
) -> None:
    engine.update_account("user_1", is_frozen=True)
    engine.update_account("user_2", is_unlimited=True)
    frozen = mint(http, keys, account_id="user_1")
    unlimited = mint(http, keys, account_id="user_2")

    a = http.get("/v1/widget/costs", params={"feature": FEATURE}, headers=bearer(frozen)).json()
    b = http.get("/v1/widget/costs", params={"feature": FEATURE}, headers=bearer(unlimited)).json()

    assert {o["state"] for o in a["options"]} == {"insufficient"}
    assert {o["state"] for o in b["options"]} == {"sufficient"}
    assert (a["spendable"], b["spendable"]) == ("0", None)


def test_costs_refuse_an_unknown_feature_and_a_bad_quantity(http: TestClient, keys: Keys) -> None:
    token = mint(http, keys, account_id="user_1")

    unknown = http.get("/v1/widget/costs", params={"feature": "nope"}, headers=bearer(token))
    bad = http.get(
        "/v1/widget/costs", params={"feature": FEATURE, "quantity": -1}, headers=bearer(token)
    )

    assert (unknown.status_code, unknown.json()["code"]) == (404, "feature_not_found")
    assert bad.status_code == 422


def test_packs_answers_what_is_for_sale_without_free_packs(http: TestClient, keys: Keys) -> None:
    token = mint(http, keys, account_id="user_1")

    answer = http.get("/v1/widget/packs", headers=bearer(token))

    assert [(p["key"], p["price_minor"], p["credits"]) for p in answer.json()] == [
        ("creator", 1499, "110")
    ]


def test_checkout_opens_a_session_that_returns_to_the_tokens_urls(
    http: TestClient, keys: Keys, engine: Engine, stripe_fake: FakeStripe
) -> None:
    token = mint(
        http,
        keys,
        account_id="user_1",
        success_url=f"{APP}/credits?paid=1",
        cancel_url=f"{APP}/credits",
    )

    opened = http.post("/v1/widget/checkout", json={"pack": "creator"}, headers=bearer(token))

    assert opened.status_code == 200, opened.text
    sent = stripe_fake.received("POST", "/v1/checkout/sessions")[-1].params
    assert (sent["success_url"], sent["cancel_url"]) == (f"{APP}/credits?paid=1", f"{APP}/credits")
    assert sent["metadata"] == {"account_id": "user_1", "pack": "creator"}
    purchase = engine.purchases("user_1").items[0]
    assert (purchase.status, purchase.reference) == (
        "pending",
        opened.json()["purchase"]["reference"],
    )


def test_checkout_needs_an_account_and_return_urls(
    http: TestClient, keys: Keys, engine: Engine
) -> None:
    bare = mint(http, keys, account_id="user_1")
    guest = mint(http, keys, success_url=f"{APP}/ok", cancel_url=f"{APP}/no")
    full = mint(http, keys, account_id="user_1", success_url=f"{APP}/ok", cancel_url=f"{APP}/no")

    without_urls = http.post("/v1/widget/checkout", json={"pack": "creator"}, headers=bearer(bare))
    as_guest = http.post("/v1/widget/checkout", json={"pack": "creator"}, headers=bearer(guest))
    free = http.post("/v1/widget/checkout", json={"pack": "starter"}, headers=bearer(full))
    unknown = http.post("/v1/widget/checkout", json={"pack": "nope"}, headers=bearer(full))

    assert (without_urls.status_code, as_guest.status_code) == (403, 403)
    assert (free.status_code, unknown.status_code) == (422, 404)
    assert engine.purchases("user_1").items == ()


def test_a_guest_token_reads_no_account(http: TestClient, keys: Keys) -> None:
    guest = mint(http, keys)

    answer = http.get("/v1/widget/balance", headers=bearer(guest))

    assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")


def test_an_altered_token_cannot_name_another_account(http: TestClient, keys: Keys) -> None:
    token = mint(http, keys, account_id="user_1")
    other = mint(http, keys, account_id="user_2")
    head, _, signature = token.rpartition(".")
    other_claims = other.split(".")[2]
    forged = ".".join([*head.split(".")[:2], other_claims, signature])

    answer = http.get("/v1/widget/balance", headers=bearer(forged))

    assert (answer.status_code, answer.json()["detail"]) == (401, "the widget token is not valid")


def test_a_token_from_another_service_is_refused(
    http: TestClient, keys: Keys, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = Engine(f"sqlite:///{tmp_path_factory.mktemp('elsewhere')}/other.db")
    elsewhere.create_account("user_1")
    foreign = elsewhere.mint_widget_token("user_1").token
    elsewhere.close()

    answer = http.get("/v1/widget/balance", headers=bearer(foreign))

    assert answer.status_code == 401


def test_keys_and_tokens_are_not_interchangeable(http: TestClient, keys: Keys) -> None:
    token = mint(http, keys, account_id="user_1")

    key_as_token = http.get("/v1/widget/balance", headers=keys.header("admin"))
    token_as_key = http.get("/v1/accounts/user_1/balance", headers=bearer(token))
    none = http.get("/v1/widget/balance")

    assert (key_as_token.status_code, token_as_key.status_code, none.status_code) == (
        401,
        401,
        401,
    )


def test_minting_refuses_bad_input_and_changes_nothing(
    http: TestClient, keys: Keys, engine: Engine
) -> None:
    write = keys.header("write")
    bound = engine.create_key("write", name="user_1 only", account_id="user_1")[1]
    answers = [
        http.post("/v1/widget-tokens", json={"account_id": "ghost"}, headers=write),
        http.post("/v1/widget-tokens", json={"account_id": "user_1", "ttl_s": 0}, headers=write),
        http.post(
            "/v1/widget-tokens",
            json={"account_id": "user_1", "ttl_s": TOKEN_TTL_S_MAX + 1},
            headers=write,
        ),
        http.post(
            "/v1/widget-tokens",
            json={"account_id": "user_1", "success_url": "javascript:alert(1)"},
            headers=write,
        ),
        http.post("/v1/widget-tokens", json={"account_id": "user_1", "ttl_s": "60"}, headers=write),
        http.post("/v1/widget-tokens", json={"account_id": "user_2"}, headers=bearer(bound)),
        http.post("/v1/widget-tokens", json={"account_id": "user_1"}, headers=keys.header("read")),
    ]

    assert [a.status_code for a in answers] == [404, 422, 422, 422, 422, 404, 403]
    assert http.post("/v1/widget-keys/rotate", headers=keys.header("admin")).json() == {
        "retired": 0
    }


def test_cors_answers_the_apps_origin_on_widget_routes_only(http: TestClient, keys: Keys) -> None:
    token = mint(http, keys, account_id="user_1")
    preflight = {
        "Origin": APP,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }

    allowed = http.options("/v1/widget/balance", headers=preflight)
    read = http.get("/v1/widget/balance", headers={**bearer(token), "Origin": APP})
    stranger = http.get(
        "/v1/widget/balance", headers={**bearer(token), "Origin": "https://evil.example"}
    )
    api = http.options("/v1/accounts/user_1/balance", headers=preflight)

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == APP
    assert read.headers["access-control-allow-origin"] == APP
    assert "access-control-allow-origin" not in stranger.headers
    assert "access-control-allow-origin" not in api.headers


def test_failed_tokens_count_as_failed_attempts_from_the_address(
    engine: Engine, keys: Keys
) -> None:
    engine.create_account("user_1")
    token = engine.mint_widget_token("user_1").token
    settings = Settings(auth_failures_max=3, auth_failures_window_s=3600)
    with TestClient(create_app(settings, engine=engine), client=PEER) as client:
        bad = [client.get("/v1/widget/balance", headers=bearer("cgw.1.e30.x")) for _ in range(3)]
        after = client.get("/v1/widget/balance", headers=bearer(token))

    assert [b.status_code for b in bad] == [401, 401, 401]
    assert after.status_code == 429


def test_the_script_is_served_as_javascript(http: TestClient) -> None:
    answer = http.get("/widgets.js")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    for element in ("balance", "cost", "model-picker", "packs"):
        assert f'"creditgate-{element}"' in answer.text

"""What the service's tests share: a world of two funded accounts, and every route under /v1.

`build_world` makes two organizations with the same shape, ours and theirs, each with a
member, a charge and a pending hold, plus a priced feature and a write key bound to ours.
Their balance and available credits end in ".125" and the metadata of their account, lots,
charge and hold carries `THEIR_SECRET`, so a response that shows their data is easy to catch.

`ROUTES` describes each route once: its scope, a request that succeeds on ours, what it
reaches (so a key bound to ours must meet 404 on theirs), whether it writes the ledger,
and the error statuses it answers besides 401, 403 and 422.

`service` is one world per test module and backend, shared by the tests of requests that
are refused (they change nothing, and check so) and by tests that act only on an account of
their own (`own_account`): the hundreds of them then cost milliseconds each instead of a
fresh database each. Any other test whose request succeeds takes the `http` and `engine`
fixtures and builds its world on an empty database.
"""

import itertools
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from creditgate import (
    Credits,
    Engine,
    GuestQuota,
    ManualClock,
    Provider,
    ReferralCondition,
    ReferralTerms,
)
from creditgate.app import create_app
from creditgate.domain.keys import Scope
from creditgate.domain.limits import PAGE_SIZE_MAX
from creditgate.storage.database import Database
from tests.conftest import BACKENDS, PG_ADMIN_URL, START
from tests.factories import organization
from tests.http.conftest import LENIENT, PEER, Keys

OURS = "org_1"
THEIRS = "org_2"
MEMBER = "member_1"
FEATURE = "image.generate"
PLAN = "basic"
"""A plan of no credits: subscribing to it moves no balance of the shared world."""
PROMO = "WORLD-1"
"""A promo code of one credit, for any number of accounts (each account redeems it once)."""
OTHER_PROMO = "WORLD-2"
REFERRAL_TERMS = ReferralTerms(
    referrer_credits=Credits.parse(1),
    referee_credits=Credits.parse(1),
    condition=ReferralCondition.FIRST_PURCHASE,
)
"""Referrals wait for a purchase: recording one moves no balance of the shared world."""
GUEST_QUOTAS = (GuestQuota(uses=1000, window_s=86400),)
"""Room for every guest call the route tests make."""
PACK = "starter"
"""A free-once pack: each account may claim it once."""
PAID_PACK = "creator"
THEIR_SECRET = "their-secret-note"
WORLD_HOOK = "https://hooks.example.com/world"
THEIR_MARK = ".125"
"""Their balance and available credits end so; no figure of ours does."""

Json = dict[str, Any]
Reach = Literal["account", "hold", "entry"]


@dataclass(frozen=True)
class Ids:
    """The ids a request names: one account's, or ids nothing has."""

    account_id: str
    counterparty: str
    hold_id: int
    entry_id: int
    member_id: str = MEMBER
    feature: str = FEATURE
    plan: str = PLAN
    promo: str = PROMO
    pack: str = PACK
    purchase_id: int = 999_999
    endpoint_id: int = 999_999
    delivery_id: int = 999_999


MISSING = Ids(
    account_id="nobody",
    counterparty=OURS,
    hold_id=999_999,
    entry_id=999_999,
    member_id="nobody",
    feature="no.such.feature",
    plan="no-such-plan",
    promo="NO-SUCH-CODE",
    pack="no-such-pack",
)
"""Ids that name nothing."""


@dataclass(frozen=True)
class World:
    """Two accounts of the same shape, and a write key bound to ours."""

    ours: Ids
    theirs: Ids
    missing: Ids
    bound: str

    def bound_header(self) -> dict[str, str]:
        """The Authorization header of the key bound to ours."""
        return {"Authorization": f"Bearer {self.bound}"}


def _spend(
    engine: Engine, account_id: str, charge: str, hold: str, metadata: Json | None = None
) -> tuple[int, int]:
    """A charge and a pending hold on the account: the charge's entry id and the hold's id."""
    charged = engine.charge(account_id, charge, metadata=metadata)
    held = engine.hold(account_id, hold, ttl=timedelta(minutes=5), metadata=metadata)
    assert held.hold is not None
    return charged.entry.id, held.hold.id


_OWN = itertools.count(1)


def fresh_id(kind: str) -> str:
    """An account id no other test names: a test in a shared world acts on its own."""
    return f"own_{kind}_{next(_OWN)}"


def own_account(engine: Engine) -> Ids:
    """A new organization of the test's own, shaped as ours, in a shared world."""
    account_id = fresh_id("org")
    organization(engine, account_id, 100, MEMBER)
    engine.subscribe(account_id, PLAN)
    charge, hold = _spend(engine, account_id, "2.5", "10")
    purchase = _pending_purchase(engine, account_id)
    return Ids(
        account_id=account_id,
        counterparty=THEIRS,
        hold_id=hold,
        entry_id=charge,
        purchase_id=purchase,
    )


def _pending_purchase(engine: Engine, account_id: str) -> int:
    """A checkout of the paid pack, opened and not paid: a purchase that moves no balance."""
    reference = f"cs_test_{account_id}"
    return engine.open_checkout(
        account_id, PAID_PACK, provider=Provider.STRIPE, reference=reference
    ).id


def build_world(engine: Engine) -> World:
    """The priced feature, both accounts with their member, charge and hold, the bound key.

    A webhook endpoint hears the world's grants: it has deliveries to read and redeliver
    (no worker sends them).
    """
    endpoint, _ = engine.create_webhook_endpoint(WORLD_HOOK, event_types=["credits.granted"])
    engine.create_feature(FEATURE, name="Image generation")
    engine.set_price(FEATURE, {"rule": "flat", "credits": "2"})
    engine.create_plan(PLAN, name="Basic", credits=0, prices={"month": 1500})
    engine.create_plan("pro", name="Pro", credits=0, prices={"month": 2900})
    engine.create_promo(PROMO, credits=1)
    engine.create_promo(OTHER_PROMO, credits=2)
    engine.apply_catalog(
        replace(engine.export_catalog(), referrals=REFERRAL_TERMS, guests=GUEST_QUOTAS)
    )
    engine.create_pack(PACK, name="Starter", credits=50, price_minor=0, is_free_once=True)
    engine.create_pack(PAID_PACK, name="Creator", credits=110, price_minor=1499)
    organization(engine, OURS, 100, MEMBER)
    engine.subscribe(OURS, PLAN)
    our_charge, our_hold = _spend(engine, OURS, "2.5", "10")
    note = {"note": THEIR_SECRET}
    engine.create_account(THEIRS, owner_kind="organization", metadata=note)
    engine.grant(THEIRS, "700.125", source="purchase", metadata=note)
    engine.add_member(THEIRS, MEMBER, spend_cap="50.125")
    engine.subscribe(THEIRS, PLAN)
    their_charge, their_hold = _spend(engine, THEIRS, "3", "5", note)
    _, bound = engine.create_key(Scope.WRITE, name="widget of org_1", account_id=OURS)
    ours = _pending_purchase(engine, OURS)
    theirs = _pending_purchase(engine, THEIRS)
    delivery = engine.webhook_deliveries(endpoint.id, limit=PAGE_SIZE_MAX).items[-1].id
    return World(
        ours=Ids(
            account_id=OURS,
            counterparty=THEIRS,
            hold_id=our_hold,
            entry_id=our_charge,
            purchase_id=ours,
            endpoint_id=endpoint.id,
            delivery_id=delivery,
        ),
        theirs=Ids(
            account_id=THEIRS,
            counterparty=OURS,
            hold_id=their_hold,
            entry_id=their_charge,
            purchase_id=theirs,
            endpoint_id=endpoint.id,
            delivery_id=delivery,
        ),
        missing=MISSING,
        bound=bound,
    )


def snapshot(engine: Engine, *also: str) -> tuple[object, ...]:
    """Everything a request could change: the accounts, their books and members, the catalog.

    The accounts are ours, theirs and those named.
    """
    accounts = (OURS, THEIRS, *also)
    return (
        tuple(engine.get_account(a) for a in accounts),
        tuple(engine.balance(a) for a in accounts),
        tuple(engine.history(a, limit=PAGE_SIZE_MAX).items for a in accounts),
        tuple(engine.members(a) for a in accounts),
        tuple((f, engine.price_history(f.key)) for f in engine.features()),
    )


Builder = Callable[[Ids], Json]


@dataclass(frozen=True)
class Route:
    """One route of the service, and a request to it that succeeds on ours."""

    method: str
    path: str
    scope: Scope
    body: Builder | None = None
    params: Builder | None = None
    reaches: Reach | None = None
    """The account, hold or entry the request names: a bound key meets 404 on another's."""
    missing: str | None = None
    """The problem code when the ids name nothing."""
    other_body: Builder | None = None
    """For a ledger write: another body, to reuse an idempotency key with."""
    errors: frozenset[int] = field(default_factory=frozenset)
    """Statuses the route answers besides 401, 403 and 422."""

    @property
    def id(self) -> str:
        """`METHOD /path`, as tests name it."""
        return f"{self.method} {self.path}"

    def url(self, ids: Ids) -> str:
        """The path with these ids."""
        return self.path.format(
            account_id=ids.account_id,
            member_id=ids.member_id,
            hold_id=ids.hold_id,
            entry_id=ids.entry_id,
            feature=ids.feature,
            plan=ids.plan,
            code=ids.promo,
            pack=ids.pack,
            purchase_id=ids.purchase_id,
            endpoint_id=ids.endpoint_id,
            delivery_id=ids.delivery_id,
        )

    def send(
        self,
        client: TestClient,
        ids: Ids,
        headers: Mapping[str, str] | None = None,
        *,
        body: Json | None = None,
    ) -> httpx.Response:
        """Call the route for these ids, with its own body unless another is given."""
        sent = body if body is not None else (None if self.body is None else self.body(ids))
        response: httpx.Response = client.request(
            self.method,
            self.url(ids),
            json=sent,
            params=None if self.params is None else self.params(ids),
            headers=dict(headers or {}),
        )
        return response


def _transfer(amount: str) -> Builder:
    return lambda ids: {
        "from_account_id": ids.account_id,
        "to_account_id": ids.counterparty,
        "amount": amount,
    }


# fmt: off
ACCOUNT_ROUTES = (
    Route("POST", "/v1/accounts", Scope.WRITE, lambda ids: {"account_id": ids.account_id},
          reaches="account", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("PATCH", "/v1/accounts/{account_id}", Scope.ADMIN,
          lambda ids: {"metadata": {"tier": "gold"}}, missing="account_not_found",
          errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/balance", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/balance_at", Scope.READ,
          params=lambda ids: {"at": "2026-01-01T11:00:00Z"}, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/lifetime", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/entries", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/lots", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/holds", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("POST", "/v1/accounts/{account_id}/check", Scope.READ,
          lambda ids: {"feature": FEATURE}, reaches="account", missing="account_not_found",
          errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/members", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("PUT", "/v1/accounts/{account_id}/members/{member_id}", Scope.WRITE,
          lambda ids: {"spend_cap": "40"}, reaches="account", missing="account_not_found",
          errors=frozenset({404})),
    Route("DELETE", "/v1/accounts/{account_id}/members/{member_id}", Scope.WRITE,
          reaches="account", missing="account_not_found", errors=frozenset({404})),
)
# fmt: on

# fmt: off
LEDGER_ROUTES = (
    Route("POST", "/v1/accounts/{account_id}/grants", Scope.WRITE,
          lambda ids: {"amount": "5"}, reaches="account", missing="account_not_found",
          other_body=lambda ids: {"amount": "6"}, errors=frozenset({404, 409})),
    Route("POST", "/v1/accounts/{account_id}/adjustments", Scope.ADMIN,
          lambda ids: {"amount": "-1", "reason": "duplicate purchase", "actor": "support"},
          missing="account_not_found",
          other_body=lambda ids: {"amount": "-2", "reason": "duplicate", "actor": "support"},
          errors=frozenset({402, 404, 409})),
    Route("POST", "/v1/accounts/{account_id}/charge", Scope.WRITE,
          lambda ids: {"amount": "2"}, reaches="account", missing="account_not_found",
          other_body=lambda ids: {"amount": "3"}, errors=frozenset({402, 404, 409})),
    Route("POST", "/v1/accounts/{account_id}/holds", Scope.WRITE,
          lambda ids: {"amount": "4", "ttl_s": 300}, reaches="account",
          missing="account_not_found", other_body=lambda ids: {"amount": "5", "ttl_s": 300},
          errors=frozenset({402, 404, 409})),
    Route("GET", "/v1/holds/{hold_id}", Scope.READ, reaches="hold", missing="hold_not_found",
          errors=frozenset({404})),
    Route("POST", "/v1/holds/{hold_id}/extend", Scope.WRITE, lambda ids: {"more": "1"},
          reaches="hold", missing="hold_not_found", other_body=lambda ids: {"more": "2"},
          errors=frozenset({402, 404, 409})),
    Route("POST", "/v1/holds/{hold_id}/settle", Scope.WRITE, lambda ids: {"actual": "3"},
          reaches="hold", missing="hold_not_found", other_body=lambda ids: {"actual": "4"},
          errors=frozenset({402, 404, 409})),
    Route("POST", "/v1/holds/{hold_id}/release", Scope.WRITE, lambda ids: {},
          reaches="hold", missing="hold_not_found",
          other_body=lambda ids: {"failure": "upstream timeout"}, errors=frozenset({404, 409})),
    Route("GET", "/v1/entries/{entry_id}", Scope.READ, reaches="entry",
          missing="entry_not_found", errors=frozenset({404})),
    Route("POST", "/v1/entries/{entry_id}/refund", Scope.WRITE, lambda ids: {"amount": "1"},
          reaches="entry", missing="entry_not_found", other_body=lambda ids: {"amount": "2"},
          errors=frozenset({404, 409})),
    Route("POST", "/v1/transfers", Scope.WRITE, _transfer("1"), reaches="account",
          missing="account_not_found", other_body=_transfer("2"),
          errors=frozenset({402, 404, 409})),
)
# fmt: on

CATALOG = {
    "welcome": {"credits": "10"},
    "features": [
        {
            "key": "audio.speech",
            "name": "Text to speech",
            "prices": [{"rule": "per_block", "credits": "1", "block": 15, "unit": "s"}],
        },
        {
            "key": FEATURE,
            "name": "Image generation",
            "prices": [{"rule": "flat", "credits": "2"}],
        },
    ],
}
"""A catalog file, in the order an export writes it (features by key)."""

# fmt: off
CATALOG_ROUTES = (
    Route("GET", "/v1/features", Scope.READ),
    Route("POST", "/v1/features", Scope.ADMIN,
          lambda ids: {"key": "image.upscale", "name": "Upscaling"}, errors=frozenset({409})),
    Route("GET", "/v1/features/{feature}", Scope.READ, missing="feature_not_found",
          errors=frozenset({404})),
    Route("PATCH", "/v1/features/{feature}", Scope.ADMIN, lambda ids: {"name": "Images"},
          missing="feature_not_found", errors=frozenset({404})),
    Route("DELETE", "/v1/features/{feature}", Scope.ADMIN, missing="feature_not_found",
          errors=frozenset({404})),
    Route("GET", "/v1/features/{feature}/prices", Scope.READ, missing="feature_not_found",
          errors=frozenset({404})),
    Route("GET", "/v1/features/{feature}/prices/history", Scope.READ,
          missing="feature_not_found", errors=frozenset({404})),
    Route("POST", "/v1/features/{feature}/prices", Scope.ADMIN,
          lambda ids: {"rule": {"rule": "flat", "credits": "3"}}, missing="feature_not_found",
          errors=frozenset({404})),
    Route("POST", "/v1/features/{feature}/prices/retire", Scope.ADMIN, lambda ids: {},
          missing="feature_not_found", errors=frozenset({404})),
    Route("POST", "/v1/quote", Scope.READ, lambda ids: {"feature": ids.feature},
          missing="feature_not_found", errors=frozenset({404})),
    Route("GET", "/v1/catalog", Scope.READ),
    Route("PUT", "/v1/catalog", Scope.ADMIN, lambda ids: CATALOG),
)
# fmt: on

# fmt: off
USAGE_ROUTES = (
    Route("GET", "/v1/usage", Scope.READ, params=lambda ids: {"account_id": ids.account_id},
          reaches="account", missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/usage/totals", Scope.READ,
          params=lambda ids: {"account_id": ids.account_id}, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
)
# fmt: on

# fmt: off
PLAN_ROUTES = (
    Route("GET", "/v1/plans", Scope.READ),
    Route("POST", "/v1/plans", Scope.ADMIN,
          lambda ids: {"key": "team", "name": "Team", "credits": "0"}, errors=frozenset({409})),
    Route("GET", "/v1/plans/{plan}", Scope.READ, missing="plan_not_found",
          errors=frozenset({404})),
    Route("PATCH", "/v1/plans/{plan}", Scope.ADMIN, lambda ids: {"name": "Basic"},
          missing="plan_not_found", errors=frozenset({404})),
    Route("POST", "/v1/plans/{plan}/deactivate", Scope.ADMIN, missing="plan_not_found",
          errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/plans", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/subscription", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("POST", "/v1/accounts/{account_id}/subscription", Scope.WRITE,
          lambda ids: {"plan": ids.plan}, reaches="account", missing="account_not_found",
          other_body=lambda ids: {"plan": "pro"}, errors=frozenset({404, 409})),
    Route("POST", "/v1/accounts/{account_id}/subscription/cancel", Scope.WRITE,
          reaches="account", missing="account_not_found", errors=frozenset({404})),
    Route("POST", "/v1/accounts/{account_id}/subscription/resume", Scope.WRITE,
          reaches="account", missing="account_not_found", errors=frozenset({404})),
)
# fmt: on

# fmt: off
PACK_ROUTES = (
    Route("GET", "/v1/packs", Scope.READ),
    Route("POST", "/v1/packs", Scope.ADMIN,
          lambda ids: {"key": "bundle", "name": "Bundle", "credits": "10", "price_minor": 999},
          errors=frozenset({409})),
    Route("GET", "/v1/packs/{pack}", Scope.READ, missing="pack_not_found",
          errors=frozenset({404})),
    Route("PATCH", "/v1/packs/{pack}", Scope.ADMIN, lambda ids: {"name": "Starter"},
          missing="pack_not_found", errors=frozenset({404})),
    Route("POST", "/v1/packs/{pack}/deactivate", Scope.ADMIN, missing="pack_not_found",
          errors=frozenset({404})),
    Route("POST", "/v1/accounts/{account_id}/packs/{pack}/claim", Scope.WRITE,
          reaches="account", missing="account_not_found", errors=frozenset({404, 409})),
    Route("GET", "/v1/accounts/{account_id}/purchases", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/purchases/{purchase_id}", Scope.READ,
          reaches="account", missing="account_not_found", errors=frozenset({404})),
    Route("GET", "/v1/accounts/{account_id}/auto-top-up", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("PUT", "/v1/accounts/{account_id}/auto-top-up", Scope.WRITE,
          lambda ids: {"pack": PAID_PACK, "threshold": "1", "customer_ref": "cus_1",
                       "payment_method_ref": "pm_1"},
          reaches="account", missing="account_not_found", errors=frozenset({404})),
    Route("DELETE", "/v1/accounts/{account_id}/auto-top-up", Scope.WRITE, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("POST", "/v1/checkout", Scope.WRITE,
          lambda ids: {"account_id": ids.account_id, "pack": PAID_PACK,
                       "success_url": "https://app.example/ok",
                       "cancel_url": "https://app.example/cancel"},
          reaches="account", missing="account_not_found", errors=frozenset({404, 502, 503})),
)
# fmt: on

# fmt: off
PROMO_ROUTES = (
    Route("GET", "/v1/promos", Scope.ADMIN),
    Route("POST", "/v1/promos", Scope.ADMIN, lambda ids: {"code": "SPRING-25", "credits": "25"},
          errors=frozenset({409})),
    Route("GET", "/v1/promos/{code}", Scope.ADMIN, missing="promo_not_found",
          errors=frozenset({404})),
    Route("PATCH", "/v1/promos/{code}", Scope.ADMIN, lambda ids: {"max_redemptions": 1000},
          missing="promo_not_found", errors=frozenset({404})),
    Route("POST", "/v1/accounts/{account_id}/redeem", Scope.WRITE,
          lambda ids: {"code": ids.promo}, reaches="account", missing="account_not_found",
          other_body=lambda ids: {"code": OTHER_PROMO}, errors=frozenset({404, 409})),
)
# fmt: on

# fmt: off
REFERRAL_ROUTES = (
    Route("POST", "/v1/accounts/{account_id}/referral", Scope.WRITE,
          lambda ids: {"referrer": ids.counterparty}, reaches="account",
          missing="account_not_found", other_body=lambda ids: {"referrer": OURS},
          errors=frozenset({404, 409})),
    Route("GET", "/v1/accounts/{account_id}/referrals", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
)
# fmt: on

# fmt: off
GUEST_ROUTES = (
    Route("POST", "/v1/guests/consume", Scope.WRITE,
          lambda ids: {"session_id": "sess_route", "feature": FEATURE},
          errors=frozenset({403, 429, 503})),
    Route("GET", "/v1/guests/status", Scope.READ, params=lambda ids: {"session_id": "sess_route"},
          errors=frozenset({403, 503})),
    Route("GET", "/v1/guests/quotas", Scope.READ),
    Route("POST", "/v1/guests/link", Scope.WRITE,
          lambda ids: {"session_id": f"sess_{ids.account_id}", "account_id": ids.account_id},
          reaches="account", missing="account_not_found", errors=frozenset({404, 409})),
)
# fmt: on

# fmt: off
ALERT_ROUTES = (
    Route("GET", "/v1/accounts/{account_id}/balance-alert", Scope.READ, reaches="account",
          missing="account_not_found", errors=frozenset({404})),
    Route("PUT", "/v1/accounts/{account_id}/balance-alert", Scope.ADMIN,
          lambda ids: {"low": "10"}, missing="account_not_found", errors=frozenset({404})),
)
# fmt: on

# fmt: off
WEBHOOK_ENDPOINT_ROUTES = (
    Route("GET", "/v1/webhook-endpoints", Scope.ADMIN),
    Route("POST", "/v1/webhook-endpoints", Scope.ADMIN,
          lambda ids: {"url": "https://hooks.example.com/new", "event_types": ["balance.low"]}),
    Route("GET", "/v1/webhook-endpoints/{endpoint_id}", Scope.ADMIN,
          missing="webhook_endpoint_not_found", errors=frozenset({404})),
    Route("PATCH", "/v1/webhook-endpoints/{endpoint_id}", Scope.ADMIN,
          lambda ids: {"description": "the world's hook"}, missing="webhook_endpoint_not_found",
          errors=frozenset({404})),
    Route("DELETE", "/v1/webhook-endpoints/{endpoint_id}", Scope.ADMIN,
          missing="webhook_endpoint_not_found", errors=frozenset({404})),
    Route("POST", "/v1/webhook-endpoints/{endpoint_id}/rotate-secret", Scope.ADMIN,
          missing="webhook_endpoint_not_found", errors=frozenset({404})),
    Route("GET", "/v1/webhook-endpoints/{endpoint_id}/deliveries", Scope.ADMIN,
          missing="webhook_endpoint_not_found", errors=frozenset({404})),
    Route("POST", "/v1/webhook-deliveries/{delivery_id}/redeliver", Scope.ADMIN,
          missing="webhook_delivery_not_found", errors=frozenset({404})),
)
# fmt: on

# fmt: off
WIDGET_ROUTES = (
    Route("POST", "/v1/widget-tokens", Scope.WRITE, lambda ids: {"account_id": ids.account_id},
          reaches="account", missing="account_not_found", errors=frozenset({404})),
    Route("POST", "/v1/widget-keys/rotate", Scope.ADMIN),
)
# fmt: on

OPERATION_ROUTES = (
    Route("POST", "/v1/expire", Scope.ADMIN),
    Route("GET", "/v1/verify", Scope.ADMIN),
)

ANALYTICS_RANGE = {"since": "2026-01-01T00:00:00Z", "until": "2026-01-08T00:00:00Z"}
"""A week that holds the whole shared world."""

ANALYTICS_ROUTES = tuple(
    Route("GET", f"/v1/analytics/{figure}", Scope.ADMIN, params=lambda ids: ANALYTICS_RANGE)
    for figure in (
        "spend_by_feature",
        "spend_by_model",
        "generations_by_model",
        "latency_by_model",
        "grants_by_source",
        "revenue_by_pack",
        "top_spenders",
        "guest_conversion",
        "welcome_usage",
    )
)
"""The figures cover every account: a key bound to one meets 403 (test_analytics)."""

ROUTES = (
    ACCOUNT_ROUTES
    + LEDGER_ROUTES
    + CATALOG_ROUTES
    + PLAN_ROUTES
    + PACK_ROUTES
    + PROMO_ROUTES
    + REFERRAL_ROUTES
    + GUEST_ROUTES
    + USAGE_ROUTES
    + ALERT_ROUTES
    + WEBHOOK_ENDPOINT_ROUTES
    + ANALYTICS_ROUTES
    + WIDGET_ROUTES
    + OPERATION_ROUTES
)
"""Every route under /v1 that a key calls (the providers' webhooks prove themselves by
signature instead: `SIGNED_ROUTES`)."""

SIGNED_ROUTES = ("POST /v1/webhooks/stripe", "POST /v1/webhooks/clerk")

TOKEN_ROUTES = (
    "GET /v1/widget/balance",
    "GET /v1/widget/costs",
    "GET /v1/widget/packs",
    "POST /v1/widget/checkout",
)
"""The widgets' routes: called from a browser with a widget token, never an API key
(tests/http/test_widgets.py)."""

BY_ID = {route.id: route for route in ROUTES}


def route(route_id: str) -> Route:
    """The route named `METHOD /path`."""
    return BY_ID[route_id]


def routes(predicate: Callable[[Route], bool]) -> list[Route]:
    """The routes that match, in table order."""
    return [r for r in ROUTES if predicate(r)]


def route_ids(chosen: Sequence[Route]) -> list[str]:
    """Test ids for a parametrization over routes."""
    return [r.id for r in chosen]


@contextmanager
def fresh_database(request: pytest.FixtureRequest, backend: str, where: Path) -> Iterator[str]:
    """The URL of a new migrated database of its own, dropped (on PostgreSQL) afterwards."""
    if backend == "sqlite":
        path = where / f"fresh-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"cg_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Service:
    """The app over a world of its own, with keys of each scope and a revoked one."""

    http: TestClient
    engine: Engine
    keys: Keys
    world: World
    revoked: str


@pytest.fixture(scope="module", params=BACKENDS, name="service")
def service_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    """One world per module and backend: for refused requests, and for own accounts."""
    where = tmp_path_factory.mktemp("service")
    with fresh_database(request, request.param, where) as url:
        database = Database(url)
        engine = Engine(database, clock=ManualClock(START), upgrade=False)
        keys = Keys(
            admin=engine.create_key(Scope.ADMIN, name="service admin")[1],
            write=engine.create_key(Scope.WRITE, name="service write")[1],
            read=engine.create_key(Scope.READ, name="service read")[1],
        )
        world = build_world(engine)
        revoked_key, revoked = engine.create_key(Scope.WRITE, name="revoked")
        engine.revoke_key(revoked_key.id)
        try:
            with TestClient(
                create_app(LENIENT, engine=engine), raise_server_exceptions=False, client=PEER
            ) as client:
                yield Service(http=client, engine=engine, keys=keys, world=world, revoked=revoked)
        finally:
            database.dispose()

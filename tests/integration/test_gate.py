"""The gate around an app's own endpoints: hold before, settle or release after, refuse with
the app's answer. Real engines on both backends, the app called in process; the async
client's tests call a live service.
"""

import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditgate import (
    AccountFrozen,
    AsyncClient,
    CreditgateError,
    Credits,
    Engine,
    EntryKind,
    HoldStatus,
    InsufficientCredits,
    ManualClock,
    OwnerKind,
    TokenCounts,
    UsageEvent,
)
from creditgate.app import create_app
from creditgate.domain.ids import HoldId
from creditgate.gate import Gate, TokenStream, Work, json_refusal
from creditgate.storage.database import Database
from tests.conftest import START
from tests.servers import live

USER = "user_1"
CHAT_INPUT_TOKENS = 10


class ModelDown(Exception):
    """The app's model failed."""


class Order(BaseModel):
    """A video order: the most it may be, and what the fake model then does."""

    seconds: int = 10
    made_seconds: int | None = None
    fails: bool = False
    failure: str | None = None
    settles_early: bool = False


class Picture(BaseModel):
    """An image order, read by the endpoint only."""

    prompt: str


class Prompt(BaseModel):
    """A chat: the answer's length in tokens, the estimate held, and when the model fails."""

    tokens: int
    expected: int
    fails_after: int | None = None


def caller(x_user_id: Annotated[str, Header()] = USER) -> str:
    return x_user_id


def member(x_member_id: Annotated[str | None, Header()] = None) -> str | None:
    return x_member_id


def most_seconds(order: Order) -> int:
    return order.seconds


def estimate(prompt: Prompt) -> TokenCounts:
    return TokenCounts(input=CHAT_INPUT_TOKENS, output=prompt.expected)


async def answer(prompt: Prompt) -> AsyncIterator[str]:
    for index in range(prompt.tokens):
        if index == prompt.fails_after:
            raise ModelDown
        yield f"t{index} "


def model_down(request: Request, error: Exception) -> Response:
    return JSONResponse({"error": "model_down"}, status_code=502)


def gated_app(gate: Gate) -> FastAPI:
    """An app with a video endpoint (a hold) and a chat endpoint (a stream) behind `gate`."""
    app = FastAPI()
    gate.install(app)
    app.add_exception_handler(ModelDown, model_down)
    loop_threads: list[int] = []
    app.state.loop_threads = loop_threads

    @app.post("/video")
    async def video(
        order: Order,
        work: Annotated[Work, gate.hold("video.generate", quantity=most_seconds, member=member)],
    ) -> dict[str, int]:
        loop_threads.append(threading.get_ident())
        if order.settles_early:
            work.quantity = order.made_seconds
            await work.settle()
        if order.fails:
            raise ModelDown
        work.quantity = order.made_seconds
        work.failure = order.failure
        return {"hold_id": work.hold.id}

    @app.post("/image")
    async def image(
        picture: Picture, work: Annotated[Work, gate.hold("image.generate", model="flux-pro")]
    ) -> dict[str, int]:
        return {"hold_id": work.hold.id}

    @app.post("/chat")
    async def chat(
        prompt: Prompt,
        reply: Annotated[TokenStream, gate.stream("chat.complete", quantity=estimate)],
    ) -> StreamingResponse:
        return StreamingResponse(reply.relay(answer(prompt)), media_type="text/plain")

    return app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def funded(engine: Engine) -> Engine:
    """The demo catalog and an account holding 100 credits (25 welcome, 75 bought)."""
    engine.seed("demo")
    engine.create_account(USER)
    engine.grant(USER, 75, source="purchase")
    return engine


@pytest.fixture
def http(funded: Engine) -> Iterator[TestClient]:
    """The gated app over the funded engine, called in process."""
    app = gated_app(Gate(funded, account=caller))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def available(engine: Engine, account_id: str = USER) -> Credits:
    return engine.balance(account_id).available


def events(engine: Engine, account_id: str = USER) -> tuple[UsageEvent, ...]:
    return engine.usage(account_id).items


def price(engine: Engine, feature: str, quantity: int | TokenCounts) -> Credits:
    return engine.quote(feature, quantity=quantity).amount


def kinds(engine: Engine, account_id: str = USER) -> list[EntryKind]:
    return [entry.kind for entry in engine.history(account_id).items]


def test_hold_captures_the_held_price_when_the_endpoint_returns(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/video", json={"seconds": 10})

    assert response.status_code == 200
    assert funded.get_hold(HoldId(response.json()["hold_id"])).status is HoldStatus.SETTLED
    assert available(funded) == Credits.parse(100) - price(funded, "video.generate", 10)
    assert [event.outcome for event in events(funded)] == ["succeeded"]


def test_hold_settles_by_the_quantity_when_the_endpoint_sets_it(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/video", json={"seconds": 10, "made_seconds": 4})

    assert response.status_code == 200
    assert available(funded) == Credits.parse(100) - price(funded, "video.generate", 4)
    assert events(funded)[0].quantity == 4


def test_hold_releases_as_failed_when_the_endpoint_raises(funded: Engine, http: TestClient) -> None:
    response = http.post("/video", json={"seconds": 10, "fails": True})

    assert response.status_code == 502
    assert available(funded) == Credits.parse(100)
    assert funded.pending_holds() == 0
    [event] = events(funded)
    assert event.outcome == "failed"
    assert event.metadata["failure"] == "ModelDown"
    assert event.hold_id is not None
    assert funded.get_hold(event.hold_id).status is HoldStatus.RELEASED


def test_hold_releases_as_failed_when_the_endpoint_names_a_failure(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/video", json={"seconds": 10, "failure": "upstream_timeout"})

    assert response.status_code == 200
    assert available(funded) == Credits.parse(100)
    [event] = events(funded)
    assert (event.outcome, event.metadata["failure"]) == ("failed", "upstream_timeout")


def test_hold_answers_402_with_the_shortfall_and_holds_nothing_when_credits_are_short(
    funded: Engine, http: TestClient
) -> None:
    funded.charge(USER, 80)

    response = http.post("/video", json={"seconds": 10})

    assert response.status_code == 402
    assert response.json() == {
        "code": "insufficient_credits",
        "detail": "40 credits required, 20 available (20 short)",
        "required": "40",
        "available": "20",
        "shortfall": "20",
    }
    assert funded.pending_holds() == 0
    assert EntryKind.HOLD not in kinds(funded)
    assert events(funded)[0].outcome == "refused"


def test_hold_answers_the_apps_own_refusal_when_it_chooses_one(funded: Engine) -> None:
    def refusal(error: CreditgateError) -> Response:
        return JSONResponse({"error": "Insufficient credits", "detail": error.detail}, 429)

    app = gated_app(Gate(funded, account=caller, refusal=refusal))
    funded.charge(USER, 80)

    with TestClient(app) as client:
        response = client.post("/video", json={"seconds": 10})

    assert response.status_code == 429
    assert response.json()["error"] == "Insufficient credits"
    assert funded.pending_holds() == 0


def test_hold_answers_429_when_the_app_sets_that_status(funded: Engine) -> None:
    app = gated_app(Gate(funded, account=caller, refusal=json_refusal(status_code=429)))
    funded.charge(USER, 80)

    with TestClient(app) as client:
        response = client.post("/video", json={"seconds": 10})

    assert response.status_code == 429
    assert response.json()["shortfall"] == "20"


def test_hold_answers_403_when_the_account_is_frozen(funded: Engine, http: TestClient) -> None:
    funded.update_account(USER, is_frozen=True)

    response = http.post("/video", json={"seconds": 10})

    assert response.status_code == 403
    assert response.json()["code"] == "account_frozen"
    assert funded.pending_holds() == 0


def test_hold_answers_402_when_a_member_would_pass_their_cap(
    funded: Engine, http: TestClient
) -> None:
    funded.create_account("org_1", owner_kind=OwnerKind.ORGANIZATION)
    funded.grant("org_1", 475, source="purchase")
    funded.add_member("org_1", "member_1", spend_cap=30)

    response = http.post(
        "/video", json={"seconds": 10}, headers={"x-user-id": "org_1", "x-member-id": "member_1"}
    )

    assert response.status_code == 402
    assert response.json()["code"] == "member_cap_exceeded"
    assert available(funded, "org_1") == Credits.parse(500)


def test_hold_holds_nothing_when_the_body_is_malformed(funded: Engine, http: TestClient) -> None:
    response = http.post("/video", json={"seconds": "ten"})

    assert response.status_code == 422
    assert funded.pending_holds() == 0
    assert events(funded) == ()


def test_hold_releases_as_failed_when_only_the_endpoint_reads_a_malformed_body(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/image", json={"prompt": 7})

    assert response.status_code == 422
    assert available(funded) == Credits.parse(100)
    assert funded.pending_holds() == 0
    [event] = events(funded)
    assert (event.outcome, event.metadata["failure"]) == ("failed", "RequestValidationError")


def test_hold_captures_the_held_amount_when_the_extra_is_not_available(
    funded: Engine, http: TestClient
) -> None:
    funded.charge(USER, 75)

    response = http.post("/video", json={"seconds": 5, "made_seconds": 8})

    assert response.status_code == 200
    assert available(funded) == Credits.parse(25) - price(funded, "video.generate", 5)


def test_hold_captures_the_held_amount_when_the_price_refuses_the_quantity(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/video", json={"seconds": 10, "made_seconds": -1})

    assert response.status_code == 200
    assert available(funded) == Credits.parse(100) - price(funded, "video.generate", 10)
    assert funded.pending_holds() == 0


def test_hold_releases_with_printable_text_when_the_apps_failure_is_not(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/video", json={"seconds": 10, "failure": "quota\u0000 hit"})

    assert response.status_code == 200
    assert available(funded) == Credits.parse(100)
    assert events(funded)[0].metadata["failure"] == "quota hit"


def test_hold_keeps_an_early_settle_when_the_endpoint_raises_after_it(
    funded: Engine, http: TestClient
) -> None:
    response = http.post(
        "/video", json={"seconds": 10, "made_seconds": 4, "settles_early": True, "fails": True}
    )

    assert response.status_code == 502
    assert available(funded) == Credits.parse(100) - price(funded, "video.generate", 4)
    assert kinds(funded).count(EntryKind.SETTLE) == 1
    assert EntryKind.RELEASE not in kinds(funded)


class AtResponse:
    """Wraps an app and notes the pending holds as its response starts and as it ends."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine
        self.pending: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.pending["start"] = self.engine.pending_holds()
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                self.pending["end"] = self.engine.pending_holds()
            await send(message)

        await self.app(scope, receive, noting)


def test_hold_ends_before_the_response_starts(funded: Engine) -> None:
    noted = AtResponse(gated_app(Gate(funded, account=caller)), funded)

    with TestClient(noted) as client:
        client.post("/video", json={"seconds": 10, "made_seconds": 4})

    assert noted.pending == {"start": 0, "end": 0}


def test_default_scope_would_end_the_hold_only_after_the_response(funded: Engine) -> None:
    """The naive variant the test above guards against: FastAPI's default ("request")
    scope runs a `yield` dependency's exit after the response has been sent."""
    gate = Gate(funded, account=caller)
    naive = gate.hold("video.generate", quantity=most_seconds).dependency
    assert naive is not None
    app = FastAPI()

    @app.post("/video")
    async def video(order: Order, work: Annotated[Work, Depends(naive)]) -> dict[str, int]:
        return {"hold_id": work.hold.id}

    noted = AtResponse(app, funded)

    with TestClient(noted) as client:
        client.post("/video", json={"seconds": 10})

    assert noted.pending == {"start": 1, "end": 1}
    assert funded.pending_holds() == 0


class NotingClock(ManualClock):
    """A manual clock that notes the thread of every read: the engine reads it per call."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.threads: set[int] = set()

    def now(self) -> datetime:
        self.threads.add(threading.get_ident())
        return super().now()


def test_hold_calls_a_synchronous_ledger_off_the_event_loop(
    funded: Engine, database: Database
) -> None:
    clock = NotingClock(START)
    engine = Engine(database, clock=clock, upgrade=False)
    app = gated_app(Gate(engine, account=caller))

    with TestClient(app) as client:
        response = client.post("/video", json={"seconds": 10, "made_seconds": 4})

    assert response.status_code == 200
    assert clock.threads
    assert not clock.threads & set(app.state.loop_threads)


def test_stream_extends_its_hold_and_settles_by_tokens_when_the_answer_outgrows_it(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/chat", json={"tokens": 30, "expected": 8})

    assert response.status_code == 200
    assert len(response.text.split()) == 30
    used = TokenCounts(input=CHAT_INPUT_TOKENS, output=30)
    assert available(funded) == Credits.parse(100) - price(funded, "chat.complete", used)
    assert kinds(funded).count(EntryKind.HOLD) > 1
    [event] = events(funded)
    assert (event.outcome, event.quantity) == ("succeeded", used)


def test_stream_releases_its_hold_when_the_answer_fails_midway(
    funded: Engine, http: TestClient
) -> None:
    response = http.post("/chat", json={"tokens": 30, "expected": 8, "fails_after": 12})

    assert response.text.split() == [f"t{index}" for index in range(12)]
    assert available(funded) == Credits.parse(100)
    assert funded.pending_holds() == 0
    [event] = events(funded)
    assert (event.outcome, event.metadata["failure"]) == ("failed", "ModelDown")


def test_stream_stops_and_settles_what_it_sent_when_the_credits_run_out(
    funded: Engine, http: TestClient
) -> None:
    funded.charge(USER, "99.9")

    response = http.post("/chat", json={"tokens": 1000, "expected": 8})

    sent = len(response.text.split())
    assert 8 <= sent < 1000
    used = TokenCounts(input=CHAT_INPUT_TOKENS, output=sent)
    assert available(funded) == Credits.parse("0.1") - price(funded, "chat.complete", used)
    assert events(funded)[0].outcome == "succeeded"


def test_stream_ends_its_hold_before_the_last_chunk(funded: Engine) -> None:
    noted = AtResponse(gated_app(Gate(funded, account=caller)), funded)

    with TestClient(noted) as client:
        client.post("/chat", json={"tokens": 30, "expected": 8})

    assert noted.pending == {"start": 1, "end": 0}


@pytest.mark.anyio
async def test_streaming_settles_what_was_sent_when_the_caller_stops_reading(
    funded: Engine,
) -> None:
    gate = Gate(funded)

    async with gate.streaming(
        USER, "chat.complete", quantity=TokenCounts(input=CHAT_INPUT_TOKENS, output=8)
    ) as reply:
        relay = reply.relay(answer(Prompt(tokens=30, expected=8)))
        first = await anext(relay)
        await relay.aclose()

    assert first == "t0 "
    used = TokenCounts(input=CHAT_INPUT_TOKENS, output=1)
    assert available(funded) == Credits.parse(100) - price(funded, "chat.complete", used)


@pytest.mark.anyio
async def test_streaming_releases_its_hold_when_nothing_was_sent(funded: Engine) -> None:
    gate = Gate(funded)

    async with gate.streaming(USER, "chat.complete", quantity=TokenCounts(input=1, output=8)):
        pass

    assert available(funded) == Credits.parse(100)
    assert events(funded)[0].outcome == "released"


def test_holding_settles_by_quantity_when_the_block_ends(funded: Engine) -> None:
    gate = Gate(funded)

    with gate.holding(USER, "video.generate", quantity=10) as work:
        work.quantity = 4

    assert work.receipt is not None
    assert work.receipt.credits_used == price(funded, "video.generate", 4)
    assert available(funded) == Credits.parse(100) - work.receipt.credits_used


def test_holding_releases_as_failed_when_the_block_raises(funded: Engine) -> None:
    gate = Gate(funded)

    with pytest.raises(ModelDown), gate.holding(USER, "video.generate", quantity=10):
        raise ModelDown

    assert available(funded) == Credits.parse(100)
    assert events(funded)[0].metadata["failure"] == "ModelDown"


def test_holding_raises_insufficient_credits_before_the_block_runs(funded: Engine) -> None:
    gate = Gate(funded)
    funded.charge(USER, 80)
    ran = False

    with (
        pytest.raises(InsufficientCredits) as refused,
        gate.holding(USER, "video.generate", quantity=10),
    ):
        ran = True

    assert not ran
    assert (refused.value.required, refused.value.available) == (Credits.parse(40), Credits(20_000))
    assert funded.pending_holds() == 0


@pytest.mark.anyio
async def test_holding_settles_in_async_with_on_a_synchronous_ledger(funded: Engine) -> None:
    gate = Gate(funded)

    async with gate.holding(USER, "image.generate", model="flux-pro") as work:
        pass

    assert work.receipt is not None
    assert work.receipt.credits_used == Credits.parse(4)


@pytest.fixture
def service(funded: Engine) -> Iterator[tuple[str, str]]:
    """The service over the funded engine, live on loopback, and a write key for it."""
    key = funded.create_key("write", name="gate tests")[1]
    with live(create_app(engine=funded)) as url:
        yield url, key


@pytest.mark.anyio
async def test_hold_settles_through_an_async_client(
    funded: Engine, service: tuple[str, str]
) -> None:
    url, key = service
    async with AsyncClient(url, key) as ledger:
        app = gated_app(Gate(ledger, account=caller))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            made = await http.post("/video", json={"seconds": 10, "made_seconds": 4})
            failed = await http.post("/video", json={"seconds": 10, "fails": True})

    assert (made.status_code, failed.status_code) == (200, 502)
    assert available(funded) == Credits.parse(100) - price(funded, "video.generate", 4)
    assert [event.outcome for event in events(funded)] == ["failed", "succeeded"]


@pytest.mark.anyio
async def test_stream_extends_and_settles_through_an_async_client(
    funded: Engine, service: tuple[str, str]
) -> None:
    url, key = service
    async with AsyncClient(url, key) as ledger:
        app = gated_app(Gate(ledger, account=caller))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            response = await http.post("/chat", json={"tokens": 30, "expected": 8})

    assert len(response.text.split()) == 30
    used = TokenCounts(input=CHAT_INPUT_TOKENS, output=30)
    assert available(funded) == Credits.parse(100) - price(funded, "chat.complete", used)
    assert kinds(funded).count(EntryKind.HOLD) > 1


@pytest.mark.anyio
async def test_holding_refuses_a_synchronous_with_on_an_asynchronous_ledger(
    service: tuple[str, str],
) -> None:
    url, key = service
    async with AsyncClient(url, key) as ledger:
        gate = Gate(ledger)

        with pytest.raises(TypeError, match="async with"), gate.holding(USER, "image.generate"):
            pass


def test_gate_refuses_what_is_not_a_ledger() -> None:
    with pytest.raises(TypeError, match="not a ledger"):
        Gate(object())  # type: ignore[arg-type]


def test_frozen_refusal_answers_its_own_status() -> None:
    refusal = json_refusal(frozen_status_code=423)

    response = refusal(AccountFrozen(account_id=USER))

    assert response.status_code == 423

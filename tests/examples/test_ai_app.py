"""The example AI studio end to end: over the embedded engine and over the client of a live
service, on both backends. Every generation is paid exactly once, and a failed one not at all.
"""

import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from examples.ai_app import Studio, create_app
from examples.ai_app.app import CHAT_ESTIMATE_TOKENS, CHAT_MODEL, StudioLedger
from examples.ai_app.generators import count_tokens
from fastapi.testclient import TestClient

from creditgate import (
    Client,
    Credits,
    Engine,
    EntryKind,
    HoldStatus,
    Outcome,
    TokenCounts,
    UsageEvent,
)
from creditgate.app import create_app as create_service
from tests.servers import live

USER = "user_1"
WELCOME = Credits.parse(25)
"""The demo catalog's welcome credits."""

HEADERS = {"x-user-id": USER}


@pytest.fixture
def engine_seeded(engine: Engine) -> Engine:
    """The test's engine with the studio's catalog."""
    engine.seed("demo")
    return engine


@pytest.fixture(params=["engine", "client"])
def ledger(request: pytest.FixtureRequest, engine_seeded: Engine) -> Iterator[StudioLedger]:
    """The studio's ledger: the engine itself, or a client of a live service over it."""
    if request.param == "engine":
        yield engine_seeded
        return
    key = engine_seeded.create_key("write", name="ai studio")[1]
    with live(create_service(engine=engine_seeded)) as url, Client(url, key) as client:
        yield client


@contextmanager
def studio(
    ledger: StudioLedger,
    engine: Engine,
    models: Studio | None = None,
    *,
    refusal_status: int = 402,
) -> Iterator[TestClient]:
    """The studio app over `ledger`, called in process, with the caller's account open.

    The account is opened in the database, not through `POST /signup`: through the client
    that fails for now (see the expected failure below).
    """
    engine.create_account(USER)
    app = create_app(
        ledger, studio=models or Studio(video_failure_rate=0), refusal_status=refusal_status
    )
    with TestClient(app, raise_server_exceptions=False) as http:
        yield http


def available(engine: Engine) -> Credits:
    return engine.balance(USER).available


def events(engine: Engine) -> tuple[UsageEvent, ...]:
    return engine.usage(USER).items


def price(engine: Engine, feature: str, **call: object) -> Credits:
    return engine.quote(feature, **call).amount  # type: ignore[arg-type]


def test_signup_grants_the_welcome_credits_once(engine_seeded: Engine) -> None:
    with TestClient(create_app(engine_seeded)) as http:
        first = http.post("/signup", headers=HEADERS)
        again = http.post("/signup", headers=HEADERS)

    assert first.json() == again.json() == {"balance": "25", "held": "0", "available": "25"}
    assert available(engine_seeded) == WELCOME


def test_signup_opens_the_account_through_the_client(engine_seeded: Engine) -> None:
    key = engine_seeded.create_key("write", name="ai studio")[1]
    with (
        live(create_service(engine=engine_seeded)) as url,
        Client(url, key) as client,
        TestClient(create_app(client), raise_server_exceptions=False) as http,
    ):
        response = http.post("/signup", headers=HEADERS)

    assert response.status_code == 200
    assert available(engine_seeded) == WELCOME


def test_generate_image_charges_the_models_flat_price(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded) as http:
        response = http.post(
            "/generate/image", headers=HEADERS, json={"prompt": "a red fox", "model": "flux-pro"}
        )

    cost = price(engine_seeded, "image.generate", model="flux-pro")
    assert response.status_code == 200
    assert response.json()["credits_used"] == str(cost)
    assert response.json()["credits_left"] == str(WELCOME - cost)
    assert available(engine_seeded) == WELCOME - cost


def test_generate_video_charges_the_tier_of_the_clip_it_made(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    engine_seeded.create_account(USER)
    engine_seeded.grant(USER, 100, source="purchase")

    with studio(ledger, engine_seeded) as http:
        response = http.post(
            "/generate/video", headers=HEADERS, json={"prompt": "a red fox", "seconds": 8}
        )

    assert response.status_code == 200
    assert response.json()["seconds"] == 3
    held, made = (price(engine_seeded, "video.generate", quantity=s) for s in (8, 3))
    assert made < held
    assert available(engine_seeded) == WELCOME + Credits.parse(100) - made
    assert [(event.outcome, event.quantity) for event in events(engine_seeded)] == [
        ("succeeded", 3)
    ]


def test_generate_audio_charges_the_blocks_it_spoke(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded) as http:
        response = http.post(
            "/generate/audio", headers=HEADERS, json={"text": "word " * 30, "max_seconds": 120}
        )

    assert response.json()["seconds"] == 12
    cost = price(engine_seeded, "audio.speech", quantity=12)
    assert cost < price(engine_seeded, "audio.speech", quantity=120)
    assert available(engine_seeded) == WELCOME - cost


def test_generate_video_leaves_the_balance_when_the_model_fails(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded, Studio(video_failure_rate=1)) as http:
        response = http.post(
            "/generate/video", headers=HEADERS, json={"prompt": "a red fox", "seconds": 5}
        )

    assert response.status_code == 502
    assert available(engine_seeded) == WELCOME
    [event] = events(engine_seeded)
    assert (event.outcome, event.metadata["failure"]) == ("failed", "GenerationFailed")
    assert event.hold_id is not None
    assert engine_seeded.get_hold(event.hold_id).status is HoldStatus.RELEASED


def test_generate_image_leaves_the_balance_when_the_prompt_is_refused(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded) as http:
        response = http.post("/generate/image", headers=HEADERS, json={"prompt": "forbidden fox"})

    assert response.status_code == 422
    assert response.json()["error"] == "prompt_refused"
    assert available(engine_seeded) == WELCOME
    assert events(engine_seeded)[0].metadata["failure"] == "PromptRefused"


def test_generate_answers_402_with_the_shortfall_and_holds_nothing_when_credits_are_short(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded) as http:
        response = http.post(
            "/generate/video", headers=HEADERS, json={"prompt": "a red fox", "seconds": 8}
        )

    assert response.status_code == 402
    assert response.json() == {
        "code": "insufficient_credits",
        "detail": "40 credits required, 25 available (15 short)",
        "required": "40",
        "available": "25",
        "shortfall": "15",
    }
    assert engine_seeded.pending_holds() == 0
    assert EntryKind.HOLD not in [e.kind for e in engine_seeded.history(USER).items]
    assert [event.outcome for event in events(engine_seeded)] == ["refused"]


def test_generate_answers_429_when_the_app_chooses_it(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded, refusal_status=429) as http:
        response = http.post(
            "/generate/video", headers=HEADERS, json={"prompt": "a red fox", "seconds": 8}
        )

    assert response.status_code == 429
    assert response.json()["shortfall"] == "15"
    assert engine_seeded.pending_holds() == 0


def test_generate_answers_404_and_holds_nothing_when_the_caller_has_no_account(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded) as http:
        response = http.post(
            "/generate/image", headers={"x-user-id": "stranger"}, json={"prompt": "a red fox"}
        )

    assert response.status_code == 404
    assert engine_seeded.pending_holds() == 0


def test_chat_extends_its_hold_and_settles_by_tokens_when_the_answer_outgrows_the_estimate(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    prompt = "tell me everything about the deep blue sea please"

    with studio(ledger, engine_seeded) as http:
        response = http.post("/chat", headers=HEADERS, json={"prompt": prompt})

    sent = len(response.text.split())
    assert sent == count_tokens(prompt) * 8 > CHAT_ESTIMATE_TOKENS
    used = TokenCounts(input=count_tokens(prompt), output=sent)
    cost = price(engine_seeded, "chat.complete", model=CHAT_MODEL, quantity=used)
    assert available(engine_seeded) == WELCOME - cost
    assert [e.kind for e in engine_seeded.history(USER).items].count(EntryKind.HOLD) > 1
    [event] = events(engine_seeded)
    assert (event.outcome, event.quantity) == ("succeeded", used)


def test_chat_releases_its_hold_when_the_model_fails_midway(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    with studio(ledger, engine_seeded, Studio(chat_fails_after_tokens=20)) as http:
        response = http.post("/chat", headers=HEADERS, json={"prompt": "tell me about the sea"})

    assert len(response.text.split()) == 20
    assert available(engine_seeded) == WELCOME
    assert engine_seeded.pending_holds() == 0
    [event] = events(engine_seeded)
    assert (event.outcome, event.metadata["failure"]) == ("failed", "GenerationFailed")


def test_generate_many_charges_exactly_the_successes_when_the_video_model_fails_at_random(
    ledger: StudioLedger, engine_seeded: Engine
) -> None:
    engine_seeded.create_account(USER)
    engine_seeded.grant(USER, 1000, source="purchase")
    models = Studio(rng=random.Random(1), video_failure_rate=0.3)
    prompts = ["a fox", "a red fox at dawn", "the sea", "two cats on a sunny wall today"]
    charged = Credits(0)
    failures = 0

    with studio(ledger, engine_seeded, models) as http:
        for index in range(16):
            prompt = prompts[index % len(prompts)]
            if index % 4 == 3:
                answer = http.post("/chat", headers=HEADERS, json={"prompt": prompt})
                used = TokenCounts(input=count_tokens(prompt), output=len(answer.text.split()))
                charged += price(engine_seeded, "chat.complete", model=CHAT_MODEL, quantity=used)
                continue
            response = http.post(
                "/generate/video", headers=HEADERS, json={"prompt": prompt, "seconds": 6}
            )
            if response.status_code == 502:
                failures += 1
                continue
            assert response.status_code == 200
            made = response.json()["seconds"]
            charged += price(engine_seeded, "video.generate", quantity=made)

    assert 0 < failures < 12
    assert available(engine_seeded) == WELCOME + Credits.parse(1000) - charged
    assert [e.outcome for e in events(engine_seeded)].count(Outcome.FAILED) == failures
    assert engine_seeded.pending_holds() == 0
    assert engine_seeded.verify().is_clean

"""The AI studio: image, video, speech and streaming chat, each paid for with credits.

Every generation goes through the gate: the call is priced by the `demo` catalog and its
cost held before the model runs, settled for what the model made, and released (as
failed) when the model fails. A caller without enough credits gets 402 (or the status the
app chooses) with the shortfall, and the model never runs.

    uvicorn examples.ai_app.app:from_environment --factory --port 8001
"""

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Protocol

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from creditgate import Account, AccountNotFound, Balance, Engine, Receipt, TokenCounts
from creditgate.client import Client
from creditgate.gate import Gate, GateLedger, TokenStream, Work, json_refusal
from examples.ai_app.generators import GenerationFailed, PromptRefused, Studio, count_tokens

CATALOG = "demo"
"""The preset that prices the studio: image.generate, video.generate, audio.speech, chat."""

CHAT_MODEL = "fake-llm"
"""Not priced by name in the catalog, so chat pays its default price per 1,000 tokens."""

CHAT_ESTIMATE_TOKENS = 32
"""Output tokens held before a chat answer starts; the hold grows if the answer is longer."""


class StudioLedger(GateLedger, Protocol):
    """What the studio needs of creditgate: the gate's verbs, accounts and balances."""

    def create_account(self, account_id: str) -> Account:
        """Create the caller's wallet, or return it unchanged."""
        ...

    def balance(self, account_id: str) -> Balance:
        """The caller's balance, held and available credits."""
        ...

    def close(self) -> None:
        """Release the ledger's connections."""
        ...


class ImageIn(BaseModel):
    """An image from a prompt, by one of the catalog's models."""

    prompt: str = Field(min_length=1, max_length=2000)
    model: str = Field(default="flux-schnell", examples=["flux-schnell", "flux-pro"])


class VideoIn(BaseModel):
    """A clip of up to `seconds`; the model may make it shorter."""

    prompt: str = Field(min_length=1, max_length=2000)
    seconds: int = Field(default=5, ge=1, le=10)


class SpeechIn(BaseModel):
    """Text to speech, cut at `max_seconds`."""

    text: str = Field(min_length=1, max_length=20_000)
    max_seconds: int = Field(default=60, ge=1, le=600)


class ChatIn(BaseModel):
    """A question for the chat model, answered as a stream of tokens."""

    prompt: str = Field(min_length=1, max_length=20_000)
    max_tokens: int = Field(default=256, ge=1, le=4096)


class MadeOut(BaseModel):
    """What a generation made and, when the app settled before answering, what it cost."""

    id: str
    seconds: int | None = None
    credits_used: str | None = None
    credits_left: str | None = None


class CreditsOut(BaseModel):
    """The caller's credits."""

    balance: str
    held: str
    available: str


def user_id(x_user_id: Annotated[str, Header(min_length=1, max_length=200)]) -> str:
    """The caller, as the app's auth names them (here simply a header the caller sends)."""
    return x_user_id


User = Annotated[str, Depends(user_id)]

# The prices read the request's body too, so FastAPI validates it before the gate holds
# anything: a malformed body is answered 422 (its errors listed once per reader of the
# body) and nothing is held.


def image_model(body: ImageIn) -> str:
    """The image's model, which picks its price."""
    return body.model


def video_seconds(body: VideoIn) -> int:
    """The longest clip the caller asked for: the most the generation may cost."""
    return body.seconds


def speech_seconds(body: SpeechIn) -> int:
    """The longest speech the caller allows: the most it may cost."""
    return body.max_seconds


def chat_estimate(body: ChatIn) -> TokenCounts:
    """The prompt's tokens and the answer's expected tokens: the first hold of a chat."""
    return TokenCounts(
        input=count_tokens(body.prompt), output=min(body.max_tokens, CHAT_ESTIMATE_TOKENS)
    )


def _made(asset_id: str, seconds: int | None, receipt: Receipt | None) -> MadeOut:
    if receipt is None:
        return MadeOut(id=asset_id, seconds=seconds)
    return MadeOut(
        id=asset_id,
        seconds=seconds,
        credits_used=str(receipt.credits_used),
        credits_left=str(receipt.credits_remaining),
    )


def _credits(figures: Balance) -> CreditsOut:
    return CreditsOut(
        balance=str(figures.balance), held=str(figures.held), available=str(figures.available)
    )


def _answer(status: int, error: str, detail: str) -> Callable[[Request, Exception], Response]:
    def handler(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": error, "detail": detail}, status_code=status)

    return handler


def create_app(
    ledger: StudioLedger,
    *,
    studio: Studio | None = None,
    refusal_status: int = 402,
    owns_ledger: bool = False,
) -> FastAPI:
    """The studio over `ledger` (an `Engine` or a `Client`) priced by the `demo` catalog.

    `refusal_status` is what a caller short of credits gets (402, or 429 for clients that
    expect it); `owns_ledger` closes the ledger when the app shuts down.
    """
    models = studio or Studio()
    gate = Gate(ledger, account=user_id, refusal=json_refusal(status_code=refusal_status))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_ledger:
            ledger.close()

    app = FastAPI(title="AI studio", summary="A creditgate example", lifespan=lifespan)
    gate.install(app)
    # A failed generation releases its hold before these answer: the caller paid nothing.
    app.add_exception_handler(
        GenerationFailed, _answer(502, "generation_failed", "the model failed; nothing was charged")
    )
    app.add_exception_handler(
        PromptRefused, _answer(422, "prompt_refused", "the prompt was refused; nothing was charged")
    )
    app.add_exception_handler(
        AccountNotFound, _answer(404, "no_account", "sign up first: POST /signup")
    )

    @app.post("/signup")
    def signup(user: User) -> CreditsOut:
        """Open the caller's wallet with the catalog's welcome credits (once)."""
        ledger.create_account(user)
        return _credits(ledger.balance(user))

    @app.get("/me/credits")
    def credits(user: User) -> CreditsOut:
        """The caller's credits."""
        return _credits(ledger.balance(user))

    @app.post("/generate/image", response_model_exclude_none=True)
    async def generate_image(
        body: ImageIn, work: Annotated[Work, gate.hold("image.generate", model=image_model)]
    ) -> MadeOut:
        """One image; settled before answering, so the answer says what is left."""
        image = models.image(body.prompt, model=body.model)
        work.request_id = image.id
        return _made(image.id, None, await work.settle())

    @app.post("/generate/video", response_model_exclude_none=True)
    async def generate_video(
        body: VideoIn, work: Annotated[Work, gate.hold("video.generate", quantity=video_seconds)]
    ) -> MadeOut:
        """A clip; the gate settles for its real length after this returns."""
        clip = models.video(body.prompt, seconds=body.seconds)
        work.quantity = clip.seconds
        work.request_id = clip.id
        return _made(clip.id, clip.seconds, None)

    @app.post("/generate/audio", response_model_exclude_none=True)
    async def generate_audio(
        body: SpeechIn, work: Annotated[Work, gate.hold("audio.speech", quantity=speech_seconds)]
    ) -> MadeOut:
        """Speech; settled for its real length before answering."""
        speech = models.speech(body.text, max_seconds=body.max_seconds)
        work.quantity = speech.seconds
        work.request_id = speech.id
        return _made(speech.id, speech.seconds, await work.settle())

    @app.post("/chat", response_class=StreamingResponse)
    async def chat(
        body: ChatIn,
        reply: Annotated[
            TokenStream, gate.stream("chat.complete", quantity=chat_estimate, model=CHAT_MODEL)
        ],
    ) -> StreamingResponse:
        """The answer as it is written; paid by its tokens when it ends."""
        tokens = models.chat(body.prompt, max_tokens=body.max_tokens)
        return StreamingResponse(reply.relay(tokens), media_type="text/plain; charset=utf-8")

    return app


def from_environment() -> FastAPI:
    """The studio for uvicorn: over a creditgate service if one is named, else embedded.

    `AI_APP_CREDITGATE_URL` and `AI_APP_CREDITGATE_KEY` (a write key) name a running
    service, which must already hold the `demo` catalog (`creditgate serve --demo` does);
    without them the studio embeds an engine on `AI_APP_DATABASE_URL` (default
    `sqlite:///ai_app.db`) and loads the catalog itself.
    """
    url = os.environ.get("AI_APP_CREDITGATE_URL")
    if url:
        return create_app(Client(url, os.environ["AI_APP_CREDITGATE_KEY"]), owns_ledger=True)
    engine = Engine(os.environ.get("AI_APP_DATABASE_URL", "sqlite:///ai_app.db"))
    engine.seed(CATALOG)
    return create_app(engine, owns_ledger=True)

"""`Gate`: an app's own endpoints, paid for with credits.

    gate = Gate(engine, account=user_id)   # user_id: the app's dependency naming the caller
    gate.install(app)                      # a refused hold answers 402 with the shortfall
    VideoWork = Annotated[Work, gate.hold("video.generate", quantity=requested_seconds)]

    @app.post("/generate/video")
    async def video(body: VideoIn, work: VideoWork):
        clip = make_video(body.prompt, body.seconds)  # raises: released, the error goes on
        work.quantity = clip.seconds                   # settle for what was made
        return {"url": clip.url}

    with gate.holding("user_1", "video.generate", quantity=10) as work:  # outside FastAPI
        ...

What it owns: the life of one hold around one call of the app. Before the endpoint runs,
the catalog prices the call and its cost (the most it may use) is held; a refused hold
(insufficient credits, a member's cap, a frozen account) never reaches the endpoint, and
the caller gets the app's refusal response (by default 402 with `required`, `available` and
`shortfall` as decimal strings) while nothing is held. When the endpoint returns, the hold
is settled by `work.quantity` (priced at the hold's version), `work.actual`, or else the
held amount; when it raises, the hold is released with the exception's class name as the
failure, so the usage event says `failed`.

Invariants: every hold the gate takes ends exactly once, and as soon as its work has ended,
never left to its ttl when it can be released now. The end is claimed before the ledger is
called, so no second path (an exit, a stream's finalizer) ends it again; ending runs in a
cancel scope shielded from a cancelled request, as does taking the hold, so a hold taken
for a request that is cancelled meanwhile is still released. A settle of more than was
held takes the extra only if it is there, and otherwise settles for the held amount: the
hold was the promise.

FastAPI semantics this relies on (0.121 and later): a `yield` dependency's exit code runs,
with the endpoint's exception thrown in at its `yield`, in one of two scopes. In the
default "request" scope it runs after the response has been sent, so a caller could read
its balance before the settle, and a failed settle could no longer change the answer.
`gate.hold` therefore returns a `Depends` of scope "function", whose exit runs after the
endpoint returns and before the response is sent: use it as the annotation's metadata,
not wrapped in another `Depends`. A stream is the other case: its work happens while the
response is sent, so `gate.stream` is request-scoped, `TokenStream.relay` ends the hold
itself before the last chunk goes out, and the dependency's exit is the backstop for a
stream that never ran or whose caller went away.

Boundaries: the domain's types, FastAPI and Starlette. The ledger is anything with the five
methods of `GateLedger` (the embedded `Engine`, the `Client`) or of `AsyncGateLedger` (the
`AsyncClient`); a synchronous ledger is called in a worker thread, never on the event loop.
"""

import inspect
import logging
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Annotated, Protocol, TypeAlias, TypeGuard, TypeVar

import anyio
from fastapi import Depends, FastAPI, Request, params
from fastapi.responses import JSONResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response

from creditgate.domain.amounts import AmountLike
from creditgate.domain.errors import (
    AccountFrozen,
    CreditgateError,
    HoldNotPending,
    InsufficientCredits,
    InvalidInput,
)
from creditgate.domain.holds import Hold
from creditgate.domain.ids import HoldId
from creditgate.domain.limits import TEXT_LENGTH_MAX
from creditgate.domain.pricing import Quantity, Quote, TokenCounts
from creditgate.domain.results import Receipt

__all__ = [
    "AsyncGateLedger",
    "Gate",
    "GateLedger",
    "HeldBlock",
    "Refused",
    "StreamedBlock",
    "TokenStream",
    "Work",
    "json_refusal",
]

log = logging.getLogger("creditgate.gate")

T = TypeVar("T")

Provided: TypeAlias = T | Callable[..., T] | Callable[..., Awaitable[T]]
"""A value, or a FastAPI dependency that gives it for each request (reading its body, say)."""

REFUSALS = (InsufficientCredits, AccountFrozen)
"""The errors a gate answers with the app's refusal response (MemberCapExceeded included)."""

SETTLE_REFUSALS = (InsufficientCredits, AccountFrozen, InvalidInput)
"""The errors after which a settle captures the held amount instead of leaving the hold."""

TTL_DEFAULT = timedelta(minutes=10)
"""How long a hold waits for its work by default: longer than a slow video generation."""


class GateLedger(Protocol):
    """What a gate needs of a synchronous ledger: the embedded `Engine` or the `Client`."""

    def quote(
        self, feature: str, *, model: str | None = None, quantity: Quantity | None = None
    ) -> Quote:
        """What one call of `feature` costs now."""
        ...

    def hold(
        self,
        account_id: str,
        *,
        ttl: timedelta,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | None = None,
        member_id: str | None = None,
        metadata: dict[str, object] | None = None,
    ) -> Receipt:
        """Set the cost of a call aside for `ttl`; `receipt.hold` is the hold."""
        ...

    def extend(self, hold_id: HoldId, more: AmountLike) -> Receipt:
        """Grow a pending hold by `more`."""
        ...

    def settle(
        self,
        hold_id: HoldId,
        actual: AmountLike | None = None,
        *,
        quantity: Quantity | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        """Capture the actual cost of the held work and release the rest."""
        ...

    def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        """End a hold without spending, naming the failure when the work failed."""
        ...


class AsyncGateLedger(Protocol):
    """What a gate needs of an asynchronous ledger: the `AsyncClient`."""

    async def quote(
        self, feature: str, *, model: str | None = None, quantity: Quantity | None = None
    ) -> Quote:
        """What one call of `feature` costs now."""
        ...

    async def hold(
        self,
        account_id: str,
        *,
        ttl: timedelta,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | None = None,
        member_id: str | None = None,
        metadata: dict[str, object] | None = None,
    ) -> Receipt:
        """Set the cost of a call aside for `ttl`; `receipt.hold` is the hold."""
        ...

    async def extend(self, hold_id: HoldId, more: AmountLike) -> Receipt:
        """Grow a pending hold by `more`."""
        ...

    async def settle(
        self,
        hold_id: HoldId,
        actual: AmountLike | None = None,
        *,
        quantity: Quantity | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        """Capture the actual cost of the held work and release the rest."""
        ...

    async def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        """End a hold without spending, naming the failure when the work failed."""
        ...


class Refused(HTTPException):
    """A hold the ledger refused, carrying the response the app answers its caller with.

    `Gate.install` renders it as that response. Without it, FastAPI's handler of HTTP
    exceptions still answers the chosen status, with the error's text as `detail`.
    """

    def __init__(self, error: CreditgateError, response: Response) -> None:
        super().__init__(status_code=response.status_code, detail=error.detail)
        self.error = error
        self.response = response


def json_refusal(
    *, status_code: int = 402, frozen_status_code: int = 403
) -> Callable[[CreditgateError], Response]:
    """A refusal as JSON: the error's code and text and its fields, amounts as strings.

    402 Payment Required is what most apps answer a short balance with; pass
    `status_code=429` for an app whose clients expect that instead. A frozen account
    answers `frozen_status_code`.
    """

    def refusal(error: CreditgateError) -> Response:
        status = frozen_status_code if isinstance(error, AccountFrozen) else status_code
        body = {"code": error.code, "detail": error.detail, **error.fields()}
        return JSONResponse(body, status_code=status)

    return refusal


@dataclass(frozen=True, slots=True, kw_only=True)
class _Call:
    """One hold to take: who pays, for which feature, how much of it at most."""

    account_id: str
    feature: str
    ttl: timedelta
    model: str | None = None
    quantity: Quantity | None = None
    member_id: str | None = None
    metadata: dict[str, object] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Ending:
    """How a hold ends: settled (by quantity or amount) or released (with a failure or not)."""

    is_release: bool
    failure: str | None = None
    actual: AmountLike | None = None
    quantity: Quantity | None = None
    latency_ms: int
    request_id: str | None


def _printable(text: str | None) -> str | None:
    """Text the ledger takes (printable, bounded), so what the app set never blocks an end."""
    if text is None:
        return None
    kept = "".join(char for char in text if char.isprintable()).strip()[:TEXT_LENGTH_MAX]
    return kept or None


def _failure_of(error: BaseException) -> str:
    """The failure a release records: the class name, never a message that may carry user data."""
    return type(error).__name__


class Work:
    """A call in progress, paid for by a pending hold: what the endpoint is given.

    Set `quantity` to settle for what the work really used (priced at the hold's version),
    or `actual` for an amount; with neither, the held amount is captured. Set `failure` to
    release the hold as failed without raising, and `request_id` to label the usage event
    (the generated asset's id, say). Metadata is recorded when the hold is taken: settle
    and release take none. `receipt` is the settle's or the release's once the hold ended;
    `await work.settle()` ends it early, to answer with the credits used and left.
    """

    def __init__(
        self,
        call: _Call,
        receipt: Receipt,
        *,
        started_s: float,
        ends: "_AsyncEnds | None" = None,
    ) -> None:
        assert receipt.hold is not None, "a hold's receipt carries its hold"
        self.account_id = call.account_id
        self.feature = call.feature
        self.hold: Hold = receipt.hold
        self.quote: Quote | None = receipt.quote
        self.quantity: Quantity | None = None
        self.actual: AmountLike | None = None
        self.failure: str | None = None
        self.request_id: str | None = None
        self.receipt: Receipt | None = None
        self._started_s = started_s
        self._ends = ends
        self._is_ending = False

    async def settle(self) -> Receipt | None:
        """Settle now rather than after the endpoint; the receipt (None if the ttl passed).

        The work counts as done from here: an error raised afterwards releases nothing.

        Raises:
            TypeError: the work is inside a synchronous `with` (read `receipt` after it).
        """
        if self._ends is None:
            raise TypeError("a synchronous hold settles when its block ends")
        await self._ends.end(self, self._ending(None))
        return self.receipt

    @property
    def is_ended(self) -> bool:
        """The hold has been (or is being) settled or released."""
        return self._is_ending

    def _claim(self) -> bool:
        """Take the one right to end the hold; False when another path took it first."""
        if self._is_ending:
            return False
        self._is_ending = True
        return True

    def _release(self, failure: str | None) -> _Ending:
        return _Ending(
            is_release=True,
            # A release always names a failure when there was one, even if the app's was blank.
            failure=None if failure is None else _printable(failure) or "failed",
            latency_ms=self._latency_ms(),
            request_id=_printable(self.request_id),
        )

    def _settle(self) -> _Ending:
        actual = self.hold.amount if self.actual is None else self.actual
        return _Ending(
            is_release=False,
            quantity=self.quantity,
            actual=None if self.quantity is not None else actual,
            latency_ms=self._latency_ms(),
            request_id=_printable(self.request_id),
        )

    def _latency_ms(self) -> int:
        return int((time.perf_counter() - self._started_s) * 1000)

    def _ending(self, error: BaseException | None) -> _Ending | None:
        """How the hold ends after the work ended with `error` (None: it succeeded)."""
        if not self._claim():
            return None
        if error is not None:
            return self._release(_failure_of(error))
        if self.failure is not None:
            return self._release(self.failure)
        return self._settle()


def _settling_the_hold(work: Work, refused: CreditgateError) -> None:
    # The hold was the promise: when what the work used cannot be taken (more than was
    # held and the rest is not there, or a quantity the price refuses), the held amount is.
    level = logging.ERROR if isinstance(refused, InvalidInput) else logging.INFO
    log.log(level, "hold %s settles for the held amount: %s", work.hold.id, refused.detail)


def _ended_already(work: Work, ended: HoldNotPending) -> None:
    # The ttl passed (or someone else ended the hold) while the work ran: a release has
    # nothing left to return, and a settle has nothing left to capture.
    log.warning(
        "hold %s of %s for %s was %s before the gate ended it; nothing was captured",
        work.hold.id,
        work.account_id,
        work.feature,
        ended.hold_status,
    )


class _SyncEnds:
    """Takes and ends holds on a synchronous ledger, in the caller's thread."""

    def __init__(self, ledger: GateLedger) -> None:
        self.ledger = ledger

    def hold(self, call: _Call) -> Receipt:
        return self.ledger.hold(
            call.account_id,
            ttl=call.ttl,
            feature=call.feature,
            model=call.model,
            quantity=call.quantity,
            member_id=call.member_id,
            metadata=call.metadata,
        )

    def end(self, work: Work, ending: _Ending | None) -> None:
        if ending is None:
            return
        try:
            work.receipt = (
                self._release(work, ending) if ending.is_release else self._settle(work, ending)
            )
        except HoldNotPending as ended:
            _ended_already(work, ended)

    def _release(self, work: Work, ending: _Ending) -> Receipt:
        return self.ledger.release(
            work.hold.id,
            failure=ending.failure,
            latency_ms=ending.latency_ms,
            request_id=ending.request_id,
        )

    def _settle(self, work: Work, ending: _Ending) -> Receipt:
        try:
            return self.ledger.settle(
                work.hold.id,
                ending.actual,
                quantity=ending.quantity,
                latency_ms=ending.latency_ms,
                request_id=ending.request_id,
            )
        except SETTLE_REFUSALS as refused:
            _settling_the_hold(work, refused)
            return self.ledger.settle(
                work.hold.id,
                work.hold.amount,
                latency_ms=ending.latency_ms,
                request_id=ending.request_id,
            )


class _AsyncEnds:
    """Takes, grows and ends holds on an asynchronous ledger, shielded from cancellation."""

    def __init__(self, ledger: AsyncGateLedger) -> None:
        self.ledger = ledger

    async def hold(self, call: _Call) -> Receipt:
        # Shielded: a cancelled request must not lose the receipt of a hold it has taken.
        with anyio.CancelScope(shield=True):
            receipt = await self.ledger.hold(
                call.account_id,
                ttl=call.ttl,
                feature=call.feature,
                model=call.model,
                quantity=call.quantity,
                member_id=call.member_id,
                metadata=call.metadata,
            )
        # Returned after the scope: to mypy a cancel scope may swallow what ends inside it.
        return receipt  # noqa: RET504

    async def end(self, work: Work, ending: _Ending | None) -> None:
        if ending is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                work.receipt = await (
                    self._release(work, ending) if ending.is_release else self._settle(work, ending)
                )
            except HoldNotPending as ended:
                _ended_already(work, ended)

    async def _release(self, work: Work, ending: _Ending) -> Receipt:
        return await self.ledger.release(
            work.hold.id,
            failure=ending.failure,
            latency_ms=ending.latency_ms,
            request_id=ending.request_id,
        )

    async def _settle(self, work: Work, ending: _Ending) -> Receipt:
        try:
            return await self.ledger.settle(
                work.hold.id,
                ending.actual,
                quantity=ending.quantity,
                latency_ms=ending.latency_ms,
                request_id=ending.request_id,
            )
        except SETTLE_REFUSALS as refused:
            _settling_the_hold(work, refused)
            return await self.ledger.settle(
                work.hold.id,
                work.hold.amount,
                latency_ms=ending.latency_ms,
                request_id=ending.request_id,
            )

    async def grow(self, stream: "TokenStream", counts: TokenCounts) -> bool:
        """Grow the stream's hold to the price of `counts`; False when it is refused."""
        with anyio.CancelScope(shield=True):
            quote = await self.ledger.quote(stream.feature, model=stream.model, quantity=counts)
            more = quote.amount - stream.hold.amount
            if more.units <= 0:
                return True
            try:
                receipt = await self.ledger.extend(stream.hold.id, more)
            except REFUSALS as refused:
                stream.shortfall = refused
                return False
        assert receipt.hold is not None, "an extend's receipt carries its hold"
        stream.hold = receipt.hold
        return True


class _InThreads:
    """A synchronous ledger seen as an asynchronous one: each call runs in a worker thread."""

    def __init__(self, ledger: GateLedger) -> None:
        self.ledger = ledger

    async def quote(
        self, feature: str, *, model: str | None = None, quantity: Quantity | None = None
    ) -> Quote:
        return await run_in_threadpool(self.ledger.quote, feature, model=model, quantity=quantity)

    async def hold(
        self,
        account_id: str,
        *,
        ttl: timedelta,
        feature: str | None = None,
        model: str | None = None,
        quantity: Quantity | None = None,
        member_id: str | None = None,
        metadata: dict[str, object] | None = None,
    ) -> Receipt:
        return await run_in_threadpool(
            self.ledger.hold,
            account_id,
            ttl=ttl,
            feature=feature,
            model=model,
            quantity=quantity,
            member_id=member_id,
            metadata=metadata,
        )

    async def extend(self, hold_id: HoldId, more: AmountLike) -> Receipt:
        return await run_in_threadpool(self.ledger.extend, hold_id, more)

    async def settle(
        self,
        hold_id: HoldId,
        actual: AmountLike | None = None,
        *,
        quantity: Quantity | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        return await run_in_threadpool(
            self.ledger.settle,
            hold_id,
            actual,
            quantity=quantity,
            latency_ms=latency_ms,
            request_id=request_id,
        )

    async def release(
        self,
        hold_id: HoldId,
        *,
        failure: str | None = None,
        latency_ms: int | None = None,
        request_id: str | None = None,
    ) -> Receipt:
        return await run_in_threadpool(
            self.ledger.release,
            hold_id,
            failure=failure,
            latency_ms=latency_ms,
            request_id=request_id,
        )


class TokenStream(Work):
    """A streamed LLM answer, paid for by a hold that grows as the answer outgrows it.

    The hold starts at the estimate (`input` tokens and the `output` tokens expected).
    Each chunk's tokens are counted before it is passed on; when the count would pass what
    the hold covers, the hold is extended to cover `extend_tokens` more output tokens.
    When the credits run out the stream stops there (`shortfall` says why) and settles for
    what it sent. At the end the hold settles by the token counts (or by `quantity`, when
    the app sets the provider's own usage). If the stream fails, the hold is released; if
    the caller stops reading, what was sent is paid for.
    """

    def __init__(
        self,
        call: _Call,
        receipt: Receipt,
        *,
        started_s: float,
        ends: _AsyncEnds,
        extend_tokens: int | None,
    ) -> None:
        super().__init__(call, receipt, started_s=started_s, ends=ends)
        assert isinstance(call.quantity, TokenCounts), "a stream is estimated in tokens"
        self.model = call.model
        self.input_tokens = call.quantity.input
        self.cached_input_tokens = call.quantity.cached_input
        self.output_tokens = 0
        self.covered_output_tokens = call.quantity.output
        self.extend_tokens = extend_tokens or max(1, call.quantity.output)
        self.shortfall: CreditgateError | None = None
        self._stream_ends = ends
        self._is_relaying = False

    @property
    def counts(self) -> TokenCounts:
        """The tokens of the answer so far."""
        return self._counts(self.output_tokens)

    def _counts(self, output_tokens: int) -> TokenCounts:
        return TokenCounts(
            input=self.input_tokens, cached_input=self.cached_input_tokens, output=output_tokens
        )

    async def add(self, output_tokens: int) -> bool:
        """Count output tokens about to be sent; False when the credits ran out: stop then.

        Raises:
            ValueError: a negative count.
        """
        if output_tokens < 0:
            raise ValueError("a count of tokens is never negative")
        wanted = self.output_tokens + output_tokens
        if wanted > self.covered_output_tokens:
            target = max(wanted, self.covered_output_tokens + self.extend_tokens)
            if not await self._stream_ends.grow(self, self._counts(target)):
                return False
            self.covered_output_tokens = target
        self.output_tokens = wanted
        return True

    async def relay(
        self,
        chunks: AsyncIterable[str] | Iterable[str],
        *,
        tokens_of: Callable[[str], int] | None = None,
    ) -> AsyncGenerator[str, None]:
        """Pass the chunks on, counting each (one token unless `tokens_of` says), then end.

        The hold ends before the last chunk has gone out: settled when the chunks run out
        or the credits do, released when the chunks raise.
        """
        self._is_relaying = True
        upstream = chunks if isinstance(chunks, AsyncIterable) else iterate_in_threadpool(chunks)
        error: BaseException | None = None
        try:
            async for chunk in upstream:
                if not await self.add(1 if tokens_of is None else tokens_of(chunk)):
                    break
                yield chunk
        except BaseException as raised:
            error = raised
            raise
        finally:
            with anyio.CancelScope(shield=True):
                await _close(upstream, chunks)
                await self._stream_ends.end(self, self._relay_ending(error))

    def _ending(self, error: BaseException | None) -> _Ending | None:
        """The end after the endpoint or block: the backstop of a relay that did not end it.

        Once the relay has begun, an error here is its caller going away (a disconnect, a
        cancellation), not the stream failing: the relay itself ends a failing stream.
        """
        if error is not None and not self._is_relaying and self._claim():
            return self._release(_failure_of(error))
        return self._paid_or_released()

    def _relay_ending(self, error: BaseException | None) -> _Ending | None:
        """The end of the relay: an Exception is the stream failing.

        A cancellation or a closed generator is the caller going away: what was sent is
        paid for.
        """
        if isinstance(error, Exception) and self._claim():
            return self._release(_failure_of(error))
        return self._paid_or_released()

    def _paid_or_released(self) -> _Ending | None:
        """Settled for what was sent (or the app's counts), released when nothing was."""
        if not self._claim():
            return None
        if self.failure is not None:
            return self._release(self.failure)
        if self.quantity is None and self.output_tokens == 0:
            return self._release(None)  # nothing was sent: nothing is owed
        if self.quantity is None:
            self.quantity = self.counts
        return self._settle()


async def _close(upstream: AsyncIterable[str], chunks: AsyncIterable[str] | Iterable[str]) -> None:
    """Stop the source of a stream that ended early, so the model stops generating."""
    aclose = getattr(upstream, "aclose", None)
    if aclose is not None:
        await aclose()
    close = getattr(chunks, "close", None)
    if close is not None and not isinstance(chunks, AsyncIterable):
        await run_in_threadpool(close)


class HeldBlock:
    """A hold around a block outside FastAPI: `with` on a synchronous ledger, or `async with`.

    Refusals raise the domain's errors (`InsufficientCredits`, ...) before the block runs.
    """

    def __init__(self, gate: "Gate", call: _Call) -> None:
        self._gate = gate
        self._call = call
        self._work: Work | None = None

    def __enter__(self) -> Work:
        ends = self._gate._sync_ends()
        started_s = time.perf_counter()
        self._work = Work(self._call, ends.hold(self._call), started_s=started_s)
        return self._work

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._work is not None, "__exit__ follows __enter__"
        self._gate._sync_ends().end(self._work, self._work._ending(exc))

    async def __aenter__(self) -> Work:
        started_s = time.perf_counter()
        receipt = await self._gate._ends.hold(self._call)
        self._work = Work(self._call, receipt, started_s=started_s, ends=self._gate._ends)
        return self._work

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._work is not None, "__aexit__ follows __aenter__"
        await self._gate._ends.end(self._work, self._work._ending(exc))


class StreamedBlock:
    """A growing hold around a streamed answer outside FastAPI: `async with`."""

    def __init__(self, gate: "Gate", call: _Call, extend_tokens: int | None) -> None:
        self._gate = gate
        self._call = call
        self._extend_tokens = extend_tokens
        self._stream: TokenStream | None = None

    async def __aenter__(self) -> TokenStream:
        self._stream = await self._gate._start_stream(self._call, self._extend_tokens)
        return self._stream

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._stream is not None, "__aexit__ follows __aenter__"
        await self._gate._ends.end(self._stream, self._stream._ending(exc))


def _is_async(ledger: GateLedger | AsyncGateLedger) -> TypeGuard[AsyncGateLedger]:
    return inspect.iscoroutinefunction(getattr(ledger, "hold", None))


def _is_sync(ledger: GateLedger | AsyncGateLedger) -> TypeGuard[GateLedger]:
    hold = getattr(ledger, "hold", None)
    return callable(hold) and not inspect.iscoroutinefunction(hold)


def _text(value: object, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"the gate's {name} must be text, not {type(value).__name__}")


def _quantity(value: object) -> Quantity | None:
    if value is None or isinstance(value, int | TokenCounts):
        return value
    raise TypeError(f"a quantity is an int or TokenCounts, not {type(value).__name__}")


def _metadata(value: object) -> dict[str, object] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    raise TypeError(f"metadata is a mapping, not {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class _Declared:
    """What an endpoint declared: its feature, the values given and the dependencies to ask."""

    feature: str
    ttl: timedelta
    values: dict[str, object]
    providers: dict[str, Callable[..., object]]

    def signature(self) -> inspect.Signature:
        """The dependency's parameters: one sub-dependency per provider, for FastAPI to solve."""
        return inspect.Signature(
            [
                inspect.Parameter(
                    name,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=Annotated[object, Depends(provider)],
                )
                for name, provider in self.providers.items()
            ]
        )

    def call(self, provided: dict[str, object]) -> _Call:
        """The hold to take for one request, from the values and what the providers gave."""
        given = {**self.values, **provided}
        account_id = given["account_id"]
        if not isinstance(account_id, str):
            kind = type(account_id).__name__
            raise TypeError(f"the gate's account dependency must give text, not {kind}")
        return _Call(
            account_id=account_id,
            feature=self.feature,
            ttl=self.ttl,
            model=_text(given.get("model"), "model"),
            quantity=_quantity(given.get("quantity")),
            member_id=_text(given.get("member_id"), "member"),
            metadata=_metadata(given.get("metadata")),
        )


class Gate:
    """Guards an app's endpoints with credits: hold before, settle or release after.

    `ledger` is the embedded `Engine`, a `Client` or an `AsyncClient`. `account` is a
    FastAPI dependency that names the paying account for a request (the app's own user
    id, read from its auth); the context managers take the account id instead. `refusal`
    turns a refused hold into the app's response (`json_refusal()`: 402 JSON).
    """

    def __init__(
        self,
        ledger: GateLedger | AsyncGateLedger,
        *,
        account: Callable[..., str] | Callable[..., Awaitable[str]] | None = None,
        ttl: timedelta = TTL_DEFAULT,
        refusal: Callable[[CreditgateError], Response] | None = None,
    ) -> None:
        self._sync: _SyncEnds | None
        if _is_async(ledger):
            self._sync = None
            self._ends = _AsyncEnds(ledger)
        elif _is_sync(ledger):
            self._sync = _SyncEnds(ledger)
            self._ends = _AsyncEnds(_InThreads(ledger))
        else:
            raise TypeError(f"{type(ledger).__name__} is not a ledger: it has no hold method")
        self._account = account
        self._ttl = ttl
        self._refusal = refusal or json_refusal()

    def install(self, app: FastAPI) -> None:
        """Answer refused holds on `app` with the gate's refusal response."""

        async def refused(request: Request, error: Exception) -> Response:
            assert isinstance(error, Refused)
            return error.response

        app.add_exception_handler(Refused, refused)

    def hold(
        self,
        feature: str,
        *,
        quantity: Provided[Quantity] | None = None,
        model: Provided[str | None] = None,
        member: Provided[str | None] = None,
        metadata: Provided[Mapping[str, object] | None] = None,
        ttl: timedelta | None = None,
    ) -> params.Depends:
        """A dependency that holds the call's cost around the endpoint: `Annotated[Work, ...]`.

        `quantity` is the most the call may use (seconds, images); each of `quantity`,
        `model`, `member` (the member id of an organization's wallet) and `metadata` is a
        value or a dependency of the request. The hold is taken before the endpoint runs and
        ended after it returns, before the response is sent.

        FastAPI validates what these dependencies read before the hold, so a dependency
        that reads the body refuses a malformed one with nothing held. A body only the
        endpoint reads is validated after the hold is taken, which is then released as
        failed (`RequestValidationError`).
        """
        declared = self._declare(feature, ttl, quantity, model, member, metadata)

        async def held(**provided: object) -> AsyncIterator[Work]:
            call = declared.call(provided)
            started_s = time.perf_counter()
            work = Work(call, await self._take(call), started_s=started_s, ends=self._ends)
            try:
                yield work
            except BaseException as error:
                await self._ends.end(work, work._ending(error))
                raise
            await self._ends.end(work, work._ending(None))

        held.__signature__ = declared.signature()  # type: ignore[attr-defined]
        return params.Depends(held, scope="function")

    def stream(
        self,
        feature: str,
        *,
        quantity: Provided[TokenCounts],
        model: Provided[str | None] = None,
        member: Provided[str | None] = None,
        metadata: Provided[Mapping[str, object] | None] = None,
        ttl: timedelta | None = None,
        extend_tokens: int | None = None,
    ) -> params.Depends:
        """A dependency for a streamed answer: `Annotated[TokenStream, ...]`.

        `quantity` is the estimate (input tokens and the output tokens expected). Return
        `StreamingResponse(stream.relay(chunks))`: the relay grows the hold as the answer
        outgrows the estimate and ends it before the last chunk.
        """
        declared = self._declare(feature, ttl, quantity, model, member, metadata)

        async def streamed(**provided: object) -> AsyncIterator[TokenStream]:
            stream = await self._start_stream(declared.call(provided), extend_tokens, refuse=True)
            try:
                yield stream
            except BaseException as error:
                await self._ends.end(stream, stream._ending(error))
                raise
            await self._ends.end(stream, stream._ending(None))

        streamed.__signature__ = declared.signature()  # type: ignore[attr-defined]
        return params.Depends(streamed, scope="request")

    def holding(
        self,
        account_id: str,
        feature: str,
        *,
        quantity: Quantity | None = None,
        model: str | None = None,
        member_id: str | None = None,
        metadata: Mapping[str, object] | None = None,
        ttl: timedelta | None = None,
    ) -> HeldBlock:
        """Hold around a block outside FastAPI (`with`, or `async with`), yielding its `Work`.

        Raises:
            InsufficientCredits, AccountFrozen, ...: the hold was refused (on entering).
        """
        return HeldBlock(
            self,
            _Call(
                account_id=account_id,
                feature=feature,
                ttl=ttl or self._ttl,
                model=model,
                quantity=quantity,
                member_id=member_id,
                metadata=_metadata(metadata),
            ),
        )

    def streaming(
        self,
        account_id: str,
        feature: str,
        *,
        quantity: TokenCounts,
        model: str | None = None,
        member_id: str | None = None,
        metadata: Mapping[str, object] | None = None,
        ttl: timedelta | None = None,
        extend_tokens: int | None = None,
    ) -> StreamedBlock:
        """A growing hold around a streamed answer outside FastAPI (`async with`).

        Raises:
            InsufficientCredits, AccountFrozen, ...: the hold was refused (on entering).
        """
        call = _Call(
            account_id=account_id,
            feature=feature,
            ttl=ttl or self._ttl,
            model=model,
            quantity=quantity,
            member_id=member_id,
            metadata=_metadata(metadata),
        )
        return StreamedBlock(self, call, extend_tokens)

    def _declare(
        self,
        feature: str,
        ttl: timedelta | None,
        quantity: object,
        model: object,
        member: object,
        metadata: object,
    ) -> _Declared:
        if self._account is None:
            raise TypeError("a gate used as a dependency needs its account dependency")
        given = {"quantity": quantity, "model": model, "member_id": member, "metadata": metadata}
        providers: dict[str, Callable[..., object]] = {"account_id": self._account}
        values: dict[str, object] = {}
        for name, value in given.items():
            if callable(value):
                providers[name] = value
            else:
                values[name] = value
        return _Declared(feature=feature, ttl=ttl or self._ttl, values=values, providers=providers)

    async def _take(self, call: _Call) -> Receipt:
        """Hold for a request, turning a refusal into the app's response."""
        try:
            return await self._ends.hold(call)
        except REFUSALS as refused:
            raise Refused(refused, self._refusal(refused)) from refused

    async def _start_stream(
        self, call: _Call, extend_tokens: int | None, *, refuse: bool = False
    ) -> TokenStream:
        if not isinstance(call.quantity, TokenCounts):
            kind = type(call.quantity).__name__
            raise TypeError(f"a stream's quantity is its TokenCounts estimate, not {kind}")
        if extend_tokens is not None and extend_tokens < 1:
            raise ValueError("extend_tokens is at least 1")
        started_s = time.perf_counter()
        receipt = await (self._take(call) if refuse else self._ends.hold(call))
        return TokenStream(
            call, receipt, started_s=started_s, ends=self._ends, extend_tokens=extend_tokens
        )

    def _sync_ends(self) -> _SyncEnds:
        if self._sync is None:
            raise TypeError("this gate's ledger is asynchronous: use `async with`")
        return self._sync

"""Shared by the benchmarks of the service: `creditgate serve` as a process, its clients, figures.

The server runs as a process of its own (with `--workers`) and answers over loopback. Client
processes drive it with httpx (asyncio, keep-alive connections, a number of requests in
flight each), time every request after a warm-up, and count their own CPU time; the
server's is read from /proc. Calls are measured in alternating rounds, so a slow minute of
the machine weighs on every call alike.
"""

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
# bench/http.py's name shadows the standard library's `http`, which httpx imports: the
# benchmarks' own directory is searched last, after the standard library.
sys.path[:] = [entry for entry in sys.path if entry != _HERE] + [_HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence  # noqa: E402
from contextlib import contextmanager, suppress  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from multiprocessing.pool import Pool  # noqa: E402
from typing import Any, Generic, Protocol, Self, TypeVar  # noqa: E402

import httpx  # noqa: E402

from common import note  # noqa: E402

ROUNDS = 2
"""Alternating rounds: each call's seconds are split over them, so a slow minute hits all."""

WARMUP_S = 0.5
"""Each client round runs this long before it counts: connections open, caches fill."""

STARTUP_S_MAX = 120.0
"""Workers that import slowly on a busy machine are restarted by uvicorn; allow for it."""


def add_client_args(parser: argparse.ArgumentParser) -> None:
    """The clients' arguments: requests in flight in all, and client processes."""
    parser.add_argument(
        "--concurrency", type=int, default=32, help="requests in flight, all clients (default 32)"
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes (default 2)")


# The server


@dataclass
class Server:
    """`creditgate serve` running: its process, URL, log and metrics directory."""

    process: "subprocess.Popen[bytes]"
    url: str
    log: Path
    metrics: Path
    workers: int

    def pids(self) -> list[int]:
        """The server's processes: the parent and its children (workers), from /proc."""
        found = [self.process.pid]
        index = 0
        while index < len(found):
            children = Path(f"/proc/{found[index]}/task/{found[index]}/children")
            with suppress(OSError):
                found.extend(int(pid) for pid in children.read_text().split())
            index += 1
        return found

    def cpu_s(self) -> float:
        """User and system CPU seconds the server's processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            with suppress(OSError):
                # Fields after the command's closing parenthesis: utime and stime are 12 and 13.
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def tail(self) -> str:
        """The end of the server's output."""
        return self.log.read_text(errors="replace")[-2000:]


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    url: str, *, workers: int, directory: Path, env: Mapping[str, str] | None = None
) -> Iterator[Server]:
    """Start `creditgate serve` (with `env` added to this process's environment), wait until
    every worker answers, SIGTERM it at the end."""
    port = free_port()
    log = directory / "serve.log"
    metrics = directory / "metrics"
    metrics.mkdir(exist_ok=True)
    command = [
        str(Path(sys.executable).parent / "creditgate"),
        "serve",
        "--workers",
        str(workers),
        "--port",
        str(port),
        "-d",
        url,
    ]
    environment = {**os.environ, **(env or {})}
    if workers > 1:
        environment["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    server = Server(process, f"http://127.0.0.1:{port}", log, metrics, workers)
    try:
        started = time.perf_counter()
        wait_ready(server)
        restarts = server.tail().count("died")
        note(
            f"serve --workers {workers} ready in {time.perf_counter() - started:.1f} s"
            + (f" ({restarts} workers restarted by uvicorn while starting)" if restarts else "")
        )
        yield server
    finally:
        stop(process)


def wait_ready(server: Server) -> None:
    """Until /readyz answers and, with several workers, each one has loaded the app."""
    deadline = time.monotonic() + STARTUP_S_MAX
    while time.monotonic() < deadline:
        assert server.process.poll() is None, f"serve stopped:\n{server.tail()}"
        with suppress(httpx.TransportError):
            if httpx.get(f"{server.url}/readyz", timeout=5).status_code == 200 and (
                server.workers == 1 or len(live_workers(server)) == server.workers
            ):
                return
        time.sleep(0.2)
    raise AssertionError(f"serve was not ready in {STARTUP_S_MAX:.0f} s:\n{server.tail()}")


def live_workers(server: Server) -> set[int]:
    """Workers that have imported the app (each writes its metrics file) and still run."""
    pids = {int(p.stem.rpartition("_")[2]) for p in server.metrics.glob("counter_*.db")}
    return {pid for pid in pids - {server.process.pid} if Path(f"/proc/{pid}").exists()}


def stop(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM and wait; kill the whole session if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# The clients


@dataclass(frozen=True, slots=True)
class Request:
    """One request a client sends: a JSON body (`json`) or raw bytes (`content`), or none."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None


class Requests(Protocol):
    """What one client sends in a round, slot by slot, and what it makes of the answers."""

    def next(self, slot: int, n: int) -> Request | None:
        """The n-th request of a slot; None: the slot has nothing more to send."""
        ...

    def answered(self, response: httpx.Response) -> None:
        """Look at an answer (every one, warm-up included)."""
        ...


@dataclass
class Tally:
    """What clients measured: requests in the window, their latencies, all requests sent.

    `statuses` counts every answer, warm-up included; the latencies only those counted.
    """

    requests: int = 0
    window_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    sent: int = 0
    client_cpu_s: float = 0.0

    def add(self, other: Self) -> None:
        """Fold another client's (or round's) tally in."""
        self.requests += other.requests
        self.window_s = max(self.window_s, other.window_s)
        self.latencies_s.extend(other.latencies_s)
        self.statuses.update(other.statuses)
        self.sent += other.sent
        self.client_cpu_s += other.client_cpu_s

    @classmethod
    def of(cls, parts: Iterable[Self]) -> Self:
        """The tallies of several clients folded into one."""
        total = cls()
        for part in parts:
            total.add(part)
        return total


TallyT = TypeVar("TallyT", bound=Tally)
TaskT = TypeVar("TaskT")


@dataclass(frozen=True, slots=True, kw_only=True)
class Drive:
    """How one client process drives the server for one round."""

    url: str
    slots: int
    seconds: float
    headers: Mapping[str, str] | None = None
    """Sent with every request (an API key)."""
    requests_max: int | None = None
    """Stop counting after this many requests (None: the seconds alone end the round)."""


async def drive(how: Drive, requests: Requests, tally: TallyT) -> TallyT:
    """Keep `how.slots` requests in flight for the warm-up and the measured seconds."""
    limits = httpx.Limits(max_connections=how.slots, max_keepalive_connections=how.slots)
    start = time.perf_counter()
    counted_from = start + WARMUP_S
    end = counted_from + how.seconds
    budget = how.requests_max

    async with httpx.AsyncClient(
        base_url=how.url, headers=how.headers, limits=limits, timeout=60.0
    ) as client:

        async def slot(index: int) -> None:
            nonlocal budget
            n = 0
            while (now := time.perf_counter()) < end:
                counted = now >= counted_from
                if counted and budget is not None:
                    if budget <= 0:
                        return
                    budget -= 1
                request = requests.next(index, n)
                if request is None:
                    return
                response = await client.request(
                    request.method,
                    request.path,
                    headers=request.headers,
                    json=request.json,
                    content=request.content,
                )
                tally.sent += 1
                tally.statuses[response.status_code] += 1
                requests.answered(response)
                if counted:
                    tally.latencies_s.append(time.perf_counter() - now)
                    tally.requests += 1
                n += 1

        await asyncio.gather(*(slot(i) for i in range(how.slots)))
    tally.window_s = min(time.perf_counter(), end) - counted_from
    return tally


def client_round(how: Drive, requests: Requests, tally: TallyT) -> TallyT:
    """A client process's round, with the CPU time the process spent on it."""
    started = time.process_time()
    asyncio.run(drive(how, requests, tally))
    tally.client_cpu_s = time.process_time() - started
    return tally


def measure(
    pool: Pool, server: Server, client: Callable[[TaskT], TallyT], tasks: Sequence[TaskT]
) -> tuple[list[TallyT], float]:
    """One round of one call, every client at once: each client's tally, server CPU seconds."""
    cpu_before = server.cpu_s()
    parts = pool.map(client, tasks)
    return parts, server.cpu_s() - cpu_before


# Figures


@dataclass(frozen=True, slots=True)
class Figure(Generic[TallyT]):
    """One call's result: rate, latencies, server and client CPU per request."""

    call: str
    per_s: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    client_cpu_ms: float
    tally: TallyT

    def line(self, label: str) -> str:
        """`call label: N req/s p50 … p99 … cpu … ms/req (clients …)`."""
        return (
            f"{self.call} {label}: {self.per_s:,.0f} req/s"
            f" p50 {self.p50_ms:.1f} ms p99 {self.p99_ms:.1f} ms"
            f" cpu {self.cpu_ms:.2f} ms/req (clients {self.client_cpu_ms:.2f})"
        )

    def ratio(self, other: "Figure[Any]") -> float:
        """This call's rate over another's."""
        return self.per_s / other.per_s if other.per_s else 0.0

    def against(self, other: "Figure[Any]") -> str:
        """` | other N req/s | ratio R`: the other call's rate, and this one's over it."""
        return f" | {other.call} {other.per_s:,.0f} req/s | ratio {self.ratio(other):.2f}"


def print_figures(
    figures: Sequence[Figure[TallyT]],
    label: str,
    reference: Figure[TallyT],
    *,
    compared: Collection[str],
    suffix: Callable[[Figure[TallyT]], str] = lambda _: "",
) -> None:
    """One line per call; the `compared` calls with the reference's rate, the ratio, `suffix`."""
    for figure in figures:
        line = figure.line(label)
        if figure.call in compared:
            line += figure.against(reference) + suffix(figure)
        print(line, flush=True)


def cpu_ratios(figures: Sequence[Figure[Any]], reference: Figure[Any]) -> str:
    """`call R, …`: the reference's server CPU per request over each other call's."""
    return ", ".join(
        f"{f.call} {reference.cpu_ms / f.cpu_ms:.2f}"
        for f in figures
        if f.call != reference.call and f.cpu_ms
    )


def insist_ok(figures: Sequence[Figure[Any]]) -> None:
    """Every answer of every call was a 200."""
    for figure in figures:
        odd = {status: n for status, n in figure.tally.statuses.items() if status != 200}
        assert not odd, f"{figure.call}: answers other than 200: {odd}"


def percentile_ms(sorted_s: list[float], fraction: float) -> float:
    """The latency at `fraction` of the sorted sample, in milliseconds."""
    if not sorted_s:
        return 0.0
    return sorted_s[min(len(sorted_s) - 1, int(fraction * len(sorted_s)))] * 1000


def alternate_calls(
    calls: Sequence[str],
    measure_call: Callable[[str], tuple[TallyT, float]],
    new: Callable[[], TallyT],
) -> list[Figure[TallyT]]:
    """Every call in `ROUNDS` alternating rounds; one figure per call.

    `measure_call` runs one round of a call: its tally and the server's CPU seconds.
    """
    tallies = {call: new() for call in calls}
    windows = dict.fromkeys(calls, 0.0)
    cpus = dict.fromkeys(calls, 0.0)
    for _ in range(ROUNDS):
        for call in calls:
            tally, cpu_s = measure_call(call)
            windows[call] += tally.window_s
            cpus[call] += cpu_s
            tallies[call].add(tally)
    figures = []
    for call in calls:
        tally = tallies[call]
        latencies = sorted(tally.latencies_s)
        figures.append(
            Figure(
                call=call,
                per_s=tally.requests / windows[call] if windows[call] else 0.0,
                p50_ms=percentile_ms(latencies, 0.50),
                p99_ms=percentile_ms(latencies, 0.99),
                cpu_ms=cpus[call] / tally.sent * 1000 if tally.sent else 0.0,
                client_cpu_ms=tally.client_cpu_s / tally.sent * 1000 if tally.sent else 0.0,
                tally=tally,
            )
        )
    return figures

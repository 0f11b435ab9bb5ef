"""The client: the creditgate service called like the embedded engine, over HTTP.

What it owns: the wire form of every engine verb (`calls`), the reading of problem
responses back into the domain's errors (`problems`) and when a call is sent again
(`attempts`); `holding` yields `creditgate.holding.HeldWork`, the engine's own shape.
`Client` blocks; `AsyncClient` awaits.

Invariants it keeps: each method takes the `Engine` method's arguments and returns an equal
result or raises an equal error (both bind to `creditgate.ledger.Ledger`); a ledger write
sent twice, because its answer was lost, takes effect once (one `Idempotency-Key` per call,
the same on every attempt); attempts are bounded.

Boundaries: the domain, the wire models (`creditgate.schemas`), httpx and the standard
library. Never the engine, storage or the service, so an app that calls a remote service
needs no database driver's code paths.
"""

from creditgate.client.asynchronous import AsyncClient
from creditgate.client.sync import Client

__all__ = ["AsyncClient", "Client"]

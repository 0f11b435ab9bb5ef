"""The HTTP face: FastAPI routes over the engine, one route per engine verb.

What it owns: authentication by API key and scope, the mapping of domain errors to RFC 9457
problem details (`problems.py`, one table), the `Idempotency-Key` header, request ids,
metrics and logs. What it does not own: any rule about credits. Each route checks the
caller, converts the wire model, calls one engine method and converts the result back;
every decision stays in the engine, so the service and the embedded engine cannot drift.
"""

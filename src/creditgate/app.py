"""The composition root: `create_app(settings)` builds the service from its parts.

Each uvicorn worker calls it once (`creditgate.app:create_app`, a factory), opens its own
engine on the configured database, and closes it on shutdown. Migrations are run before
the workers start (by `creditgate serve` or `creditgate db upgrade`), never by each worker.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from creditgate import __version__, web
from creditgate.domain.guests import parse_trusted_proxies
from creditgate.engine import Engine
from creditgate.http import problems
from creditgate.http.cors import WidgetCors
from creditgate.http.deps import FailureGuard, KeyLimiter
from creditgate.http.observability import Observed, configure_logging
from creditgate.http.routes import (
    accounts,
    alerts,
    analytics,
    catalog,
    guests,
    ledger,
    operations,
    packs,
    plans,
    promos,
    referrals,
    usage,
    webhook_endpoints,
    webhooks,
    widgets,
)
from creditgate.integrations.redis_quota import RedisCounter
from creditgate.integrations.stripe_gateway import StripeGateway
from creditgate.settings import Settings

DESCRIPTION = """\
Prepaid credits for AI applications: accounts, grants, charges priced by a catalog,
holds around expensive work, refunds, transfers, usage events and a verifiable ledger.

Authenticate with an API key: `Authorization: Bearer cg_…` (made by `creditgate keys create`).
Read keys read; write keys spend; admin keys also change the catalog and account flags.
Amounts are decimal strings (`"12.5"`). Every ledger write takes an `Idempotency-Key`.
Errors are RFC 9457 problem details with a stable `code`.
"""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """The service: routes over `engine`, or over a new engine on the settings' database.

    A new engine counts guests in the settings' Redis when one is configured; an engine
    passed in keeps the guest counter it was made with.
    """
    config = settings or Settings()
    owned = engine is None
    if owned:
        # A service process (each uvicorn worker among them) logs JSON lines; an app built
        # over a caller's engine (tests, an embedding app) leaves the caller's logging alone.
        configure_logging(config.log_level)
    counter = None
    if owned and config.redis_url is not None:
        counter = RedisCounter.from_url(
            config.redis_url, timeout_s=config.redis_timeout_s, prefix=config.redis_prefix
        )
    served = engine or Engine(config.database_url, upgrade=False, guest_counter=counter)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Routes and dependencies that do I/O run in the worker's thread pool: no more
        # threads than pooled connections, so a busy worker queues requests on the event
        # loop rather than opening and closing connections beyond the pool's own.
        to_thread.current_default_thread_limiter().total_tokens = served.db.pool_size
        yield
        if owned:
            served.close()
        if counter is not None:
            counter.close()

    app = FastAPI(
        title="creditgate",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "accounts", "description": "Wallets, members, balances and history"},
            {"name": "ledger", "description": "Grants, charges, holds, refunds, transfers"},
            {"name": "catalog", "description": "Features, versioned prices and quotes"},
            {"name": "packs", "description": "Credit packs, checkout and purchases"},
            {"name": "webhooks", "description": "Stripe and Clerk events, verified by signature"},
            {
                "name": "webhook endpoints",
                "description": "Outgoing webhooks: endpoints, their deliveries and attempts",
            },
            {"name": "promos", "description": "Promo codes and their redemptions"},
            {"name": "referrals", "description": "Who referred whom, and the bonuses it earned"},
            {"name": "guests", "description": "Guest quotas for people not signed up"},
            {"name": "usage", "description": "Usage events for analytics"},
            {"name": "analytics", "description": "Usage analytics over a range, JSON or CSV"},
            {"name": "operations", "description": "Health, metrics, expiry and verify"},
            {"name": "widgets", "description": "Drop-in widgets: their tokens and their reads"},
        ],
    )
    app.state.engine = served
    app.state.settings = config
    secret = config.stripe_secret_key
    app.state.stripe = StripeGateway(
        None if secret is None else secret.get_secret_value(), api_base=config.stripe_api_base
    )
    app.state.limiter = (
        None
        if config.key_rate_per_s is None
        else KeyLimiter(rate_per_s=config.key_rate_per_s, burst=config.key_burst)
    )
    app.state.trusted_proxies = parse_trusted_proxies(config.trusted_proxies)
    app.state.auth_failures = FailureGuard(
        burst=config.auth_failures_max, window_s=config.auth_failures_window_s
    )
    problems.install(app)
    for module in (
        accounts,
        alerts,
        ledger,
        catalog,
        plans,
        packs,
        promos,
        referrals,
        guests,
        usage,
        analytics,
        operations,
        webhooks,
        webhook_endpoints,
        widgets,
    ):
        app.include_router(module.router)
    app.include_router(widgets.script_router)
    web.install(app)
    if config.widget_origins:
        app.add_middleware(WidgetCors, origins=config.widget_origins)
    app.add_middleware(Observed, body_bytes_max=config.body_bytes_max)
    return app


def openapi_document(engine: Engine) -> str:
    """The service's OpenAPI document as stable, indented JSON (kept in `docs/openapi.json`)."""
    return json.dumps(create_app(engine=engine).openapi(), indent=2, sort_keys=True) + "\n"

"""The composition root: `create_app(settings)` builds the service from its parts.

Each uvicorn worker calls it once (`creditgate.app:create_app`, a factory), opens its own
engine on the configured database, and closes it on shutdown. Migrations are run before
the workers start (by `creditgate serve` or `creditgate db upgrade`), never by each worker.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from creditgate import __version__
from creditgate.engine import Engine
from creditgate.http import problems
from creditgate.http.deps import KeyLimiter
from creditgate.http.observability import Observed, configure_logging
from creditgate.http.routes import (
    accounts,
    catalog,
    ledger,
    operations,
    packs,
    plans,
    promos,
    referrals,
    usage,
    webhooks,
)
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
    """The service: routes over `engine`, or over a new engine on the settings' database."""
    config = settings or Settings()
    owned = engine is None
    if owned:
        # A service process (each uvicorn worker among them) logs JSON lines; an app built
        # over a caller's engine (tests, an embedding app) leaves the caller's logging alone.
        configure_logging(config.log_level)
    served = engine or Engine(config.database_url, upgrade=False)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            served.close()

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
            {"name": "promos", "description": "Promo codes and their redemptions"},
            {"name": "referrals", "description": "Who referred whom, and the bonuses it earned"},
            {"name": "usage", "description": "Usage events for analytics"},
            {"name": "operations", "description": "Health, metrics, expiry and verify"},
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
    problems.install(app)
    for module in (
        accounts,
        ledger,
        catalog,
        plans,
        packs,
        promos,
        referrals,
        usage,
        operations,
        webhooks,
    ):
        app.include_router(module.router)
    app.add_middleware(Observed, body_bytes_max=config.body_bytes_max)
    return app


def openapi_document(engine: Engine) -> str:
    """The service's OpenAPI document as stable, indented JSON (kept in `docs/openapi.json`)."""
    return json.dumps(create_app(engine=engine).openapi(), indent=2, sort_keys=True) + "\n"

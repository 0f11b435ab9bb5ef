"""The service's commands: `serve` (with `--demo`) and `keys create|list|revoke`."""

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from creditgate.cli.context import DatabaseOpt, open_engine, settings_for
from creditgate.domain.keys import ApiKey, Scope
from creditgate.engine import Engine

DEMO_KEY = "cg_00000000de_demo-only-key-never-use-this-in-production"
"""The demo's admin key: well known, so the README's curl lines work as pasted.

Only `serve --demo` stores it; never run a demo database where others can reach it.
"""

DEMO_ACCOUNT = "user_1"

keys_app = typer.Typer(help="API keys of the service.", no_args_is_help=True)


def key_line(key: ApiKey) -> str:
    """One key in a listing: its prefix, never its secret."""
    bound = f" account={key.account_id}" if key.account_id else ""
    state = f" revoked {key.revoked_at:%Y-%m-%d %H:%M:%SZ}" if key.revoked_at else ""
    return f"key {key.id:>4}  cg_{key.prefix}_…  {key.scope:<5}  {key.name}{bound}{state}"


@keys_app.command("create")
def keys_create(
    scope: Annotated[Scope, typer.Option(help="read, write or admin.")],
    name: Annotated[str, typer.Option(help="What the key is for, shown in listings.")],
    account: Annotated[
        str | None, typer.Option(help="Bind the key to this account only (read or write).")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Make an API key and print it: it is shown this once, and only its digest is kept."""
    with open_engine(database) as engine:
        key, text = engine.create_key(scope, name=name, account_id=account)
        typer.echo(key_line(key))
        typer.echo(text)


@keys_app.command("list")
def keys_list(database: DatabaseOpt = None) -> None:
    """List the keys by prefix, revoked ones included."""
    with open_engine(database) as engine:
        for key in engine.api_keys():
            typer.echo(key_line(key))


@keys_app.command("revoke")
def keys_revoke(key_id: int, database: DatabaseOpt = None) -> None:
    """Revoke a key: it authenticates nothing from now on."""
    with open_engine(database) as engine:
        typer.echo(key_line(engine.revoke_key(key_id)))


def seed_demo(engine: Engine) -> str:
    """The demo's data: the `demo` catalog, one account with credits, the demo key."""
    engine.seed("demo")
    engine.create_account(DEMO_ACCOUNT)
    engine.grant(DEMO_ACCOUNT, 100, source="purchase", idempotency_key="demo-pack")
    engine.create_key(Scope.ADMIN, name="demo", text=DEMO_KEY)
    return DEMO_KEY


def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Seed the demo catalog, an account and a known key.")
    ] = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes.")] = None,
    database: DatabaseOpt = None,
) -> None:
    """Run the HTTP service; migrations are applied first, once, before workers start."""
    import uvicorn

    from creditgate.app import create_app
    from creditgate.http.observability import configure_logging

    overrides = {"host": host, "port": port, "workers": workers}
    base = settings_for(database)
    settings = base.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    with open_engine(settings.database_url) as engine:
        key = seed_demo(engine) if demo else None
    where = f"http://{settings.host}:{settings.port}"
    typer.echo(
        f"creditgate on {where} (API docs at {where}/docs), database {settings.database_url}"
    )
    if key is not None:
        typer.echo(f"demo admin key: {key}")
        typer.echo(
            f'try: curl -H "Authorization: Bearer {key}" {where}/v1/accounts/{DEMO_ACCOUNT}/balance'
        )
    if settings.workers == 1:
        uvicorn.run(
            create_app(settings),  # which configures this process's JSON logging
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
        )
        return
    # Workers are new processes: they read their settings from the environment, configure
    # their own logging, and add their metrics up through a shared directory. This process
    # only supervises them, and logs as they do.
    configure_logging(settings.log_level)
    os.environ["CREDITGATE_DATABASE_URL"] = settings.database_url
    os.environ["CREDITGATE_LOG_LEVEL"] = settings.log_level
    os.environ.setdefault(
        "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="creditgate-metrics-")
    )
    uvicorn.run(
        "creditgate.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        # A worker imports the whole service before its first health check: on a busy
        # machine uvicorn's 5 s default kills and restarts workers that are only starting.
        timeout_worker_healthcheck=30,
        log_config=None,
        access_log=False,
    )


def openapi(
    path: Annotated[Path | None, typer.Argument(help="File to write; stdout without one.")] = None,
) -> None:
    """Print or write the service's OpenAPI document (the API's reviewed contract)."""
    from creditgate.app import openapi_document

    with tempfile.TemporaryDirectory() as scratch:
        engine = Engine(f"sqlite:///{Path(scratch) / 'spec.db'}")
        try:
            text = openapi_document(engine)
        finally:
            engine.close()
    if path is None:
        typer.echo(text, nl=False)
    else:
        path.write_text(text)
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the service's commands to the `creditgate` command."""
    app.command()(serve)
    app.command()(openapi)
    app.add_typer(keys_app, name="keys")

"""Alembic environment: runs against the connection `creditgate.storage.migrate` hands it."""

from alembic import context

from creditgate.storage.tables import metadata

connection = context.config.attributes.get("connection")
assert connection is not None, "run migrations through creditgate.storage.migrate"
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Storage: SQLAlchemy Core tables and the queries over them; the only package that writes SQL.

What it owns: the schema (`tables`), its migrations (`migrations/`), the engine factory with
each database's durability and locking settings (`database`), and typed query functions
that take a `Connection` and return domain objects.

Invariants it upholds in the schema itself: amounts are BIGINT units with CHECKs
(`0 <= held <= remaining <= amount` on lots), entries and lot moves cannot be updated or
deleted (triggers), an idempotency key and an entry sequence number are unique per account,
and every table but the catalog carries `account_id`, so the account can be the distribution
column.

Boundaries: imports the domain only. Each use case runs its statements in one
`Database.write()` transaction, which on SQLite begins with `BEGIN IMMEDIATE`.
"""

"""``seamline db``: create, upgrade and inspect a PostgreSQL store's schema.

A SQLite file upgrades itself when a store opens it. A PostgreSQL schema is shared by every
worker, so it changes only when someone runs ``seamline db upgrade`` (once per release,
before the new workers start) and every store refuses to open on a schema at another
version. psycopg is imported only when a command runs, so the core install's CLI works
without the ``postgres`` extra.
"""

from __future__ import annotations

import typer
from rich.text import Text

from seamline.cli._common import StoreOption, console
from seamline.exceptions import ConfigurationError
from seamline.stores.target import is_url, postgres_target

app = typer.Typer(help="The PostgreSQL store's schema: status and upgrade.")


def _postgres(store: str) -> tuple[str, str]:
    if not is_url(store):
        raise ConfigurationError(
            f"seamline db manages PostgreSQL schemas, and {store!r} is a SQLite file (those "
            "upgrade themselves when opened); pass --store postgresql://USER@HOST:PORT/DATABASE"
        )
    return postgres_target(store)


@app.command()
def status(store: StoreOption) -> None:
    """The schema's version against the one this seamline needs, and what an upgrade applies."""
    from seamline.stores.postgres import schema_status

    url, schema = _postgres(store)
    found = schema_status(url, schema=schema)
    needs = f"this seamline needs {found.expected}"
    if found.foreign:
        version = Text("none: the schema holds other tables; not a seamline store", "bold red")
    elif found.version is None:
        version = Text(f"none yet ({needs})", "yellow")
    elif found.version > found.expected:
        version = Text(f"{found.version}, newer than {needs}: upgrade seamline", "bold red")
    elif found.version < found.expected:
        version = Text(f"{found.version} ({needs})", "yellow")
    else:
        version = Text(f"{found.version}, up to date", "green")
    console.print(Text.assemble("store     ", (found.store, "bold")))
    console.print(Text.assemble("version   ", version))
    if found.pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in found.pending)
        console.print(f"pending   {names}: run `seamline db upgrade --store {found.store}`")
    vectors = "searched in numpy (stored as bytea)"
    if found.pgvector:
        vectors += f"; the server offers pgvector {found.pgvector}, which seamline does not use"
    console.print(f"vectors   {vectors}")


@app.command()
def upgrade(store: StoreOption) -> None:
    """Create the schema or apply its pending migrations; safe to run twice, or at once."""
    from seamline.stores.postgres import upgrade as upgrade_schema

    url, schema = _postgres(store)
    before, after = upgrade_schema(url, schema=schema)
    where = f"schema {after.schema!r} of {after.store}"
    if not before.pending:
        console.print(f"{where} is at version {after.version}; nothing to do")
        return
    applied = ", ".join(f"{m.version:04d}_{m.name}" for m in before.pending)
    console.print(
        f"{where} upgraded from {before.version or 'nothing'} to {after.version}: {applied}"
    )

"""``seamline tokens``: the HTTP API's tokens, issued by whoever can open the store.

A token acts for one team, as a member or an admin. Its secret is printed once, alone on
stdout (so ``TOKEN=$(seamline tokens create --team payments)`` works); the store keeps only
its hash. Issuing and revoking are written to the API's audit log as ``cli:USER``.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from seamline.access import Access, Caller
from seamline.cli._common import StoreOption, console, open_store

__all__ = ["app"]

app = typer.Typer(
    help="API tokens for the HTTP API: create (shown once), list, revoke.", no_args_is_help=True
)


@app.command()
def create(
    store: StoreOption,
    team: Annotated[str, typer.Option(help="The team it acts for, as the registry names owners.")],
    admin: Annotated[bool, typer.Option(help="May do anything, for every team.")] = False,
    name: Annotated[
        str | None, typer.Option(help="How the audit log names it (default: TEAM-<id>).")
    ] = None,
) -> None:
    """Issue a token and print its secret, once."""
    issued = Access(open_store(store, create=True)).issue(
        team, by=Caller.operator(), admin=admin, name=name
    )
    record = issued.record
    role = "admin" if record.admin else "member"
    typer.echo(
        f"token {record.name} ({record.id}) for team {record.team}, {role}; its secret "
        "follows and is not shown again:",
        err=True,
    )
    typer.echo(issued.secret)


@app.command("list")
def list_(
    store: StoreOption,
    team: Annotated[str | None, typer.Option(help="Only this team's tokens.")] = None,
) -> None:
    """Every token, newest first, revoked ones too (never their secrets)."""
    table = Table(title="API tokens", title_justify="left")
    for column in ("name", "id", "team", "role", "state", "created", "by"):
        table.add_column(column)
    for record in Access(open_store(store)).tokens(team=team):
        revoked = record.revoked_at is not None
        table.add_row(
            record.name,
            record.id,
            record.team,
            "admin" if record.admin else "member",
            Text("revoked", "dim") if revoked else Text("active", "green"),
            record.created_at.strftime("%Y-%m-%d %H:%M"),
            record.created_by,
        )
    console.print(table)


@app.command()
def revoke(
    store: StoreOption,
    token: Annotated[str, typer.Argument(help="The token's name or id.")],
) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    record = Access(open_store(store)).revoke(token, by=Caller.operator())
    console.print(f"revoked {record.name} ({record.id}) of team {record.team}")

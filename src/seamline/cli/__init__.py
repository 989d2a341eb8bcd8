"""The ``seamline`` command line: demo, workflows, handoffs and the dead-letter queue.

Every command prints one clear line to stderr and exits 1 when it cannot do what was asked
(bad input, unknown id, missing store); only a bug shows a traceback.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from seamline.cli import (
    agents,
    contracts,
    db,
    dlq,
    evals,
    gates,
    governance,
    handoffs,
    memory,
    tokens,
    workflows,
)
from seamline.cli.demo import demo
from seamline.cli.mcp import mcp
from seamline.cli.rot import rot
from seamline.cli.serve import serve
from seamline.cli.trace import trace
from seamline.cli.worker import worker
from seamline.exceptions import ContractDeprecationWarning, SeamlineError

__all__ = ["app", "main"]

app = typer.Typer(
    name="seamline",
    help="Reliable handoffs between AI agents: contracts, ledger, dead letters.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(demo)
app.add_typer(workflows.app, name="workflows")
app.add_typer(handoffs.app, name="handoffs")
app.add_typer(dlq.app, name="dlq")
app.add_typer(contracts.app, name="contracts")
app.add_typer(agents.app, name="agents")
app.add_typer(memory.app, name="memory")
app.add_typer(db.app, name="db")
app.add_typer(evals.app, name="evals")
app.add_typer(gates.app, name="gates")
app.add_typer(tokens.app, name="tokens")
app.command()(governance.impact)
app.command("can-i-deploy")(governance.can_i_deploy)
app.command()(governance.audit)
app.command()(governance.runbook)
app.command()(rot)
app.command()(trace)
app.command()(mcp)
app.command()(worker)
app.command()(serve)

_errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _one_line_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)  # typer reads the signature through __wrapped__
    def guarded(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            # A deprecated contract warns on every handoff; say it once, in one line.
            warnings.simplefilter("always", ContractDeprecationWarning)
            try:
                return callback(*args, **kwargs)
            except SeamlineError as error:
                _warn(caught)
                _errors.print(f"[bold red]error:[/] {escape(str(error))}", markup=True)
                raise typer.Exit(1) from None
            finally:
                _warn(caught)

    return guarded


def _warn(caught: list[warnings.WarningMessage]) -> None:
    """Print each distinct warning once, then forget them (so nothing prints twice)."""
    for message in dict.fromkeys(str(w.message) for w in caught):
        _errors.print(f"[yellow]warning:[/] {message}", markup=True)
    caught.clear()


for _typer in (app, *(g.typer_instance for g in app.registered_groups if g.typer_instance)):
    for _info in _typer.registered_commands:
        if _info.callback is not None:
            _info.callback = _one_line_errors(_info.callback)


def main() -> None:
    """Entry point of the ``seamline`` console script."""
    app()
